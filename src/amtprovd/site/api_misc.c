/*
 * amtprov - site/api_misc.c: GET /healthz and GET /metrics (role site).
 */
#include <stdlib.h>

#include <jansson.h>

#include "amtprov/err.h"

#include "site/api.h"
#include "site/httpd.h"
#include "site/metrics.h"
#include "site/site.h"
#include "store/store.h"

void
site_api_healthz(struct site_req *req)
{
	struct amtp_store *st;
	int64_t now = 0;
	int r;

	st = site_req_store(req);
	r = amtp_store_now(st, &now);
	site_req_store_put(req, st);
	if (r != 0) {
		site_reply_json(req, 503, json_pack("{s:s, s:s}", "status",
		    "unavailable", "database", amtp_errname(r)));
		return;
	}
	site_reply_json(req, 200, json_pack("{s:s, s:s, s:I}", "status", "ok",
	    "database", "ok", "time", (json_int_t)now));
}

void
site_api_metrics(struct site_req *req)
{
	struct amtp_store *st;
	char *text = NULL;
	int r;

	st = site_req_store(req);
	r = site_metrics_render(req->site->metrics, st, &text);
	site_req_store_put(req, st);
	if (r != 0) {
		site_reply_store_err(req, r, "metrics");
		return;
	}
	site_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text);
}
