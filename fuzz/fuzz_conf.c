/*
 * Fuzz target: configuration files (amtp_conf_load_mem), which are read
 * from disk and may be written by anyone who can edit them.  The schema is a
 * small copy of amtprovd's: every type, a required key and a repeated
 * section.  Invariants: a failed load leaves no object and names the file
 * in its message; a good load answers every getter for every section it
 * reports, and its list items are non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const db_kinds[] = { "sqlite", "postgresql", NULL };

static const struct amtp_conf_key schema[] = {
	{ "site", "domain", AMTP_CONF_STR, NULL, 0, 253, NULL, 1,
	    "DNS domain of the fleet" },
	{ "site", "listen", AMTP_CONF_STR, "127.0.0.1:8443", 0, 64, NULL, 0,
	    "Address of the site API" },
	{ "site", "roles", AMTP_CONF_LIST, "site, oobsp, enroll", 0, 0, NULL,
	    0, "Roles this process runs" },
	{ "site", "workers", AMTP_CONF_INT, "4", 1, 256, NULL, 0,
	    "Devices provisioned at once" },
	{ "site", "lab", AMTP_CONF_BOOL, "false", 0, 0, NULL, 0,
	    "Lab mode" },
	{ "site", "master_key", AMTP_CONF_SECRET_FILE, NULL, 0, 0, NULL, 0,
	    "Site master key file" },
	{ "db", "kind", AMTP_CONF_ENUM, "sqlite", 0, 0, db_kinds, 0,
	    "Database" },
	{ "db", "uri", AMTP_CONF_STR, NULL, 0, 0, NULL, 0, "Database URI" },
	{ "wifi.*", "ssid", AMTP_CONF_STR, NULL, 0, 32, NULL, 1,
	    "Network name" },
	{ "wifi.*", "priority", AMTP_CONF_INT, "1", 1, 255, NULL, 0,
	    "Profile priority" },
	{ "wifi.*", "eap", AMTP_CONF_BOOL, "yes", 0, 0, NULL, 0, "802.1X" },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

static void
check_section(const struct amtp_conf *c, const char *sec, const char *pat)
{
	size_t i, j, n;

	for (i = 0; schema[i].section != NULL; i++) {
		if (strcmp(schema[i].section, pat) != 0)
			continue;
		switch (schema[i].type) {
		case AMTP_CONF_INT:
			if (amtp_conf_int(c, sec, schema[i].name) <
			    schema[i].min ||
			    amtp_conf_int(c, sec, schema[i].name) >
			    schema[i].max)
				abort();
			break;
		case AMTP_CONF_BOOL:
			(void)amtp_conf_bool(c, sec, schema[i].name);
			break;
		case AMTP_CONF_LIST:
			n = amtp_conf_list_len(c, sec, schema[i].name);
			for (j = 0; j < n; j++)
				if (amtp_conf_list_item(c, sec, schema[i].name,
				    j)[0] == '\0')
					abort();
			if (amtp_conf_list_item(c, sec, schema[i].name, n) !=
			    NULL)
				abort();
			break;
		default:
			(void)amtp_conf_str(c, sec, schema[i].name);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *names[8];
	struct amtp_conf *c = NULL;
	char err[512];
	size_t i, n;
	int r;

	r = amtp_conf_load_mem("fuzz.conf", (const char *)data, size, schema,
	    &c, err, sizeof(err));
	if (r != 0) {
		if (c != NULL || strncmp(err, "fuzz.conf", 9) != 0)
			abort();
		return 0;
	}
	if (c == NULL || amtp_conf_str(c, "site", "domain") == NULL ||
	    amtp_conf_str(c, "site", "domain")[0] == '\0')
		abort();	/* required, so always set */
	check_section(c, "site", "site");
	check_section(c, "db", "db");
	n = amtp_conf_sections(c, "wifi.*", names, 8);
	for (i = 0; i < n && i < 8; i++) {
		if (strncmp(names[i], "wifi.", 5) != 0)
			abort();
		check_section(c, names[i], "wifi.*");
		if (amtp_conf_str(c, names[i], "ssid") == NULL)
			abort();	/* required in each wifi section */
	}
	amtp_conf_free(c);
	return 0;
}
