/*
 * amtprov - main.c: amtprovd, the server program (every role).
 *
 * One process reads amtprovd.conf and runs the roles it names (site.roles):
 * the site server (site), the out-of-band service point (oobsp) and the
 * enrollment point (enroll).  As rpki-client does, the parent forks one
 * child per role, each entering its role's main function, and then only
 * waits: it forwards SIGTERM/SIGINT to the children and, when one child
 * dies, stops the others, so a half-running site never goes unnoticed.
 * A role that this build does not have is an error at start, not silence.
 *
 * Also the site's small administrative tools: --check-config,
 * --print-defaults, --make-master-key, --add-admin-token, and
 * --set-password, which escrows a password set outside amtprov (a MEBx
 * password typed in by a technician, say) so that the service point and
 * the admins know it.
 */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "config.h"
#include "enroll/enroll.h"
#include "oobsp/oobsp.h"
#include "site/auth.h"
#include "site/site.h"
#include "store/store.h"

#define DEFAULT_CONF	"/etc/amtprov/amtprovd.conf"

typedef int (*role_main_fn)(const struct amtp_conf *);

/* Roles by enum amtpd_role; NULL main: not built into this version. */
static const struct {
	const char	*name;
	role_main_fn	 main;
	const char	*missing;	/* why it is not built */
} roles[AMTPD_ROLE__MAX] = {
	[AMTPD_ROLE_SITE] = { "site", site_main, NULL },
	[AMTPD_ROLE_OOBSP] = { "oobsp", oobsp_main, NULL },
	[AMTPD_ROLE_ENROLL] = { "enroll", enroll_main, NULL },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: amtprovd [-d] [-c FILE]\n"
	    "       amtprovd [-c FILE] --check-config\n"
	    "       amtprovd --print-defaults\n"
	    "       amtprovd --make-master-key FILE\n"
	    "       amtprovd [-c FILE] --add-admin-token NAME admin|readonly\n"
	    "       amtprovd [-c FILE] --set-password DEVICE-ID admin|mebx|directory"
	    " < password\n"
	    "       amtprovd --version\n");
	exit(2);
}

/* The roles site.roles names, as a bit set; -1 (logged) when one is not
 * built. */
static int
selected_roles(const struct amtp_conf *c, unsigned *set)
{
	size_t i, n;
	int role;

	*set = 0;
	n = amtp_conf_list_len(c, "site", "roles");
	for (i = 0; i < n; i++) {
		role = amtpd_config_role_parse(amtp_conf_list_item(c, "site",
		    "roles", i));
		if (role < 0)
			return -1;	/* checked at load already */
		if (roles[role].main == NULL) {
			log_errx("site.roles: role %s: %s", roles[role].name,
			    roles[role].missing);
			return -1;
		}
		*set |= 1u << role;
	}
	return 0;
}

static enum amtp_log_level
conf_log_level(const struct amtp_conf *c)
{
	const char *v = amtp_conf_str(c, "site", "log_level");

	if (v == NULL)
		return AMTP_LOG_INFO;
	if (strcmp(v, "error") == 0)
		return AMTP_LOG_ERR;
	if (strcmp(v, "warning") == 0)
		return AMTP_LOG_WARN;
	if (strcmp(v, "debug") == 0)
		return AMTP_LOG_DEBUG;
	return AMTP_LOG_INFO;
}

