/*
 * amtprov - device.c: a simulated AMT device, its state machine and its
 * flash file (amtsim).  See device.h.
 *
 * The flash file is the device: everything a real device keeps across a
 * power loss is in it, written by amtsim_device_save() with
 * amtp_write_file_atomic() (temp file, fsync, rename, fsync of the folder),
 * so a reader only ever sees a whole old file or a whole new one.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "device.h"
#include "jsondump.h"
#include "loop.h"

#define FLASH_FORMAT	"amtsim-flash-1"
#define LOCAL_USER	"$$OsAdmin"
#define LOCAL_PASS_LEN	24
#define DEFAULT_MEBX	"admin"
#define DEFAULT_SKU	"16392"
#define REDACTED	"(redacted)"

/* The vendor (default) entries every simulated device ships with.  Their
 * hashes are SHA-256 over "amtsim default root: " + name: placeholders
 * with the right shape, not the real vendors' root fingerprints. */
static const char *const default_roots[] = {
	"VeriSign Class 3 Primary CA-G5",
	"Go Daddy Class 2 CA",
	"Comodo AAA CA",
	"Starfield Class 2 CA",
	"Entrust Root CA - G2",
	"DigiCert Global Root CA",
	"DigiCert High Assurance EV Root",
	"GlobalSign Root CA - R3",
};
#define NDEFAULT_ROOTS	(sizeof(default_roots) / sizeof(default_roots[0]))

static const struct amtsim_section_ops *sections[AMTSIM_SECTIONS_MAX];
static size_t nsections;

int
amtsim_section_register(const struct amtsim_section_ops *ops)
{
	size_t i;

	for (i = 0; i < nsections; i++)
		if (strcmp(sections[i]->name, ops->name) == 0)
			return AMTP_E_EXISTS;
	if (nsections == AMTSIM_SECTIONS_MAX)
		return AMTP_E_TOOBIG;
	sections[nsections] = ops;
	return (int)nsections++;
}

void *
amtsim_device_section(struct amtsim_device *d, int id)
{
	if (id < 0 || (size_t)id >= nsections)
		return NULL;
	return d->sections[id];
}

const char *
amtsim_state_name(enum amtsim_state s)
{
	switch (s) {
	case AMTSIM_PRE:
		return "pre";
	case AMTSIM_IN:
		return "in";
	case AMTSIM_POST:
		return "post";
	default:
		return "?";
	}
}

static int
state_parse(const char *s)
{
	if (strcmp(s, "pre") == 0)
		return AMTSIM_PRE;
	if (strcmp(s, "in") == 0)
		return AMTSIM_IN;
	if (strcmp(s, "post") == 0)
		return AMTSIM_POST;
	return -1;
}

static const char *const algo_names[] = {
	"md5", "sha1", "sha256", "sha384", "sha224", "sha512"
};

const char *
amtsim_hash_algo_name(uint8_t algorithm)
{
	if (algorithm < sizeof(algo_names) / sizeof(algo_names[0]))
		return algo_names[algorithm];
	return "?";
}

int
amtsim_hash_algo_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(algo_names) / sizeof(algo_names[0]); i++)
		if (strcmp(s, algo_names[i]) == 0)
			return (int)i;
	return -1;
}

void
amtsim_caps_for(unsigned major, struct amtsim_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->hash_table_max = major >= 11 ? 33 : 23;
	caps->local_account = major >= 7;
	caps->kvm = major >= 6;
}

void
amtsim_ipv4_format(uint32_t ip, char *dst, size_t dstsz)
{
	(void)snprintf(dst, dstsz, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
	    (ip >> 8) & 0xff, ip & 0xff);
}

int
amtsim_ipv4_parse(const char *s, uint32_t *out)
{
	unsigned long v = 0, part;
	const char *p = s;
	char *end;
	int i;

	for (i = 0; i < 4; i++) {
		if (*p < '0' || *p > '9')
			return AMTP_E_PARSE;
		errno = 0;
		part = strtoul(p, &end, 10);
		if (errno != 0 || part > 255 || end - p > 3)
			return AMTP_E_PARSE;
		v = v << 8 | part;
		p = end;
		if (i < 3) {
			if (*p != '.')
				return AMTP_E_PARSE;
			p++;
		}
	}
	if (*p != '\0')
		return AMTP_E_PARSE;
	*out = (uint32_t)v;
	return 0;
}

int
amtsim_device_flash_path(const char *dir, unsigned index, char *dst,
    size_t dstsz)
{
	int n = snprintf(dst, dstsz, "%s/%04u.json", dir, index);

	return n < 0 || (size_t)n >= dstsz ? AMTP_E_TOOBIG : 0;
}

int
amtsim_device_mei_path(const char *dir, unsigned index, char *dst,
    size_t dstsz)
{
	int n = snprintf(dst, dstsz, "%s/%04u.mei", dir, index);

	return n < 0 || (size_t)n >= dstsz ? AMTP_E_TOOBIG : 0;
}

/* "11.8.50" -> 11, 8, 50; AMTP_E_RANGE for AMT 5 and earlier or junk. */
static int
parse_version(const char *s, unsigned *maj, unsigned *min, unsigned *mic)
{
	unsigned v[3] = { 0, 0, 0 };
	unsigned long x;
	const char *p = s;
	char *end;
	int i;

	if (strlen(s) > AMTSIM_VERSION_MAX)
		return AMTP_E_RANGE;
	for (i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return AMTP_E_RANGE;
		errno = 0;
		x = strtoul(p, &end, 10);
		if (errno != 0 || x > 9999)
			return AMTP_E_RANGE;
		v[i] = (unsigned)x;
		p = end;
		if (i < 2) {
			if (*p != '.')
				return AMTP_E_RANGE;
			p++;
		}
	}
	if (*p != '\0' || v[0] < 6 || v[0] > 99)
		return AMTP_E_RANGE;
	*maj = v[0];
	*min = v[1];
	*mic = v[2];
	return 0;
}

