/*
 * amtprov - oobsp/steps_session.c: the steps of the service point (role
 * oobsp) that open device sessions and handle passwords: connect (TLS with
 * the provisioning chain, the credential list, the "which password does the
 * device hold" rule), read-facts, otp-check, admin-password, mebx-password,
 * commit, verify and report.
 *
 * "No password is ever lost": every password is sealed and committed in the
 * site database as "pending" (amtp_store_cred_put_pending) before the
 * request that carries it is sent, and promoted to "current" only once the
 * device has answered.  After a crash the connect step tries the pending
 * value first, then the current one, and settles the escrow from what works
 * (docs/job-and-escrow.md, docs/service-point.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

#define SETUP_SVC	"AMT_SetupAndConfigurationService"
#define GENERAL		"AMT_GeneralSettings"
#define AUTH_SVC	"AMT_AuthorizationService"

/* ------------------------------------------------------------------ */
/* Escrow bookkeeping                                                   */
/* ------------------------------------------------------------------ */

/* Reads which versions of the admin and MEBx passwords are pending and
 * current. */
static int
escrow_load(struct oobsp_job *j)
{
	struct amtp_cred_rec *recs = NULL;
	size_t i, n = 0;
	int r;

	j->admin_pending_v = j->admin_current_v = 0;
	j->mebx_pending_v = j->mebx_current_v = 0;
	if ((r = amtp_store_cred_list(j->e->st, j->dev.id, &recs, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (recs[i].kind == AMTP_CRED_ADMIN) {
			if (recs[i].state == AMTP_CRED_PENDING)
				j->admin_pending_v = recs[i].version;
			else if (recs[i].state == AMTP_CRED_CURRENT)
				j->admin_current_v = recs[i].version;
		} else if (recs[i].kind == AMTP_CRED_MEBX) {
			if (recs[i].state == AMTP_CRED_PENDING)
				j->mebx_pending_v = recs[i].version;
			else if (recs[i].state == AMTP_CRED_CURRENT)
				j->mebx_current_v = recs[i].version;
		}
	}
	free(recs);
	return 0;
}

/* Number of candidates: 4 escrow slots and the site's list. */
static int
cand_count(const struct oobsp_job *j)
{
	return OOBSP_CAND_SETUP + (int)j->e->pol->ncreds;
}

/*
 * The idx-th credential to try: user, password (a new secret) and a name
 * for the log.  AMTP_E_NOTFOUND when that slot is empty (no such escrowed
 * version).
 */
static int
cand_get(struct oobsp_job *j, int idx, char *user, size_t usersz,
    struct amtp_secret **pw, char *name, size_t namesz)
{
	const struct oobsp_setup_cred *sc;
	enum amtp_cred_kind kind;
	int v, r;

	*pw = NULL;
	switch (idx) {
	case OOBSP_CAND_ADMIN_PENDING:
		kind = AMTP_CRED_ADMIN;
		v = j->admin_pending_v;
		snprintf(name, namesz, "escrowed admin password v%d (pending)",
		    v);
		break;
	case OOBSP_CAND_ADMIN_CURRENT:
		kind = AMTP_CRED_ADMIN;
		v = j->admin_current_v;
		snprintf(name, namesz, "escrowed admin password v%d (current)",
		    v);
		break;
	case OOBSP_CAND_MEBX_PENDING:
		/* the setup session takes the MEBx password (DESIGN.md) */
		kind = AMTP_CRED_MEBX;
		v = j->prov_state == 2 ? 0 : j->mebx_pending_v;
		snprintf(name, namesz, "escrowed MEBx password v%d (pending)",
		    v);
		break;
	case OOBSP_CAND_MEBX_CURRENT:
		kind = AMTP_CRED_MEBX;
		v = j->mebx_current_v;
		snprintf(name, namesz, "escrowed MEBx password v%d (current)",
		    v);
		break;
	default:
		if (idx - OOBSP_CAND_SETUP >= (int)j->e->pol->ncreds)
			return AMTP_E_RANGE;
		sc = &j->e->pol->creds[idx - OOBSP_CAND_SETUP];
		amtp_strlcpy(user, sc->user, usersz);
		snprintf(name, namesz, "setup credential %d of %zu (%s)",
		    idx - OOBSP_CAND_SETUP + 1, j->e->pol->ncreds, sc->name);
		return amtp_secret_dup(sc->password, pw);
	}
	if (v == 0)
		return AMTP_E_NOTFOUND;
	amtp_strlcpy(user, "admin", usersz);
	if ((r = amtp_store_cred_get_version(j->e->st, j->dev.id, kind, v,
	    pw)) != 0)
		return r;
	return 0;
}

static int
parse_prov_state(struct oobsp_job *j)
{
	const char *s;
	long long v;

	if (j->resp == NULL || j->resp->body == NULL ||
	    (s = amtp_wsman_obj_text(j->resp->body, "ProvisioningState")) ==
	    NULL || amtp_parse_int(s, 0, 2, &v) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    SETUP_SVC ": no valid ProvisioningState in reply");
	j->prov_state = (int)v;
	return 0;
}

/*
 * Settles the escrow from the credential that works on a committed (POST)
 * device: the pending admin password works -> it reached the device
 * (promote it, and the pending MEBx password sent in the same session
 * before the commit); the current one works -> the pending one never did
 * (abandon both pending values).
 */
static int
escrow_settle(struct oobsp_job *j, char *what, size_t whatsz)
{
	struct amtp_store *st = j->e->st;
	int r;

	what[0] = '\0';
	if (j->prov_state != 2)
		return 0;
	if (j->cand == OOBSP_CAND_ADMIN_PENDING) {
		if ((r = amtp_store_cred_promote(st, j->dev.id, AMTP_CRED_ADMIN,
		    j->admin_pending_v)) != 0)
			return r;
		snprintf(what, whatsz, "; pending admin password v%d works: "
		    "promoted", j->admin_pending_v);
		j->settled_pending = 1;
		j->admin_current_v = j->admin_pending_v;
		j->admin_pending_v = 0;
		if (j->mebx_pending_v != 0) {
			if ((r = amtp_store_cred_promote(st, j->dev.id,
			    AMTP_CRED_MEBX, j->mebx_pending_v)) != 0)
				return r;
			snprintf(what + strlen(what), whatsz - strlen(what),
			    ", MEBx v%d promoted", j->mebx_pending_v);
			j->mebx_current_v = j->mebx_pending_v;
			j->mebx_pending_v = 0;
		}
	} else if (j->cand == OOBSP_CAND_ADMIN_CURRENT) {
		if (j->admin_pending_v != 0) {
			if ((r = amtp_store_cred_abandon(st, j->dev.id,
			    AMTP_CRED_ADMIN, j->admin_pending_v)) != 0)
				return r;
			snprintf(what, whatsz, "; pending admin password v%d "
			    "never reached the device: abandoned",
			    j->admin_pending_v);
			j->admin_pending_v = 0;
		}
		if (j->mebx_pending_v != 0) {
			if ((r = amtp_store_cred_abandon(st, j->dev.id,
			    AMTP_CRED_MEBX, j->mebx_pending_v)) != 0)
				return r;
			snprintf(what + strlen(what), whatsz - strlen(what),
			    "; pending MEBx v%d abandoned", j->mebx_pending_v);
			j->mebx_pending_v = 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* connect: steps 7, 8, 9                                               */
/* ------------------------------------------------------------------ */

/*
 * The AMT version the agent reported (step 3), when there is one: this
 * service point speaks WS-Management, which AMT has from version 6 on
 * (older firmware only has the EOI SOAP interface, spec 4.5).  No facts:
 * the connect step finds out on the wire.
 */
static int
version_supported(struct oobsp_job *j)
{
	struct amtp_device_facts f;
	char major[8];
	long long v;
	size_t n;
	int r;

	r = amtp_store_device_get_facts(j->e->st, j->dev.id, &f);
	if (r == AMTP_E_NOTFOUND || (r == 0 && f.amt_version[0] == '\0'))
		return 0;
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "facts: %s",
		    amtp_store_errmsg(j->e->st));
	n = strcspn(f.amt_version, ".");
	if (n == 0 || n >= sizeof(major))
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_UNSUPPORTED,
		    "AMT version \"%s\" not understood", f.amt_version);
	memcpy(major, f.amt_version, n);
	major[n] = '\0';
	if (amtp_parse_int(major, 0, 999, &v) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_UNSUPPORTED,
		    "AMT version \"%s\" not understood", f.amt_version);
	if (v < 6)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_UNSUPPORTED,
		    "AMT version %s is not supported (WS-Management needs AMT "
		    "6 or later)", f.amt_version);
	return 0;
}

int
oobsp_step_connect(struct oobsp_job *j)
{
	struct amtp_secret *pw = NULL;
	char user[33], name[sizeof(j->cand_name)], what[200];
	size_t dl;
	int r;

	switch (j->pc) {
	case 0:
		if ((r = version_supported(j)) != 0)
			return r;
		if ((r = escrow_load(j)) != 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
			    "escrow: %s", amtp_store_errmsg(j->e->st));
		j->cand = 0;
		j->tried = 0;
		j->settled_pending = 0;
		j->prov_state = -1;
		j->detail[0] = '\0';
		j->pc = 1;
		/* FALLTHROUGH */
	case 1:
		for (;;) {
			if (j->cand >= cand_count(j)) {
				dl = strlen(j->detail);
				snprintf(j->detail + dl, sizeof(j->detail) - dl,
				    "%scredentials spent: none of %d worked",
				    dl > 0 ? "; " : "", j->tried);
				j->fail = OOBSP_FAIL_PERMANENT;
				return AMTP_E_AUTH;
			}
			r = cand_get(j, j->cand, user, sizeof(user), &pw, name,
			    sizeof(name));
			if (r == AMTP_E_NOTFOUND) {
				j->cand++;
				continue;
			}
			if (r != 0)
				return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
				    "credential %d: %s", j->cand,
				    amtp_strerror(r));
			break;
		}
		amtp_strlcpy(j->cand_name, name, sizeof(j->cand_name));
		j->tried++;
		r = oobsp_connect(j, user, pw, NULL, 1);
		amtp_secret_free(pw);
		if (r != 0)
			return r;
		j->pc = 2;
		return oobsp_get(j, SETUP_SVC, NULL, 0);
	case 2:
		if (j->rstatus == AMTP_E_AUTH) {
			/* never the password: only which one */
			log_info("job %lld: %s: %s refused",
			    (long long)j->rec.id, j->dev.amt_addr, j->cand_name);
			dl = strlen(j->detail);
			snprintf(j->detail + dl, sizeof(j->detail) - dl,
			    "%s%s: 401", dl > 0 ? "; " : "", j->cand_name);
			j->cand++;
			j->pc = 1;
			return oobsp_step_connect(j);
		}
		if (j->rstatus == AMTP_E_TLS)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_TLS,
			    "the device refused the provisioning TLS session: "
			    "%s", j->rdetail[0] != '\0' ? j->rdetail :
			    "handshake failed");
		if ((r = oobsp_reply_ok(j, SETUP_SVC, NULL)) != 0)
			return r;
		if ((r = parse_prov_state(j)) != 0)
			return r;
		if (j->prov_state == 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_STATE, "device is not in setup (PRE "
			    "provisioning): the agent must activate its "
			    "network interface again");
		if (j->prov_state == 2 && j->cand >= OOBSP_CAND_MEBX_PENDING) {
			(void)amtp_store_device_set_status(j->e->st, j->dev.id,
			    AMTP_AMT_EXTERNALLY_PROVISIONED, "provisioned "
			    "with credentials this site did not escrow");
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_STATE, "device is provisioned already "
			    "(POST), and not with a password this site "
			    "escrowed: externally provisioned");
		}
		if ((r = escrow_settle(j, what, sizeof(what))) != 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
			    "escrow: %s", amtp_store_errmsg(j->e->st));
		dl = strlen(j->detail);
		snprintf(j->detail + dl, sizeof(j->detail) - dl,
		    "%s%s works; device %s%s", dl > 0 ? "; " : "",
		    j->cand_name, j->prov_state == 1 ? "IN setup" : "POST",
		    what);
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* read-facts: the Digest realm                                         */
/* ------------------------------------------------------------------ */

int
oobsp_step_read_facts(struct oobsp_job *j)
{
	const char *realm;
	int r;

	switch (j->pc) {
	case 0:
		j->pc = 1;
		return oobsp_get(j, GENERAL, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		realm = j->resp->body != NULL ?
		    amtp_wsman_obj_text(j->resp->body, "DigestRealm") : NULL;
		if (realm == NULL || realm[0] == '\0' ||
		    strlen(realm) >= sizeof(j->realm))
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_PROTO, GENERAL ": no DigestRealm");
		amtp_strlcpy(j->realm, realm, sizeof(j->realm));
		oobsp_detail(j, "realm %s", j->realm);
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* otp-check: step 5                                                    */
/* ------------------------------------------------------------------ */

int
oobsp_step_otp_check(struct oobsp_job *j)
{
	struct amtp_buf *otp = NULL;
	char want[65], got[65];
	unsigned char md[32];
	unsigned mdlen = 0;
	const char *b64;
	size_t n;
	int r;

	switch (j->pc) {
	case 0:
		j->pc = 1;
		return oobsp_get(j, SETUP_SVC, NULL, 0);
	case 1:
		break;
	default:
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "bad pc");
	}
	if ((r = oobsp_reply_ok(j, SETUP_SVC, NULL)) != 0)
		return r;
	if ((r = amtp_store_device_get_otp_hash(j->e->st, j->dev.id, want,
	    sizeof(want))) != 0) {
		if (r == AMTP_E_NOTFOUND)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
			    "the site holds no OTP hash for this device");
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "OTP hash: %s",
		    amtp_store_errmsg(j->e->st));
	}
	b64 = j->resp->body != NULL ?
	    amtp_wsman_obj_text(j->resp->body, "ProvisioningServerOTP") : NULL;
	if (b64 == NULL || b64[0] == '\0') {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_MISMATCH,
		    "the device reports no OTP: not the device that asked");
		goto out;
	}
	if ((otp = amtp_buf_new(AMTP_OTP_MAX + 4)) == NULL) {
		r = oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
		goto out;
	}
	if (amtp_b64_decode(otp, b64, strlen(b64)) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "ProvisioningServerOTP is not base64 of at most %d bytes",
		    AMTP_OTP_MAX);
		goto out;
	}
	n = amtp_buf_len(otp);
	/* the agent hashed the OTP bytes; a NUL counted on the wire is not
	 * part of them (spec 1.6) */
	if (n > 0 && amtp_buf_ptr(otp)[n - 1] == '\0')
		n--;
	if (EVP_Digest(amtp_buf_ptr(otp), n, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(md) ||
	    amtp_hex_encode(got, sizeof(got), md, sizeof(md), 0) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_CRYPTO,
		    "SHA-256 failed");
		goto out;
	}
	if (!amtp_ct_equal(got, 64, want, strlen(want))) {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_MISMATCH,
		    "OTP mismatch: the device's one-time password does not "
		    "hash to the one the agent reported; nothing was written "
		    "to the device");
		goto out;
	}
	oobsp_detail(j, "OTP hash matches");
	r = OOBSP_OK;
 out:
	explicit_bzero(md, sizeof(md));
	explicit_bzero(got, sizeof(got));
	amtp_buf_free(otp);
	return r;
}

