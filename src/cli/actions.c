/*
 * amtprov - cli/actions.c: the admin CLI's actions on a device (program
 * amtprov): requeue, cancel, unprovision, rotate, and the password view
 * with its audited reveal.  See cli.h.
 *
 * Each action is one POST of the site API with an admin token; the site
 * writes the audit record (with --reason, when given) before it acts, and
 * for a reveal before it sends the password.  A revealed password goes to
 * stdout only, and its copies in this process are wiped.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

static json_t *
reason_body(const char *reason)
{
	if (reason == NULL)
		return json_object();
	return json_pack("{s:s}", "reason", reason);
}

static int
check_reason(const char *reason)
{
	if (reason != NULL && strlen(reason) > CLI_REASON_MAX) {
		fprintf(stderr, "amtprov: --reason: at most %d characters\n",
		    CLI_REASON_MAX);
		return -1;
	}
	return 0;
}

/* Does the device exist?  Exit status: 0 yes, else the failure's. */
static int
device_exists(struct cli_client *c, long long id)
{
	struct cli_answer a;
	char path[64], err[512];
	int r, status = CLI_EXIT_OK;

	memset(&a, 0, sizeof(a));
	snprintf(path, sizeof(path), "/api/v1/devices/%lld", id);
	if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
	    sizeof(err))) != 0 || a.status != 200)
		status = cli_report_failure(path, r, &a, err);
	cli_answer_reset(&a);
	return status;
}

int
cli_action(struct cli_client *c, const char *action, int argc, char *argv[])
{
	enum { O_REASON = 256, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "reason", required_argument, NULL, O_REASON },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a;
	const char *reason = NULL;
	const json_t *job, *ids;
	char path[96], err[512];
	json_t *body = NULL;
	long long id;
	size_t i;
	int ch, json = 0, r, status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_REASON: reason = optarg; break;
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov %s ID [--reason TEXT] [--json]\n",
			    action);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: amtprov %s ID [--reason TEXT] "
		    "[--json]\n", action);
		return CLI_EXIT_USAGE;
	}
	if (cli_parse_id(argv[optind], &id) != 0 || check_reason(reason) != 0)
		return CLI_EXIT_USAGE;
	if (strcmp(action, "rotate") == 0) {
		/*
		 * Rotation is a "rotate" job that a service point runs
		 * (two-phase escrow, as in provisioning), queued by POST
		 * /devices/{id}/rotate.  A site older than that endpoint
		 * answers 404 on an existing device: said below.
		 */
		if ((status = device_exists(c, id)) != CLI_EXIT_OK)
			return status;
	}
	snprintf(path, sizeof(path), "/api/v1/devices/%lld/%s", id, action);
	if ((body = reason_body(reason)) == NULL)
		goto out;
	if ((r = cli_client_call(c, "POST", path, body, &a, err,
	    sizeof(err))) != 0) {
		status = cli_report_failure(path, r, &a, err);
		goto out;
	}
	if (strcmp(action, "rotate") == 0 && (a.status == 404 ||
	    a.status == 405)) {
		fprintf(stderr, "amtprov: rotate: not built yet: this site has "
		    "no password rotation (the API answered %ld to POST %s; "
		    "rotation needs a \"rotate\" job in the site API and a "
		    "service point that runs it)\n", a.status, path);
		status = CLI_EXIT_UNSUPPORTED;
		goto out;
	}
	if (a.status < 200 || a.status >= 300) {
		if (a.status == 409 && strcmp(a.error, "job_open") == 0)
			fprintf(stderr, "amtprov: device %lld has a job queued "
			    "or running already (amtprov jobs --device %lld)\n",
			    id, id);
		status = cli_report_failure(path, 0, &a, err);
		goto out;
	}
	if (json) {
		if (json_dumpf(a.body, stdout, JSON_COMPACT) != 0)
			goto out;
		putchar('\n');
	} else if ((ids = json_object_get(a.body, "cancelled_jobs")) != NULL &&
	    json_is_array(ids)) {
		printf("device %lld: cancelled job%s", id,
		    json_array_size(ids) == 1 ? "" : "s");
		for (i = 0; i < json_array_size(ids); i++)
			printf(" %lld", (long long)json_integer_value(
			    json_array_get(ids, i)));
		printf("\n");
	} else if ((job = json_object_get(a.body, "job")) != NULL) {
		printf("device %lld: %s job %lld %s%s\n", id,
		    cli_json_str(job, "kind"), cli_json_int(job, "id"),
		    cli_json_str(job, "state"), a.status == 200 &&
		    strcmp(action, "unprovision") == 0 ? " (already queued)" :
		    "");
	} else
		printf("device %lld: %s: done (HTTP %ld)\n", id, action,
		    a.status);
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	json_decref(body);
	cli_answer_reset(&a);
	return status;
}

