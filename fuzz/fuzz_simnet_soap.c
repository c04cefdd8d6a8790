/* Fuzz target: a simulated AMT device's WS-Management request path
 * (src/amtsim/net/ws.c): envelope parse, dispatch to the class tables,
 * Get/Put/Enumerate/Pull/Create/Delete/Invoke and the reply builder.
 * Invariants: every input gets a reply that parses back as a WS-Management
 * response or fault, with HTTP status 200, 400 or 500. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/wsman.h"
#include "amtsim/device.h"
#include "amtsim/net/simnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct amtsim_fleet_ctx ctx;
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
		if (mkdtemp(dir) == NULL || simnet_state_register() != 0)
			abort();
		(void)atexit(cleanup);
		ctx.dir = dir;
		ctx.no_fsync = 1;
		ctx.prov_period = 3600;
	}
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = "16.1.25";
	spec.ipv4 = 0x7f140001u;
	spec.wireless = 1;
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtsim_device *d = device();
	struct simnet_dev *sd = simnet_dev_get(NULL, d);
	struct amtp_wsman_response *resp = NULL;
	struct simnet_reply rep;
	int r;

	if (sd == NULL)
		abort();
	if (simnet_ws_handle(sd, data, size, &rep) != 0 || rep.body == NULL)
		abort();
	if (rep.http_status != 200 && rep.http_status != 400 &&
	    rep.http_status != 500)
		abort();
	r = amtp_wsman_response_parse(amtp_buf_ptr(rep.body),
	    amtp_buf_len(rep.body), &resp, NULL, 0);
	if (r != 0 && r != AMTP_E_SOAP_FAULT)
		abort();
	if ((r == AMTP_E_SOAP_FAULT) != (rep.http_status != 200))
		abort();
	amtp_wsman_response_free(resp);
	simnet_reply_reset(&rep);
	simnet_dev_free(sd);
	amtsim_device_free(d);
	return 0;
}
