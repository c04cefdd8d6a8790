/*
 * amtprov - site/wgroup.c: group commit of the site's writes (role site).
 * See wgroup.h for the contract.
 *
 * Under the mutex: a thread that arrives while a commit is under way waits
 * (counted in "entering"); otherwise it opens the batch if none is open,
 * runs its unit under a savepoint and joins the batch's member list.  If
 * nobody else is entering, it commits the batch for all its members, with
 * the mutex released during the commit (the disk sync), so that the next
 * arrivals gather meanwhile; else it waits for the last entrant to commit.
 */
#include <pthread.h>
#include <stdlib.h>

#include "amtprov/err.h"
#include "amtprov/log.h"

#include "site/wgroup.h"
#include "store/store.h"

struct wg_member {
	struct wg_member *next;
	int		 done;
	int		 r;
};

struct site_wgroup {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct amtp_store *st;
	int		 open;		/* a batch is open on st */
	int		 committing;	/* its commit is under way */
	unsigned	 entering;	/* threads yet to add a unit */
	struct wg_member *members;	/* of the open batch */
	uint64_t	 commits;
	uint64_t	 units;
	uint64_t	 solos;
};

int
site_wgroup_new(const char *uri, const struct amtp_master_key *mk,
    struct site_wgroup **out, char *err, size_t errlen)
{
	struct site_wgroup *g;
	int r;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return AMTP_E_NOMEM;
	if (pthread_mutex_init(&g->mu, NULL) != 0) {
		free(g);
		return AMTP_E_NOMEM;
	}
	if (pthread_cond_init(&g->cv, NULL) != 0) {
		pthread_mutex_destroy(&g->mu);
		free(g);
		return AMTP_E_NOMEM;
	}
	if ((r = amtp_store_open(uri, mk, &g->st, err, errlen)) != 0) {
		site_wgroup_free(g);
		return r;
	}
	*out = g;
	return 0;
}

void
site_wgroup_free(struct site_wgroup *g)
{
	if (g == NULL)
		return;
	amtp_store_close(g->st);	/* rolls back an open batch */
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* Commits the open batch for its members; called with the mutex held,
 * returns with it held. */
static void
commit_batch(struct site_wgroup *g)
{
	struct wg_member *m, *list;
	int r;

	list = g->members;
	g->members = NULL;
	g->committing = 1;
	pthread_mutex_unlock(&g->mu);
	r = amtp_store_batch_end(g->st, 0);
	pthread_mutex_lock(&g->mu);
	if (r != 0)
		log_warn_r(r, "site: group commit: %s",
		    amtp_store_errmsg(g->st));
	g->commits++;
	g->open = 0;
	g->committing = 0;
	for (m = list; m != NULL; m = m->next) {
		if (m->r == 0)
			m->r = r;
		m->done = 1;
	}
	pthread_cond_broadcast(&g->cv);
}

static int
run(struct site_wgroup *g, site_wgroup_fn fn, void *arg, int nest)
{
	struct wg_member me;
	int r;

	me.next = NULL;
	me.done = 0;
	me.r = 0;
	pthread_mutex_lock(&g->mu);
	g->entering++;
	while (g->committing)
		pthread_cond_wait(&g->cv, &g->mu);
	g->entering--;
	if (!g->open) {
		if ((r = amtp_store_batch_begin(g->st)) != 0) {
			log_warn_r(r, "site: group begin: %s",
			    amtp_store_errmsg(g->st));
			/* let a waiter that counted on us go on */
			pthread_cond_broadcast(&g->cv);
			pthread_mutex_unlock(&g->mu);
			return r;
		}
		g->open = 1;
	}
	if ((r = amtp_store_batch_unit_begin(g->st)) == 0) {
		amtp_store_batch_nest(g->st, nest);
		r = fn(g->st, arg);
		amtp_store_batch_nest(g->st, 0);
		r = amtp_store_batch_unit_end(g->st, r);
	}
	g->units++;
	me.r = r;
	me.next = g->members;
	g->members = &me;
	if (g->entering == 0)
		commit_batch(g);	/* nobody else is coming: commit */
	else
		while (!me.done)
			pthread_cond_wait(&g->cv, &g->mu);
	r = me.r;
	pthread_mutex_unlock(&g->mu);
	return r;
}

int
site_wgroup_run(struct site_wgroup *g, site_wgroup_fn fn, void *arg)
{
	return run(g, fn, arg, 0);
}

int
site_wgroup_run_nested(struct site_wgroup *g, site_wgroup_fn fn, void *arg)
{
	return run(g, fn, arg, 1);
}

int
site_wgroup_solo(struct site_wgroup *g, site_wgroup_fn fn, void *arg)
{
	int r;

	pthread_mutex_lock(&g->mu);
	g->entering++;
	while (g->committing)
		pthread_cond_wait(&g->cv, &g->mu);
	g->entering--;
	if (g->open)
		commit_batch(g);	/* its members are waiting for it */
	/* the mutex is held: nobody adds a unit or commits meanwhile */
	r = fn(g->st, arg);
	g->solos++;
	/* entrants that counted on the batch we committed go on */
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return r;
}

void
site_wgroup_stats(struct site_wgroup *g, uint64_t *commits, uint64_t *units)
{
	pthread_mutex_lock(&g->mu);
	*commits = g->commits;
	*units = g->units;
	pthread_mutex_unlock(&g->mu);
}
