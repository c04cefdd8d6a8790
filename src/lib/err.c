/*
 * amtprov - err.c: names and messages for AMTP_E_* codes (libamtp, all roles).
 */
#include <stddef.h>

#include "amtprov/err.h"

struct errent {
	int code;
	const char *name;
	const char *msg;
};

static const struct errent errtab[] = {
	{ AMTP_OK, "OK", "success" },
#define AMTP_ERR_ENT(name, num, msg) { -(num), #name, msg },
	AMTP_ERRORS(AMTP_ERR_ENT)
#undef AMTP_ERR_ENT
};

static const struct errent *
lookup(int r)
{
	size_t i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == r)
			return &errtab[i];
	return NULL;
}

const char *
amtp_strerror(int r)
{
	const struct errent *e = lookup(r);

	return e != NULL ? e->msg : "unknown error code";
}

const char *
amtp_errname(int r)
{
	const struct errent *e = lookup(r);

	return e != NULL ? e->name : "UNKNOWN";
}
