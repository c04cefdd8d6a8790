/*
 * amtprov - methods.c: the WS-Management methods of a simulated AMT device
 * (amtsim), with the return codes of spec 5.4 (PT_STATUS numbers, or the
 * CIM numbers of RequestStateChange).  Each method reads its _INPUT,
 * changes the flash state (ws.c saves it before answering when c->save is
 * set and ReturnValue is 0) and fills its _OUTPUT.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/rand.h"
#include "amtprov/str.h"
#include "device.h"
#include "simnet.h"

/* PT_STATUS values used here (spec 1.3). */
#define ST_OK			0
#define ST_INTERNAL		1
#define ST_INVALID_NAME		12
#define ST_NOT_PERMITTED	16
#define ST_MAX_LIMIT		23
#define ST_INVALID_PARAM	36
#define ST_INVALID_HANDLE	2053
#define ST_INVALID_PASSWORD	2054
#define ST_INVALID_REALM	2055
#define ST_DATA_MISSING		2057
#define ST_DUPLICATE		2058
#define ST_INVALID_KEY		2062
#define ST_INVALID_CERT		2063
#define ST_CERT_KEY_NOT_MATCH	2064
#define ST_UNSUPPORTED		2066
#define ST_INVALID_PRIORITY	2067
#define ST_NOT_FOUND		2068
#define ST_INVALID_PASSPHRASE	2070
/* CIM RequestStateChange. */
#define CIM_INVALID_PARAM	5

#define CERT_ID		"Intel(r) AMT Certificate: Handle: "
#define KEY_ID		"Intel(r) AMT Key: Handle: "

/* ---- helpers for ws.c's calls ---- */

void
simnet_out(struct simnet_call *c, const char *name, const char *text)
{
	if (c->nout + 1 >= SIMNET_OUT_MAX || text == NULL)
		return;
	c->out[c->nout].name = name;
	c->out[c->nout].text = text;
	c->nout++;
}

void
simnet_outf(struct simnet_call *c, const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	simnet_out(c, name, simnet_strdup(c->x->a, buf));
}

void
simnet_out_epr(struct simnet_call *c, const char *name, const char *cls,
    const char *selname, const char *selval)
{
	struct amtp_wsman_epr *e;
	struct amtp_wsman_selector *s;

	if (c->nout + 1 >= SIMNET_OUT_MAX ||
	    (e = simnet_alloc(c->x->a, sizeof(*e))) == NULL ||
	    (s = simnet_alloc(c->x->a, sizeof(*s))) == NULL) {
		c->fault = SF_INTERNAL;
		return;
	}
	e->resource_uri = simnet_printf(c->x->a, "%s%s", AMTP_WSMAN_URI_AMT,
	    cls);
	s->name = selname;
	s->value = simnet_strdup(c->x->a, selval);
	e->selectors = s;
	e->nselectors = 1;
	c->out[c->nout].name = name;
	c->out[c->nout].epr = e;
	c->nout++;
}

const char *
simnet_in(const struct simnet_call *c, const char *name)
{
	return amtp_wsman_obj_text(c->in, name);
}

const char *
simnet_in_epr_sel(const struct simnet_call *c, const char *name,
    const char *selname)
{
	const struct amtp_wsman_prop *p = amtp_wsman_obj_prop(c->in, name, 0);

	return p != NULL && p->epr != NULL ?
	    amtp_wsman_epr_selector(p->epr, selname) : NULL;
}

static int
in_int(const struct simnet_call *c, const char *name, long long lo,
    long long hi, long long *v)
{
	const char *t = simnet_in(c, name);

	return t != NULL && amtp_parse_int(t, lo, hi, v) == 0;
}

int
simnet_decode_ha1(const char *s, uint8_t ha1[16])
{
	struct amtp_buf *b;
	int r = AMTP_E_PARSE;

	if (s == NULL)
		return AMTP_E_PARSE;
	if (strlen(s) == 32)
		return amtp_hex_decode(s, 32, ha1, 16);
	if ((b = amtp_buf_new(strlen(s) + 16)) == NULL)
		return AMTP_E_NOMEM;
	if (amtp_b64_decode(b, s, strlen(s)) == 0 && amtp_buf_len(b) == 16) {
		memcpy(ha1, amtp_buf_ptr(b), 16);
		r = 0;
	}
	amtp_buf_free(b);
	return r;
}

static json_t *
tls_settings(struct simnet_ctx *x, const char *id)
{
	json_t *arr, *e;
	size_t i;

	arr = json_object_get(json_object_get(x->root, "inst"),
	    "AMT_TLSSettingData");
	json_array_foreach(arr, i, e)
		if (strcmp(simnet_str(e, "InstanceID", ""), id) == 0)
			return e;
	return NULL;
}

int
simnet_tls_enabled(struct amtsim_device *d)
{
	return simnet_int(json_object_get(simnet_flash(d), "tls_active"),
	    "enabled", 0) != 0;
}

int
simnet_accept_non_secure(struct amtsim_device *d)
{
	return simnet_int(json_object_get(simnet_flash(d), "tls_active"),
	    "accept_non_secure", 1) != 0;
}

