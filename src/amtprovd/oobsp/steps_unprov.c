/*
 * amtprov - oobsp/steps_unprov.c: the steps of an unprovision job (role
 * oobsp, job kind unprovision, queued by POST /api/v1/devices/{id}/
 * unprovision or `amtprov device unprovision`).
 *
 * Plan (plan.c): connect with the escrowed admin password (pending first,
 * as for rotate), Unprovision(ProvisioningMode 1), a new connection that
 * must find the device PRE (AMT closes 16992/16993 in PRE: connection
 * refused is the proof; a device that still answers must report
 * ProvisioningState 0), the device's directory account disabled, the
 * device's status "not provisioned" and an audit record.  The escrowed
 * passwords are kept (an admin may need to know what the device held).
 *
 * Resume: a job cut short after the device took Unprovision finds it PRE
 * at connect (nothing listens); when an earlier attempt started the
 * unprovision step, that is taken as done, not as a device that is down.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "dir/dir.h"
#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

#define SETUP_SVC	"AMT_SetupAndConfigurationService"

/* ProvisioningState of the last reply, or -1. */
static int
reply_prov_state(const struct oobsp_job *j)
{
	const char *s;
	long long v;

	if (j->resp == NULL || j->resp->body == NULL ||
	    (s = amtp_wsman_obj_text(j->resp->body, "ProvisioningState")) ==
	    NULL || amtp_parse_int(s, 0, 2, &v) != 0)
		return -1;
	return (int)v;
}

int
oobsp_step_unprov_connect(struct oobsp_job *j)
{
	int idx, st;

	/* the unprovision step has a row in the log: tried before */
	if (j->pc == 2 && (idx = oobsp_plan_index(j->plan, "unprovision")) >=
	    0 && j->logged[idx]) {
		/* an earlier attempt sent Unprovision: a device that does
		 * not listen, or says PRE, took it */
		if (j->rstatus == AMTP_E_CLOSED) {
			j->prov_state = 0;
			oobsp_detail(j, "%s does not listen: PRE (an earlier "
			    "attempt's Unprovision)", j->dev.amt_addr);
			return OOBSP_OK;
		}
		if (j->rstatus == 0 && (st = reply_prov_state(j)) == 0) {
			j->prov_state = 0;
			oobsp_detail(j, "device PRE (an earlier attempt's "
			    "Unprovision)");
			return OOBSP_OK;
		}
	}
	return oobsp_step_connect(j);
}

