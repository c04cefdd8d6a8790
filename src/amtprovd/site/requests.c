/*
 * amtprov - site/requests.c: parsers of the site API's request bodies (role
 * site).  Parse, then validate, then act: the handlers get only structs that
 * passed every check here.
 */
#include <ctype.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "site/body.h"
#include "site/requests.h"

static const char *const prov_state_names[SITE_PROV__MAX] = {
	"pre", "in", "post"
};

const char *
site_prov_state_name(enum site_prov_state s)
{
	if ((unsigned)s >= SITE_PROV__MAX)
		return NULL;
	return prov_state_names[s];
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
site_parse_register(const void *data, size_t len,
    struct site_register_req *out, struct site_err *e)
{
	static const char *const allowed[] = {
		"hostname", "fqdn", "domain", "smbios_uuid", NULL
	};
	json_t *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = site_body_load(data, len, AMTP_SITE_BODY_PREAUTH_MAX, &o,
	    e)) != 0)
		goto out;
	if ((r = site_body_only(o, allowed, e)) != 0 ||
	    (r = site_body_copy_str(o, "hostname", 1, 1, SITE_LABEL_MAX,
	    site_check_hostname, out->hostname, sizeof(out->hostname),
	    e)) != 0 ||
	    (r = site_body_copy_str(o, "fqdn", 0, 1, AMTP_DNS_NAME_MAX,
	    site_check_dns_name, out->fqdn, sizeof(out->fqdn), e)) != 0 ||
	    (r = site_body_copy_str(o, "domain", 0, 1, AMTP_DNS_NAME_MAX,
	    site_check_dns_name, out->domain, sizeof(out->domain), e)) != 0 ||
	    (r = site_body_copy_str(o, "smbios_uuid", 1, SITE_UUID_LEN,
	    SITE_UUID_LEN, site_check_uuid, out->smbios_uuid,
	    sizeof(out->smbios_uuid), e)) != 0)
		goto out;
	lower(out->smbios_uuid);
	r = 0;
 out:
	json_decref(o);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int
site_parse_otp(const void *data, size_t len, struct site_otp_req *out,
    struct site_err *e)
{
	static const char *const allowed[] = {
		"otp_sha256", "amt_address", NULL
	};
	json_t *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = site_body_load(data, len, AMTP_SITE_BODY_MAX, &o, e)) != 0)
		goto out;
	if ((r = site_body_only(o, allowed, e)) != 0 ||
	    (r = site_body_copy_str(o, "otp_sha256", 1, 64, 64,
	    site_check_sha256_hex, out->otp_sha256, sizeof(out->otp_sha256),
	    e)) != 0 ||
	    (r = site_body_copy_str(o, "amt_address", 1, 1, SITE_ADDR_MAX,
	    site_check_ip, out->amt_address, sizeof(out->amt_address),
	    e)) != 0)
		goto out;
	r = 0;
 out:
	json_decref(o);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int
parse_hash(json_t *h, size_t i, struct site_fw_hash *out, struct site_err *e)
{
	static const char *const allowed[] = {
		"name", "hash", "is_default", "is_active", NULL
	};
	char field[SITE_ERR_FIELD_MAX];
	int r;

	snprintf(field, sizeof(field), "cert_hashes[%zu]", i);
	if (!json_is_object(h))
		return site_err_set(e, 400, "wrong_type", field,
		    "%s: must be an object", field);
	if ((r = site_body_only(h, allowed, e)) != 0 ||
	    (r = site_body_copy_str(h, "name", 0, 0, AMTP_SITE_HASH_NAME_MAX,
	    site_check_text, out->name, sizeof(out->name), e)) != 0 ||
	    (r = site_body_copy_str(h, "hash", 1, 40, 128, site_check_hex,
	    out->hash, sizeof(out->hash), e)) != 0 ||
	    (r = site_body_get_bool(h, "is_default", 0, 1, &out->is_default,
	    e)) != 0 ||
	    (r = site_body_get_bool(h, "is_active", 0, 1, &out->is_active,
	    e)) != 0) {
		/* name the element: "cert_hashes[3].hash" */
		char full[2 * SITE_ERR_FIELD_MAX + 2];

		if (e->field[0] != '\0') {
			snprintf(full, sizeof(full), "%s.%s", field, e->field);
			amtp_strlcpy(e->field, full, sizeof(e->field));
		} else
			amtp_strlcpy(e->field, field, sizeof(e->field));
		return r;
	}
	return 0;
}

int
site_parse_state(const void *data, size_t len, struct site_state_req *out,
    struct site_err *e)
{
	static const char *const allowed[] = {
		"amt_supported", "amt_detected", "reason", "amt_version",
		"build", "sku", "uuid", "dns_suffix", "control_mode",
		"provisioning_state", "wireless", "cert_hashes", NULL
	};
	static const char *const modes[] = { "none", "client", "admin", NULL };
	const char *ps = NULL;
	json_t *o = NULL, *arr = NULL;
	size_t i;
	int r, ok;