/* Forks one child per role; waits; returns the exit status. */
static int
run_roles(const struct amtp_conf *c, unsigned set, int debug)
{
	pid_t pids[AMTPD_ROLE__MAX];
	char prog[32];
	sigset_t sigs;
	int i, sig, wst, alive = 0, status = 0, stopping = 0;
	pid_t pid;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) == -1)
		fatal("sigprocmask");
	for (i = 0; i < AMTPD_ROLE__MAX; i++) {
		pids[i] = -1;
		if ((set & (1u << i)) == 0)
			continue;
		if ((pid = fork()) == -1) {
			log_err("fork (role %s)", roles[i].name);
			status = 1;
			stopping = 1;
			break;
		}
		if (pid == 0) {
			snprintf(prog, sizeof(prog), "amtprovd[%s]",
			    roles[i].name);
			amtp_log_init(prog, debug ? AMTP_LOG_DEBUG :
			    conf_log_level(c), AMTP_LOG_TO_STDERR |
			    AMTP_LOG_WITH_TIME);
			/* the role waits for TERM/INT/HUP itself; CHLD is
			 * the parent's business */
			sigemptyset(&sigs);
			sigaddset(&sigs, SIGCHLD);
			sigprocmask(SIG_UNBLOCK, &sigs, NULL);
			_exit(roles[i].main(c));
		}
		pids[i] = pid;
		alive++;
	}
	if (stopping)
		for (i = 0; i < AMTPD_ROLE__MAX; i++)
			if (pids[i] > 0)
				kill(pids[i], SIGTERM);
	while (alive > 0) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping (signal %d)", sig);
			stopping = 1;
			for (i = 0; i < AMTPD_ROLE__MAX; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			continue;
		}
		/* SIGCHLD: reap every child that ended */
		while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
			for (i = 0; i < AMTPD_ROLE__MAX; i++)
				if (pids[i] == pid)
					break;
			if (i == AMTPD_ROLE__MAX)
				continue;
			pids[i] = -1;
			alive--;
			if (!stopping || !WIFEXITED(wst) ||
			    WEXITSTATUS(wst) != 0) {
				if (WIFEXITED(wst))
					log_warnx("role %s exited with status "
					    "%d", roles[i].name,
					    WEXITSTATUS(wst));
				else
					log_warnx("role %s killed by signal %d",
					    roles[i].name, WTERMSIG(wst));
				status = 1;
			}
			if (!stopping) {
				/* one role down: stop the others */
				stopping = 1;
				for (i = 0; i < AMTPD_ROLE__MAX; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGTERM);
			}
		}
	}
	return status;
}

static int
add_admin_token(const struct amtp_conf *c, const char *name,
    const char *rolename)
{
	struct amtp_store *st = NULL;
	enum amtp_token_role role;
	char err[512] = "", rnd[SITE_TOKEN_RANDOM_SIZE];
	char hex[SITE_SHA256_HEX_SIZE];
	int r, status = 1;

	if (amtp_store_role_parse(rolename, &role) != 0) {
		log_errx("role must be admin or readonly");
		return 1;
	}
	if (strlen(name) == 0 || strlen(name) > AMTP_STORE_NAME_MAX - 6) {
		log_errx("token name: 1 to %d characters",
		    AMTP_STORE_NAME_MAX - 6);
		return 1;
	}
	if ((r = amtp_store_open(amtp_conf_str(c, "site", "database"), NULL,
	    &st, err, sizeof(err))) != 0) {
		log_err_r(r, "database: %s", err);
		goto out;
	}
	if ((r = site_auth_token_random(rnd, sizeof(rnd))) != 0 ||
	    (r = site_auth_sha256_hex(rnd, strlen(rnd), hex)) != 0 ||
	    (r = amtp_store_token_add(st, name, hex, role, 0, NULL)) != 0) {
		log_err_r(r, "admin token %s", name);
		goto out;
	}
	/* the only time the token is shown: on stdout, for a script */
	printf("%s\n", rnd);
	if (fflush(stdout) != 0)
		goto out;
	status = 0;
 out:
	explicit_bzero(rnd, sizeof(rnd));
	amtp_store_close(st);
	return status;
}

/*
 * Reads one password line from stdin and records it as the current
 * credential of (device, kind): sealed as pending, then promoted, with an
 * audit record.  The password is never echoed.
 */
