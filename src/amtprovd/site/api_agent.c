/*
 * amtprov - site/api_agent.c: the agent endpoints (role site), steps 1-4
 * of DESIGN.md from the site's side.
 *
 *   POST /api/v1/agents/register   (enrolment secret)
 *   GET  /api/v1/agents/policy     (agent token)
 *   POST /api/v1/agents/otp        (agent token)
 *   POST /api/v1/agents/state      (agent token)
 *
 * Every call is idempotent: registering again keeps the device (and
 * replaces the agent's token), the same OTP or state message again changes
 * nothing, and the provisioning job is queued once.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"

#include "site/api.h"
#include "site/auth.h"
#include "site/diracct.h"
#include "site/httpd.h"
#include "site/requests.h"
#include "site/site.h"
#include "site/wgroup.h"
#include "store/store.h"

/* The writes of one registration: the device, then its agent. */
struct reg_unit {
	const struct amtp_device_in *di;
	const char	*name;
	const char	*hash;
	int64_t		 dev_id;
	int64_t		 agent_row;
	int		 created;
};

static int
reg_unit(struct amtp_store *st, void *arg)
{
	struct reg_unit *u = arg;
	int r;

	if ((r = amtp_store_device_upsert(st, u->di, &u->dev_id,
	    &u->created)) != 0)
		return r;
	return amtp_store_agent_put(st, u->name, u->hash, u->dev_id,
	    &u->agent_row);
}

void
site_api_register(struct site_req *req)
{
	struct site_register_req in;
	struct amtp_device_in di;
	struct reg_unit u;
	struct site_err e;
	char rnd[SITE_TOKEN_RANDOM_SIZE];
	char token[AMTP_STORE_NAME_MAX + 1 + SITE_TOKEN_RANDOM_SIZE];
	char hash[SITE_CRED_HASH_SIZE];
	char fqdn[AMTP_DNS_NAME_MAX + 1];
	const char *dom;
	int r;
	json_t *j;

	memset(&e, 0, sizeof(e));
	if (site_parse_register(req->body, req->body_len, &in, &e) != 0) {
		site_reply_err(req, &e);
		return;
	}
	/* the FQDN: as given, else HOST.domain, else HOST.oob.dns_domain */
	fqdn[0] = '\0';
	dom = in.domain[0] != '\0' ? in.domain :
	    amtp_conf_str(req->site->conf, "oob", "dns_domain");
	if (in.fqdn[0] != '\0')
		amtp_strlcpy(fqdn, in.fqdn, sizeof(fqdn));
	else if (dom != NULL && (size_t)snprintf(fqdn, sizeof(fqdn), "%s.%s",
	    in.hostname, dom) >= sizeof(fqdn)) {
		site_reply_errf(req, 400, "invalid_field", "hostname",
		    "hostname: hostname.domain is longer than %d bytes",
		    AMTP_DNS_NAME_MAX);
		return;
	}
	if ((r = site_auth_token_random(rnd, sizeof(rnd))) != 0) {
		site_reply_store_err(req, r, "token");
		return;
	}
	if ((size_t)snprintf(token, sizeof(token), "%s.%s", in.smbios_uuid,
	    rnd) >= sizeof(token) ||
	    (r = site_auth_agent_cred_hash(token, strlen(token), hash)) != 0) {
		site_reply_store_err(req, AMTP_E_INTERNAL, "token");
		goto out;
	}
	memset(&di, 0, sizeof(di));
	di.uuid = in.smbios_uuid;
	di.hostname = in.hostname;
	di.fqdn = fqdn;
	memset(&u, 0, sizeof(u));
	u.di = &di;
	u.name = in.smbios_uuid;
	u.hash = hash;
	if ((r = site_wgroup_run(req->site->wg, reg_unit, &u)) != 0) {
		site_reply_store_err(req, r, "register");
		goto out;
	}
	log_info("dev %lld: agent %s registered from %s%s",
	    (long long)u.dev_id, in.smbios_uuid, req->peer,
	    u.created ? " (new device)" : "");
	j = json_pack("{s:s, s:I, s:s, s:b}", "agent_id", in.smbios_uuid,
	    "device_id", (json_int_t)u.dev_id, "agent_token", token,
	    "new_device", u.created);
	req->sensitive = 1;
	site_reply_json(req, u.created ? 201 : 200, j);
 out:
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(token, sizeof(token));
	explicit_bzero(hash, sizeof(hash));
}

