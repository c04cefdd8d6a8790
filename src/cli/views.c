/*
 * amtprov - cli/views.c: the fleet views of the admin CLI (program
 * amtprov): devices, device show, jobs, audit.  See cli.h.
 *
 * Every view reads the site API (GET, admin or readonly token) and prints
 * either an aligned table for a person or, with --json, one JSON object for
 * a script.  Lists are fetched page by page (CLI_PAGE rows a call) up to
 * --limit rows.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

/* Statuses and states the API knows (checked before a call, so a typo is
 * a usage error and not an HTTP 400). */
static const char *const amt_statuses[] = { "unknown", "not supported",
    "detected", "not provisioned", "provisioned", "externally provisioned",
    NULL };
static const char *const job_states[] = { "queued", "running", "done",
    "failed", "cancelled", NULL };
static const char *const job_kinds[] = { "provision", "rotate",
    "unprovision", NULL };

static int
in_list(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

int
cli_parse_id(const char *s, long long *id)
{
	if (amtp_parse_int(s, 1, INT64_MAX, id) != 0) {
		fprintf(stderr, "amtprov: \"%.40s\": not an id (a number from "
		    "1)\n", s);
		return -1;
	}
	return 0;
}

int
cli_report_failure(const char *what, int r, const struct cli_answer *a,
    const char *err)
{
	if (r != 0) {
		fprintf(stderr, "amtprov: %s: %s\n", what, err != NULL &&
		    err[0] != '\0' ? err : amtp_strerror(r));
		return r == AMTP_E_CLOSED ? CLI_EXIT_UNREACHABLE :
		    CLI_EXIT_FAIL;
	}
	fprintf(stderr, "amtprov: %s: the site answered %ld%s%s%s%s\n", what,
	    a->status, a->error[0] != '\0' ? " " : "", a->error,
	    a->message[0] != '\0' ? ": " : "", a->message);
	if (a->status == 404)
		return CLI_EXIT_NOTFOUND;
	if (a->status == 401)
		fprintf(stderr, "amtprov: check the admin token (token_file in "
		    "amtprov.conf, or --token-file)\n");
	if (a->status >= 400 && a->status < 500)
		return CLI_EXIT_REFUSED;
	return CLI_EXIT_FAIL;
}

/*
 * Fetches a list: base is the path with its query (without offset/limit,
 * ending in '?' or '&'), key the array member.  Up to max rows; *items gets
 * a new array, *total the API's total.  Exit status (0 on success).
 */
static int
fetch_list(struct cli_client *c, const char *base, const char *key,
    size_t max, json_t **items, long long *total)
{
	struct cli_answer a;
	char path[CLI_REQPATH_MAX], err[512] = "";
	json_t *all, *page;
	size_t got = 0, want;
	int r, status = CLI_EXIT_FAIL;

	*items = NULL;
	*total = 0;
	memset(&a, 0, sizeof(a));
	if ((all = json_array()) == NULL)
		return CLI_EXIT_FAIL;
	for (;;) {
		want = max - got < CLI_PAGE ? max - got : CLI_PAGE;
		if (want == 0)
			break;
		if (snprintf(path, sizeof(path), "%soffset=%zu&limit=%zu",
		    base, got, want) >= (int)sizeof(path)) {
			fprintf(stderr, "amtprov: request too long\n");
			goto out;
		}
		if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
		    sizeof(err))) != 0 || a.status != 200) {
			status = cli_report_failure(path, r, &a, err);
			goto out;
		}
		page = json_object_get(a.body, key);
		if (!json_is_array(page)) {
			fprintf(stderr, "amtprov: %s: the answer has no %s "
			    "list\n", path, key);
			goto out;
		}
		*total = cli_json_int(a.body, "total");
		if (json_array_extend(all, page) != 0)
			goto out;
		got += json_array_size(page);
		if (json_array_size(page) == 0 || got >= (size_t)*total)
			break;
	}
	*items = all;
	all = NULL;
	status = CLI_EXIT_OK;
 out:
	cli_answer_reset(&a);
	json_decref(all);
	return status;
}