/* ------------------------------------------------------------------ */
/* admin-password and mebx-password: two phases                         */
/* ------------------------------------------------------------------ */

/* In the flush: the new password, sealed, as pending (its version into
 * j->escrow_v). */
static int
escrow_put_fn(struct oobsp_job *j, struct oobsp_logop *op)
{
	return amtp_store_cred_put_pending(j->e->st, j->dev.id,
	    (enum amtp_cred_kind)op->arg, j->escrow_pw, &j->escrow_v);
}

/* In the flush: version op->arg2 of kind op->arg, pending -> current. */
static int
escrow_promote_fn(struct oobsp_job *j, struct oobsp_logop *op)
{
	return amtp_store_cred_promote(j->e->st, j->dev.id,
	    (enum amtp_cred_kind)op->arg, op->arg2);
}

/*
 * The password to send for kind, into j->escrow_pw and j->escrow_v: the
 * pending version when there is one (an earlier attempt may have sent it:
 * sending it again is harmless before the commit), else a new one, sealed
 * and committed as pending first: OOBSP_WAIT then, and the step runs again
 * once that commit is in.  0 when the password is ready.
 */
static int
escrow_pending(struct oobsp_job *j, enum amtp_cred_kind kind, size_t len,
    const struct amtp_secret *fixed)
{
	int r;

	amtp_secret_free(j->escrow_pw);
	j->escrow_pw = NULL;
	j->escrow_v = 0;
	r = amtp_store_cred_get(j->e->st, j->dev.id, kind, AMTP_CRED_PENDING,
	    &j->escrow_v, &j->escrow_pw);
	if (r == 0)
		return 0;
	if (r != AMTP_E_NOTFOUND)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "escrow: %s",
		    amtp_store_errmsg(j->e->st));
	if (fixed != NULL)
		r = amtp_secret_dup(fixed, &j->escrow_pw);
	else
		r = amtp_rand_password(len, &j->escrow_pw);
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "password: %s",
		    amtp_strerror(r));
	/* the rule: durable before it is sent */
	return oobsp_store_later(j, escrow_put_fn, (int)kind, 0, 1);
}