/* The device behind the calling agent, or an answer. */
static int
agent_device(struct site_req *req, struct amtp_store *st,
    struct amtp_device_rec *d)
{
	int r;

	if (req->device_id == 0) {
		site_reply_errf(req, 409, "not_registered", NULL,
		    "this agent has no device; register again");
		return AMTP_E_STATE;
	}
	if ((r = amtp_store_device_get(st, req->device_id, d)) != 0) {
		site_reply_store_err(req, r, "device");
		return r;
	}
	return 0;
}

/*
 * "not supported" is asked again too: the agent found no MEI device or no
 * AMTHI client last time, and a driver installed or AMT enabled in MEBx
 * since would otherwise never be seen.  The agent's re-check is cheap.
 */
int
site_api_is_provisionable(enum amtp_amt_status s)
{
	return s == AMTP_AMT_UNKNOWN || s == AMTP_AMT_NOT_SUPPORTED ||
	    s == AMTP_AMT_DETECTED || s == AMTP_AMT_NOT_PROVISIONED;
}

void
site_api_policy(struct site_req *req)
{
	struct amtp_device_rec d;
	struct amtp_store *st;
	const char *why;
	int prov;
	json_t *j;

	st = site_req_store(req);
	if (agent_device(req, st, &d) != 0)
		goto out;
	prov = amtp_conf_bool(req->site->conf, "oob", "provision");
	if (!prov)
		why = "site policy: provisioning is off";
	else if (!site_api_is_provisionable(d.status)) {
		prov = 0;
		why = "device is not in a state to provision";
	} else if (d.status == AMTP_AMT_NOT_SUPPORTED)
		why = "provision AMT (check again: the device reported no "
		    "usable AMT)";
	else
		why = "provision AMT";
	j = json_pack("{s:b, s:s, s:I, s:s, s:s?}", "provision", prov,
	    "reason", why, "device_id", (json_int_t)d.id, "status",
	    amtp_store_status_name(d.status), "dns_domain",
	    amtp_conf_str(req->site->conf, "oob", "dns_domain"));
	site_reply_json(req, 200, j);
 out:
	site_req_store_put(req, st);
}

/* The device's open (queued or running) provisioning job, or 0. */
static int
open_provision_job(struct amtp_store *st, int64_t dev, int64_t *job)
{
	struct amtp_job_filter jf;
	struct amtp_job_rec *jobs = NULL;
	size_t n = 0;
	int r, state;

	*job = 0;
	for (state = AMTP_JOB_QUEUED; state <= AMTP_JOB_RUNNING; state++) {
		memset(&jf, 0, sizeof(jf));
		jf.device_id = dev;
		jf.kind = AMTP_JOB_PROVISION;
		jf.state = state;
		jf.limit = 1;
		if ((r = amtp_store_job_list(st, &jf, &jobs, &n, NULL)) != 0)
			return r;
		if (n > 0)
			*job = jobs[0].id;
		free(jobs);
		jobs = NULL;
		if (*job != 0)
			break;
	}
	return 0;
}

struct enqueue_unit {
	int64_t	device_id;
	int64_t	job_id;
	int	created;
};

static int
enqueue_unit(struct amtp_store *st, void *arg)
{
	struct enqueue_unit *u = arg;

	return amtp_store_job_enqueue(st, u->device_id, AMTP_JOB_PROVISION,
	    &u->job_id, &u->created);
}

struct diracct_unit {
	struct site	*s;
	const struct amtp_device_rec *d;
	char		*why;
	size_t		 whylen;
};

static int
diracct_unit(struct amtp_store *st, void *arg)
{
	struct diracct_unit *u = arg;

	return site_diracct_ensure(u->s, st, u->d, u->why, u->whylen);
}

