/*
 * amtprov - site/metrics.c: Prometheus metrics of the site (role site).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "site/httpd.h"
#include "site/metrics.h"
#include "store/store.h"

/* Request latency buckets (seconds) and step duration buckets (seconds). */
static const double http_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
};
#define HTTP_NB		(sizeof(http_buckets) / sizeof(http_buckets[0]))
static const double step_buckets[] = {
	1, 2, 5, 10, 30, 60, 120, 300, 600, 1800
};
#define STEP_NB		(sizeof(step_buckets) / sizeof(step_buckets[0]))

#define HTTP_SLOTS	256	/* (route, status) pairs */
#define STEP_SLOTS	128	/* step names */
#define FAIL_SLOTS	512	/* (step, reason) pairs */
#define REASON_LABEL_MAX 48	/* bytes of a failure detail used as reason */
#define METRICS_TEXT_MAX (4u * 1024 * 1024)

struct http_slot {
	const char	*route;		/* static route name */
	int		 status;
	uint64_t	 count;
	uint64_t	 buckets[HTTP_NB];
	double		 sum;
};

struct step_slot {
	char		 step[AMTP_STORE_NAME_MAX + 1];
	uint64_t	 count;
	uint64_t	 buckets[STEP_NB];
	double		 sum;
};

struct fail_slot {
	char		 step[AMTP_STORE_NAME_MAX + 1];
	char		 reason[REASON_LABEL_MAX + 1];
	uint64_t	 count;
};

struct job_seen {
	int64_t		 id;
	size_t		 counted;	/* leading ended steps counted */
	int		 closed;	/* finished and fully counted */
};

struct site_metrics {
	pthread_mutex_t	 mu;		/* http slots */
	struct http_slot http[HTTP_SLOTS];
	size_t		 nhttp;
	uint64_t	 http_dropped;

	pthread_mutex_t	 smu;		/* step state, render */
	struct step_slot steps[STEP_SLOTS];
	size_t		 nsteps;
	struct fail_slot fails[FAIL_SLOTS];
	size_t		 nfails;
	struct job_seen	*jobs;		/* sorted by id */
	size_t		 njobs, capjobs;
	int64_t		 last_refresh;
};

int
site_metrics_new(struct site_metrics **out)
{
	struct site_metrics *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return AMTP_E_NOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return AMTP_E_NOMEM;
	}
	if (pthread_mutex_init(&m->smu, NULL) != 0) {
		pthread_mutex_destroy(&m->mu);
		free(m);
		return AMTP_E_NOMEM;
	}
	*out = m;
	return 0;
}

void
site_metrics_free(struct site_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->smu);
	free(m->jobs);
	free(m);
}

void
site_metrics_http(struct site_metrics *m, const char *route, int status,
    uint64_t ns)
{
	struct http_slot *s = NULL;
	double secs = (double)ns / 1e9;
	size_t i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i < m->nhttp; i++)
		if (m->http[i].status == status &&
		    strcmp(m->http[i].route, route) == 0) {
			s = &m->http[i];
			break;
		}
	if (s == NULL && m->nhttp < HTTP_SLOTS) {
		s = &m->http[m->nhttp++];
		s->route = route;
		s->status = status;
	}
	if (s == NULL)
		m->http_dropped++;
	else {
		s->count++;
		s->sum += secs;
		for (i = 0; i < HTTP_NB; i++)
			if (secs <= http_buckets[i])
				s->buckets[i]++;
	}
	pthread_mutex_unlock(&m->mu);
}

void
site_metrics_expire(struct site_metrics *m)
{
	pthread_mutex_lock(&m->smu);
	m->last_refresh = 0;
	pthread_mutex_unlock(&m->smu);
}