static void
uuid_format(const uint8_t u[16], char *dst, size_t dstsz)
{
	/* Wire order is SMBIOS: the first three fields little-endian. */
	(void)snprintf(dst, dstsz, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[3], u[2], u[1], u[0],
	    u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13],
	    u[14], u[15]);
}

static int
uuid_parse(const char *s, uint8_t u[16])
{
	uint8_t b[16];
	char hex[33];
	size_t i, j = 0;

	if (strlen(s) != 36)
		return AMTP_E_PARSE;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return AMTP_E_PARSE;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[32] = '\0';
	if (amtp_hex_decode(hex, 32, b, 16) != 0)
		return AMTP_E_PARSE;
	u[0] = b[3]; u[1] = b[2]; u[2] = b[1]; u[3] = b[0];
	u[4] = b[5]; u[5] = b[4]; u[6] = b[7]; u[7] = b[6];
	memcpy(u + 8, b + 8, 8);
	return 0;
}

static void
mac_format(const uint8_t m[6], char *dst, size_t dstsz)
{
	(void)snprintf(dst, dstsz, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
	    m[2], m[3], m[4], m[5]);
}

static int
mac_parse(const char *s, uint8_t m[6])
{
	char hex[13];
	size_t i, j = 0;

	if (strlen(s) != 17)
		return AMTP_E_PARSE;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return AMTP_E_PARSE;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[12] = '\0';
	return amtp_hex_decode(hex, 12, m, 6) == 0 ? 0 : AMTP_E_PARSE;
}