/* The built-in directory: account (with its escrowed password) and job in
 * one unit of the group commit: durable together, or not at all. */
struct queue_unit {
	struct diracct_unit	*du;
	struct enqueue_unit	*eu;
	int			 dir_failed;
};

static int
queue_unit(struct amtp_store *st, void *arg)
{
	struct queue_unit *u = arg;
	int r;

	if ((r = diracct_unit(st, u->du)) != 0) {
		u->dir_failed = 1;
		return r;
	}
	return enqueue_unit(st, u->eu);
}

int
site_api_maybe_queue(struct site_req *req, struct amtp_store *st,
    int64_t device_id, int64_t *job_id)
{
	struct amtp_device_rec d;
	struct amtp_device_facts *f = NULL;
	struct enqueue_unit eu;
	struct diracct_unit du;
	struct queue_unit qu;
	const char *dirtype;
	char why[AMTP_STORE_TEXT_MAX];
	int created = 0, r;

	*job_id = 0;
	memset(&eu, 0, sizeof(eu));
	if ((r = amtp_store_device_get(st, device_id, &d)) != 0)
		goto out;
	if (d.status != AMTP_AMT_NOT_PROVISIONED || !d.has_otp) {
		r = 0;
		goto out;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_store_device_get_facts(st, device_id, f)) != 0) {
		if (r == AMTP_E_NOTFOUND)
			r = 0;	/* the state message has not come yet */
		goto out;
	}
	if ((r = open_provision_job(st, device_id, job_id)) != 0 ||
	    *job_id != 0)
		goto out;	/* queued already: nothing to redo */
	/* step 4: the directory account, then the job.  The built-in
	 * directory is the site database: escrow, account, promotion and job
	 * go in one unit of the group commit (durable together: the password
	 * leaves the database only after).  LDAP waits for the network: its
	 * escrow commits on its own first, outside the group. */
	du.s = req->site;
	du.d = &d;
	du.why = why;
	du.whylen = sizeof(why);
	eu.device_id = device_id;
	memset(&qu, 0, sizeof(qu));
	dirtype = amtp_conf_str(req->site->conf, "directory", "type");
	if (dirtype == NULL || strcmp(dirtype, "builtin") == 0) {
		qu.du = &du;
		qu.eu = &eu;
		r = site_wgroup_run_nested(req->site->wg, queue_unit, &qu);
		if (r != 0 && !qu.dir_failed)
			goto out;	/* the job or the commit: as below */
	} else if ((r = diracct_unit(st, &du)) != 0)
		qu.dir_failed = 1;
	if (r != 0) {
		log_warnx("dev %lld: %s", (long long)device_id, why);
		if (r == AMTP_E_STATE)
			site_reply_errf(req, 409, "no_fqdn", NULL,
			    "device %lld: %s", (long long)device_id, why);
		else
			site_reply_errf(req, 503, "directory_unavailable", NULL,
			    "device %lld: directory account not created (%s); "
			    "the report is recorded, send it again later",
			    (long long)device_id, amtp_errname(r));
		goto out;
	}
	if (qu.du == NULL &&
	    (r = site_wgroup_run(req->site->wg, enqueue_unit, &eu)) != 0)
		goto out;
	*job_id = eu.job_id;
	created = eu.created;
	if (created)
		log_info("dev %lld: provisioning job %lld queued (%s)",
		    (long long)device_id, (long long)*job_id, req->actor);
	r = 0;
 out:
	free(f);
	return r;
}

/* The writes of one OTP message: the AMT address, then the hash. */
struct otp_unit {
	const struct amtp_device_in *di;
	int64_t		 dev_id;
	const char	*otp_sha256;
};

static int
otp_unit(struct amtp_store *st, void *arg)
{
	struct otp_unit *u = arg;
	int64_t id;
	int r;

	if ((r = amtp_store_device_upsert(st, u->di, &id, NULL)) != 0)
		return r;
	return amtp_store_device_set_otp_hash(st, u->dev_id, u->otp_sha256);
}

