/*
 * amtprov - fleet.c: creating, loading and serving a fleet of simulated
 * devices (amtsim).  See fleet.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"
#include "device.h"
#include "fleet.h"
#include "meisrv.h"

#define FLEET_FILE	"fleet.json"
#define FLEET_FORMAT	"amtsim-fleet-1"
#define DEFAULT_VERSION	"11.8.50"
#define DEFAULT_ADDRESS	0x7f140001u	/* 127.20.0.1 */
#define ROOT_LINE_MAX	512

void
amtsim_fleet_desc_init(struct amtsim_fleet_desc *desc)
{
	memset(desc, 0, sizeof(*desc));
	desc->first_address = DEFAULT_ADDRESS;
}

void
amtsim_fleet_desc_reset(struct amtsim_fleet_desc *desc)
{
	size_t i;

	for (i = 0; i < desc->nversions; i++)
		free(desc->versions[i]);
	for (i = 0; i < desc->noverrides; i++) {
		struct amtsim_override *o = &desc->overrides[i];

		free(o->amt_version);
		if (o->mebx_password != NULL)
			explicit_bzero(o->mebx_password,
			    strlen(o->mebx_password));
		free(o->mebx_password);
		free(o->dns_suffix);
		free(o->pki_dns_suffix);
	}
	free(desc->overrides);
	free(desc->dns_suffix);
	free(desc->pki_dns_suffix);
	if (desc->mebx_password != NULL)
		explicit_bzero(desc->mebx_password, strlen(desc->mebx_password));
	free(desc->mebx_password);
	amtsim_fleet_desc_init(desc);
}

static int
valid_version(const char *v)
{
	struct amtsim_device_spec spec;
	struct amtsim_device *d = NULL;
	int r;

	/* The device parser is the one authority on versions. */
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = v;
	spec.dhcp_dns_suffix = "";
	spec.pki_dns_suffix = "";
	r = amtsim_device_create(&spec, NULL, &d);
	amtsim_device_free(d);
	return r == 0;
}

int
amtsim_fleet_desc_versions(struct amtsim_fleet_desc *desc, const char *list,
    char *err, size_t errlen)
{
	char *copy, *p, *next;
	size_t i;
	int r = 0;

	if ((copy = strdup(list)) == NULL)
		return AMTP_E_NOMEM;
	for (i = 0; i < desc->nversions; i++)
		free(desc->versions[i]);
	desc->nversions = 0;
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if (!valid_version(p)) {
			(void)snprintf(err, errlen, "AMT version \"%s\": want "
			    "MAJOR.MINOR.MICRO with MAJOR 6 to 99", p);
			r = AMTP_E_RANGE;
			break;
		}
		if (desc->nversions == AMTSIM_VERSIONS_MAX) {
			(void)snprintf(err, errlen, "more than %d AMT versions",
			    AMTSIM_VERSIONS_MAX);
			r = AMTP_E_TOOBIG;
			break;
		}
		if ((desc->versions[desc->nversions] = strdup(p)) == NULL) {
			r = AMTP_E_NOMEM;
			break;
		}
		desc->nversions++;
	}
	free(copy);
	return r;
}

struct amtsim_override *
amtsim_fleet_desc_override(struct amtsim_fleet_desc *desc, unsigned index)
{
	struct amtsim_override *n;
	size_t i;

	for (i = 0; i < desc->noverrides; i++)
		if (desc->overrides[i].index == index)
			return &desc->overrides[i];
	if (desc->noverrides >= AMTP_SIM_DEVICES_MAX)
		return NULL;
	if ((n = realloc(desc->overrides, (desc->noverrides + 1) *
	    sizeof(*n))) == NULL)
		return NULL;
	desc->overrides = n;
	n = &desc->overrides[desc->noverrides++];
	memset(n, 0, sizeof(*n));
	n->index = index;
	n->untrusted = -1;
	n->otp_mismatch = -1;
	n->wireless = -1;
	return n;
}