/* Random printable text (letters and digits) of len characters. */
static int
random_text(char *dst, size_t len, int upper_hex)
{
	static const char alnum[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	    "abcdefghijkmnopqrstuvwxyz23456789";
	static const char hexd[] = "0123456789ABCDEF";
	uint8_t rnd[64];
	size_t i;

	if (len > sizeof(rnd))
		return AMTP_E_RANGE;
	if (getrandom(rnd, len, 0) != (ssize_t)len)
		return AMTP_E_IO;
	for (i = 0; i < len; i++)
		dst[i] = upper_hex ? hexd[rnd[i] & 15] :
		    alnum[rnd[i] % (sizeof(alnum) - 1)];
	dst[len] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

static int
add_hash(struct amtsim_device *d, const struct amtsim_hash *h)
{
	struct amtsim_hash *n;

	if (d->nhashes >= d->caps.hash_table_max)
		return AMTP_E_TOOBIG;
	if ((n = realloc(d->hashes, (d->nhashes + 1) * sizeof(*n))) == NULL)
		return AMTP_E_NOMEM;
	d->hashes = n;
	d->hashes[d->nhashes] = *h;
	d->nhashes++;
	return 0;
}

int
amtsim_device_create(const struct amtsim_device_spec *spec,
    struct amtsim_fleet *fleet, struct amtsim_device **out)
{
	struct amtsim_device *d = NULL;
	struct amtsim_hash h;
	char text[128];
	size_t i;
	int r;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return AMTP_E_NOMEM;
	d->index = spec->index;
	d->fleet = fleet;
	if ((r = parse_version(spec->amt_version, &d->ver_major,
	    &d->ver_minor, &d->ver_micro)) != 0)
		goto out;
	amtsim_caps_for(d->ver_major, &d->caps);
	(void)amtp_strlcpy(d->amt_version, spec->amt_version,
	    sizeof(d->amt_version));
	/* Simulated build numbers: stable per version, not Intel's. */
	(void)snprintf(d->build_number, sizeof(d->build_number), "%u",
	    1000 + d->ver_minor * 100 + d->ver_micro % 100);
	(void)amtp_strlcpy(d->sku, DEFAULT_SKU, sizeof(d->sku));
	(void)snprintf(d->bios_version, sizeof(d->bios_version),
	    "AMTSIM.86A.%04u.2026.1128", d->ver_major);
	if (getrandom(d->uuid, sizeof(d->uuid), 0) != (ssize_t)sizeof(d->uuid)) {
		r = AMTP_E_IO;
		goto out;
	}
	d->uuid[7] = (uint8_t)((d->uuid[7] & 0x0f) | 0x40);	/* version 4 */
	d->uuid[8] = (uint8_t)((d->uuid[8] & 0x3f) | 0x80);	/* variant */
	/* Locally administered MACs derived from the index. */
	d->mac_host[0] = 0x02;
	d->mac_host[1] = 0xa7;
	d->mac_host[2] = (uint8_t)(spec->index >> 16);
	d->mac_host[3] = (uint8_t)(spec->index >> 8);
	d->mac_host[4] = (uint8_t)spec->index;
	d->mac_host[5] = 0x00;
	/* Shared NIC, as on most vPro desktops: the ME uses the host MAC. */
	memcpy(d->mac_dedicated, d->mac_host, 6);
	memcpy(d->mac_wireless, d->mac_host, 6);
	d->mac_wireless[5] = 0x01;
	d->ipv4 = spec->ipv4;
	d->wireless = spec->wireless;
	d->otp_mismatch = spec->otp_mismatch != 0;
	memcpy(d->realm, "Digest:", 7);
	if ((r = random_text(d->realm + 7, 32, 1)) != 0)
		goto out;
	if (strlen(spec->dhcp_dns_suffix) > AMTP_AMTHI_FQDN_MAX ||
	    strlen(spec->pki_dns_suffix) > AMTP_AMTHI_FQDN_MAX) {
		r = AMTP_E_RANGE;
		goto out;
	}
	(void)amtp_strlcpy(d->dhcp_dns_suffix, spec->dhcp_dns_suffix,
	    sizeof(d->dhcp_dns_suffix));
	(void)amtp_strlcpy(d->pki_dns_suffix, spec->pki_dns_suffix,
	    sizeof(d->pki_dns_suffix));
	if (spec->mebx_password != NULL &&
	    strlen(spec->mebx_password) > AMTP_AMT_PASSWORD_MAX) {
		r = AMTP_E_RANGE;
		goto out;
	}
	(void)amtp_strlcpy(d->mebx_password, spec->mebx_password != NULL ?
	    spec->mebx_password : DEFAULT_MEBX, sizeof(d->mebx_password));
	(void)amtp_strlcpy(d->local_user, LOCAL_USER, sizeof(d->local_user));
	if ((r = random_text(d->local_pass, LOCAL_PASS_LEN, 0)) != 0)
		goto out;
	d->features.web_ui = 1;
	d->features.kvm = 0;
	d->next_handle = 1;
	for (i = 0; i < NDEFAULT_ROOTS; i++) {
		memset(&h, 0, sizeof(h));
		h.handle = d->next_handle++;
		h.algorithm = AMTP_AMT_HASH_SHA256;
		h.is_default = 1;
		h.is_active = 1;
		(void)snprintf(text, sizeof(text), "amtsim default root: %s",
		    default_roots[i]);
		SHA256((const unsigned char *)text, strlen(text), h.hash);
		(void)amtp_strlcpy(h.name, default_roots[i], sizeof(h.name));
		if ((r = add_hash(d, &h)) != 0)
			goto out;
	}
	for (i = 0; i < spec->nextra; i++) {
		h = spec->extra_hashes[i];
		h.handle = d->next_handle++;
		h.is_default = 0;
		if ((r = add_hash(d, &h)) != 0)
			goto out;
	}
	d->state = AMTSIM_PRE;
	*out = d;
	d = NULL;
	r = 0;
 out:
	amtsim_device_free(d);
	return r;
}

void
amtsim_device_free(struct amtsim_device *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < nsections; i++)
		if (d->sections[i] != NULL && sections[i]->free != NULL)
			sections[i]->free(d->sections[i]);
	json_decref(d->unknown_sections);
	amtsim_timer_free(d->prov_timer);
	free(d->hashes);
	explicit_bzero(d, sizeof(*d));
	free(d);
}

void
amtsim_device_set_ctx(struct amtsim_device *d,
    const struct amtsim_fleet_ctx *ctx)
{
	d->ctx = ctx;
}

/* ---- JSON ---- */

static json_t *
secret_json(const char *s, int with_secrets)
{
	return json_string(with_secrets ? s : REDACTED);
}

/*
 * Members of the sections that hold secrets, as the network side stores
 * them (src/amtsim/net/): private keys (PEM), Digest HA1s of the admin and
 * user accounts, and the write-only properties (Kerberos, Wi-Fi PSK,
 * 802.1X password).
 */
static const char *const section_secrets[] = {
	"key", "ha1", "MasterKey", "Passphrase", "Salt", "PSKPassPhrase",
	"Password",
};

/* Replaces every secret member below v (objects and arrays, at most
 * AMTP_SIM_SHOW_DEPTH_MAX levels; deeper ones are dropped whole). */
static void
redact_sections(json_t *v, unsigned depth)
{
	const char *key;
	json_t *e;
	size_t i, k;
	void *tmp;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (depth >= AMTP_SIM_SHOW_DEPTH_MAX)
				(void)json_array_set_new(v, i,
				    json_string(REDACTED));
			else
				redact_sections(e, depth + 1);
		}
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach_safe(v, tmp, key, e) {
		for (k = 0; k < sizeof(section_secrets) /
		    sizeof(section_secrets[0]); k++)
			if (strcmp(key, section_secrets[k]) == 0)
				break;
		if (k < sizeof(section_secrets) / sizeof(section_secrets[0]) ||
		    depth >= AMTP_SIM_SHOW_DEPTH_MAX)
			(void)json_object_set_new(v, key, json_string(REDACTED));
		else
			redact_sections(e, depth + 1);
	}
}

