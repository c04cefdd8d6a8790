/*
 * amtprov - cli/watch.c: the live fleet view and the fleet summary
 * (program amtprov).  See cli.h.
 *
 * `amtprov watch` polls the site API (counts only: a list call with
 * limit=1 per device status and per job state, so a tick costs the same
 * for 10 devices as for 10,000) and draws one progress line, redrawn in
 * place on a terminal; when stdout is not a terminal it prints a plain line
 * every few seconds instead.  It ends when the work is done (no job queued
 * or running, and the expected devices are known, and the process given
 * with --while-pid has ended), at --timeout, or on Ctrl-C, and then prints
 * the summary: devices by status, jobs by state, and each failed job with
 * its step and reason.  `amtprov summary` prints the summary alone.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

/* Seconds between two plain lines when stdout is not a terminal. */
#define PLAIN_EVERY	5
/* Width of the bar. */
#define BAR_WIDTH	30

enum { ST_UNKNOWN, ST_NOTSUP, ST_DETECTED, ST_NOTPROV, ST_PROV, ST_EXTPROV,
	ST__MAX };
enum { JS_QUEUED, JS_RUNNING, JS_DONE, JS_FAILED, JS_CANCELLED, JS__MAX };

static const char *const st_names[ST__MAX] = { "unknown", "not supported",
    "detected", "not provisioned", "provisioned", "externally provisioned" };
static const char *const js_names[JS__MAX] = { "queued", "running", "done",
    "failed", "cancelled" };

struct counts {
	long long	devices;
	long long	st[ST__MAX];
	long long	js[JS__MAX];
};

/* Seconds a watch keeps polling a site that stopped answering (a site
 * restarting) before it gives up. */
#define OUTAGE_MAX	60

static volatile sig_atomic_t interrupted;
/* While set, failed polls are not reported (one message per outage). */
static int quiet_polls;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/*
 * Is process pid still running?  A zombie (ended, not yet waited for by
 * its parent, such as the demo script's agent batch while this watch runs
 * in the foreground) counts as ended.
 */
static int
is_running(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) == -1 && errno != EPERM)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;	/* no /proc: trust kill() */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 1;
	return p[2] != 'Z' && p[2] != 'X';
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The total of a list call with limit=1.  0 or an exit status. */
static int
count(struct cli_client *c, const char *path, long long *n)
{
	struct cli_answer a;
	char err[512];
	int r, status = CLI_EXIT_OK;

	*n = 0;
	memset(&a, 0, sizeof(a));
	if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
	    sizeof(err))) != 0 || a.status != 200) {
		if (quiet_polls)
			status = r == AMTP_E_CLOSED ? CLI_EXIT_UNREACHABLE :
			    CLI_EXIT_FAIL;
		else
			status = cli_report_failure(path, r, &a, err);
	} else
		*n = cli_json_int(a.body, "total");
	cli_answer_reset(&a);
	return status;
}

static int
get_counts(struct cli_client *c, struct counts *k)
{
	char path[CLI_REQPATH_MAX], esc[64];
	int i, status;

	memset(k, 0, sizeof(*k));
	if ((status = count(c, "/api/v1/devices?limit=1", &k->devices)) != 0)
		return status;
	for (i = 0; i < ST__MAX; i++) {
		cli_query_escape(st_names[i], esc, sizeof(esc));
		snprintf(path, sizeof(path), "/api/v1/devices?status=%s&"
		    "limit=1", esc);
		if ((status = count(c, path, &k->st[i])) != 0)
			return status;
	}
	for (i = 0; i < JS__MAX; i++) {
		snprintf(path, sizeof(path), "/api/v1/jobs?kind=provision&"
		    "state=%s&limit=1", js_names[i]);
		if ((status = count(c, path, &k->js[i])) != 0)
			return status;
	}
	return CLI_EXIT_OK;
}

static void
elapsed_text(double secs, char *dst, size_t dstsz)
{
	long s = (long)secs;

	snprintf(dst, dstsz, "%ld:%02ld", s / 60, s % 60);
}

