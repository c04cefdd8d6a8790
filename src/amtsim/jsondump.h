/*
 * amtprov - jsondump.h: the text of a device's flash (amtsim): the same
 * bytes as jansson's json_dumps(v, JSON_COMPACT), made faster.
 */
#ifndef AMTSIM_JSONDUMP_H
#define AMTSIM_JSONDUMP_H

#include <stddef.h>
#include <jansson.h>

/*
 * v (an object or an array) as compact JSON text, byte for byte what
 * json_dumps(v, JSON_COMPACT) makes: keys in insertion order, the same
 * escapes (\" \\ \b \f \n \r \t, \u00XX for other control characters, no
 * other), UTF-8 as it is.  *out: malloc'd, NUL-terminated, *outlen bytes
 * (at most max); hint: the expected length (the buffer starts that big).
 * The text may hold secrets: wipe it before free().  0, AMTP_E_INVAL (v
 * not an object or array, max 0 or over SIZE_MAX / 4), AMTP_E_TOOBIG
 * (longer than max), AMTP_E_JSON (a string that is not UTF-8, nesting
 * deeper than AMTP_SIM_FLASH_DEPTH_MAX) or AMTP_E_NOMEM.
 */
int amtsim_json_dump(const json_t *v, size_t max, size_t hint, char **out,
    size_t *outlen);

#endif