/* Parses "HEX" (colons allowed) into h: 32 bytes SHA-256 or 48 SHA-384. */
static int
parse_root_hex(const char *s, size_t len, struct amtsim_hash *h)
{
	char hex[AMTP_AMTHI_HASH_LEN_MAX * 2 + 1];
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			continue;
		if (n >= sizeof(hex) - 1)
			return AMTP_E_PARSE;
		hex[n++] = s[i];
	}
	hex[n] = '\0';
	memset(h, 0, sizeof(*h));
	if (n == 64)
		h->algorithm = AMTP_AMT_HASH_SHA256;
	else if (n == 96)
		h->algorithm = AMTP_AMT_HASH_SHA384;
	else
		return AMTP_E_PARSE;
	if (amtp_hex_decode(hex, n, h->hash, n / 2) != 0)
		return AMTP_E_PARSE;
	h->is_active = 1;
	return 0;
}

static int
add_root(struct amtsim_fleet_desc *desc, const struct amtsim_hash *h)
{
	if (desc->nroots >= AMTP_SIM_TRUST_ROOTS_MAX)
		return AMTP_E_TOOBIG;
	desc->roots[desc->nroots++] = *h;
	return 0;
}

int
amtsim_fleet_desc_roots(struct amtsim_fleet_desc *desc, const char *path,
    char *err, size_t errlen)
{
	struct amtsim_hash h;
	char line[ROOT_LINE_MAX], *p, *end, *name;
	FILE *f;
	int lineno = 0, r = 0;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return AMTP_E_NOTFOUND;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			(void)snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			r = AMTP_E_TOOBIG;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		    line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		end = p + strcspn(p, " \t");
		if (parse_root_hex(p, (size_t)(end - p), &h) != 0) {
			(void)snprintf(err, errlen, "%s:%d: not a SHA-256 or "
			    "SHA-384 hash in hex", path, lineno);
			r = AMTP_E_PARSE;
			break;
		}
		name = end + strspn(end, " \t*");
		(void)amtp_strlcpy(h.name, *name != '\0' ? name : "Custom Root",
		    sizeof(h.name));
		if ((r = add_root(desc, &h)) != 0) {
			(void)snprintf(err, errlen, "%s: more than %d roots",
			    path, AMTP_SIM_TRUST_ROOTS_MAX);
			break;
		}
	}
	(void)fclose(f);
	return r;
}

static int
dup_str(const json_t *o, const char *key, char **dst, size_t max, char *err,
    size_t errlen, const char *path)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		(void)snprintf(err, errlen, "%s: \"%s\" must be a string of at "
		    "most %zu characters", path, key, max);
		return AMTP_E_PARSE;
	}
	if (*dst != NULL) {
		explicit_bzero(*dst, strlen(*dst));	/* may be a password */
		free(*dst);
	}
	if ((*dst = strdup(json_string_value(v))) == NULL)
		return AMTP_E_NOMEM;
	return 0;
}

int
amtsim_fleet_desc_load(const char *path, struct amtsim_fleet_desc *desc,
    char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	int r;

	if ((r = amtp_buf_load_file(path, AMTP_SIM_FLEET_FILE_MAX, &b)) != 0) {
		(void)snprintf(err, errlen, "%s: cannot read: %s", path,
		    amtp_strerror(r));
		return r;
	}
	r = amtsim_fleet_desc_parse(amtp_buf_ptr(b), amtp_buf_len(b), path,
	    desc, err, errlen);
	amtp_buf_free(b);
	return r;
}

int
amtsim_fleet_desc_parse(const void *text, size_t len, const char *path,
    struct amtsim_fleet_desc *desc, char *err, size_t errlen)
{
	struct amtsim_override *ov;
	struct amtsim_hash h;
	json_error_t je;
	json_t *o = NULL, *v, *e;
	const char *key;
	char *list = NULL, why[200];
	size_t i;
	int r;

	memset(&je, 0, sizeof(je));