/* One progress line (without a line end). */
static void
progress_line(const struct counts *k, long long expect, double secs,
    double rate, char *dst, size_t dstsz)
{
	char bar[BAR_WIDTH + 3], el[48];
	long long target, finished;

	finished = k->js[JS_DONE] + k->js[JS_FAILED] + k->js[JS_CANCELLED];
	target = k->devices > expect ? k->devices : expect;
	if (target < finished)
		target = finished;
	cli_fmt_bar((size_t)finished, (size_t)target, BAR_WIDTH, bar,
	    sizeof(bar));
	elapsed_text(secs, el, sizeof(el));
	snprintf(dst, dstsz, "%s %lld/%lld  provisioned %lld  failed %lld  "
	    "running %lld  queued %lld  %.1f/s  %s", bar, finished, target,
	    k->st[ST_PROV], k->js[JS_FAILED], k->js[JS_RUNNING],
	    k->js[JS_QUEUED], rate, el);
}

/* Devices by AMT status and provisioning jobs by state, side by side:
 *   AMT STATUS        DEVICES  JOB STATE  JOBS
 *   provisioned       48       done       48 ... */
static int
summary_table(const struct counts *k)
{
	static const char *const head[] = { "AMT STATUS", "DEVICES",
	    "JOB STATE", "JOBS" };
	struct cli_table *t = NULL;
	const char *cells[4];
	char n1[24], n2[24];
	int i, r, shown[ST__MAX], ns = 0;

	for (i = 0; i < ST__MAX; i++)
		if (k->st[i] > 0)
			shown[ns++] = i;
	if ((r = cli_table_new(4, head, &t)) != 0)
		return r;
	for (i = 0; i < (ns > JS__MAX ? ns : JS__MAX) + 1 && r == 0; i++) {
		n1[0] = n2[0] = '\0';
		cells[0] = cells[2] = "";
		if (i < ns) {
			cells[0] = st_names[shown[i]];
			snprintf(n1, sizeof(n1), "%lld", k->st[shown[i]]);
		} else if (i == ns) {
			cells[0] = "total";
			snprintf(n1, sizeof(n1), "%lld", k->devices);
		}
		if (i < JS__MAX) {
			cells[2] = js_names[i];
			snprintf(n2, sizeof(n2), "%lld", k->js[i]);
		}
		cells[1] = n1;
		cells[3] = n2;
		if (cells[0][0] != '\0' || cells[2][0] != '\0')
			r = cli_table_add(t, cells);
	}
	if (r == 0)
		r = cli_table_print(t, stdout);
	cli_table_free(t);
	return r;
}

/*
 * The summary: devices by status, jobs by state, failed jobs with their
 * reason.  secs < 0: no timing line.
 */
