/*
 * amtprov - config.c: the agent's configuration file (program
 * amtprov-agent).  See config.h.
 */
#include <stdio.h>
#include <string.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"
#include "amtprov/str.h"

#include "agent.h"
#include "config.h"

#define STR(x)	#x
#define XSTR(x)	STR(x)

const struct amtp_conf_key agent_config_schema[] = {
	{ "agent", "site_url", AMTP_CONF_STR, NULL, 0, AMTP_AGENT_URL_MAX,
	    NULL, 0, "The site server, https://HOST:PORT (--site)." },
	{ "agent", "ca_file", AMTP_CONF_STR, NULL, 0, AMTP_AGENT_PATH_MAX,
	    NULL, 0, "PEM file with the site's CA certificate; the only CA "
	    "the agent trusts for the site (--ca)." },
	{ "agent", "enrolment_secret_file", AMTP_CONF_SECRET_FILE, NULL, 0,
	    AMTP_AGENT_PATH_MAX, NULL, 0, "File holding the site's enrolment "
	    "secret, mode 0600, used once to register (--enrol-secret-file)." },
	{ "agent", "mei", AMTP_CONF_STR, AMTP_MEI_DEFAULT_URI, 0,
	    AMTP_AGENT_PATH_MAX, NULL, 0, "The MEI device: a path such as "
	    "/dev/mei0, or unix:PATH for an amtsim device (--mei)." },
	{ "agent", "mei_timeout_ms", AMTP_CONF_INT, XSTR(AMTP_MEI_TIMEOUT_MS),
	    0, 600000, NULL, 0, "Longest wait for a firmware answer, ms; 0 "
	    "waits in a blocking read without poll (--mei-timeout)." },
	{ "agent", "state_dir", AMTP_CONF_STR, AGENT_DEFAULT_STATE_DIR, 0,
	    AMTP_AGENT_PATH_MAX, NULL, 0, "Folder for the agent token and the "
	    "provisioning record (--state-dir)." },
	{ "agent", "retries", AMTP_CONF_INT, XSTR(AMTP_AGENT_RETRIES_DEFAULT),
	    0, AMTP_AGENT_RETRIES_MAX, NULL, 0, "Further attempts while the "
	    "site is unreachable (--retries)." },
	{ "agent", "retry_delay_ms", AMTP_CONF_INT,
	    XSTR(AMTP_AGENT_RETRY_DELAY_MS), 1, AMTP_AGENT_RETRY_DELAY_MAX_MS,
	    NULL, 0, "First delay between attempts, ms; doubled each time "
	    "(--retry-delay)." },
	{ "agent", "connect_timeout", AMTP_CONF_INT,
	    XSTR(AMTP_AGENT_CONNECT_TIMEOUT), 1, 300, NULL, 0, "Seconds to "
	    "connect to the site, TLS included (--connect-timeout)." },
	{ "agent", "request_timeout", AMTP_CONF_INT,
	    XSTR(AMTP_AGENT_REQUEST_TIMEOUT), 1, 600, NULL, 0, "Seconds for "
	    "one whole request to the site (--request-timeout)." },
	{ "agent", "hostname", AMTP_CONF_STR, NULL, 0, AGENT_LABEL_MAX, NULL,
	    0, "Host name sent to the site; default: gethostname() "
	    "(--hostname)." },
	{ "agent", "fqdn", AMTP_CONF_STR, NULL, 0, AMTP_DNS_NAME_MAX, NULL, 0,
	    "FQDN sent to the site; default: the host name when it has a "
	    "dot, else the site adds its DNS domain (--fqdn)." },
	{ NULL, NULL, AMTP_CONF_STR, NULL, 0, 0, NULL, 0, NULL }
};

static int
copy(char *dst, size_t dstsz, const char *v)
{
	if (v == NULL)
		return 0;
	if (amtp_strlcpy(dst, v, dstsz) >= dstsz)
		return AMTP_E_TOOBIG;
	return 0;
}

int
agent_config_load(const char *path, int required, struct agent_opts *o,
    char *err, size_t errlen)
{
	struct amtp_conf *c = NULL;
	int r;

	err[0] = '\0';
	r = amtp_conf_load(path, agent_config_schema, &c, err, errlen);
	if (r == AMTP_E_NOTFOUND && !required)
		return 0;
	if (r != 0)
		goto out;
	if ((r = copy(o->site_url, sizeof(o->site_url),
	    amtp_conf_str(c, "agent", "site_url"))) != 0 ||
	    (r = copy(o->ca_file, sizeof(o->ca_file),
	    amtp_conf_str(c, "agent", "ca_file"))) != 0 ||
	    (r = copy(o->enrol_secret_file, sizeof(o->enrol_secret_file),
	    amtp_conf_str(c, "agent", "enrolment_secret_file"))) != 0 ||
	    (r = copy(o->mei_uri, sizeof(o->mei_uri),
	    amtp_conf_str(c, "agent", "mei"))) != 0 ||
	    (r = copy(o->state_dir, sizeof(o->state_dir),
	    amtp_conf_str(c, "agent", "state_dir"))) != 0 ||
	    (r = copy(o->hostname, sizeof(o->hostname),
	    amtp_conf_str(c, "agent", "hostname"))) != 0 ||
	    (r = copy(o->fqdn, sizeof(o->fqdn),
	    amtp_conf_str(c, "agent", "fqdn"))) != 0) {
		snprintf(err, errlen, "%s: a value is too long", path);
		goto out;
	}
	o->mei_timeout_ms = (int)amtp_conf_int(c, "agent", "mei_timeout_ms");
	o->retries = (int)amtp_conf_int(c, "agent", "retries");
	o->retry_delay_ms = (int)amtp_conf_int(c, "agent", "retry_delay_ms");
	o->connect_timeout = (int)amtp_conf_int(c, "agent", "connect_timeout");
	o->request_timeout = (int)amtp_conf_int(c, "agent", "request_timeout");
	r = 0;
 out:
	amtp_conf_free(c);
	return r;
}
