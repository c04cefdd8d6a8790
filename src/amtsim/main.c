/*
 * amtprov - main.c: amtsim, the AMT firmware simulator.
 *
 *   amtsim --state DIR [fleet options]   create (first time) or restart a
 *                                        fleet and serve it until SIGTERM
 *   amtsim --state DIR --show N [--json] print one device's state
 *   amtsim hostcmd URI COMMAND [ARG]     send one host command with the real
 *                                        transport (src/lib/mei.c) and print
 *                                        the decoded answer
 *
 * docs/amtsim.md describes every option and the files in DIR.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <jansson.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/mei.h"
#include "amtprov/str.h"
#include "device.h"
#include "fleet.h"
#include "host.h"
#include "loop.h"
#include "net/net.h"

#define ERR_LEN		1024

static void
usage(void)
{
	fprintf(stderr,
	    "usage: amtsim --state DIR [--devices N] [--address A]\n"
	    "              [--amt-versions V1,V2,...] [--dns-suffix S]\n"
	    "              [--pki-dns-suffix S] [--trust-root FILE]...\n"
	    "              [--mebx-password P] [--wireless-every N]\n"
	    "              [--untrusted I1,I2,...] [--otp-mismatch I1,I2,...]\n"
	    "              [--fleet FILE.json]\n"
	    "              [--create-only] [--no-fsync]\n"
	    "              [--provisioning-period SECONDS] [--quiet] [-v]\n"
	    "              [--no-network] [--faults SPEC] [--keypool N]\n"
	    "              [--preauth-timeout MS]\n"
	    "       amtsim --state DIR --show N [--json] [--secrets]\n"
	    "       amtsim hostcmd URI COMMAND [ARG] [--json] "
	    "[--timeout MS] [--otp-nul]\n"
	    "       (amtsim hostcmd --help lists the commands)\n"
	    "       amtsim --version\n");
}

/* ---- hostcmd ---- */

struct hostcmd {
	const char	*name;
	uint32_t	 code;
	int		 arg;	/* 0 none, 1 u32 (optional), 2 string */
};

static const struct hostcmd hostcmds[] = {
	{ "get-provisioning-state", AMTP_AMTHI_GET_PROVISIONING_STATE, 0 },
	{ "get-provisioning-mode", AMTP_AMTHI_GET_PROVISIONING_MODE, 0 },
	{ "get-control-mode", AMTP_AMTHI_GET_CONTROL_MODE, 0 },
	{ "get-uuid", AMTP_AMTHI_GET_UUID, 0 },
	{ "get-code-versions", AMTP_AMTHI_GET_CODE_VERSIONS, 0 },
	{ "get-pki-fqdn-suffix", AMTP_AMTHI_GET_PKI_FQDN_SUFFIX, 0 },
	{ "set-dns-suffix", AMTP_AMTHI_SET_DNS_SUFFIX, 2 },
	{ "enumerate-hash-handles", AMTP_AMTHI_ENUMERATE_HASH_HANDLES, 0 },
	{ "get-certificate-hash-entry", AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY,
	    1 },
	{ "set-otp", AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP, 2 },
	{ "start-configuration", AMTP_AMTHI_START_CONFIGURATION, 0 },
	{ "start-configuration-ex", AMTP_AMTHI_START_CONFIGURATION_EX, 1 },
	{ "stop-configuration", AMTP_AMTHI_STOP_CONFIGURATION, 0 },
	{ "unprovision", AMTP_AMTHI_UNPROVISION, 1 },
	{ "get-local-system-account", AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT, 0 },
	{ "get-lan-interface-settings", AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS,
	    1 },
	{ "get-security-parameters", AMTP_AMTHI_GET_SECURITY_PARAMETERS, 0 },
	{ "get-mac-addresses", AMTP_AMTHI_GET_MAC_ADDRESSES, 0 },
	{ "get-provisioning-tls-mode", AMTP_AMTHI_GET_PROVISIONING_TLS_MODE,
	    0 },
	{ "get-features-state", AMTP_AMTHI_GET_FEATURES_STATE, 1 },
	{ "get-zero-touch-enabled", AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED, 0 },
	{ "raw", 0, 2 },
};

