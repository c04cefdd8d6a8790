/*
 * amtprov - store.h: the site database (role site; also opened by every
 * out-of-band service point and the enrollment point).
 *
 * One interface, two back ends: SQLite (WAL; the embedded default, a file in
 * the site directory) and PostgreSQL (libpq; shared by several machines).
 * The same schema, applied by versioned migrations when the store is opened,
 * and the same test suite (tests/unit/amtprovd/store.c) runs against both.
 *
 * Rules of the interface
 *  - Every function returns 0 or a negative AMTP_E_* code.  Nothing prints;
 *    failures are described (identifiers only, never values) through
 *    amtp_store_errmsg().
 *  - Output parameters are cleared on entry and set only on success.
 *  - "Not there" is AMTP_E_NOTFOUND; a job operation by a service point
 *    whose lease was taken over (or whose job was cancelled) is
 *    AMTP_E_CONFLICT; a broken input (bad UUID, text too long, bad enum) is
 *    AMTP_E_INVAL or AMTP_E_TOOBIG, checked before the database is touched;
 *    a failure of the database itself is AMTP_E_DB (AMTP_E_BUSY when SQLite
 *    stayed locked past its busy timeout).
 *  - Each function is one transaction: when it returns 0, its writes are
 *    committed and durable.  In particular a credential is sealed and
 *    committed by amtp_store_cred_put_pending() before that function returns,
 *    so the caller may send it to a device only afterwards.
 *  - A struct amtp_store is used by one thread at a time.  Open one per
 *    thread or process; many processes (and machines, on PostgreSQL) may
 *    share one database.
 *  - Times are UNIX seconds (int64_t, UTC).  Job leases are computed with the
 *    database server's clock (PostgreSQL) or the local clock (SQLite), so
 *    service points on several machines agree on who holds a lease.
 *  - Lists are returned as arrays allocated with malloc(); free them with
 *    free() (or the matching _free function where the records own memory).
 *    Lists are ordered by id (oldest first) unless said otherwise, and paged
 *    with offset/limit; limit 0 means AMTP_STORE_LIST_DEFAULT and a limit above
 *    AMTP_STORE_LIST_MAX is AMTP_E_RANGE.  *total, when not NULL, gets the
 *    number of matching rows without paging.
 *  - Secrets (credentials, directory passwords, private keys) are sealed with
 *    AES-256-GCM under the site master key (amtp_secret_seal) before they
 *    reach the database; the database holds no secret in clear.
 */
#ifndef AMTPROVD_STORE_H
#define AMTPROVD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"

struct amtp_store;
struct amtp_secret;
struct amtp_master_key;

/* ------------------------------------------------------------------ */
/* Opening and closing                                                  */
/* ------------------------------------------------------------------ */

/*
 * Opens the site database named by uri and brings its schema up to date
 * (the missing migrations run in one transaction, recorded in the table
 * schema_migrations; on PostgreSQL under an advisory lock on the schema
 * name, so service points starting at once do not race).
 *
 *   sqlite:/path/to/site.db        a file (created when missing, mode 0600),
 *                                  WAL, foreign keys on, busy timeout
 *                                  AMTP_STORE_BUSY_TIMEOUT_MS
 *   sqlite::memory:                a private in-memory database (tests)
 *   postgresql://user:pw@host:port/db?schema=NAME
 *   postgres://...                 the same; other query parameters go to
 *                                  libpq.  schema (default "amtprov") is
 *                                  created when missing; it must match
 *                                  [a-z_][a-z0-9_]* and be at most
 *                                  AMTP_STORE_SCHEMA_MAX characters.
 *
 * key is the site master key used to seal and open secrets; it is borrowed
 * (the caller keeps it alive until amtp_store_close()).  key may be NULL:
 * then every function that seals or opens a secret returns AMTP_E_STATE
 * (a read-only admin view, for example).
 *
 * err (may be NULL) gets a sentence for the administrator (never a
 * password: the URI's password is not echoed).
 * 0, AMTP_E_INVAL (bad URI or schema name), AMTP_E_UNSUPPORTED (scheme),
 * AMTP_E_DB (cannot connect or migrate), AMTP_E_STATE (the database was
 * migrated by a newer amtprov: its schema version is above ours),
 * AMTP_E_NOMEM.
 */
int amtp_store_open(const char *uri, const struct amtp_master_key *key,
    struct amtp_store **out, char *err, size_t errlen);

/* Closes the connection and frees st.  amtp_store_close(NULL) does nothing. */
void amtp_store_close(struct amtp_store *st);

/* "sqlite" or "postgresql". */
const char *amtp_store_backend(const struct amtp_store *st);

