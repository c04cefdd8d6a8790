/*
 * amtprov - config.h: the agent's configuration file (program
 * amtprov-agent), /etc/amtprov/agent.conf by default, one section:
 *
 *   [agent]
 *   site_url = https://site.example:8443
 *   ca_file = /etc/amtprov/site-ca.pem
 *   enrolment_secret_file = /etc/amtprov/enrol.secret
 *   mei = /dev/mei0
 *   state_dir = /var/lib/amtprov-agent
 *   ...
 *
 * Every key has a command-line flag of the same meaning; a flag wins over
 * the file.  docs/agent.md lists them (amtprov-agent --print-config prints
 * the commented defaults).
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stddef.h>

#include "amtprov/conf.h"

#include "agent.h"

extern const struct amtp_conf_key agent_config_schema[];

/*
 * Loads path into o.  A missing file is no error when !required (the
 * default path): o keeps its values.  Otherwise AMTP_E_* with a sentence
 * in err naming the file, the line and the key.
 */
int agent_config_load(const char *path, int required, struct agent_opts *o,
    char *err, size_t errlen);

#endif