	if (len > AMTP_SIM_FLEET_FILE_MAX) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", path,
		    AMTP_SIM_FLEET_FILE_MAX);
		return AMTP_E_TOOBIG;
	}
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		amtsim_json_error(&je, why, sizeof(why));
		(void)snprintf(err, errlen, "%s: line %d: %s", path, je.line,
		    why);
		r = AMTP_E_JSON;
		goto out;
	}
	if (!json_is_object(o)) {
		(void)snprintf(err, errlen, "%s: not a JSON object", path);
		r = AMTP_E_JSON;
		goto out;
	}
	r = AMTP_E_PARSE;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "devices") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > AMTP_SIM_DEVICES_MAX) {
				(void)snprintf(err, errlen, "%s: \"devices\" "
				    "must be 1..%d", path,
				    AMTP_SIM_DEVICES_MAX);
				goto out;
			}
			desc->count = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "address") == 0) {
			if (!json_is_string(v) || amtsim_ipv4_parse(
			    json_string_value(v), &desc->first_address) != 0) {
				(void)snprintf(err, errlen, "%s: \"address\" "
				    "must be a dotted IPv4 address", path);
				goto out;
			}
		} else if (strcmp(key, "amt_versions") == 0) {
			size_t total = 0;

			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > AMTSIM_VERSIONS_MAX) {
				(void)snprintf(err, errlen, "%s: "
				    "\"amt_versions\" must be a list of 1..%d "
				    "strings", path, AMTSIM_VERSIONS_MAX);
				goto out;
			}
			json_array_foreach(v, i, e) {
				if (!json_is_string(e)) {
					(void)snprintf(err, errlen, "%s: "
					    "\"amt_versions\" holds a "
					    "non-string", path);
					goto out;
				}
				total += json_string_length(e) + 1;
			}
			if ((list = calloc(1, total + 1)) == NULL) {
				r = AMTP_E_NOMEM;
				goto out;
			}
			json_array_foreach(v, i, e) {
				if (i > 0)
					(void)strncat(list, ",", total);
				(void)strncat(list, json_string_value(e),
				    total - strlen(list));
			}
			if ((r = amtsim_fleet_desc_versions(desc, list, err,
			    errlen)) != 0)
				goto out;
			r = AMTP_E_PARSE;
		} else if (strcmp(key, "dns_suffix") == 0 ||
		    strcmp(key, "pki_dns_suffix") == 0 ||
		    strcmp(key, "mebx_password") == 0) {
			char **dst = strcmp(key, "dns_suffix") == 0 ?
			    &desc->dns_suffix : strcmp(key, "mebx_password")
			    == 0 ? &desc->mebx_password :
			    &desc->pki_dns_suffix;

			if ((r = dup_str(o, key, dst, strcmp(key,
			    "mebx_password") == 0 ? AMTP_AMT_PASSWORD_MAX :
			    AMTP_AMTHI_FQDN_MAX, err, errlen, path)) != 0)
				goto out;
			r = AMTP_E_PARSE;
		} else if (strcmp(key, "wireless_every") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > AMTP_SIM_DEVICES_MAX) {
				(void)snprintf(err, errlen, "%s: "
				    "\"wireless_every\" must be 0..%d", path,
				    AMTP_SIM_DEVICES_MAX);
				goto out;
			}
			desc->wireless_every = (unsigned)json_integer_value(v);
		} else if (strcmp(key, "trust_roots") == 0) {
			if (!json_is_array(v)) {
				(void)snprintf(err, errlen, "%s: "
				    "\"trust_roots\" must be a list", path);
				goto out;
			}
			json_array_foreach(v, i, e) {
				json_t *hx = json_object_get(e, "sha256");
				json_t *nm = json_object_get(e, "name");

				if (hx == NULL)
					hx = json_object_get(e, "sha384");
				if (!json_is_string(hx) ||
				    parse_root_hex(json_string_value(hx),
				    json_string_length(hx), &h) != 0 ||
				    (nm != NULL && (!json_is_string(nm) ||
				    json_string_length(nm) >
				    AMTP_AMTHI_HASH_NAME_MAX))) {
					(void)snprintf(err, errlen, "%s: "
					    "trust_roots[%zu]: want {\"sha256\""
					    " or \"sha384\": hex, \"name\": "
					    "text of at most %d}", path, i,
					    AMTP_AMTHI_HASH_NAME_MAX);
					goto out;
				}
				(void)amtp_strlcpy(h.name, nm != NULL ?
				    json_string_value(nm) : "Custom Root",
				    sizeof(h.name));
				if (add_root(desc, &h) != 0) {
					(void)snprintf(err, errlen, "%s: more "
					    "than %d roots", path,
					    AMTP_SIM_TRUST_ROOTS_MAX);
					goto out;
				}
			}
		} else if (strcmp(key, "overrides") == 0) {
			if (!json_is_array(v)) {
				(void)snprintf(err, errlen, "%s: \"overrides\" "
				    "must be a list", path);
				goto out;
			}
			json_array_foreach(v, i, e) {
				json_t *dv = json_object_get(e, "device");
				json_t *x;

				if (!json_is_integer(dv) ||
				    json_integer_value(dv) < 1 ||
				    json_integer_value(dv) >
				    AMTP_SIM_DEVICES_MAX) {
					(void)snprintf(err, errlen, "%s: "
					    "overrides[%zu]: \"device\" must "
					    "be 1..%d", path, i,
					    AMTP_SIM_DEVICES_MAX);
					goto out;
				}
				if ((ov = amtsim_fleet_desc_override(desc,
				    (unsigned)json_integer_value(dv))) ==
				    NULL) {
					r = AMTP_E_NOMEM;
					goto out;
				}
				if ((x = json_object_get(e, "untrusted")) !=
				    NULL)
					ov->untrusted = json_is_true(x);
				if ((x = json_object_get(e, "otp_mismatch")) !=
				    NULL)
					ov->otp_mismatch = json_is_true(x);
				if ((x = json_object_get(e, "wireless")) !=
				    NULL)
					ov->wireless = json_is_true(x);
				if ((r = dup_str(e, "amt_version",
				    &ov->amt_version, AMTSIM_VERSION_MAX, err,
				    errlen, path)) != 0 ||
				    (r = dup_str(e, "mebx_password",
				    &ov->mebx_password, AMTP_AMT_PASSWORD_MAX,
				    err, errlen, path)) != 0 ||
				    (r = dup_str(e, "dns_suffix",
				    &ov->dns_suffix, AMTP_AMTHI_FQDN_MAX, err,
				    errlen, path)) != 0 ||
				    (r = dup_str(e, "pki_dns_suffix",
				    &ov->pki_dns_suffix, AMTP_AMTHI_FQDN_MAX,
				    err, errlen, path)) != 0)
					goto out;
				r = AMTP_E_PARSE;
				if (ov->amt_version != NULL &&
				    !valid_version(ov->amt_version)) {
					(void)snprintf(err, errlen, "%s: "
					    "overrides[%zu]: bad amt_version",
					    path, i);
					goto out;
				}
			}
		} else {
			(void)snprintf(err, errlen, "%s: unknown key \"%s\"",
			    path, key);
			goto out;
		}
	}
	r = 0;
 out:
	free(list);
	json_decref(o);
	explicit_bzero(&je, sizeof(je));	/* it may quote a password */
	return r;
}

