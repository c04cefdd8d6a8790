/*
 * amtprov - statedir.c: the agent's state folder (program amtprov-agent).
 * See statedir.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"
#include "statedir.h"

#define TOKEN_FILE	"agent.token"
#define RECORD_FILE	"provisioned.json"
#define LOCK_FILE	"lock"
#define LOCK_POLL_MS	100

static int
path_of(const char *dir, const char *name, char *dst, size_t dstsz,
    struct agent_err *e)
{
	if ((size_t)snprintf(dst, dstsz, "%s/%s", dir, name) >= dstsz)
		return agent_err_set(e, AMTP_E_TOOBIG, AGENT_EXIT_USAGE,
		    "usage", "%s: state folder path too long", dir);
	return 0;
}

int
agent_statedir_prepare(const char *dir, struct agent_err *e)
{
	struct stat st;

	if (dir == NULL || dir[0] == '\0')
		return agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE,
		    "usage", "no state folder (--state-dir)");
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return agent_err_set(e, AMTP_E_IO, AGENT_EXIT_USAGE, "usage",
		    "%s: cannot make the state folder: %s", dir,
		    strerror(errno));
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return agent_err_set(e, AMTP_E_IO, AGENT_EXIT_USAGE, "usage",
		    "%s: not a folder", dir);
	return 0;
}

int
agent_statedir_lock(const char *dir, int wait_ms, int *fd,
    struct agent_err *e)
{
	struct timespec ts;
	char path[AMTP_AGENT_PATH_MAX + 32];
	int r, waited = 0;

	*fd = -1;
	if ((r = path_of(dir, LOCK_FILE, path, sizeof(path), e)) != 0)
		return r;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return agent_err_set(e, AMTP_E_IO, AGENT_EXIT_USAGE,
		    "state_file", "%s: %s", path, strerror(errno));
	while (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= wait_ms) {
			r = errno == EWOULDBLOCK ? AMTP_E_BUSY : AMTP_E_IO;
			agent_err_set(e, r, AGENT_EXIT_INTERNAL, "state_busy",
			    "%s: another amtprov-agent run holds the lock%s",
			    path, errno == EWOULDBLOCK ? "; try again later" :
			    "");
			(void)close(*fd);
			*fd = -1;
			return r;
		}
		if (waited == 0)
			log_warnx("%s: another run holds the lock; waiting",
			    path);
		ts.tv_sec = 0;
		ts.tv_nsec = LOCK_POLL_MS * 1000000L;
		(void)nanosleep(&ts, NULL);
		waited += LOCK_POLL_MS;
	}
	return 0;
}

void
agent_statedir_unlock(int fd)
{
	if (fd != -1)
		(void)close(fd);	/* releases the flock */
}

int
agent_statedir_load_token(const char *dir, const char *uuid,
    struct amtp_secret **out, struct agent_err *e)
{
	struct amtp_secret *tok = NULL;
	char path[AMTP_AGENT_PATH_MAX + 32], why[256];
	const char *s, *dot;
	int r;

	*out = NULL;
	if ((r = path_of(dir, TOKEN_FILE, path, sizeof(path), e)) != 0)
		return r;
	r = amtp_secret_load_file(path, AMTP_AGENT_TOKEN_FILE_MAX, &tok, why,
	    sizeof(why));
	if (r == AMTP_E_NOTFOUND)
		return 0;
	if (r != 0)
		return agent_err_set(e, r, AGENT_EXIT_USAGE, "state_file",
		    "%s", why);
	s = amtp_secret_cstr(tok);
	/* "<agent name>.<random>": the name is the SMBIOS UUID */
	if ((dot = strchr(s, '.')) == NULL || (size_t)(dot - s) !=
	    strlen(uuid) || strncasecmp(s, uuid, strlen(uuid)) != 0) {
		log_info("%s: the stored token is for another identity; "
		    "registering again", path);
		amtp_secret_free(tok);
		return 0;
	}
	*out = tok;
	return 0;
}

int
agent_statedir_save_token(const char *dir, const char *token,
    struct agent_err *e)
{
	char path[AMTP_AGENT_PATH_MAX + 32];
	int r;

	if ((r = path_of(dir, TOKEN_FILE, path, sizeof(path), e)) != 0)
		return r;
	if ((r = amtp_write_file_atomic(path, token, strlen(token), 0600,
	    0)) != 0)
		return agent_err_set(e, r, AGENT_EXIT_USAGE, "state_file",
		    "%s: cannot write the agent token: %s", path,
		    strerror(errno));
	return 0;
}

int
agent_statedir_load_record(const char *dir, const char *amt_uuid,
    struct agent_record *rec, int *found, struct agent_err *e)
{
	struct amtp_buf *b = NULL;
	json_t *o = NULL, *v;
	char path[AMTP_AGENT_PATH_MAX + 32];
	int r;

	memset(rec, 0, sizeof(*rec));
	*found = 0;
	if ((r = path_of(dir, RECORD_FILE, path, sizeof(path), e)) != 0)
		return r;
	r = amtp_buf_load_file(path, AMTP_AGENT_RECORD_MAX, &b);
	if (r == AMTP_E_NOTFOUND) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		r = agent_err_set(e, r, AGENT_EXIT_USAGE, "state_file",
		    "%s: %s", path, amtp_strerror(r));
		goto out;
	}
	o = json_loadb((const char *)amtp_buf_ptr(b), amtp_buf_len(b),
	    JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL || !json_is_object(o) ||
	    (v = json_object_get(o, "amt_uuid")) == NULL ||
	    !json_is_string(v) || !agent_is_uuid(json_string_value(v))) {
		/* a damaged record is not a reason to stop: say so, and go
		 * on as if there were none */
		log_warnx("%s: damaged provisioning record; ignored", path);
		r = 0;
		goto out;
	}
	amtp_strlcpy(rec->amt_uuid, json_string_value(v),
	    sizeof(rec->amt_uuid));
	if ((v = json_object_get(o, "command")) != NULL && json_is_string(v))
		amtp_strlcpy(rec->command, json_string_value(v),
		    sizeof(rec->command));
	if ((v = json_object_get(o, "site")) != NULL && json_is_string(v))
		amtp_strlcpy(rec->site, json_string_value(v),
		    sizeof(rec->site));
	if ((v = json_object_get(o, "activated_at")) != NULL &&
	    json_is_integer(v))
		rec->activated_at = json_integer_value(v);
	if (strcasecmp(rec->amt_uuid, amt_uuid) == 0)
		*found = 1;
	else
		memset(rec, 0, sizeof(*rec));
	r = 0;
 out:
	json_decref(o);
	amtp_buf_free(b);
	return r;
}

int
agent_statedir_save_record(const char *dir, const struct agent_record *rec,
    struct agent_err *e)
{
	char path[AMTP_AGENT_PATH_MAX + 32];
	char *text = NULL;
	json_t *o;
	int r;

	if ((r = path_of(dir, RECORD_FILE, path, sizeof(path), e)) != 0)
		return r;
	o = json_pack("{s:s, s:s, s:s, s:I}", "amt_uuid", rec->amt_uuid,
	    "command", rec->command, "site", rec->site, "activated_at",
	    (json_int_t)rec->activated_at);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(1))) == NULL) {
		r = agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
		goto out;
	}
	if ((r = amtp_write_file_atomic(path, text, strlen(text), 0600,
	    0)) != 0) {
		r = agent_err_set(e, r, AGENT_EXIT_USAGE, "state_file",
		    "%s: cannot write the provisioning record: %s", path,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	free(text);
	json_decref(o);
	return r;
}