/* Prints o as one JSON line on stdout. */
static int
print_json(const json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT) != 0)
		return CLI_EXIT_FAIL;
	putchar('\n');
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Appends "name=value&" (escaped) to a query being built. */
static int
query_add(char *q, size_t qsz, const char *name, const char *value)
{
	char esc[1024];
	size_t n = strlen(q);
	int w;

	if (cli_query_escape(value, esc, sizeof(esc)) != 0)
		return -1;
	w = snprintf(q + n, qsz - n, "%s=%s&", name, esc);
	return w < 0 || (size_t)w >= qsz - n ? -1 : 0;
}

static int
parse_limit(const char *s, size_t *out)
{
	long long v;

	if (amtp_parse_int(s, 1, CLI_ROWS_MAX, &v) != 0) {
		fprintf(stderr, "amtprov: --limit: a number from 1 to %d\n",
		    CLI_ROWS_MAX);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* devices                                                              */
/* ------------------------------------------------------------------ */

/* The newest job of a device detail, or NULL. */
static const json_t *
newest_job(const json_t *detail)
{
	const json_t *jobs = json_object_get(detail, "jobs");

	if (!json_is_array(jobs) || json_array_size(jobs) == 0)
		return NULL;
	return json_array_get(jobs, 0);	/* newest first */
}

int
cli_devices(struct cli_client *c, int argc, char *argv[])
{
	enum { O_STATUS = 256, O_Q, O_LIMIT, O_JSON, O_NAMES, O_FAILED,
	    O_BRIEF, O_HELP };
	static const struct option lo[] = {
		{ "status", required_argument, NULL, O_STATUS },
		{ "search", required_argument, NULL, O_Q },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, O_JSON },
		{ "names", no_argument, NULL, O_NAMES },
		{ "failed", no_argument, NULL, O_FAILED },
		{ "brief", no_argument, NULL, O_BRIEF },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const head[] = { "ID", "HOST", "STATUS", "AMT",
	    "JOB", "STEP", "LAST ERROR", "AGE" };
	struct cli_table *t = NULL;
	struct cli_answer a;
	char q[CLI_REQPATH_MAX] = "/api/v1/devices?", path[128], err[512];
	char age[16], idtxt[24], jobtxt[48];
	json_t *devs = NULL, *out = NULL, *rows = NULL, *row, *d;
	const json_t *job, *facts;
	const char *cells[8], *ver;
	size_t i, limit = CLI_ROWS_MAX;
	long long total;
	time_t now;
	int ch, json = 0, names = 0, failed = 0, brief = 0, r;
	int status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_STATUS:
			if (!in_list(optarg, amt_statuses)) {
				fprintf(stderr, "amtprov: --status: one of "
				    "unknown, \"not supported\", detected, "
				    "\"not provisioned\", provisioned, "
				    "\"externally provisioned\"\n");
				return CLI_EXIT_USAGE;
			}
			if (query_add(q, sizeof(q), "status", optarg) != 0)
				return CLI_EXIT_USAGE;
			break;
		case O_Q:
			if (query_add(q, sizeof(q), "q", optarg) != 0) {
				fprintf(stderr, "amtprov: --search: too long\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_LIMIT:
			if (parse_limit(optarg, &limit) != 0)
				return CLI_EXIT_USAGE;
			break;
		case O_JSON: json = 1; break;
		case O_NAMES: names = 1; break;
		case O_FAILED: failed = 1; break;
		case O_BRIEF: brief = 1; break;
		case O_HELP:
			printf("usage: amtprov devices [--status S] [--search "
			    "TEXT] [--failed] [--limit N]\n"
			    "                       [--brief] [--json | "
			    "--names]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc || (json && names)) {
		fprintf(stderr, "amtprov devices: unexpected arguments\n");
		return CLI_EXIT_USAGE;
	}
	if ((status = fetch_list(c, q, "devices", limit, &devs, &total)) != 0)
		return status;
	status = CLI_EXIT_FAIL;
	if ((rows = json_array()) == NULL)
		goto out;
	/* one detail call per device: its facts and its newest job */
	for (i = 0; i < json_array_size(devs); i++) {
		d = json_array_get(devs, i);
		if ((row = json_deep_copy(d)) == NULL)
			goto out;
		if (json_array_append_new(rows, row) != 0)
			goto out;
		if ((brief || names) && !failed)
			continue;	/* --failed needs the newest job */
		snprintf(path, sizeof(path), "/api/v1/devices/%lld",
		    cli_json_int(d, "id"));
		if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
		    sizeof(err))) != 0 || a.status != 200) {
			if (r == 0 && a.status == 404)
				continue;	/* deleted meanwhile */
			status = cli_report_failure(path, r, &a, err);
			goto out;
		}
		facts = json_object_get(a.body, "facts");
		job = newest_job(a.body);
		if (json_object_set_new(row, "amt_version", json_string(
		    cli_json_str(facts, "amt_version"))) != 0 ||
		    json_object_set_new(row, "wireless", json_boolean(
		    cli_json_bool(facts, "wireless"))) != 0)
			goto out;
		if (job != NULL) {
			json_t *jc = json_deep_copy(job);

			if (jc == NULL)
				goto out;
			json_object_del(jc, "steps");
			if (json_object_set_new(row, "job", jc) != 0)
				goto out;
		} else if (json_object_set_new(row, "job", json_null()) != 0)
			goto out;
	}
	if (failed) {
		/* keep the devices whose newest job failed */
		for (i = json_array_size(rows); i-- > 0;) {
			job = json_object_get(json_array_get(rows, i), "job");
			if (job == NULL || strcmp(cli_json_str(job, "state"),
			    "failed") != 0)
				json_array_remove(rows, i);
		}
	}
	if (json) {
		out = json_pack("{s:I, s:O}", "total", (json_int_t)total,
		    "devices", rows);
		status = out != NULL ? print_json(out) : CLI_EXIT_FAIL;
		goto out;
	}
	if (names) {
		for (i = 0; i < json_array_size(rows); i++)
			printf("%s\n", cli_json_str(json_array_get(rows, i),
			    "hostname"));
		status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		goto out;
	}
	if (cli_table_new(8, head, &t) != 0)
		goto out;
	now = time(NULL);
	for (i = 0; i < json_array_size(rows); i++) {
		row = json_array_get(rows, i);
		job = json_object_get(row, "job");
		snprintf(idtxt, sizeof(idtxt), "%lld", cli_json_int(row, "id"));
		if (job != NULL && json_is_object(job))
			snprintf(jobtxt, sizeof(jobtxt), "%s %s",
			    cli_json_str(job, "kind"),
			    cli_json_str(job, "state"));
		else
			snprintf(jobtxt, sizeof(jobtxt), "-");
		cli_fmt_age(now, cli_json_int(row, "updated"), age,
		    sizeof(age));
		ver = cli_json_str(row, "amt_version");
		cells[0] = idtxt;
		cells[1] = cli_json_str(row, "hostname");
		cells[2] = cli_json_str(row, "status");
		cells[3] = ver[0] != '\0' ? ver : "-";
		cells[4] = jobtxt;
		cells[5] = job != NULL && json_is_object(job) &&
		    cli_json_str(job, "step")[0] != '\0' ?
		    cli_json_str(job, "step") : "-";
		cells[6] = job != NULL && json_is_object(job) &&
		    cli_json_str(job, "last_error")[0] != '\0' ?
		    cli_json_str(job, "last_error") : "-";
		cells[7] = age;
		if (cli_table_add(t, cells) != 0)
			goto out;
	}
	if (cli_table_print(t, stdout) != 0)
		goto out;
	if ((size_t)total > json_array_size(devs))
		printf("(%zu of %lld devices shown; --limit N for more)\n",
		    json_array_size(devs), total);
	else if (!failed && total == 0)
		printf("(no devices)\n");
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	cli_table_free(t);
	cli_answer_reset(&a);
	json_decref(out);
	json_decref(rows);
	json_decref(devs);
	return status;
}

/* ------------------------------------------------------------------ */
/* device show                                                          */
/* ------------------------------------------------------------------ */

static void
show_steps(const json_t *steps, time_t now)
{
	static const char *const head[] = { "ATTEMPT", "STEP", "OUTCOME",
	    "STARTED", "TOOK", "DETAIL" };
	struct cli_table *t = NULL;
	const json_t *s;
	const char *cells[6];
	char att[16], started[32], took[24];
	size_t i;

	if (!json_is_array(steps) || json_array_size(steps) == 0) {
		printf("    (no steps yet)\n");
		return;
	}
	if (cli_table_new(6, head, &t) != 0)
		return;
	for (i = 0; i < json_array_size(steps); i++) {
		s = json_array_get(steps, i);
		snprintf(att, sizeof(att), "%lld", cli_json_int(s, "attempt"));
		cli_fmt_time(cli_json_int(s, "started"), started,
		    sizeof(started));
		cli_fmt_duration(cli_json_int(s, "started"),
		    cli_json_int(s, "ended"), now, took, sizeof(took));
		cells[0] = att;
		cells[1] = cli_json_str(s, "step");
		cells[2] = cli_json_str(s, "outcome");
		cells[3] = started;
		cells[4] = took;
		cells[5] = cli_json_str(s, "detail")[0] != '\0' ?
		    cli_json_str(s, "detail") : "-";
		if (cli_table_add(t, cells) != 0)
			break;
	}
	/* indent the table under its job */
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		char *line, *nl;

		if (f != NULL) {
			cli_table_print(t, f);
			fclose(f);
			for (line = text; line != NULL && *line != '\0';
			    line = nl) {
				if ((nl = strchr(line, '\n')) != NULL)
					*nl++ = '\0';
				printf("    %s\n", line);
			}
			free(text);
		}
	}
	cli_table_free(t);
}

