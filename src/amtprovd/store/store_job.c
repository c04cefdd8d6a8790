/*
 * amtprov - store_job.c: the job queue with leases and the job step log
 * (written by the site server, which queues jobs, and by every out-of-band
 * service point, which claims and runs them).
 *
 * A service point claims a job for a lease of a few seconds, renews the
 * lease while it works, and every write it makes about the job is fenced by
 * (state = running AND lease_owner = owner): once another service point
 * has taken the job over, the first one's writes fail with AMTP_E_CONFLICT
 * and it must stop.  See docs/job-and-escrow.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "store/store.h"
#include "store/store_int.h"

#define JOB_COLS							\
    "id, device_id, kind, state, step, attempts, lease_owner,"		\
    " lease_expires, last_error, not_before, created, updated, finished"

static int
job_from_row(const struct sqlres *res, size_t row, struct amtp_job_rec *j)
{
	int64_t v;
	int r;

	memset(j, 0, sizeof(*j));
	if ((r = store_cell_int(res, row, 0, &j->id)) != 0 ||
	    (r = store_cell_int(res, row, 1, &j->device_id)) != 0 ||
	    (r = amtp_store_job_kind_parse(store_cell(res, row, 2),
	    &j->kind)) != 0 ||
	    (r = amtp_store_job_state_parse(store_cell(res, row, 3),
	    &j->state)) != 0 ||
	    (r = store_cell_text(res, row, 4, j->step, sizeof(j->step))) != 0 ||
	    (r = store_cell_int(res, row, 5, &v)) != 0 ||
	    (r = store_cell_text(res, row, 6, j->lease_owner,
	    sizeof(j->lease_owner))) != 0 ||
	    (r = store_cell_int(res, row, 7, &j->lease_expires)) != 0 ||
	    (r = store_cell_text(res, row, 8, j->last_error,
	    sizeof(j->last_error))) != 0 ||
	    (r = store_cell_int(res, row, 9, &j->not_before)) != 0 ||
	    (r = store_cell_int(res, row, 10, &j->created)) != 0 ||
	    (r = store_cell_int(res, row, 11, &j->updated)) != 0 ||
	    (r = store_cell_int(res, row, 12, &j->finished)) != 0)
		return r == AMTP_E_INVAL ? AMTP_E_PARSE : r;
	if (v < 0 || v > INT32_MAX)
		return AMTP_E_PARSE;
	j->attempts = (int)v;
	return 0;
}

/* The row converter for store_rows. */
static int
job_row(const struct sqlres *res, size_t row, void *dst)
{
	return job_from_row(res, row, (struct amtp_job_rec *)dst);
}

static int
check_owner(const char *owner)
{
	return store_check_text(owner, AMTP_STORE_OWNER_MAX, 1);
}

static int
check_lease(int secs, int min)
{
	return (secs < min || secs > AMTP_STORE_LEASE_MAX) ? AMTP_E_RANGE : 0;
}

/*
 * After a fenced write matched no row: AMTP_E_NOTFOUND when the job does not
 * exist, else AMTP_E_CONFLICT (not ours any more).
 */
static int
fence_failed(struct amtp_store *st, int64_t job_id)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "job", "SELECT id FROM jobs WHERE id = $1",
	    PARAMS(INT(job_id)), &res)) != 0)
		return r;
	r = res->nrows == 0 ? AMTP_E_NOTFOUND : AMTP_E_CONFLICT;
	store_res_free(res);
	return r;
}

static const char SQL_ENQ_INSERT[] =
    "INSERT INTO jobs (device_id, kind, state, created, updated)"
    " VALUES ($1, $2, 'queued', @NOW@, @NOW@)"
    " ON CONFLICT DO NOTHING RETURNING id";
static const char SQL_ENQ_OPEN[] =
    "SELECT id FROM jobs WHERE device_id = $1 AND kind = $2"
    " AND state IN ('queued', 'running')";

int
amtp_store_job_enqueue(struct amtp_store *st, int64_t device_id,
    enum amtp_job_kind kind, int64_t *job_id, int *created)
{
	struct sqlres *res = NULL;
	const char *kname;
	int64_t v;
	int r, tries;

