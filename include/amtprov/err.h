/*
 * amtprov - err.h: the error codes of libamtp.
 *
 * Every libamtp function returns 0 on success or a negative AMTP_E_* code;
 * amtp_strerror() names the code for a person, amtp_errname() gives its
 * symbol for logs and JSON.  The table is an X-macro so that a code, its
 * name and its message are written once.  Append new codes at the end: the
 * numbers are part of the on-disk job log and must not change.
 */
#ifndef AMTPROV_ERR_H
#define AMTPROV_ERR_H

#define AMTP_ERRORS(X)							\
	X(NOMEM,       1, "out of memory")					\
	X(INVAL,       2, "invalid argument")					\
	X(INCOMPLETE,  3, "input incomplete or truncated")			\
	X(TOOBIG,      4, "size limit exceeded")				\
	X(RANGE,       5, "value out of range")					\
	X(IO,          6, "system I/O error")					\
	X(PARSE,       7, "malformed input")					\
	X(NOTFOUND,    8, "not found")						\
	X(EXISTS,      9, "already exists")					\
	X(PERM,       10, "permission denied or insecure permissions")	\
	X(CRYPTO,     11, "cryptographic operation failed")			\
	X(TIMEOUT,    12, "timed out")						\
	X(CLOSED,     13, "connection closed by peer")			\
	X(PROTO,      14, "protocol violation")				\
	X(STATE,      15, "operation not valid in the current state")	\
	X(AUTH,       16, "authentication failed")				\
	X(TLS,        17, "TLS failure")					\
	X(DB,         18, "database error")					\
	X(BUSY,       19, "resource busy")					\
	X(UNSUPPORTED,20, "not supported")					\
	X(AMT_STATUS, 21, "AMT firmware returned an error status")		\
	X(CONFIG,     22, "configuration error")				\
	X(EMBEDDED_NUL,23, "string contains a NUL byte")			\
	X(INTERNAL,   24, "internal error")					\
	X(AGAIN,      25, "temporary failure, try again")			\
	X(CONFLICT,   26, "conflicting state")				\
	X(LDAP,       27, "directory (LDAP) error")				\
	X(HTTP,       28, "HTTP error")					\
	X(SOAP_FAULT, 29, "WS-Management fault")				\
	X(CERT,       30, "certificate rejected")				\
	X(XML,        31, "XML rejected")					\
	X(JSON,       32, "JSON rejected")					\
	X(DEPTH,      33, "nesting too deep")					\
	X(DENIED,     34, "operation not permitted")			\
	X(MISMATCH,   35, "values do not match")				\
	X(NOTIMPL,    36, "not implemented yet")				\
	X(STALE,      37, "Digest nonce expired (stale)")			\
	X(REPLAY,     38, "Digest nonce count replayed")

enum amtp_err {
	AMTP_OK = 0,
#define AMTP_ERR_ENUM(name, num, msg) AMTP_E_##name = -(num),
	AMTP_ERRORS(AMTP_ERR_ENUM)
#undef AMTP_ERR_ENUM
	AMTP_E__MAX = -39
};

/* A person's description of r ("out of memory"); never NULL. */
const char *amtp_strerror(int r);

/* The symbol of r without the prefix ("NOMEM"); "OK" for 0; never NULL. */
const char *amtp_errname(int r);

#endif
