/*
 * amtprov - site/pool.c: a fixed pool of store connections (role site).
 */
#include <pthread.h>
#include <stdlib.h>

#include "amtprov/err.h"

#include "site/pool.h"
#include "store/store.h"

#define POOL_MAX	64

struct site_pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	size_t		 n;
	size_t		 nfree;
	struct amtp_store *all[POOL_MAX];
	struct amtp_store *freelist[POOL_MAX];
};

int
site_pool_new(const char *uri, const struct amtp_master_key *mk, size_t n,
    struct site_pool **out, char *err, size_t errlen)
{
	struct site_pool *p = NULL;
	int r;

	*out = NULL;
	if (n == 0 || n > POOL_MAX)
		return AMTP_E_RANGE;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return AMTP_E_NOMEM;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return AMTP_E_NOMEM;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return AMTP_E_NOMEM;
	}
	for (p->n = 0; p->n < n; p->n++) {
		if ((r = amtp_store_open(uri, mk, &p->all[p->n], err,
		    errlen)) != 0)
			goto out;
		p->freelist[p->nfree++] = p->all[p->n];
	}
	*out = p;
	p = NULL;
	r = 0;
 out:
	site_pool_free(p);
	return r;
}

void
site_pool_free(struct site_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		amtp_store_close(p->all[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

struct amtp_store *
site_pool_get(struct site_pool *p)
{
	struct amtp_store *st;

	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	st = p->freelist[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	return st;
}

void
site_pool_put(struct site_pool *p, struct amtp_store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->freelist[p->nfree++] = st;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