void
site_api_otp(struct site_req *req)
{
	struct site_otp_req in;
	struct amtp_device_rec d;
	struct amtp_device_in di;
	struct amtp_store *st = NULL;
	struct otp_unit u;
	struct site_err e;
	int64_t job = 0;
	int r;

	memset(&e, 0, sizeof(e));
	if (site_parse_otp(req->body, req->body_len, &in, &e) != 0) {
		site_reply_err(req, &e);
		return;
	}
	st = site_req_store(req);
	if (agent_device(req, st, &d) != 0)
		goto out;
	memset(&di, 0, sizeof(di));
	di.uuid = d.uuid;
	di.amt_addr = in.amt_address;
	u.di = &di;
	u.dev_id = d.id;
	u.otp_sha256 = in.otp_sha256;
	if ((r = site_wgroup_run(req->site->wg, otp_unit, &u)) != 0) {
		site_reply_store_err(req, r, "otp hash");
		goto out;
	}
	if ((r = site_api_maybe_queue(req, st, d.id, &job)) != 0) {
		if (req->json == NULL)
			site_reply_store_err(req, r, "queue job");
		goto out;
	}
	if ((r = amtp_store_device_get(st, d.id, &d)) != 0) {
		site_reply_store_err(req, r, "device");
		goto out;
	}
	site_reply_json(req, 200, json_pack("{s:I, s:s, s:b, s:o}",
	    "device_id", (json_int_t)d.id, "status",
	    amtp_store_status_name(d.status), "otp_recorded", 1, "job_id",
	    job != 0 ? json_integer(job) : json_null()));
 out:
	site_req_store_put(req, st);
	explicit_bzero(&in, sizeof(in));
}

enum amtp_amt_status
site_api_state_status(const struct site_state_req *in,
    enum amtp_amt_status cur, char *reason, size_t reasonsz, int *may_queue)
{
	reason[0] = '\0';
	*may_queue = 1;
	if (!in->amt_supported) {
		if (in->amt_detected) {
			snprintf(reason, reasonsz, "%s", in->reason[0] != '\0' ?
			    in->reason : "agent reports AMT present but not "
			    "usable");
			return AMTP_AMT_DETECTED;
		}
		snprintf(reason, reasonsz, "%s", in->reason[0] != '\0' ?
		    in->reason : "agent reports no AMT");
		return AMTP_AMT_NOT_SUPPORTED;
	}
	if (in->provisioning_state != SITE_PROV_POST) {
		/* the agent's reason says why it stopped (or what it saw);
		 * IN with a reason is a device another tool is configuring:
		 * an OTP hash from an earlier attempt must not queue a job */
		snprintf(reason, reasonsz, "%s", in->reason);
		if (in->provisioning_state == SITE_PROV_IN &&
		    in->reason[0] != '\0')
			*may_queue = 0;
		return AMTP_AMT_NOT_PROVISIONED;
	}
	if (cur == AMTP_AMT_PROVISIONED)
		return cur;
	if (in->reason[0] != '\0')
		snprintf(reason, reasonsz, "%s", in->reason);
	else
		snprintf(reason, reasonsz, "AMT already provisioned (control "
		    "mode %s) by another server", in->control_mode);
	return AMTP_AMT_EXTERNALLY_PROVISIONED;
}

/* The writes of one state message: the facts (when AMT is there), then
 * the status when it changes. */
struct state_unit {
	int64_t		 dev_id;
	const struct amtp_device_facts *f;	/* NULL: keep the facts */
	int		 set_status;
	enum amtp_amt_status status;
	const char	*reason;
};

static int
state_unit(struct amtp_store *st, void *arg)
{
	struct state_unit *u = arg;
	int r;

	if (u->f != NULL &&
	    (r = amtp_store_batch_set_facts(st, u->dev_id, u->f)) != 0)
		return r;
	if (u->set_status)
		return amtp_store_device_set_status(st, u->dev_id, u->status,
		    u->reason);
	return 0;
}

/*
 * True when the site holds a current admin password for the device: AMT
 * was provisioned by amtprov.  A POST report then means "provisioned" even
 * when the site had lost track of the device (an agent that had reported
 * no MEI driver, which the policy asks to check again).
 */