static int
set_password(const struct amtp_conf *c, const char *devid, const char *kindname)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_secret *sec = NULL;
	struct amtp_device_rec d;
	enum amtp_cred_kind kind;
	char err[512] = "", line[AMTP_AMT_PASSWORD_MAX + 3], detail[64];
	long long id;
	size_t n;
	int r, version = 0, status = 1;

	if (amtp_parse_int(devid, 1, INT64_MAX, &id) != 0 ||
	    amtp_store_cred_kind_parse(kindname, &kind) != 0) {
		log_errx("usage: --set-password DEVICE-ID admin|mebx|directory");
		return 1;
	}
	if (fgets(line, sizeof(line), stdin) == NULL) {
		log_errx("no password on standard input");
		goto out;
	}
	n = strcspn(line, "\r\n");
	if (line[n] == '\0' && n == sizeof(line) - 1) {
		log_errx("password longer than %d characters",
		    AMTP_AMT_PASSWORD_MAX);
		goto out;
	}
	line[n] = '\0';
	if (n == 0) {
		log_errx("empty password");
		goto out;
	}
	if ((r = amtp_secret_new(line, n, &sec)) != 0)
		goto out;
	if ((r = amtp_master_key_load(amtp_conf_str(c, "site",
	    "master_key_file"), &mk, err, sizeof(err))) != 0) {
		log_err_r(r, "master key: %s", err);
		goto out;
	}
	if ((r = amtp_store_open(amtp_conf_str(c, "site", "database"), mk,
	    &st, err, sizeof(err))) != 0) {
		log_err_r(r, "database: %s", err);
		goto out;
	}
	if ((r = amtp_store_device_get(st, id, &d)) != 0) {
		log_err_r(r, "device %lld", id);
		goto out;
	}
	if ((r = amtp_store_cred_put_pending(st, d.id, kind, sec,
	    &version)) != 0) {
		log_err_r(r, "dev %lld: %s password%s", id, kindname,
		    r == AMTP_E_EXISTS ? " (a pending version exists: a job "
		    "is changing it)" : "");
		goto out;
	}
	if ((r = amtp_store_cred_promote(st, d.id, kind, version)) != 0) {
		log_err_r(r, "dev %lld: %s password v%d", id, kindname,
		    version);
		goto out;
	}
	snprintf(detail, sizeof(detail), "kind %s version %d", kindname,
	    version);
	if ((r = amtp_store_audit_append(st, "amtprovd:set-password",
	    "device.password.set", d.id, detail, NULL)) != 0) {
		log_err_r(r, "audit record");
		goto out;
	}
	log_info("dev %lld: %s password v%d recorded", id, kindname, version);
	status = 0;
 out:
	explicit_bzero(line, sizeof(line));
	amtp_secret_free(sec);
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

int
main(int argc, char *argv[])
{
	enum { OPT_VERSION = 256, OPT_CHECK, OPT_DEFAULTS, OPT_MKKEY,
	    OPT_ADDTOKEN, OPT_SETPW };
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "print-defaults", no_argument, NULL, OPT_DEFAULTS },
		{ "make-master-key", required_argument, NULL, OPT_MKKEY },
		{ "add-admin-token", required_argument, NULL, OPT_ADDTOKEN },
		{ "set-password", required_argument, NULL, OPT_SETPW },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct amtp_conf *conf = NULL;
	const char *path = DEFAULT_CONF, *mkkey = NULL, *tokname = NULL;
	const char *pwdev = NULL;
	char err[AMTP_LOG_LINE_MAX / 2] = "";
	unsigned set;
	int ch, check = 0, debug = 0, r, status = 1;

	amtp_log_init("amtprovd", AMTP_LOG_INFO, AMTP_LOG_TO_STDERR);
	while ((ch = getopt_long(argc, argv, "c:d", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case OPT_VERSION:
			printf("amtprovd %s\n", AMTP_VERSION);
			return 0;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_DEFAULTS:
			return amtp_conf_write_defaults(stdout,
			    amtpd_config_schema) == 0 && fflush(stdout) == 0 ?
			    0 : 1;
		case OPT_MKKEY:
			mkkey = optarg;
			break;
		case OPT_ADDTOKEN:
			tokname = optarg;
			break;
		case OPT_SETPW:
			pwdev = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (mkkey != NULL) {
		if (argc != 0)
			usage();
		if ((r = amtp_master_key_create(mkkey, err,
		    sizeof(err))) != 0) {
			log_err_r(r, "%s", err);
			return 1;
		}
		return 0;
	}
	if (tokname != NULL && pwdev != NULL)
		usage();
	if ((tokname == NULL && pwdev == NULL && argc != 0) ||
	    ((tokname != NULL || pwdev != NULL) && argc != 1))
		usage();
	if ((r = amtpd_config_load(path, &conf, err, sizeof(err))) != 0) {
		log_errx("%s", err);
		goto out;
	}
	if (tokname != NULL) {
		status = add_admin_token(conf, tokname, argv[0]);
		goto out;
	}
	if (pwdev != NULL) {
		status = set_password(conf, pwdev, argv[0]);
		goto out;
	}
	if (selected_roles(conf, &set) != 0)
		goto out;
	if (check) {
		printf("%s: ok\n", path);
		status = 0;
		goto out;
	}
	amtp_log_init("amtprovd", debug ? AMTP_LOG_DEBUG :
	    conf_log_level(conf), AMTP_LOG_TO_STDERR | AMTP_LOG_WITH_TIME);
	status = run_roles(conf, set, debug);
 out:
	amtp_conf_free(conf);
	return status;
}