int
amtsim_fleet_exists(const char *dir)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, FLEET_FILE) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &st) == 0;
}

static const struct amtsim_override *
find_override(const struct amtsim_fleet_desc *desc, unsigned index)
{
	size_t i;

	for (i = 0; i < desc->noverrides; i++)
		if (desc->overrides[i].index == index)
			return &desc->overrides[i];
	return NULL;
}

/* Flushes every file of the folder's file system, then the folder. */
static int
sync_dir(const char *dir)
{
	int fd, r = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return AMTP_E_IO;
	if (syncfs(fd) == -1 || fsync(fd) == -1)
		r = AMTP_E_IO;
	(void)close(fd);
	return r;
}

int
amtsim_fleet_create(const char *dir, const struct amtsim_fleet_desc *desc,
    int no_fsync, char *err, size_t errlen)
{
	struct amtsim_fleet_ctx ctx;
	struct amtsim_device_spec spec;
	const struct amtsim_override *ov;
	struct amtsim_device *d = NULL;
	char path[4096], addr[32];
	json_t *o = NULL;
	char *text = NULL;
	unsigned i;
	int r;

	if (desc->count < 1 || desc->count > AMTP_SIM_DEVICES_MAX) {
		(void)snprintf(err, errlen, "device count must be 1..%d",
		    AMTP_SIM_DEVICES_MAX);
		return AMTP_E_RANGE;
	}
	if ((uint64_t)desc->first_address + desc->count - 1 > UINT32_MAX) {
		(void)snprintf(err, errlen, "%u devices from that address run "
		    "past 255.255.255.255", desc->count);
		return AMTP_E_RANGE;
	}
	for (i = 0; i < desc->noverrides; i++)
		if (desc->overrides[i].index > desc->count) {
			(void)snprintf(err, errlen, "override for device %u, "
			    "but the fleet has %u", desc->overrides[i].index,
			    desc->count);
			return AMTP_E_RANGE;
		}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		(void)snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return AMTP_E_IO;
	}
	if (amtsim_fleet_exists(dir)) {
		(void)snprintf(err, errlen, "%s already holds a fleet", dir);
		return AMTP_E_EXISTS;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = dir;
	/* One sync for the whole folder below instead of two fsyncs per
	 * device: until fleet.json exists nothing here counts as a fleet. */
	ctx.no_fsync = 1;
	for (i = 1; i <= desc->count; i++) {
		ov = find_override(desc, i);
		memset(&spec, 0, sizeof(spec));
		spec.index = i;
		spec.amt_version = desc->nversions > 0 ?
		    desc->versions[(i - 1) % desc->nversions] : DEFAULT_VERSION;
		spec.ipv4 = desc->first_address + (i - 1);
		spec.wireless = desc->wireless_every > 0 &&
		    i % desc->wireless_every == 0;
		spec.dhcp_dns_suffix = desc->dns_suffix != NULL ?
		    desc->dns_suffix : "";
		spec.pki_dns_suffix = desc->pki_dns_suffix != NULL ?
		    desc->pki_dns_suffix : spec.dhcp_dns_suffix;
		spec.mebx_password = desc->mebx_password;
		spec.extra_hashes = desc->roots;
		spec.nextra = desc->nroots;
		if (ov != NULL) {
			if (ov->amt_version != NULL)
				spec.amt_version = ov->amt_version;
			if (ov->wireless >= 0)
				spec.wireless = ov->wireless;
			if (ov->untrusted == 1)
				spec.nextra = 0;
			spec.otp_mismatch = ov->otp_mismatch == 1;
			if (ov->mebx_password != NULL)
				spec.mebx_password = ov->mebx_password;
			if (ov->dns_suffix != NULL) {
				spec.dhcp_dns_suffix = ov->dns_suffix;
				if (desc->pki_dns_suffix == NULL)
					spec.pki_dns_suffix = ov->dns_suffix;
			}
			if (ov->pki_dns_suffix != NULL)
				spec.pki_dns_suffix = ov->pki_dns_suffix;
		}
		if ((r = amtsim_device_create(&spec, NULL, &d)) != 0) {
			(void)snprintf(err, errlen, "device %u: %s", i,
			    r == AMTP_E_RANGE ? "bad AMT version, suffix or "
			    "password" : amtp_strerror(r));
			goto out;
		}
		amtsim_device_set_ctx(d, &ctx);
		if ((r = amtsim_device_save(d)) != 0) {
			(void)amtsim_device_flash_path(dir, i, path,
			    sizeof(path));
			(void)snprintf(err, errlen, "%s: cannot write: %s",
			    path, strerror(errno));
			goto out;
		}
		amtsim_device_free(d);
		d = NULL;
	}
	if (!no_fsync && (r = sync_dir(dir)) != 0) {
		(void)snprintf(err, errlen, "%s: sync: %s", dir,
		    strerror(errno));
		goto out;
	}
	amtsim_ipv4_format(desc->first_address, addr, sizeof(addr));
	if ((o = json_pack("{s:s, s:i, s:s}", "format", FLEET_FORMAT,
	    "devices", (int)desc->count, "first_address", addr)) == NULL ||
	    (text = json_dumps(o, JSON_INDENT(1))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, FLEET_FILE) >=
	    (int)sizeof(path)) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if ((r = amtp_write_file_atomic(path, text, strlen(text), 0600,
	    no_fsync)) != 0) {
		(void)snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	amtsim_device_free(d);
	free(text);
	json_decref(o);
	return r;
}

static int
read_count(const char *dir, unsigned *count, char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	char path[4096];
	json_error_t je;
	json_t *o = NULL, *v;
	char why[200];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, FLEET_FILE) >=
	    (int)sizeof(path))
		return AMTP_E_TOOBIG;
	if ((r = amtp_buf_load_file(path, AMTP_SIM_FLEET_FILE_MAX, &b)) != 0) {
		(void)snprintf(err, errlen, "%s: cannot read: %s", path,
		    amtp_strerror(r));
		goto out;
	}
	r = AMTP_E_PARSE;
	if ((o = json_loadb((const char *)amtp_buf_ptr(b), amtp_buf_len(b),
	    JSON_REJECT_DUPLICATES, &je)) == NULL) {
		amtsim_json_error(&je, why, sizeof(why));
		(void)snprintf(err, errlen, "%s: corrupt: line %d: %s", path,
		    je.line, why);
		goto out;
	}
	v = json_object_get(o, "devices");
	if (!json_is_string(json_object_get(o, "format")) ||
	    strcmp(json_string_value(json_object_get(o, "format")),
	    FLEET_FORMAT) != 0 || !json_is_integer(v) ||
	    json_integer_value(v) < 1 ||
	    json_integer_value(v) > AMTP_SIM_DEVICES_MAX) {
		(void)snprintf(err, errlen, "%s: not an amtsim fleet file",
		    path);
		goto out;
	}
	*count = (unsigned)json_integer_value(v);
	r = 0;
 out:
	json_decref(o);
	amtp_buf_free(b);
	return r;
}

