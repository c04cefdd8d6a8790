/*
 * amtprov - log.h: one-line log messages for every program.
 *
 * A message starts with the object it concerns ("dev 12: ...", "job 7: ...",
 * "127.20.0.3: ..."), never a payload.  Untrusted bytes that must appear are
 * passed through amtp_log_escape() first.  Every logging call is checked by
 * the compiler's printf format checker, so a struct amtp_secret cannot be
 * passed to %s by accident.
 */
#ifndef AMTPROV_LOG_H
#define AMTPROV_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum amtp_log_level {
	AMTP_LOG_ERR = 0,
	AMTP_LOG_WARN,
	AMTP_LOG_INFO,
	AMTP_LOG_DEBUG,
	AMTP_LOG__MAX
};

/* Destinations for amtp_log_init()'s flags. */
#define AMTP_LOG_TO_STDERR	0x01	/* the default */
#define AMTP_LOG_TO_SYSLOG	0x02
#define AMTP_LOG_WITH_TIME	0x04	/* ISO 8601 UTC time before each line */

/*
 * Sets the program name shown before each line, the most verbose level that is
 * written, and where lines go.  May be called again at any time.
 */
void amtp_log_init(const char *prog, enum amtp_log_level level, int flags);

/* Current level; lets callers skip work whose only purpose is a debug line. */
enum amtp_log_level amtp_log_level(void);

/*
 * A sink that sees every line that is written (after formatting, without the
 * trailing newline); NULL removes it.  Used by tests to assert what was logged.
 */
typedef void (*amtp_log_sink_fn)(enum amtp_log_level, const char *line, void *arg);
void amtp_log_set_sink(amtp_log_sink_fn fn, void *arg);

/*
 * Writes one line.  func is the calling function (added to debug lines only);
 * r, when non-zero, appends ": " and amtp_strerror(r); errnum, when non-zero,
 * appends ": " and strerror(errnum).  Use the macros below.
 */
void amtp_log(enum amtp_log_level level, const char *func, int r, int errnum,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void amtp_vlog(enum amtp_log_level level, const char *func, int r, int errnum,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Logs at AMTP_LOG_ERR and exits with status 1. */
void amtp_fatal(const char *func, int r, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

#define log_warn(...)	amtp_log(AMTP_LOG_WARN, __func__, 0, errno, __VA_ARGS__)
#define log_warnx(...)	amtp_log(AMTP_LOG_WARN, __func__, 0, 0, __VA_ARGS__)
#define log_warn_r(r, ...) amtp_log(AMTP_LOG_WARN, __func__, (r), 0, __VA_ARGS__)
#define log_err(...)	amtp_log(AMTP_LOG_ERR, __func__, 0, errno, __VA_ARGS__)
#define log_errx(...)	amtp_log(AMTP_LOG_ERR, __func__, 0, 0, __VA_ARGS__)
#define log_err_r(r, ...) amtp_log(AMTP_LOG_ERR, __func__, (r), 0, __VA_ARGS__)
#define log_info(...)	amtp_log(AMTP_LOG_INFO, __func__, 0, 0, __VA_ARGS__)
#define log_info_r(r, ...) amtp_log(AMTP_LOG_INFO, __func__, (r), 0, __VA_ARGS__)
#define log_debug(...)	amtp_log(AMTP_LOG_DEBUG, __func__, 0, 0, __VA_ARGS__)
#define log_debug_r(r, ...) amtp_log(AMTP_LOG_DEBUG, __func__, (r), 0, __VA_ARGS__)
#define fatal(...)	amtp_fatal(__func__, 0, errno, __VA_ARGS__)
#define fatalx(...)	amtp_fatal(__func__, 0, 0, __VA_ARGS__)
#define fatal_r(r, ...)	amtp_fatal(__func__, (r), 0, __VA_ARGS__)

/*
 * Escapes untrusted bytes for a log line: printable ASCII stays (except '"'
 * and '\\', which are escaped), everything else becomes \xNN.  At most
 * AMTP_LOG_UNTRUSTED_MAX input bytes are used; when src is longer, "..." is
 * appended.  The result is always NUL-terminated and truncated to fit dstsz.
 * Returns dst.  A dstsz of AMTP_LOG_ESCAPE_SIZE always holds the whole result.
 */
#define AMTP_LOG_ESCAPE_SIZE	(4 * 64 + 4)
char *amtp_log_escape(char *dst, size_t dstsz, const void *src, size_t len);

#endif