static int
print_summary(struct cli_client *c, const struct counts *k, double secs,
    int json)
{
	struct cli_answer a;
	char path[CLI_REQPATH_MAX], err[512], el[48], root[65] = "";
	char why[1024], clean[1024];
	json_t *failed = NULL, *o = NULL, *st = NULL, *js = NULL, *fl = NULL;
	const json_t *j, *d;
	const char *host;
	size_t i;
	int r, s, status = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	snprintf(path, sizeof(path), "/api/v1/jobs?kind=provision&state=failed"
	    "&limit=%d", CLI_PAGE);
	if ((r = cli_client_call(c, "GET", path, NULL, &a, err,
	    sizeof(err))) != 0 || a.status != 200) {
		status = cli_report_failure(path, r, &a, err);
		goto out;
	}
	failed = json_incref(json_object_get(a.body, "jobs"));
	cli_answer_reset(&a);
	if (!json_is_array(failed))
		goto out;
	if ((fl = json_array()) == NULL)
		goto out;
	for (i = 0; i < json_array_size(failed); i++) {
		j = json_array_get(failed, i);
		snprintf(path, sizeof(path), "/api/v1/devices/%lld",
		    cli_json_int(j, "device_id"));
		host = "";
		d = NULL;
		if (cli_client_call(c, "GET", path, NULL, &a, err,
		    sizeof(err)) == 0 && a.status == 200) {
			d = json_object_get(a.body, "device");
			host = cli_json_str(d, "hostname");
			d = json_object_get(a.body, "facts");
		}
		if (i == 0)
			(void)cli_prov_root_load(cli_client_ca_file(c), root,
			    sizeof(root));
		cli_explain(cli_json_str(j, "last_error"), d, root, why,
		    sizeof(why));
		if (json_array_append_new(fl, json_pack("{s:I, s:s, s:I, s:s, "
		    "s:s, s:s}", "device_id", (json_int_t)cli_json_int(j,
		    "device_id"), "hostname", host, "job_id",
		    (json_int_t)cli_json_int(j, "id"), "step", cli_json_str(j,
		    "step"), "reason", cli_json_str(j, "last_error"), "why",
		    why)) != 0)
			goto out;
		cli_answer_reset(&a);
	}
	if (json) {
		if ((st = json_object()) == NULL || (js = json_object()) == NULL)
			goto out;
		for (s = 0; s < ST__MAX; s++)
			json_object_set_new(st, st_names[s],
			    json_integer(k->st[s]));
		for (s = 0; s < JS__MAX; s++)
			json_object_set_new(js, js_names[s],
			    json_integer(k->js[s]));
		o = json_pack("{s:I, s:O, s:O, s:O}", "devices",
		    (json_int_t)k->devices, "status", st, "jobs", js,
		    "failed", fl);
		if (o != NULL && secs >= 0)
			json_object_set_new(o, "seconds", json_real(secs));
		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0)
			goto out;
		putchar('\n');
		status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		goto out;
	}
	if (secs >= 0) {
		elapsed_text(secs, el, sizeof(el));
		printf("summary after %s: %lld devices, %lld provisioned "
		    "(%.2f/s)\n", el, k->devices, k->st[ST_PROV],
		    secs > 0 ? (double)(k->js[JS_DONE]) / secs : 0.0);
	} else
		printf("summary: %lld devices, %lld provisioned\n", k->devices,
		    k->st[ST_PROV]);
	if (summary_table(k) != 0)
		goto out;
	if (json_array_size(fl) > 0)
		printf("failed (the step that stopped the job, and why):\n");
	for (i = 0; i < json_array_size(fl); i++) {
		j = json_array_get(fl, i);
		cli_fmt_clean(cli_json_str(j, "hostname"), 64, clean,
		    sizeof(clean));
		printf("  %s (device %lld, job %lld)\n", clean,
		    cli_json_int(j, "device_id"), cli_json_int(j, "job_id"));
		cli_fmt_clean(cli_json_str(j, "reason"), 600, clean,
		    sizeof(clean));
		printf("    %s\n", clean);
		if (cli_json_str(j, "why")[0] != '\0')
			printf("    why: %s\n", cli_json_str(j, "why"));
	}
	status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
 out:
	cli_answer_reset(&a);
	json_decref(o);
	json_decref(st);
	json_decref(js);
	json_decref(fl);
	json_decref(failed);
	return status;
}

int
cli_summary(struct cli_client *c, int argc, char *argv[])
{
	struct counts k;
	int status, json = 0;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: amtprov summary [--json]\n");
		return CLI_EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: amtprov summary [--json]\n");
		return CLI_EXIT_USAGE;
	}
	if ((status = get_counts(c, &k)) != 0)
		return status;
	return print_summary(c, &k, -1, json);
}