void
site_metrics_label(char *dst, size_t dstsz, const char *s)
{
	size_t o = 0;

	if (dstsz == 0)
		return;
	for (; *s != '\0' && o + 2 < dstsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else
			dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[o] = '\0';
}

static struct job_seen *
job_find(struct site_metrics *m, int64_t id, int create)
{
	size_t lo = 0, hi = m->njobs, mid;
	struct job_seen *nj;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->jobs[mid].id == id)
			return &m->jobs[mid];
		if (m->jobs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	if (m->njobs == m->capjobs) {
		size_t nc = m->capjobs == 0 ? 256 : m->capjobs * 2;

		if ((nj = reallocarray(m->jobs, nc, sizeof(*nj))) == NULL)
			return NULL;
		m->jobs = nj;
		m->capjobs = nc;
	}
	memmove(&m->jobs[lo + 1], &m->jobs[lo],
	    (m->njobs - lo) * sizeof(*m->jobs));
	memset(&m->jobs[lo], 0, sizeof(*m->jobs));
	m->jobs[lo].id = id;
	m->njobs++;
	return &m->jobs[lo];
}

static void
count_step(struct site_metrics *m, const struct amtp_step_rec *sr)
{
	struct step_slot *s = NULL;
	struct fail_slot *f = NULL;
	char reason[REASON_LABEL_MAX + 1];
	double secs;
	size_t i, n;

	for (i = 0; i < m->nsteps; i++)
		if (strcmp(m->steps[i].step, sr->step) == 0) {
			s = &m->steps[i];
			break;
		}
	if (s == NULL && m->nsteps < STEP_SLOTS) {
		s = &m->steps[m->nsteps++];
		amtp_strlcpy(s->step, sr->step, sizeof(s->step));
	}
	if (s != NULL) {
		secs = sr->ended >= sr->started ?
		    (double)(sr->ended - sr->started) : 0;
		s->count++;
		s->sum += secs;
		for (i = 0; i < STEP_NB; i++)
			if (secs <= step_buckets[i])
				s->buckets[i]++;
	}
	if (sr->outcome != AMTP_STEP_FAILED)
		return;
	/*
	 * reason: the detail up to its first ':', '(', ';' or ',' (what
	 * follows names identifiers, counts and retry timings, which would
	 * make one series per failure), trimmed.
	 */
	n = strcspn(sr->detail, ":(;,");
	if (n > REASON_LABEL_MAX)
		n = REASON_LABEL_MAX;
	while (n > 0 && sr->detail[n - 1] == ' ')
		n--;
	memcpy(reason, sr->detail, n);
	reason[n] = '\0';
	if (reason[0] == '\0')
		amtp_strlcpy(reason, "unspecified", sizeof(reason));
	for (i = 0; i < m->nfails; i++)
		if (strcmp(m->fails[i].step, sr->step) == 0 &&
		    strcmp(m->fails[i].reason, reason) == 0) {
			f = &m->fails[i];
			break;
		}
	if (f == NULL && m->nfails < FAIL_SLOTS) {
		f = &m->fails[m->nfails++];
		amtp_strlcpy(f->step, sr->step, sizeof(f->step));
		amtp_strlcpy(f->reason, reason, sizeof(f->reason));
	}
	if (f != NULL)
		f->count++;
}

/* Folds the step logs of jobs not yet fully counted into the histograms. */
static int
refresh_steps(struct site_metrics *m, struct amtp_store *st)
{
	struct amtp_job_filter jf;
	struct amtp_job_rec *jobs = NULL;
	struct amtp_step_rec *steps = NULL;
	struct job_seen *js;
	size_t nj = 0, ns = 0, total = 0, i, k, scanned = 0;
	int64_t now;
	int r, closed;

	if ((r = amtp_store_now(st, &now)) != 0)
		return r;
	if (m->last_refresh != 0 &&
	    now - m->last_refresh < AMTP_SITE_METRICS_REFRESH)
		return 0;
	memset(&jf, 0, sizeof(jf));
	jf.state = -1;
	jf.kind = -1;
	jf.limit = AMTP_STORE_LIST_MAX;
	for (;;) {
		if ((r = amtp_store_job_list(st, &jf, &jobs, &nj,
		    &total)) != 0)
			goto out;
		for (i = 0; i < nj; i++) {
			closed = jobs[i].state == AMTP_JOB_DONE ||
			    jobs[i].state == AMTP_JOB_FAILED ||
			    jobs[i].state == AMTP_JOB_CANCELLED;
			js = job_find(m, jobs[i].id, 0);
			if (js != NULL && js->closed)
				continue;
			if (jobs[i].step[0] == '\0' && !closed)
				continue;	/* no step yet */
			if ((r = amtp_store_job_steps(st, jobs[i].id, &steps,
			    &ns)) != 0)
				goto out;
			if ((js = job_find(m, jobs[i].id, 1)) == NULL) {
				r = AMTP_E_NOMEM;
				goto out;
			}
			for (k = js->counted; k < ns; k++) {
				if (steps[k].ended == 0 ||
				    steps[k].outcome == AMTP_STEP_STARTED)
					break;
				count_step(m, &steps[k]);
				js->counted = k + 1;
			}
			js->closed = closed && js->counted == ns;
			free(steps);
			steps = NULL;
		}
		scanned += nj;
		free(jobs);
		jobs = NULL;
		if (nj == 0 || scanned >= total ||
		    scanned >= AMTP_SITE_METRICS_JOBS_MAX)
			break;
		jf.offset += nj;
	}
	m->last_refresh = now;
	r = 0;
 out:
	free(steps);
	free(jobs);
	return r;
}

static int
put_hist(struct amtp_buf *b, const char *name, const char *labels,
    const double *bounds, size_t nb, const uint64_t *buckets, uint64_t count,
    double sum)
{
	size_t i;
	int r;

	for (i = 0; i < nb; i++)
		if ((r = amtp_buf_putf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n",
		    name, labels, labels[0] != '\0' ? "," : "", bounds[i],
		    (unsigned long long)buckets[i])) != 0)
			return r;
	if ((r = amtp_buf_putf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
	    labels, labels[0] != '\0' ? "," : "",
	    (unsigned long long)count)) != 0 ||
	    (r = amtp_buf_putf(b, "%s_sum{%s} %.6f\n", name, labels, sum)) != 0 ||
	    (r = amtp_buf_putf(b, "%s_count{%s} %llu\n", name, labels,
	    (unsigned long long)count)) != 0)
		return r;
	return 0;
}