/* The schema version the database is at after amtp_store_open(). */
int amtp_store_schema_version(const struct amtp_store *st);

/* The schema version this build knows (the last migration). */
int amtp_store_schema_latest(void);

/* A short description of the last failure on st ("" when none): the
 * operation and the database's message, without parameter values. */
const char *amtp_store_errmsg(const struct amtp_store *st);

/* The current time by the store's clock (see above), UNIX seconds. */
int amtp_store_now(struct amtp_store *st, int64_t *now);

/* ------------------------------------------------------------------ */
/* Vocabulary                                                           */
/* ------------------------------------------------------------------ */

/* AMT status of a device, in the seed's vocabulary. */
enum amtp_amt_status {
	AMTP_AMT_UNKNOWN = 0,		/* "unknown" */
	AMTP_AMT_NOT_SUPPORTED,		/* "not supported" */
	AMTP_AMT_DETECTED,		/* "detected" */
	AMTP_AMT_NOT_PROVISIONED,	/* "not provisioned" */
	AMTP_AMT_PROVISIONED,		/* "provisioned" */
	AMTP_AMT_EXTERNALLY_PROVISIONED,/* "externally provisioned" */
	AMTP_AMT__MAX
};

enum amtp_job_kind {
	AMTP_JOB_PROVISION = 0,		/* "provision" */
	AMTP_JOB_ROTATE,		/* "rotate": new admin/MEBx password */
	AMTP_JOB_UNPROVISION,		/* "unprovision" */
	AMTP_JOB_KIND__MAX
};

enum amtp_job_state {
	AMTP_JOB_QUEUED = 0,		/* "queued" */
	AMTP_JOB_RUNNING,		/* "running": a service point holds the lease */
	AMTP_JOB_DONE,			/* "done" */
	AMTP_JOB_FAILED,		/* "failed" */
	AMTP_JOB_CANCELLED,		/* "cancelled" */
	AMTP_JOB_STATE__MAX
};

enum amtp_step_outcome {
	AMTP_STEP_STARTED = 0,		/* "started": no end recorded (yet) */
	AMTP_STEP_OK,			/* "ok" */
	AMTP_STEP_FAILED,		/* "failed" */
	AMTP_STEP_SKIPPED,		/* "skipped": already done on the device */
	AMTP_STEP_OUTCOME__MAX
};

enum amtp_cred_kind {
	AMTP_CRED_ADMIN = 0,		/* "admin": the AMT admin (Digest) account */
	AMTP_CRED_MEBX,			/* "mebx": the MEBx password */
	AMTP_CRED_DIRECTORY,		/* "directory": the device's directory account */
	AMTP_CRED_KIND__MAX
};

enum amtp_cred_state {
	AMTP_CRED_PENDING = 0,		/* "pending": written, maybe sent, not confirmed */
	AMTP_CRED_CURRENT,		/* "current": the device holds it */
	AMTP_CRED_RETIRED,		/* "retired": replaced or abandoned */
	AMTP_CRED_STATE__MAX
};

enum amtp_token_role {
	AMTP_ROLE_ADMIN = 0,		/* "admin" */
	AMTP_ROLE_READONLY,		/* "readonly" */
	AMTP_ROLE__MAX
};

/*
 * Names (for JSON, the CLI and the database columns) and their parsers.
 * amtp_store_*_name() returns NULL for a value out of range.
 * amtp_store_*_parse() takes the exact name (case-sensitive) and returns 0 or
 * AMTP_E_INVAL.
 */
const char *amtp_store_status_name(enum amtp_amt_status s);
int amtp_store_status_parse(const char *name, enum amtp_amt_status *out);
const char *amtp_store_job_kind_name(enum amtp_job_kind k);
int amtp_store_job_kind_parse(const char *name, enum amtp_job_kind *out);
const char *amtp_store_job_state_name(enum amtp_job_state s);
int amtp_store_job_state_parse(const char *name, enum amtp_job_state *out);
const char *amtp_store_step_outcome_name(enum amtp_step_outcome o);
int amtp_store_step_outcome_parse(const char *name,
    enum amtp_step_outcome *out);
const char *amtp_store_cred_kind_name(enum amtp_cred_kind k);
int amtp_store_cred_kind_parse(const char *name, enum amtp_cred_kind *out);
const char *amtp_store_cred_state_name(enum amtp_cred_state s);
int amtp_store_cred_state_parse(const char *name, enum amtp_cred_state *out);
const char *amtp_store_role_name(enum amtp_token_role r);
int amtp_store_role_parse(const char *name, enum amtp_token_role *out);

/* ------------------------------------------------------------------ */
/* Devices                                                              */
/* ------------------------------------------------------------------ */

