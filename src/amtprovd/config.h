/*
 * amtprov - config.h: the schema of amtprovd.conf and helpers to read it
 * (amtprovd, every role).
 *
 * One INI file describes a site: where the site server listens and with which
 * TLS files, the database, the master key, which roles this process runs, and
 * the out-of-band settings that the service point applies to every device.
 * The schema below is the single source of truth: amtp_conf_load() checks a
 * file against it and `amtprovd --print-defaults` writes the reference from
 * it (docs/configuration.md is generated that way).
 */
#ifndef AMTPROVD_CONFIG_H
#define AMTPROVD_CONFIG_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "amtprov/conf.h"

/* The roles an amtprovd process can run (section [site] key "roles"). */
enum amtpd_role {
	AMTPD_ROLE_SITE = 0,
	AMTPD_ROLE_OOBSP,
	AMTPD_ROLE_ENROLL,
	AMTPD_ROLE__MAX
};

/* The schema of amtprovd.conf, terminated by an entry whose section is NULL. */
extern const struct amtp_conf_key amtpd_config_schema[];

/*
 * Loads and checks path against amtpd_config_schema, then checks the rules
 * that cross keys (roles known, listen address well formed, database URI
 * scheme).  On failure *out is NULL, err names the file, line or key, and the
 * return is the amtp_conf_load() error or AMTP_E_CONFIG.
 */
int amtpd_config_load(const char *path, struct amtp_conf **out, char *err,
    size_t errlen);
/* The same from text in memory (tests). */
int amtpd_config_load_mem(const char *text, size_t len, struct amtp_conf **out,
    char *err, size_t errlen);

/* The role named s (exact, lower case), or -1. */
int amtpd_config_role_parse(const char *s);
/* The name of role r ("site"); "?" when out of range. */
const char *amtpd_config_role_name(int r);

/*
 * Parses a listen address "HOST:PORT" (IPv4 dotted quad, or "[v6]:PORT")
 * into ss/sslen.  A host name is refused: the site server binds an address.
 * Port 0 asks the kernel for a free port.  0 or AMTP_E_PARSE /
 * AMTP_E_RANGE (port outside 0..65535).
 */
int amtpd_config_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen);

#endif