json_t *
amtsim_device_to_json(const struct amtsim_device *d, int with_secrets)
{
	json_t *o = NULL, *id, *dns, *hashes, *prov, *acct, *feat, *secs, *h;
	json_t *red;
	char text[AMTP_AMTHI_HASH_LEN_MAX * 2 + 1];
	size_t i, hl;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	bad |= json_object_set_new(o, "format", json_string(FLASH_FORMAT));
	bad |= json_object_set_new(o, "index", json_integer(d->index));

	id = json_object();
	bad |= json_object_set_new(o, "identity", id);
	uuid_format(d->uuid, text, sizeof(text));
	bad |= json_object_set_new(id, "uuid", json_string(text));
	bad |= json_object_set_new(id, "amt_version",
	    json_string(d->amt_version));
	bad |= json_object_set_new(id, "build_number",
	    json_string(d->build_number));
	bad |= json_object_set_new(id, "sku", json_string(d->sku));
	bad |= json_object_set_new(id, "bios_version",
	    json_string(d->bios_version));
	mac_format(d->mac_dedicated, text, sizeof(text));
	bad |= json_object_set_new(id, "mac_dedicated", json_string(text));
	mac_format(d->mac_host, text, sizeof(text));
	bad |= json_object_set_new(id, "mac_host", json_string(text));
	mac_format(d->mac_wireless, text, sizeof(text));
	bad |= json_object_set_new(id, "mac_wireless", json_string(text));
	amtsim_ipv4_format(d->ipv4, text, sizeof(text));
	bad |= json_object_set_new(id, "ipv4", json_string(text));
	bad |= json_object_set_new(id, "wireless", json_boolean(d->wireless));
	bad |= json_object_set_new(id, "digest_realm", json_string(d->realm));

	dns = json_object();
	bad |= json_object_set_new(o, "dns", dns);
	bad |= json_object_set_new(dns, "dhcp_suffix",
	    json_string(d->dhcp_dns_suffix));
	bad |= json_object_set_new(dns, "pki_suffix",
	    json_string(d->pki_dns_suffix));

	hashes = json_array();
	bad |= json_object_set_new(o, "hashes", hashes);
	bad |= json_object_set_new(o, "next_handle",
	    json_integer(d->next_handle));
	for (i = 0; i < d->nhashes; i++) {
		const struct amtsim_hash *x = &d->hashes[i];

		hl = amtp_amthi_hash_len(x->algorithm);
		if (hl == 0)
			hl = AMTP_AMTHI_HASH_LEN_MAX;
		(void)amtp_hex_encode(text, sizeof(text), x->hash, hl, 0);
		h = json_pack("{s:I, s:s, s:b, s:b, s:s, s:s}",
		    "handle", (json_int_t)x->handle,
		    "algorithm", amtsim_hash_algo_name(x->algorithm),
		    "default", x->is_default, "active", x->is_active,
		    "name", x->name, "hash", text);
		bad |= json_array_append_new(hashes, h);
	}

	prov = json_object();
	bad |= json_object_set_new(o, "provisioning", prov);
	bad |= json_object_set_new(prov, "state",
	    json_string(amtsim_state_name(d->state)));
	bad |= json_object_set_new(prov, "control_mode",
	    json_integer(d->control_mode));
	bad |= json_object_set_new(prov, "otp", d->otp_len == 0 ? json_null() :
	    secret_json(d->otp, with_secrets));
	bad |= json_object_set_new(prov, "ipv6_enabled",
	    json_boolean(d->ipv6_enabled));
	bad |= json_object_set_new(prov, "deadline",
	    json_integer(d->prov_deadline));
	bad |= json_object_set_new(prov, "mebx_password",
	    secret_json(d->mebx_password, with_secrets));

	acct = json_object();
	bad |= json_object_set_new(o, "local_account", acct);
	bad |= json_object_set_new(acct, "user", json_string(d->local_user));
	bad |= json_object_set_new(acct, "password",
	    secret_json(d->local_pass, with_secrets));

	feat = json_pack("{s:b, s:b, s:b, s:b, s:b, s:b}",
	    "tls_enabled", d->features.tls_enabled, "sol", d->features.sol,
	    "ider", d->features.ider, "kvm", d->features.kvm,
	    "web_ui", d->features.web_ui,
	    "system_defense", d->features.system_defense);
	bad |= json_object_set_new(o, "features", feat);
	bad |= json_object_set_new(o, "flash_writes",
	    json_integer((json_int_t)d->flash_writes));
	/* Only a device with a fault knob set has "faults". */
	if (d->otp_mismatch)
		bad |= json_object_set_new(o, "faults",
		    json_pack("{s:b}", "otp_mismatch", 1));

	secs = d->unknown_sections != NULL ?
	    json_deep_copy(d->unknown_sections) : json_object();
	bad |= json_object_set_new(o, "sections", secs);
	for (i = 0; secs != NULL && i < nsections; i++) {
		if (d->sections[i] == NULL || sections[i]->save == NULL)
			continue;
		bad |= json_object_set_new(secs, sections[i]->name,
		    sections[i]->save(d, d->sections[i]));
	}
	if (!with_secrets && secs != NULL) {
		/* A section's save() may hand out its live state: redact a
		 * copy. */
		if ((red = json_deep_copy(secs)) == NULL)
			bad = 1;
		else {
			redact_sections(red, 0);
			bad |= json_object_set_new(o, "sections", red);
		}
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
amtsim_device_save(struct amtsim_device *d)
{
	char path[4096];
	json_t *o = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (d->ctx == NULL || d->ctx->dir == NULL)
		return AMTP_E_INVAL;
	if ((r = amtsim_device_flash_path(d->ctx->dir, d->index, path,
	    sizeof(path))) != 0)
		return r;
	d->flash_writes++;
	if ((o = amtsim_device_to_json(d, 1)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	/* One line: a device writes its flash at every change (about 14
	 * times while it is provisioned), and indenting was a tenth of the
	 * simulator's CPU; `amtsim --show N` prints it readably.  The text is
	 * json_dumps(o, JSON_COMPACT)'s, made by amtsim_json_dump (jansson's
	 * dump was a fifth of the CPU), with room for the '\n' after it. */
	if ((r = amtsim_json_dump(o, AMTP_SIM_FLASH_MAX - 1, d->flash_len +
	    d->flash_len / 8 + 256, &text, &len)) != 0)
		goto out;
	text[len] = '\n';	/* replaces the NUL: written as len + 1 */
	r = amtp_write_file_atomic(path, text, len + 1, 0600,
	    d->ctx->no_fsync);
	text[len] = '\0';
	if (r == 0)
		d->flash_len = len;
 out:
	if (r != 0)
		d->flash_writes--;
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(o);
	return r;
}

/* Typed getters that name the field on error. */
static int
get_obj(const json_t *o, const char *key, json_t **out, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_object(v)) {
		(void)snprintf(err, errlen, "\"%s\" missing or not an object",
		    key);
		return AMTP_E_PARSE;
	}
	*out = v;
	return 0;
}

static int
get_str(const json_t *o, const char *key, char *dst, size_t dstsz,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v)) {
		(void)snprintf(err, errlen, "\"%s\" missing or not a string",
		    key);
		return AMTP_E_PARSE;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) >= dstsz) {
		(void)snprintf(err, errlen, "\"%s\" too long or holds a NUL",
		    key);
		return AMTP_E_PARSE;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int
get_int(const json_t *o, const char *key, long long min, long long max,
    long long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		(void)snprintf(err, errlen, "\"%s\" missing or not an integer "
		    "in %lld..%lld", key, min, max);
		return AMTP_E_PARSE;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
get_bool(const json_t *o, const char *key, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		(void)snprintf(err, errlen, "\"%s\" missing or not a boolean",
		    key);
		return AMTP_E_PARSE;
	}
	*out = json_is_true(v);
	return 0;
}

static int
parse_hash(const json_t *v, struct amtsim_hash *h, char *err, size_t errlen)
{
	char algo[AMTSIM_HASH_ALGO_NAME_MAX + 1];
	char hex[AMTP_AMTHI_HASH_LEN_MAX * 2 + 1];
	long long x;
	size_t hl;
	int a, r;

	memset(h, 0, sizeof(*h));
	if (!json_is_object(v)) {
		(void)snprintf(err, errlen, "hash entry not an object");
		return AMTP_E_PARSE;
	}
	if ((r = get_int(v, "handle", 0, UINT32_MAX, &x, err, errlen)) != 0)
		return r;
	h->handle = (uint32_t)x;
	if ((r = get_str(v, "algorithm", algo, sizeof(algo), err,
	    errlen)) != 0)
		return r;
	if ((a = amtsim_hash_algo_parse(algo)) < 0) {
		(void)snprintf(err, errlen, "hash %u: unknown algorithm",
		    h->handle);
		return AMTP_E_PARSE;
	}
	h->algorithm = (uint8_t)a;
	if ((r = get_bool(v, "default", &h->is_default, err, errlen)) != 0 ||
	    (r = get_bool(v, "active", &h->is_active, err, errlen)) != 0 ||
	    (r = get_str(v, "name", h->name, sizeof(h->name), err,
	    errlen)) != 0 ||
	    (r = get_str(v, "hash", hex, sizeof(hex), err, errlen)) != 0)
		return r;
	hl = amtp_amthi_hash_len(h->algorithm);
	if (amtp_hex_decode(hex, strlen(hex), h->hash, hl) != 0) {
		(void)snprintf(err, errlen, "hash %u: \"hash\" is not %zu hex "
		    "bytes", h->handle, hl);
		return AMTP_E_PARSE;
	}
	return 0;
}

/* Fills d from the parsed flash object. */
static int
from_json(struct amtsim_device *d, const json_t *o, unsigned index,
    char *err, size_t errlen)
{
	json_t *id, *dns, *prov, *acct, *feat, *hashes, *secs, *v, *faults;
	char text[128];
	const char *key;
	long long x;
	size_t i;
	int r, s;

	if ((r = get_str(o, "format", text, sizeof(text), err, errlen)) != 0)
		return r;
	if (strcmp(text, FLASH_FORMAT) != 0) {
		(void)snprintf(err, errlen, "unknown format \"%s\"", text);
		return AMTP_E_PARSE;
	}
	if ((r = get_int(o, "index", 1, AMTP_SIM_DEVICES_MAX, &x, err,
	    errlen)) != 0)
		return r;
	if ((unsigned)x != index) {
		(void)snprintf(err, errlen, "holds device %lld, not %u", x,
		    index);
		return AMTP_E_PARSE;
	}
	d->index = index;

	if ((r = get_obj(o, "identity", &id, err, errlen)) != 0)
		return r;
	if ((r = get_str(id, "uuid", text, sizeof(text), err, errlen)) != 0)
		return r;
	if (uuid_parse(text, d->uuid) != 0) {
		(void)snprintf(err, errlen, "\"uuid\" malformed");
		return AMTP_E_PARSE;
	}
	if ((r = get_str(id, "amt_version", d->amt_version,
	    sizeof(d->amt_version), err, errlen)) != 0)
		return r;
	if (parse_version(d->amt_version, &d->ver_major, &d->ver_minor,
	    &d->ver_micro) != 0) {
		(void)snprintf(err, errlen, "\"amt_version\" not an AMT 6+ "
		    "version");
		return AMTP_E_PARSE;
	}
	amtsim_caps_for(d->ver_major, &d->caps);
	if ((r = get_str(id, "build_number", d->build_number,
	    sizeof(d->build_number), err, errlen)) != 0 ||
	    (r = get_str(id, "sku", d->sku, sizeof(d->sku), err,
	    errlen)) != 0 ||
	    (r = get_str(id, "bios_version", d->bios_version,
	    sizeof(d->bios_version), err, errlen)) != 0)
		return r;
	if ((r = get_str(id, "mac_dedicated", text, sizeof(text), err,
	    errlen)) != 0 || (r = mac_parse(text, d->mac_dedicated)) != 0 ||
	    (r = get_str(id, "mac_host", text, sizeof(text), err,
	    errlen)) != 0 || (r = mac_parse(text, d->mac_host)) != 0 ||
	    (r = get_str(id, "mac_wireless", text, sizeof(text), err,
	    errlen)) != 0 || (r = mac_parse(text, d->mac_wireless)) != 0) {
		if (*err == '\0')
			(void)snprintf(err, errlen, "a MAC address is "
			    "malformed");
		return AMTP_E_PARSE;
	}
	if ((r = get_str(id, "ipv4", text, sizeof(text), err, errlen)) != 0)
		return r;
	if (amtsim_ipv4_parse(text, &d->ipv4) != 0) {
		(void)snprintf(err, errlen, "\"ipv4\" malformed");
		return AMTP_E_PARSE;
	}
	if ((r = get_bool(id, "wireless", &d->wireless, err, errlen)) != 0 ||
	    (r = get_str(id, "digest_realm", d->realm, sizeof(d->realm), err,
	    errlen)) != 0)
		return r;

	if ((r = get_obj(o, "dns", &dns, err, errlen)) != 0 ||
	    (r = get_str(dns, "dhcp_suffix", d->dhcp_dns_suffix,
	    sizeof(d->dhcp_dns_suffix), err, errlen)) != 0 ||
	    (r = get_str(dns, "pki_suffix", d->pki_dns_suffix,
	    sizeof(d->pki_dns_suffix), err, errlen)) != 0)
		return r;

	hashes = json_object_get(o, "hashes");
	if (!json_is_array(hashes) ||
	    json_array_size(hashes) > d->caps.hash_table_max) {
		(void)snprintf(err, errlen, "\"hashes\" missing, not an array "
		    "or longer than %u", d->caps.hash_table_max);
		return AMTP_E_PARSE;
	}
	if ((r = get_int(o, "next_handle", 1, UINT32_MAX, &x, err,
	    errlen)) != 0)
		return r;
	d->next_handle = (uint32_t)x;
	json_array_foreach(hashes, i, v) {
		struct amtsim_hash h;

		if ((r = parse_hash(v, &h, err, errlen)) != 0)
			return r;
		if ((r = add_hash(d, &h)) != 0) {
			(void)snprintf(err, errlen, "hash table: %s",
			    amtp_strerror(r));
			return r;
		}
	}

	if ((r = get_obj(o, "provisioning", &prov, err, errlen)) != 0 ||
	    (r = get_str(prov, "state", text, sizeof(text), err, errlen)) != 0)
		return r;
	if ((s = state_parse(text)) < 0) {
		(void)snprintf(err, errlen, "\"state\" is not pre, in or post");
		return AMTP_E_PARSE;
	}
	d->state = (enum amtsim_state)s;
	if ((r = get_int(prov, "control_mode", 0, 2, &x, err, errlen)) != 0)
		return r;
	d->control_mode = (uint32_t)x;
	v = json_object_get(prov, "otp");
	if (json_is_null(v))
		d->otp_len = 0;
	else {
		if ((r = get_str(prov, "otp", d->otp, sizeof(d->otp), err,
		    errlen)) != 0)
			return r;
		d->otp_len = strlen(d->otp);
	}
	if ((r = get_bool(prov, "ipv6_enabled", &d->ipv6_enabled, err,
	    errlen)) != 0 ||
	    (r = get_int(prov, "deadline", 0, INT64_MAX, &x, err,
	    errlen)) != 0)
		return r;
	d->prov_deadline = x;
	if ((r = get_str(prov, "mebx_password", d->mebx_password,
	    sizeof(d->mebx_password), err, errlen)) != 0)
		return r;

	if ((r = get_obj(o, "local_account", &acct, err, errlen)) != 0 ||
	    (r = get_str(acct, "user", d->local_user, sizeof(d->local_user),
	    err, errlen)) != 0 ||
	    (r = get_str(acct, "password", d->local_pass,
	    sizeof(d->local_pass), err, errlen)) != 0)
		return r;

	if ((r = get_obj(o, "features", &feat, err, errlen)) != 0 ||
	    (r = get_bool(feat, "tls_enabled", &d->features.tls_enabled, err,
	    errlen)) != 0 ||
	    (r = get_bool(feat, "sol", &d->features.sol, err, errlen)) != 0 ||
	    (r = get_bool(feat, "ider", &d->features.ider, err, errlen)) != 0 ||
	    (r = get_bool(feat, "kvm", &d->features.kvm, err, errlen)) != 0 ||
	    (r = get_bool(feat, "web_ui", &d->features.web_ui, err,
	    errlen)) != 0 ||
	    (r = get_bool(feat, "system_defense", &d->features.system_defense,
	    err, errlen)) != 0)
		return r;
	if ((r = get_int(o, "flash_writes", 0, INT64_MAX, &x, err,
	    errlen)) != 0)
		return r;
	d->flash_writes = (uint64_t)x;
	if ((faults = json_object_get(o, "faults")) != NULL) {
		if ((r = get_obj(o, "faults", &faults, err, errlen)) != 0 ||
		    (r = get_bool(faults, "otp_mismatch", &d->otp_mismatch,
		    err, errlen)) != 0)
			return r;
	}

	if ((r = get_obj(o, "sections", &secs, err, errlen)) != 0)
		return r;
	for (i = 0; i < nsections; i++) {
		v = json_object_get(secs, sections[i]->name);
		if (sections[i]->load == NULL)
			continue;
		if ((r = sections[i]->load(d, v, &d->sections[i], err,
		    errlen)) != 0) {
			if (*err == '\0')
				(void)snprintf(err, errlen, "section %s: %s",
				    sections[i]->name, amtp_strerror(r));
			return r;
		}
	}
	/* Keep what nobody here registered. */
	json_object_foreach(secs, key, v) {
		int known = 0;

		for (i = 0; i < nsections; i++)
			if (strcmp(key, sections[i]->name) == 0)
				known = 1;
		if (known)
			continue;
		if (d->unknown_sections == NULL &&
		    (d->unknown_sections = json_object()) == NULL)
			return AMTP_E_NOMEM;
		if (json_object_set(d->unknown_sections, key, v) != 0)
			return AMTP_E_NOMEM;
	}
	return 0;
}

/* jansson's free: wipes the whole block (malloc_usable_size covers what
 * jansson asked for) before it goes back to malloc. */
static void
json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void
amtsim_json_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, json_wipe_free);
}