static int
render_store(struct site_metrics *m, struct amtp_store *st,
    struct amtp_buf *b)
{
	struct amtp_device_filter df;
	struct amtp_job_filter jf;
	struct amtp_device_rec *devs = NULL;
	struct amtp_job_rec *jobs = NULL;
	char l1[2 * AMTP_STORE_NAME_MAX + 2], l2[2 * REASON_LABEL_MAX + 2];
	char labels[4 * AMTP_STORE_NAME_MAX];
	size_t n, total, i;
	int r, s;

	if ((r = amtp_buf_putf(b, "# HELP amtprov_devices Devices by AMT "
	    "status.\n# TYPE amtprov_devices gauge\n")) != 0)
		return r;
	for (s = 0; s < AMTP_AMT__MAX; s++) {
		memset(&df, 0, sizeof(df));
		df.status = s;
		df.limit = 1;
		if ((r = amtp_store_device_list(st, &df, &devs, &n,
		    &total)) != 0)
			return r;
		free(devs);
		devs = NULL;
		if ((r = amtp_buf_putf(b, "amtprov_devices{status=\"%s\"} %zu\n",
		    amtp_store_status_name(s), total)) != 0)
			return r;
	}
	if ((r = amtp_buf_putf(b, "# HELP amtprov_jobs Jobs by state.\n"
	    "# TYPE amtprov_jobs gauge\n")) != 0)
		return r;
	for (s = 0; s < AMTP_JOB_STATE__MAX; s++) {
		memset(&jf, 0, sizeof(jf));
		jf.state = s;
		jf.kind = -1;
		jf.limit = 1;
		if ((r = amtp_store_job_list(st, &jf, &jobs, &n, &total)) != 0)
			return r;
		free(jobs);
		jobs = NULL;
		if ((r = amtp_buf_putf(b, "amtprov_jobs{state=\"%s\"} %zu\n",
		    amtp_store_job_state_name(s), total)) != 0)
			return r;
	}
	if ((r = refresh_steps(m, st)) != 0)
		return r;
	if ((r = amtp_buf_putf(b, "# HELP amtprov_step_duration_seconds "
	    "Duration of ended job steps.\n"
	    "# TYPE amtprov_step_duration_seconds histogram\n")) != 0)
		return r;
	for (i = 0; i < m->nsteps; i++) {
		site_metrics_label(l1, sizeof(l1), m->steps[i].step);
		snprintf(labels, sizeof(labels), "step=\"%s\"", l1);
		if ((r = put_hist(b, "amtprov_step_duration_seconds", labels,
		    step_buckets, STEP_NB, m->steps[i].buckets,
		    m->steps[i].count, m->steps[i].sum)) != 0)
			return r;
	}
	if ((r = amtp_buf_putf(b, "# HELP amtprov_step_failures_total Failed "
	    "job steps by step and reason.\n"
	    "# TYPE amtprov_step_failures_total counter\n")) != 0)
		return r;
	for (i = 0; i < m->nfails; i++) {
		site_metrics_label(l1, sizeof(l1), m->fails[i].step);
		site_metrics_label(l2, sizeof(l2), m->fails[i].reason);
		if ((r = amtp_buf_putf(b, "amtprov_step_failures_total{step=\"%s\","
		    "reason=\"%s\"} %llu\n", l1, l2,
		    (unsigned long long)m->fails[i].count)) != 0)
			return r;
	}
	return 0;
}

