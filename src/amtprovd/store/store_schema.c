/*
 * amtprov - store_schema.c: the site database schema, as versioned
 * migrations (role site; applied by amtp_store_open() on both back ends).
 *
 * Migration N is store_migrations[N - 1].  A released migration never
 * changes: a schema change is a new entry at the end.  The text is the
 * portable dialect of store_int.h (@ID@ is the auto-increment key type);
 * no statement carries a value.  Times are BIGINT UNIX seconds, flags are
 * INTEGER 0/1, enumerations are TEXT with a CHECK on the names of store.h.
 */
#include "store/store_int.h"

static const char MIGRATION_1[] =
    "CREATE TABLE devices ("
    " id @ID@,"
    " uuid TEXT NOT NULL UNIQUE,"
    " hostname TEXT NOT NULL DEFAULT '',"
    " fqdn TEXT NOT NULL DEFAULT '',"
    " amt_addr TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown',"
    "  'not supported', 'detected', 'not provisioned', 'provisioned',"
    "  'externally provisioned')),"
    " status_reason TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL DEFAULT 0);\n"
    "CREATE INDEX devices_status ON devices (status);\n"

    "CREATE TABLE device_facts ("
    " device_id BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,"
    " amt_version TEXT NOT NULL,"
    " amt_build TEXT NOT NULL,"
    " sku TEXT NOT NULL,"
    " fw_uuid TEXT NOT NULL,"
    " dns_suffix TEXT NOT NULL,"
    " wireless INTEGER NOT NULL,"
    " reported BIGINT NOT NULL);\n"

    "CREATE TABLE device_root_hashes ("
    " device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " hex TEXT NOT NULL,"
    " is_default INTEGER NOT NULL,"
    " is_active INTEGER NOT NULL,"
    " PRIMARY KEY (device_id, idx));\n"

    /* SHA-256 of the OTP, lower-case hex; the OTP itself never arrives. */
    "CREATE TABLE otp_hashes ("
    " device_id BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,"
    " sha256 TEXT NOT NULL,"
    " created BIGINT NOT NULL);\n"

    "CREATE TABLE jobs ("
    " id @ID@,"
    " device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('provision', 'rotate',"
    "  'unprovision')),"
    " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done',"
    "  'failed', 'cancelled')),"
    " step TEXT NOT NULL DEFAULT '',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " lease_owner TEXT NOT NULL DEFAULT '',"
    " lease_expires BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " not_before BIGINT NOT NULL DEFAULT 0,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " finished BIGINT NOT NULL DEFAULT 0);\n"
    /* One open job of a kind per device: enqueue is idempotent. */
    "CREATE UNIQUE INDEX jobs_one_open ON jobs (device_id, kind)"
    " WHERE state IN ('queued', 'running');\n"
    "CREATE INDEX jobs_claim ON jobs (state, not_before, id);\n"
    "CREATE INDEX jobs_device ON jobs (device_id, id);\n"

    "CREATE TABLE job_steps ("
    " id @ID@,"
    " job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL,"
    " step TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " started BIGINT NOT NULL,"
    " ended BIGINT NOT NULL DEFAULT 0,"
    " outcome TEXT NOT NULL DEFAULT 'started' CHECK (outcome IN ('started',"
    "  'ok', 'failed', 'skipped')),"
    " detail TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX job_steps_job ON job_steps (job_id, id);\n"

    /* Escrow: sealed is base64 of AES-256-GCM under the master key, AAD
     * "device:<id>:<kind>:v<version>". */
    "CREATE TABLE credentials ("
    " device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('admin', 'mebx', 'directory')),"
    " version INTEGER NOT NULL CHECK (version > 0),"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'current', 'retired')),"
    " sealed TEXT NOT NULL,"
    " created BIGINT NOT NULL,"
    " changed BIGINT NOT NULL,"
    " PRIMARY KEY (device_id, kind, version));\n"
    "CREATE UNIQUE INDEX credentials_one_pending ON credentials"
    " (device_id, kind) WHERE state = 'pending';\n"
    "CREATE UNIQUE INDEX credentials_one_current ON credentials"
    " (device_id, kind) WHERE state = 'current';\n"

    /* The CA's record of what it issued outlives the device row. */
    "CREATE TABLE certificates ("
    " id @ID@,"
    " device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,"
    " serial TEXT NOT NULL UNIQUE,"
    " profile TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " not_before BIGINT NOT NULL,"
    " not_after BIGINT NOT NULL,"
    " issued BIGINT NOT NULL,"
    " revoked BIGINT NOT NULL DEFAULT 0,"
    " pem TEXT NOT NULL,"
    " key_sealed TEXT);\n"
    "CREATE INDEX certificates_device ON certificates (device_id, id);\n"

    /* Audit rows keep the device id as a plain number (no foreign key):
     * deleting a device does not erase what was done to it. */
    "CREATE TABLE audit ("
    " id @ID@,"
    " at BIGINT NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " device_id BIGINT NOT NULL DEFAULT 0,"
    " detail TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX audit_device ON audit (device_id, id);\n"
    "CREATE INDEX audit_at ON audit (at);\n"

    "CREATE TABLE agents ("
    " id @ID@,"
    " name TEXT NOT NULL UNIQUE,"
    " device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,"
    " cred_hash TEXT NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL DEFAULT 0);\n"

    "CREATE TABLE admin_tokens ("
    " id @ID@,"
    " name TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('admin', 'readonly')),"
    " created BIGINT NOT NULL,"
    " expires BIGINT NOT NULL DEFAULT 0,"
    " last_used BIGINT NOT NULL DEFAULT 0,"
    " revoked BIGINT NOT NULL DEFAULT 0);\n"

    /* Built-in directory.  name_lc and spn_lc carry the case-folded forms
     * for uniqueness, the same way on both back ends. */
    "CREATE TABLE dir_accounts ("
    " id @ID@,"
    " name TEXT NOT NULL,"
    " name_lc TEXT NOT NULL UNIQUE,"
    " container TEXT NOT NULL,"
    " container_lc TEXT NOT NULL,"
    " device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " pw_sealed TEXT NOT NULL,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " pw_changed BIGINT NOT NULL);\n"
    "CREATE INDEX dir_accounts_container ON dir_accounts (container_lc);\n"
    "CREATE INDEX dir_accounts_device ON dir_accounts (device_id);\n"
    "CREATE TABLE dir_spns ("
    " account_id BIGINT NOT NULL REFERENCES dir_accounts (id)"
    "  ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " spn TEXT NOT NULL,"
    " spn_lc TEXT NOT NULL UNIQUE,"
    " PRIMARY KEY (account_id, idx));\n"

    "CREATE TABLE settings ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL,"
    " updated BIGINT NOT NULL);\n";

const char *const store_migrations[] = {
	MIGRATION_1,
};
const int store_nmigrations =
    (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
