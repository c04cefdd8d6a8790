/*
 * amtprov - limits.h: every size limit, in one place.
 *
 * A bare number in a parser is a bug report waiting to happen: name it here,
 * say why it has the value it has, and use the name.
 */
#ifndef AMTPROV_LIMITS_H
#define AMTPROV_LIMITS_H

/* Largest buffer any amtp_buf may be created with (64 MiB): a guard against
 * a computed size gone wrong, not a protocol limit. */
#define AMTP_BUF_MAX_ANY		(64u * 1024 * 1024)

/* Log lines: untrusted bytes quoted in a log line are cut after this many
 * input bytes (as redis does with 64). */
#define AMTP_LOG_UNTRUSTED_MAX		64
/* Longest formatted log message (bytes, without the prefix). */
#define AMTP_LOG_LINE_MAX		2048

/* Decimal integers parsed by amtp_parse_int: longest accepted text. */
#define AMTP_INT_TEXT_MAX		32

/* Configuration files: whole file, one line, a section or key name, a value. */
#define AMTP_CONF_FILE_MAX		(1024 * 1024)
#define AMTP_CONF_LINE_MAX		4096
#define AMTP_CONF_NAME_MAX		64
#define AMTP_CONF_VALUE_MAX		2048

/* Site master key file: exactly 32 bytes of key, stored as 64 hex digits
 * plus an optional newline. */
#define AMTP_MASTER_KEY_LEN		32
#define AMTP_MASTER_KEY_FILE_MAX	128

/* Secrets: the largest secret we hold (a PEM private key is the largest). */
#define AMTP_SECRET_MAX			(16 * 1024)

/* AMT account passwords (ConfigMgr and MeshCentral policy, spec 3.3). */
#define AMTP_AMT_PASSWORD_MIN		8
#define AMTP_AMT_PASSWORD_MAX		32

/* One-time password set by the agent (spec 1.6: wire length 8..32). */
#define AMTP_OTP_MIN			8
#define AMTP_OTP_MAX			32
#define AMTP_OTP_LEN			24	/* DESIGN.md: 24 printable chars */

/* Site database (src/amtprovd/store).  Longest store URI; PostgreSQL schema
 * name (an identifier, NAMEDATALEN - 1); SQLite busy timeout (ms) before a
 * locked database gives AMTP_E_BUSY. */
#define AMTP_STORE_URI_MAX		1024
#define AMTP_STORE_SCHEMA_MAX		63
#define AMTP_STORE_BUSY_TIMEOUT_MS	10000
/* Text columns: SMBIOS UUID in canonical form (8-4-4-4-12); host name label
 * (RFC 1035: 63) and FQDN (253); an IPv6 address with zone in text (45 +
 * zone); short names (step, actor, action, profile, account, setting key);
 * one-line free text (reasons, details, subjects); a lease owner id; a
 * credential/token hash ("sha256:" + 64 hex, or a crypt-style string); a
 * firmware root hash (SHA-512: 128 hex digits); firmware version strings. */
#define AMTP_STORE_UUID_LEN		36
#define AMTP_STORE_HOSTNAME_MAX		63
#define AMTP_STORE_FQDN_MAX		253
#define AMTP_STORE_ADDR_MAX		63
#define AMTP_STORE_NAME_MAX		64
#define AMTP_STORE_TEXT_MAX		512
#define AMTP_STORE_OWNER_MAX		128
#define AMTP_STORE_HASH_MAX		160
#define AMTP_STORE_HASH_HEX_MAX		128
#define AMTP_STORE_VERSION_MAX		32
/* Firmware certificate hashes per device (AMT 11+ holds about 25 defaults
 * plus user-added ones). */
#define AMTP_STORE_FW_HASHES_MAX	40
/* Certificates: serial (20 bytes by RFC 5280 = 40 hex, with headroom), one
 * PEM certificate. */
#define AMTP_STORE_SERIAL_MAX		64
#define AMTP_STORE_PEM_MAX		(16 * 1024)
/* Directory accounts: container DN, SPNs per account (AMT needs 4: HTTP/ on
 * 16992 and 16993, for the FQDN and the short name), one SPN. */
#define AMTP_STORE_DN_MAX		1024
#define AMTP_STORE_SPNS_MAX		8
#define AMTP_STORE_SPN_MAX		300
/* Lists: default and largest page; longest lease or requeue delay (s). */
#define AMTP_STORE_LIST_DEFAULT		100
#define AMTP_STORE_LIST_MAX		1000
#define AMTP_STORE_LEASE_MAX		86400

/* Sealed secrets (secret.h): 'A' 'S' version, a 12-byte GCM nonce (the size
 * GCM is designed for), the ciphertext and a full 16-byte tag. */
#define AMTP_SEAL_NONCE_LEN		12
#define AMTP_SEAL_TAG_LEN		16
#define AMTP_SEAL_OVERHEAD		(3 + AMTP_SEAL_NONCE_LEN + AMTP_SEAL_TAG_LEN)
#define AMTP_SEALED_MAX			(AMTP_SEAL_OVERHEAD + AMTP_SECRET_MAX)

/* Configuration files, limits that inih imposes or that lists need:
 * inih copies a section name into a 50-byte array and silently cuts it,
 * so we refuse names longer than this before inih sees them. */
#define AMTP_CONF_SECTION_MAX		48
/* Items in one comma-separated LIST value. */
#define AMTP_CONF_LIST_MAX		64

/* PKI (enroll, simulator): longest chain accepted (leaf + intermediates +
 * root), as rpki-client's MAX_CERT_DEPTH; largest PEM chain file, PKCS#12
 * file and certificate request read; longest DNS name (RFC 1035). */
#define AMTP_MAX_CHAIN_DEPTH		8
#define AMTP_PKI_PEM_MAX		(256 * 1024)
#define AMTP_PKI_P12_MAX		(256 * 1024)
#define AMTP_CSR_MAX			(16 * 1024)
#define AMTP_DNS_NAME_MAX		253
/* RSA sizes: AMT web-server keys are exactly 2048 bits (older firmware
 * rejects larger keys); other certificates may use up to 4096. */
#define AMTP_RSA_AMT_BITS		2048
#define AMTP_RSA_MAX_BITS		4096
/* Validity of issued certificates, days: site root, intermediate, leaves. */
#define AMTP_CA_ROOT_DAYS		(20 * 365)
#define AMTP_CA_INTER_DAYS		(10 * 365)
#define AMTP_CA_LEAF_DAYS		(2 * 365)

/* IPC frames (signer channel): one frame holds at most a CSR or a chain. */
#define AMTP_IPC_FRAME_MAX		(64 * 1024)

/* Directory: longest DN, LDAP URI, attribute or class name, and number of
 * configured object classes. */
#define AMTP_DIR_DN_MAX			1024
#define AMTP_DIR_URI_MAX		512
#define AMTP_DIR_NAME_MAX		64
#define AMTP_DIR_CLASSES_MAX		8
/* Directory account passwords (random, escrowed): characters. */
#define AMTP_DIR_PASSWORD_LEN		32

#endif