/* TLS settings take effect at CommitChanges (spec 5.4). */
static void
apply_tls(struct simnet_ctx *x)
{
	json_t *s = tls_settings(x, "Intel(r) AMT 802.3 TLS Settings");

	(void)json_object_set_new(x->root, "tls_active", json_pack(
	    "{sbsbsb}", "enabled", strcmp(simnet_str(s, "Enabled", ""),
	    "true") == 0, "accept_non_secure", strcmp(simnet_str(s,
	    "AcceptNonSecureConnections", "true"), "true") == 0, "mutual",
	    strcmp(simnet_str(s, "MutualAuthentication", ""), "true") == 0));
	x->after = SIMNET_AFTER_RELOAD;
}

/* ---- AMT_SetupAndConfigurationService ---- */

static void
m_commit(struct simnet_call *c)
{
	struct amtsim_device *d = c->x->d;

	if (d->state == AMTSIM_IN) {
		/* An admin password must be set first. */
		if (json_object_get(c->x->root, "admin") == NULL) {
			c->rv = ST_DATA_MISSING;
			return;
		}
		apply_tls(c->x);
		c->rv = amtsim_device_event(d, AMTSIM_EV_COMMIT,
		    AMTP_AMT_CONTROL_ACM);
		if (c->rv == 0)
			log_info("dev %u: provisioned (CommitChanges)",
			    d->index);
		return;
	}
	if (d->state != AMTSIM_POST) {
		c->rv = ST_NOT_PERMITTED;
		return;
	}
	apply_tls(c->x);
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_set_mebx(struct simnet_call *c)
{
	struct amtsim_device *d = c->x->d;
	const char *pw = simnet_in(c, "Password");

	if (d->state != AMTSIM_IN) {
		c->rv = ST_NOT_PERMITTED;
		return;
	}
	if (pw == NULL || !amtp_password_is_strong(pw, strlen(pw))) {
		c->rv = ST_INVALID_PASSWORD;
		return;
	}
	(void)amtp_strlcpy(d->mebx_password, pw, sizeof(d->mebx_password));
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_unprovision(struct simnet_call *c)
{
	long long mode;

	if (!in_int(c, "ProvisioningMode", 0, 4, &mode) || (mode != 1 &&
	    mode != 4 && mode != 0)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	c->rv = amtsim_device_event(c->x->d, AMTSIM_EV_UNPROVISION, 0);
	if (c->rv == AMTP_AMT_STATUS_INVALID_AMT_MODE)
		c->rv = ST_NOT_PERMITTED;
	if (c->rv == 0) {
		log_info("dev %u: unprovisioned over the network",
		    c->x->d->index);
		c->x->after = SIMNET_AFTER_STOP;
	}
}

static void
m_get_uuid(struct simnet_call *c)
{
	struct amtp_buf *b;

	if ((b = amtp_buf_new(64)) == NULL ||
	    amtp_b64_encode(b, c->x->d->uuid, 16) != 0) {
		amtp_buf_free(b);
		c->fault = SF_INTERNAL;
		return;
	}
	simnet_out(c, "UUID", simnet_strdup(c->x->a, amtp_buf_str(b)));
	amtp_buf_free(b);
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_setup[] = {
	{ "CommitChanges", m_commit, 0 },
	{ "GetUuid", m_get_uuid, 0 },
	{ "SetMEBxPassword", m_set_mebx, 1 },
	{ "Unprovision", m_unprovision, 0 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_TimeSynchronizationService ---- */

static long long
amt_time(struct simnet_ctx *x)
{
	return (long long)time(NULL) + simnet_int(x->root, "time_offset", 0);
}

static void
m_get_time(struct simnet_call *c)
{
	simnet_outf(c, "Ta0", "%lld", amt_time(c->x));
	c->rv = ST_OK;
}

static void
m_set_time(struct simnet_call *c)
{
	long long ta0, tm1, tm2;

	if (!in_int(c, "Ta0", 0, UINT32_MAX, &ta0) ||
	    !in_int(c, "Tm1", 0, UINT32_MAX, &tm1) ||
	    !in_int(c, "Tm2", 0, UINT32_MAX, &tm2) || tm1 > tm2 ||
	    ta0 > amt_time(c->x)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	/* AMT's clock becomes the server's: Tm2 plus the time since the
	 * server's Tm2 (taken as now). */
	(void)json_object_set_new(c->x->root, "time_offset",
	    json_integer(tm2 - (long long)time(NULL)));
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_time[] = {
	{ "GetLowAccuracyTimeSynch", m_get_time, 0 },
	{ "SetHighAccuracyTimeSynch", m_set_time, 1 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_PublicKeyManagementService ---- */

static struct amtp_buf *
b64_in(const struct simnet_call *c, const char *name)
{
	const char *t = simnet_in(c, name);
	struct amtp_buf *b;

	if (t == NULL || (b = amtp_buf_new(strlen(t) + 16)) == NULL)
		return NULL;
	if (amtp_b64_decode(b, t, strlen(t)) != 0 || amtp_buf_len(b) == 0) {
		amtp_buf_free(b);
		return NULL;
	}
	return b;
}

static char *
b64_of(struct simnet_arena *a, const void *p, size_t n)
{
	struct amtp_buf *b;
	char *s = NULL;

	if ((b = amtp_buf_new(n * 2 + 16)) == NULL)
		return NULL;
	if (amtp_b64_encode(b, p, n) == 0)
		s = simnet_strdup(a, amtp_buf_str(b));
	amtp_buf_free(b);
	return s;
}

static char *
name_text(struct simnet_arena *a, const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long len;

	if (b == NULL)
		return NULL;
	/* "C=..,O=..,CN=.." in certificate order, as AMT shows it. */
	if (X509_NAME_print_ex(b, n, 0, (XN_FLAG_SEP_COMMA_PLUS |
	    ASN1_STRFLGS_RFC2253) & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) >= 0) {
		if ((s = simnet_alloc(a, (size_t)len + 1)) != NULL) {
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

static void
add_cert(struct simnet_call *c, int root)
{
	struct amtp_buf *b = b64_in(c, "CertificateBlob");
	json_t *certs = simnet_arr(c->x->root, "certs"), *e;
	const char *der64;
	char *id;
	X509 *x = NULL;
	size_t i, used;
	int h;

	c->rv = ST_INVALID_CERT;
	if (b == NULL)
		goto out;
	if ((x = simnet_x509_parse(amtp_buf_ptr(b), amtp_buf_len(b),
	    &used)) == NULL || used != amtp_buf_len(b))
		goto out;
	if (root && X509_check_issued(x, x) != X509_V_OK)
		goto out;
	der64 = b64_of(c->x->a, amtp_buf_ptr(b), amtp_buf_len(b));
	c->rv = ST_INTERNAL;
	if (der64 == NULL || certs == NULL)
		goto out;
	json_array_foreach(certs, i, e)
		if (strcmp(simnet_str(e, "der", ""), der64) == 0) {
			c->rv = ST_DUPLICATE;
			goto out;
		}
	if (json_array_size(certs) >= AMTP_SIM_NET_CERTS_MAX) {
		c->rv = ST_MAX_LIMIT;
		goto out;
	}
	if ((h = simnet_next_handle(c->x->root, "cert")) < 0)
		goto out;
	if (json_array_append_new(certs, json_pack("{sisssbssss}", "handle",
	    h, "der", der64, "root", root, "issuer",
	    name_text(c->x->a, X509_get_issuer_name(x)), "subject",
	    name_text(c->x->a, X509_get_subject_name(x)))) != 0)
		goto out;
	id = simnet_printf(c->x->a, CERT_ID "%d", h);
	simnet_out_epr(c, "CreatedCertificate", "AMT_PublicKeyCertificate",
	    "InstanceID", id);
	c->save = 1;
	c->rv = ST_OK;
 out:
	ERR_clear_error();
	X509_free(x);
	amtp_buf_free(b);
}

static void
m_add_cert(struct simnet_call *c)
{
	add_cert(c, 0);
}

static void
m_add_root(struct simnet_call *c)
{
	add_cert(c, 1);
}

/* PKCS#1 RSAPublicKey DER in base64 (AMT's DERKey). */
static char *
pub_b64(struct simnet_arena *a, EVP_PKEY *k)
{
	unsigned char *der = NULL;
	char *s;
	int n;

	if ((n = i2d_PublicKey(k, &der)) <= 0)
		return NULL;
	s = b64_of(a, der, (size_t)n);
	OPENSSL_free(der);
	return s;
}

static char *
key_pem(struct simnet_arena *a, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p, *s = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = simnet_alloc(a, (size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

/* Stores k; 0 or a PT_STATUS. */
static long long
store_key(struct simnet_call *c, EVP_PKEY *k, const char *outname)
{
	json_t *keys = simnet_arr(c->x->root, "keys"), *e;
	char *pub, *pem;
	size_t i;
	int h;

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return ST_INVALID_KEY;
	if ((pub = pub_b64(c->x->a, k)) == NULL ||
	    (pem = key_pem(c->x->a, k)) == NULL || keys == NULL)
		return ST_INTERNAL;
	json_array_foreach(keys, i, e)
		if (strcmp(simnet_str(e, "pub", ""), pub) == 0)
			return ST_DUPLICATE;
	if (json_array_size(keys) >= AMTP_SIM_NET_KEYS_MAX)
		return ST_MAX_LIMIT;
	if ((h = simnet_next_handle(c->x->root, "key")) < 0 ||
	    json_array_append_new(keys, json_pack("{sissss}", "handle", h,
	    "key", pem, "pub", pub)) != 0)
		return ST_INTERNAL;
	explicit_bzero(pem, strlen(pem));
	simnet_out_epr(c, outname, "AMT_PublicPrivateKeyPair", "InstanceID",
	    simnet_printf(c->x->a, KEY_ID "%d", h));
	c->save = 1;
	return ST_OK;
}

static void
m_add_key(struct simnet_call *c)
{
	struct amtp_buf *b = b64_in(c, "KeyBlob");
	const unsigned char *p;
	EVP_PKEY *k = NULL;

	c->rv = ST_INVALID_KEY;
	if (b != NULL) {
		p = amtp_buf_ptr(b);
		if ((k = d2i_AutoPrivateKey(NULL, &p,
		    (long)amtp_buf_len(b))) != NULL)
			c->rv = store_key(c, k, "CreatedKey");
	}
	ERR_clear_error();
	EVP_PKEY_free(k);
	amtp_buf_free(b);
}

static void
m_gen_key(struct simnet_call *c)
{
	struct amtsim_net *net = c->x->sd->net;
	EVP_PKEY *k = NULL;
	const char *pub;
	json_t *keys;
	long long alg, len;

	if (!in_int(c, "KeyAlgorithm", 0, 255, &alg) ||
	    !in_int(c, "KeyLength", 0, 65535, &len)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	if (alg != 0 || len != AMTP_RSA_AMT_BITS) {
		c->rv = ST_UNSUPPORTED;
		return;
	}
	if (simnet_key_take(net, &k) != 0) {
		c->rv = ST_INTERNAL;
		return;
	}
	c->rv = store_key(c, k, "KeyPair");
	if (c->rv == ST_OK && c->x->sd != NULL) {
		EVP_PKEY_free(c->x->sd->key_cache);
		c->x->sd->key_cache = k;
		k = NULL;
		/* its "pub" as stored (store_key appends): find_key and TLS
		 * match keys by it, and OpenSSL 3's encoder is slow */
		keys = json_object_get(c->x->root, "keys");
		pub = simnet_str(json_array_get(keys, json_array_size(keys) -
		    1), "pub", NULL);
		free(c->x->sd->key_cache_pub);
		c->x->sd->key_cache_pub = pub != NULL ? strdup(pub) : NULL;
	}
	EVP_PKEY_free(k);
	if (net != NULL && simnet_faults_for(&net->opts.faults,
	    c->x->d->index))
		c->x->delay_ms += net->opts.faults.keygen_ms;
}

static EVP_PKEY *
find_key(struct simnet_ctx *x, const char *id)
{
	const char *pem, *pub;
	EVP_PKEY *k = NULL;
	json_t *e;
	long long h;
	size_t i;
	BIO *b;

	if (id == NULL || strncmp(id, KEY_ID, sizeof(KEY_ID) - 1) != 0 ||
	    amtp_parse_int(id + sizeof(KEY_ID) - 1, 0, INT32_MAX, &h) != 0)
		return NULL;
	json_array_foreach(json_object_get(x->root, "keys"), i, e) {
		if (simnet_int(e, "handle", -1) != h ||
		    (pem = simnet_str(e, "key", NULL)) == NULL)
			continue;
		/* The key GenerateKeyPair made last, when it is this one:
		 * OpenSSL 3's PEM decoding is the costly part here. */
		if (x->sd != NULL && x->sd->key_cache != NULL &&
		    (pub = x->sd->key_cache_pub) != NULL &&
		    strcmp(pub, simnet_str(e, "pub", "")) == 0 &&
		    EVP_PKEY_up_ref(x->sd->key_cache) == 1) {
			k = x->sd->key_cache;
			break;
		}
		if ((b = BIO_new_mem_buf(pem, -1)) != NULL) {
			k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
			BIO_free(b);
		}
		break;
	}
	ERR_clear_error();
	return k;
}

static void
m_pkcs10(struct simnet_call *c)
{
	struct amtp_buf *b = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *k = NULL, *rk;
	long long alg;
	int n;

	c->rv = ST_INVALID_PARAM;
	if (!in_int(c, "SigningAlgorithm", 0, 1, &alg))
		goto out;
	if ((k = find_key(c->x, simnet_in_epr_sel(c, "KeyPair",
	    "InstanceID"))) == NULL) {
		c->rv = ST_NOT_FOUND;
		goto out;
	}
	if ((b = b64_in(c, "NullSignedCertificateRequest")) == NULL)
		goto out;
	p = amtp_buf_ptr(b);
	if ((req = d2i_X509_REQ(NULL, &p, (long)amtp_buf_len(b))) == NULL)
		goto out;
	/* The request must carry the key pair's public key. */
	if ((rk = X509_REQ_get0_pubkey(req)) == NULL ||
	    EVP_PKEY_eq(rk, k) != 1) {
		c->rv = ST_CERT_KEY_NOT_MATCH;
		goto out;
	}
	c->rv = ST_INTERNAL;
	if (X509_REQ_sign(req, k, alg == 0 ? EVP_sha1() : EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	simnet_out(c, "SignedCertificateRequest", b64_of(c->x->a, der,
	    (size_t)n));
	c->rv = ST_OK;
 out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	amtp_buf_free(b);
}

const struct simnet_method simnet_m_pkm[] = {
	{ "AddCertificate", m_add_cert, 1 },
	{ "AddKey", m_add_key, 1 },
	{ "AddTrustedRootCertificate", m_add_root, 1 },
	{ "GenerateKeyPair", m_gen_key, 1 },
	{ "GeneratePKCS10RequestEx", m_pkcs10, 0 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_AuthorizationService ---- */

static int
valid_user(const char *u)
{
	size_t n = u != NULL ? strlen(u) : 0, i;

	if (n == 0 || n > 16)
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] > '~' || u[i] == ':' || u[i] == '"' ||
		    u[i] == ',')
			return 0;
	return 1;
}

static const char *
admin_user(struct simnet_ctx *x)
{
	return simnet_str(json_object_get(x->root, "admin"), "user", "admin");
}

static void
m_set_admin(struct simnet_call *c)
{
	const char *u = simnet_in(c, "Username");
	uint8_t ha1[16];
	char hex[33];

	if (!valid_user(u)) {
		c->rv = ST_INVALID_NAME;
		return;
	}
	if (simnet_decode_ha1(simnet_in(c, "DigestPassword"), ha1) != 0) {
		c->rv = ST_INVALID_PASSWORD;
		return;
	}
	(void)amtp_hex_encode(hex, sizeof(hex), ha1, 16, 0);
	(void)json_object_set_new(c->x->root, "admin", json_pack("{ssss}",
	    "user", u, "ha1", hex));
	explicit_bzero(ha1, sizeof(ha1));
	explicit_bzero(hex, sizeof(hex));
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_get_admin(struct simnet_call *c)
{
	simnet_out(c, "Username", admin_user(c->x));
	c->rv = ST_OK;
}

static void
m_admin_status(struct simnet_call *c)
{
	simnet_out(c, "IsDefault", json_object_get(c->x->root, "admin") ==
	    NULL ? "true" : "false");
	c->rv = ST_OK;
}

static json_t *
user_by_handle(struct simnet_call *c, size_t *idx)
{
	json_t *e;
	long long h;
	size_t i;

	if (!in_int(c, "Handle", 0, INT32_MAX, &h))
		return NULL;
	json_array_foreach(json_object_get(c->x->root, "users"), i, e)
		if (simnet_int(e, "handle", -1) == h) {
			*idx = i;
			return e;
		}
	return NULL;
}

/* Checks the entry's fields into a new object; 0 or a PT_STATUS. */
static long long
user_fields(struct simnet_call *c, json_t *skip, json_t **out)
{
	const char *u = simnet_in(c, "DigestUsername");
	const char *sid = simnet_in(c, "KerberosUserSid");
	const struct amtp_wsman_prop *p;
	json_t *o, *realms, *e;
	uint8_t ha1[16];
	char hex[33];
	long long acc, rv;
	size_t i, n;

	*out = NULL;
	if (u != NULL && u[0] == '\0')
		u = NULL;
	if (sid != NULL && sid[0] == '\0')
		sid = NULL;	/* go-wsman-messages sends it empty */
	if ((u == NULL) == (sid == NULL))
		return ST_INVALID_PARAM;
	if (!in_int(c, "AccessPermission", 0, 2, &acc))
		return ST_INVALID_PARAM;
	if ((o = json_object()) == NULL || (realms = json_array()) == NULL) {
		json_decref(o);
		return ST_INTERNAL;
	}
	(void)json_object_set_new(o, "realms", realms);
	(void)json_object_set_new(o, "access", json_integer(acc));
	rv = ST_INVALID_NAME;
	if (u != NULL) {
		if (!valid_user(u) || strcmp(u, admin_user(c->x)) == 0)
			goto bad;
		rv = ST_DUPLICATE;
		json_array_foreach(json_object_get(c->x->root, "users"), i, e)
			if (e != skip && strcmp(simnet_str(e, "user", ""), u) ==
			    0)
				goto bad;
		rv = ST_INVALID_PASSWORD;
		if (simnet_decode_ha1(simnet_in(c, "DigestPassword"), ha1) != 0)
			goto bad;
		(void)amtp_hex_encode(hex, sizeof(hex), ha1, 16, 0);
		explicit_bzero(ha1, sizeof(ha1));
		(void)json_object_set_new(o, "user", json_string(u));
		(void)json_object_set_new(o, "ha1", json_string(hex));
		explicit_bzero(hex, sizeof(hex));
	} else {
		if (strlen(sid) > 128)
			goto bad;
		(void)json_object_set_new(o, "sid", json_string(sid));
	}
	/* Realms: a list of RealmValue (go-wsman-messages) or Realms
	 * repeated; 2..21 and 24 are real realms. */
	n = amtp_wsman_obj_count(c->in, "Realms");
	rv = ST_INVALID_REALM;
	for (i = 0; i < n; i++) {
		long long v;
		const struct amtp_wsman_obj *ro;
		size_t k, m;

		p = amtp_wsman_obj_prop(c->in, "Realms", i);
		ro = p->obj;
		m = ro != NULL ? amtp_wsman_obj_count(ro, "RealmValue") : 1;
		for (k = 0; k < m; k++) {
			const char *t = ro != NULL ? amtp_wsman_obj_prop(ro,
			    "RealmValue", k)->text : p->text;

			if (t == NULL || amtp_parse_int(t, 2, 24, &v) != 0 ||
			    v == 22 || v == 23)
				goto bad;
			(void)json_array_append_new(realms, json_integer(v));
		}
	}
	if (json_array_size(realms) == 0)
		goto bad;
	*out = o;
	return ST_OK;
 bad:
	json_decref(o);
	return rv;
}

static void
m_add_user(struct simnet_call *c)
{
	json_t *users = simnet_arr(c->x->root, "users"), *o = NULL;
	int h;

	if ((c->rv = user_fields(c, NULL, &o)) != ST_OK)
		return;
	if (json_array_size(users) >= AMTP_SIM_NET_USERS_MAX) {
		json_decref(o);
		c->rv = ST_MAX_LIMIT;
		return;
	}
	if ((h = simnet_next_handle(c->x->root, "user")) < 0) {
		json_decref(o);
		c->rv = ST_INTERNAL;
		return;
	}
	/* AMT's handles start at 1. */
	(void)json_object_set_new(o, "handle", json_integer(h + 1));
	(void)json_array_append_new(users, o);
	simnet_outf(c, "Handle", "%d", h + 1);
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_update_user(struct simnet_call *c)
{
	json_t *e, *o = NULL;
	size_t idx;

	if ((e = user_by_handle(c, &idx)) == NULL) {
		c->rv = ST_INVALID_HANDLE;
		return;
	}
	if ((c->rv = user_fields(c, e, &o)) != ST_OK)
		return;
	(void)json_object_set_new(o, "handle", json_integer(simnet_int(e,
	    "handle", 0)));
	(void)json_array_set_new(json_object_get(c->x->root, "users"), idx, o);
	c->save = 1;
}

static void
m_remove_user(struct simnet_call *c)
{
	size_t idx;

	if (user_by_handle(c, &idx) == NULL) {
		c->rv = ST_INVALID_HANDLE;
		return;
	}
	(void)json_array_remove(json_object_get(c->x->root, "users"), idx);
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_get_user(struct simnet_call *c)
{
	json_t *e, *r;
	size_t idx, i;

	if ((e = user_by_handle(c, &idx)) == NULL) {
		c->rv = ST_INVALID_HANDLE;
		return;
	}
	if (simnet_str(e, "user", NULL) != NULL)
		simnet_out(c, "DigestUsername", simnet_str(e, "user", NULL));
	else
		simnet_out(c, "KerberosUserSid", simnet_str(e, "sid", ""));
	simnet_outf(c, "AccessPermission", "%lld", simnet_int(e, "access", 0));
	json_array_foreach(json_object_get(e, "realms"), i, r)
		simnet_outf(c, "Realms", "%lld", (long long)
		    json_integer_value(r));
	c->rv = ST_OK;
}

/* Pages of 50 handles from StartIndex (1-based); paging unconfirmed. */
static void
m_enum_users(struct simnet_call *c)
{
	json_t *users = json_object_get(c->x->root, "users");
	long long start;
	size_t i, n = 0, total = json_array_size(users);

	if (!in_int(c, "StartIndex", 1, INT32_MAX, &start)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	simnet_outf(c, "TotalCount", "%zu", total);
	for (i = (size_t)start - 1; i < total && n < 50; i++)
		n++;
	simnet_outf(c, "HandlesCount", "%zu", n);
	for (i = (size_t)start - 1; i < total && n > 0; i++, n--)
		simnet_outf(c, "Handles", "%lld", simnet_int(json_array_get(
		    users, i), "handle", 0));
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_auth[] = {
	{ "AddUserAclEntryEx", m_add_user, 1 },
	{ "EnumerateUserAclEntries", m_enum_users, 0 },
	{ "GetAdminAclEntry", m_get_admin, 0 },
	{ "GetAdminAclEntryStatus", m_admin_status, 0 },
	{ "GetAdminNetAclEntryStatus", m_admin_status, 0 },
	{ "GetUserAclEntryEx", m_get_user, 0 },
	{ "RemoveUserAclEntry", m_remove_user, 1 },
	{ "SetAdminAclEntryEx", m_set_admin, 1 },
	{ "UpdateUserAclEntryEx", m_update_user, 1 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_KerberosSettingData ---- */

static void
m_get_ccache(struct simnet_call *c)
{
	simnet_out(c, "Enabled", simnet_int(c->x->root, "cred_cache", 0) ?
	    "true" : "false");
	c->rv = ST_OK;
}

static void
m_set_ccache(struct simnet_call *c)
{
	const char *v = simnet_in(c, "Enabled");

	if (v == NULL || (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	(void)json_object_set_new(c->x->root, "cred_cache",
	    json_boolean(strcmp(v, "true") == 0));
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_kerberos[] = {
	{ "GetCredentialCacheState", m_get_ccache, 0 },
	{ "SetCredentialCacheState", m_set_ccache, 1 },
	{ NULL, NULL, 0 }
};

/* ---- RequestStateChange (redirection, web UI, Wi-Fi port) ---- */

static void
m_redir_state(struct simnet_call *c)
{
	struct amtsim_device *d = c->x->d;
	long long v;

	if (!in_int(c, "RequestedState", 32768, 32771, &v)) {
		c->rv = CIM_INVALID_PARAM;
		return;
	}
	d->features.ider = (v & 1) != 0;
	d->features.sol = (v & 2) != 0;
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_redir[] = {
	{ "RequestStateChange", m_redir_state, 1 },
	{ NULL, NULL, 0 }
};

/* Web UI: 2 enabled, 3 disabled (CIM values; unconfirmed for AMT). */
static void
m_webui_state(struct simnet_call *c)
{
	long long v;

	if (!in_int(c, "RequestedState", 2, 3, &v)) {
		c->rv = CIM_INVALID_PARAM;
		return;
	}
	c->x->d->features.web_ui = v == 2;
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_webui[] = {
	{ "RequestStateChange", m_webui_state, 1 },
	{ NULL, NULL, 0 }
};

static void
m_wifiport_state(struct simnet_call *c)
{
	json_t *arr, *o;
	long long v;

	if (!in_int(c, "RequestedState", 3, 32769, &v) || (v != 3 &&
	    v != 32768 && v != 32769)) {
		c->rv = CIM_INVALID_PARAM;
		return;
	}
	arr = json_object_get(json_object_get(c->x->root, "inst"),
	    "CIM_WiFiPort");
	if ((o = json_array_get(arr, 0)) == NULL) {
		c->rv = CIM_INVALID_PARAM;
		return;
	}
	(void)json_object_set_new(o, "EnabledState", json_sprintf("%lld", v));
	(void)json_object_set_new(o, "RequestedState", json_sprintf("%lld",
	    v));
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_wifiport[] = {
	{ "RequestStateChange", m_wifiport_state, 1 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_SystemPowerScheme ---- */

static void
m_set_power(struct simnet_call *c)
{
	const char *id = amtp_wsman_epr_selector(&(struct amtp_wsman_epr){
	    NULL, NULL, c->x->req->selectors, c->x->req->nselectors },
	    "InstanceID");
	json_t *arr, *e;
	size_t i;

	arr = json_object_get(json_object_get(c->x->root, "inst"),
	    "AMT_SystemPowerScheme");
	json_array_foreach(arr, i, e)
		if (id != NULL && strcmp(simnet_str(e, "InstanceID", ""), id) ==
		    0) {
			(void)json_object_set_new(c->x->root, "power_scheme",
			    json_string(id));
			c->save = 1;
			c->rv = ST_OK;
			return;
		}
	c->fault = SF_INVALID_SELECTORS;
}

const struct simnet_method simnet_m_power[] = {
	{ "SetPowerScheme", m_set_power, 1 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_EthernetPortSettings ---- */

static void
m_link_pref(struct simnet_call *c)
{
	long long pref, to;

	if (!in_int(c, "LinkPreference", 1, 2, &pref) ||
	    !in_int(c, "Timeout", 0, 65535, &to)) {
		c->rv = ST_INVALID_PARAM;
		return;
	}
	if (!c->x->d->wireless) {
		c->rv = ST_UNSUPPORTED;
		return;
	}
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_ether[] = {
	{ "SetLinkPreference", m_link_pref, 0 },
	{ NULL, NULL, 0 }
};

/* ---- 802.1X certificate references ---- */

/*
 * The certificate a reference parameter names: -1 when the parameter is
 * absent; its handle when it names a stored certificate that is (root 1)
 * or is not (root 0) a trusted root; -2 otherwise (bad reference).
 */
static long long
cert_param(const struct simnet_call *c, const char *name, int root)
{
	const struct amtp_wsman_prop *p = amtp_wsman_obj_prop(c->in, name, 0);
	const char *id;
	json_t *e;
	long long h;
	size_t i;

	if (p == NULL)
		return -1;
	if (p->epr == NULL || (id = amtp_wsman_epr_selector(p->epr,
	    "InstanceID")) == NULL || strncmp(id, CERT_ID,
	    sizeof(CERT_ID) - 1) != 0 || amtp_parse_int(id +
	    sizeof(CERT_ID) - 1, 0, INT32_MAX, &h) != 0)
		return -2;
	json_array_foreach(json_object_get(c->x->root, "certs"), i, e)
		if (simnet_int(e, "handle", -1) == h)
			return !simnet_int(e, "root", 0) == !root ? h : -2;
	return -2;
}

/* ---- IPS_IEEE8021xSettings ---- */

/*
 * SetCertificates(ServerCertificateIssuer, ClientCertificate): links the
 * wired 802.1X settings to a trusted root (the RADIUS server's issuer) and
 * a client certificate; an absent parameter unlinks that side.  A
 * reference to no such certificate, or of the wrong kind: 36 (XXX the
 * status AMT returns is not in the public record).  The links show as
 * IPS_8021xCredentialContext (classes.c).
 */
static void
m_ips_set_certs(struct simnet_call *c)
{
	long long ca, client;
	json_t *arr, *o;

	c->rv = ST_INVALID_PARAM;
	if ((ca = cert_param(c, "ServerCertificateIssuer", 1)) == -2 ||
	    (client = cert_param(c, "ClientCertificate", 0)) == -2)
		return;
	if ((arr = simnet_class_instances(c->x, c->cls)) == NULL) {
		c->rv = ST_INTERNAL;
		return;
	}
	o = json_array_get(arr, 0);
	if (o == NULL || json_object_set_new(o, "_ca",
	    json_integer(ca)) != 0 || json_object_set_new(o, "_client",
	    json_integer(client)) != 0) {
		json_decref(arr);
		c->rv = ST_INTERNAL;
		return;
	}
	json_decref(arr);
	c->save = 1;
	c->rv = ST_OK;
}

const struct simnet_method simnet_m_ips8021x[] = {
	{ "SetCertificates", m_ips_set_certs, 1 },
	{ NULL, NULL, 0 }
};

/* ---- AMT_WiFiPortConfigurationService ---- */

static void
m_add_wifi(struct simnet_call *c)
{
	const struct amtp_wsman_prop *sp;
	const struct amtp_wsman_obj *s;
	json_t *arr, *e, *o;
	const char *name, *ssid, *psk;
	long long auth, enc, prio, client = -1, ca = -1;
	size_t i;

	sp = amtp_wsman_obj_prop(c->in, "WiFiEndpointSettingsInput", 0);
	c->rv = ST_INVALID_PARAM;
	if (sp == NULL || (s = sp->obj) == NULL)
		return;
	name = amtp_wsman_obj_text(s, "ElementName");
	ssid = amtp_wsman_obj_text(s, "SSID");
	psk = amtp_wsman_obj_text(s, "PSKPassPhrase");
	if (name == NULL || name[0] == '\0' || strlen(name) > 32 ||
	    ssid == NULL || ssid[0] == '\0' || strlen(ssid) > 32)
		return;
	if (amtp_wsman_obj_text(s, "AuthenticationMethod") == NULL ||
	    amtp_parse_int(amtp_wsman_obj_text(s, "AuthenticationMethod"), 1,
	    32769, &auth) != 0 || amtp_wsman_obj_text(s,
	    "EncryptionMethod") == NULL || amtp_parse_int(amtp_wsman_obj_text(
	    s, "EncryptionMethod"), 1, 5, &enc) != 0 ||
	    amtp_wsman_obj_text(s, "Priority") == NULL ||
	    amtp_parse_int(amtp_wsman_obj_text(s, "Priority"), 0, 255,
	    &prio) != 0)
		return;
	if (auth == 4 || auth == 6 || auth == 32768) {
		if (psk == NULL || strlen(psk) < 8 || strlen(psk) > 63) {
			c->rv = ST_INVALID_PASSPHRASE;
			return;
		}
	} else if (auth == 5 || auth == 7) {
		if (amtp_wsman_obj_prop(c->in, "IEEE8021xSettingsInput", 0) ==
		    NULL)
			return;
		/* the profile's certificates: CACredential a trusted root,
		 * ClientCredential a client certificate, both stored */
		if ((ca = cert_param(c, "CACredential", 1)) == -2 ||
		    (client = cert_param(c, "ClientCredential", 0)) == -2)
			return;
	} else if (auth != 2 && auth != 32769)
		return;
	arr = json_object_get(json_object_get(c->x->root, "inst"),
	    "CIM_WiFiEndpointSettings");
	if (arr == NULL) {
		arr = json_array();
		(void)json_object_set_new(simnet_obj(c->x->root, "inst"),
		    "CIM_WiFiEndpointSettings", arr);
	}
	json_array_foreach(arr, i, e) {
		if (strcmp(simnet_str(e, "ElementName", ""), name) == 0) {
			c->rv = ST_DUPLICATE;
			return;
		}
		if (simnet_int(e, "_prio", -1) == prio) {
			c->rv = ST_INVALID_PRIORITY;
			return;
		}
	}
	if (json_array_size(arr) >= AMTP_SIM_NET_WIFI_MAX) {
		c->rv = ST_MAX_LIMIT;
		return;
	}
	o = json_pack("{sssssssssssssssIss}", "AuthenticationMethod",
	    amtp_wsman_obj_text(s, "AuthenticationMethod"), "BSSType", "3",
	    "ElementName", name, "EncryptionMethod", amtp_wsman_obj_text(s,
	    "EncryptionMethod"), "InstanceID", simnet_printf(c->x->a,
	    "Intel(r) AMT:WiFi Endpoint Settings %s", name), "Priority",
	    amtp_wsman_obj_text(s, "Priority"), "SSID", ssid, "_prio",
	    (json_int_t)prio, "PSKPassPhrase", psk != NULL ? psk : "");
	/* the links (CIM_CredentialContext, classes.c); go with the
	 * profile when it is deleted */
	if (o != NULL && (json_object_set_new(o, "_ca", json_integer(ca)) != 0 ||
	    json_object_set_new(o, "_client", json_integer(client)) != 0)) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL || json_array_append_new(arr, o) != 0) {
		c->rv = ST_INTERNAL;
		return;
	}
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_del_it_profiles(struct simnet_call *c)
{
	json_t *arr = json_object_get(json_object_get(c->x->root, "inst"),
	    "CIM_WiFiEndpointSettings");

	if (arr != NULL)
		(void)json_array_clear(arr);
	c->save = 1;
	c->rv = ST_OK;
}

static void
m_del_user_profiles(struct simnet_call *c)
{
	c->rv = ST_OK;	/* user profiles are not simulated */
}

const struct simnet_method simnet_m_wificonf[] = {
	{ "AddWiFiSettings", m_add_wifi, 1 },
	{ "DeleteAllITProfiles", m_del_it_profiles, 1 },
	{ "DeleteAllUserProfiles", m_del_user_profiles, 0 },
	{ NULL, NULL, 0 }
};

/* ---- IPS_HostBasedSetupService ---- */

/*
 * Host-based setup runs over the local (LMS) path, which the simulator
 * does not offer; over 16992/16993 the device is in remote configuration
 * (IN) or provisioned, so these answer "invalid state" (Setup/AdminSetup/
 * UpgradeClientToAdmin: 2; AddNextCertInChain: 3).
 */
static void
m_hbs_state2(struct simnet_call *c)
{
	c->rv = 2;
}

static void
m_hbs_state3(struct simnet_call *c)
{
	c->rv = 3;
}

const struct simnet_method simnet_m_hbs[] = {
	{ "AddNextCertInChain", m_hbs_state3, 0 },
	{ "AdminSetup", m_hbs_state2, 0 },
	{ "Setup", m_hbs_state2, 0 },
	{ "UpgradeClientToAdmin", m_hbs_state2, 0 },
	{ NULL, NULL, 0 }
};
