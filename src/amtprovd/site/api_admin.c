/*
 * amtprov - site/api_admin.c: the admin endpoints (role site).
 *
 *   GET  /api/v1/devices                      (readonly)
 *   GET  /api/v1/devices/{id}                 (readonly)
 *   POST /api/v1/devices/{id}/requeue         (admin)
 *   POST /api/v1/devices/{id}/cancel          (admin)
 *   POST /api/v1/devices/{id}/unprovision     (admin)
 *   POST /api/v1/devices/{id}/passwords/{kind}/reveal   (admin; audited)
 *   GET  /api/v1/jobs                         (readonly)
 *   GET  /api/v1/audit                        (readonly)
 *
 * Every admin action writes an audit record naming the admin token's name;
 * a password is shown only after its audit record is committed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "site/api.h"
#include "site/httpd.h"
#include "site/requests.h"
#include "site/site.h"
#include "store/store.h"

#define DEVICE_JOBS_SHOWN	10	/* newest jobs in GET /devices/{id} */

/* An integer query argument; an answer is set on failure. */
static int
query_int(struct site_req *req, const char *name, long long min,
    long long max, long long def, long long *out)
{
	const char *v = site_req_arg(req, name);

	*out = def;
	if (v == NULL || v[0] == '\0')
		return 0;
	if (amtp_parse_int(v, min, max, out) != 0) {
		site_reply_errf(req, 400, "invalid_parameter", name,
		    "%s: must be an integer from %lld to %lld", name, min, max);
		return AMTP_E_INVAL;
	}
	return 0;
}

/* offset and limit of a list. */
static int
query_page(struct site_req *req, size_t *offset, size_t *limit)
{
	long long o, l;

	if (query_int(req, "offset", 0, 100000000, 0, &o) != 0 ||
	    query_int(req, "limit", 1, AMTP_STORE_LIST_MAX,
	    AMTP_STORE_LIST_DEFAULT, &l) != 0)
		return AMTP_E_INVAL;
	*offset = (size_t)o;
	*limit = (size_t)l;
	return 0;
}

json_t *
site_json_device(const struct amtp_device_rec *d)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, "
	    "s:I}", "id", (json_int_t)d->id, "smbios_uuid", d->uuid,
	    "hostname", d->hostname, "fqdn", d->fqdn, "amt_address",
	    d->amt_addr, "status", amtp_store_status_name(d->status),
	    "status_reason", d->status_reason, "has_otp", d->has_otp,
	    "created", (json_int_t)d->created, "updated",
	    (json_int_t)d->updated, "last_seen", (json_int_t)d->last_seen);
}

json_t *
site_json_job(const struct amtp_job_rec *j)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:I, s:s, s:I, "
	    "s:I, s:I, s:I}", "id", (json_int_t)j->id, "device_id",
	    (json_int_t)j->device_id, "kind", amtp_store_job_kind_name(j->kind),
	    "state", amtp_store_job_state_name(j->state), "step", j->step,
	    "attempts", j->attempts, "lease_owner", j->lease_owner,
	    "lease_expires", (json_int_t)j->lease_expires, "last_error",
	    j->last_error, "not_before", (json_int_t)j->not_before, "created",
	    (json_int_t)j->created, "updated", (json_int_t)j->updated,
	    "finished", (json_int_t)j->finished);
}

static json_t *
json_step(const struct amtp_step_rec *s)
{
	return json_pack("{s:I, s:i, s:s, s:s, s:I, s:I, s:s, s:s}", "id",
	    (json_int_t)s->id, "attempt", s->attempt, "step", s->step, "owner",
	    s->owner, "started", (json_int_t)s->started, "ended",
	    (json_int_t)s->ended, "outcome",
	    amtp_store_step_outcome_name(s->outcome), "detail", s->detail);
}

