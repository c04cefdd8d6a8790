/*
 * amtprov - state.c: the network side's part of a simulated device's flash
 * (amtsim).  One section, "net", registered with amtsim_section_register();
 * its state is a JSON object kept as it is stored:
 *
 *   "inst":    { "<Class>": [ {property: "text" | ["text", ...] |
 *                 {"uri": ..., "sel": {...}}}, ... ] }  instances of the
 *              classes the engine stores (written by Put, Create, methods)
 *   "admin":   {"user", "ha1"}          SetAdminAclEntryEx (absent: default)
 *   "users":   [{"handle","user","ha1","sid","access","realms":[..]}]
 *   "certs":   [{"handle","der","root"}] AddCertificate, AddTrustedRoot...
 *   "keys":    [{"handle","key","pub"}]  GenerateKeyPair/AddKey (PKCS#8
 *              PEM private key: flash holds secrets, as the firmware's does)
 *   "tlsctx":  {"cert": handle}         AMT_TLSCredentialContext
 *   "tls_active": {"enabled","accept_non_secure","mutual"} in force since
 *              the last CommitChanges
 *   "counters": next handles; "time_offset": seconds; "self_cert": the
 *              pre-provisioning certificate (DER, base64); "audit": setup
 *              session outcomes.
 *
 * Unprovision resets everything but "self_cert" and "audit".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amtprov/err.h"
#include "amtprov/log.h"
#include "device.h"
#include "loop.h"
#include "simnet.h"

static int section_id = -1;

static int
sec_load(struct amtsim_device *d, const json_t *obj, void **state, char *err,
    size_t errlen)
{
	json_t *root;

	(void)err;
	(void)errlen;
	if (obj != NULL) {
		if (!json_is_object(obj)) {
			(void)snprintf(err, errlen, "section net: not an "
			    "object");
			return AMTP_E_JSON;
		}
		if ((root = json_deep_copy(obj)) == NULL)
			return AMTP_E_NOMEM;
	} else {
		if ((root = json_object()) == NULL)
			return AMTP_E_NOMEM;
		if (simnet_flash_defaults(d, root) != 0) {
			json_decref(root);
			return AMTP_E_NOMEM;
		}
	}
	*state = root;
	return 0;
}

/* The live tree itself, with a reference (device.h: callers only read
 * it): a deep copy for every save cost a few per cent of the CPU of a
 * provisioning run. */
static json_t *
sec_save(const struct amtsim_device *d, const void *state)
{
	(void)d;
	return json_incref((json_t *)(uintptr_t)state);
}

static void
sec_reset(struct amtsim_device *d, void *state)
{
	json_t *root = state, *keep_cert, *keep_audit;

	keep_cert = json_incref(json_object_get(root, "self_cert"));
	keep_audit = json_incref(json_object_get(root, "audit"));
	json_object_clear(root);
	(void)simnet_flash_defaults(d, root);
	if (keep_cert != NULL)
		(void)json_object_set_new(root, "self_cert", keep_cert);
	if (keep_audit != NULL)
		(void)json_object_set_new(root, "audit", keep_audit);
	if (d->net != NULL)
		simnet_tls_free((struct simnet_dev *)d->net);
}

static void
sec_free(void *state)
{
	json_decref((json_t *)state);
}

static const struct amtsim_section_ops ops = {
	"net", sec_load, sec_save, sec_reset, sec_free
};

int
simnet_state_register(void)
{
	int r;

	if (section_id >= 0)
		return 0;
	if ((r = amtsim_section_register(&ops)) < 0)
		return r;
	section_id = r;
	return 0;
}

int
simnet_section_id(void)
{
	return section_id;
}

int
simnet_flash_defaults(struct amtsim_device *d, json_t *root)
{
	const struct simnet_class *cls;
	json_t *inst, *arr;
	size_t i;
	int bad = 0;

	if ((inst = json_object()) == NULL)
		return AMTP_E_NOMEM;
	for (i = 0; i < simnet_nclasses; i++) {
		cls = simnet_classes[i];
		if (cls->instances != NULL)
			continue;
		if ((arr = json_array()) == NULL) {
			json_decref(inst);
			return AMTP_E_NOMEM;
		}
		if (cls->defaults != NULL)
			cls->defaults(d, arr);
		bad |= json_object_set_new(inst, cls->name, arr);
	}
	bad |= json_object_set_new(root, "inst", inst);
	bad |= json_object_set_new(root, "users", json_array());
	bad |= json_object_set_new(root, "certs", json_array());
	bad |= json_object_set_new(root, "keys", json_array());
	bad |= json_object_set_new(root, "tls_active", json_pack("{sbsbsb}",
	    "enabled", 0, "accept_non_secure", 1, "mutual", 0));
	bad |= json_object_set_new(root, "counters", json_object());
	bad |= json_object_set_new(root, "time_offset", json_integer(0));
	return bad ? AMTP_E_NOMEM : 0;
}

