/*
 * amtprov - main.c: amtprov-agent, the client agent that runs on each
 * managed computer (steps 1-3 of DESIGN.md), as a systemd service or timer
 * or once by hand.  Reads the configuration file, then the flags, runs the
 * chosen mode and prints what it found and did.  docs/agent.md and
 * amtprov-agent(8) document the flags and the exit codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"

#include "agent.h"
#include "config.h"
#include "report.h"
#include "run.h"

enum {
	OPT_SITE = 256,
	OPT_CA,
	OPT_ENROL,
	OPT_MEI,
	OPT_MEI_TIMEOUT,
	OPT_STATE_DIR,
	OPT_UUID,
	OPT_HOSTNAME,
	OPT_FQDN,
	OPT_DMI,
	OPT_RETRIES,
	OPT_RETRY_DELAY,
	OPT_CONNECT_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_JSON,
	OPT_PRINT_CONFIG,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "site", required_argument, NULL, OPT_SITE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "enrol-secret-file", required_argument, NULL, OPT_ENROL },
	{ "mei", required_argument, NULL, OPT_MEI },
	{ "mei-timeout", required_argument, NULL, OPT_MEI_TIMEOUT },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "smbios-uuid", required_argument, NULL, OPT_UUID },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "fqdn", required_argument, NULL, OPT_FQDN },
	{ "dmi-uuid-file", required_argument, NULL, OPT_DMI },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: amtprov-agent [run] [options]     provision this computer's AMT\n"
"       amtprov-agent status [options]    print the local AMT facts only\n"
"\n"
"  -c, --config FILE          configuration file (" AGENT_DEFAULT_CONFIG ")\n"
"      --site URL             site server, https://HOST:PORT\n"
"      --ca FILE              the site's CA certificate (PEM), pinned\n"
"      --enrol-secret-file F  enrolment secret, used once to register\n"
"      --mei URI              /dev/mei0 (default) or unix:PATH (amtsim)\n"
"      --mei-timeout MS       firmware answer timeout; 0: blocking read\n"
"      --state-dir DIR        token and record (" AGENT_DEFAULT_STATE_DIR ")\n"
"      --smbios-uuid UUID     identity (default: DMI, else AMT's UUID)\n"
"      --hostname NAME        host name sent to the site\n"
"      --fqdn NAME            FQDN sent to the site\n"
"      --dmi-uuid-file PATH   where the SMBIOS UUID is read\n"
"      --retries N            attempts after the first while the site is down\n"
"      --retry-delay MS       first delay between attempts (doubles)\n"
"      --connect-timeout S    --request-timeout S\n"
"      --json                 one JSON object on stdout\n"
"      --print-config         print the configuration file's keys\n"
"  -v, --verbose              more log lines on stderr (twice: debug)\n"
"\n"
"exit codes: 0 done, 1 internal error or busy, 2 usage/configuration, 3 site\n"
"unreachable, 4 site refused, 5 MEI device missing or not answering,\n"
"6 AMT not in PRE (reported to the site), 7 firmware error\n");
}

static int
num(const char *flag, const char *s, long long min, long long max, int *out)
{
	long long v;

	if (amtp_parse_int(s, min, max, &v) != 0) {
		fprintf(stderr, "amtprov-agent: %s: expected a number from "
		    "%lld to %lld\n", flag, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
str(const char *flag, const char *s, char *dst, size_t dstsz)
{
	if (amtp_strlcpy(dst, s, dstsz) >= dstsz) {
		fprintf(stderr, "amtprov-agent: %s: longer than %zu bytes\n",
		    flag, dstsz - 1);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct agent_opts o;
	struct agent_report rep;
	const char *config = AGENT_DEFAULT_CONFIG, *mode = "run";
	char err[512];
	int ch, verbose = 0, config_given = 0, rc, bad = 0;

	agent_opts_init(&o);
	/* pass 1: only the configuration file, which the flags override */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:vhV", longopts, NULL)) != -1)
		if (ch == 'c') {
			config = optarg;
			config_given = 1;
		}
	opterr = 1;
	optind = 0;
	if (agent_config_load(config, config_given, &o, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "amtprov-agent: %s\n", err);
		return AGENT_EXIT_USAGE;
	}
	while ((ch = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case OPT_SITE:
			bad |= str("--site", optarg, o.site_url,
			    sizeof(o.site_url));
			break;
		case OPT_CA:
			bad |= str("--ca", optarg, o.ca_file, sizeof(o.ca_file));
			break;
		case OPT_ENROL:
			bad |= str("--enrol-secret-file", optarg,
			    o.enrol_secret_file, sizeof(o.enrol_secret_file));
			break;
		case OPT_MEI:
			bad |= str("--mei", optarg, o.mei_uri,
			    sizeof(o.mei_uri));
			break;
		case OPT_MEI_TIMEOUT:
			bad |= num("--mei-timeout", optarg, 0, 600000,
			    &o.mei_timeout_ms);
			break;
		case OPT_STATE_DIR:
			bad |= str("--state-dir", optarg, o.state_dir,
			    sizeof(o.state_dir));
			break;
		case OPT_UUID:
			bad |= str("--smbios-uuid", optarg, o.smbios_uuid,
			    sizeof(o.smbios_uuid));
			break;
		case OPT_HOSTNAME:
			bad |= str("--hostname", optarg, o.hostname,
			    sizeof(o.hostname));
			break;
		case OPT_FQDN:
			bad |= str("--fqdn", optarg, o.fqdn, sizeof(o.fqdn));
			break;
		case OPT_DMI:
			bad |= str("--dmi-uuid-file", optarg, o.dmi_uuid_path,
			    sizeof(o.dmi_uuid_path));
			break;
		case OPT_RETRIES:
			bad |= num("--retries", optarg, 0,
			    AMTP_AGENT_RETRIES_MAX, &o.retries);
			break;
		case OPT_RETRY_DELAY:
			bad |= num("--retry-delay", optarg, 1,
			    AMTP_AGENT_RETRY_DELAY_MAX_MS, &o.retry_delay_ms);
			break;
		case OPT_CONNECT_TIMEOUT:
			bad |= num("--connect-timeout", optarg, 1, 300,
			    &o.connect_timeout);
			break;
		case OPT_REQUEST_TIMEOUT:
			bad |= num("--request-timeout", optarg, 1, 600,
			    &o.request_timeout);
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_PRINT_CONFIG:
			return amtp_conf_write_defaults(stdout,
			    agent_config_schema) == 0 ? AGENT_EXIT_OK :
			    AGENT_EXIT_INTERNAL;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return AGENT_EXIT_OK;
		case 'V':
			printf("amtprov-agent %s\n", AMTP_VERSION);
			return AGENT_EXIT_OK;
		default:
			usage(stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (bad)
		return AGENT_EXIT_USAGE;
	if (optind < argc)
		mode = argv[optind++];
	if (optind < argc || (strcmp(mode, "run") != 0 &&
	    strcmp(mode, "status") != 0)) {
		fprintf(stderr, "amtprov-agent: unknown mode or extra argument "
		    "\"%s\"\n", optind < argc ? argv[optind] : mode);
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	o.verbose = verbose;
	amtp_log_init("amtprov-agent", verbose >= 2 ? AMTP_LOG_DEBUG :
	    verbose == 1 ? AMTP_LOG_INFO : AMTP_LOG_WARN, AMTP_LOG_TO_STDERR);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "amtprov-agent: libcurl initialisation "
		    "failed\n");
		return AGENT_EXIT_INTERNAL;
	}
	agent_report_init(&rep, mode);
	if (strcmp(mode, "status") == 0)
		rc = agent_status(&o, &rep);
	else
		rc = agent_run(&o, &rep);
	if (agent_report_print(stdout, &rep, o.json) != 0 ||
	    fflush(stdout) == EOF)
		rc = rc != 0 ? rc : AGENT_EXIT_INTERNAL;
	curl_global_cleanup();
	return rc;
}