int
cli_device_show(struct cli_client *c, int argc, char *argv[])
{
	enum { O_JSON = 256, O_HELP };
	static const struct option lo[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const chead[] = { "KIND", "VERSION", "STATE",
	    "CREATED", "CHANGED" };
	struct cli_table *t = NULL;
	struct cli_answer a;
	const json_t *d, *f, *jobs, *creds, *j, *h;
	char path[64], err[512], t1[32], t2[32], ver[16], took[24];
	char clean[CLI_CELL_MAX * 4], root[65] = "", why[1024];
	const char *cells[5];
	long long id;
	size_t i, nh, active = 0;
	time_t now = time(NULL);
	int ch, json = 0, r, status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov device show ID [--json]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: amtprov device show ID [--json]\n");
		return CLI_EXIT_USAGE;
	}
	if (cli_parse_id(argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	snprintf(path, sizeof(path), "/api/v1/devices/%lld", id);
	if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
	    sizeof(err))) != 0 || a.status != 200) {
		status = cli_report_failure(path, r, &a, err);
		goto out;
	}
	if (json) {
		status = print_json(a.body);
		goto out;
	}
	d = json_object_get(a.body, "device");
	f = json_object_get(a.body, "facts");
	jobs = json_object_get(a.body, "jobs");
	creds = json_object_get(a.body, "credentials");