/*
 * The admin password in three phases, at pcs base to base + 3: the pending
 * value (an earlier attempt's, or a new one sealed and committed first),
 * SetAdminAclEntryEx with base64(MD5(admin:realm:password)), and, once the
 * device answered, pending -> current, committed.  OOBSP_OK when that is
 * in (j->admin_current_v).
 */
static int
admin_phases(struct oobsp_job *j, int base)
{
	struct amtp_wsman_prop in[2];
	char hash[64];
	int r;

	switch (j->pc - base) {
	case 0:
		j->pc = base + 1;
		if ((r = escrow_pending(j, AMTP_CRED_ADMIN,
		    j->e->pol->admin_pw_len, NULL)) != 0)
			return r;
		/* FALLTHROUGH */
	case 1:
		j->admin_pending_v = j->escrow_v;
		r = oobsp_digest_password_b64("admin", j->realm, j->escrow_pw,
		    hash, sizeof(hash));
		amtp_secret_free(j->escrow_pw);
		j->escrow_pw = NULL;
		if (r != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
			    "digest password");
		memset(in, 0, sizeof(in));
		in[0].name = "Username";
		in[0].text = "admin";
		in[1].name = "DigestPassword";
		in[1].text = hash;
		j->pc = base + 2;
		r = oobsp_invoke(j, AUTH_SVC, "SetAdminAclEntryEx", in, 2,
		    NULL, 0);
		explicit_bzero(hash, sizeof(hash));
		return r;
	case 2:
		if ((r = oobsp_reply_ok(j, AUTH_SVC,
		    "SetAdminAclEntryEx")) != 0)
			return r;
		j->pc = base + 3;
		return oobsp_store_later(j, escrow_promote_fn,
		    (int)AMTP_CRED_ADMIN, j->admin_pending_v, 1);
	case 3:
		j->admin_current_v = j->admin_pending_v;
		j->admin_pending_v = 0;
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

int
oobsp_step_admin_password(struct oobsp_job *j)
{
	int r;

	if ((r = admin_phases(j, 0)) != OOBSP_OK)
		return r;
	oobsp_detail(j, "admin password v%d set and escrowed",
	    j->admin_current_v);
	return OOBSP_OK;
}

int
oobsp_step_mebx_password(struct oobsp_job *j)
{
	const struct oobsp_policy *pol = j->e->pol;
	struct amtp_secret *pw = NULL;
	struct amtp_wsman_prop in[1];
	int r;

	switch (j->pc) {
	case 0:
		if (pol->mebx == OOBSP_MEBX_KEEP) {
			oobsp_detail(j, "policy keep: MEBx password not set");
			return OOBSP_SKIPPED;
		}
		j->pc = 1;
		if ((r = escrow_pending(j, AMTP_CRED_MEBX, pol->mebx_pw_len,
		    pol->mebx == OOBSP_MEBX_FIXED ? pol->mebx_fixed : NULL)) !=
		    0)
			return r;
		/* FALLTHROUGH */
	case 1:
		j->mebx_pending_v = j->escrow_v;
		memset(in, 0, sizeof(in));
		in[0].name = "Password";
		in[0].text = amtp_secret_cstr(j->escrow_pw);
		j->pc = 2;
		r = oobsp_invoke(j, SETUP_SVC, "SetMEBxPassword", in, 1, NULL,
		    0);
		amtp_secret_free(j->escrow_pw);
		j->escrow_pw = NULL;
		return r;
	case 2:
		if ((r = oobsp_reply_ok(j, SETUP_SVC, "SetMEBxPassword")) != 0)
			return r;
		j->pc = 3;
		return oobsp_store_later(j, escrow_promote_fn,
		    (int)AMTP_CRED_MEBX, j->mebx_pending_v, 1);
	case 3:
		j->mebx_current_v = j->mebx_pending_v;
		j->mebx_pending_v = 0;
		oobsp_detail(j, "MEBx password v%d set and escrowed",
		    j->mebx_current_v);
		/*
		 * A setup session opened with the (old) MEBx password ends
		 * with it: the device now takes the new one.
		 */
		if (j->sess_pw != NULL && amtp_secret_len(j->sess_pw) > 0) {
			if ((r = amtp_store_cred_get(j->e->st, j->dev.id,
			    AMTP_CRED_MEBX, AMTP_CRED_CURRENT, NULL, &pw)) != 0)
				return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
				    "escrow: %s", amtp_store_errmsg(j->e->st));
			r = oobsp_connect(j, "admin", pw, NULL, 1);
			amtp_secret_free(pw);
			if (r != 0)
				return r;
			snprintf(j->cand_name, sizeof(j->cand_name),
			    "escrowed MEBx password v%d (current)",
			    j->mebx_current_v);
		}
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* commit                                                               */
/* ------------------------------------------------------------------ */

int
oobsp_step_commit(struct oobsp_job *j)
{
	int r;

	switch (j->pc) {
	case 0:
		j->pc = 1;
		return oobsp_invoke(j, SETUP_SVC, "CommitChanges", NULL, 0,
		    NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, SETUP_SVC, "CommitChanges")) != 0)
			return r;
		j->prov_state = 2;
		/* the device restarts its TLS server with the new
		 * certificate: this session is over */
		oobsp_disconnect(j);
		oobsp_detail(j, "committed: device POST");
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* verify: the new TLS certificate and the new admin password           */
/* ------------------------------------------------------------------ */

/* Pins of the device's AMT web certificates this site issued (newest
 * first, a few), for CURLOPT_PINNEDPUBLICKEY. */
static int
web_pins(struct oobsp_job *j, char *pins, size_t pinssz, char *serial,
    size_t serialsz)
{
	struct amtp_cert_rec *recs = NULL, one;
	STACK_OF(X509) *chain = NULL;
	char *pem = NULL;
	size_t i, n = 0, used = 0;
	int r;

	pins[0] = '\0';
	serial[0] = '\0';
	if (j->web_cert != NULL) {
		if ((r = oobsp_pin_append(j->web_cert, pins, pinssz)) != 0)
			return r;
		used++;
	}
	if ((r = amtp_store_cert_list(j->e->st, j->dev.id, 0, 8, &recs, &n,
	    NULL)) != 0)
		return r;
	for (i = 0; i < n && used < 4; i++) {
		if (strcmp(recs[i].profile, "amt-web") != 0 ||
		    recs[i].revoked != 0)
			continue;
		if (serial[0] == '\0')
			amtp_strlcpy(serial, recs[i].serial, serialsz);
		if (j->web_cert != NULL)
			continue;
		if (amtp_store_cert_get(j->e->st, recs[i].serial, &one, &pem)
		    != 0)
			continue;
		if (amtp_pki_chain_from_pem(pem, strlen(pem), &chain) == 0) {
			if (oobsp_pin_append(sk_X509_value(chain, 0), pins,
			    pinssz) == 0)
				used++;
			amtp_pki_chain_free(chain);
			chain = NULL;
		}
		free(pem);
		pem = NULL;
	}
	free(recs);
	return used > 0 ? 0 : AMTP_E_NOTFOUND;
}

int
oobsp_step_verify(struct oobsp_job *j)
{
	struct amtp_secret *pw = NULL;
	char pins[OOBSP_PINS_MAX], serial[AMTP_STORE_SERIAL_MAX + 1];
	int r, v = 0;

	switch (j->pc) {
	case 0:
		if (j->prov_state != 2)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
			    "device not committed");
		if ((r = web_pins(j, pins, sizeof(pins), serial,
		    sizeof(serial))) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
			    "no AMT web certificate recorded for the device");
		if ((r = amtp_store_cred_get(j->e->st, j->dev.id,
		    AMTP_CRED_ADMIN, AMTP_CRED_CURRENT, &v, &pw)) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
			    "no current admin password escrowed");
		r = oobsp_connect(j, "admin", pw, pins, 0);
		amtp_secret_free(pw);
		if (r != 0)
			return r;
		j->admin_current_v = v;
		j->pc = 1;
		return oobsp_get(j, GENERAL, NULL, 0);
	case 1:
		if (j->rstatus == AMTP_E_TLS)
			/* a rebooting device may still serve its old
			 * certificate for a moment */
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_TLS,
			    "TLS with the issued certificate: %s",
			    j->rdetail);
		if (j->rstatus == AMTP_E_AUTH)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_AUTH,
			    "the escrowed admin password v%d is refused",
			    j->admin_current_v);
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		if (j->resp->body != NULL && j->realm[0] == '\0')
			amtp_strlcpy(j->realm, amtp_wsman_obj_text(
			    j->resp->body, "DigestRealm") != NULL ?
			    amtp_wsman_obj_text(j->resp->body, "DigestRealm") :
			    "", sizeof(j->realm));
		oobsp_detail(j, "TLS with the issued certificate and admin "
		    "password v%d: ok", j->admin_current_v);
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* report: step 12                                                      */
/* ------------------------------------------------------------------ */

/* In the flush: status provisioned, the OTP forgotten, the audit record
 * (with the job's finish, under the same commit). */
static int
report_fn(struct oobsp_job *j, struct oobsp_logop *op)
{
	struct amtp_store *st = j->e->st;
	char detail[AMTP_STORE_TEXT_MAX + 1];
	int r;

	(void)op;
	if ((r = amtp_store_device_set_status(st, j->dev.id,
	    AMTP_AMT_PROVISIONED, NULL)) != 0)
		return r;
	/* the OTP is spent */
	r = amtp_store_device_clear_otp_hash(st, j->dev.id);
	if (r != 0 && r != AMTP_E_NOTFOUND)
		return r;
	snprintf(detail, sizeof(detail), "job %lld: provisioned; admin "
	    "password v%d, MEBx password v%d escrowed", (long long)j->rec.id,
	    j->admin_current_v, j->mebx_current_v);
	return amtp_store_audit_append(st, j->e->owner, "device.provisioned",
	    j->dev.id, detail, NULL);
}

int
oobsp_step_report(struct oobsp_job *j)
{
	int r;

	/* written with the step's row and the job's finish: all or none */
	if ((r = oobsp_store_later(j, report_fn, 0, 0, 0)) != 0)
		return r;
	oobsp_detail(j, "status provisioned; admin v%d, MEBx v%d",
	    j->admin_current_v, j->mebx_current_v);
	return OOBSP_OK;
}

/* ------------------------------------------------------------------ */
/* rotate-admin and report (job kind rotate)                            */
/* ------------------------------------------------------------------ */

/* pc range of admin_phases() in rotate-admin */
#define ROT_ADMIN	10

int
oobsp_step_rotate_admin(struct oobsp_job *j)
{
	struct amtp_secret *pw = NULL;
	char pins[OOBSP_PINS_MAX];
	int r;

	switch (j->pc) {
	case 0:
		if (j->prov_state != 2)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
			    "the device is not provisioned");
		if (j->settled_pending) {
			/* an earlier attempt set it; connect promoted it */
			oobsp_detail(j, "admin password v%d from an earlier "
			    "attempt is on the device", j->admin_current_v);
			return OOBSP_SKIPPED;
		}
		j->pc = ROT_ADMIN;
		return oobsp_step_rotate_admin(j);
	case 1:
		/* the old password is gone with this session: check the
		 * new one on a new one */
		amtp_strlcpy(pins, j->sess_pin, sizeof(pins));
		if ((r = amtp_store_cred_get(j->e->st, j->dev.id,
		    AMTP_CRED_ADMIN, AMTP_CRED_CURRENT, NULL, &pw)) != 0)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
			    "escrow: %s", amtp_store_errmsg(j->e->st));
		r = oobsp_connect(j, "admin", pw, pins[0] != '\0' ? pins :
		    NULL, 0);
		amtp_secret_free(pw);
		if (r != 0)
			return r;
		j->pc = 2;
		return oobsp_get(j, GENERAL, NULL, 0);
	case 2:
		if (j->rstatus == AMTP_E_AUTH)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_AUTH,
			    "the new admin password v%d is refused",
			    j->admin_current_v);
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		oobsp_detail(j, "admin password v%d set, escrowed and checked",
		    j->admin_current_v);
		return OOBSP_OK;
	}
	if (j->pc < ROT_ADMIN || j->pc > ROT_ADMIN + 3)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "bad pc");
	if ((r = admin_phases(j, ROT_ADMIN)) != OOBSP_OK)
		return r;
	j->pc = 1;
	return oobsp_step_rotate_admin(j);
}

int
oobsp_step_report_rotate(struct oobsp_job *j)
{
	char detail[AMTP_STORE_TEXT_MAX + 1];
	int r;

	snprintf(detail, sizeof(detail), "job %lld: admin password v%d",
	    (long long)j->rec.id, j->admin_current_v);
	if ((r = amtp_store_audit_append(j->e->st, j->e->owner,
	    "device.password.rotated", j->dev.id, detail, NULL)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "audit: %s",
		    amtp_store_errmsg(j->e->st));
	oobsp_detail(j, "admin v%d", j->admin_current_v);
	return OOBSP_OK;
}
