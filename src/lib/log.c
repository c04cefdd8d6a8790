/*
 * amtprov - log.c: one-line logging to stderr or syslog (libamtp, all roles).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"

static const char *log_prog = "amtprov";
static enum amtp_log_level log_lvl = AMTP_LOG_INFO;
static int log_flags = AMTP_LOG_TO_STDERR;
static amtp_log_sink_fn log_sink;
static void *log_sink_arg;

static const char *const level_names[AMTP_LOG__MAX] = {
	"error", "warning", "info", "debug"
};
static const int level_prio[AMTP_LOG__MAX] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
};

void
amtp_log_init(const char *prog, enum amtp_log_level level, int flags)
{
	if (prog != NULL)
		log_prog = prog;
	if (level >= AMTP_LOG__MAX)
		level = AMTP_LOG_DEBUG;
	log_lvl = level;
	log_flags = flags != 0 ? flags : AMTP_LOG_TO_STDERR;
	if (log_flags & AMTP_LOG_TO_SYSLOG)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

enum amtp_log_level
amtp_log_level(void)
{
	return log_lvl;
}

void
amtp_log_set_sink(amtp_log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void
amtp_vlog(enum amtp_log_level level, const char *func, int r, int errnum,
    const char *fmt, va_list ap)
{
	char msg[AMTP_LOG_LINE_MAX];
	char tbuf[64] = "";
	size_t n;
	int saved = errno;

	if (level >= AMTP_LOG__MAX)
		level = AMTP_LOG_DEBUG;
	if (level > log_lvl && log_sink == NULL)
		goto out;

	msg[0] = '\0';
	if (level == AMTP_LOG_DEBUG && func != NULL)
		(void)snprintf(msg, sizeof(msg), "%s: ", func);
	n = strlen(msg);
	(void)vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	n = strlen(msg);
	if (r != 0 && n < sizeof(msg))
		(void)snprintf(msg + n, sizeof(msg) - n, ": %s", amtp_strerror(r));
	n = strlen(msg);
	if (errnum != 0 && n < sizeof(msg))
		(void)snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	/* A message must stay on one line whatever the format pulled in. */
	for (n = 0; msg[n] != '\0'; n++)
		if (msg[n] == '\n' || msg[n] == '\r')
			msg[n] = ' ';

	if (log_sink != NULL)
		log_sink(level, msg, log_sink_arg);
	if (level > log_lvl)
		goto out;
	if (log_flags & AMTP_LOG_TO_SYSLOG)
		syslog(level_prio[level], "%s", msg);
	if (log_flags & AMTP_LOG_TO_STDERR) {
		if (log_flags & AMTP_LOG_WITH_TIME) {
			struct timespec ts;
			struct tm tm;

			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			n = strftime(tbuf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
			(void)snprintf(tbuf + n, sizeof(tbuf) - n, ".%03dZ ",
			    (int)(ts.tv_nsec / 1000000) % 1000);
		}
		(void)fprintf(stderr, "%s%s: %s: %s\n", tbuf, log_prog,
		    level_names[level], msg);
	}
 out:
	errno = saved;
}

void
amtp_log(enum amtp_log_level level, const char *func, int r, int errnum,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	amtp_vlog(level, func, r, errnum, fmt, ap);
	va_end(ap);
}

void
amtp_fatal(const char *func, int r, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	amtp_vlog(AMTP_LOG_ERR, func, r, errnum, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
amtp_log_escape(char *dst, size_t dstsz, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i, o = 0, use;
	char tmp[4];
	size_t tl, k;

	if (dst == NULL || dstsz == 0)
		return dst;
	use = len > AMTP_LOG_UNTRUSTED_MAX ? AMTP_LOG_UNTRUSTED_MAX : len;
	for (i = 0; i < use && s != NULL; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			tl = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			tl = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 0xf];
			tl = 4;
		}
		if (o + tl >= dstsz)
			break;
		for (k = 0; k < tl; k++)
			dst[o++] = tmp[k];
	}
	if (use < len && o + 3 < dstsz) {
		dst[o++] = '.';
		dst[o++] = '.';
		dst[o++] = '.';
	}
	dst[o] = '\0';
	return dst;
}