	*job_id = 0;
	if (created != NULL)
		*created = 0;
	if ((kname = amtp_store_job_kind_name(kind)) == NULL)
		return AMTP_E_INVAL;
	/* Insert, or find the open one; an open job may close in between,
	 * so try a few times. */
	for (tries = 0; tries < 3; tries++) {
		if ((r = store_q(st, "job enqueue", SQL_ENQ_INSERT,
		    PARAMS(INT(device_id), TXT(kname)), &res)) != 0)
			goto out;
		if (res->nrows == 1) {
			if ((r = store_cell_int(res, 0, 0, &v)) != 0)
				goto out;
			*job_id = v;
			if (created != NULL)
				*created = 1;
			r = 0;
			goto out;
		}
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "job enqueue", SQL_ENQ_OPEN,
		    PARAMS(INT(device_id), TXT(kname)), &res)) != 0)
			goto out;
		if (res->nrows == 1) {
			if ((r = store_cell_int(res, 0, 0, &v)) != 0)
				goto out;
			*job_id = v;
			r = 0;
			goto out;
		}
		store_res_free(res);
		res = NULL;
	}
	r = AMTP_E_AGAIN;
 out:
	store_res_free(res);
	return r;
}

static const char SQL_CLAIM_PICK[] =
    "SELECT id, state, lease_owner FROM jobs"
    " WHERE (state = 'queued' AND not_before <= @NOW@)"
    " OR (state = 'running' AND lease_expires < @NOW@)"
    " ORDER BY id LIMIT 1 @SKIPLOCKED@";
static const char SQL_CLAIM_STEPS[] =
    "UPDATE job_steps SET ended = @NOW@, outcome = 'failed',"
    " detail = 'abandoned: lease of ' || owner || ' expired'"
    " WHERE job_id = $1 AND ended = 0";
static const char SQL_CLAIM_TAKE[] =
    "UPDATE jobs SET state = 'running', lease_owner = $2,"
    " lease_expires = @NOW@ + $3, attempts = attempts + 1,"
    " last_error = CASE WHEN $4 = '' THEN last_error ELSE $4 END,"
    " updated = @NOW@ WHERE id = $1 AND (state = 'queued'"
    " OR (state = 'running' AND lease_expires < @NOW@))"
    " RETURNING " JOB_COLS;

int
amtp_store_job_claim(struct amtp_store *st, const char *owner,
    int lease_secs, struct amtp_job_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_job_rec j;
	char note[AMTP_STORE_TEXT_MAX + 1] = "";
	int64_t id;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_owner(owner)) != 0 ||
	    (r = check_lease(lease_secs, 1)) != 0)
		return r;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = store_q(st, "job claim", SQL_CLAIM_PICK, NOPARAMS,
	    &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = store_cell_int(res, 0, 0, &id)) != 0)
		goto out;
	if (strcmp(store_cell(res, 0, 1), "running") == 0) {
		/* A take-over: the previous holder's lease expired. */
		(void)snprintf(note, sizeof(note), "lease of %.*s expired",
		    AMTP_STORE_OWNER_MAX, store_cell(res, 0, 2));
		if ((r = store_q(st, "job claim", SQL_CLAIM_STEPS,
		    PARAMS(INT(id)), NULL)) != 0)
			goto out;
	}
	store_res_free(res);
	res = NULL;
	if ((r = store_q(st, "job claim", SQL_CLAIM_TAKE, PARAMS(INT(id),
	    TXT(owner), INT(lease_secs), TXT(note)), &res)) != 0)
		goto out;
	if (res->nrows != 1) {
		/* Re-checked under the row lock: lost a race (cannot happen
		 * with SKIP LOCKED or SQLite's write lock; kept as a guard). */
		r = AMTP_E_AGAIN;
		goto out;
	}
	if ((r = job_from_row(res, 0, &j)) != 0)
		goto out;
	r = 0;
 out:
	store_res_free(res);
	if ((r = store_tx_end(st, r)) == 0)
		*out = j;
	return r;
}

int
amtp_store_job_renew(struct amtp_store *st, int64_t job_id,
    const char *owner, int lease_secs, int64_t *expires)
{
	struct sqlres *res = NULL;
	int64_t v;
	int r;

	if (expires != NULL)
		*expires = 0;
	if ((r = check_owner(owner)) != 0 ||
	    (r = check_lease(lease_secs, 1)) != 0)
		return r;
	if ((r = store_q(st, "job renew", "UPDATE jobs SET lease_expires ="
	    " @NOW@ + $3, updated = @NOW@ WHERE id = $1 AND state = 'running'"
	    " AND lease_owner = $2 RETURNING lease_expires",
	    PARAMS(INT(job_id), TXT(owner), INT(lease_secs)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = fence_failed(st, job_id);
		goto out;
	}
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	if (expires != NULL)
		*expires = v;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

/* Inside a transaction: checks that owner holds job_id (locking the row on
 * PostgreSQL) and gives its attempts. */
static int
hold(struct amtp_store *st, int64_t job_id, const char *owner, int64_t *att)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "job", "SELECT attempts FROM jobs WHERE id = $1"
	    " AND state = 'running' AND lease_owner = $2 @FORUPDATE@",
	    PARAMS(INT(job_id), TXT(owner)), &res)) != 0)
		return r;
	if (res->nrows == 0)
		r = fence_failed(st, job_id);
	else
		r = store_cell_int(res, 0, 0, att);
	store_res_free(res);
	return r;
}

