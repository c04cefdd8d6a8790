/*
 * amtprov - run.c: the agent's flow, steps 1-3 of DESIGN.md, and its
 * status mode (program amtprov-agent).  See run.h.
 *
 * Order of step 2, and why: the OTP is set in the firmware first, then its
 * hash goes to the site, and only then is the network interface activated.
 * A run cut short before the activation leaves AMT in PRE, and the next run
 * starts step 2 again with a new OTP (the site keeps the latest hash).  A
 * run cut short after it finds AMT in IN with this agent's record, and
 * sends the facts again (step 3).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/mei.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"
#include "report.h"
#include "run.h"
#include "site.h"
#include "statedir.h"

/* What one run holds. */
struct run {
	const struct agent_opts	*o;
	struct agent_report	*rep;
	struct agent_site	*site;
	struct amtp_secret	*token;
	struct amtp_mei		*mei;
};

int
agent_read_dmi_uuid(const char *path, char *uuid)
{
	struct amtp_buf *b = NULL;
	char tmp[AGENT_UUID_LEN + 1];
	size_t len, i;
	int r, zeros = 1, ones = 1;

	uuid[0] = '\0';
	if ((r = amtp_buf_load_file(path, 128, &b)) != 0)
		return AMTP_E_NOTFOUND;
	len = amtp_buf_len(b);
	while (len > 0 && isspace(amtp_buf_ptr(b)[len - 1]))
		len--;
	if (len != AGENT_UUID_LEN) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	memcpy(tmp, amtp_buf_ptr(b), len);
	tmp[len] = '\0';
	if (!agent_is_uuid(tmp)) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	for (i = 0; i < len; i++) {
		tmp[i] = (char)tolower((unsigned char)tmp[i]);
		if (tmp[i] != '-' && tmp[i] != '0')
			zeros = 0;
		if (tmp[i] != '-' && tmp[i] != 'f')
			ones = 0;
	}
	if (zeros || ones) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	memcpy(uuid, tmp, len + 1);
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}

static int
mei_open(struct run *x)
{
	if (x->mei != NULL)
		return 0;
	amtp_strlcpy(x->rep->mei_uri, x->o->mei_uri, sizeof(x->rep->mei_uri));
	return agent_amt_open(x->o->mei_uri, x->o->mei_timeout_ms, &x->mei,
	    &x->rep->err);
}

