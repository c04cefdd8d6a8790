/*
 * amtprov - cli/init.c: `amtprov init`, the setup of a site directory
 * (program amtprov).
 *
 * The one command that works on local files rather than through the API:
 * it makes everything an amtprovd needs, in this order, each file created
 * with O_EXCL under umask 077 so that nothing existing is overwritten:
 *
 *   master.key            the site master key (0600)
 *   enrol.secret          the agents' enrolment secret (0600)
 *   ca-*.pem, *.sealed    the site CA (enroll/ca.c)
 *   site.db               the SQLite database, migrated (or a PostgreSQL
 *                         schema with --database)
 *   site.crt, site.key    the site server's TLS certificate, issued by the
 *                         site CA and recorded in the database
 *   admin.token           an admin token (0600; its SHA-256 in the database)
 *   prov-*, lab-root.*    the lab provisioning chain, or an imported one
 *   amtprovd.conf         every key with its documented default, the ones
 *                         init chose set (amtprovd --check-config passes)
 *   amtprov.conf          how this CLI reaches the site
 *
 * The admin token is printed once; the database keeps only its hash.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/limits.h"
#include "amtprov/err.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "config.h"
#include "enroll/ca.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "site/auth.h"
#include "store/store.h"

#include "cli.h"

#define DEFAULT_LISTEN	"0.0.0.0:8443"
#define DEFAULT_ROLES	"site,oobsp,enroll"
#define ADMIN_NAME	"admin"

struct init_opts {
	const char	*dir;
	const char	*domain;
	int		 lab;
	const char	*p12;
	const char	*p12_pw_file;
	const char	*listen;
	const char	*database;
	const char	*roles;
	const char	*site_name;
	const char	*names[CLI_SERVER_NAMES_MAX];
	size_t		 nnames;
	int		 json;
};

/* What init chose, for the summary. */
struct init_result {
	char	dir[PATH_MAX];
	char	url[CLI_URL_MAX + 1];
	char	database[CLI_PATH_MAX + 1];
	char	prov_sha256[65];
	char	token[SITE_TOKEN_RANDOM_SIZE];
	int	started;	/* files were written */
};

static void
init_usage(FILE *f)
{
	fprintf(f,
"usage: amtprov init --dir SITE --domain DOMAIN (--lab | --p12 FILE\n"
"                    [--p12-password-file FILE]) [--listen ADDR:PORT]\n"
"                    [--server-name NAME]... [--database URI]\n"
"                    [--roles LIST] [--site-name TEXT] [--json]\n"
"\n"
"  --dir SITE             the site directory (created, mode 0700)\n"
"  --domain DOMAIN        DNS domain of the AMT devices (oob.dns_domain)\n"
"  --lab                  make a lab provisioning chain (simulated fleets,\n"
"                         labs); its root's SHA-256 goes to the devices\n"
"  --p12 FILE             import a purchased provisioning certificate\n"
"  --p12-password-file F  its password (mode 0600); none: empty password\n"
"  --listen ADDR:PORT     the site API (default " DEFAULT_LISTEN ")\n"
"  --server-name NAME     a DNS name or IP in the site's TLS certificate\n"
"                         (repeat; default localhost, 127.0.0.1, host name)\n"
"  --database URI         sqlite:PATH (default SITE/site.db) or\n"
"                         postgresql://USER@HOST/DB?schema=NAME\n"
"  --roles LIST           roles of amtprovd (default " DEFAULT_ROLES ")\n"
"  --site-name TEXT       organisation name in the CA subjects\n"
"  --json                 print the result as one JSON object\n");
}