static json_t *
json_facts(const struct amtp_device_facts *f)
{
	json_t *o, *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < f->n_root_hashes; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b}",
		    "name", f->root_hashes[i].name, "hash",
		    f->root_hashes[i].hex, "is_default",
		    f->root_hashes[i].is_default, "is_active",
		    f->root_hashes[i].is_active)) != 0) {
			json_decref(a);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:I}",
	    "amt_version", f->amt_version, "build", f->amt_build, "sku",
	    f->sku, "uuid", f->fw_uuid, "dns_suffix", f->dns_suffix,
	    "wireless", f->wireless, "cert_hashes", a, "reported",
	    (json_int_t)f->reported);
	return o;
}

void
site_api_devices(struct site_req *req)
{
	struct amtp_device_filter f;
	struct amtp_device_rec *devs = NULL;
	struct amtp_store *st = NULL;
	enum amtp_amt_status s;
	const char *v;
	size_t n = 0, total = 0, i;
	json_t *arr = NULL;
	int r;

	memset(&f, 0, sizeof(f));
	f.status = -1;
	if (query_page(req, &f.offset, &f.limit) != 0)
		return;
	if ((v = site_req_arg(req, "status")) != NULL) {
		if (amtp_store_status_parse(v, &s) != 0) {
			site_reply_errf(req, 400, "invalid_parameter", "status",
			    "status: one of unknown, not supported, detected, "
			    "not provisioned, provisioned, externally "
			    "provisioned");
			return;
		}
		f.status = (int)s;
	}
	if ((v = site_req_arg(req, "q")) != NULL) {
		if (strlen(v) > AMTP_STORE_TEXT_MAX) {
			site_reply_errf(req, 400, "invalid_parameter", "q",
			    "q: at most %d bytes", AMTP_STORE_TEXT_MAX);
			return;
		}
		f.text = v;
	}
	st = site_req_store(req);
	if ((r = amtp_store_device_list(st, &f, &devs, &n, &total)) != 0) {
		site_reply_store_err(req, r, "device list");
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, site_json_device(&devs[i])) != 0)
			goto out;
	site_reply_json(req, 200, json_pack("{s:I, s:I, s:I, s:o}", "total",
	    (json_int_t)total, "offset", (json_int_t)f.offset, "limit",
	    (json_int_t)f.limit, "devices", arr));
	arr = NULL;
 out:
	json_decref(arr);
	site_req_store_put(req, st);
	free(devs);
}