int
cli_watch(struct cli_client *c, int argc, char *argv[])
{
	enum { O_INTERVAL = 256, O_TIMEOUT, O_EXPECT, O_PID, O_JSON, O_HELP };
	static const struct option lo[] = {
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "while-pid", required_argument, NULL, O_PID },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction sa, old_int, old_term;
	struct counts k;
	struct timespec ts;
	char line[256] = "";
	long long interval_ms = 1000, timeout = 0, expect = 0, pid = 0;
	long long finished, start_finished = -1;
	double t0, t, last_plain = -1e9, rate, outage = -1;
	int ch, tty, json = 0, status, ended = 0, timed_out = 0, polls = 0;
	int shown = 0;
	int pid_alive;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_INTERVAL:
			if (amtp_parse_int(optarg, 100, 60000,
			    &interval_ms) != 0) {
				fprintf(stderr, "amtprov: --interval: "
				    "milliseconds, 100 to 60000\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_TIMEOUT:
			if (amtp_parse_int(optarg, 1, 7 * 86400,
			    &timeout) != 0) {
				fprintf(stderr, "amtprov: --timeout: "
				    "seconds\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_EXPECT:
			if (amtp_parse_int(optarg, 0, CLI_ROWS_MAX,
			    &expect) != 0) {
				fprintf(stderr, "amtprov: --expect: a device "
				    "count\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_PID:
			if (amtp_parse_int(optarg, 1, INT32_MAX, &pid) != 0) {
				fprintf(stderr, "amtprov: --while-pid: a "
				    "process id\n");
				return CLI_EXIT_USAGE;
			}
			break;
		case O_JSON: json = 1; break;
		case O_HELP:
			printf("usage: amtprov watch [--expect N] [--while-pid "
			    "PID] [--timeout S]\n"
			    "                     [--interval MS] [--json]\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "amtprov watch: unexpected arguments\n");
		return CLI_EXIT_USAGE;
	}
	memset(&k, 0, sizeof(k));
	tty = isatty(STDOUT_FILENO) && !json;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	t0 = now_mono();
	for (;;) {
		if ((status = get_counts(c, &k)) != 0) {
			/*
			 * The site stopped answering (restarting?): keep
			 * polling, quietly, for OUTAGE_MAX seconds; a refusal
			 * (401, 403, 404) ends the watch at once.
			 */
			if (status != CLI_EXIT_UNREACHABLE &&
			    status != CLI_EXIT_FAIL)
				goto out;
			if (outage < 0) {
				outage = now_mono();
				quiet_polls = 1;
				fprintf(stderr, "amtprov: watch: the site does "
				    "not answer; trying again for %d s\n",
				    OUTAGE_MAX);
			} else if (now_mono() - outage > OUTAGE_MAX) {
				quiet_polls = 0;
				fprintf(stderr, "amtprov: watch: the site did "
				    "not answer for %d s\n", OUTAGE_MAX);
				goto out;
			}
			if (interrupted)
				break;
			ts.tv_sec = interval_ms / 1000;
			ts.tv_nsec = (interval_ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
			if (interrupted)
				break;
			continue;
		}
		if (outage >= 0) {
			fprintf(stderr, "amtprov: watch: the site answers "
			    "again\n");
			outage = -1;
			quiet_polls = 0;
		}
		polls++;
		t = now_mono() - t0;
		finished = k.js[JS_DONE] + k.js[JS_FAILED] +
		    k.js[JS_CANCELLED];
		if (start_finished < 0)
			start_finished = finished;
		rate = t > 0.5 ? (double)(finished - start_finished) / t : 0;
		progress_line(&k, expect, t, rate, line, sizeof(line));
		if (tty) {
			printf("\r%s\033[K", line);
			fflush(stdout);
		} else if (!json && t - last_plain >= PLAIN_EVERY) {
			printf("%s\n", line);
			fflush(stdout);
			last_plain = t;
			shown = 1;
		} else
			shown = 0;
		/*
		 * Done when no job is open and no more devices will come:
		 * with --while-pid, once that process (the batch of agents)
		 * has ended, even when some agent failed and fewer devices
		 * than --expect registered; without it, once --expect
		 * devices are known.
		 */
		pid_alive = pid > 0 && is_running((pid_t)pid);
		if (k.js[JS_QUEUED] + k.js[JS_RUNNING] == 0 && polls > 1 &&
		    (pid > 0 ? !pid_alive : k.devices >= expect)) {
			ended = 1;
			break;
		}
		if (timeout > 0 && t >= (double)timeout) {
			timed_out = 1;
			break;
		}
		if (interrupted)
			break;
		ts.tv_sec = interval_ms / 1000;
		ts.tv_nsec = (interval_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if (interrupted)
			break;
	}
	if (tty)
		printf("\n");
	else if (!json && !shown)
		printf("%s\n", line);	/* the last state, once */
	if (timed_out && !json)
		printf("watch: timed out after %llds with %lld job(s) queued "
		    "or running\n", timeout, k.js[JS_QUEUED] +
		    k.js[JS_RUNNING]);
	if (interrupted) {
		/*
		 * Ctrl-C: no summary (the site may be stopping too).  End by
		 * the signal itself, so that a calling shell script sees it
		 * (bash acts on SIGINT only when its child died of it).
		 */
		if (!json)
			printf("watch: interrupted\n");
		fflush(stdout);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		signal((int)interrupted, SIG_DFL);
		raise((int)interrupted);
		return 130;
	}
	if ((status = print_summary(c, &k, now_mono() - t0, json)) != 0)
		goto out;
	if (!ended || k.js[JS_FAILED] > 0)
		status = CLI_EXIT_INCOMPLETE;
	else
		status = CLI_EXIT_OK;
 out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}