static int
has_admin_escrow(struct amtp_store *st, int64_t dev)
{
	struct amtp_cred_rec *c = NULL;
	size_t i, n = 0;
	int found = 0;

	if (amtp_store_cred_list(st, dev, &c, &n) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (c[i].kind == AMTP_CRED_ADMIN &&
		    c[i].state == AMTP_CRED_CURRENT)
			found = 1;
	free(c);
	return found;
}

void
site_api_state(struct site_req *req)
{
	struct site_state_req *in = NULL;
	struct amtp_device_facts *f = NULL;
	struct amtp_device_rec d;
	struct amtp_store *st = NULL;
	struct state_unit u;
	struct site_err e;
	enum amtp_amt_status ns;
	char reason[AMTP_STORE_TEXT_MAX + 1];
	int64_t job = 0;
	size_t i;
	int r, may_queue = 1;

	memset(&e, 0, sizeof(e));
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL) {
		site_reply_errf(req, 500, "internal", NULL, "out of memory");
		goto out;
	}
	if (site_parse_state(req->body, req->body_len, in, &e) != 0) {
		site_reply_err(req, &e);
		goto out;
	}
	st = site_req_store(req);
	if (agent_device(req, st, &d) != 0)
		goto out;
	if (in->amt_supported) {
		amtp_strlcpy(f->amt_version, in->amt_version,
		    sizeof(f->amt_version));
		amtp_strlcpy(f->amt_build, in->build, sizeof(f->amt_build));
		amtp_strlcpy(f->sku, in->sku, sizeof(f->sku));
		amtp_strlcpy(f->fw_uuid, in->uuid, sizeof(f->fw_uuid));
		amtp_strlcpy(f->dns_suffix, in->dns_suffix,
		    sizeof(f->dns_suffix));
		f->wireless = in->wireless;
		f->n_root_hashes = in->n_cert_hashes;
		for (i = 0; i < in->n_cert_hashes; i++) {
			amtp_strlcpy(f->root_hashes[i].name,
			    in->cert_hashes[i].name,
			    sizeof(f->root_hashes[i].name));
			amtp_strlcpy(f->root_hashes[i].hex,
			    in->cert_hashes[i].hash,
			    sizeof(f->root_hashes[i].hex));
			f->root_hashes[i].is_default =
			    in->cert_hashes[i].is_default;
			f->root_hashes[i].is_active =
			    in->cert_hashes[i].is_active;
		}
	}
	ns = site_api_state_status(in, d.status, reason, sizeof(reason),
	    &may_queue);
	if (ns == AMTP_AMT_EXTERNALLY_PROVISIONED &&
	    (d.status == AMTP_AMT_UNKNOWN ||
	    d.status == AMTP_AMT_NOT_SUPPORTED ||
	    d.status == AMTP_AMT_DETECTED) && has_admin_escrow(st, d.id)) {
		ns = AMTP_AMT_PROVISIONED;
		reason[0] = '\0';
	}
	memset(&u, 0, sizeof(u));
	u.dev_id = d.id;
	u.f = in->amt_supported ? f : NULL;
	u.set_status = ns != d.status || strcmp(reason, d.status_reason) != 0;
	u.status = ns;
	u.reason = reason;
	if ((u.f != NULL || u.set_status) &&
	    (r = site_wgroup_run(req->site->wg, state_unit, &u)) != 0) {
		site_reply_store_err(req, r, "state report");
		goto out;
	}
	if (may_queue &&
	    (r = site_api_maybe_queue(req, st, d.id, &job)) != 0) {
		if (req->json == NULL)
			site_reply_store_err(req, r, "queue job");
		goto out;
	}
	site_reply_json(req, 200, json_pack("{s:I, s:s, s:o}", "device_id",
	    (json_int_t)d.id, "status", amtp_store_status_name(ns), "job_id",
	    job != 0 ? json_integer(job) : json_null()));
 out:
	site_req_store_put(req, st);
	free(in);
	free(f);
}