static int
valid_label(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > AGENT_LABEL_MAX || s[0] == '-' ||
	    s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* The computer's identity: SMBIOS UUID, host name, FQDN. */
static int
identity(struct run *x)
{
	struct agent_report *rep = x->rep;
	char host[AMTP_DNS_NAME_MAX + 2], *dot;
	int r, sim;

	sim = strncmp(x->o->mei_uri, AMTP_MEI_UNIX_PREFIX,
	    strlen(AMTP_MEI_UNIX_PREFIX)) == 0;

	if (x->o->smbios_uuid[0] != '\0') {
		if (!agent_is_uuid(x->o->smbios_uuid))
			return agent_err_set(&rep->err, AMTP_E_CONFIG,
			    AGENT_EXIT_USAGE, "usage", "--smbios-uuid: not a "
			    "UUID (8-4-4-4-12 hex digits)");
		amtp_strlcpy(rep->smbios_uuid, x->o->smbios_uuid,
		    sizeof(rep->smbios_uuid));
		rep->uuid_source = "flag";
	} else if (!sim && agent_read_dmi_uuid(x->o->dmi_uuid_path,
	    rep->smbios_uuid) == 0)
		rep->uuid_source = "dmi";
	else {
		/*
		 * DMI unreadable (not root), or a simulated computer (unix:),
		 * whose DMI would be the host's, the same for every simulated
		 * device: the firmware's UUID is the SMBIOS UUID on real
		 * hardware, and the simulated computer's own in amtsim.
		 */
		if (!sim)
			log_info("%s: no SMBIOS UUID there; asking AMT "
			    "(GetUUID)", x->o->dmi_uuid_path);
		if ((r = mei_open(x)) != 0 ||
		    (r = agent_amt_uuid(x->mei, rep->smbios_uuid,
		    &rep->err)) != 0) {
			agent_report_result(rep, "error", "no identity: "
			    "%s is unreadable and AMT did not give its UUID; "
			    "use --smbios-uuid", x->o->dmi_uuid_path);
			return r;
		}
		rep->uuid_source = "amt";
	}
	for (dot = rep->smbios_uuid; *dot != '\0'; dot++)
		*dot = (char)tolower((unsigned char)*dot);

	if (x->o->hostname[0] != '\0')
		amtp_strlcpy(host, x->o->hostname, sizeof(host));
	else if (gethostname(host, sizeof(host) - 1) == -1)
		return agent_err_set(&rep->err, AMTP_E_IO, AGENT_EXIT_USAGE,
		    "usage", "gethostname: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	if (x->o->fqdn[0] != '\0')
		amtp_strlcpy(rep->fqdn, x->o->fqdn, sizeof(rep->fqdn));
	else if (strchr(host, '.') != NULL)
		amtp_strlcpy(rep->fqdn, host, sizeof(rep->fqdn));
	if ((dot = strchr(host, '.')) != NULL)
		*dot = '\0';
	if (!valid_label(host))
		return agent_err_set(&rep->err, AMTP_E_CONFIG,
		    AGENT_EXIT_USAGE, "usage", "host name \"%.63s\" is not a "
		    "DNS label (letters, digits, '-'); use --hostname", host);
	amtp_strlcpy(rep->hostname, host, sizeof(rep->hostname));
	return 0;
}

static int
do_register(struct run *x)
{
	struct agent_report *rep = x->rep;
	struct amtp_secret *es = NULL;
	struct agent_register_in in;
	struct agent_answer a;
	char why[256];
	int r;

	if (x->o->enrol_secret_file[0] == '\0') {
		r = agent_err_set(&rep->err, AMTP_E_CONFIG, AGENT_EXIT_USAGE,
		    "usage", "this agent has no token yet and no enrolment "
		    "secret file to register with (--enrol-secret-file)");
		goto out;
	}
	if ((r = amtp_secret_load_file(x->o->enrol_secret_file,
	    AMTP_SITE_ENROL_SECRET_MAX, &es, why, sizeof(why))) != 0) {
		r = agent_err_set(&rep->err, r, AGENT_EXIT_USAGE, "usage",
		    "enrolment secret: %s", why);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.hostname = rep->hostname;
	in.fqdn = rep->fqdn;
	in.smbios_uuid = rep->smbios_uuid;
	if ((r = agent_site_register(x->site, es, &in, &a, &rep->err)) != 0)
		goto out;
	if (strcasecmp(a.agent_id, rep->smbios_uuid) != 0) {
		r = agent_err_set(&rep->err, AMTP_E_MISMATCH,
		    AGENT_EXIT_SITE_REFUSED, "site_bad_answer", "site: "
		    "registered as agent %s, not %s", a.agent_id,
		    rep->smbios_uuid);
		goto out;
	}
	if ((r = agent_statedir_save_token(x->o->state_dir, a.token,
	    &rep->err)) != 0)
		goto out;
	amtp_secret_free(x->token);
	x->token = NULL;
	if ((r = amtp_secret_from_cstr(a.token, &x->token)) != 0) {
		r = agent_err_set(&rep->err, r, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
		goto out;
	}
	rep->registered = 1;
	rep->device_id = a.device_id;
	agent_report_did(rep, "registered with the site as agent %s "
	    "(device %lld%s)", a.agent_id, (long long)a.device_id,
	    a.new_device ? ", new" : "");
	r = 0;
 out:
	agent_answer_wipe(&a);
	amtp_secret_free(es);
	return r;
}

/* Step 1, site side: token (stored or new) and policy. */
static int
policy(struct run *x, struct agent_answer *a)
{
	struct agent_report *rep = x->rep;
	struct agent_err e;
	int r;

	if ((r = agent_statedir_load_token(x->o->state_dir, rep->smbios_uuid,
	    &x->token, &rep->err)) != 0)
		return r;
	if (x->token == NULL && (r = do_register(x)) != 0)
		return r;
	agent_err_init(&e);
	r = agent_site_policy(x->site, x->token, a, &e);
	if ((r == AMTP_E_AUTH || r == AMTP_E_STATE) && !rep->registered) {
		/* the site forgot us, or the token was revoked: once more */
		log_info("%s; registering again", e.msg);
		if ((r = do_register(x)) != 0)
			return r;
		agent_err_init(&e);
		r = agent_site_policy(x->site, x->token, a, &e);
	}
	if (r != 0) {
		rep->err = e;
		return r;
	}
	rep->have_policy = 1;
	rep->provision = a->provision;
	rep->device_id = a->device_id;
	amtp_strlcpy(rep->policy_reason, a->reason,
	    sizeof(rep->policy_reason));
	amtp_strlcpy(rep->site_status, a->status, sizeof(rep->site_status));
	return 0;
}

/* A state message for a computer without usable AMT. */
static int
report_unsupported(struct run *x, const char *reason)
{
	struct agent_state_msg m;
	struct agent_answer a;
	struct agent_err e;
	int r;

	memset(&m, 0, sizeof(m));
	m.amt_supported = 0;
	m.reason = reason;
	agent_err_init(&e);
	if ((r = agent_site_state(x->site, x->token, &m, &a, &e)) != 0) {
		/* the MEI error stays the one reported; say this too */
		log_warnx("could not report to the site: %s", e.msg);
		agent_report_did(x->rep, "could not report \"%s\" to the "
		    "site: %s", reason, e.msg);
		return r;
	}
	amtp_strlcpy(x->rep->site_status, a.status,
	    sizeof(x->rep->site_status));
	agent_report_did(x->rep, "reported to the site: %s (site status "
	    "now \"%s\")", reason, a.status);
	return 0;
}

/* Steps 1 and 3: the facts as a state message. */
static int
send_state(struct run *x, const char *reason, struct agent_answer *a)
{
	const struct agent_amt_facts *f = &x->rep->facts;
	struct agent_state_hash *h = NULL;
	struct agent_state_msg m;
	size_t i;
	int r;

	if (f->nhashes > 0 &&
	    (h = calloc(f->nhashes, sizeof(*h))) == NULL)
		return agent_err_set(&x->rep->err, AMTP_E_NOMEM,
		    AGENT_EXIT_INTERNAL, "internal", "out of memory");
	for (i = 0; i < f->nhashes; i++) {
		amtp_strlcpy(h[i].name, f->hashes[i].name, sizeof(h[i].name));
		amtp_strlcpy(h[i].hex, f->hashes[i].hex, sizeof(h[i].hex));
		h[i].is_default = f->hashes[i].is_default;
		h[i].is_active = f->hashes[i].is_active;
	}
	memset(&m, 0, sizeof(m));
	m.amt_supported = 1;
	m.reason = reason;
	m.amt_version = f->amt_version;
	m.build = f->build;
	m.sku = f->sku;
	m.uuid = f->uuid;
	m.dns_suffix = f->dns_suffix;
	m.control_mode = agent_amt_control_name(f->control_mode);
	m.provisioning_state = agent_amt_state_name(f->state);
	m.wireless = f->wireless;
	m.hashes = h;
	m.nhashes = f->nhashes;
	r = agent_site_state(x->site, x->token, &m, a, &x->rep->err);
	free(h);
	if (r != 0)
		return r;
	amtp_strlcpy(x->rep->site_status, a->status,
	    sizeof(x->rep->site_status));
	x->rep->job_id = a->job_id;
	agent_report_did(x->rep, "sent the AMT facts to the site (AMT %s, "
	    "state %s, %zu certificate hashes); site status \"%s\"",
	    f->amt_version, agent_amt_state_name(f->state), f->nhashes,
	    a->status);
	return 0;
}

static int
sha256_hex(const struct amtp_secret *s, char *hex, size_t hexsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r;

	if (EVP_Digest(amtp_secret_reveal(s), amtp_secret_len(s), md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != 32)
		return AMTP_E_CRYPTO;
	r = amtp_hex_encode(hex, hexsz, md, mdlen, 0);
	explicit_bzero(md, sizeof(md));
	return r;
}

/* Step 2: OTP, its hash to the site, activation, record. */
static int
step2(struct run *x)
{
	struct agent_report *rep = x->rep;
	struct agent_amt_facts *f = &rep->facts;
	struct amtp_secret *otp = NULL;
	struct agent_answer a;
	struct agent_record rec;
	char hex[2 * 32 + 1];
	const char *which = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	if (f->wired_addr[0] == '\0') {
		r = agent_err_set(&rep->err, AMTP_E_STATE, AGENT_EXIT_FIRMWARE,
		    "no_wired_address", "AMT reports no wired IPv4 address "
		    "(GetLANInterfaceSettings): the service point could not "
		    "reach it; is the cable in and DHCP working?");
		goto out;
	}
	if ((r = amtp_rand_otp(&otp)) != 0) {
		r = agent_err_set(&rep->err, r, AGENT_EXIT_INTERNAL,
		    "internal", "OTP: %s", amtp_strerror(r));
		goto out;
	}
	if ((r = sha256_hex(otp, hex, sizeof(hex))) != 0) {
		r = agent_err_set(&rep->err, r, AGENT_EXIT_INTERNAL,
		    "internal", "SHA-256 of the OTP failed");
		goto out;
	}
	if ((r = agent_amt_set_otp(x->mei, otp, &rep->err)) != 0)
		goto out;
	amtp_secret_free(otp);	/* wiped: only its hash leaves the box */
	otp = NULL;
	agent_report_did(rep, "set a new one-time password in the firmware "
	    "(SetProvisioningServerOTP)");
	if ((r = agent_site_otp(x->site, x->token, hex, f->wired_addr, &a,
	    &rep->err)) != 0)
		goto out;
	rep->job_id = a.job_id;
	amtp_strlcpy(rep->site_status, a.status, sizeof(rep->site_status));
	agent_report_did(rep, "sent the OTP's SHA-256 and the wired address "
	    "%s to the site%s", f->wired_addr, f->wireless ?
	    " (the device also has wireless)" : "");
	if ((r = agent_amt_activate(x->mei, f->ver_major, &which,
	    &rep->err)) != 0)
		goto out;
	agent_report_did(rep, "activated the AMT network interface (%s)",
	    which);
	memset(&rec, 0, sizeof(rec));
	amtp_strlcpy(rec.amt_uuid, f->uuid, sizeof(rec.amt_uuid));
	amtp_strlcpy(rec.command, which, sizeof(rec.command));
	amtp_strlcpy(rec.site, x->o->site_url, sizeof(rec.site));
	rec.activated_at = (int64_t)time(NULL);
	if ((r = agent_statedir_save_record(x->o->state_dir, &rec,
	    &rep->err)) != 0)
		goto out;
	rep->have_record = 1;
	/* the state after activation is what step 3 reports */
	if ((r = agent_amt_state(x->mei, &f->state, &rep->err)) != 0)
		goto out;
	r = 0;
 out:
	explicit_bzero(hex, sizeof(hex));
	amtp_secret_free(otp);
	agent_answer_wipe(&a);
	return r;
}

/* Step 3 and the outcome sentence for a device the site's flow owns. */
static int
step3(struct run *x, const char *when)
{
	struct agent_report *rep = x->rep;
	struct agent_answer a;
	int r;

	if ((r = send_state(x, NULL, &a)) != 0)
		return r;
	if (a.job_id != 0)
		agent_report_result(rep, "job_queued", "%s; the site has "
		    "provisioning job %lld for this device (status \"%s\")",
		    when, (long long)a.job_id, a.status);
	else
		agent_report_result(rep, "reported", "%s; the site has no "
		    "job for this device yet (status \"%s\")", when, a.status);
	return 0;
}

/* Steps 1 to 3 once the policy says "provision AMT". */
static int
provision(struct run *x)
{
	struct agent_report *rep = x->rep;
	struct agent_amt_facts *f = &rep->facts;
	struct agent_record rec;
	struct agent_answer a;
	char reason[AGENT_REPORT_LINE_MAX];
	int r, found = 0;

	if ((r = mei_open(x)) != 0) {
		if (strcmp(rep->err.code, "mei_missing") == 0 ||
		    strcmp(rep->err.code, "amt_disabled") == 0) {
			(void)report_unsupported(x, rep->err.msg);
			agent_report_result(rep, "stopped", "AMT cannot be "
			    "provisioned on this computer");
		}
		return r;
	}
	if ((r = agent_amt_facts(x->mei, f, &rep->err)) != 0)
		return r;
	rep->have_facts = 1;
	if ((r = agent_statedir_load_record(x->o->state_dir, f->uuid, &rec,
	    &found, &rep->err)) != 0)
		return r;
	rep->have_record = found;

	switch (f->state) {
	case AMTP_AMT_STATE_PRE:
		if ((r = step2(x)) != 0)
			return r;
		return step3(x, "AMT is ready to be provisioned");
	case AMTP_AMT_STATE_IN:
		if (found)
			return step3(x, "AMT was already activated by this "
			    "agent; facts sent again");
		snprintf(reason, sizeof(reason), "AMT is in IN state "
		    "(provisioning started by another tool); not touched");
		break;
	default:
		if (found) {
			if ((r = send_state(x, NULL, &a)) != 0)
				return r;
			agent_report_result(rep, "provisioned", "AMT is "
			    "provisioned (control mode %s) after this agent "
			    "activated it; site status \"%s\"",
			    agent_amt_control_name(f->control_mode), a.status);
			return 0;
		}
		snprintf(reason, sizeof(reason), "AMT is already provisioned "
		    "(POST, control mode %s) with no record of this agent "
		    "activating it: provisioned by another server; not "
		    "touched", agent_amt_control_name(f->control_mode));
		break;
	}
	/* IN or POST, not ours: report, touch nothing */
	if ((r = send_state(x, reason, &a)) != 0)
		return r;
	agent_report_result(rep, f->state == AMTP_AMT_STATE_POST ?
	    "externally_provisioned" : "stopped", "stopped: %s; the site "
	    "records it as \"%s\"", reason, a.status);
	return agent_err_set(&rep->err, AMTP_E_STATE, AGENT_EXIT_NOT_PRE,
	    f->state == AMTP_AMT_STATE_POST ? "amt_post" : "amt_in",
	    "%s", reason);
}

int
agent_run(const struct agent_opts *o, struct agent_report *rep)
{
	struct agent_site_cfg cfg;
	struct agent_answer a;
	struct run x;
	int r, lockfd = -1;

	memset(&x, 0, sizeof(x));
	memset(&a, 0, sizeof(a));
	x.o = o;
	x.rep = rep;
	if (o->site_url[0] == '\0') {
		agent_err_set(&rep->err, AMTP_E_CONFIG, AGENT_EXIT_USAGE,
		    "usage", "no site URL (--site or site_url in the "
		    "configuration file)");
		goto out;
	}
	amtp_strlcpy(rep->site, o->site_url, sizeof(rep->site));
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = o->site_url;
	cfg.ca_file = o->ca_file;
	cfg.retries = o->retries;
	cfg.retry_delay_ms = o->retry_delay_ms;
	cfg.connect_timeout = o->connect_timeout;
	cfg.request_timeout = o->request_timeout;
	if ((r = agent_site_new(&cfg, &x.site, &rep->err)) != 0 ||
	    (r = agent_statedir_prepare(o->state_dir, &rep->err)) != 0 ||
	    (r = agent_statedir_lock(o->state_dir, o->lock_wait_ms, &lockfd,
	    &rep->err)) != 0 ||
	    (r = identity(&x)) != 0 ||
	    (r = policy(&x, &a)) != 0)
		goto out;
	if (!a.provision) {
		agent_report_result(rep, "nothing_to_do", "nothing to do: %s "
		    "(site status \"%s\")", a.reason, a.status);
		goto out;
	}
	(void)provision(&x);
 out:
	agent_answer_wipe(&a);
	amtp_mei_close(x.mei);
	amtp_secret_free(x.token);
	agent_site_free(x.site);
	agent_statedir_unlock(lockfd);
	if (rep->err.set && strcmp(rep->result, "error") == 0 &&
	    rep->result_text[0] == '\0')
		agent_report_result(rep, "error", "%s",
		    agent_exit_name(rep->err.exit));
	return agent_report_exit(rep);
}

int
agent_status(const struct agent_opts *o, struct agent_report *rep)
{
	struct run x;
	int r;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.rep = rep;
	if ((r = mei_open(&x)) != 0)
		goto out;
	if ((r = agent_amt_facts(x.mei, &rep->facts, &rep->err)) != 0)
		goto out;
	rep->have_facts = 1;
	agent_report_result(rep, "status", "read the AMT facts; nothing "
	    "was changed");
 out:
	amtp_mei_close(x.mei);
	if (rep->err.set && rep->result_text[0] == '\0')
		agent_report_result(rep, "error", "%s",
		    agent_exit_name(rep->err.exit));
	return agent_report_exit(rep);
}