/*
 * A managed computer.  The SMBIOS UUID identifies it (canonical text form,
 * 36 characters, stored lower-case; the parser accepts either case).
 */
struct amtp_device_rec {
	int64_t		id;
	char		uuid[AMTP_STORE_UUID_LEN + 1];
	char		hostname[AMTP_STORE_HOSTNAME_MAX + 1];	/* "" unknown */
	char		fqdn[AMTP_STORE_FQDN_MAX + 1];		/* "" unknown */
	char		amt_addr[AMTP_STORE_ADDR_MAX + 1];	/* wired IP, "" unknown */
	enum amtp_amt_status status;
	char		status_reason[AMTP_STORE_TEXT_MAX + 1];	/* why, "" none */
	int		has_otp;		/* an OTP hash is recorded */
	int64_t		created;
	int64_t		updated;
	int64_t		last_seen;		/* last agent report, 0 never */
};

/*
 * What the agent reports about the firmware (step 3).  root_hashes are the
 * certificate hashes held in firmware, as lower-case hex (40, 64 or 96
 * digits for SHA-1, SHA-256, SHA-384; 128 for SHA-512), with their friendly
 * names.
 */
struct amtp_fw_hash {
	char		name[AMTP_STORE_NAME_MAX + 1];
	char		hex[AMTP_STORE_HASH_HEX_MAX + 1];
	int		is_default;
	int		is_active;
};

struct amtp_device_facts {
	char		amt_version[AMTP_STORE_VERSION_MAX + 1];	/* "16.1.25" */
	char		amt_build[AMTP_STORE_VERSION_MAX + 1];		/* "2049" */
	char		sku[AMTP_STORE_VERSION_MAX + 1];
	char		fw_uuid[AMTP_STORE_UUID_LEN + 1];	/* as the firmware says */
	char		dns_suffix[AMTP_STORE_FQDN_MAX + 1];	/* trusted DNS suffix */
	int		wireless;		/* has a wireless interface */
	size_t		n_root_hashes;
	struct amtp_fw_hash root_hashes[AMTP_STORE_FW_HASHES_MAX];
	int64_t		reported;		/* when recorded (set by the store) */
};

/* Input for amtp_store_device_upsert(): NULL or "" fields are left as they
 * are on an existing row (and empty on a new one). */
struct amtp_device_in {
	const char	*uuid;			/* required */
	const char	*hostname;
	const char	*fqdn;
	const char	*amt_addr;
};

/*
 * Inserts the device with this SMBIOS UUID, or updates the given fields of
 * the existing one (idempotent; a new device has status "unknown").
 * Updates last_seen.  *id gets the device id; *created (may be NULL) gets 1
 * when the row is new.  AMTP_E_INVAL for a malformed UUID, AMTP_E_TOOBIG for a
 * field over its limit.
 */
int amtp_store_device_upsert(struct amtp_store *st,
    const struct amtp_device_in *in, int64_t *id, int *created);

/* One device by id or by UUID.  AMTP_E_NOTFOUND. */
int amtp_store_device_get(struct amtp_store *st, int64_t id,
    struct amtp_device_rec *out);
int amtp_store_device_get_uuid(struct amtp_store *st, const char *uuid,
    struct amtp_device_rec *out);

/* Sets the AMT status and its reason (reason may be NULL for ""). */
int amtp_store_device_set_status(struct amtp_store *st, int64_t id,
    enum amtp_amt_status status, const char *reason);

/* Replaces the firmware facts of a device (reported is set by the store). */
int amtp_store_device_set_facts(struct amtp_store *st, int64_t id,
    const struct amtp_device_facts *facts);
/* The facts; AMTP_E_NOTFOUND when the device or its facts are missing. */
int amtp_store_device_get_facts(struct amtp_store *st, int64_t id,
    struct amtp_device_facts *out);

/*
 * Records the OTP hash the agent sent: SHA-256 of the OTP bytes as 64
 * lower-case hex digits (upper-case digits are refused: AMTP_E_INVAL).  The
 * site never sees the OTP.  Replaces an earlier hash.
 */
int amtp_store_device_set_otp_hash(struct amtp_store *st, int64_t id,
    const char *sha256_hex);
/* The OTP hash (out gets 64 hex digits and a NUL; outsz >= 65).
 * AMTP_E_NOTFOUND when no hash is recorded. */
int amtp_store_device_get_otp_hash(struct amtp_store *st, int64_t id,
    char *out, size_t outsz);
/* Forgets the OTP hash (after provisioning, the OTP is spent). */
int amtp_store_device_clear_otp_hash(struct amtp_store *st, int64_t id);