void
site_api_device(struct site_req *req)
{
	struct amtp_device_rec d;
	struct amtp_device_facts *f = NULL;
	struct amtp_job_filter jf;
	struct amtp_job_rec *jobs = NULL;
	struct amtp_step_rec *steps = NULL;
	struct amtp_cred_rec *creds = NULL;
	struct amtp_store *st;
	size_t nj = 0, ns = 0, nc = 0, i, k;
	json_t *o = NULL, *ja = NULL, *jo, *sa, *ca = NULL, *fo;
	int r;

	st = site_req_store(req);
	if ((r = amtp_store_device_get(st, req->id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	r = amtp_store_device_get_facts(st, d.id, f);
	if (r != 0 && r != AMTP_E_NOTFOUND) {
		site_reply_store_err(req, r, "device facts");
		goto out;
	}
	fo = r == 0 ? json_facts(f) : json_null();
	if ((o = json_pack("{s:o, s:o}", "device", site_json_device(&d),
	    "facts", fo)) == NULL)
		goto out;
	memset(&jf, 0, sizeof(jf));
	jf.device_id = d.id;
	jf.state = -1;
	jf.kind = -1;
	jf.limit = DEVICE_JOBS_SHOWN;
	if ((r = amtp_store_job_list(st, &jf, &jobs, &nj, NULL)) != 0) {
		site_reply_store_err(req, r, "job list");
		goto out;
	}
	if ((ja = json_array()) == NULL)
		goto out;
	for (i = 0; i < nj; i++) {
		if ((r = amtp_store_job_steps(st, jobs[i].id, &steps,
		    &ns)) != 0) {
			site_reply_store_err(req, r, "job steps");
			goto out;
		}
		if ((jo = site_json_job(&jobs[i])) == NULL ||
		    json_array_append_new(ja, jo) != 0 ||
		    (sa = json_array()) == NULL ||
		    json_object_set_new(jo, "steps", sa) != 0)
			goto out;
		for (k = 0; k < ns; k++)
			if (json_array_append_new(sa, json_step(&steps[k])) != 0)
				goto out;
		free(steps);
		steps = NULL;
	}
	if ((r = amtp_store_cred_list(st, d.id, &creds, &nc)) != 0) {
		site_reply_store_err(req, r, "credential list");
		goto out;
	}
	if ((ca = json_array()) == NULL)
		goto out;
	for (i = 0; i < nc; i++)
		if (json_array_append_new(ca, json_pack("{s:s, s:i, s:s, s:I, "
		    "s:I}", "kind", amtp_store_cred_kind_name(creds[i].kind),
		    "version", creds[i].version, "state",
		    amtp_store_cred_state_name(creds[i].state), "created",
		    (json_int_t)creds[i].created, "changed",
		    (json_int_t)creds[i].changed)) != 0)
			goto out;
	if (json_object_set_new(o, "jobs", ja) != 0) {
		ja = NULL;
		goto out;
	}
	ja = NULL;
	if (json_object_set_new(o, "credentials", ca) != 0) {
		ca = NULL;
		goto out;
	}
	ca = NULL;
	site_reply_json(req, 200, o);
	o = NULL;
 out:
	if (req->json == NULL && req->text == NULL)
		site_reply_errf(req, 500, "internal", NULL, "out of memory");
	json_decref(o);
	json_decref(ja);
	json_decref(ca);
	site_req_store_put(req, st);
	free(f);
	free(jobs);
	free(steps);
	free(creds);
}

/* Reads the optional {"reason": ...} body of an admin action. */
static int
action_body(struct site_req *req, struct site_action_req *a)
{
	struct site_err e;

	memset(&e, 0, sizeof(e));
	if (site_parse_action(req->body, req->body_len, a, &e) != 0) {
		site_reply_err(req, &e);
		return AMTP_E_INVAL;
	}
	return 0;
}

/* The device's newest job of kind (open or not); AMTP_E_NOTFOUND. */
static int
newest_job(struct amtp_store *st, int64_t dev, int kind, int state,
    struct amtp_job_rec *out)
{
	struct amtp_job_filter jf;
	struct amtp_job_rec *jobs = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&jf, 0, sizeof(jf));
	jf.device_id = dev;
	jf.state = state;
	jf.kind = kind;
	jf.limit = 1;
	if ((r = amtp_store_job_list(st, &jf, &jobs, &n, NULL)) != 0)
		return r;
	if (n == 0)
		r = AMTP_E_NOTFOUND;
	else
		*out = jobs[0];
	free(jobs);
	return r;
}

static int
audit(struct site_req *req, struct amtp_store *st, const char *action,
    int64_t dev, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
audit(struct site_req *req, struct amtp_store *st, const char *action,
    int64_t dev, const char *fmt, ...)
{
	char detail[AMTP_STORE_TEXT_MAX + 1];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if ((r = amtp_store_audit_append(st, req->actor, action, dev, detail,
	    NULL)) != 0)
		site_reply_store_err(req, r, "audit record");
	return r;
}

void
site_api_requeue(struct site_req *req)
{
	struct site_action_req a;
	struct amtp_device_rec d;
	struct amtp_job_rec j;
	struct amtp_store *st = NULL;
	int64_t id = 0;
	int r;

	if (action_body(req, &a) != 0)
		return;
	st = site_req_store(req);
	if ((r = amtp_store_device_get(st, req->id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	r = newest_job(st, d.id, AMTP_JOB_PROVISION, -1, &j);
	if (r != 0 && r != AMTP_E_NOTFOUND) {
		site_reply_store_err(req, r, "job list");
		goto out;
	}
	if (r == 0 && (j.state == AMTP_JOB_QUEUED ||
	    j.state == AMTP_JOB_RUNNING)) {
		site_reply_errf(req, 409, "job_open", NULL,
		    "job %lld is already %s", (long long)j.id,
		    amtp_store_job_state_name(j.state));
		goto out;
	}
	if (r == 0 && (j.state == AMTP_JOB_FAILED ||
	    j.state == AMTP_JOB_CANCELLED)) {
		if ((r = amtp_store_job_retry(st, j.id)) != 0) {
			site_reply_store_err(req, r, "job retry");
			goto out;
		}
		id = j.id;
	} else if ((r = amtp_store_job_enqueue(st, d.id, AMTP_JOB_PROVISION,
	    &id, NULL)) != 0) {
		site_reply_store_err(req, r, "job enqueue");
		goto out;
	}
	if (audit(req, st, "device.requeue", d.id, "job %lld%s%s",
	    (long long)id, a.reason[0] != '\0' ? "; reason: " : "",
	    a.reason) != 0)
		goto out;
	if ((r = amtp_store_job_get(st, id, &j)) != 0) {
		site_reply_store_err(req, r, "job");
		goto out;
	}
	log_info("dev %lld: job %lld requeued by %s", (long long)d.id,
	    (long long)id, req->actor);
	site_reply_json(req, 200, json_pack("{s:o}", "job", site_json_job(&j)));
 out:
	site_req_store_put(req, st);
}

void
site_api_cancel(struct site_req *req)
{
	struct site_action_req a;
	struct amtp_device_rec d;
	struct amtp_job_rec j;
	struct amtp_store *st = NULL;
	int r, kind, done = 0;
	json_t *arr = NULL;

	if (action_body(req, &a) != 0)
		return;
	st = site_req_store(req);
	if ((r = amtp_store_device_get(st, req->id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (kind = 0; kind < AMTP_JOB_KIND__MAX; kind++) {
		int state;

		for (state = AMTP_JOB_QUEUED; state <= AMTP_JOB_RUNNING;
		    state++) {
			r = newest_job(st, d.id, kind, state, &j);
			if (r == AMTP_E_NOTFOUND)
				continue;
			if (r == 0)
				r = amtp_store_job_cancel(st, j.id,
				    a.reason[0] != '\0' ? a.reason :
				    "cancelled by an admin");
			if (r != 0) {
				site_reply_store_err(req, r, "job cancel");
				goto out;
			}
			if (audit(req, st, "device.cancel", d.id, "job %lld%s%s",
			    (long long)j.id, a.reason[0] != '\0' ?
			    "; reason: " : "", a.reason) != 0)
				goto out;
			json_array_append_new(arr, json_integer(j.id));
			log_info("dev %lld: job %lld cancelled by %s",
			    (long long)d.id, (long long)j.id, req->actor);
			done++;
		}
	}
	if (done == 0) {
		site_reply_errf(req, 409, "no_open_job", NULL,
		    "device %lld has no queued or running job",
		    (long long)d.id);
		goto out;
	}
	site_reply_json(req, 200, json_pack("{s:o}", "cancelled_jobs", arr));
	arr = NULL;
 out:
	json_decref(arr);
	site_req_store_put(req, st);
}

/*
 * Queues a job of the given kind for the device named in the path (an
 * unprovision or a rotate request): cancels an open provisioning job first
 * (it would fight the new one), enqueues (idempotent: an open job of that
 * kind is returned as it is), audits a new job.  A rotation needs a device
 * that amtprov provisioned: its current admin password is what the service
 * point logs in with.
 */
static void
queue_device_job(struct site_req *req, enum amtp_job_kind kind,
    const char *action)
{
	struct site_action_req a;
	struct amtp_device_rec d;
	struct amtp_job_rec j;
	struct amtp_store *st = NULL;
	int64_t id = 0;
	int created = 0, r, state;

	if (action_body(req, &a) != 0)
		return;
	st = site_req_store(req);
	if ((r = amtp_store_device_get(st, req->id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	if (kind == AMTP_JOB_ROTATE && d.status != AMTP_AMT_PROVISIONED) {
		site_reply_errf(req, 409, "not_provisioned", NULL,
		    "device %lld is %s: only a device that amtprov "
		    "provisioned can have its password rotated",
		    (long long)d.id, amtp_store_status_name(d.status));
		goto out;
	}
	/* an open provisioning job would fight the new one */
	for (state = AMTP_JOB_QUEUED; state <= AMTP_JOB_RUNNING; state++) {
		r = newest_job(st, d.id, AMTP_JOB_PROVISION, state, &j);
		if (r == AMTP_E_NOTFOUND)
			continue;
		if (r == 0)
			r = amtp_store_job_cancel(st, j.id, kind ==
			    AMTP_JOB_ROTATE ? "superseded by a rotate request" :
			    "superseded by an unprovision request");
		if (r != 0 && r != AMTP_E_STATE) {
			site_reply_store_err(req, r, "job cancel");
			goto out;
		}
	}
	if ((r = amtp_store_job_enqueue(st, d.id, kind, &id, &created)) != 0) {
		site_reply_store_err(req, r, "job enqueue");
		goto out;
	}
	if (created && audit(req, st, action, d.id,
	    "job %lld%s%s", (long long)id, a.reason[0] != '\0' ?
	    "; reason: " : "", a.reason) != 0)
		goto out;
	if ((r = amtp_store_job_get(st, id, &j)) != 0) {
		site_reply_store_err(req, r, "job");
		goto out;
	}
	log_info("dev %lld: %s job %lld %s by %s", (long long)d.id,
	    amtp_store_job_kind_name(kind), (long long)id,
	    created ? "queued" : "already queued", req->actor);
	site_reply_json(req, created ? 202 : 200, json_pack("{s:o}", "job",
	    site_json_job(&j)));
 out:
	site_req_store_put(req, st);
}

void
site_api_unprovision(struct site_req *req)
{
	queue_device_job(req, AMTP_JOB_UNPROVISION, "device.unprovision");
}

void
site_api_rotate(struct site_req *req)
{
	queue_device_job(req, AMTP_JOB_ROTATE, "device.rotate");
}

void
site_api_reveal(struct site_req *req)
{
	struct site_action_req a;
	struct amtp_device_rec d;
	struct amtp_secret *sec = NULL;
	struct amtp_store *st = NULL;
	enum amtp_cred_kind kind;
	enum amtp_cred_state state = AMTP_CRED_CURRENT;
	const char *v;
	int version = 0, r;
	json_t *j = NULL;

	if (action_body(req, &a) != 0)
		return;
	if (amtp_store_cred_kind_parse(req->kind, &kind) != 0) {
		site_reply_errf(req, 404, "not_found", "kind",
		    "kind: one of admin, mebx, directory");
		return;
	}
	if ((v = site_req_arg(req, "state")) != NULL &&
	    ((r = amtp_store_cred_state_parse(v, &state)) != 0 ||
	    state == AMTP_CRED_RETIRED)) {
		site_reply_errf(req, 400, "invalid_parameter", "state",
		    "state: current or pending");
		return;
	}
	st = site_req_store(req);
	if ((r = amtp_store_device_get(st, req->id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	if ((r = amtp_store_cred_get(st, d.id, kind, state, &version,
	    &sec)) != 0) {
		if (r == AMTP_E_NOTFOUND)
			site_reply_errf(req, 404, "not_found", NULL,
			    "device %lld has no %s %s password",
			    (long long)d.id, amtp_store_cred_state_name(state),
			    req->kind);
		else
			site_reply_store_err(req, r, "credential");
		goto out;
	}
	/* the audit record first: no record, no password */
	if (audit(req, st, "device.password.reveal", d.id,
	    "kind %s version %d (%s)%s%s", req->kind, version,
	    amtp_store_cred_state_name(state), a.reason[0] != '\0' ?
	    "; reason: " : "", a.reason) != 0)
		goto out;
	log_info("dev %lld: %s password v%d revealed to %s", (long long)d.id,
	    req->kind, version, req->actor);
	j = json_pack("{s:I, s:s, s:i, s:s, s:s%}", "device_id",
	    (json_int_t)d.id, "kind", req->kind, "version", version, "state",
	    amtp_store_cred_state_name(state), "password",
	    amtp_secret_cstr(sec), amtp_secret_len(sec));
	req->sensitive = 1;
	site_reply_json(req, 200, j);
	j = NULL;
 out:
	amtp_secret_free(sec);
	site_req_store_put(req, st);
}

void
site_api_jobs(struct site_req *req)
{
	struct amtp_job_filter f;
	struct amtp_job_rec *jobs = NULL;
	struct amtp_store *st = NULL;
	enum amtp_job_state s;
	enum amtp_job_kind k;
	const char *v;
	long long dev;
	size_t n = 0, total = 0, i;
	json_t *arr = NULL;
	int r;

	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.kind = -1;
	if (query_page(req, &f.offset, &f.limit) != 0 ||
	    query_int(req, "device_id", 1, INT64_MAX, 0, &dev) != 0)
		return;
	f.device_id = dev;
	if ((v = site_req_arg(req, "state")) != NULL) {
		if (amtp_store_job_state_parse(v, &s) != 0) {
			site_reply_errf(req, 400, "invalid_parameter", "state",
			    "state: queued, running, done, failed or "
			    "cancelled");
			return;
		}
		f.state = (int)s;
	}
	if ((v = site_req_arg(req, "kind")) != NULL) {
		if (amtp_store_job_kind_parse(v, &k) != 0) {
			site_reply_errf(req, 400, "invalid_parameter", "kind",
			    "kind: provision, rotate or unprovision");
			return;
		}
		f.kind = (int)k;
	}
	st = site_req_store(req);
	if ((r = amtp_store_job_list(st, &f, &jobs, &n, &total)) != 0) {
		site_reply_store_err(req, r, "job list");
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, site_json_job(&jobs[i])) != 0)
			goto out;
	site_reply_json(req, 200, json_pack("{s:I, s:I, s:I, s:o}", "total",
	    (json_int_t)total, "offset", (json_int_t)f.offset, "limit",
	    (json_int_t)f.limit, "jobs", arr));
	arr = NULL;
 out:
	json_decref(arr);
	site_req_store_put(req, st);
	free(jobs);
}

void
site_api_audit(struct site_req *req)
{
	struct amtp_audit_filter f;
	struct amtp_audit_rec *recs = NULL;
	struct amtp_store *st = NULL;
	long long dev, since;
	const char *v;
	size_t n = 0, total = 0, i;
	json_t *arr = NULL;
	int r;

	memset(&f, 0, sizeof(f));
	if (query_page(req, &f.offset, &f.limit) != 0 ||
	    query_int(req, "device_id", 1, INT64_MAX, 0, &dev) != 0 ||
	    query_int(req, "since", 0, INT64_MAX, 0, &since) != 0)
		return;
	f.device_id = dev;
	f.since = since;
	if ((v = site_req_arg(req, "actor")) != NULL) {
		if (strlen(v) > AMTP_STORE_NAME_MAX) {
			site_reply_errf(req, 400, "invalid_parameter", "actor",
			    "actor: at most %d bytes", AMTP_STORE_NAME_MAX);
			return;
		}
		f.actor = v;
	}
	st = site_req_store(req);
	if ((r = amtp_store_audit_list(st, &f, &recs, &n, &total)) != 0) {
		site_reply_store_err(req, r, "audit list");
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:s, "
		    "s:I, s:s}", "id", (json_int_t)recs[i].id, "at",
		    (json_int_t)recs[i].at, "actor", recs[i].actor, "action",
		    recs[i].action, "device_id", (json_int_t)recs[i].device_id,
		    "detail", recs[i].detail)) != 0)
			goto out;
	site_reply_json(req, 200, json_pack("{s:I, s:I, s:I, s:o}", "total",
	    (json_int_t)total, "offset", (json_int_t)f.offset, "limit",
	    (json_int_t)f.limit, "records", arr));
	arr = NULL;
 out:
	json_decref(arr);
	site_req_store_put(req, st);
	free(recs);
}