#define P(label, val) do {						\
	cli_fmt_clean((val), sizeof(clean) - 4, clean, sizeof(clean));	\
	printf("  %-13s %s\n", (label), clean[0] != '\0' ? clean : "-");	\
} while (0)
	printf("device %lld\n", cli_json_int(d, "id"));
	P("host name", cli_json_str(d, "hostname"));
	P("FQDN", cli_json_str(d, "fqdn"));
	P("SMBIOS UUID", cli_json_str(d, "smbios_uuid"));
	P("AMT address", cli_json_str(d, "amt_address"));
	P("AMT status", cli_json_str(d, "status"));
	if (cli_json_str(d, "status_reason")[0] != '\0')
		P("reason", cli_json_str(d, "status_reason"));
	P("OTP hash", cli_json_bool(d, "has_otp") ? "held by the site" :
	    "none");
	cli_fmt_time(cli_json_int(d, "created"), t1, sizeof(t1));
	P("registered", t1);
	cli_fmt_time(cli_json_int(d, "last_seen"), t1, sizeof(t1));
	P("last seen", t1);
	printf("facts\n");
	if (f == NULL || !json_is_object(f))
		printf("  (no state message from the agent yet)\n");
	else {
		P("AMT version", cli_json_str(f, "amt_version"));
		P("build", cli_json_str(f, "build"));
		P("SKU", cli_json_str(f, "sku"));
		P("firmware UUID", cli_json_str(f, "uuid"));
		P("DNS suffix", cli_json_str(f, "dns_suffix"));
		P("wireless", cli_json_bool(f, "wireless") ? "yes" : "no");
		h = json_object_get(f, "cert_hashes");
		nh = json_is_array(h) ? json_array_size(h) : 0;
		for (i = 0; i < nh; i++)
			if (cli_json_bool(json_array_get(h, i), "is_active"))
				active++;
		snprintf(t1, sizeof(t1), "%zu (%zu active)", nh, active);
		P("root hashes", t1);
	}
	printf("escrow (passwords are never shown here: amtprov device "
	    "password ID --reveal)\n");
	if (!json_is_array(creds) || json_array_size(creds) == 0)
		printf("  (no password escrowed)\n");
	else {
		if (cli_table_new(5, chead, &t) != 0)
			goto out;
		for (i = 0; i < json_array_size(creds); i++) {
			j = json_array_get(creds, i);
			snprintf(ver, sizeof(ver), "v%lld",
			    cli_json_int(j, "version"));
			cli_fmt_time(cli_json_int(j, "created"), t1,
			    sizeof(t1));
			cli_fmt_time(cli_json_int(j, "changed"), t2,
			    sizeof(t2));
			cells[0] = cli_json_str(j, "kind");
			cells[1] = ver;
			cells[2] = cli_json_str(j, "state");
			cells[3] = t1;
			cells[4] = t2;
			if (cli_table_add(t, cells) != 0)
				goto out;
		}
		{
			char *text = NULL, *line, *nl;
			size_t len = 0;
			FILE *mf = open_memstream(&text, &len);

			if (mf == NULL)
				goto out;
			cli_table_print(t, mf);
			fclose(mf);
			for (line = text; line != NULL && *line != '\0';
			    line = nl) {
				if ((nl = strchr(line, '\n')) != NULL)
					*nl++ = '\0';
				printf("  %s\n", line);
			}
			free(text);
		}
	}
	printf("jobs (newest first)\n");
	if (!json_is_array(jobs) || json_array_size(jobs) == 0)
		printf("  (no job)\n");
	for (i = 0; json_is_array(jobs) && i < json_array_size(jobs); i++) {
		j = json_array_get(jobs, i);
		cli_fmt_time(cli_json_int(j, "created"), t1, sizeof(t1));
		cli_fmt_duration(cli_json_int(j, "created"),
		    cli_json_int(j, "finished"), now, took, sizeof(took));
		printf("  job %lld: %s, %s, attempts %lld, queued %s, %s %s\n",
		    cli_json_int(j, "id"), cli_json_str(j, "kind"),
		    cli_json_str(j, "state"), cli_json_int(j, "attempts"), t1,
		    cli_json_int(j, "finished") > 0 ? "took" : "open for",
		    took[0] == '+' ? took + 1 : took);
		if (cli_json_str(j, "last_error")[0] != '\0') {
			cli_fmt_clean(cli_json_str(j, "last_error"),
			    sizeof(clean) - 4, clean, sizeof(clean));
			printf("  last error: %s\n", clean);
			if (strcmp(cli_json_str(j, "state"), "failed") == 0) {
				if (root[0] == '\0')
					(void)cli_prov_root_load(
					    cli_client_ca_file(c), root,
					    sizeof(root));
				if (cli_explain(cli_json_str(j, "last_error"),
				    f, root, why, sizeof(why)))
					printf("  why: %s\n", why);
			}
		}
		show_steps(json_object_get(j, "steps"), now);
	}
