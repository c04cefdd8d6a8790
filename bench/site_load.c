/*
 * amtprov - bench/site_load.c: load benchmark of the site API (role site).
 *
 * N simulated agents, all at once, each on its own keep-alive HTTPS
 * connection (libcurl multi interface, one thread): register with the
 * enrolment secret, post the OTP hash, post the state message.  Prints the
 * error count, throughput and latency percentiles, both end to end (with
 * the TCP and TLS handshake that the first request of each agent pays) and
 * server-side (from request sent to answer, curl's total minus pretransfer
 * time).  Exit status 0 when there was no error.
 *
 * usage: bench_site_load -u https://127.0.0.1:PORT -k CA.pem -s SECRET_FILE
 *            [-n AGENTS] [-c MAX_CONNECTIONS] [-p UUID_PREFIX] [-r RATE]
 *
 * By default every agent starts at once (the burst after a site-wide
 * policy push).  -r RATE starts RATE agents per second instead (a fleet
 * booting over a morning).
 */
#include <sys/epoll.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "amtprov/str.h"

#define AGENTS_MAX	100000
#define RESP_MAX	4096
#define BODY_MAX	4096
#define TOKEN_MAX	256

enum stage { ST_REGISTER = 0, ST_OTP, ST_STATE, ST_DONE };
static const char *const stage_names[] = { "register", "otp", "state" };

struct agent {
	CURL		*h;
	struct curl_slist *hdrs;
	enum stage	 stage;
	char		 uuid[37];
	char		 auth[TOKEN_MAX + 32];
	char		 body[BODY_MAX];
	char		 resp[RESP_MAX];
	size_t		 resplen;
	int		 truncated;
};

struct lat {
	double	*v;
	size_t	 n;
};

static const char *url, *cacert, *prefix = "5a17e000";
static char secret[512];
static long errors;
static struct lat total_lat[ST_DONE], server_lat[ST_DONE];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct agent *a = arg;
	size_t len = sz * n;

	if (a->resplen + len >= sizeof(a->resp)) {
		a->truncated = 1;
		return len;
	}
	memcpy(a->resp + a->resplen, p, len);
	a->resplen += len;
	a->resp[a->resplen] = '\0';
	return len;
}

static int
setup_request(struct agent *a, int i)
{
	char path[512], hdr[sizeof(secret) + 64];
	const char *auth;
	int n;

	a->resplen = 0;
	a->resp[0] = '\0';
	a->truncated = 0;
	switch (a->stage) {
	case ST_REGISTER:
		n = snprintf(a->body, sizeof(a->body), "{\"hostname\":"
		    "\"bench%d\",\"domain\":\"bench.example.test\","
		    "\"smbios_uuid\":\"%s\"}", i, a->uuid);
		snprintf(path, sizeof(path), "%s/api/v1/agents/register", url);
		auth = secret;
		break;
	case ST_OTP:
		n = snprintf(a->body, sizeof(a->body), "{\"otp_sha256\":"
		    "\"%064x\",\"amt_address\":\"127.20.%d.%d\"}", i,
		    (i / 250) % 256, i % 250 + 1);
		snprintf(path, sizeof(path), "%s/api/v1/agents/otp", url);
		auth = a->auth;
		break;
	case ST_STATE:
		n = snprintf(a->body, sizeof(a->body), "{\"amt_version\":"
		    "\"16.1.25\",\"build\":\"2049\",\"sku\":\"16392\",\"uuid\":"
		    "\"%s\",\"dns_suffix\":\"bench.example.test\","
		    "\"control_mode\":\"none\",\"provisioning_state\":\"in\","
		    "\"cert_hashes\":[{\"name\":\"Bench Root\",\"hash\":"
		    "\"%064x\",\"is_default\":true,\"is_active\":true}]}",
		    a->uuid, 4242);
		snprintf(path, sizeof(path), "%s/api/v1/agents/state", url);
		auth = a->auth;
		break;
	default:
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof(a->body))
		return -1;
	curl_slist_free_all(a->hdrs);
	a->hdrs = NULL;
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", auth);
	a->hdrs = curl_slist_append(a->hdrs, hdr);
	a->hdrs = curl_slist_append(a->hdrs, "Content-Type: application/json");
	a->hdrs = curl_slist_append(a->hdrs, "Expect:");
	curl_easy_setopt(a->h, CURLOPT_URL, path);
	curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
	curl_easy_setopt(a->h, CURLOPT_POSTFIELDS, a->body);
	curl_easy_setopt(a->h, CURLOPT_POSTFIELDSIZE, (long)n);
	return 0;
}

