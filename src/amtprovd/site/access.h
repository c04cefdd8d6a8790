/*
 * amtprov - site/access.h: who may call a route (role site).
 */
#ifndef SITE_ACCESS_H
#define SITE_ACCESS_H

struct site_req;

/*
 * Checks the Authorization header value authz (may be NULL) against
 * req->route->auth and fills req->actor (and the agent's ids).  Returns 0
 * when the call may go on; otherwise the 401/403 answer is set in req and
 * AMTP_E_AUTH or AMTP_E_DENIED is returned (or 500/503 on a store failure).
 * Nothing is written to the database for a caller who fails here.
 */
int site_access_check(struct site_req *req, const char *authz);

#endif
