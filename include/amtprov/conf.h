/*
 * amtprov - conf.h: INI configuration files (inih) checked against a schema.
 *
 * A program describes every key it knows in a table of struct amtp_conf_key;
 * amtp_conf_load() reads the file, rejects unknown sections and keys, bad
 * values, duplicates and over-long lines, and names the file, line and key in
 * the error.  Keys that the file does not set take their documented default.
 *
 * Sections that repeat (one per Wi-Fi profile, one per setup credential) are
 * declared with a trailing ".*": the schema section "wifi.*" accepts
 * [wifi.office] and [wifi.lab]; amtp_conf_sections() lists their names in file
 * order.
 */
#ifndef AMTPROV_CONF_H
#define AMTPROV_CONF_H

#include <stddef.h>
#include <stdio.h>

enum amtp_conf_type {
	AMTP_CONF_STR = 0,	/* any text up to max bytes (max 0: AMTP_CONF_VALUE_MAX) */
	AMTP_CONF_INT,		/* decimal, min..max */
	AMTP_CONF_BOOL,		/* true/false, yes/no, on/off, 1/0 */
	AMTP_CONF_ENUM,		/* one of choices[] */
	AMTP_CONF_LIST,		/* comma-separated text items */
	AMTP_CONF_SECRET_FILE,	/* path of a file holding a secret: never the secret */
	AMTP_CONF__MAX
};

struct amtp_conf_key {
	const char *section;		/* "site", or "wifi.*" for repeated sections */
	const char *name;		/* key name */
	enum amtp_conf_type type;
	const char *def;		/* default as text; NULL = no default (optional) */
	long long min, max;		/* INT bounds; STR/LIST maximum length (0 = default) */
	const char *const *choices;	/* ENUM: NULL-terminated */
	int required;			/* 1: the file must set it */
	const char *help;		/* one line for the documentation */
};

struct amtp_conf;

/*
 * Loads path against schema (terminated by an entry whose section is NULL).
 * On failure *out is NULL, the return is AMTP_E_NOTFOUND, AMTP_E_PERM,
 * AMTP_E_TOOBIG or AMTP_E_CONFIG, and err gets "file:line: key: reason".
 */
int amtp_conf_load(const char *path, const struct amtp_conf_key *schema,
    struct amtp_conf **out, char *err, size_t errlen);
/* The same from text in memory (name is used in errors). */
int amtp_conf_load_mem(const char *name, const char *text, size_t len,
    const struct amtp_conf_key *schema, struct amtp_conf **out, char *err,
    size_t errlen);
void amtp_conf_free(struct amtp_conf *c);

/* Getters.  section is the concrete name ("wifi.office").  A key that is not
 * in the schema is a programming error and aborts.  A key with no value and
 * no default gives NULL / the fallback. */
const char *amtp_conf_str(const struct amtp_conf *c, const char *section,
    const char *name);
long long amtp_conf_int(const struct amtp_conf *c, const char *section,
    const char *name);
int amtp_conf_bool(const struct amtp_conf *c, const char *section,
    const char *name);
/* LIST: the number of items and the i-th item (trimmed). */
size_t amtp_conf_list_len(const struct amtp_conf *c, const char *section,
    const char *name);
const char *amtp_conf_list_item(const struct amtp_conf *c, const char *section,
    const char *name, size_t i);

/* Names of the concrete sections matching a repeated pattern ("wifi.*"), in
 * file order. */
size_t amtp_conf_sections(const struct amtp_conf *c, const char *pattern,
    const char **names, size_t max);

/* Writes a commented file with every key of the schema at its default
 * (what `amtprov init` writes and docs/ show). */
int amtp_conf_write_defaults(FILE *f, const struct amtp_conf_key *schema);

#endif
