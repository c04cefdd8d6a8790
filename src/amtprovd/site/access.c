/*
 * amtprov - site/access.c: Bearer token checks per route (role site).
 * Logs name the caller's address and the route, never a token.
 */
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "site/access.h"
#include "site/auth.h"
#include "site/httpd.h"
#include "site/site.h"
#include "store/store.h"

static int
deny(struct site_req *req, const char *why)
{
	log_info("%s: %s: authentication failed (%s)", req->peer,
	    req->route->name, why);
	site_reply_errf(req, 401, "unauthorized", NULL,
	    "missing or invalid Bearer token");
	return AMTP_E_AUTH;
}

static int
check_agent(struct site_req *req, const char *tok, size_t len)
{
	struct amtp_agent_rec ag;
	struct amtp_store *st;
	char name[AMTP_STORE_NAME_MAX + 1];
	char hash[SITE_CRED_HASH_SIZE];
	int r, ok;

	if (site_auth_agent_token_name(tok, len, name, sizeof(name)) != 0)
		return deny(req, "malformed agent token");
	if ((r = site_auth_agent_cred_hash(tok, len, hash)) != 0) {
		site_reply_store_err(req, r, "agent token hash");
		return r;
	}
	st = site_req_store(req);
	r = amtp_store_agent_get(st, name, &ag);
	site_req_store_put(req, st);
	if (r == AMTP_E_NOTFOUND || r == AMTP_E_INVAL)
		return deny(req, "unknown agent");
	if (r != 0) {
		site_reply_store_err(req, r, "agent lookup");
		return r;
	}
	ok = amtp_ct_equal(hash, strlen(hash), ag.cred_hash,
	    strlen(ag.cred_hash));
	explicit_bzero(hash, sizeof(hash));
	if (!ok)
		return deny(req, "wrong agent token");
	if (!ag.enabled)
		return deny(req, "agent disabled");
	req->agent_id = ag.id;
	req->device_id = ag.device_id;
	snprintf(req->actor, sizeof(req->actor), "agent:%s", ag.name);
	return 0;
}

static int
check_admin(struct site_req *req, const char *tok, size_t len)
{
	struct amtp_token_rec tr;
	struct amtp_store *st;
	char hex[SITE_SHA256_HEX_SIZE];
	int r;

	if ((r = site_auth_sha256_hex(tok, len, hex)) != 0) {
		site_reply_store_err(req, r, "admin token hash");
		return r;
	}
	st = site_req_store(req);
	r = amtp_store_token_find(st, hex, &tr);
	site_req_store_put(req, st);
	explicit_bzero(hex, sizeof(hex));
	if (r == AMTP_E_NOTFOUND || r == AMTP_E_INVAL)
		return deny(req, "unknown, revoked or expired admin token");
	if (r != 0) {
		site_reply_store_err(req, r, "admin token lookup");
		return r;
	}
	snprintf(req->actor, sizeof(req->actor), "admin:%s", tr.name);
	req->is_admin = tr.role == AMTP_ROLE_ADMIN;
	if (req->route->auth == SITE_AUTH_WRITE && !req->is_admin) {
		log_info("%s: %s: %s has role readonly", req->peer,
		    req->route->name, req->actor);
		site_reply_errf(req, 403, "forbidden", NULL,
		    "this action needs an admin token (yours is readonly)");
		return AMTP_E_DENIED;
	}
	return 0;
}

int
site_access_check(struct site_req *req, const char *authz)
{
	const char *tok;
	size_t len;

	req->actor[0] = '\0';
	if (req->route->auth == SITE_AUTH_NONE)
		return 0;
	if (site_auth_bearer(authz, &tok, &len) != 0)
		return deny(req, authz == NULL ? "no Authorization header" :
		    "malformed Authorization header");
	switch (req->route->auth) {
	case SITE_AUTH_ENROL:
		if (!site_auth_enrol_check(req->site->enrol_hash, tok, len))
			return deny(req, "wrong enrolment secret");
		amtp_strlcpy(req->actor, "enrolment", sizeof(req->actor));
		return 0;
	case SITE_AUTH_AGENT:
		return check_agent(req, tok, len);
	case SITE_AUTH_READ:
	case SITE_AUTH_WRITE:
		return check_admin(req, tok, len);
	default:
		return deny(req, "route misconfigured");
	}
}
