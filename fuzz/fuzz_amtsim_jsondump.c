/*
 * Fuzz target: amtsim's flash text writer (src/amtsim/jsondump.c,
 * amtsim_json_dump), which must write exactly what jansson's
 * json_dumps(v, JSON_COMPACT) writes.  The input is JSON text (NULs in
 * strings allowed); a tree jansson loads is written by both.  Invariants:
 * the same verdict and the same bytes; the text loads back to an equal
 * tree; a max one byte short is AMTP_E_TOOBIG and a max of exactly the
 * length succeeds; a start buffer of any size gives the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtsim/jsondump.h"

#define FUZZ_JSONDUMP_MAX	(1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_hint(const json_t *v, const char *want, size_t wlen, size_t max,
    size_t hint)
{
	char *got = NULL;
	size_t len = 0;
	int r;

	r = amtsim_json_dump(v, max, hint, &got, &len);
	if (r != 0 || got == NULL || len != wlen || got[len] != '\0' ||
	    memcmp(got, want, wlen) != 0)
		abort();
	explicit_bzero(got, len);
	free(got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *v, *back;
	char *want, *got = NULL;
	size_t len = 0, wlen;
	int r;

	if ((v = json_loadb((const char *)data, size, JSON_ALLOW_NUL |
	    JSON_DECODE_ANY, &je)) == NULL)
		return 0;
	r = amtsim_json_dump(v, FUZZ_JSONDUMP_MAX, 0, &got, &len);
	if (!json_is_object(v) && !json_is_array(v)) {
		/* only an object or an array is a flash file */
		if (r != AMTP_E_INVAL || got != NULL || len != 0)
			abort();
		json_decref(v);
		return 0;
	}
	want = json_dumps(v, JSON_COMPACT);
	if (want == NULL) {
		/* jansson refuses (a loaded tree should never be refused) */
		if (r == 0)
			abort();
		json_decref(v);
		return 0;
	}
	wlen = strlen(want);
	if (wlen > FUZZ_JSONDUMP_MAX) {
		if (r != AMTP_E_TOOBIG || got != NULL)
			abort();
		goto out;
	}
	if (r != 0 || got == NULL || len != wlen || got[len] != '\0' ||
	    memcmp(got, want, wlen) != 0)
		abort();
	if ((back = json_loadb(got, len, JSON_ALLOW_NUL, &je)) == NULL ||
	    !json_equal(back, v))
		abort();
	json_decref(back);
	/* exactly at max; the buffer grown from small and from big starts */
	check_hint(v, want, wlen, wlen, 0);
	check_hint(v, want, wlen, wlen, wlen);
	check_hint(v, want, wlen, FUZZ_JSONDUMP_MAX, wlen / 3);
	check_hint(v, want, wlen, FUZZ_JSONDUMP_MAX, 4 * wlen);
	/* one byte short */
	if (wlen > 1) {
		explicit_bzero(got, len);
		free(got);
		got = NULL;
		if (amtsim_json_dump(v, wlen - 1, 0, &got, &len) !=
		    AMTP_E_TOOBIG || got != NULL || len != 0)
			abort();
	}
 out:
	if (got != NULL) {
		explicit_bzero(got, len);
		free(got);
	}
	free(want);
	json_decref(v);
	return 0;
}