void
amtsim_json_error(const json_error_t *je, char *dst, size_t dstsz)
{
	char reason[sizeof(je->text)];
	char *near;

	if (dst == NULL || dstsz == 0)
		return;
	(void)amtp_strlcpy(reason, je->text, sizeof(reason));
	if ((near = strstr(reason, " near ")) != NULL)
		*near = '\0';
	/* Truncation is acceptable: the message is for a person. */
	(void)snprintf(dst, dstsz, "%s (column %d, byte %d)", reason,
	    je->column, je->position);
	explicit_bzero(reason, sizeof(reason));
}

int
amtsim_device_parse(const struct amtsim_fleet_ctx *ctx, unsigned index,
    const void *text, size_t len, struct amtsim_fleet *fleet,
    struct amtsim_device **out, char *err, size_t errlen)
{
	struct amtsim_device *d = NULL;
	json_error_t je;
	json_t *o = NULL;
	char why[200];
	int r;

	*out = NULL;
	memset(&je, 0, sizeof(je));
	if (errlen > 0)
		err[0] = '\0';
	if (len == 0) {
		(void)snprintf(err, errlen, "flash file is empty (truncated)");
		return AMTP_E_PARSE;
	}
	if (len > AMTP_SIM_FLASH_MAX) {
		(void)snprintf(err, errlen, "flash file larger than %d bytes",
		    AMTP_SIM_FLASH_MAX);
		return AMTP_E_TOOBIG;
	}
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		amtsim_json_error(&je, why, sizeof(why));
		(void)snprintf(err, errlen, "flash file is not valid JSON "
		    "(corrupt or truncated): line %d: %s", je.line, why);
		r = AMTP_E_JSON;
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	d->fleet = fleet;
	d->ctx = ctx;
	if ((r = from_json(d, o, index, err, errlen)) != 0)
		goto out;
	*out = d;
	d = NULL;
	r = 0;
 out:
	amtsim_device_free(d);
	json_decref(o);
	explicit_bzero(&je, sizeof(je));	/* it may quote a secret */
	return r;
}