struct amtp_device_filter {
	int		status;		/* an enum amtp_amt_status, or -1 for any */
	const char	*text;		/* NULL/"": any; else a case-insensitive
					 * substring of uuid, hostname, fqdn or
					 * amt_addr (at most AMTP_STORE_TEXT_MAX) */
	size_t		offset;
	size_t		limit;		/* 0: AMTP_STORE_LIST_DEFAULT */
};

/* Devices matching f (NULL: all), by id.  *out is malloc'ed (NULL when
 * *n is 0); total may be NULL. */
int amtp_store_device_list(struct amtp_store *st,
    const struct amtp_device_filter *f, struct amtp_device_rec **out,
    size_t *n, size_t *total);

/* Deletes a device and everything about it (facts, OTP hash, jobs, steps,
 * credentials).  Kept: audit rows (with the device id as a number), issued
 * certificates, agents and directory accounts (their device_id becomes 0).
 * Ids are never reused. */
int amtp_store_device_delete(struct amtp_store *st, int64_t id);

/* ------------------------------------------------------------------ */
/* Jobs and leases                                                      */
/* ------------------------------------------------------------------ */

struct amtp_job_rec {
	int64_t		id;
	int64_t		device_id;
	enum amtp_job_kind kind;
	enum amtp_job_state state;
	char		step[AMTP_STORE_NAME_MAX + 1];	/* current/last step, "" */
	int		attempts;	/* times claimed (1 on the first claim) */
	char		lease_owner[AMTP_STORE_OWNER_MAX + 1]; /* "" none */
	int64_t		lease_expires;	/* 0 when no lease */
	char		last_error[AMTP_STORE_TEXT_MAX + 1];	/* "" none */
	int64_t		not_before;	/* not claimed before this time */
	int64_t		created;
	int64_t		updated;
	int64_t		finished;	/* 0 while open */
};

/*
 * Queues a job of this kind for the device.  Idempotent: while the device
 * has an open (queued or running) job of the same kind, that job's id is
 * returned and *created (may be NULL) is 0.  AMTP_E_NOTFOUND when the
 * device does not exist.
 */
int amtp_store_job_enqueue(struct amtp_store *st, int64_t device_id,
    enum amtp_job_kind kind, int64_t *job_id, int *created);

/*
 * Claims one job for owner for lease_secs seconds (1..AMTP_STORE_LEASE_MAX):
 * the oldest (by id) of the queued jobs whose not_before has come and the
 * running jobs whose lease has expired (the previous holder is presumed
 * dead: the job resumes, and its unfinished steps are marked failed,
 * "abandoned: lease of <owner> expired").  The job becomes running,
 * attempts is incremented, and *out gets it.  AMTP_E_NOTFOUND when there is
 * nothing to do; AMTP_E_AGAIN (lost a race) or AMTP_E_BUSY (SQLite locked
 * past its busy timeout): try again later.  On PostgreSQL the row is taken
 * with FOR UPDATE SKIP LOCKED, so service points claiming at once never get
 * the same job; on SQLite the claim runs in a BEGIN IMMEDIATE transaction.
 *
 * owner (at most AMTP_STORE_OWNER_MAX bytes) must be unique per running
 * process, e.g. "oobsp-1:host:pid": every later write about the job is
 * fenced by it, so a restarted service point must not reuse the owner id
 * of its dead predecessor.
 *
 * attempts counts claims: the service point decides when a job has been
 * tried too often (and then calls amtp_store_job_finish(..., FAILED)).
 */
int amtp_store_job_claim(struct amtp_store *st, const char *owner,
    int lease_secs, struct amtp_job_rec *out);

/*
 * Extends owner's lease on job to now + lease_secs.  AMTP_E_CONFLICT when
 * owner no longer holds the job (taken over after its lease expired,
 * cancelled, or finished): the caller must stop working on it at once.  An
 * expired lease that nobody took over may still be renewed.  *expires (may
 * be NULL) gets the new expiry.
 */
int amtp_store_job_renew(struct amtp_store *st, int64_t job_id,
    const char *owner, int lease_secs, int64_t *expires);

/*
 * Step log.  amtp_store_job_step_start() records that owner starts step
 * (a short name such as "otp-check"; at most AMTP_STORE_NAME_MAX) on the
 * job, sets the job's current step, and gives the step row's id.
 * amtp_store_job_step_end() records its end, outcome and detail (at most
 * AMTP_STORE_TEXT_MAX; identifiers only, never a secret); a failed step also
 * sets the job's last_error.  Both fail with AMTP_E_CONFLICT when owner does
 * not hold the job.  Ending a step twice is AMTP_E_STATE.
 */
int amtp_store_job_step_start(struct amtp_store *st, int64_t job_id,
    const char *owner, const char *step, int64_t *step_id);