static void
hostcmd_help(void)
{
	size_t i;

	fprintf(stderr, "commands:\n");
	for (i = 0; i < sizeof(hostcmds) / sizeof(hostcmds[0]); i++)
		fprintf(stderr, "  %s%s\n", hostcmds[i].name,
		    hostcmds[i].arg == 1 ? " [N]" : hostcmds[i].arg == 2 ?
		    (hostcmds[i].code == 0 ? " HEX" : " TEXT") : "");
	fprintf(stderr, "exit status: 0 SUCCESS, 2 another AMT status, "
	    "1 transport or protocol error\n");
}

static json_t *
mac_json(const uint8_t m[6])
{
	char t[18];

	(void)snprintf(t, sizeof(t), "%02x:%02x:%02x:%02x:%02x:%02x", m[0],
	    m[1], m[2], m[3], m[4], m[5]);
	return json_string(t);
}

/* The decoded payload as JSON (secrets included: this is an operator
 * tool talking to a simulator, like `rpc amtinfo`). */
static void
payload_json(json_t *o, const struct amtp_amthi_resp *r)
{
	char t[256];
	json_t *a;
	size_t i;

	switch (r->command) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		json_object_set_new(o, "state", json_integer(
		    r->u.provisioning_state));
		json_object_set_new(o, "state_name", json_string(
		    r->u.provisioning_state < AMTSIM_STATE__MAX ?
		    amtsim_state_name(r->u.provisioning_state) : "?"));
		break;
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		json_object_set_new(o, "mode", json_integer(
		    r->u.provisioning_mode.mode));
		json_object_set_new(o, "legacy", json_integer(
		    r->u.provisioning_mode.legacy));
		break;
	case AMTP_AMTHI_GET_CONTROL_MODE:
		json_object_set_new(o, "control_mode",
		    json_integer(r->u.control_mode));
		break;
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
		json_object_set_new(o, "tls_mode", json_integer(r->u.tls_mode));
		break;
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		json_object_set_new(o, "enabled", json_integer(
		    r->u.zero_touch));
		break;
	case AMTP_AMTHI_GET_UUID: {
		const uint8_t *u = r->u.uuid;

		(void)snprintf(t, sizeof(t), "%02x%02x%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[3], u[2],
		    u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10],
		    u[11], u[12], u[13], u[14], u[15]);
		json_object_set_new(o, "uuid", json_string(t));
		break;
	}
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		json_object_set_new(o, "bios", json_string(
		    r->u.code_versions.bios));
		a = json_object();
		for (i = 0; i < r->u.code_versions.count; i++)
			json_object_set_new(a, r->u.code_versions.v[i].desc,
			    json_string(r->u.code_versions.v[i].ver));
		json_object_set_new(o, "versions", a);
		break;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		json_object_set_new(o, "suffix", json_string(
		    r->u.dns_suffix.s));
		break;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		a = json_array();
		for (i = 0; i < r->u.hash_handles.count; i++)
			json_array_append_new(a, json_integer(
			    r->u.hash_handles.handles[i]));
		json_object_set_new(o, "handles", a);
		break;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY: {
		size_t hl = amtp_amthi_hash_len(r->u.hash_entry.algorithm);

		if (hl == 0)
			hl = AMTP_AMTHI_HASH_LEN_MAX;
		(void)amtp_hex_encode(t, sizeof(t), r->u.hash_entry.hash, hl,
		    0);
		json_object_set_new(o, "is_default", json_boolean(
		    r->u.hash_entry.is_default));
		json_object_set_new(o, "is_active", json_boolean(
		    r->u.hash_entry.is_active));
		json_object_set_new(o, "algorithm", json_integer(
		    r->u.hash_entry.algorithm));
		json_object_set_new(o, "algorithm_name", json_string(
		    amtsim_hash_algo_name(r->u.hash_entry.algorithm)));
		json_object_set_new(o, "hash", json_string(t));
		json_object_set_new(o, "name", json_string(
		    r->u.hash_entry.name));
		break;
	}
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		amtsim_ipv4_format(r->u.lan.ipv4, t, sizeof(t));
		json_object_set_new(o, "enabled", json_boolean(
		    r->u.lan.enabled));
		json_object_set_new(o, "ipv4", json_string(t));
		json_object_set_new(o, "dhcp_enabled", json_boolean(
		    r->u.lan.dhcp_enabled));
		json_object_set_new(o, "dhcp_ip_mode", json_integer(
		    r->u.lan.dhcp_ip_mode));
		json_object_set_new(o, "link_up", json_boolean(
		    r->u.lan.link_status));
		json_object_set_new(o, "mac", mac_json(r->u.lan.mac));
		break;
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		a = json_array();
		for (i = 0; i < AMTP_AMTHI_SECURITY_WORDS; i++)
			json_array_append_new(a, json_integer(
			    r->u.security[i]));
		json_object_set_new(o, "values", a);
		break;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		json_object_set_new(o, "dedicated", mac_json(
		    r->u.macs.dedicated));
		json_object_set_new(o, "host", mac_json(r->u.macs.host));
		break;
	case AMTP_AMTHI_GET_FEATURES_STATE:
		json_object_set_new(o, "request_id", json_integer(
		    r->u.features.request_id));
		a = json_array();
		for (i = 0; i < r->u.features.count; i++)
			json_array_append_new(a, json_integer(
			    r->u.features.values[i]));
		json_object_set_new(o, "values", a);
		break;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		json_object_set_new(o, "user", json_string(r->u.account.user));
		json_object_set_new(o, "password", json_string(
		    r->u.account.pass));
		break;
	default:
		break;
	}
}

