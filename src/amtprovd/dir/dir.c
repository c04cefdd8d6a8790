/*
 * amtprov - dir/dir.c: the directory interface: names, SPNs and checks shared
 * by the back ends (role site).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "dir/dir.h"

int
amtp_dir_valid_dns_name(const char *s)
{
	size_t i, n, lab = 0;

	if (s == NULL || (n = strnlen(s, AMTP_DNS_NAME_MAX + 1)) == 0 ||
	    n > AMTP_DNS_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') || ++lab > 63)
			return 0;
	}
	return 1;
}

/* host, or the first label of fqdn, into dst; checked. */
static int
host_name(const char *fqdn, const char *host, char *dst, size_t dstsz)
{
	const char *dot;
	size_t n;

	if (!amtp_dir_valid_dns_name(fqdn))
		return AMTP_E_INVAL;
	if (host != NULL) {
		if (!amtp_dir_valid_dns_name(host) || strchr(host, '.') != NULL)
			return AMTP_E_INVAL;
		return amtp_strlcpy(dst, host, dstsz) >= dstsz ?
		    AMTP_E_TOOBIG : 0;
	}
	dot = strchr(fqdn, '.');
	n = dot != NULL ? (size_t)(dot - fqdn) : strlen(fqdn);
	if (n >= dstsz)
		return AMTP_E_TOOBIG;
	memcpy(dst, fqdn, n);
	dst[n] = '\0';
	return 0;
}

int
amtp_dir_spns(const char *fqdn, const char *host,
    char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1])
{
	char h[AMTP_DIR_NAME_MAX + 1];
	const char *names[2];
	static const int ports[2] = { 16992, 16993 };
	int i, j, k = 0, r, n;

	if ((r = host_name(fqdn, host, h, sizeof(h))) != 0)
		return r;
	names[0] = fqdn;
	names[1] = h;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			n = snprintf(spns[k], AMTP_DIR_SPN_MAX + 1, "HTTP/%s:%d",
			    names[i], ports[j]);
			if (n < 0 || n > AMTP_DIR_SPN_MAX)
				return AMTP_E_TOOBIG;
			k++;
		}
	return 0;
}

/* The container: a DN of bounded length without control characters. */
static int
valid_container(const char *c)
{
	size_t i, n;

	if (c == NULL || (n = strnlen(c, AMTP_DIR_DN_MAX + 1)) == 0 ||
	    n > AMTP_DIR_DN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			return 0;
	return 1;
}

void
amtp_dir_close(struct amtp_dir *d)
{
	if (d == NULL)
		return;
	if (d->ops != NULL && d->ops->close != NULL)
		d->ops->close(d);
	free(d);
}

const char *
amtp_dir_backend(const struct amtp_dir *d)
{
	return d->ops->name;
}

const char *
amtp_dir_errmsg(const struct amtp_dir *d)
{
	return d->errmsg;
}

int
amtp_dir_create_account(struct amtp_dir *d, const char *container,
    const char *fqdn, const char *host, int64_t device_id,
    const struct amtp_secret *password, int *created,
    struct amtp_dir_account *out)
{
	char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1];
	char h[AMTP_DIR_NAME_MAX + 1];
	int r, c = 0;

	if (created != NULL)
		*created = 0;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	d->errmsg[0] = '\0';
	if (!valid_container(container) || password == NULL)
		return AMTP_E_INVAL;
	if ((r = host_name(fqdn, host, h, sizeof(h))) != 0 ||
	    (r = amtp_dir_spns(fqdn, h, spns)) != 0)
		return r;
	if ((r = d->ops->create(d, container, fqdn, h, device_id, password, &c,
	    spns)) != 0)
		return r;
	if (created != NULL)
		*created = c;
	if (out != NULL)
		return d->ops->get(d, container, h, out);
	return 0;
}

int
amtp_dir_get_account(struct amtp_dir *d, const char *container,
    const char *host, struct amtp_dir_account *out)
{
	memset(out, 0, sizeof(*out));
	d->errmsg[0] = '\0';
	if (!valid_container(container) || !amtp_dir_valid_dns_name(host) ||
	    strchr(host, '.') != NULL)
		return AMTP_E_INVAL;
	return d->ops->get(d, container, host, out);
}

int
amtp_dir_disable_account(struct amtp_dir *d, const char *container,
    const char *host)
{
	d->errmsg[0] = '\0';
	if (!valid_container(container) || !amtp_dir_valid_dns_name(host) ||
	    strchr(host, '.') != NULL)
		return AMTP_E_INVAL;
	return d->ops->set_enabled(d, container, host, 0);
}

int
amtp_dir_delete_account(struct amtp_dir *d, const char *container,
    const char *host)
{
	d->errmsg[0] = '\0';
	if (!valid_container(container) || !amtp_dir_valid_dns_name(host) ||
	    strchr(host, '.') != NULL)
		return AMTP_E_INVAL;
	return d->ops->del(d, container, host);
}