#undef P
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	cli_table_free(t);
	cli_answer_reset(&a);
	return status;
}

/* ------------------------------------------------------------------ */
/* jobs                                                                 */
/* ------------------------------------------------------------------ */

int
cli_jobs(struct cli_client *c, int argc, char *argv[])
{
	enum { O_STATE = 256, O_KIND, O_DEVICE, O_LIMIT, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "state", required_argument, NULL, O_STATE },
		{ "kind", required_argument, NULL, O_KIND },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const head[] = { "JOB", "DEVICE", "KIND", "STATE",
	    "STEP", "ATTEMPTS", "LAST ERROR", "TOOK" };
	struct cli_table *t = NULL;
	char q[CLI_REQPATH_MAX] = "/api/v1/jobs?", idt[24], devt[24], att[16];
	char took[24];
	json_t *jobs = NULL, *out = NULL, *j;
	const char *cells[8];
	long long total, id;
	size_t i, limit = 100;
	time_t now = time(NULL);
	int ch, json = 0, status = CLI_EXIT_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_STATE:
			if (!in_list(optarg, job_states)) {
				fprintf(stderr, "amtprov: --state: one of "
				    "queued, running, done, failed, "
				    "cancelled\n");
				return CLI_EXIT_USAGE;
			}
			query_add(q, sizeof(q), "state", optarg);
			break;
		case O_KIND:
			if (!in_list(optarg, job_kinds)) {
				fprintf(stderr, "amtprov: --kind: one of "
				    "provision, rotate, unprovision\n");
				return CLI_EXIT_USAGE;
			}
			query_add(q, sizeof(q), "kind", optarg);
			break;
		case O_DEVICE:
			if (cli_parse_id(optarg, &id) != 0)
				return CLI_EXIT_USAGE;
			query_add(q, sizeof(q), "device_id", optarg);
			break;
		case O_LIMIT:
			if (parse_limit(optarg, &limit) != 0)
				return CLI_EXIT_USAGE;
			break;
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov jobs [--state S] [--kind K] "
			    "[--device ID] [--limit N] [--json]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "amtprov jobs: unexpected arguments\n");
		return CLI_EXIT_USAGE;
	}
	if ((status = fetch_list(c, q, "jobs", limit, &jobs, &total)) != 0)
		return status;
	status = CLI_EXIT_FAIL;
	if (json) {
		out = json_pack("{s:I, s:O}", "total", (json_int_t)total,
		    "jobs", jobs);
		status = out != NULL ? print_json(out) : CLI_EXIT_FAIL;
		goto out;
	}
	if (cli_table_new(8, head, &t) != 0)
		goto out;
	for (i = 0; i < json_array_size(jobs); i++) {
		j = json_array_get(jobs, i);
		snprintf(idt, sizeof(idt), "%lld", cli_json_int(j, "id"));
		snprintf(devt, sizeof(devt), "%lld", cli_json_int(j,
		    "device_id"));
		snprintf(att, sizeof(att), "%lld", cli_json_int(j,
		    "attempts"));
		cli_fmt_duration(cli_json_int(j, "created"),
		    cli_json_int(j, "finished"), now, took, sizeof(took));
		cells[0] = idt;
		cells[1] = devt;
		cells[2] = cli_json_str(j, "kind");
		cells[3] = cli_json_str(j, "state");
		cells[4] = cli_json_str(j, "step")[0] != '\0' ?
		    cli_json_str(j, "step") : "-";
		cells[5] = att;
		cells[6] = cli_json_str(j, "last_error")[0] != '\0' ?
		    cli_json_str(j, "last_error") : "-";
		cells[7] = took;
		if (cli_table_add(t, cells) != 0)
			goto out;
	}
	if (cli_table_print(t, stdout) != 0)
		goto out;
	if ((size_t)total > json_array_size(jobs))
		printf("(%zu of %lld jobs shown, newest first; --limit N for "
		    "more)\n", json_array_size(jobs), total);
	else if (total == 0)
		printf("(no jobs)\n");
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	cli_table_free(t);
	json_decref(out);
	json_decref(jobs);
	return status;
}