int amtp_store_job_step_end(struct amtp_store *st, int64_t job_id,
    const char *owner, int64_t step_id, enum amtp_step_outcome outcome,
    const char *detail);
/*
 * Both in one: with *step_id 0, a new row for step, open (outcome
 * AMTP_STEP_STARTED: *step_id gets its id) or whole (any other outcome:
 * started and ended now); with *step_id set, ends that row (as step_end).
 * The service point queues its step rows and writes them this way, many
 * jobs under one commit (amtp_store_batch_begin with amtp_store_batch_nest:
 * this one and amtp_store_job_requeue then run under nested savepoints;
 * amtp_store_job_finish opens no transaction and runs in any batch).
 */
int amtp_store_job_step_log(struct amtp_store *st, int64_t job_id,
    const char *owner, const char *step, int64_t *step_id,
    enum amtp_step_outcome outcome, const char *detail);

/*
 * Ends a running job held by owner: state is AMTP_JOB_DONE or
 * AMTP_JOB_FAILED (else AMTP_E_INVAL); reason (may be NULL) is kept as
 * last_error.  The lease is released.  AMTP_E_CONFLICT when owner does not
 * hold the job.
 */
int amtp_store_job_finish(struct amtp_store *st, int64_t job_id,
    const char *owner, enum amtp_job_state state, const char *reason);

/*
 * Puts a running job held by owner back in the queue (a temporary failure:
 * device unreachable), claimable again after delay_secs (0..
 * AMTP_STORE_LEASE_MAX).  reason (may be NULL) becomes last_error.
 */
int amtp_store_job_requeue(struct amtp_store *st, int64_t job_id,
    const char *owner, int delay_secs, const char *reason);

/*
 * Cancels a queued or running job (an admin action; no owner needed).  A
 * service point working on it learns at its next renew/step/finish
 * (AMTP_E_CONFLICT).  AMTP_E_STATE when the job is already done, failed or
 * cancelled; AMTP_E_NOTFOUND.
 */
int amtp_store_job_cancel(struct amtp_store *st, int64_t job_id,
    const char *reason);

/*
 * Queues a finished (failed or cancelled) job again as a new attempt
 * series: state queued, attempts 0.  AMTP_E_STATE for an open or done job;
 * AMTP_E_EXISTS when the device already has another open job of that kind.
 */
int amtp_store_job_retry(struct amtp_store *st, int64_t job_id);

int amtp_store_job_get(struct amtp_store *st, int64_t job_id,
    struct amtp_job_rec *out);

struct amtp_job_filter {
	int64_t		device_id;	/* 0: any */
	int		state;		/* enum amtp_job_state, -1: any */
	int		kind;		/* enum amtp_job_kind, -1: any */
	size_t		offset;
	size_t		limit;		/* 0: AMTP_STORE_LIST_DEFAULT */
};

/* Jobs matching f (NULL: all), newest first. */
int amtp_store_job_list(struct amtp_store *st, const struct amtp_job_filter *f,
    struct amtp_job_rec **out, size_t *n, size_t *total);

struct amtp_step_rec {
	int64_t		id;
	int64_t		job_id;
	int		attempt;	/* the job's attempts when the step ran */
	char		step[AMTP_STORE_NAME_MAX + 1];
	char		owner[AMTP_STORE_OWNER_MAX + 1];
	int64_t		started;
	int64_t		ended;		/* 0 while started */
	enum amtp_step_outcome outcome;
	char		detail[AMTP_STORE_TEXT_MAX + 1];
};

/* The step log of a job, in the order the steps started (at most
 * AMTP_STORE_LIST_MAX rows: the most recent ones). */
