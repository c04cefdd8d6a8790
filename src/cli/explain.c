/*
 * amtprov - cli/explain.c: a sentence for an administrator about why a
 * job failed (program amtprov).  See cli.h.
 *
 * The service point records what it saw ("connect: the device refused the
 * provisioning TLS session: ... bad certificate"); a device that refuses a
 * TLS session does not say which of its rules failed.  The CLI knows more
 * when it runs next to the site's files: the SHA-256 of the provisioning
 * root (prov-root.sha256, next to the CA file) can be looked for in the
 * firmware's root hash table that the agent reported, which tells the
 * "root not trusted" case from the others.  docs/troubleshooting.md has one
 * section per reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/str.h"

#include "cli.h"

int
cli_prov_root_load(const char *ca_file, char *hex, size_t hexsz)
{
	struct amtp_buf *b = NULL;
	char path[CLI_PATH_MAX + 32];
	const char *slash;
	size_t i;
	int r;

	if (hexsz > 0)
		hex[0] = '\0';
	if (hexsz < 65)
		return AMTP_E_TOOBIG;
	if ((slash = strrchr(ca_file, '/')) == NULL)
		r = snprintf(path, sizeof(path), "prov-root.sha256");
	else
		r = snprintf(path, sizeof(path), "%.*s/prov-root.sha256",
		    (int)(slash - ca_file), ca_file);
	if (r < 0 || (size_t)r >= sizeof(path))
		return AMTP_E_TOOBIG;
	if ((r = amtp_buf_load_file(path, 256, &b)) != 0)
		return r;
	r = AMTP_E_PARSE;
	if (amtp_buf_len(b) < 64)
		goto out;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)amtp_buf_str(b)[i]))
			goto out;
	if (amtp_buf_len(b) > 64 && !isspace((unsigned char)amtp_buf_str(b)[64]))
		goto out;
	for (i = 0; i < 64; i++)
		hex[i] = (char)tolower((unsigned char)amtp_buf_str(b)[i]);
	hex[64] = '\0';
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
cli_explain(const char *last_error, const json_t *facts, const char *prov_root,
    char *dst, size_t dstsz)
{
	const json_t *hashes, *h;
	const char *suffix;
	size_t i, n = 0;
	int found = 0, active = 0;

	if (dstsz > 0)
		dst[0] = '\0';
	if (last_error == NULL || last_error[0] == '\0')
		return 0;
	if (starts(last_error, "otp-check:") &&
	    strstr(last_error, "mismatch") != NULL) {
		snprintf(dst, dstsz, "the OTP in the firmware is not the one "
		    "this device's agent reported: another OTP was set after "
		    "the report (another tool, a second agent), or the report "
		    "came from another computer; nothing was written to the "
		    "device. Run the agent on the computer again, then "
		    "amtprov requeue ID");
		return 1;
	}
	if (starts(last_error, "otp-check:")) {
		snprintf(dst, dstsz, "the identity check could not run: the "
		    "device must be in setup with an OTP set by its agent; run "
		    "the agent again");
		return 1;
	}
	if (starts(last_error, "connect:") &&
	    strstr(last_error, "refused the provisioning TLS") != NULL) {
		suffix = cli_json_str(facts, "dns_suffix");
		hashes = json_object_get(facts, "cert_hashes");
		if (prov_root == NULL || prov_root[0] == '\0' ||
		    !json_is_array(hashes)) {
			snprintf(dst, dstsz, "the device refused the "
			    "provisioning certificate: its root is not in the "
			    "firmware's hash table, or its CN does not fit the "
			    "device's DNS suffix, or it is not valid now");
			return 1;
		}
		n = json_array_size(hashes);
		for (i = 0; i < n; i++) {
			h = json_array_get(hashes, i);
			if (strcasecmp(cli_json_str(h, "hash"),
			    prov_root) == 0) {
				found = 1;
				active |= cli_json_bool(h, "is_active");
			}
		}
		if (!found)
			snprintf(dst, dstsz, "root hash not in firmware: the "
			    "provisioning root (SHA-256 %.16s...) is not among "
			    "the %zu root hashes this device's firmware trusts; "
			    "add it in MEBx (or by the OEM), or use a "
			    "provisioning certificate from a root the firmware "
			    "has", prov_root, n);
		else if (!active)
			snprintf(dst, dstsz, "root hash inactive: the "
			    "provisioning root is in the firmware's table but "
			    "not active; activate it in MEBx");
		else
			snprintf(dst, dstsz, "the firmware trusts the "
			    "provisioning root, so it refused the certificate "
			    "for another rule: its CN must fall within the "
			    "device's DNS suffix (\"%.64s\"), and the chain "
			    "must be valid now", suffix);
		return 1;
	}
	if (starts(last_error, "connect:") && (strstr(last_error,
	    "timed out") != NULL || strstr(last_error, "refused") != NULL ||
	    strstr(last_error, "unreachable") != NULL)) {
		snprintf(dst, dstsz, "the service point could not reach the "
		    "device's AMT address on 16993: is the computer on, is its "
		    "network interface activated (the agent does it), and does "
		    "a firewall let the service point through?");
		return 1;
	}
	if (starts(last_error, "connect:") && (strstr(last_error,
	    "credential") != NULL || strstr(last_error, "401") != NULL)) {
		snprintf(dst, dstsz, "no setup credential was accepted: set "
		    "the device's MEBx password as a [setup_credential.NAME] "
		    "in amtprovd.conf, then amtprov requeue ID");
		return 1;
	}
	if (strstr(last_error, "abandoned") != NULL) {
		snprintf(dst, dstsz, "the service point that held the job "
		    "stopped; another one took it over");
		return 1;
	}
	return 0;
}
