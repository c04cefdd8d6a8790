/*
 * amtprov - store_batch.c: several writes in one transaction (role site).
 *
 * With synchronous=FULL every commit waits for the disk, so the cost of a
 * write is the commit, not the rows.  These functions let a caller open one
 * transaction, record several units of work in it (each under a savepoint,
 * so that a unit that fails leaves nothing behind while the others stay),
 * and commit them together: the site's group commit (site/wgroup.c) puts
 * the reports of all the agents that arrive together under one commit.
 *
 * Inside a batch only functions that do not open their own transaction may
 * be called (those that do answer AMTP_E_INTERNAL): device upsert, status,
 * OTP hash, agent put, job enqueue, job finish, and
 * amtp_store_batch_set_facts below; with amtp_store_batch_nest() the
 * others too, each under a nested savepoint (store.c, store_tx_begin).
 * Credentials are written inside a batch only where the secret stays in the
 * database until the batch commits (the site's built-in directory).
 */
#include <ctype.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"

#include "store/store.h"
#include "store/store_int.h"

int
amtp_store_batch_begin(struct amtp_store *st)
{
	return store_tx_begin(st);
}

int
amtp_store_batch_end(struct amtp_store *st, int r)
{
	if (!st->in_tx)
		return r != 0 ? r : AMTP_E_STATE;
	return store_tx_end(st, r);
}

void
amtp_store_batch_nest(struct amtp_store *st, int on)
{
	st->nest_ok = on != 0;
}

int
amtp_store_batch_active(const struct amtp_store *st)
{
	return st->in_tx;
}

int
amtp_store_batch_unit_begin(struct amtp_store *st)
{
	if (!st->in_tx)
		return AMTP_E_STATE;
	return st->ops->script(st, "SAVEPOINT amtp_unit");
}

int
amtp_store_batch_unit_end(struct amtp_store *st, int r)
{
	int r2;

	if (!st->in_tx)
		return r != 0 ? r : AMTP_E_STATE;
	if (r != 0 &&
	    (r2 = st->ops->script(st, "ROLLBACK TO SAVEPOINT amtp_unit")) != 0)
		return r2;
	if ((r2 = st->ops->script(st, "RELEASE SAVEPOINT amtp_unit")) != 0)
		return r != 0 ? r : r2;
	return r;
}

/* Lower-case copy of a UUID in its 8-4-4-4-12 form; 0 when not one. */
static int
batch_uuid(const char *s, char *lc, size_t lcsz)
{
	size_t i;

	if (lcsz < AMTP_STORE_UUID_LEN + 1)
		return 0;
	for (i = 0; i < AMTP_STORE_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
		lc[i] = (char)tolower((unsigned char)s[i]);
	}
	if (s[i] != '\0')
		return 0;
	lc[i] = '\0';
	return 1;
}

/* SHA-1/256/384/512 as lower-case hex. */
static int
batch_hash_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40 || i == 64 || i == 96 || i == 128;
}

static const char SQL_B_DEV_LOCK[] =
    "SELECT id FROM devices WHERE id = $1 @FORUPDATE@";
static const char SQL_B_FACTS_PUT[] =
    "INSERT INTO device_facts (device_id, amt_version, amt_build, sku,"
    " fw_uuid, dns_suffix, wireless, reported)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, @NOW@)"
    " ON CONFLICT (device_id) DO UPDATE SET amt_version = excluded.amt_version,"
    " amt_build = excluded.amt_build, sku = excluded.sku,"
    " fw_uuid = excluded.fw_uuid, dns_suffix = excluded.dns_suffix,"
    " wireless = excluded.wireless, reported = excluded.reported";
static const char SQL_B_HASH_DEL[] =
    "DELETE FROM device_root_hashes WHERE device_id = $1";
static const char SQL_B_HASH_ADD[] =
    "INSERT INTO device_root_hashes (device_id, idx, name, hex, is_default,"
    " is_active) VALUES ($1, $2, $3, $4, $5, $6)";

int
amtp_store_batch_set_facts(struct amtp_store *st, int64_t id,
    const struct amtp_device_facts *f)
{
	struct sqlres *res = NULL;
	char fwuuid[AMTP_STORE_UUID_LEN + 1] = "";
	size_t i;
	int r;

	if (!st->in_tx)
		return AMTP_E_STATE;
	if (f == NULL || f->n_root_hashes > AMTP_STORE_FW_HASHES_MAX)
		return AMTP_E_INVAL;
	if (memchr(f->amt_version, '\0', sizeof(f->amt_version)) == NULL ||
	    memchr(f->amt_build, '\0', sizeof(f->amt_build)) == NULL ||
	    memchr(f->sku, '\0', sizeof(f->sku)) == NULL ||
	    memchr(f->fw_uuid, '\0', sizeof(f->fw_uuid)) == NULL ||
	    memchr(f->dns_suffix, '\0', sizeof(f->dns_suffix)) == NULL)
		return AMTP_E_INVAL;
	if ((r = store_check_text(f->amt_version, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->amt_build, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->sku, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->dns_suffix, AMTP_STORE_FQDN_MAX, 0)))
		return r;
	if (f->fw_uuid[0] != '\0' && !batch_uuid(f->fw_uuid, fwuuid,
	    sizeof(fwuuid)))
		return AMTP_E_INVAL;
	for (i = 0; i < f->n_root_hashes; i++) {
		const struct amtp_fw_hash *h = &f->root_hashes[i];

		if (memchr(h->name, '\0', sizeof(h->name)) == NULL ||
		    memchr(h->hex, '\0', sizeof(h->hex)) == NULL ||
		    !batch_hash_hex(h->hex))
			return AMTP_E_INVAL;
		if ((r = store_check_text(h->name, AMTP_STORE_NAME_MAX,
		    0)) != 0)
			return r;
	}
	if ((r = store_q(st, "device facts", SQL_B_DEV_LOCK, PARAMS(INT(id)),
	    &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = store_q(st, "device facts", SQL_B_FACTS_PUT,
	    PARAMS(INT(id), TXT(f->amt_version), TXT(f->amt_build),
	    TXT(f->sku), TXT(fwuuid), TXT(f->dns_suffix),
	    INT(f->wireless ? 1 : 0)), NULL)) != 0)
		goto out;
	if ((r = store_q(st, "device facts", SQL_B_HASH_DEL, PARAMS(INT(id)),
	    NULL)) != 0)
		goto out;
	for (i = 0; i < f->n_root_hashes; i++) {
		const struct amtp_fw_hash *h = &f->root_hashes[i];

		if ((r = store_q(st, "device facts", SQL_B_HASH_ADD,
		    PARAMS(INT(id), INT(i), TXT(h->name), TXT(h->hex),
		    INT(h->is_default ? 1 : 0), INT(h->is_active ? 1 : 0)),
		    NULL)) != 0)
			goto out;
	}
	r = 0;
 out:
	store_res_free(res);
	return r;
}