/* ------------------------------------------------------------------ */
/* audit                                                                */
/* ------------------------------------------------------------------ */

int
cli_audit(struct cli_client *c, int argc, char *argv[])
{
	enum { O_DEVICE = 256, O_ACTOR, O_SINCE, O_LIMIT, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "device", required_argument, NULL, O_DEVICE },
		{ "actor", required_argument, NULL, O_ACTOR },
		{ "since", required_argument, NULL, O_SINCE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const head[] = { "ID", "TIME (UTC)", "ACTOR",
	    "ACTION", "DEVICE", "DETAIL" };
	struct cli_table *t = NULL;
	char q[CLI_REQPATH_MAX] = "/api/v1/audit?", idt[24], devt[24];
	char when[32];
	json_t *recs = NULL, *out = NULL, *j;
	const char *cells[6];
	long long total, v;
	size_t i, limit = 100;
	int ch, json = 0, status = CLI_EXIT_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_DEVICE:
			if (cli_parse_id(optarg, &v) != 0)
				return CLI_EXIT_USAGE;
			query_add(q, sizeof(q), "device_id", optarg);
			break;
		case O_ACTOR:
			if (strlen(optarg) > 64 || query_add(q, sizeof(q),
			    "actor", optarg) != 0) {
				fprintf(stderr, "amtprov: --actor: at most 64 "
				    "characters\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_SINCE:
			if (amtp_parse_int(optarg, 0, INT64_MAX, &v) != 0) {
				fprintf(stderr, "amtprov: --since: UNIX "
				    "seconds\n");
				return CLI_EXIT_USAGE;
			}
			query_add(q, sizeof(q), "since", optarg);
			break;
		case O_LIMIT:
			if (parse_limit(optarg, &limit) != 0)
				return CLI_EXIT_USAGE;
			break;
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov audit [--device ID] [--actor A] "
			    "[--since UNIXTIME] [--limit N] [--json]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "amtprov audit: unexpected arguments\n");
		return CLI_EXIT_USAGE;
	}
	if ((status = fetch_list(c, q, "records", limit, &recs, &total)) != 0)
		return status;
	status = CLI_EXIT_FAIL;
	if (json) {
		out = json_pack("{s:I, s:O}", "total", (json_int_t)total,
		    "records", recs);
		status = out != NULL ? print_json(out) : CLI_EXIT_FAIL;
		goto out;
	}
	if (cli_table_new(6, head, &t) != 0)
		goto out;
	for (i = 0; i < json_array_size(recs); i++) {
		j = json_array_get(recs, i);
		snprintf(idt, sizeof(idt), "%lld", cli_json_int(j, "id"));
		if (cli_json_int(j, "device_id") > 0)
			snprintf(devt, sizeof(devt), "%lld", cli_json_int(j,
			    "device_id"));
		else
			snprintf(devt, sizeof(devt), "-");
		cli_fmt_time(cli_json_int(j, "at"), when, sizeof(when));
		cells[0] = idt;
		cells[1] = when;
		cells[2] = cli_json_str(j, "actor");
		cells[3] = cli_json_str(j, "action");
		cells[4] = devt;
		cells[5] = cli_json_str(j, "detail");
		if (cli_table_add(t, cells) != 0)
			goto out;
	}
	if (cli_table_print(t, stdout) != 0)
		goto out;
	if ((size_t)total > json_array_size(recs))
		printf("(%zu of %lld records shown, newest first; --limit N "
		    "for more)\n", json_array_size(recs), total);
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	cli_table_free(t);
	json_decref(out);
	json_decref(recs);
	return status;
}