	memset(out, 0, sizeof(*out));
	if ((r = site_body_load(data, len, AMTP_SITE_BODY_MAX, &o, e)) != 0)
		goto out;
	if ((r = site_body_only(o, allowed, e)) != 0 ||
	    (r = site_body_get_bool(o, "amt_supported", 0, 1,
	    &out->amt_supported, e)) != 0 ||
	    (r = site_body_get_bool(o, "amt_detected", 0, 0,
	    &out->amt_detected, e)) != 0 ||
	    (r = site_body_copy_str(o, "reason", 0, 0, AMTP_SITE_REASON_MAX,
	    site_check_text, out->reason, sizeof(out->reason), e)) != 0)
		goto out;
	/* amt_detected qualifies "not supported"; with AMT usable it can
	 * only be true, and false there contradicts the message */
	if (out->amt_supported && json_object_get(o, "amt_detected") != NULL &&
	    !out->amt_detected) {
		r = site_err_set(e, 400, "invalid_field", "amt_detected",
		    "amt_detected: false contradicts amt_supported: true");
		goto out;
	}
	if (!out->amt_supported) {
		/* no AMT (or no MEI driver): nothing else is needed */
		r = 0;
		goto out;
	}
	if ((r = site_body_copy_str(o, "amt_version", 1, 1,
	    AMTP_SITE_VERSION_MAX, site_check_version, out->amt_version,
	    sizeof(out->amt_version), e)) != 0 ||
	    (r = site_body_copy_str(o, "build", 0, 0, AMTP_SITE_VERSION_MAX,
	    site_check_word, out->build, sizeof(out->build), e)) != 0 ||
	    (r = site_body_copy_str(o, "sku", 0, 0, AMTP_SITE_VERSION_MAX,
	    site_check_word, out->sku, sizeof(out->sku), e)) != 0 ||
	    (r = site_body_copy_str(o, "uuid", 1, SITE_UUID_LEN,
	    SITE_UUID_LEN, site_check_uuid, out->uuid, sizeof(out->uuid),
	    e)) != 0 ||
	    (r = site_body_copy_str(o, "dns_suffix", 0, 0, AMTP_DNS_NAME_MAX,
	    NULL, out->dns_suffix, sizeof(out->dns_suffix), e)) != 0 ||
	    (r = site_body_copy_str(o, "control_mode", 0, 1, 6, NULL,
	    out->control_mode, sizeof(out->control_mode), e)) != 0 ||
	    (r = site_body_get_str(o, "provisioning_state", 1, 1, 4, NULL,
	    &ps, e)) != 0 ||
	    (r = site_body_get_bool(o, "wireless", 0, 0, &out->wireless,
	    e)) != 0 ||
	    (r = site_body_get_array(o, "cert_hashes", 0,
	    AMTP_SITE_CERT_HASHES_MAX, &arr, e)) != 0)
		goto out;
	/* an empty suffix is "none"; a given one must be a DNS name */
	if (out->dns_suffix[0] != '\0' && site_check_dns_name(out->dns_suffix,
	    strlen(out->dns_suffix)) != NULL) {
		r = site_err_set(e, 400, "invalid_field", "dns_suffix",
		    "dns_suffix: not a DNS name");
		goto out;
	}
	if (out->control_mode[0] == '\0')
		amtp_strlcpy(out->control_mode, "none",
		    sizeof(out->control_mode));
	for (ok = 0, i = 0; modes[i] != NULL; i++)
		if (strcmp(out->control_mode, modes[i]) == 0)
			ok = 1;
	if (!ok) {
		r = site_err_set(e, 400, "invalid_field", "control_mode",
		    "control_mode: must be none, client or admin");
		goto out;
	}
	for (ok = 0, i = 0; i < SITE_PROV__MAX; i++)
		if (strcmp(ps, prov_state_names[i]) == 0) {
			out->provisioning_state = (enum site_prov_state)i;
			ok = 1;
		}
	if (!ok) {
		r = site_err_set(e, 400, "invalid_field", "provisioning_state",
		    "provisioning_state: must be pre, in or post");
		goto out;
	}
	lower(out->uuid);
	for (i = 0; arr != NULL && i < json_array_size(arr); i++) {
		if ((r = parse_hash(json_array_get(arr, i), i,
		    &out->cert_hashes[i], e)) != 0)
			goto out;
		out->n_cert_hashes = i + 1;
	}
	r = 0;
 out:
	json_decref(o);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int
site_parse_action(const void *data, size_t len, struct site_action_req *out,
    struct site_err *e)
{
	static const char *const allowed[] = { "reason", NULL };
	json_t *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if ((r = site_body_load(data, len, AMTP_SITE_BODY_PREAUTH_MAX, &o,
	    e)) != 0)
		goto out;
	if ((r = site_body_only(o, allowed, e)) != 0 ||
	    (r = site_body_copy_str(o, "reason", 0, 0, AMTP_SITE_REASON_MAX,
	    site_check_text, out->reason, sizeof(out->reason), e)) != 0)
		goto out;
	r = 0;
 out:
	json_decref(o);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}
