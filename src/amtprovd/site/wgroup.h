/*
 * amtprov - site/wgroup.h: group commit of the site's writes (role site).
 *
 * Every commit of the site database waits for the disk (synchronous=FULL),
 * so one commit per agent report caps the site at the disk's sync rate.
 * A write group owns one store connection; the API's threads hand it units
 * of work, and the units that arrive while a commit is under way go into
 * the next transaction together, which one of them commits for all.  Each
 * unit runs under a savepoint: a unit that fails leaves nothing behind and
 * does not fail the others.  site_wgroup_run() returns only once its unit
 * is durable (or failed), so a caller may answer, and read its own writes
 * through any other connection, as soon as it returns.
 *
 * A unit may call only store functions that open no transaction of their
 * own (store.h, "Batches"), except under site_wgroup_run_nested().
 */
#ifndef SITE_WGROUP_H
#define SITE_WGROUP_H

#include <stddef.h>
#include <stdint.h>

struct amtp_master_key;
struct amtp_store;
struct site_wgroup;

/* A unit of work: 0 or a negative AMTP_E_* code. */
typedef int (*site_wgroup_fn)(struct amtp_store *st, void *arg);

/* Opens the group's own connection to uri.  err gets the store's
 * sentence.  0 or a negative AMTP_E_* code. */
int site_wgroup_new(const char *uri, const struct amtp_master_key *mk,
    struct site_wgroup **out, char *err, size_t errlen);
/* Closes the connection; no site_wgroup_run() may be running.  NULL does
 * nothing. */
void site_wgroup_free(struct site_wgroup *g);

/*
 * Runs fn(st, arg) as one unit of the next group commit and waits for that
 * commit.  Returns fn's code when fn failed (its writes undone), else 0
 * once the commit is durable, or the error of the transaction (begin or
 * commit: then the unit's writes are lost and the caller should answer
 * "try again").
 */
int site_wgroup_run(struct site_wgroup *g, site_wgroup_fn fn, void *arg);

/*
 * The same, but fn may call store functions that open transactions of
 * their own, credentials included (each becomes a nested savepoint,
 * amtp_store_batch_nest): for writes whose secret stays in the database
 * until the group's commit, as the built-in directory's account and its
 * escrowed password (escrow, account and promotion then become durable
 * together, in one commit shared with the other units).
 */
int site_wgroup_run_nested(struct site_wgroup *g, site_wgroup_fn fn,
    void *arg);

/*
 * Runs fn(st, arg) alone on the group's connection, between two batches
 * (the open one, if any, is committed first): for writes that open their
 * own transactions (credential escrow, the built-in directory), so that
 * they take turns with the batches instead of polling for the database
 * lock while batches follow one another.  fn must not wait for the
 * network: every other writer waits meanwhile.  Returns fn's code.
 */
int site_wgroup_solo(struct site_wgroup *g, site_wgroup_fn fn, void *arg);

/* Commits and units since the start (for /metrics and tests). */
void site_wgroup_stats(struct site_wgroup *g, uint64_t *commits,
    uint64_t *units);

#endif