/* Wipes the password member of an answer before it is freed. */
static void
wipe_password(json_t *body)
{
	json_t *pw = json_object_get(body, "password");
	const char *s;

	if (pw != NULL && json_is_string(pw) &&
	    (s = json_string_value(pw)) != NULL)
		explicit_bzero((char *)(uintptr_t)s, json_string_length(pw));
}

int
cli_password(struct cli_client *c, int argc, char *argv[])
{
	enum { O_KIND = 256, O_PENDING, O_REVEAL, O_REASON, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "kind", required_argument, NULL, O_KIND },
		{ "pending", no_argument, NULL, O_PENDING },
		{ "reveal", no_argument, NULL, O_REVEAL },
		{ "reason", required_argument, NULL, O_REASON },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_answer a;
	const char *kind = "admin", *reason = NULL;
	const json_t *creds, *cr, *pw;
	char path[128], err[512];
	json_t *body = NULL;
	long long id;
	size_t i, shown = 0;
	int ch, json = 0, reveal = 0, pending = 0, r, status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_KIND:
			if (strcmp(optarg, "admin") != 0 &&
			    strcmp(optarg, "mebx") != 0 &&
			    strcmp(optarg, "directory") != 0) {
				fprintf(stderr, "amtprov: --kind: admin, mebx "
				    "or directory\n");
				return CLI_EXIT_USAGE;
			}
			kind = optarg;
			break;
		case O_PENDING: pending = 1; break;
		case O_REVEAL: reveal = 1; break;
		case O_REASON: reason = optarg; break;
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov device password ID [--kind "
			    "admin|mebx|directory] [--pending]\n"
			    "                [--reveal [--reason TEXT]] "
			    "[--json]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: amtprov device password ID [--kind K] "
		    "[--pending] [--reveal [--reason TEXT]] [--json]\n");
		return CLI_EXIT_USAGE;
	}
	if (cli_parse_id(argv[optind], &id) != 0 || check_reason(reason) != 0)
		return CLI_EXIT_USAGE;
	if (!reveal) {
		/* the escrow state only: versions, never a value */
		snprintf(path, sizeof(path), "/api/v1/devices/%lld", id);
		if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
		    sizeof(err))) != 0 || a.status != 200) {
			status = cli_report_failure(path, r, &a, err);
			goto out;
		}
		creds = json_object_get(a.body, "credentials");
		if (json) {
			json_t *o = json_pack("{s:I, s:s, s:O}", "device_id",
			    (json_int_t)id, "kind", kind, "versions",
			    json_is_array(creds) ? creds : json_null());

			if (o == NULL || json_dumpf(o, stdout,
			    JSON_COMPACT) != 0) {
				json_decref(o);
				goto out;
			}
			json_decref(o);
			putchar('\n');
		} else {
			printf("device %lld: %s password versions:", id, kind);
			for (i = 0; json_is_array(creds) &&
			    i < json_array_size(creds); i++) {
				cr = json_array_get(creds, i);
				if (strcmp(cli_json_str(cr, "kind"), kind) != 0)
					continue;
				printf(" v%lld %s", cli_json_int(cr, "version"),
				    cli_json_str(cr, "state"));
				shown++;
			}
			printf("%s\n(add --reveal to show the %s one; the site "
			    "records who asked)\n", shown == 0 ? " none" : "",
			    pending ? "pending" : "current");
		}
		status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/devices/%lld/passwords/%s/reveal"
	    "%s", id, kind, pending ? "?state=pending" : "");
	if ((body = reason_body(reason)) == NULL)
		goto out;
	if ((r = cli_client_call(c, "POST", path, body, &a, err,
	    sizeof(err))) != 0 || a.status != 200) {
		if (r == 0 && a.status == 404 && strcmp(a.error,
		    "not_found") == 0)
			fprintf(stderr, "amtprov: device %lld: no %s %s "
			    "password escrowed (or no such device)\n", id,
			    pending ? "pending" : "current", kind);
		status = cli_report_failure(path, r, &a, err);
		goto out;
	}
	pw = json_object_get(a.body, "password");
	if (pw == NULL || !json_is_string(pw)) {
		fprintf(stderr, "amtprov: %s: no password in the answer\n",
		    path);
		goto out;
	}
	if (json) {
		if (json_dumpf(a.body, stdout, JSON_COMPACT) != 0)
			goto out;
		putchar('\n');
	} else {
		/* the value alone on stdout (for a script); the facts on
		 * stderr */
		fprintf(stderr, "device %lld: %s password v%lld (%s); this "
		    "reveal is in the audit log\n", id, kind,
		    cli_json_int(a.body, "version"),
		    cli_json_str(a.body, "state"));
		printf("%s\n", json_string_value(pw));
	}
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	wipe_password(a.body);
	json_decref(body);
	cli_answer_reset(&a);
	return status;
}