/* Inside a transaction: ends the open step row step_id of job_id. */
static int
step_close(struct amtp_store *st, int64_t job_id, int64_t step_id,
    const char *oname, const char *detail, char *name, size_t namesz)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "step end", "UPDATE job_steps SET ended = @NOW@,"
	    " outcome = $3, detail = $4 WHERE id = $1 AND job_id = $2"
	    " AND ended = 0 RETURNING step", PARAMS(INT(step_id), INT(job_id),
	    TXT(oname), TXT(detail ? detail : "")), &res)) != 0)
		return r;
	if (res->nrows == 0) {
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "step end", "SELECT id FROM job_steps"
		    " WHERE id = $1 AND job_id = $2", PARAMS(INT(step_id),
		    INT(job_id)), &res)) != 0)
			return r;
		r = res->nrows == 0 ? AMTP_E_NOTFOUND : AMTP_E_STATE;
	} else
		amtp_strlcpy(name, store_cell(res, 0, 0), namesz);
	store_res_free(res);
	return r;
}

int
amtp_store_job_step_log(struct amtp_store *st, int64_t job_id,
    const char *owner, const char *step, int64_t *step_id,
    enum amtp_step_outcome outcome, const char *detail)
{
	struct sqlres *res = NULL;
	char name[AMTP_STORE_NAME_MAX + 1], msg[AMTP_STORE_TEXT_MAX + 1];
	const char *oname;
	int64_t att, id = 0;
	int r;

	if ((oname = amtp_store_step_outcome_name(outcome)) == NULL ||
	    (*step_id != 0 && outcome == AMTP_STEP_STARTED))
		return AMTP_E_INVAL;
	if ((r = check_owner(owner)) != 0 ||
	    (r = store_check_text(detail, AMTP_STORE_TEXT_MAX, 0)) != 0 ||
	    (*step_id == 0 &&
	    (r = store_check_text(step, AMTP_STORE_NAME_MAX, 1)) != 0))
		return r;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = hold(st, job_id, owner, &att)) != 0)
		goto out;
	if (*step_id != 0) {
		if ((r = step_close(st, job_id, *step_id, oname, detail, name,
		    sizeof(name))) != 0)
			goto out;
	} else {
		/* a new row: open (started) or whole (start and end now) */
		amtp_strlcpy(name, step, sizeof(name));
		if ((r = store_q(st, "step log", "INSERT INTO job_steps"
		    " (job_id, attempt, step, owner, started, ended, outcome,"
		    " detail) VALUES ($1, $2, $3, $4, @NOW@, CASE WHEN $7 = 0"
		    " THEN 0 ELSE @NOW@ END, $5, $6) RETURNING id",
		    PARAMS(INT(job_id), INT(att), TXT(step), TXT(owner),
		    TXT(oname), TXT(detail ? detail : ""),
		    INT(outcome != AMTP_STEP_STARTED)), &res)) != 0)
			goto out;
		if ((r = store_cell_int(res, 0, 0, &id)) != 0)
			goto out;
		if ((r = store_q(st, "step log", "UPDATE jobs SET step = $2,"
		    " updated = @NOW@ WHERE id = $1", PARAMS(INT(job_id),
		    TXT(step)), NULL)) != 0)
			goto out;
	}
	if (outcome == AMTP_STEP_FAILED) {
		(void)snprintf(msg, sizeof(msg), "%s: %s", name,
		    detail ? detail : "failed");
		if ((r = store_q(st, "step end", "UPDATE jobs SET"
		    " last_error = $2, updated = @NOW@ WHERE id = $1",
		    PARAMS(INT(job_id), TXT(msg)), NULL)) != 0)
			goto out;
	}
	r = 0;
 out:
	store_res_free(res);
	if ((r = store_tx_end(st, r)) == 0 && *step_id == 0 &&
	    outcome == AMTP_STEP_STARTED)
		*step_id = id;
	return r;
}