int
amtsim_device_load(const struct amtsim_fleet_ctx *ctx, unsigned index,
    struct amtsim_fleet *fleet, struct amtsim_device **out, char *err,
    size_t errlen)
{
	struct amtp_buf *b = NULL;
	char path[4096], why[512];
	int r;

	*out = NULL;
	why[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';
	if ((r = amtsim_device_flash_path(ctx->dir, index, path,
	    sizeof(path))) != 0) {
		(void)snprintf(err, errlen, "device %u: state folder path too "
		    "long", index);
		goto out;
	}
	if ((r = amtp_buf_load_file(path, AMTP_SIM_FLASH_MAX, &b)) != 0) {
		(void)snprintf(err, errlen, "%s: cannot read flash file: %s",
		    path, r == AMTP_E_IO ? strerror(errno) : amtp_strerror(r));
		goto out;
	}
	if ((r = amtsim_device_parse(ctx, index, amtp_buf_ptr(b),
	    amtp_buf_len(b), fleet, out, why, sizeof(why))) != 0) {
		(void)snprintf(err, errlen, "%s: %s%s", path,
		    r == AMTP_E_PARSE && strncmp(why, "flash", 5) != 0 ?
		    "bad flash file: " : "", why);
		goto out;
	}
	(*out)->flash_len = amtp_buf_len(b);	/* the next save's size */
	r = 0;
 out:
	amtp_buf_free(b);
	explicit_bzero(why, sizeof(why));
	return r;
}

/* ---- the state machine ---- */

int
amtsim_state_next(enum amtsim_state state, enum amtsim_event ev)
{
	switch (ev) {
	case AMTSIM_EV_START_CONFIG:
		return state == AMTSIM_PRE ? AMTSIM_IN : -1;
	case AMTSIM_EV_STOP_CONFIG:
	case AMTSIM_EV_PERIOD_EXPIRED:
		return state == AMTSIM_IN ? AMTSIM_PRE : -1;
	case AMTSIM_EV_COMMIT:
		return state == AMTSIM_IN ? AMTSIM_POST : -1;
	case AMTSIM_EV_UNPROVISION:
		return state == AMTSIM_IN || state == AMTSIM_POST ?
		    AMTSIM_PRE : -1;
	default:
		return -1;
	}
}

int
amtsim_device_net_active(const struct amtsim_device *d)
{
	return d->state != AMTSIM_PRE;
}

const struct amtsim_hash *
amtsim_device_find_hash(const struct amtsim_device *d, uint8_t algorithm,
    const uint8_t *hash, size_t len)
{
	size_t i;

	if (len != amtp_amthi_hash_len(algorithm))
		return NULL;
	for (i = 0; i < d->nhashes; i++)
		if (d->hashes[i].is_active &&
		    d->hashes[i].algorithm == algorithm &&
		    memcmp(d->hashes[i].hash, hash, len) == 0)
			return &d->hashes[i];
	return NULL;
}

static void
period_expired(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct amtsim_device *d = arg;

	(void)loop;
	(void)t;
	if (d->state != AMTSIM_IN)
		return;
	if ((int64_t)time(NULL) < d->prov_deadline) {
		amtsim_device_arm_period(d);	/* clock moved: wait more */
		return;
	}
	(void)amtsim_device_event(d, AMTSIM_EV_PERIOD_EXPIRED, 0);
}

void
amtsim_device_arm_period(struct amtsim_device *d)
{
	int64_t left;

	if (d->ctx == NULL || d->ctx->loop == NULL)
		return;
	if (d->state != AMTSIM_IN) {
		if (d->prov_timer != NULL)
			amtsim_timer_disarm(d->prov_timer);
		return;
	}
	if (d->prov_timer == NULL &&
	    (d->prov_timer = amtsim_timer_new(d->ctx->loop, period_expired,
	    d)) == NULL)
		return;	/* XXX: no timer; the check at load still applies */
	left = d->prov_deadline - (int64_t)time(NULL);
	amtsim_timer_arm(d->prov_timer, left <= 0 ? 0 : (uint64_t)left * 1000);
}

/* The part of the state a transition changes, to undo a failed save. */
struct snapshot {
	enum amtsim_state	state;
	uint32_t		control_mode;
	char			otp[AMTP_OTP_MAX + 1];
	size_t			otp_len;
	int64_t			prov_deadline;
	int			ipv6_enabled;
	char			pki_dns_suffix[AMTP_AMTHI_FQDN_MAX + 1];
	struct amtsim_features	features;
};

static void
take(struct snapshot *s, const struct amtsim_device *d)
{
	s->state = d->state;
	s->control_mode = d->control_mode;
	memcpy(s->otp, d->otp, sizeof(s->otp));
	s->otp_len = d->otp_len;
	s->prov_deadline = d->prov_deadline;
	s->ipv6_enabled = d->ipv6_enabled;
	memcpy(s->pki_dns_suffix, d->pki_dns_suffix, sizeof(s->pki_dns_suffix));
	s->features = d->features;
}

static void
restore(struct amtsim_device *d, const struct snapshot *s)
{
	d->state = s->state;
	d->control_mode = s->control_mode;
	memcpy(d->otp, s->otp, sizeof(d->otp));
	d->otp_len = s->otp_len;
	d->prov_deadline = s->prov_deadline;
	d->ipv6_enabled = s->ipv6_enabled;
	memcpy(d->pki_dns_suffix, s->pki_dns_suffix, sizeof(d->pki_dns_suffix));
	d->features = s->features;
}

static void
clear_otp(struct amtsim_device *d)
{
	explicit_bzero(d->otp, sizeof(d->otp));
	d->otp_len = 0;
}

uint32_t
amtsim_device_event(struct amtsim_device *d, enum amtsim_event ev,
    uint32_t control_mode)
{
	struct snapshot snap;
	enum amtsim_state old = d->state;
	uint32_t period;
	size_t i;
	int next;

	if ((next = amtsim_state_next(d->state, ev)) < 0)
		return AMTP_AMT_STATUS_INVALID_AMT_MODE;
	if (ev == AMTSIM_EV_COMMIT && control_mode != AMTP_AMT_CONTROL_ACM &&
	    control_mode != AMTP_AMT_CONTROL_CCM)
		return AMTP_AMT_STATUS_INVALID_PARAMETER;
	take(&snap, d);
	d->state = (enum amtsim_state)next;
	switch (ev) {
	case AMTSIM_EV_START_CONFIG:
		period = d->ctx != NULL && d->ctx->prov_period > 0 ?
		    d->ctx->prov_period : AMTP_SIM_PROV_PERIOD_DEFAULT;
		d->prov_deadline = (int64_t)time(NULL) + period;
		break;
	case AMTSIM_EV_STOP_CONFIG:
	case AMTSIM_EV_PERIOD_EXPIRED:
		/* The OTP belonged to that provisioning attempt. */
		clear_otp(d);
		d->prov_deadline = 0;
		d->ipv6_enabled = 0;
		break;
	case AMTSIM_EV_COMMIT:
		d->control_mode = control_mode;
		d->prov_deadline = 0;
		break;
	case AMTSIM_EV_UNPROVISION:
		clear_otp(d);
		d->control_mode = AMTP_AMT_CONTROL_NONE;
		d->prov_deadline = 0;
		d->ipv6_enabled = 0;
		d->pki_dns_suffix[0] = '\0';
		memset(&d->features, 0, sizeof(d->features));
		d->features.web_ui = 1;
		/* XXX: a failed save below does not undo section resets. */
		for (i = 0; i < nsections; i++)
			if (d->sections[i] != NULL && sections[i]->reset != NULL)
				sections[i]->reset(d, d->sections[i]);
		break;
	default:
		break;
	}
	if (amtsim_device_save(d) != 0) {
		restore(d, &snap);
		explicit_bzero(&snap, sizeof(snap));
		return AMTP_AMT_STATUS_INTERNAL_ERROR;
	}
	explicit_bzero(&snap, sizeof(snap));
	amtsim_device_arm_period(d);
	if (d->ctx != NULL && d->ctx->hook != NULL)
		d->ctx->hook(d, old, d->state, d->ctx->hook_arg);
	return AMTP_AMT_STATUS_SUCCESS;
}
