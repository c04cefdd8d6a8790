/*
 * amtprov - cli/clicfg.c: the admin CLI's client settings (program
 * amtprov).  See cli.h.
 *
 * `amtprov init` writes SITE/amtprov.conf next to the site's files:
 *
 *	[amtprov]
 *	site = https://127.0.0.1:8443
 *	ca_file = ca-chain.pem
 *	token_file = admin.token
 *
 * Relative paths are taken from the settings file's folder, so a copy of
 * the three files on an admin's computer works as it is.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

static const struct amtp_conf_key schema[] = {
	{ "amtprov", "site", AMTP_CONF_STR, NULL, 0, CLI_URL_MAX, NULL, 1,
	    "URL of the site API: https://HOST:PORT." },
	{ "amtprov", "ca_file", AMTP_CONF_STR, NULL, 0, CLI_PATH_MAX, NULL, 1,
	    "PEM file of the site CA; the only certificates trusted." },
	{ "amtprov", "token_file", AMTP_CONF_STR, NULL, 0, CLI_PATH_MAX, NULL,
	    1, "File holding an admin token (mode 0600)." },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL }
};

/* dst = path when absolute, else dir/path. */
static int
resolve(const char *dir, const char *path, char *dst, size_t dstsz)
{
	int n;

	if (path[0] == '/')
		n = snprintf(dst, dstsz, "%s", path);
	else
		n = snprintf(dst, dstsz, "%s/%s", dir, path);
	return n < 0 || (size_t)n >= dstsz ? AMTP_E_TOOBIG : 0;
}

int
cli_cfg_load(const char *path, struct cli_cfg *cfg, char *err, size_t errlen)
{
	struct amtp_conf *c = NULL;
	char *copy = NULL, *dir;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if ((r = amtp_conf_load(path, schema, &c, err, errlen)) != 0)
		goto out;
	if ((copy = strdup(path)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	dir = dirname(copy);
	if (amtp_strlcpy(cfg->url, amtp_conf_str(c, "amtprov", "site"),
	    sizeof(cfg->url)) >= sizeof(cfg->url) ||
	    resolve(dir, amtp_conf_str(c, "amtprov", "ca_file"), cfg->ca_file,
	    sizeof(cfg->ca_file)) != 0 ||
	    resolve(dir, amtp_conf_str(c, "amtprov", "token_file"),
	    cfg->token_file, sizeof(cfg->token_file)) != 0) {
		snprintf(err, errlen, "%s: a path is too long", path);
		r = AMTP_E_CONFIG;
		goto out;
	}
	r = 0;
 out:
	free(copy);
	amtp_conf_free(c);
	return r;
}

int
cli_cfg_write(const char *path, const struct cli_cfg *cfg)
{
	struct amtp_buf *b = NULL;
	int r;

	if ((b = amtp_buf_new(4 * CLI_PATH_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_buf_putf(b,
	    "# amtprov: how the admin CLI reaches this site (amtprov(1)).\n"
	    "# Relative paths are taken from this file's folder.\n"
	    "[amtprov]\n"
	    "site = %s\n"
	    "ca_file = %s\n"
	    "token_file = %s\n", cfg->url, cfg->ca_file,
	    cfg->token_file)) != 0)
		goto out;
	r = amtp_write_file_atomic(path, amtp_buf_ptr(b), amtp_buf_len(b),
	    0644, 0);
 out:
	amtp_buf_free(b);
	return r;
}