static int
render_http(struct site_metrics *m, struct amtp_buf *b)
{
	char labels[128];
	size_t i;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	if ((r = amtp_buf_putf(b, "# HELP amtprov_http_requests_total API "
	    "requests by route and status.\n"
	    "# TYPE amtprov_http_requests_total counter\n")) != 0)
		goto out;
	for (i = 0; i < m->nhttp; i++)
		if ((r = amtp_buf_putf(b, "amtprov_http_requests_total{route="
		    "\"%s\",code=\"%d\"} %llu\n", m->http[i].route,
		    m->http[i].status,
		    (unsigned long long)m->http[i].count)) != 0)
			goto out;
	if ((r = amtp_buf_putf(b, "# HELP amtprov_http_request_duration_seconds"
	    " API request latency.\n"
	    "# TYPE amtprov_http_request_duration_seconds histogram\n")) != 0)
		goto out;
	for (i = 0; i < m->nhttp; i++) {
		snprintf(labels, sizeof(labels), "route=\"%s\",code=\"%d\"",
		    m->http[i].route, m->http[i].status);
		if ((r = put_hist(b, "amtprov_http_request_duration_seconds",
		    labels, http_buckets, HTTP_NB, m->http[i].buckets,
		    m->http[i].count, m->http[i].sum)) != 0)
			goto out;
	}
 out:
	pthread_mutex_unlock(&m->mu);
	return r;
}

int
site_metrics_render(struct site_metrics *m, struct amtp_store *st, char **out)
{
	struct amtp_buf *b;
	int r;

	*out = NULL;
	if ((b = amtp_buf_new(METRICS_TEXT_MAX)) == NULL)
		return AMTP_E_NOMEM;
	pthread_mutex_lock(&m->smu);
	r = render_store(m, st, b);
	pthread_mutex_unlock(&m->smu);
	if (r != 0)
		goto out;
	if ((r = render_http(m, b)) != 0)
		goto out;
	if ((*out = strdup(amtp_buf_str(b))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}
