/*
 * amtprov - site/pool.h: a fixed pool of store connections shared by the
 * API's worker threads (role site).  A struct amtp_store is used by one
 * thread at a time (store.h); a handler borrows one for the length of one
 * callback and gives it back.
 */
#ifndef SITE_POOL_H
#define SITE_POOL_H

#include <stddef.h>

struct amtp_master_key;
struct amtp_store;
struct site_pool;

/* Opens n (1..64) connections to uri.  err gets the store's sentence. */
int site_pool_new(const char *uri, const struct amtp_master_key *mk, size_t n,
    struct site_pool **out, char *err, size_t errlen);
void site_pool_free(struct site_pool *p);

/* Borrows a connection, waiting while all are in use. */
struct amtp_store *site_pool_get(struct site_pool *p);
/* Gives st back (NULL does nothing). */
void site_pool_put(struct site_pool *p, struct amtp_store *st);

#endif
