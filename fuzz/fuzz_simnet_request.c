/* Fuzz target: a simulated AMT device's HTTP request path from the headers
 * to the WS-Management dispatch (src/amtsim/net/http.c and ws.c): the
 * request line and header lines are split here as MHD would hand them over
 * (bounded: AMTP_SIM_NET_HEADERS_MAX + 1 lines counted, 8 KiB per line),
 * then simnet_http_headers() decides (port, gate, bounds, Digest with the
 * real nonce manager), and the body goes through simnet_ws_handle() as if
 * authenticated, so that the dispatch is reached by every input.
 * Invariants: a decision never lets a body over its cap through; a reply
 * always parses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"
#include "amtsim/device.h"
#include "amtsim/net/simnet.h"

#define LINE_MAX_FUZZ	8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct amtsim_fleet_ctx ctx;
static struct amtsim_net net;
static char dir[64];

/* The state folder goes when the process ends. */
static void
cleanup(void)
{
	char p[128];

	(void)snprintf(p, sizeof(p), "%s/0001.json", dir);
	(void)unlink(p);
	(void)rmdir(dir);
}

static struct amtsim_device *
device(void)
{
	struct amtsim_device_spec spec;
	struct amtsim_device *d = NULL;

	if (dir[0] == '\0') {
		(void)snprintf(dir, sizeof(dir), "/tmp/fuzz-simnet-XXXXXX");
		if (mkdtemp(dir) == NULL || simnet_state_register() != 0 ||
		    amtp_digest_nonces_new(0, 0, NULL, &net.nonces) != 0)
			abort();
		(void)atexit(cleanup);
		ctx.dir = dir;
		ctx.no_fsync = 1;
		ctx.prov_period = 3600;
	}
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = "11.8.50";
	spec.ipv4 = 0x7f140001u;
	spec.dhcp_dns_suffix = "corp.example";
	spec.pki_dns_suffix = "";
	spec.mebx_password = "admin";
	if (amtsim_device_create(&spec, NULL, &d) != 0)
		abort();
	amtsim_device_set_ctx(d, &ctx);
	if (amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0) != 0)
		abort();
	return d;
}

/* A copy of [p, p+n) as a C string (NULs end it early, as in MHD). */
static char *
dup_n(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtsim_device *d;
	struct simnet_dev *sd;
	struct simnet_http_decision dec;
	struct amtp_wsman_response *resp = NULL;
	struct simnet_reply rep;
	char *method = NULL, *url = NULL, *auth = NULL, *clen = NULL, *line;
	const uint8_t *p = data, *end = data + size, *nl, *body = end;
	unsigned nh = 0;
	int first = 1, ok, r;
	size_t n;

	/* Request line and headers, up to an empty line. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_FUZZ)
			goto out;
		line = dup_n(p, n);
		p = nl != NULL ? nl + 1 : end;
		if (line[0] == '\0') {
			free(line);
			body = p;
			break;
		}
		if (first) {
			char *sp = strchr(line, ' '), *sp2;

			first = 0;
			if (sp == NULL) {
				free(line);
				goto out;
			}
			*sp++ = '\0';
			if ((sp2 = strchr(sp, ' ')) != NULL)
				*sp2 = '\0';
			method = strdup(line);
			url = strdup(sp);
		} else {
			char *c = strchr(line, ':'), *v;

			nh++;
			if (c != NULL) {
				*c = '\0';
				v = c + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				if (strcasecmp(line, "Authorization") == 0) {
					free(auth);
					auth = strdup(v);
				} else if (strcasecmp(line,
				    "Content-Length") == 0) {
					free(clen);
					clen = strdup(v);
				}
			}
		}
		free(line);
		if (nh > AMTP_SIM_NET_HEADERS_MAX + 1)
			break;
	}
	if (method == NULL || url == NULL)
		goto out;
	d = device();
	if ((sd = simnet_dev_get(&net, d)) == NULL)
		abort();
	ok = simnet_http_headers(sd, 1, 1, method, url, nh, auth, clen, &dec);
	if (ok && clen != NULL) {
		long long v;

		if (amtp_parse_int(clen, 0, INT64_MAX, &v) != 0 ||
		    (size_t)v > dec.body_max)
			abort();	/* a body over its cap got through */
	}
	if (dec.auth != AUTH_OK && dec.body_max > AMTP_SIM_NET_PREAUTH_BODY_MAX)
		abort();
	if (ok && dec.early == 0 && (size_t)(end - body) <= dec.body_max) {
		if (simnet_ws_handle(sd, body, (size_t)(end - body), &rep) !=
		    0 || rep.body == NULL)
			abort();
		r = amtp_wsman_response_parse(amtp_buf_ptr(rep.body),
		    amtp_buf_len(rep.body), &resp, NULL, 0);
		if (r != 0 && r != AMTP_E_SOAP_FAULT)
			abort();
		amtp_wsman_response_free(resp);
		simnet_reply_reset(&rep);
	}
	sd->net = NULL;
	simnet_dev_free(sd);
	amtsim_device_free(d);
 out:
	free(method);
	free(url);
	free(auth);
	free(clen);
	return 0;
}
