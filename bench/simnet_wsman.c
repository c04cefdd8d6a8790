/*
 * Benchmark: Digest-authenticated WS-Management Get requests per second
 * against a running amtsim (bench/simnet_wsman.sh starts one): first on one
 * keep-alive connection to one device, then across N devices at once (one
 * keep-alive connection each, libcurl multi, one thread).  The devices are
 * in the setup session (IN), so every connection is TLS with the
 * provisioning chain and Digest user admin with the empty password.
 *
 *   bench_simnet_wsman FIRST_ADDR NDEVICES REQ_ONE REQ_EACH CHAIN KEY BODY
 *
 * REQ_ONE requests on the single connection, then REQ_EACH per device in
 * the fleet phase.  Prints one line per phase; exits non-zero when a
 * request does not get HTTP 200.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "amtprov/buf.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

struct conn {
	CURL		*h;
	char		 url[64];
	long		 left;
	long		 done;
};

static const char *chain, *key;
static struct amtp_buf *body;

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static CURL *
handle(const char *url)
{
	CURL *h = curl_easy_init();

	if (h == NULL)
		exit(1);
	(void)curl_easy_setopt(h, CURLOPT_URL, url);
	(void)curl_easy_setopt(h, CURLOPT_SSLCERT, chain);
	(void)curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	(void)curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
	(void)curl_easy_setopt(h, CURLOPT_USERNAME, "admin");
	(void)curl_easy_setopt(h, CURLOPT_PASSWORD, "");
	(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, amtp_buf_str(body));
	(void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
	    (long)amtp_buf_len(body));
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	return h;
}

/* This process's CPU time (user + system), ms. */
static double
cpu_ms(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int
ok(CURL *h)
{
	long code = 0;

	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		fprintf(stderr, "HTTP %ld\n", code);
		return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct conn *c;
	struct in_addr a;
	CURLM *m;
	CURLMsg *msg;
	double t0, t1, c0, c1;
	long long n, reqs, each, i, nconn;
	int running, q;

	if (argc != 8 || inet_pton(AF_INET, argv[1], &a) != 1 ||
	    amtp_parse_int(argv[2], 1, AMTP_SIM_DEVICES_MAX, &n) != 0 ||
	    amtp_parse_int(argv[3], 1, 10000000, &reqs) != 0 ||
	    amtp_parse_int(argv[4], 1, 10000000, &each) != 0) {
		fprintf(stderr, "usage: bench_simnet_wsman FIRST_ADDR NDEVICES "
		    "REQ_ONE REQ_EACH CHAIN.pem KEY.pem BODY.xml\n");
		return 2;
	}
	chain = argv[5];
	key = argv[6];
	if (amtp_buf_load_file(argv[7], AMTP_MAX_SOAP_SIZE, &body) != 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* One keep-alive connection. */
	if ((c = calloc((size_t)n, sizeof(*c))) == NULL)
		return 1;
	(void)snprintf(c[0].url, sizeof(c[0].url), "https://%s:16993/wsman",
	    argv[1]);
	c[0].h = handle(c[0].url);
	if (curl_easy_perform(c[0].h) != CURLE_OK || !ok(c[0].h))
		return 1;	/* warm-up: TLS + the first 401 */
	t0 = now();
	c0 = cpu_ms();
	for (i = 0; i < reqs; i++)
		if (curl_easy_perform(c[0].h) != CURLE_OK || !ok(c[0].h))
			return 1;
	t1 = now();
	c1 = cpu_ms();
	printf("one keep-alive connection: %lld requests in %.2f s: "
	    "%.0f requests/s; client cpu-ms/request %.3f\n", reqs, t1 - t0,
	    (double)reqs / (t1 - t0), (c1 - c0) / (double)reqs);
	curl_easy_cleanup(c[0].h);

	/* New connections, one after the other: TLS with the chain, the
	 * Digest 401 and one request each (what a device session costs the
	 * client before its requests). */
	nconn = reqs / 10 < 1 ? 1 : reqs / 10 > 500 ? 500 : reqs / 10;
	c0 = cpu_ms();
	for (i = 0; i < nconn; i++) {
		c[0].h = handle(c[0].url);
		if (curl_easy_perform(c[0].h) != CURLE_OK || !ok(c[0].h))
			return 1;
		curl_easy_cleanup(c[0].h);
	}
	c1 = cpu_ms();
	printf("new connections: %lld, each TLS + 401 + one request: client "
	    "cpu-ms/connection %.3f\n", nconn, (c1 - c0) / (double)nconn);

	/* N devices at once, each on its own keep-alive connection. */
	m = curl_multi_init();
	(void)curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n);
	t0 = now();
	for (i = 0; i < n; i++) {
		struct in_addr b;

		b.s_addr = htonl(ntohl(a.s_addr) + (uint32_t)i);
		(void)snprintf(c[i].url, sizeof(c[i].url),
		    "https://%s:16993/wsman", inet_ntoa(b));
		c[i].h = handle(c[i].url);
		(void)curl_easy_setopt(c[i].h, CURLOPT_PRIVATE, &c[i]);
		c[i].left = each + 1;	/* + the first (TLS, 401) */
		(void)curl_multi_add_handle(m, c[i].h);
	}
	{
		double tw = 0;
		long warm = 0;
		long long total = 0, at_tw = 0;

		do {
			(void)curl_multi_perform(m, &running);
			while ((msg = curl_multi_info_read(m, &q)) != NULL) {
				struct conn *k;

				if (msg->msg != CURLMSG_DONE)
					continue;
				(void)curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, (char **)&k);
				if (msg->data.result != CURLE_OK || !ok(k->h)) {
					fprintf(stderr, "%s: %s\n", k->url,
					    curl_easy_strerror(
					    msg->data.result));
					return 1;
				}
				(void)curl_multi_remove_handle(m, k->h);
				k->done++;
				if (k->done == 1 && ++warm == n) {
					tw = now();	/* all connected */
					at_tw = total;
				}
				else if (k->done > 1)
					total++;
				if (--k->left > 0)
					(void)curl_multi_add_handle(m, k->h);
			}
			if (running > 0 || total < n * each)
				(void)curl_multi_poll(m, NULL, 0, 100, NULL);
		} while (total < n * each);
		t1 = now();
		printf("%lld devices, one keep-alive connection each: "
		    "connect+first request %.2f s; %lld requests in %.2f s: "
		    "%.0f requests/s overall, %.0f requests/s once all were "
		    "connected\n", n, tw - t0, total, t1 - t0,
		    (double)total / (t1 - t0), t1 > tw ? (double)(total - at_tw) /
		    (t1 - tw) : 0.0);
	}
	for (i = 0; i < n; i++)
		curl_easy_cleanup(c[i].h);
	curl_multi_cleanup(m);
	free(c);
	amtp_buf_free(body);
	curl_global_cleanup();
	return 0;
}
