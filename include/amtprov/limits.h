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

#endif