/* Removes temporary flash files a killed amtsim left behind
 * (NNNN.json.tmp.PID from amtp_write_file_atomic()); the committed
 * NNNN.json next to each is the device's state. */
static void
remove_stale_temps(const char *dir)
{
	char path[4096];
	struct dirent *e;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strstr(e->d_name, ".json.tmp.") == NULL)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			continue;
		if (unlink(path) == 0)
			log_info("%s: removed a write cut short by a kill", path);
	}
	(void)closedir(dp);
}

int
amtsim_fleet_open(const char *dir, const struct amtsim_fleet_ctx *tmpl,
    struct amtsim_fleet **out, char *err, size_t errlen)
{
	struct amtsim_fleet *f = NULL;
	struct amtsim_device *d;
	unsigned i;
	int r;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return AMTP_E_NOMEM;
	f->ctx = *tmpl;
	if ((f->dir = strdup(dir)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	f->ctx.dir = f->dir;
	if ((r = read_count(dir, &f->count, err, errlen)) != 0)
		goto out;
	remove_stale_temps(dir);
	if ((f->devs = calloc(f->count, sizeof(*f->devs))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 1; i <= f->count; i++) {
		if ((r = amtsim_device_load(&f->ctx, i, f, &f->devs[i - 1],
		    err, errlen)) != 0)
			goto out;
	}
	for (i = 0; i < f->count; i++) {
		d = f->devs[i];
		if (d->state == AMTSIM_IN && (int64_t)time(NULL) >=
		    d->prov_deadline)
			(void)amtsim_device_event(d, AMTSIM_EV_PERIOD_EXPIRED,
			    0);
		else
			amtsim_device_arm_period(d);
	}
	*out = f;
	f = NULL;
	r = 0;
 out:
	amtsim_fleet_free(f);
	return r;
}

int
amtsim_fleet_listen(struct amtsim_fleet *f, char *err, size_t errlen)
{
	char path[4096];
	unsigned i;
	int r;

	for (i = 1; i <= f->count; i++) {
		if ((r = amtsim_device_mei_path(f->dir, i, path,
		    sizeof(path))) != 0 ||
		    (r = amtsim_meisrv_start(f->devs[i - 1], f->ctx.loop,
		    path)) != 0) {
			(void)snprintf(err, errlen, "%s: cannot listen: %s%s",
			    path, r == AMTP_E_INVAL ? "path too long for a "
			    "Unix socket" : amtp_strerror(r),
			    r == AMTP_E_IO ? " (too many open files? raise "
			    "ulimit -n)" : "");
			return r;
		}
	}
	return 0;
}

struct amtsim_device *
amtsim_fleet_device(struct amtsim_fleet *f, unsigned index)
{
	if (index < 1 || index > f->count)
		return NULL;
	return f->devs[index - 1];
}

void
amtsim_fleet_free(struct amtsim_fleet *f)
{
	unsigned i;

	if (f == NULL)
		return;
	for (i = 0; f->devs != NULL && i < f->count; i++) {
		if (f->devs[i] == NULL)
			continue;
		amtsim_meisrv_stop(f->devs[i]);
		amtsim_device_free(f->devs[i]);
	}
	free(f->devs);
	free(f->dir);
	free(f);
}
