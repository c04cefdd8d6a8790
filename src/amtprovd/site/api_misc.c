/*
 * amtprov - site/api_misc.c: GET /healthz and GET /metrics (role site).
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "amtprov/err.h"

#include "site/api.h"
#include "site/httpd.h"
#include "site/metrics.h"
#include "site/site.h"
#include "site/wgroup.h"
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
	uint64_t commits = 0, units = 0;
	char *text = NULL, *all = NULL;
	int r;

	st = site_req_store(req);
	r = site_metrics_render(req->site->metrics, st, &text);
	site_req_store_put(req, st);
	if (r != 0) {
		site_reply_store_err(req, r, "metrics");
		return;
	}
	if (req->site->wg != NULL) {
		site_wgroup_stats(req->site->wg, &commits, &units);
		if (asprintf(&all, "%s"
		    "# HELP amtprov_site_write_units_total Agent writes "
		    "recorded through the group commit.\n"
		    "# TYPE amtprov_site_write_units_total counter\n"
		    "amtprov_site_write_units_total %llu\n"
		    "# HELP amtprov_site_write_commits_total Commits of the "
		    "group commit (each carries one or more units).\n"
		    "# TYPE amtprov_site_write_commits_total counter\n"
		    "amtprov_site_write_commits_total %llu\n", text,
		    (unsigned long long)units,
		    (unsigned long long)commits) < 0) {
			free(text);
			site_reply_errf(req, 500, "internal", NULL,
			    "out of memory");
			return;
		}
		free(text);
		text = all;
	}
	site_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text);
}