int amtp_store_job_steps(struct amtp_store *st, int64_t job_id,
    struct amtp_step_rec **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Credential escrow (two-phase)                                        */
/* ------------------------------------------------------------------ */

/*
 * Per device and kind, credentials have versions 1, 2, 3...; each is
 * pending, current or retired.  At most one is pending and at most one is
 * current.  The sealed value's AAD is "device:<id>:<kind>:v<version>"
 * (kind as amtp_store_cred_kind_name()), so a value copied to another row
 * does not open.
 *
 * Protocol (see docs/job-and-escrow.md):
 *   1. v = put_pending(dev, kind, secret)   -- sealed and committed
 *   2. send the secret to the device
 *   3. promote(dev, kind, v)                -- pending -> current,
 *                                              old current -> retired
 * After a crash between 1 and 3 the device holds either the pending or the
 * current value; the resumed job tries get(PENDING) then get(CURRENT), and
 * promotes the pending one if it works, or abandons it if the current one
 * works.
 */

struct amtp_cred_rec {
	int64_t		device_id;
	enum amtp_cred_kind kind;
	int		version;
	enum amtp_cred_state state;
	int64_t		created;
	int64_t		changed;	/* last state change */
};

/*
 * Seals secret (1..AMTP_SECRET_MAX bytes) and stores it as the pending
 * version of (device, kind); *version gets its number.  Committed before
 * return.  AMTP_E_EXISTS when a pending version exists already (resolve it
 * first with promote or abandon); AMTP_E_NOTFOUND for an unknown device;
 * AMTP_E_STATE without a master key.
 */
int amtp_store_cred_put_pending(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, const struct amtp_secret *secret, int *version);

/*
 * Makes version the current one: it must be pending (or already current:
 * then nothing changes and 0 is returned, so a resumed job may promote
 * twice).  The former current version is retired.  AMTP_E_STATE when the
 * version is retired; AMTP_E_NOTFOUND.
 */
int amtp_store_cred_promote(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version);

/* Retires a pending version that the device is known not to hold.
 * AMTP_E_STATE when it is not pending. */
int amtp_store_cred_abandon(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version);

/*
 * Retires every pending and current version of (device, kind): the device
 * holds none of them any more (an Unprovision put it back to its factory
 * defaults).  One transaction with an audit record (actor, action
 * "device.password.retired", device, detail "kind admin: v2 (current), v3
 * (pending) retired: <why>"), written only when a version was retired.
 * *n (may be NULL) gets how many were retired; none is not an error (a
 * resumed job retires twice).  Retired values still open (get RETIRED,
 * get_version) for an admin's audit.  why may be NULL; at most
 * AMTP_STORE_TEXT_MAX / 2 bytes.  AMTP_E_NOTFOUND for an unknown device;
 * AMTP_E_INVAL for a bad kind or actor.
 */
int amtp_store_cred_retire(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, const char *actor, const char *why, int *n);

/*
 * Opens the credential of (device, kind) in state (pending or current: the
 * one such version; retired: the newest retired one).  *version (may be
 * NULL) gets its number; *out is a new secret the caller frees with
 * amtp_secret_free().  AMTP_E_NOTFOUND when there is none; AMTP_E_CRYPTO
 * when it does not open (wrong master key, tampered row).  Callers that
 * show a password to an admin write an audit record.
 */
int amtp_store_cred_get(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, enum amtp_cred_state state, int *version,
    struct amtp_secret **out);

/* Opens one exact version, whatever its state. */
int amtp_store_cred_get_version(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version, struct amtp_secret **out);

/* All versions of all kinds of a device (no secrets), by kind then
 * version. */
int amtp_store_cred_list(struct amtp_store *st, int64_t device_id,
    struct amtp_cred_rec **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Issued certificates                                                  */
/* ------------------------------------------------------------------ */

struct amtp_cert_rec {
	int64_t		id;
	int64_t		device_id;	/* 0: not bound to a device */
	char		serial[AMTP_STORE_SERIAL_MAX + 1];	/* lower-case hex */
	char		profile[AMTP_STORE_NAME_MAX + 1];	/* "amt-web", "802.1x"... */
	char		subject[AMTP_STORE_TEXT_MAX + 1];	/* one-line DN */
	int64_t		not_before;
	int64_t		not_after;
	int64_t		issued;
	int64_t		revoked;	/* 0: not revoked */
	int		has_key;	/* a sealed private key is stored */
};

/*
 * Records an issued certificate: rec's device_id, serial, profile, subject,
 * not_before and not_after are used (id, issued, revoked, has_key are set by
 * the store); pem is the certificate (at most AMTP_STORE_PEM_MAX bytes);
 * key (may be NULL) is its private key in PEM, sealed with AAD
 * "cert:<serial>".  AMTP_E_EXISTS for a serial already recorded.
 */
int amtp_store_cert_add(struct amtp_store *st, const struct amtp_cert_rec *rec,
    const char *pem, const struct amtp_secret *key, int64_t *id);

/* A certificate by serial (hex, either case).  pem (may be NULL) gets a
 * malloc'ed copy of the PEM text. */
int amtp_store_cert_get(struct amtp_store *st, const char *serial,
    struct amtp_cert_rec *out, char **pem);

/* The opened private key of a certificate.  AMTP_E_NOTFOUND when none. */
int amtp_store_cert_get_key(struct amtp_store *st, const char *serial,
    struct amtp_secret **out);

/* Marks a certificate revoked at time at (0: now).  AMTP_E_STATE when it is
 * revoked already. */
int amtp_store_cert_revoke(struct amtp_store *st, const char *serial,
    int64_t at);

/* Certificates of a device (device_id 0: all), newest first. */
int amtp_store_cert_list(struct amtp_store *st, int64_t device_id,
    size_t offset, size_t limit, struct amtp_cert_rec **out, size_t *n,
    size_t *total);

/* ------------------------------------------------------------------ */
/* Audit                                                                */
/* ------------------------------------------------------------------ */

struct amtp_audit_rec {
	int64_t		id;
	int64_t		at;
	char		actor[AMTP_STORE_NAME_MAX + 1];	/* "admin:alice", "oobsp-1" */
	char		action[AMTP_STORE_NAME_MAX + 1];	/* "device.password.reveal" */
	int64_t		device_id;			/* 0: none */
	char		detail[AMTP_STORE_TEXT_MAX + 1];	/* never a secret */
};

/* Appends an audit record (at is set by the store).  *id may be NULL. */
int amtp_store_audit_append(struct amtp_store *st, const char *actor,
    const char *action, int64_t device_id, const char *detail, int64_t *id);

struct amtp_audit_filter {
	int64_t		device_id;	/* 0: any */
	const char	*actor;		/* NULL/"": any; else exact */
	int64_t		since;		/* 0: any; else at >= since */
	size_t		offset;
	size_t		limit;
};

/* Audit records matching f (NULL: all), newest first. */
int amtp_store_audit_list(struct amtp_store *st,
    const struct amtp_audit_filter *f, struct amtp_audit_rec **out,
    size_t *n, size_t *total);

/* ------------------------------------------------------------------ */
/* Agents and admin tokens                                              */
/* ------------------------------------------------------------------ */

/*
 * An agent authenticates with a per-agent credential; the store keeps only
 * a hash of it (the format is the caller's, e.g. "sha256:<hex>", at most
 * AMTP_STORE_HASH_MAX; the caller compares with amtp_ct_equal()).
 */
struct amtp_agent_rec {
	int64_t		id;
	char		name[AMTP_STORE_NAME_MAX + 1];	/* agent id, unique */
	int64_t		device_id;	/* 0: not yet bound */
	char		cred_hash[AMTP_STORE_HASH_MAX + 1];
	int		enabled;
	int64_t		created;
	int64_t		last_seen;	/* 0 never */
};

/* Inserts or replaces (by name) an agent's credential hash and device;
 * re-enables it.  *id may be NULL. */
int amtp_store_agent_put(struct amtp_store *st, const char *name,
    const char *cred_hash, int64_t device_id, int64_t *id);
int amtp_store_agent_get(struct amtp_store *st, const char *name,
    struct amtp_agent_rec *out);
/* Updates last_seen to now. */
int amtp_store_agent_touch(struct amtp_store *st, int64_t id);
int amtp_store_agent_set_enabled(struct amtp_store *st, int64_t id,
    int enabled);
int amtp_store_agent_list(struct amtp_store *st, size_t offset, size_t limit,
    struct amtp_agent_rec **out, size_t *n, size_t *total);

/*
 * Admin API tokens, stored as a hash of the (high-entropy) token, so that a
 * token is looked up by its hash: SHA-256 lower-case hex of the token is the
 * expected form (the caller computes it).
 */
struct amtp_token_rec {
	int64_t		id;
	char		name[AMTP_STORE_NAME_MAX + 1];	/* who/what it is for */
	enum amtp_token_role role;
	int64_t		created;
	int64_t		expires;	/* 0: never */
	int64_t		last_used;	/* 0: never */
	int64_t		revoked;	/* 0: not revoked */
};

/* Adds a token.  AMTP_E_EXISTS when the hash is known already. */
int amtp_store_token_add(struct amtp_store *st, const char *name,
    const char *token_hash, enum amtp_token_role role, int64_t expires,
    int64_t *id);
/* The live token with this hash (updates last_used).  AMTP_E_NOTFOUND when
 * there is none, it is revoked, or it has expired (all three look the same
 * to a caller on purpose). */
int amtp_store_token_find(struct amtp_store *st, const char *token_hash,
    struct amtp_token_rec *out);
int amtp_store_token_revoke(struct amtp_store *st, int64_t id);
int amtp_store_token_list(struct amtp_store *st, struct amtp_token_rec **out,
    size_t *n);

/* ------------------------------------------------------------------ */
/* Built-in directory accounts                                          */
/* ------------------------------------------------------------------ */

/*
 * A directory account (the built-in directory, step 4): a name unique in
 * the site (compared case-insensitively, stored as given), a container
 * (OU DN), the SPNs (each unique across all accounts: AMTP_E_CONFLICT when
 * an SPN belongs to another account), a sealed password (AAD
 * "diracct:<lower-case name>") and an enabled flag.
 */
struct amtp_diracct_rec {
	int64_t		id;
	char		name[AMTP_STORE_NAME_MAX + 1];
	char		container[AMTP_STORE_DN_MAX + 1];
	int64_t		device_id;	/* 0: not bound to a device */
	int		enabled;
	size_t		n_spns;
	char		spns[AMTP_STORE_SPNS_MAX][AMTP_STORE_SPN_MAX + 1];
	int64_t		created;
	int64_t		updated;
	int64_t		pw_changed;	/* when the password was last set */
};

/*
 * Creates the account rec->name or replaces its container, device, enabled
 * flag and SPN list.  password may be NULL to keep the stored one (a new
 * account needs one: AMTP_E_INVAL).  *id (may be NULL) gets the id;
 * *created (may be NULL) 1 when new.
 */
int amtp_store_diracct_put(struct amtp_store *st,
    const struct amtp_diracct_rec *rec, const struct amtp_secret *password,
    int64_t *id, int *created);
int amtp_store_diracct_get(struct amtp_store *st, const char *name,
    struct amtp_diracct_rec *out);
/* The account whose SPN list holds spn (case-insensitive). */
int amtp_store_diracct_find_spn(struct amtp_store *st, const char *spn,
    struct amtp_diracct_rec *out);
/* The account bound to a device (the newest when several). */
int amtp_store_diracct_get_device(struct amtp_store *st, int64_t device_id,
    struct amtp_diracct_rec *out);
/* Opens the password of an account. */
int amtp_store_diracct_get_password(struct amtp_store *st, const char *name,
    struct amtp_secret **out);
int amtp_store_diracct_set_enabled(struct amtp_store *st, const char *name,
    int enabled);
int amtp_store_diracct_delete(struct amtp_store *st, const char *name);
/* Accounts in container (NULL: all; else exact, case-insensitive), by
 * name. */
int amtp_store_diracct_list(struct amtp_store *st, const char *container,
    size_t offset, size_t limit, struct amtp_diracct_rec **out, size_t *n,
    size_t *total);

/* ------------------------------------------------------------------ */
/* Site settings                                                        */
/* ------------------------------------------------------------------ */

/* A small key/value table for site-wide state (key at most
 * AMTP_STORE_NAME_MAX, value at most AMTP_STORE_TEXT_MAX; never a secret). */
int amtp_store_setting_set(struct amtp_store *st, const char *key,
    const char *value);
/* AMTP_E_NOTFOUND when unset; AMTP_E_TOOBIG when outsz is too small. */
int amtp_store_setting_get(struct amtp_store *st, const char *key, char *out,
    size_t outsz);

/* ------------------------------------------------------------------ */
/* Batches (store_batch.c): several units of writes under one commit    */
/* ------------------------------------------------------------------ */

/*
 * amtp_store_batch_begin() opens a write transaction; units of work go in
 * between amtp_store_batch_unit_begin() and amtp_store_batch_unit_end(st, r)
 * (a savepoint: a unit ending with r != 0 is rolled back alone, and r is
 * returned); amtp_store_batch_end(st, r) commits (r == 0) or rolls back the
 * whole batch and returns r or the commit's error.  Inside a batch, call
 * only store functions that open no transaction of their own (device
 * upsert/status/OTP hash, agent put, job enqueue, batch_set_facts, job
 * finish); the others answer AMTP_E_INTERNAL unless the batch allows
 * nesting (amtp_store_batch_nest).  Never put credentials in a batch.
 * Usage:
 *	amtp_store_batch_begin(st);
 *	amtp_store_batch_unit_begin(st);
 *	r = amtp_store_device_set_status(st, ...);
 *	r = amtp_store_batch_unit_end(st, r);
 *	r = amtp_store_batch_end(st, 0);	(durable when 0)
 */
int amtp_store_batch_begin(struct amtp_store *st);
int amtp_store_batch_end(struct amtp_store *st, int r);
/*
 * With on != 0, the functions that open a transaction of their own may run
 * inside the open batch, each under a nested savepoint (undone alone when
 * it fails), credentials too: their writes become durable only with the
 * batch's commit.  Only for writes whose secret does not leave the
 * database before that commit: the built-in directory's account and its
 * escrowed password (site/wgroup.c, site_wgroup_run_nested).  Off with 0.
 */
void amtp_store_batch_nest(struct amtp_store *st, int on);
/* True while a batch (or any transaction) is open on st. */
int amtp_store_batch_active(const struct amtp_store *st);
int amtp_store_batch_unit_begin(struct amtp_store *st);
int amtp_store_batch_unit_end(struct amtp_store *st, int r);
/* amtp_store_device_set_facts() inside a batch (AMTP_E_STATE outside). */
int amtp_store_batch_set_facts(struct amtp_store *st, int64_t id,
    const struct amtp_device_facts *f);

#endif