json_t *
simnet_flash(struct amtsim_device *d)
{
	json_t *root;

	if (section_id < 0)
		return NULL;
	if (d->sections[section_id] == NULL) {
		if ((root = json_object()) == NULL)
			return NULL;
		if (simnet_flash_defaults(d, root) != 0) {
			json_decref(root);
			return NULL;
		}
		d->sections[section_id] = root;
	}
	return d->sections[section_id];
}

int
simnet_save(struct amtsim_device *d)
{
	int r;

	if ((r = amtsim_device_save(d)) != 0)
		log_warn_r(r, "dev %u: flash write", d->index);
	return r;
}

json_t *
simnet_obj(json_t *root, const char *key)
{
	json_t *o = json_object_get(root, key);

	if (json_is_object(o))
		return o;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(root, key, o) != 0)
		return NULL;
	return o;
}

json_t *
simnet_arr(json_t *root, const char *key)
{
	json_t *o = json_object_get(root, key);

	if (json_is_array(o))
		return o;
	if ((o = json_array()) == NULL ||
	    json_object_set_new(root, key, o) != 0)
		return NULL;
	return o;
}

long long
simnet_int(const json_t *o, const char *key, long long def)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	return def;
}

const char *
simnet_str(const json_t *o, const char *key, const char *def)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

/* Handles count up and are never reused while the device stays
 * provisioned (AMT's numbering: "Handle: 0", "Handle: 1", ...). */
int
simnet_next_handle(json_t *root, const char *counter)
{
	json_t *c = simnet_obj(root, "counters");
	long long n;

	if (c == NULL)
		return -1;
	n = simnet_int(c, counter, 0);
	if (n < 0 || n >= INT32_MAX)
		return -1;
	if (json_object_set_new(c, counter, json_integer(n + 1)) != 0)
		return -1;
	return (int)n;
}

/* Least time between two audit writes to one device's flash (ms). */
#define AUDIT_WRITE_MS	1000

static void
audit_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct simnet_dev *sd = arg;

	(void)loop;
	(void)t;
	sd->audit_saved = simnet_now_ms();
	(void)simnet_save(sd->d);
}

void
simnet_audit_setup(struct amtsim_device *d, int accepted, const char *reason,
    const char *detail, const char *peer)
{
	json_t *root, *audit, *last, *counts;
	struct simnet_dev *sd;
	uint64_t now;

	if ((root = simnet_flash(d)) == NULL ||
	    (audit = simnet_obj(root, "audit")) == NULL ||
	    (counts = simnet_obj(audit, "setup_sessions")) == NULL)
		return;
	(void)json_object_set_new(counts, reason, json_integer(
	    simnet_int(counts, reason, 0) + 1));
	last = json_pack("{sbsssssssI}", "accepted", accepted, "reason", reason,
	    "detail", detail != NULL ? detail : "", "peer",
	    peer != NULL ? peer : "", "time", (json_int_t)time(NULL));
	if (last != NULL)
		(void)json_object_set_new(audit, "last_setup_session", last);
	/* Refusals are written at once, at most one write a second per
	 * device (a stream of bad handshakes must not wear the flash out);
	 * acceptances and rate-limited refusals ride on the next save. */
	sd = d->net;
	now = simnet_now_ms();
	if (accepted)
		return;
	if (sd == NULL || now - sd->audit_saved >= AUDIT_WRITE_MS) {
		if (sd != NULL)
			sd->audit_saved = now;
		(void)simnet_save(d);
		return;
	}
	/* Written by the timer, once, a second after the last write. */
	if (sd->net != NULL && sd->audit_timer == NULL)
		sd->audit_timer = amtsim_timer_new(sd->net->loop, audit_cb, sd);
	if (sd->audit_timer != NULL && !amtsim_timer_armed(sd->audit_timer))
		amtsim_timer_arm(sd->audit_timer, AUDIT_WRITE_MS -
		    (now - sd->audit_saved));
}
