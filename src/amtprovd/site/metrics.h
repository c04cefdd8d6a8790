/*
 * amtprov - site/metrics.h: GET /metrics in the Prometheus text format
 * (role site).
 *
 * Two sources: counters the API keeps in memory (requests by route and
 * status, request latency histogram) and figures read from the site
 * database at scrape time (devices by status, jobs by state, step durations
 * as histograms and failed steps by step and reason).  Step figures are
 * folded in incrementally: a finished job's steps are read once.
 */
#ifndef SITE_METRICS_H
#define SITE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct amtp_store;
struct site_metrics;

int site_metrics_new(struct site_metrics **out);
void site_metrics_free(struct site_metrics *m);

/* Counts one answered request (thread-safe). */
void site_metrics_http(struct site_metrics *m, const char *route, int status,
    uint64_t ns);

/*
 * Renders every metric as Prometheus text (version 0.0.4) into a new
 * malloc'ed string *out.  Reads the store st (borrowed).  0 or a negative
 * AMTP_E_* code (a store failure is returned; nothing partial is given).
 */
int site_metrics_render(struct site_metrics *m, struct amtp_store *st,
    char **out);

/* Makes the next render read the step logs even if the last read was less
 * than AMTP_SITE_METRICS_REFRESH seconds ago. */
void site_metrics_expire(struct site_metrics *m);

/* Writes s as a Prometheus label value (escaping \ " and newline, and
 * replacing other control bytes with '?') into dst; always terminated. */
void site_metrics_label(char *dst, size_t dstsz, const char *s);

#endif