static void
record(struct lat *l, double v)
{
	l->v[l->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(struct lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return l->v[i];
}

/* The answer to a's current request arrived: check it, move on. */
static int
finish(struct agent *a, CURLcode cc)
{
	long code = 0;
	curl_off_t tot = 0, pre = 0;
	json_t *j;
	const char *tok;

	curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(a->h, CURLINFO_TOTAL_TIME_T, &tot);
	curl_easy_getinfo(a->h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	if (cc != CURLE_OK || code < 200 || code > 299 || a->truncated) {
		if (errors < 10)
			fprintf(stderr, "agent %s %s: %s, HTTP %ld: %.200s\n",
			    a->uuid, stage_names[a->stage],
			    curl_easy_strerror(cc), code, a->resp);
		errors++;
		a->stage = ST_DONE;
		return 0;
	}
	record(&total_lat[a->stage], (double)tot / 1e6);
	record(&server_lat[a->stage], (double)(tot - pre) / 1e6);
	if (a->stage == ST_REGISTER) {
		j = json_loads(a->resp, 0, NULL);
		tok = json_string_value(json_object_get(j, "agent_token"));
		if (tok == NULL || strlen(tok) > TOKEN_MAX) {
			fprintf(stderr, "agent %s: no agent_token\n", a->uuid);
			errors++;
			json_decref(j);
			a->stage = ST_DONE;
			return 0;
		}
		snprintf(a->auth, sizeof(a->auth), "%s", tok);
		json_decref(j);
	} else if (a->stage == ST_STATE) {
		j = json_loads(a->resp, 0, NULL);
		if (!json_is_integer(json_object_get(j, "job_id"))) {
			if (errors < 10)
				fprintf(stderr, "agent %s: no job queued: "
				    "%.200s\n", a->uuid, a->resp);
			errors++;
		}
		json_decref(j);
	}
	a->stage++;
	return a->stage != ST_DONE;
}

/*
 * libcurl's socket interface over epoll (as the service point's wsclient):
 * curl_multi_perform() would walk all 1,000 transfers at each wake-up, and
 * that walk was most of this client's CPU, taken from the server it
 * measures on a shared machine.
 */
static int epfd = -1;
static double timer_at = -1;	/* libcurl's deadline (now_s()), -1 none */

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
	struct epoll_event ev;

	(void)e;
	(void)ud;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev.events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == -1 &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	return 0;
}

static int
on_timer(CURLM *m, long ms, void *ud)
{
	(void)m;
	(void)ud;
	timer_at = ms < 0 ? -1 : now_s() + ms / 1e3;
	return 0;
}

/* Waits up to max_ms for sockets or libcurl's deadline and lets libcurl
 * act on them. */
static void
drive(CURLM *m, int max_ms, int *running)
{
	struct epoll_event ev[256];
	double now = now_s();
	int i, n, wait = max_ms, flags;

	if (timer_at >= 0 && (timer_at - now) * 1e3 < wait)
		wait = timer_at <= now ? 0 : (int)((timer_at - now) * 1e3) + 1;
	n = epoll_wait(epfd, ev, 256, wait);
	for (i = 0; i < n; i++) {
		flags = 0;
		if (ev[i].events & EPOLLIN)
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(m, ev[i].data.fd, flags, running);
	}
	if (timer_at >= 0 && timer_at <= now_s()) {
		timer_at = -1;
		curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, running);
	}
}

int
main(int argc, char **argv)
{
	struct agent *agents;
	CURLM *m;
	CURLMsg *msg;
	FILE *f;
	double t0, el;
	long n = 1000, maxconn = 0, started = 0;
	long long v;
	char *end;
	double rate = 0;
	int ch, running, left, i, s, nreq = 0, active = 0;
	size_t k;

	while ((ch = getopt(argc, argv, "u:k:s:n:c:p:r:")) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'k': cacert = optarg; break;
		case 's':
			if ((f = fopen(optarg, "r")) == NULL ||
			    fgets(secret, sizeof(secret), f) == NULL) {
				perror(optarg);
				return 2;
			}
			fclose(f);
			secret[strcspn(secret, "\r\n")] = '\0';
			break;
		case 'n':
			if (amtp_parse_int(optarg, 1, AGENTS_MAX, &v) != 0)
				goto usage;
			n = (long)v;
			break;
		case 'c':
			if (amtp_parse_int(optarg, 1, 1000000, &v) != 0)
				goto usage;
			maxconn = (long)v;
			break;
		case 'p': prefix = optarg; break;
		case 'r':
			rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || rate < 0)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (url == NULL || cacert == NULL || secret[0] == '\0' || n < 1 ||
	    n > AGENTS_MAX || strlen(prefix) != 8)
		goto usage;
	if (maxconn <= 0)
		maxconn = n;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	agents = calloc((size_t)n, sizeof(*agents));
	for (s = 0; s < ST_DONE; s++) {
		total_lat[s].v = calloc((size_t)n, sizeof(double));
		server_lat[s].v = calloc((size_t)n, sizeof(double));
		if (total_lat[s].v == NULL || server_lat[s].v == NULL)
			return 1;
	}
	if (agents == NULL || (m = curl_multi_init()) == NULL)
		return 1;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxconn);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, maxconn);
	for (i = 0; i < n; i++) {
		struct agent *a = &agents[i];

		snprintf(a->uuid, sizeof(a->uuid), "%s-0000-4000-8000-%012d",
		    prefix, i);
		a->h = curl_easy_init();
		curl_easy_setopt(a->h, CURLOPT_CAINFO, cacert);
#if LIBCURL_VERSION_NUM >= 0x075700
		/* parse the CA file once for all handles (curl >= 7.87) */
		curl_easy_setopt(a->h, CURLOPT_CA_CACHE_TIMEOUT, 3600L);
#endif
		curl_easy_setopt(a->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(a->h, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(a->h, CURLOPT_PRIVATE, a);
		curl_easy_setopt(a->h, CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(a->h, CURLOPT_CONNECTTIMEOUT, 30L);
		if (setup_request(a, i) != 0)
			return 1;
	}
	t0 = now_s();
	do {
		/* start the agents whose time has come */
		while (started < n && (rate <= 0 ||
		    now_s() >= t0 + (double)started / rate)) {
			curl_multi_add_handle(m, agents[started].h);
			started++;
			active++;
		}
		drive(m, 0, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct agent *a;
			CURLcode cc;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&a);
			cc = msg->data.result;
			curl_multi_remove_handle(m, a->h);
			nreq++;
			if (finish(a, cc) &&
			    setup_request(a, (int)(a - agents)) == 0) {
				curl_multi_add_handle(m, a->h);
				running++;
			} else
				active--;
		}
		if (running > 0 || started < n)
			drive(m, rate > 0 ? 5 : 100, &running);
	} while (active > 0 || started < n);
	el = now_s() - t0;

	printf("site_load: %ld agents (%s), %d requests in %.2f s: %.0f "
	    "requests/s, %.0f agents/s, errors %ld\n", n, rate > 0 ?
	    "ramped" : "all at once", nreq, el, nreq / el, n / el, errors);
	printf("%-9s %6s %26s %26s\n", "", "", "end to end (ms)",
	    "server side (ms)");
	printf("%-9s %6s %8s %8s %8s %8s %8s %8s\n", "request", "count", "p50",
	    "p99", "max", "p50", "p99", "max");
	for (s = 0; s < ST_DONE; s++) {
		qsort(total_lat[s].v, total_lat[s].n, sizeof(double),
		    cmp_double);
		qsort(server_lat[s].v, server_lat[s].n, sizeof(double),
		    cmp_double);
		printf("%-9s %6zu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n",
		    stage_names[s], total_lat[s].n, pct(&total_lat[s], .5) * 1e3,
		    pct(&total_lat[s], .99) * 1e3,
		    pct(&total_lat[s], 1) * 1e3, pct(&server_lat[s], .5) * 1e3,
		    pct(&server_lat[s], .99) * 1e3,
		    pct(&server_lat[s], 1) * 1e3);
	}
	{
		struct lat all_t, all_s;

		all_t.v = calloc((size_t)n * ST_DONE, sizeof(double));
		all_s.v = calloc((size_t)n * ST_DONE, sizeof(double));
		all_t.n = all_s.n = 0;
		if (all_t.v == NULL || all_s.v == NULL)
			return 1;
		for (s = 0; s < ST_DONE; s++)
			for (k = 0; k < total_lat[s].n; k++) {
				record(&all_t, total_lat[s].v[k]);
				record(&all_s, server_lat[s].v[k]);
			}
		qsort(all_t.v, all_t.n, sizeof(double), cmp_double);
		qsort(all_s.v, all_s.n, sizeof(double), cmp_double);
		printf("%-9s %6zu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", "all",
		    all_t.n, pct(&all_t, .5) * 1e3, pct(&all_t, .99) * 1e3,
		    pct(&all_t, 1) * 1e3, pct(&all_s, .5) * 1e3,
		    pct(&all_s, .99) * 1e3, pct(&all_s, 1) * 1e3);
		printf("p99 latency: %.1f ms end to end, %.1f ms server side "
		    "(target < 100 ms); errors: %ld (target 0)\n",
		    pct(&all_t, .99) * 1e3, pct(&all_s, .99) * 1e3, errors);
		free(all_t.v);
		free(all_s.v);
	}
	for (i = 0; i < n; i++) {
		curl_easy_cleanup(agents[i].h);
		curl_slist_free_all(agents[i].hdrs);
	}
	for (s = 0; s < ST_DONE; s++) {
		free(total_lat[s].v);
		free(server_lat[s].v);
	}
	free(agents);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	explicit_bzero(secret, sizeof(secret));
	return errors == 0 ? 0 : 1;
 usage:
	fprintf(stderr, "usage: bench_site_load -u URL -k CA.pem -s SECRET_FILE"
	    " [-n AGENTS] [-c MAX_CONNECTIONS] [-p 8-HEX-PREFIX] [-r RATE]\n");
	return 2;
}