/* Wipes the JSON tree's copy of the admin token before it is freed. */
static void
wipe_token(json_t *j)
{
	json_t *v = json_object_get(j, "admin_token");

	if (v != NULL && json_is_string(v))
		explicit_bzero((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

/* Writes a new file (O_EXCL) with mode. */
static int
write_excl(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	ssize_t w;
	int fd, r = AMTP_E_IO;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1)
		return errno == EEXIST ? AMTP_E_EXISTS : AMTP_E_IO;
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto out;
	r = 0;
 out:
	if (close(fd) == -1)
		r = AMTP_E_IO;
	return r;
}

/* mkdir -p: the parents with mode 0755, the last one 0700. */
static int
mkdir_parents(const char *dir)
{
	char tmp[PATH_MAX];
	size_t i;

	if (amtp_strlcpy(tmp, dir, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = 1; tmp[i] != '\0'; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		tmp[i] = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
pathf(char *dst, size_t dstsz, const char *dir, const char *name)
{
	int n = snprintf(dst, dstsz, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= dstsz ? AMTP_E_TOOBIG : 0;
}

/*
 * A database URI to show: "postgresql://user:secret@host/db" becomes
 * "postgresql://user:***@host/db" (the URI itself stays in amtprovd.conf;
 * docs/operations.md recommends ~/.pgpass instead).
 */
static void
redact_uri(const char *uri, char *dst, size_t dstsz)
{
	const char *p, *at, *colon;

	amtp_strlcpy(dst, uri, dstsz);
	if ((p = strstr(uri, "://")) == NULL)
		return;
	p += 3;
	if ((at = strchr(p, '@')) == NULL)
		return;
	if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return;
	snprintf(dst, dstsz, "%.*s:***%s", (int)(colon - uri), uri, at);
}

/* The URL an admin on this machine uses for a listen address. */
static int
listen_url(const char *listen, char *url, size_t urlsz)
{
	const char *colon;
	char host[128];
	size_t hl;
	int n;

	if ((colon = strrchr(listen, ':')) == NULL ||
	    (hl = (size_t)(colon - listen)) == 0 || hl >= sizeof(host))
		return AMTP_E_PARSE;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (strcmp(colon + 1, "0") == 0)
		return AMTP_E_RANGE;	/* the CLI must know the port */
	if (strcmp(host, "0.0.0.0") == 0)
		amtp_strlcpy(host, "127.0.0.1", sizeof(host));
	else if (strcmp(host, "[::]") == 0)
		amtp_strlcpy(host, "[::1]", sizeof(host));
	n = snprintf(url, urlsz, "https://%s:%s", host, colon + 1);
	return n < 0 || (size_t)n >= urlsz ? AMTP_E_TOOBIG : 0;
}

/* A line "#key = ..." of the defaults that we set: returns the value. */
struct conf_set {
	const char	*section;
	const char	*key;
	const char	*value;
	int		 done;
};

/*
 * amtprovd.conf: `amtprovd --print-defaults` (every key, its help, its
 * default, commented out) with the keys init chose set in place.
 */
static int
make_conf(struct conf_set *set, size_t nset, struct amtp_buf *out,
    char *err, size_t errlen)
{
	char *text = NULL, *line, *nl, section[AMTP_CONF_SECTION_MAX + 1] = "";
	size_t tlen = 0, i, kl;
	FILE *f;
	int r = AMTP_E_NOMEM;

	if ((f = open_memstream(&text, &tlen)) == NULL)
		return AMTP_E_NOMEM;
	r = amtp_conf_write_defaults(f, amtpd_config_schema);
	if (fclose(f) != 0 && r == 0)
		r = AMTP_E_IO;
	if (r != 0)
		goto out;
	if ((r = amtp_buf_putf(out, "# amtprovd.conf of this site, written "
	    "by `amtprov init`.\n# The keys init chose are set; every other "
	    "key is at its default (commented out).\n# Reference: "
	    "docs/configuration.md, amtprovd(8).\n#\n")) != 0)
		goto out;
	for (line = text; line != NULL && *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (line[0] == '[') {
			kl = strcspn(line + 1, "]");
			if (kl >= sizeof(section))
				kl = sizeof(section) - 1;
			memcpy(section, line + 1, kl);
			section[kl] = '\0';
		}
		for (i = 0; i < nset; i++) {
			kl = strlen(set[i].key);
			if (set[i].done || strcmp(section, set[i].section) != 0 ||
			    line[0] != '#' || strncmp(line + 1, set[i].key,
			    kl) != 0 || strncmp(line + 1 + kl, " =", 2) != 0)
				continue;
			break;
		}
		if (i < nset) {
			set[i].done = 1;
			r = amtp_buf_putf(out, "%s = %s\n", set[i].key,
			    set[i].value);
		} else
			r = amtp_buf_putf(out, "%s\n", line);
		if (r != 0)
			goto out;
	}
	for (i = 0; i < nset; i++)
		if (!set[i].done) {
			snprintf(err, errlen, "amtprovd.conf: key %s.%s is not "
			    "in this build's schema", set[i].section,
			    set[i].key);
			r = AMTP_E_INTERNAL;
			goto out;
		}
	r = 0;
 out:
	free(text);
	return r;
}

/* OU=AMT,DC=fleet,DC=example,DC=test for fleet.example.test. */
static int
container_dn(const char *domain, char *dst, size_t dstsz)
{
	struct amtp_buf *b;
	const char *p = domain, *dot;
	int r;

	if ((b = amtp_buf_new(dstsz)) == NULL)
		return AMTP_E_NOMEM;
	r = amtp_buf_put_cstring(b, "OU=AMT");
	while (r == 0 && *p != '\0') {
		dot = strchr(p, '.');
		r = amtp_buf_putf(b, ",DC=%.*s", dot == NULL ? (int)strlen(p) :
		    (int)(dot - p), p);
		p = dot == NULL ? p + strlen(p) : dot + 1;
	}
	if (r == 0 && amtp_strlcpy(dst, amtp_buf_str(b), dstsz) >= dstsz)
		r = AMTP_E_TOOBIG;
	amtp_buf_free(b);
	return r;
}

/* The site server's certificate and key: site.crt (leaf, intermediate),
 * site.key (0600). */
static int
server_cert(const struct init_opts *o, const char *dir,
    const struct amtp_master_key *mk, struct amtp_store *st, char *err,
    size_t errlen)
{
	struct amtp_ca *ca = NULL;
	struct amtp_signer *sg = NULL;
	STACK_OF(X509) *chain = NULL, *out = NULL;
	struct amtp_buf *pem = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	const char *names[CLI_SERVER_NAMES_MAX + 3];
	char host[256], path[PATH_MAX], addr[64];
	const char *colon;
	char *kp;
	long kl;
	size_t n = 0, i, len;
	int r;

	if (o->nnames > 0) {
		for (i = 0; i < o->nnames; i++)
			names[n++] = o->names[i];
	} else {
		names[n++] = "localhost";
		names[n++] = "127.0.0.1";
		if (gethostname(host, sizeof(host)) == 0 &&
		    strcmp(host, "localhost") != 0 && host[0] != '\0')
			names[n++] = host;
		/* the address the API listens on, when it is a given one:
		 * the URL in amtprov.conf names it */
		if ((colon = strrchr(o->listen, ':')) != NULL) {
			len = (size_t)(colon - o->listen);
			if (len > 2 && o->listen[0] == '[' &&
			    o->listen[len - 1] == ']') {
				len -= 2;
				memcpy(addr, o->listen + 1, len < sizeof(addr) ?
				    len : 0);
			} else if (len < sizeof(addr))
				memcpy(addr, o->listen, len);
			else
				len = 0;
			addr[len < sizeof(addr) ? len : 0] = '\0';
			if (addr[0] != '\0' && strcmp(addr, "0.0.0.0") != 0 &&
			    strcmp(addr, "::") != 0 &&
			    strcmp(addr, "127.0.0.1") != 0)
				names[n++] = addr;
		}
	}
	if ((r = amtp_ca_load(dir, mk, &ca, err, errlen)) != 0 ||
	    (r = amtp_signer_local(ca, &sg)) != 0)
		goto out;
	if ((r = amtp_enroll_server(sg, st, 0, names, n, &cert, &key)) != 0) {
		snprintf(err, errlen, "site TLS certificate for %s: %s",
		    names[0], amtp_strerror(r));
		goto out;
	}
	if ((r = amtp_ca_chain(ca, &chain)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((out = sk_X509_new_null()) == NULL ||
	    (pem = amtp_buf_new(AMTP_PKI_PEM_MAX)) == NULL)
		goto out;
	/* leaf and intermediate: what the server sends */
	if (!sk_X509_push(out, cert))
		goto out;
	if (sk_X509_num(chain) > 0 && !sk_X509_push(out, sk_X509_value(chain,
	    0)))
		goto out;
	if ((r = amtp_pki_chain_to_pem(out, pem)) != 0 ||
	    (r = pathf(path, sizeof(path), dir, "site.crt")) != 0 ||
	    (r = write_excl(path, amtp_buf_ptr(pem), amtp_buf_len(pem),
	    0644)) != 0) {
		snprintf(err, errlen, "%.512s/site.crt: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	r = AMTP_E_CRYPTO;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) ||
	    (kl = BIO_get_mem_data(bio, &kp)) <= 0)
		goto out;
	if ((r = pathf(path, sizeof(path), dir, "site.key")) != 0 ||
	    (r = write_excl(path, kp, (size_t)kl, 0600)) != 0) {
		snprintf(err, errlen, "%.512s/site.key: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	r = 0;
 out:
	BIO_free(bio);
	if (out != NULL)
		sk_X509_free(out);	/* borrowed members */
	amtp_pki_chain_free(chain);
	X509_free(cert);
	EVP_PKEY_free(key);
	amtp_buf_free(pem);
	amtp_signer_free(sg);
	amtp_ca_free(ca);
	return r;
}

static int
provisioning(const struct init_opts *o, const char *dir,
    const struct amtp_master_key *mk, struct init_result *res, char *err,
    size_t errlen)
{
	struct amtp_secret *pw = NULL;
	struct amtp_buf *b = NULL;
	enum amtp_pki_reason why;
	char path[PATH_MAX];
	size_t n;
	int r;

	if (o->lab)
		return amtp_ca_make_lab_provisioning_chain(dir, mk, o->domain,
		    res->prov_sha256, err, errlen);
	if (o->p12_pw_file != NULL)
		r = amtp_secret_load_file(o->p12_pw_file, 0, &pw, err, errlen);
	else
		r = amtp_secret_new("", 0, &pw);
	if (r != 0)
		goto out;
	if ((r = amtp_ca_import_provisioning_p12(dir, mk, o->p12, pw,
	    o->domain, time(NULL), &why, err, errlen)) != 0)
		goto out;
	if ((r = pathf(path, sizeof(path), dir, "prov-root.sha256")) != 0 ||
	    (r = amtp_buf_load_file(path, 256, &b)) != 0) {
		snprintf(err, errlen, "%.512s: %s", path, amtp_strerror(r));
		goto out;
	}
	n = strspn(amtp_buf_str(b), "0123456789abcdef");
	if (n != 64) {
		snprintf(err, errlen, "%.512s: not a SHA-256", path);
		r = AMTP_E_PARSE;
		goto out;
	}
	memcpy(res->prov_sha256, amtp_buf_str(b), 64);
	res->prov_sha256[64] = '\0';
 out:
	amtp_buf_free(b);
	amtp_secret_free(pw);
	return r;
}

static int
do_init(const struct init_opts *o, struct init_result *res, char *err,
    size_t errlen)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_buf *conf = NULL;
	struct cli_cfg cfg;
	struct stat sb;
	char path[PATH_MAX], dbpath[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	char mkpath[PATH_MAX], enrol[PATH_MAX], dn[AMTP_STORE_DN_MAX];
	char secret[SITE_TOKEN_RANDOM_SIZE], hex[SITE_SHA256_HEX_SIZE];
	char detail[256];
	struct conf_set set[] = {
		{ "site", "roles", o->roles, 0 },
		{ "site", "listen", o->listen, 0 },
		{ "site", "tls_cert", crt, 0 },
		{ "site", "tls_key", key, 0 },
		{ "site", "database", dbpath, 0 },
		{ "site", "master_key_file", mkpath, 0 },
		{ "site", "enrolment_secret_file", enrol, 0 },
		{ "oob", "dns_domain", o->domain, 0 },
		{ "directory", "container", dn, 0 },
		{ "oobsp", "pki_dir", res->dir, 0 },
	};
	const char *dir;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = listen_url(o->listen, res->url, sizeof(res->url))) != 0) {
		snprintf(err, errlen, "--listen %s: expected ADDRESS:PORT with "
		    "a port other than 0", o->listen);
		return AMTP_E_INVAL;
	}
	if (mkdir_parents(o->dir) != 0) {
		snprintf(err, errlen, "%.512s: %s", o->dir, strerror(errno));
		return AMTP_E_IO;
	}
	if (realpath(o->dir, res->dir) == NULL) {
		snprintf(err, errlen, "%.512s: %s", o->dir, strerror(errno));
		return AMTP_E_IO;
	}
	dir = res->dir;
	if (pathf(path, sizeof(path), dir, "amtprovd.conf") != 0 ||
	    pathf(mkpath, sizeof(mkpath), dir, "master.key") != 0 ||
	    pathf(enrol, sizeof(enrol), dir, "enrol.secret") != 0 ||
	    pathf(crt, sizeof(crt), dir, "site.crt") != 0 ||
	    pathf(key, sizeof(key), dir, "site.key") != 0) {
		snprintf(err, errlen, "%.512s: path too long", dir);
		return AMTP_E_TOOBIG;
	}
	if (stat(path, &sb) == 0 || stat(mkpath, &sb) == 0) {
		snprintf(err, errlen, "%.512s: a site is there already (init never "
		    "overwrites one; use another directory)", dir);
		return AMTP_E_EXISTS;
	}
	if (o->database != NULL) {
		if (amtp_strlcpy(dbpath, o->database, sizeof(dbpath)) >=
		    sizeof(dbpath))
			return AMTP_E_TOOBIG;
	} else if (snprintf(dbpath, sizeof(dbpath), "sqlite:%s/site.db", dir) >=
	    (int)sizeof(dbpath))
		return AMTP_E_TOOBIG;
	redact_uri(dbpath, res->database, sizeof(res->database));
	if ((r = container_dn(o->domain, dn, sizeof(dn))) != 0) {
		snprintf(err, errlen, "--domain: too long");
		return r;
	}

	/* 1: master key */
	res->started = 1;
	if ((r = amtp_master_key_create(mkpath, err, errlen)) != 0 ||
	    (r = amtp_master_key_load(mkpath, &mk, err, errlen)) != 0)
		goto out;
	/* 2: enrolment secret */
	if ((r = site_auth_token_random(secret, sizeof(secret))) != 0)
		goto out;
	if ((r = write_excl(enrol, secret, strlen(secret), 0600)) != 0) {
		snprintf(err, errlen, "%.512s: %s", enrol, amtp_strerror(r));
		goto out;
	}
	/* 3: site CA */
	if ((r = amtp_ca_create(dir, mk, o->site_name, err, errlen)) != 0)
		goto out;
	/* 4: database (migrations run at open) */
	if ((r = amtp_store_open(dbpath, mk, &st, err, errlen)) != 0)
		goto out;
	/* 5: the site server's TLS certificate */
	if ((r = server_cert(o, dir, mk, st, err, errlen)) != 0)
		goto out;
	/* 6: provisioning certificate */
	if ((r = provisioning(o, dir, mk, res, err, errlen)) != 0)
		goto out;
	/* 7: admin token: the hash in the database, the token in a 0600
	 * file for this CLI, shown once */
	if ((r = site_auth_token_random(res->token, sizeof(res->token))) != 0 ||
	    (r = site_auth_sha256_hex(res->token, strlen(res->token),
	    hex)) != 0)
		goto out;
	if ((r = amtp_store_token_add(st, ADMIN_NAME, hex, AMTP_ROLE_ADMIN,
	    0, NULL)) != 0) {
		snprintf(err, errlen, "admin token: %s",
		    amtp_store_errmsg(st));
		goto out;
	}
	if ((r = pathf(path, sizeof(path), dir, "admin.token")) != 0 ||
	    (r = write_excl(path, res->token, strlen(res->token), 0600)) != 0) {
		snprintf(err, errlen, "%.512s/admin.token: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	/* 8: the configuration files */
	if ((conf = amtp_buf_new(AMTP_CONF_FILE_MAX)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = make_conf(set, sizeof(set) / sizeof(set[0]), conf, err,
	    errlen)) != 0)
		goto out;
	if ((r = pathf(path, sizeof(path), dir, "amtprovd.conf")) != 0 ||
	    (r = write_excl(path, amtp_buf_ptr(conf), amtp_buf_len(conf),
	    0644)) != 0) {
		snprintf(err, errlen, "%.512s/amtprovd.conf: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	amtp_strlcpy(cfg.url, res->url, sizeof(cfg.url));
	amtp_strlcpy(cfg.ca_file, "ca-chain.pem", sizeof(cfg.ca_file));
	amtp_strlcpy(cfg.token_file, "admin.token", sizeof(cfg.token_file));
	if ((r = pathf(path, sizeof(path), dir, "amtprov.conf")) != 0 ||
	    (r = cli_cfg_write(path, &cfg)) != 0) {
		snprintf(err, errlen, "%.512s/amtprov.conf: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	snprintf(detail, sizeof(detail), "domain %s, %s provisioning "
	    "certificate, root sha256 %.16s...", o->domain, o->lab ? "lab" :
	    "imported", res->prov_sha256);
	if ((r = amtp_store_audit_append(st, "amtprov:init", "site.init", 0,
	    detail, NULL)) != 0) {
		snprintf(err, errlen, "audit record: %s",
		    amtp_store_errmsg(st));
		goto out;
	}
	r = 0;
 out:
	explicit_bzero(secret, sizeof(secret));
	amtp_buf_free(conf);
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return r;
}

int
cli_init_main(int argc, char *argv[])
{
	enum { O_DIR = 256, O_DOMAIN, O_LAB, O_P12, O_P12PW, O_LISTEN,
	    O_NAME, O_DB, O_ROLES, O_SITENAME, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "domain", required_argument, NULL, O_DOMAIN },
		{ "lab", no_argument, NULL, O_LAB },
		{ "p12", required_argument, NULL, O_P12 },
		{ "p12-password-file", required_argument, NULL, O_P12PW },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "server-name", required_argument, NULL, O_NAME },
		{ "database", required_argument, NULL, O_DB },
		{ "roles", required_argument, NULL, O_ROLES },
		{ "site-name", required_argument, NULL, O_SITENAME },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct init_opts o;
	struct init_result res;
	char err[1024] = "";
	json_t *j;
	int ch, r;

	memset(&o, 0, sizeof(o));
	o.listen = DEFAULT_LISTEN;
	o.roles = DEFAULT_ROLES;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_DIR: o.dir = optarg; break;
		case O_DOMAIN: o.domain = optarg; break;
		case O_LAB: o.lab = 1; break;
		case O_P12: o.p12 = optarg; break;
		case O_P12PW: o.p12_pw_file = optarg; break;
		case O_LISTEN: o.listen = optarg; break;
		case O_NAME:
			if (o.nnames == CLI_SERVER_NAMES_MAX) {
				fprintf(stderr, "amtprov init: at most %d "
				    "--server-name\n", CLI_SERVER_NAMES_MAX);
				return CLI_EXIT_USAGE;
			}
			o.names[o.nnames++] = optarg;
			break;
		case O_DB: o.database = optarg; break;
		case O_ROLES: o.roles = optarg; break;
		case O_SITENAME: o.site_name = optarg; break;
		case O_JSON: o.json = 1; break;
		case O_HELP:
			init_usage(stdout);
			return CLI_EXIT_OK;
		default:
			init_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || o.dir == NULL || o.domain == NULL ||
	    (o.lab == (o.p12 != NULL)) || (o.p12_pw_file != NULL &&
	    o.p12 == NULL)) {
		fprintf(stderr, "amtprov init: --dir, --domain and exactly one "
		    "of --lab and --p12 are required\n");
		init_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	umask(077);
	if ((r = do_init(&o, &res, err, sizeof(err))) != 0) {
		fprintf(stderr, "amtprov init: %s\n", err[0] != '\0' ? err :
		    amtp_strerror(r));
		if (res.started)
			fprintf(stderr, "amtprov init: the site directory is "
			    "incomplete: remove %s and run init again\n",
			    o.dir);
		explicit_bzero(&res, sizeof(res));
		return CLI_EXIT_FAIL;
	}
	if (o.json) {
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
		    "dir", res.dir, "site_url", res.url, "database",
		    res.database, "config", "amtprovd.conf", "client_config",
		    "amtprov.conf", "admin_token", res.token,
		    "provisioning_root_sha256", res.prov_sha256,
		    "domain", o.domain, "lab", o.lab);
		if (j == NULL || json_dumpf(j, stdout, JSON_COMPACT) != 0) {
			wipe_token(j);
			json_decref(j);
			explicit_bzero(&res, sizeof(res));
			return CLI_EXIT_FAIL;
		}
		wipe_token(j);
		json_decref(j);
		putchar('\n');
	} else {
		printf("site created in %s\n"
		    "  amtprovd.conf   the server's settings (roles %s, API %s)\n"
		    "  database        %s\n"
		    "  master.key      seals every stored password: back it up "
		    "apart from the database\n"
		    "  ca-chain.pem    the site CA; site.crt/site.key: the API's "
		    "TLS certificate\n"
		    "  enrol.secret    what agents present to register\n"
		    "  amtprov.conf    how this CLI reaches the site\n"
		    "%s provisioning certificate: root SHA-256 %s\n"
		    "%s"
		    "admin token (shown once; kept in admin.token, mode 0600):\n"
		    "  %s\n"
		    "next:\n"
		    "  amtprovd -c %s/amtprovd.conf\n"
		    "  amtprov --dir %s devices\n",
		    res.dir, o.roles, res.url, res.database,
		    o.lab ? "lab" : "imported", res.prov_sha256,
		    o.lab ? "  (lab-root.sha256: give it to the devices, e.g. "
		    "amtsim --trust-root)\n" : "",
		    res.token, res.dir, res.dir);
	}
	explicit_bzero(&res, sizeof(res));
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