int
amtp_store_job_step_start(struct amtp_store *st, int64_t job_id,
    const char *owner, const char *step, int64_t *step_id)
{
	*step_id = 0;
	return amtp_store_job_step_log(st, job_id, owner, step, step_id,
	    AMTP_STEP_STARTED, NULL);
}

int
amtp_store_job_step_end(struct amtp_store *st, int64_t job_id,
    const char *owner, int64_t step_id, enum amtp_step_outcome outcome,
    const char *detail)
{
	if (outcome == AMTP_STEP_STARTED || step_id == 0)
		return AMTP_E_INVAL;
	return amtp_store_job_step_log(st, job_id, owner, NULL, &step_id,
	    outcome, detail);
}

/* A fenced UPDATE ... RETURNING id of a running job held by owner. */
static int
fenced(struct amtp_store *st, const char *what, const char *sql,
    int64_t job_id, const struct sqlv *p, int np)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, what, sql, p, np, &res)) != 0)
		return r;
	r = res->nrows == 0 ? fence_failed(st, job_id) : 0;
	store_res_free(res);
	return r;
}

int
amtp_store_job_finish(struct amtp_store *st, int64_t job_id,
    const char *owner, enum amtp_job_state state, const char *reason)
{
	int r;

	if (state != AMTP_JOB_DONE && state != AMTP_JOB_FAILED)
		return AMTP_E_INVAL;
	if ((r = check_owner(owner)) != 0 ||
	    (r = store_check_text(reason, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	return fenced(st, "job finish", "UPDATE jobs SET state = $3,"
	    " lease_owner = '', lease_expires = 0,"
	    " last_error = COALESCE($4, last_error), finished = @NOW@,"
	    " updated = @NOW@ WHERE id = $1 AND state = 'running'"
	    " AND lease_owner = $2 RETURNING id", job_id,
	    PARAMS(INT(job_id), TXT(owner),
	    TXT(amtp_store_job_state_name(state)), TXT(reason)));
}

/* Ends the steps of a job that are still open (as failed, with detail). */
static int
close_steps(struct amtp_store *st, int64_t job_id, const char *detail)
{
	return store_q(st, "job steps", "UPDATE job_steps SET ended = @NOW@,"
	    " outcome = 'failed', detail = $2 WHERE job_id = $1 AND ended = 0",
	    PARAMS(INT(job_id), TXT(detail)), NULL);
}

int
amtp_store_job_requeue(struct amtp_store *st, int64_t job_id,
    const char *owner, int delay_secs, const char *reason)
{
	int r;

	if ((r = check_owner(owner)) != 0 ||
	    (r = check_lease(delay_secs, 0)) != 0 ||
	    (r = store_check_text(reason, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = fenced(st, "job requeue", "UPDATE jobs SET state = 'queued',"
	    " lease_owner = '', lease_expires = 0,"
	    " last_error = COALESCE($4, last_error),"
	    " not_before = @NOW@ + $3, updated = @NOW@"
	    " WHERE id = $1 AND state = 'running' AND lease_owner = $2"
	    " RETURNING id", job_id, PARAMS(INT(job_id), TXT(owner),
	    INT(delay_secs), TXT(reason)))) != 0)
		goto out;
	r = close_steps(st, job_id, "abandoned: job requeued");
 out:
	return store_tx_end(st, r);
}

/* After a state-guarded admin UPDATE matched nothing. */
static int
state_failed(struct amtp_store *st, int64_t job_id)
{
	int r = fence_failed(st, job_id);

	return r == AMTP_E_CONFLICT ? AMTP_E_STATE : r;
}

int
amtp_store_job_cancel(struct amtp_store *st, int64_t job_id,
    const char *reason)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_check_text(reason, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = store_q(st, "job cancel", "UPDATE jobs SET state ="
	    " 'cancelled', lease_owner = '', lease_expires = 0,"
	    " last_error = COALESCE($2, last_error), finished = @NOW@,"
	    " updated = @NOW@ WHERE id = $1 AND state IN ('queued', 'running')"
	    " RETURNING id", PARAMS(INT(job_id), TXT(reason)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = state_failed(st, job_id);
		goto out;
	}
	r = close_steps(st, job_id, "abandoned: job cancelled");
 out:
	store_res_free(res);
	return store_tx_end(st, r);
}

int
amtp_store_job_retry(struct amtp_store *st, int64_t job_id)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "job retry", "UPDATE jobs SET state = 'queued',"
	    " attempts = 0, step = '', finished = 0, not_before = 0,"
	    " updated = @NOW@ WHERE id = $1 AND state IN ('failed', 'cancelled')"
	    " RETURNING id", PARAMS(INT(job_id)), &res)) != 0)
		goto out;
	r = res->nrows == 0 ? state_failed(st, job_id) : 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_job_get(struct amtp_store *st, int64_t job_id,
    struct amtp_job_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_job_rec j;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_q(st, "job get", "SELECT " JOB_COLS " FROM jobs"
	    " WHERE id = $1", PARAMS(INT(job_id)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = job_from_row(res, 0, &j)) != 0)
		goto out;
	*out = j;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

#define SQL_JOB_WHERE	\
    " FROM jobs WHERE ($1 = 0 OR device_id = $1) AND ($2 = '' OR state = $2)"	\
    " AND ($3 = '' OR kind = $3)"

int
amtp_store_job_list(struct amtp_store *st, const struct amtp_job_filter *f,
    struct amtp_job_rec **out, size_t *n, size_t *total)
{
	struct sqlres *res = NULL;
	void *rows = NULL;
	const char *state = "", *kind = "";
	size_t limit = 0, offset = 0;
	int64_t dev = 0, cnt = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (f != NULL) {
		if (f->state != -1 &&
		    (state = amtp_store_job_state_name(f->state)) == NULL)
			return AMTP_E_INVAL;
		if (f->kind != -1 &&
		    (kind = amtp_store_job_kind_name(f->kind)) == NULL)
			return AMTP_E_INVAL;
		dev = f->device_id;
		limit = f->limit;
		offset = f->offset;
	}
	if ((r = store_check_limit(&limit)) != 0)
		return r;
	if (total != NULL) {
		if ((r = store_q(st, "job list", "SELECT COUNT(*)"
		    SQL_JOB_WHERE, PARAMS(INT(dev), TXT(state), TXT(kind)),
		    &res)) != 0)
			goto out;
		if ((r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "job list", "SELECT " JOB_COLS SQL_JOB_WHERE
	    " ORDER BY id DESC LIMIT $4 OFFSET $5", PARAMS(INT(dev),
	    TXT(state), TXT(kind), INT(limit), INT(offset)), &res)) != 0)
		goto out;
	if ((r = store_rows(res, sizeof(**out), job_row, &rows, n)) != 0)
		goto out;
	*out = rows;
	if (total != NULL)
		*total = (size_t)cnt;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_job_steps(struct amtp_store *st, int64_t job_id,
    struct amtp_step_rec **out, size_t *n)
{
	struct sqlres *res = NULL;
	struct amtp_step_rec *v = NULL;
	size_t i;
	int64_t att;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_q(st, "job steps", "SELECT id, job_id, attempt, step,"
	    " owner, started, ended, outcome, detail FROM (SELECT * FROM"
	    " job_steps WHERE job_id = $1 ORDER BY id DESC LIMIT $2) x"
	    " ORDER BY id", PARAMS(INT(job_id), INT(AMTP_STORE_LIST_MAX)),
	    &res)) != 0)
		goto out;
	if (res->nrows > 0 && (v = calloc(res->nrows, sizeof(*v))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < res->nrows; i++) {
		struct amtp_step_rec *s = &v[i];

		if ((r = store_cell_int(res, i, 0, &s->id)) != 0 ||
		    (r = store_cell_int(res, i, 1, &s->job_id)) != 0 ||
		    (r = store_cell_int(res, i, 2, &att)) != 0 ||
		    (r = store_cell_text(res, i, 3, s->step,
		    sizeof(s->step))) != 0 ||
		    (r = store_cell_text(res, i, 4, s->owner,
		    sizeof(s->owner))) != 0 ||
		    (r = store_cell_int(res, i, 5, &s->started)) != 0 ||
		    (r = store_cell_int(res, i, 6, &s->ended)) != 0 ||
		    (r = store_cell_text(res, i, 8, s->detail,
		    sizeof(s->detail))) != 0)
			goto out;
		if (amtp_store_step_outcome_parse(store_cell(res, i, 7),
		    &s->outcome) != 0 || att < 0 || att > INT32_MAX) {
			r = AMTP_E_PARSE;
			goto out;
		}
		s->attempt = (int)att;
	}
	*out = v;
	v = NULL;
	*n = res->nrows;
	r = 0;
 out:
	free(v);
	store_res_free(res);
	return r;
}
