/*
 * amtprov - cli/main.c: amtprov, the admin command-line tool (program
 * amtprov).
 *
 *   amtprov init --dir SITE --domain DOMAIN --lab      a new site directory
 *   amtprov [--dir SITE | -c FILE | --site URL --ca FILE --token-file FILE]
 *           devices | device show ID | device password ID --reveal |
 *           jobs | audit | watch | summary |
 *           requeue ID | cancel ID | unprovision ID | rotate ID
 *
 * Everything but init goes through the site's HTTPS API with an admin
 * token.  amtprov(1) documents the commands, their options and the exit
 * statuses.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/str.h"

#include "cli.h"

#define DEFAULT_CONFIG	"/etc/amtprov/amtprov.conf"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: amtprov init --dir SITE --domain DOMAIN (--lab | --p12 FILE) [...]\n"
"       amtprov [site options] COMMAND [options]\n"
"\n"
"site options (default: $AMTPROV_CONFIG, else " DEFAULT_CONFIG "):\n"
"  --dir SITE           the site made by init (SITE/amtprov.conf)\n"
"  -c, --config FILE    a client settings file (amtprov(1))\n"
"  --site URL           the site API, https://HOST:PORT\n"
"  --ca FILE            the site CA (PEM), the only one trusted\n"
"  --token-file FILE    an admin token (mode 0600)\n"
"\n"
"commands:\n"
"  devices [--status S] [--search T] [--failed] [--limit N] [--json|--names]\n"
"  device show ID [--json]           facts, escrow, jobs with step logs\n"
"  device password ID [--kind K] [--pending] [--reveal [--reason T]] [--json]\n"
"  jobs [--state S] [--kind K] [--device ID] [--limit N] [--json]\n"
"  audit [--device ID] [--actor A] [--since T] [--limit N] [--json]\n"
"  watch [--expect N] [--while-pid PID] [--timeout S] [--json]\n"
"  summary [--json]\n"
"  requeue ID | cancel ID | unprovision ID | rotate ID  [--reason T] [--json]\n"
"\n"
"exit: 0 ok, 1 failed, 2 usage, 3 site unreachable, 4 refused, 5 not found,\n"
"      6 watch ended with failed or unfinished jobs, 7 not supported by the site\n");
}

static int
set(const char *flag, const char *v, char *dst, size_t dstsz)
{
	if (amtp_strlcpy(dst, v, dstsz) >= dstsz) {
		fprintf(stderr, "amtprov: %s: too long\n", flag);
		return -1;
	}
	return 0;
}

static int
run(struct cli_client *c, int argc, char *argv[])
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "devices") == 0)
		return cli_devices(c, argc, argv);
	if (strcmp(cmd, "jobs") == 0)
		return cli_jobs(c, argc, argv);
	if (strcmp(cmd, "audit") == 0)
		return cli_audit(c, argc, argv);
	if (strcmp(cmd, "watch") == 0)
		return cli_watch(c, argc, argv);
	if (strcmp(cmd, "summary") == 0)
		return cli_summary(c, argc, argv);
	if (strcmp(cmd, "requeue") == 0 || strcmp(cmd, "cancel") == 0 ||
	    strcmp(cmd, "unprovision") == 0 || strcmp(cmd, "rotate") == 0)
		return cli_action(c, cmd, argc, argv);
	if (strcmp(cmd, "device") == 0 && argc >= 2) {
		cmd = argv[1];
		if (strcmp(cmd, "show") == 0)
			return cli_device_show(c, argc - 1, argv + 1);
		if (strcmp(cmd, "password") == 0)
			return cli_password(c, argc - 1, argv + 1);
		if (strcmp(cmd, "requeue") == 0 || strcmp(cmd, "cancel") == 0 ||
		    strcmp(cmd, "unprovision") == 0 ||
		    strcmp(cmd, "rotate") == 0)
			return cli_action(c, cmd, argc - 1, argv + 1);
	}
	fprintf(stderr, "amtprov: unknown command \"%.40s\"\n", argv[0]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

/* Commands that need no site. */
static int
is_known(const char *cmd)
{
	static const char *const cmds[] = { "devices", "device", "jobs",
	    "audit", "watch", "summary", "requeue", "cancel", "unprovision",
	    "rotate", NULL };
	size_t i;

	for (i = 0; cmds[i] != NULL; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	enum { O_DIR = 256, O_SITE, O_CA, O_TOKEN, O_VERSION, O_HELP };
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "config", required_argument, NULL, 'c' },
		{ "site", required_argument, NULL, O_SITE },
		{ "ca", required_argument, NULL, O_CA },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_client *c = NULL;
	struct cli_cfg cfg, over;
	char conf[CLI_PATH_MAX + 32], err[1024] = "";
	const char *dir = NULL, *cpath = NULL, *env;
	int ch, r, status = CLI_EXIT_USAGE, have_over = 0;

	amtp_log_init("amtprov", AMTP_LOG_WARN, AMTP_LOG_TO_STDERR);
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cli_init_main(argc - 1, argv + 1);
	memset(&over, 0, sizeof(over));
	while ((ch = getopt_long(argc, argv, "+c:", lo, NULL)) != -1) {
		switch (ch) {
		case O_DIR: dir = optarg; break;
		case 'c': cpath = optarg; break;
		case O_SITE:
			if (set("--site", optarg, over.url,
			    sizeof(over.url)) != 0)
				return CLI_EXIT_USAGE;
			have_over = 1;
			break;
		case O_CA:
			if (set("--ca", optarg, over.ca_file,
			    sizeof(over.ca_file)) != 0)
				return CLI_EXIT_USAGE;
			have_over = 1;
			break;
		case O_TOKEN:
			if (set("--token-file", optarg, over.token_file,
			    sizeof(over.token_file)) != 0)
				return CLI_EXIT_USAGE;
			have_over = 1;
			break;
		case O_VERSION:
			printf("amtprov %s\n", AMTP_VERSION);
			return CLI_EXIT_OK;
		case O_HELP:
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[0], "init") == 0) {
		fprintf(stderr, "amtprov: init takes no site options: amtprov "
		    "init --dir SITE ...\n");
		return CLI_EXIT_USAGE;
	}
	if (!is_known(argv[0])) {
		fprintf(stderr, "amtprov: unknown command \"%.40s\"\n",
		    argv[0]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	/* a command's --help needs no site */
	for (ch = 1; ch < argc; ch++)
		if (strcmp(argv[ch], "--help") == 0)
			return run(NULL, argc, argv);
	if (dir != NULL && cpath != NULL) {
		fprintf(stderr, "amtprov: --dir and --config: give one\n");
		return CLI_EXIT_USAGE;
	}
	if (dir != NULL) {
		if (snprintf(conf, sizeof(conf), "%s/amtprov.conf", dir) >=
		    (int)sizeof(conf))
			return CLI_EXIT_USAGE;
		cpath = conf;
	} else if (cpath == NULL && (env = getenv("AMTPROV_CONFIG")) != NULL &&
	    env[0] != '\0')
		cpath = env;
	memset(&cfg, 0, sizeof(cfg));
	if (!(have_over && over.url[0] != '\0' && over.ca_file[0] != '\0' &&
	    over.token_file[0] != '\0')) {
		if (cpath == NULL)
			cpath = DEFAULT_CONFIG;
		if ((r = cli_cfg_load(cpath, &cfg, err, sizeof(err))) != 0) {
			fprintf(stderr, "amtprov: %s\n", err[0] != '\0' ? err :
			    amtp_strerror(r));
			if (r == AMTP_E_NOTFOUND)
				fprintf(stderr, "amtprov: give --dir SITE (a "
				    "site made by amtprov init), -c FILE, or "
				    "--site, --ca and --token-file\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (over.url[0] != '\0')
		memcpy(cfg.url, over.url, sizeof(cfg.url));
	if (over.ca_file[0] != '\0')
		memcpy(cfg.ca_file, over.ca_file, sizeof(cfg.ca_file));
	if (over.token_file[0] != '\0')
		memcpy(cfg.token_file, over.token_file,
		    sizeof(cfg.token_file));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "amtprov: libcurl initialisation failed\n");
		return CLI_EXIT_FAIL;
	}
	if ((r = cli_client_new(&cfg, &c, err, sizeof(err))) != 0) {
		fprintf(stderr, "amtprov: %s\n", err[0] != '\0' ? err :
		    amtp_strerror(r));
		status = CLI_EXIT_USAGE;
		goto out;
	}
	status = run(c, argc, argv);
 out:
	cli_client_free(c);
	curl_global_cleanup();
	return status;
}