int
oobsp_step_unprovision(struct oobsp_job *j)
{
	static const struct amtp_wsman_prop in[] = {
		{ NULL, "ProvisioningMode", "1", NULL, NULL, 0 },
	};
	int r;

	switch (j->pc) {
	case 0:
		if (j->prov_state == 0) {
			oobsp_detail(j, "device PRE already");
			return OOBSP_SKIPPED;
		}
		j->pc = 1;
		return oobsp_invoke(j, SETUP_SVC, "Unprovision", in, 1, NULL,
		    0);
	case 1:
		if ((r = oobsp_reply_ok(j, SETUP_SVC, "Unprovision")) != 0)
			return r;
		oobsp_disconnect(j);
		oobsp_detail(j, "Unprovision(ProvisioningMode 1): 0; device "
		    "was %s", j->prov_state == 2 ? "POST" : "IN setup");
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

int
oobsp_step_confirm_pre(struct oobsp_job *j)
{
	struct amtp_secret *pw = NULL;
	int r, st;

	switch (j->pc) {
	case 0:
		if (j->prov_state == 0) {
			oobsp_detail(j, "PRE (found at connect)");
			return OOBSP_OK;
		}
		/* the credential that opened the session, on a new one */
		r = amtp_store_cred_get(j->e->st, j->dev.id, AMTP_CRED_ADMIN,
		    AMTP_CRED_CURRENT, NULL, &pw);
		if (r == AMTP_E_NOTFOUND)
			r = amtp_secret_new("", 0, &pw);
		if (r != 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
			    "escrow: %s", amtp_strerror(r));
		r = oobsp_connect(j, "admin", pw, NULL, 0);
		amtp_secret_free(pw);
		if (r != 0)
			return r;
		j->pc = 1;
		return oobsp_get(j, SETUP_SVC, NULL, 0);
	case 1:
		if (j->rstatus == AMTP_E_CLOSED) {
			j->prov_state = 0;
			oobsp_disconnect(j);
			oobsp_detail(j, "%s:16993 does not listen: the device "
			    "is PRE", j->dev.amt_addr);
			return OOBSP_OK;
		}
		if (j->rstatus == 0 && (st = reply_prov_state(j)) == 0) {
			j->prov_state = 0;
			oobsp_disconnect(j);
			oobsp_detail(j, "ProvisioningState 0: the device is "
			    "PRE");
			return OOBSP_OK;
		}
		/* still going down (amtsim: 200 ms), or refusing us:
		 * asked again after the step backoff */
		if (j->rstatus == 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_STATE,
			    "the device still answers (ProvisioningState %d)",
			    reply_prov_state(j));
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, j->rstatus,
		    "the device still answers: %s", amtp_strerror(j->rstatus));
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

int
oobsp_step_dir_disable(struct oobsp_job *j)
{
	struct oobsp_engine *e = j->e;
	int r;

	if (e->dir == NULL) {
		oobsp_detail(j, "no directory configured for this service "
		    "point");
		return OOBSP_SKIPPED;
	}
	if (j->host[0] == '\0') {
		oobsp_detail(j, "the device has no host name: no account");
		return OOBSP_SKIPPED;
	}
	r = amtp_dir_disable_account(e->dir, e->dir_container, j->host);
	if (r == AMTP_E_NOTFOUND) {
		oobsp_detail(j, "no account %s in the directory", j->host);
		return OOBSP_SKIPPED;
	}
	if (r != 0)
		return oobsp_fail(j, r == AMTP_E_INVAL ||
		    r == AMTP_E_UNSUPPORTED ? OOBSP_FAIL_PERMANENT :
		    OOBSP_FAIL_TRANSIENT, r, "directory account %s: %s%s%s",
		    j->host, amtp_strerror(r),
		    amtp_dir_errmsg(e->dir)[0] != '\0' ? ": " : "",
		    amtp_dir_errmsg(e->dir));
	oobsp_detail(j, "directory account %s disabled (%s)", j->host,
	    amtp_dir_backend(e->dir));
	return OOBSP_OK;
}

int
oobsp_step_report_unprov(struct oobsp_job *j)
{
	static const enum amtp_cred_kind kinds[] = { AMTP_CRED_ADMIN,
	    AMTP_CRED_MEBX };
	struct amtp_store *st = j->e->st;
	char detail[AMTP_STORE_TEXT_MAX + 1], why[96];
	int r, n[2];
	size_t i;

	snprintf(why, sizeof(why), "unprovisioned by job %lld",
	    (long long)j->rec.id);
	/*
	 * The device went back to its factory defaults: no escrowed admin or
	 * MEBx version works any more.  Retired (kept, still revealable for
	 * audit), so that nobody is shown a dead password as current and a
	 * later provisioning does not try them first.  Idempotent: a resumed
	 * step retires nothing the second time.
	 */
	for (i = 0; i < 2; i++)
		if ((r = amtp_store_cred_retire(st, j->dev.id, kinds[i],
		    j->e->owner, why, &n[i])) != 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
			    "retire the escrowed %s passwords: %s",
			    amtp_store_cred_kind_name(kinds[i]),
			    amtp_store_errmsg(st));
	if ((r = amtp_store_device_set_status(st, j->dev.id,
	    AMTP_AMT_NOT_PROVISIONED, why)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "status: %s",
		    amtp_store_errmsg(st));
	snprintf(detail, sizeof(detail), "job %lld: Unprovision(1), device "
	    "PRE; escrowed admin and MEBx passwords retired (kept for audit)",
	    (long long)j->rec.id);
	if ((r = amtp_store_audit_append(st, j->e->owner,
	    "device.unprovisioned", j->dev.id, detail, NULL)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "audit: %s",
		    amtp_store_errmsg(st));
	oobsp_detail(j, "status not provisioned; escrow retired: %d admin, "
	    "%d MEBx versions", n[0], n[1]);
	return OOBSP_OK;
}