static void
print_plain(const json_t *o)
{
	const char *key;
	json_t *v;
	char *s;

	json_object_foreach((json_t *)o, key, v) {
		if (json_is_string(v))
			printf("%s: %s\n", key, json_string_value(v));
		else {
			s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("%s: %s\n", key, s != NULL ? s : "?");
			free(s);
		}
	}
}

static int
parse_u32(const char *s, uint32_t *out)
{
	long long v;

	if (amtp_parse_int(s, 0, UINT32_MAX, &v) != 0)
		return AMTP_E_PARSE;
	*out = (uint32_t)v;
	return 0;
}

static int
hostcmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "otp-nul", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct hostcmd *hc = NULL;
	struct amtp_amthi_req req;
	struct amtp_amthi_resp resp;
	struct amtp_mei *mei = NULL;
	struct amtp_buf *in = NULL, *raw = NULL;
	const char *uri, *cmd;
	char *arg = NULL;
	char hex[2 * AMTP_MEI_SIM_MAX_MSG + 1];
	json_t *o = NULL;
	long long tmo = AMTP_MEI_TIMEOUT_MS;
	int ch, json = 0, otp_nul = 0, r, rc = 1;
	size_t i;

	amtp_amthi_req_init(&req, 0);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'n':
			otp_nul = 1;
			break;
		case 't':
			if (amtp_parse_int(optarg, 0, 600000, &tmo) != 0) {
				fprintf(stderr, "amtsim: --timeout: 0..600000 "
				    "ms\n");
				return 1;
			}
			break;
		case 'h':
			hostcmd_help();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	/* Options may also follow the command. */
	if (argc - optind < 2) {
		usage();
		return 1;
	}
	uri = argv[optind];
	cmd = argv[optind + 1];
	for (i = optind + 2; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--otp-nul") == 0)
			otp_nul = 1;
		else if (strcmp(argv[i], "--timeout") == 0) {
			if (i + 1 >= (size_t)argc || amtp_parse_int(argv[i + 1],
			    0, 600000, &tmo) != 0) {
				fprintf(stderr, "amtsim: --timeout: 0..600000 "
				    "ms\n");
				return 1;
			}
			i++;
		} else if (arg == NULL)
			arg = argv[i];
		else {
			usage();
			return 1;
		}
	}
	for (i = 0; i < sizeof(hostcmds) / sizeof(hostcmds[0]); i++)
		if (strcmp(hostcmds[i].name, cmd) == 0)
			hc = &hostcmds[i];
	if (hc == NULL) {
		fprintf(stderr, "amtsim: unknown host command \"%s\"\n", cmd);
		hostcmd_help();
		return 1;
	}
	if ((hc->arg == 2 && arg == NULL) || (hc->arg == 0 && arg != NULL)) {
		fprintf(stderr, "amtsim: %s: wrong number of arguments\n", cmd);
		return 1;
	}
	amtp_amthi_req_init(&req, hc->code);
	if (hc->arg == 1 && arg != NULL && parse_u32(arg, &req.arg) != 0) {
		fprintf(stderr, "amtsim: %s: \"%s\" is not a number\n", cmd,
		    arg);
		return 1;
	}
	if (hc->arg == 2 && hc->code != 0) {
		if (strlen(arg) > AMTP_AMTHI_FQDN_MAX) {
			fprintf(stderr, "amtsim: %s: argument too long\n", cmd);
			return 1;
		}
		req.str_len = amtp_strlcpy(req.str, arg, sizeof(req.str));
		req.str_nul = otp_nul;
		if (hc->code == AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP)
			explicit_bzero(arg, strlen(arg));  /* out of ps(1) */
	}
	if ((r = amtp_mei_open(uri, amtp_mei_guid_amthi, (int)tmo, &mei)) !=
	    0) {
		fprintf(stderr, "amtsim: %s: %s\n", uri, amtp_strerror(r));
		goto out;
	}
	if (hc->code == 0) {
		/* raw: send the hex bytes as they are, print the answer. */
		if ((raw = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL ||
		    (in = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL) {
			r = AMTP_E_NOMEM;
			goto out;
		}
		{
			uint8_t *d;
			size_t n = strlen(arg) / 2;

			if (strlen(arg) % 2 != 0 || n == 0 ||
			    n > AMTP_MEI_MSG_CAP ||
			    amtp_buf_reserve(raw, n, &d) != 0 ||
			    amtp_hex_decode(arg, strlen(arg), d, n) != 0) {
				fprintf(stderr, "amtsim: raw: want hex bytes\n");
				goto out;
			}
		}
		if ((r = amtp_mei_transact(mei, amtp_buf_ptr(raw),
		    amtp_buf_len(raw), in)) != 0) {
			fprintf(stderr, "amtsim: %s: %s\n", uri,
			    amtp_strerror(r));
			goto out;
		}
		(void)amtp_hex_encode(hex, sizeof(hex), amtp_buf_ptr(in),
		    amtp_buf_len(in) > AMTP_MEI_SIM_MAX_MSG ?
		    AMTP_MEI_SIM_MAX_MSG : amtp_buf_len(in), 0);
		if (json)
			printf("{\"response\": \"%s\"}\n", hex);
		else
			printf("%s\n", hex);
		rc = 0;
		goto out;
	}
	r = amtp_amthi_call(mei, &req, &resp);
	if (r != 0 && r != AMTP_E_AMT_STATUS) {
		fprintf(stderr, "amtsim: %s: %s: %s\n", uri,
		    amtp_amthi_cmd_name(hc->code), amtp_strerror(r));
		goto out;
	}
	if ((o = json_object()) == NULL)
		goto out;
	json_object_set_new(o, "command", json_string(
	    amtp_amthi_cmd_name(hc->code)));
	json_object_set_new(o, "status", json_integer(resp.status));
	json_object_set_new(o, "status_name", json_string(
	    amtp_amthi_status_name(resp.status)));
	if (r == 0)
		payload_json(o, &resp);
	if (json) {
		char *s = json_dumps(o, JSON_COMPACT);

		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else
		print_plain(o);
	rc = r == 0 ? 0 : 2;
 out:
	json_decref(o);
	amtp_amthi_req_wipe(&req);
	amtp_amthi_resp_wipe(&resp);
	amtp_buf_free(in);
	amtp_buf_free(raw);
	amtp_mei_close(mei);
	return rc;
}

/* ---- --show ---- */

static int
show_device(const char *dir, const char *which, int json, int secrets)
{
	struct amtsim_fleet_ctx ctx;
	struct amtsim_device *d = NULL;
	char err[ERR_LEN], addr[32];
	long long idx;
	json_t *o = NULL;
	char *s;
	int rc = 1;

	if (amtp_parse_int(which, 1, AMTP_SIM_DEVICES_MAX, &idx) != 0) {
		fprintf(stderr, "amtsim: --show: device number 1..%d\n",
		    AMTP_SIM_DEVICES_MAX);
		return 1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = dir;
	if (amtsim_device_load(&ctx, (unsigned)idx, NULL, &d, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "amtsim: %s\n", err);
		return 1;
	}
	if ((o = amtsim_device_to_json(d, secrets)) == NULL)
		goto out;
	if (json) {
		s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s != NULL ? s : "{}");
		if (s != NULL)
			explicit_bzero(s, strlen(s));
		free(s);
	} else {
		amtsim_ipv4_format(d->ipv4, addr, sizeof(addr));
		printf("device %04u\n", d->index);
		printf("  uuid %s\n", json_string_value(json_object_get(
		    json_object_get(o, "identity"), "uuid")));
		printf("  amt %s build %s sku %s\n", d->amt_version,
		    d->build_number, d->sku);
		printf("  address %s wireless %s\n", addr,
		    d->wireless ? "yes" : "no");
		printf("  state %s control mode %u otp %s\n",
		    amtsim_state_name(d->state), d->control_mode,
		    d->otp_len > 0 ? "set" : "unset");
		printf("  pki dns suffix \"%s\" dhcp suffix \"%s\"\n",
		    d->pki_dns_suffix, d->dhcp_dns_suffix);
		printf("  realm %s\n", d->realm);
		printf("  hashes %zu, flash writes %llu\n", d->nhashes,
		    (unsigned long long)d->flash_writes);
	}
	rc = 0;
 out:
	json_decref(o);
	amtsim_device_free(d);
	return rc;
}

/* ---- the simulator ---- */

static void
raise_nofile(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)need + 64)
		log_warnx("open-file limit %llu is tight for %u devices (one "
		    "socket each plus connections); raise ulimit -n",
		    (unsigned long long)rl.rlim_cur, need);
}

