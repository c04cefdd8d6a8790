/*
 * amtprov - site/requests.h: the request bodies of the site API, parsed and
 * validated into plain structs before anything touches the database (role
 * site).  Each parser takes raw bytes (so that a fuzz target can call it),
 * returns 0 or a negative AMTP_E_* code, and on failure fills a struct
 * site_err naming the offending field.  docs/api/openapi.yaml documents the
 * same shapes; keep them in step.
 */
#ifndef SITE_REQUESTS_H
#define SITE_REQUESTS_H

#include <stddef.h>

#include "amtprov/limits.h"

#include "site/body.h"

#define SITE_UUID_LEN		36
#define SITE_ADDR_MAX		45	/* INET6_ADDRSTRLEN - 1 */
#define SITE_LABEL_MAX		63	/* one DNS label (RFC 1035) */

/* POST /api/v1/agents/register */
struct site_register_req {
	char	hostname[SITE_LABEL_MAX + 1];
	char	fqdn[AMTP_DNS_NAME_MAX + 1];		/* "" not given */
	char	domain[AMTP_DNS_NAME_MAX + 1];		/* "" not given */
	char	smbios_uuid[SITE_UUID_LEN + 1];		/* lower case */
};

/* POST /api/v1/agents/otp */
struct site_otp_req {
	char	otp_sha256[64 + 1];
	char	amt_address[SITE_ADDR_MAX + 1];
};

struct site_fw_hash {
	char	name[AMTP_SITE_HASH_NAME_MAX + 1];
	char	hash[128 + 1];				/* lower-case hex */
	int	is_default;
	int	is_active;
};

enum site_prov_state {
	SITE_PROV_PRE = 0,	/* "pre": not provisioned */
	SITE_PROV_IN,		/* "in": provisioning (network interface on) */
	SITE_PROV_POST,		/* "post": provisioned */
	SITE_PROV__MAX
};

/* POST /api/v1/agents/state */
struct site_state_req {
	int	amt_supported;		/* false: only reason (and
					 * amt_detected) are used */
	int	amt_detected;		/* with amt_supported false: an MEI
					 * device is there, AMT not usable */
	char	reason[AMTP_SITE_REASON_MAX + 1];
	char	amt_version[AMTP_SITE_VERSION_MAX + 1];
	char	build[AMTP_SITE_VERSION_MAX + 1];
	char	sku[AMTP_SITE_VERSION_MAX + 1];
	char	uuid[SITE_UUID_LEN + 1];		/* firmware's, lower case */
	char	dns_suffix[AMTP_DNS_NAME_MAX + 1];	/* "" none */
	char	control_mode[8];			/* none, client, admin */
	enum site_prov_state provisioning_state;
	int	wireless;
	size_t	n_cert_hashes;
	struct site_fw_hash cert_hashes[AMTP_SITE_CERT_HASHES_MAX];
};

/* POST /api/v1/devices/{id}/{requeue,cancel,unprovision} and .../reveal:
 * an optional body {"reason": "..."}; an empty body is {}. */
struct site_action_req {
	char	reason[AMTP_SITE_REASON_MAX + 1];
};

int site_parse_register(const void *data, size_t len,
    struct site_register_req *out, struct site_err *e);
int site_parse_otp(const void *data, size_t len, struct site_otp_req *out,
    struct site_err *e);
int site_parse_state(const void *data, size_t len, struct site_state_req *out,
    struct site_err *e);
int site_parse_action(const void *data, size_t len,
    struct site_action_req *out, struct site_err *e);

/* "pre", "in", "post"; NULL when out of range. */
const char *site_prov_state_name(enum site_prov_state s);

#endif