static int
parse_list_indexes(struct amtsim_fleet_desc *desc, const char *list,
    int otp_mismatch)
{
	char *copy, *p, *next;
	struct amtsim_override *ov;
	long long v;
	int r = 0;

	if ((copy = strdup(list)) == NULL)
		return AMTP_E_NOMEM;
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if (amtp_parse_int(p, 1, AMTP_SIM_DEVICES_MAX, &v) != 0) {
			r = AMTP_E_PARSE;
			break;
		}
		if ((ov = amtsim_fleet_desc_override(desc, (unsigned)v)) ==
		    NULL) {
			r = AMTP_E_NOMEM;
			break;
		}
		if (otp_mismatch)
			ov->otp_mismatch = 1;
		else
			ov->untrusted = 1;
	}
	free(copy);
	return r;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "devices", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "amt-versions", required_argument, NULL, 'V' },
		{ "dns-suffix", required_argument, NULL, 'd' },
		{ "pki-dns-suffix", required_argument, NULL, 'P' },
		{ "trust-root", required_argument, NULL, 'r' },
		{ "mebx-password", required_argument, NULL, 'm' },
		{ "wireless-every", required_argument, NULL, 'w' },
		{ "untrusted", required_argument, NULL, 'u' },
		{ "otp-mismatch", required_argument, NULL, 'O' },
		{ "fleet", required_argument, NULL, 'f' },
		{ "create-only", no_argument, NULL, 'c' },
		{ "no-fsync", no_argument, NULL, 'F' },
		{ "provisioning-period", required_argument, NULL, 'p' },
		{ "show", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "secrets", no_argument, NULL, 'x' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-network", no_argument, NULL, 'N' },
		{ "faults", required_argument, NULL, 'X' },
		{ "keypool", required_argument, NULL, 'K' },
		{ "preauth-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	struct amtsim_fleet_desc desc, fdesc;
	struct amtsim_fleet_ctx ctx;
	struct amtsim_fleet *fleet = NULL;
	struct amtsim_loop *loop = NULL;
	struct amtsim_net *net = NULL;
	struct amtsim_net_opts nopts;
	int no_network = 0;
	struct amtsim_device *d;
	const char *dir = NULL, *show = NULL, *fleet_file = NULL;
	const char *root_files[AMTP_SIM_TRUST_ROOTS_MAX];
	char err[ERR_LEN], addr[32];
	size_t nroot_files = 0, i;
	long long v, period = AMTP_SIM_PROV_PERIOD_DEFAULT;
	int ch, json = 0, secrets = 0, quiet = 0, verbose = 0, create_only = 0;
	int no_fsync = 0, creating = 0, rc = 1, r;
	uint64_t t0 = now_ms();
	unsigned n;

	amtp_log_init("amtsim", AMTP_LOG_INFO, AMTP_LOG_TO_STDERR);
	/* Flash JSON holds OTPs and passwords: jansson wipes what it frees. */
	amtsim_json_wipe_on_free();
	if (argc > 1 && strcmp(argv[1], "hostcmd") == 0)
		return hostcmd_main(argc - 1, argv + 1);
	amtsim_fleet_desc_init(&desc);
	amtsim_fleet_desc_init(&fdesc);
	memset(&nopts, 0, sizeof(nopts));
	nopts.keypool = AMTP_SIM_NET_KEYPOOL_DEFAULT;
	err[0] = '\0';
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'R':
			printf("amtsim %s\n", AMTP_VERSION);
			rc = 0;
			goto out;
		case 's':
			dir = optarg;
			break;
		case 'n':
			if (amtp_parse_int(optarg, 1, AMTP_SIM_DEVICES_MAX,
			    &v) != 0) {
				fprintf(stderr, "amtsim: --devices: 1..%d\n",
				    AMTP_SIM_DEVICES_MAX);
				goto out;
			}
			desc.count = (unsigned)v;
			creating = 1;
			break;
		case 'a':
			if (amtsim_ipv4_parse(optarg, &desc.first_address) !=
			    0) {
				fprintf(stderr, "amtsim: --address: want a "
				    "dotted IPv4 address\n");
				goto out;
			}
			creating = 1;
			break;
		case 'V':
			if (amtsim_fleet_desc_versions(&desc, optarg, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "amtsim: --amt-versions: %s\n",
				    err);
				goto out;
			}
			creating = 1;
			break;
		case 'd':
			free(desc.dns_suffix);
			desc.dns_suffix = xstrdup(optarg);
			creating = 1;
			break;
		case 'P':
			free(desc.pki_dns_suffix);
			desc.pki_dns_suffix = xstrdup(optarg);
			creating = 1;
			break;
		case 'r':
			if (nroot_files == AMTP_SIM_TRUST_ROOTS_MAX) {
				fprintf(stderr, "amtsim: too many "
				    "--trust-root\n");
				goto out;
			}
			root_files[nroot_files++] = optarg;
			creating = 1;
			break;
		case 'm':
			if (strlen(optarg) > AMTP_AMT_PASSWORD_MAX) {
				fprintf(stderr, "amtsim: --mebx-password: at "
				    "most %d characters\n",
				    AMTP_AMT_PASSWORD_MAX);
				goto out;
			}
			free(desc.mebx_password);
			desc.mebx_password = xstrdup(optarg);
			/* Out of ps(1) output from now on. */
			explicit_bzero(optarg, strlen(optarg));
			creating = 1;
			break;
		case 'w':
			if (amtp_parse_int(optarg, 0, AMTP_SIM_DEVICES_MAX,
			    &v) != 0) {
				fprintf(stderr, "amtsim: --wireless-every: "
				    "0..%d\n", AMTP_SIM_DEVICES_MAX);
				goto out;
			}
			desc.wireless_every = (unsigned)v;
			creating = 1;
			break;
		case 'u':
			if (parse_list_indexes(&desc, optarg, 0) != 0) {
				fprintf(stderr, "amtsim: --untrusted: want "
				    "device numbers, comma-separated\n");
				goto out;
			}
			creating = 1;
			break;
		case 'O':
			if (parse_list_indexes(&desc, optarg, 1) != 0) {
				fprintf(stderr, "amtsim: --otp-mismatch: want "
				    "device numbers, comma-separated\n");
				goto out;
			}
			creating = 1;
			break;
		case 'f':
			fleet_file = optarg;
			creating = 1;
			break;
		case 'c':
			create_only = 1;
			break;
		case 'F':
			no_fsync = 1;
			break;
		case 'p':
			if (amtp_parse_int(optarg, 1, UINT32_MAX, &period) !=
			    0) {
				fprintf(stderr, "amtsim: --provisioning-period:"
				    " 1..%u seconds\n", UINT32_MAX);
				goto out;
			}
			break;
		case 'S':
			show = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'x':
			secrets = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'N':
			no_network = 1;
			break;
		case 'X':
			if (amtsim_net_faults_parse(optarg, &nopts.faults, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "amtsim: --faults: %s\n", err);
				goto out;
			}
			break;
		case 'T':
			if (amtp_parse_int(optarg, 100, 3600000, &v) != 0) {
				fprintf(stderr, "amtsim: --preauth-timeout: "
				    "100..3600000 ms\n");
				goto out;
			}
			nopts.preauth_ms = (uint32_t)v;
			break;
		case 'K':
			if (amtp_parse_int(optarg, 0, AMTP_SIM_NET_KEYPOOL_MAX,
			    &v) != 0) {
				fprintf(stderr, "amtsim: --keypool: 0..%d\n",
				    AMTP_SIM_NET_KEYPOOL_MAX);
				goto out;
			}
			nopts.keypool = (unsigned)v;
			break;
		case 'h':
			usage();
			rc = 0;
			goto out;
		default:
			usage();
			goto out;
		}
	}
	if (dir == NULL || optind != argc) {
		usage();
		goto out;
	}
	if (verbose)
		amtp_log_init("amtsim", AMTP_LOG_DEBUG, AMTP_LOG_TO_STDERR);
	if (show != NULL) {
		rc = show_device(dir, show, json, secrets);
		goto out;
	}

	if (amtsim_fleet_exists(dir)) {
		if (creating)
			log_warnx("%s: fleet exists; creation options ignored "
			    "(remove the folder to make a new fleet)", dir);
	} else {
		/* A description file first, flags on top of it. */
		if (fleet_file != NULL) {
			if (amtsim_fleet_desc_load(fleet_file, &fdesc, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "amtsim: %s\n", err);
				goto out;
			}
			if (desc.count == 0)
				desc.count = fdesc.count;
			if (desc.first_address == 0x7f140001u)
				desc.first_address = fdesc.first_address;
			if (desc.nversions == 0) {
				memcpy(desc.versions, fdesc.versions,
				    sizeof(desc.versions));
				desc.nversions = fdesc.nversions;
				fdesc.nversions = 0;
			}
			if (desc.dns_suffix == NULL) {
				desc.dns_suffix = fdesc.dns_suffix;
				fdesc.dns_suffix = NULL;
			}
			if (desc.pki_dns_suffix == NULL) {
				desc.pki_dns_suffix = fdesc.pki_dns_suffix;
				fdesc.pki_dns_suffix = NULL;
			}
			if (desc.mebx_password == NULL) {
				desc.mebx_password = fdesc.mebx_password;
				fdesc.mebx_password = NULL;
			}
			if (desc.wireless_every == 0)
				desc.wireless_every = fdesc.wireless_every;
			for (i = 0; i < fdesc.nroots; i++)
				desc.roots[desc.nroots++] = fdesc.roots[i];
			for (i = 0; i < fdesc.noverrides; i++) {
				struct amtsim_override *a = &fdesc.overrides[i];
				struct amtsim_override *b =
				    amtsim_fleet_desc_override(&desc,
				    a->index);

				if (b == NULL)
					fatalx("out of memory");
				if (b->untrusted < 0)
					b->untrusted = a->untrusted;
				if (b->otp_mismatch < 0)
					b->otp_mismatch = a->otp_mismatch;
				b->wireless = a->wireless;
				b->amt_version = a->amt_version;
				b->mebx_password = a->mebx_password;
				b->dns_suffix = a->dns_suffix;
				b->pki_dns_suffix = a->pki_dns_suffix;
				a->amt_version = a->mebx_password = NULL;
				a->dns_suffix = a->pki_dns_suffix = NULL;
			}
		}
		for (i = 0; i < nroot_files; i++)
			if (amtsim_fleet_desc_roots(&desc, root_files[i], err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "amtsim: --trust-root: %s\n",
				    err);
				goto out;
			}
		if (desc.count == 0) {
			fprintf(stderr, "amtsim: %s holds no fleet: give "
			    "--devices N (or --fleet FILE) to create one\n",
			    dir);
			goto out;
		}
		if ((r = amtsim_fleet_create(dir, &desc, no_fsync, err,
		    sizeof(err))) != 0) {
			fprintf(stderr, "amtsim: %s\n", err);
			goto out;
		}
		log_info("%s: created %u devices", dir, desc.count);
	}
	if (create_only) {
		rc = 0;
		goto out;
	}

	if ((r = amtsim_loop_new(&loop)) != 0)
		fatal_r(r, "event loop");
	memset(&ctx, 0, sizeof(ctx));
	ctx.no_fsync = no_fsync;
	ctx.prov_period = (uint32_t)period;
	ctx.loop = loop;
	if (!no_network && (r = amtsim_net_init()) != 0)
		fatal_r(r, "network side");
	if ((r = amtsim_fleet_open(dir, &ctx, &fleet, err, sizeof(err))) !=
	    0) {
		fprintf(stderr, "amtsim: %s\n", err);
		goto out;
	}
	raise_nofile(fleet->count);
	if ((r = amtsim_fleet_listen(fleet, err, sizeof(err))) != 0) {
		fprintf(stderr, "amtsim: %s\n", err);
		goto out;
	}
	nopts.state_dir = dir;
	if (!no_network && (r = amtsim_net_start(loop, fleet, &nopts, &net,
	    err, sizeof(err))) != 0) {
		fprintf(stderr, "amtsim: %s\n", err);
		goto out;
	}
	if (!quiet) {
		for (n = 1; n <= fleet->count; n++) {
			d = amtsim_fleet_device(fleet, n);
			amtsim_ipv4_format(d->ipv4, addr, sizeof(addr));
			printf("device %04u mei unix:%s/%04u.mei address %s "
			    "amt %s state %s\n", n, dir, n, addr,
			    d->amt_version, amtsim_state_name(d->state));
		}
	}
	printf("amtsim: ready: %u devices in %s (%llu ms)\n", fleet->count,
	    dir, (unsigned long long)(now_ms() - t0));
	(void)fflush(stdout);
	if ((r = amtsim_loop_run(loop)) != 0)
		fatal_r(r, "event loop");
	log_info("%s: stopping", dir);
	rc = 0;
 out:
	amtsim_net_free(net);
	amtsim_net_faults_reset(&nopts.faults);
	amtsim_fleet_free(fleet);
	amtsim_loop_free(loop);
	amtsim_fleet_desc_reset(&desc);
	amtsim_fleet_desc_reset(&fdesc);
	return rc;
}
