/*
 * amtprov - digest.c: HTTP Digest (MD5, qop=auth) as Intel AMT does it
 * (spec/amt-facts.md 5.2), both sides (libamtp: the service point is the
 * client, the simulator the server).
 *
 * Header values are walked with a cursor and a maximum; every value is
 * copied into a fixed array of AMTP_DIGEST_VALUE_MAX bytes with a bounded
 * loop (after curl's lib/vauth/digest.c).  Server nonces are stateless until
 * they authenticate: 24 bytes = issue time (ms, big-endian) | 8 random bytes |
 * 8 bytes of HMAC-SHA256(key, time | random | realm), written as hex.  The
 * table of highest nc values only holds nonces that authenticated, so only a
 * client that knows a password can make it grow; it is bounded and evicts
 * the least recently used entry, and remembers the newest issue time it ever
 * evicted (the horizon): an unknown genuine nonce issued at or before the
 * horizon may have been used already and is answered as stale.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#define NONCE_RAW_LEN	24
#define NONCE_ID_LEN	16	/* time + random: the table key */
#define NONCE_MAC_LEN	8
#define KEY_LEN		32
#define NIL		UINT32_MAX

/* ------------------------------------------------------------------ */
/* Header tokenizer                                                   */

typedef int (*param_fn)(void *arg, const char *name, size_t nlen,
    const char *val, size_t vlen, int quoted);

static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Walks 'Digest' 1*SP #( token OWS "=" OWS ( token | quoted-string ) ) and
 * calls fn for each parameter with its unescaped value.
 */
static int
parse_params(const char *hdr, size_t len, param_fn fn, void *arg)
{
	char val[AMTP_DIGEST_VALUE_MAX + 1];
	const char *name;
	size_t i = 0, nlen, vlen, nparams = 0;
	int quoted, r;

	if (hdr == NULL)
		return AMTP_E_INVAL;
	if (len > AMTP_DIGEST_HEADER_MAX)
		return AMTP_E_TOOBIG;
	if (memchr(hdr, '\0', len) != NULL)
		return AMTP_E_PARSE;
	while (i < len && is_ows((unsigned char)hdr[i]))
		i++;
	nlen = 0;
	while (i + nlen < len && is_tchar((unsigned char)hdr[i + nlen]))
		nlen++;
	if (nlen == 0)
		return AMTP_E_PARSE;
	if (!amtp_str_eq_ci(hdr + i, nlen, "Digest", 6))
		return AMTP_E_UNSUPPORTED;
	i += nlen;
	if (i < len && !is_ows((unsigned char)hdr[i]))
		return AMTP_E_PARSE;
	for (;;) {
		/* Skip OWS and empty list elements. */
		while (i < len && (is_ows((unsigned char)hdr[i]) || hdr[i] == ','))
			i++;
		if (i == len)
			break;
		name = hdr + i;
		nlen = 0;
		while (i < len && is_tchar((unsigned char)hdr[i])) {
			i++;
			nlen++;
		}
		if (nlen == 0)
			return AMTP_E_PARSE;
		while (i < len && is_ows((unsigned char)hdr[i]))
			i++;
		if (i == len || hdr[i] != '=')
			return AMTP_E_PARSE;
		i++;
		while (i < len && is_ows((unsigned char)hdr[i]))
			i++;
		vlen = 0;
		quoted = 0;
		if (i < len && hdr[i] == '"') {
			quoted = 1;
			i++;
			for (;;) {
				unsigned char c;

				if (i == len)
					return AMTP_E_PARSE;	/* unterminated */
				c = (unsigned char)hdr[i++];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i == len)
						return AMTP_E_PARSE;
					c = (unsigned char)hdr[i++];
				}
				if ((c < 0x20 && c != '\t') || c == 0x7f)
					return AMTP_E_PARSE;
				if (vlen == AMTP_DIGEST_VALUE_MAX)
					return AMTP_E_TOOBIG;
				val[vlen++] = (char)c;
			}
		} else {
			while (i < len && hdr[i] != ',' &&
			    !is_ows((unsigned char)hdr[i])) {
				unsigned char c = (unsigned char)hdr[i++];

				if (c <= 0x20 || c >= 0x7f || c == '"' ||
				    c == '\\')
					return AMTP_E_PARSE;
				if (vlen == AMTP_DIGEST_VALUE_MAX)
					return AMTP_E_TOOBIG;
				val[vlen++] = (char)c;
			}
			if (vlen == 0)
				return AMTP_E_PARSE;
		}
		val[vlen] = '\0';
		while (i < len && is_ows((unsigned char)hdr[i]))
			i++;
		if (i < len && hdr[i] != ',')
			return AMTP_E_PARSE;
		if (++nparams > AMTP_DIGEST_PARAMS_MAX)
			return AMTP_E_TOOBIG;
		if ((r = fn(arg, name, nlen, val, vlen, quoted)) != 0)
			return r;
	}
	if (nparams == 0)
		return AMTP_E_PARSE;
	return 0;
}

/* A named destination for one parameter. */
struct field {
	const char	*name;
	char		*dst;
	int		 seen;
};

/* Copies val into the field called name; AMTP_E_PARSE on a repeat; 1 when
 * the name is not in the table. */
static int
set_field(struct field *f, size_t nf, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	size_t k;

	for (k = 0; k < nf; k++) {
		if (!amtp_str_eq_ci(name, nlen, f[k].name, strlen(f[k].name)))
			continue;
		if (f[k].seen)
			return AMTP_E_PARSE;
		f[k].seen = 1;
		memcpy(f[k].dst, val, vlen);
		f[k].dst[vlen] = '\0';
		return 0;
	}
	return 1;
}

static int
is_md5_name(const char *s)
{
	return amtp_str_eq_ci(s, strlen(s), "MD5", 3);
}

/* ------------------------------------------------------------------ */
/* Challenge (client side)                                            */

struct chal_ctx {
	struct amtp_digest_challenge	*c;
	struct field			 f[5];
	char				 stale[AMTP_DIGEST_VALUE_MAX + 1];
	char				 qop[AMTP_DIGEST_VALUE_MAX + 1];
	int				 seen_stale, seen_qop;
};

static int
chal_param(void *arg, const char *name, size_t nlen, const char *val,
    size_t vlen, int quoted)
{
	struct chal_ctx *x = arg;
	int r;

	(void)quoted;
	if (amtp_str_eq_ci(name, nlen, "stale", 5)) {
		if (x->seen_stale++)
			return AMTP_E_PARSE;
		memcpy(x->stale, val, vlen + 1);
		return 0;
	}
	if (amtp_str_eq_ci(name, nlen, "qop", 3)) {
		if (x->seen_qop++)
			return AMTP_E_PARSE;
		memcpy(x->qop, val, vlen + 1);
		return 0;
	}
	r = set_field(x->f, 5, name, nlen, val, vlen);
	return r == 1 ? 0 : r;	/* unknown parameters are ignored */
}

/* Splits a qop list ("auth,auth-int") into the challenge flags. */
static int
chal_qop(struct amtp_digest_challenge *c, const char *q)
{
	const char *p = q, *e;
	size_t n;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p;
		while (*e != '\0' && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (amtp_str_eq_ci(p, n, "auth", 4))
			c->qop_auth = 1;
		else if (amtp_str_eq_ci(p, n, "auth-int", 8))
			c->qop_auth_int = 1;
		else if (n == 0)
			return AMTP_E_PARSE;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return 0;
}

int
amtp_digest_challenge_parse(const char *hdr, size_t len,
    struct amtp_digest_challenge *out)
{
	struct chal_ctx *x = NULL;
	int r;

	if (out == NULL)
		return AMTP_E_INVAL;
	memset(out, 0, sizeof(*out));
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return AMTP_E_NOMEM;
	x->c = out;
	x->f[0] = (struct field){ "realm", out->realm, 0 };
	x->f[1] = (struct field){ "nonce", out->nonce, 0 };
	x->f[2] = (struct field){ "opaque", out->opaque, 0 };
	x->f[3] = (struct field){ "domain", out->domain, 0 };
	x->f[4] = (struct field){ "algorithm", out->algorithm, 0 };
	if ((r = parse_params(hdr, len, chal_param, x)) != 0)
		goto out;
	r = AMTP_E_PARSE;
	if (!x->f[0].seen || !x->f[1].seen || out->nonce[0] == '\0')
		goto out;
	out->has_opaque = x->f[2].seen;
	if (x->seen_stale) {
		if (amtp_str_eq_ci(x->stale, strlen(x->stale), "true", 4))
			out->stale = 1;
		else if (!amtp_str_eq_ci(x->stale, strlen(x->stale), "false", 5))
			goto out;
	}
	if (x->seen_qop) {
		out->has_qop = 1;
		if ((r = chal_qop(out, x->qop)) != 0)
			goto out;
		r = AMTP_E_UNSUPPORTED;
		if (!out->qop_auth)
			goto out;
	}
	r = AMTP_E_UNSUPPORTED;
	if (x->f[4].seen && !is_md5_name(out->algorithm))
		goto out;
	r = 0;
 out:
	free(x);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* ------------------------------------------------------------------ */
/* MD5 helpers                                                        */

struct part {
	const void	*p;
	size_t		 len;
};

/* MD5 of the parts joined by ':' into out[16]. */
static int
md5_join(const struct part *parts, size_t n, uint8_t out[16])
{
	EVP_MD_CTX *ctx;
	unsigned int olen = 0;
	size_t i;
	int r = AMTP_E_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return AMTP_E_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0 && EVP_DigestUpdate(ctx, ":", 1) != 1)
			goto out;
		if (parts[i].len > 0 &&
		    EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != 16)
		goto out;
	r = 0;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}

#define P(s)	{ (s), strlen(s) }

int
amtp_digest_ha1_raw(const char *user, const char *realm, const void *pw,
    size_t pwlen, uint8_t ha1[AMTP_DIGEST_HA1_LEN])
{
	struct part parts[3];

	if (user == NULL || realm == NULL || (pw == NULL && pwlen > 0))
		return AMTP_E_INVAL;
	parts[0] = (struct part)P(user);
	parts[1] = (struct part)P(realm);
	parts[2] = (struct part){ pw, pwlen };
	return md5_join(parts, 3, ha1);
}

int
amtp_digest_ha1(const char *user, const char *realm,
    const struct amtp_secret *pw, uint8_t ha1[AMTP_DIGEST_HA1_LEN])
{
	if (pw == NULL)
		return AMTP_E_INVAL;
	return amtp_digest_ha1_raw(user, realm, amtp_secret_reveal(pw),
	    amtp_secret_len(pw), ha1);
}

/*
 * response = MD5(HA1hex:nonce:nc:cnonce:qop:HA2hex), or MD5(HA1hex:nonce:
 * HA2hex) when qop is NULL (RFC 2069), as 32 lower-case hex digits.
 */
static int
compute_response(const uint8_t ha1[16], const char *method, const char *uri,
    const char *nonce, const char *nc, const char *cnonce, const char *qop,
    char out[33])
{
	struct part parts[6];
	uint8_t ha2[16], resp[16];
	char ha1hex[33], ha2hex[33];
	int r;

	parts[0] = (struct part)P(method);
	parts[1] = (struct part)P(uri);
	if ((r = md5_join(parts, 2, ha2)) != 0)
		goto out;
	if ((r = amtp_hex_encode(ha1hex, sizeof(ha1hex), ha1, 16, 0)) != 0 ||
	    (r = amtp_hex_encode(ha2hex, sizeof(ha2hex), ha2, 16, 0)) != 0)
		goto out;
	parts[0] = (struct part){ ha1hex, 32 };
	parts[1] = (struct part)P(nonce);
	if (qop != NULL) {
		parts[2] = (struct part)P(nc);
		parts[3] = (struct part)P(cnonce);
		parts[4] = (struct part)P(qop);
		parts[5] = (struct part){ ha2hex, 32 };
		r = md5_join(parts, 6, resp);
	} else {
		parts[2] = (struct part){ ha2hex, 32 };
		r = md5_join(parts, 3, resp);
	}
	if (r != 0)
		goto out;
	r = amtp_hex_encode(out, 33, resp, 16, 0);
 out:
	explicit_bzero(ha1hex, sizeof(ha1hex));
	return r;
}

/* ------------------------------------------------------------------ */
/* Client answer                                                      */

/* Appends name="value" with '"' and '\\' escaped. */
static int
put_quoted(struct amtp_buf *b, const char *name, const char *v)
{
	int r;

	if ((r = amtp_buf_putf(b, "%s=\"", name)) != 0)
		return r;
	for (; *v != '\0'; v++) {
		if ((*v == '"' || *v == '\\') &&
		    (r = amtp_buf_put_u8(b, '\\')) != 0)
			return r;
		if ((r = amtp_buf_put_u8(b, (uint8_t)*v)) != 0)
			return r;
	}
	return amtp_buf_put_u8(b, '"');
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

int
amtp_digest_client_answer(const struct amtp_digest_challenge *ch,
    const char *user, const uint8_t ha1[AMTP_DIGEST_HA1_LEN],
    const char *method, const char *uri, uint32_t nc, const char *cnonce,
    struct amtp_buf *out)
{
	struct amtp_buf *b = NULL;
	uint8_t rnd[16];
	char cn[AMTP_DIGEST_VALUE_MAX + 1], ncs[9], resp[33];
	int r = AMTP_E_INVAL, use_qop;

	if (ch == NULL || user == NULL || ha1 == NULL || method == NULL ||
	    uri == NULL || out == NULL || nc == 0 || has_ctl(user) ||
	    has_ctl(uri) || has_ctl(method) || ch->nonce[0] == '\0')
		goto out;
	if (strlen(user) > AMTP_DIGEST_VALUE_MAX ||
	    strlen(uri) > AMTP_DIGEST_VALUE_MAX)
		goto out;
	r = AMTP_E_UNSUPPORTED;
	if (ch->has_qop && !ch->qop_auth)
		goto out;
	use_qop = ch->has_qop;
	r = AMTP_E_INVAL;
	if (cnonce != NULL) {
		if (cnonce[0] == '\0' || has_ctl(cnonce) ||
		    strlen(cnonce) >= sizeof(cn))
			goto out;
		amtp_strlcpy(cn, cnonce, sizeof(cn));
	} else {
		r = AMTP_E_CRYPTO;
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			goto out;
		if ((r = amtp_hex_encode(cn, sizeof(cn), rnd, sizeof(rnd), 0)) != 0)
			goto out;
	}
	if (snprintf(ncs, sizeof(ncs), "%08x", nc) != 8) {
		r = AMTP_E_INTERNAL;
		goto out;
	}
	if ((r = compute_response(ha1, method, uri, ch->nonce, ncs, cn,
	    use_qop ? "auth" : NULL, resp)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((b = amtp_buf_new(AMTP_DIGEST_HEADER_MAX)) == NULL)
		goto out;
	if ((r = amtp_buf_put_cstring(b, "Digest ")) != 0 ||
	    (r = put_quoted(b, "username", user)) != 0 ||
	    (r = amtp_buf_put_cstring(b, ", ")) != 0 ||
	    (r = put_quoted(b, "realm", ch->realm)) != 0 ||
	    (r = amtp_buf_put_cstring(b, ", ")) != 0 ||
	    (r = put_quoted(b, "nonce", ch->nonce)) != 0 ||
	    (r = amtp_buf_put_cstring(b, ", ")) != 0 ||
	    (r = put_quoted(b, "uri", uri)) != 0 ||
	    (r = amtp_buf_put_cstring(b, ", ")) != 0 ||
	    (r = put_quoted(b, "response", resp)) != 0)
		goto out;
	if (use_qop && ((r = amtp_buf_putf(b, ", qop=auth, nc=%s, ", ncs)) != 0 ||
	    (r = put_quoted(b, "cnonce", cn)) != 0))
		goto out;
	if (ch->has_opaque && ((r = amtp_buf_put_cstring(b, ", ")) != 0 ||
	    (r = put_quoted(b, "opaque", ch->opaque)) != 0))
		goto out;
	if (ch->algorithm[0] != '\0' &&
	    (r = amtp_buf_putf(b, ", algorithm=%s", ch->algorithm)) != 0)
		goto out;
	if ((r = amtp_buf_put(out, amtp_buf_ptr(b), amtp_buf_len(b))) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);
	explicit_bzero(rnd, sizeof(rnd));
	return r;
}

/* ------------------------------------------------------------------ */
/* Authorization (server side)                                        */

struct auth_ctx {
	struct field	f[10];
};

static int
auth_param(void *arg, const char *name, size_t nlen, const char *val,
    size_t vlen, int quoted)
{
	struct auth_ctx *x = arg;
	int r;

	(void)quoted;
	r = set_field(x->f, 10, name, nlen, val, vlen);
	return r == 1 ? 0 : r;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* nc: 8 hex digits (RFC 7616, go-wsman-messages, curl) or 1..10 decimal
 * digits without a leading zero (MeshCentral); >= 1. */
static int
parse_nc(const char *s, uint64_t *out)
{
	size_t n = strlen(s), i;
	uint64_t v = 0;

	if (n == 8) {
		for (i = 0; i < 8; i++) {
			if (!is_hex(s[i]))
				return AMTP_E_PARSE;
			v = v * 16 + (uint64_t)(s[i] <= '9' ? s[i] - '0' :
			    (s[i] | 0x20) - 'a' + 10);
		}
	} else {
		if (n == 0 || n > 10 || s[0] == '0')
			return AMTP_E_PARSE;
		for (i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return AMTP_E_PARSE;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
	}
	if (v == 0)
		return AMTP_E_PARSE;
	*out = v;
	return 0;
}

int
amtp_digest_auth_parse(const char *hdr, size_t len, struct amtp_digest_auth *out)
{
	struct auth_ctx x;
	size_t k;
	int r;

	if (out == NULL)
		return AMTP_E_INVAL;
	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.f[0] = (struct field){ "username", out->username, 0 };
	x.f[1] = (struct field){ "realm", out->realm, 0 };
	x.f[2] = (struct field){ "nonce", out->nonce, 0 };
	x.f[3] = (struct field){ "uri", out->uri, 0 };
	x.f[4] = (struct field){ "response", out->response, 0 };
	x.f[5] = (struct field){ "qop", out->qop, 0 };
	x.f[6] = (struct field){ "nc", out->nc, 0 };
	x.f[7] = (struct field){ "cnonce", out->cnonce, 0 };
	x.f[8] = (struct field){ "opaque", out->opaque, 0 };
	x.f[9] = (struct field){ "algorithm", out->algorithm, 0 };
	if ((r = parse_params(hdr, len, auth_param, &x)) != 0)
		goto out;
	r = AMTP_E_PARSE;
	for (k = 0; k < 8; k++)
		if (!x.f[k].seen)
			goto out;
	if (out->nonce[0] == '\0' || out->uri[0] == '\0' ||
	    out->cnonce[0] == '\0')
		goto out;
	if (strlen(out->response) != 32)
		goto out;
	for (k = 0; k < 32; k++) {
		if (!is_hex(out->response[k]))
			goto out;
		if (out->response[k] >= 'A' && out->response[k] <= 'F')
			out->response[k] |= 0x20;
	}
	if ((r = parse_nc(out->nc, &out->nc_value)) != 0)
		goto out;
	r = AMTP_E_UNSUPPORTED;
	if (!amtp_str_eq_ci(out->qop, strlen(out->qop), "auth", 4))
		goto out;
	if (x.f[9].seen && !is_md5_name(out->algorithm))
		goto out;
	r = 0;
 out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* ------------------------------------------------------------------ */
/* Nonce manager                                                      */

struct nent {
	uint8_t		id[NONCE_ID_LEN];
	uint64_t	issued_ms;
	uint64_t	highest_nc;
	uint32_t	bnext;		/* next in bucket chain */
	uint32_t	prev, next;	/* LRU list; head = most recent */
	int		used;
};

struct amtp_digest_nonces {
	uint8_t		 key[KEY_LEN];
	uint64_t	 lifetime_ms;
	uint64_t	 horizon_ms;
	uint64_t	 evictions;
	uint64_t	 (*now_ms)(void *);
	void		*clock_arg;
	struct nent	*ents;
	uint32_t	*buckets;
	size_t		 cap, count, nbuckets;
	uint32_t	 lru_head, lru_tail;
};

static uint64_t
real_now_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Nonces issued before this manager existed may have been used with
 * another one (same key, before a restart): they count as forgotten. */
static uint64_t
start_horizon(const struct amtp_digest_nonces *n)
{
	uint64_t now = n->now_ms(n->clock_arg);

	return now > 0 ? now - 1 : 0;
}

int
amtp_digest_nonces_new(size_t capacity, unsigned lifetime_s,
    const uint8_t *key, struct amtp_digest_nonces **out)
{
	struct amtp_digest_nonces *n = NULL;
	size_t i;
	int r = AMTP_E_INVAL;

	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if (capacity == 0)
		capacity = AMTP_DIGEST_NONCE_TABLE;
	if (capacity > AMTP_DIGEST_NONCE_TABLE_MAX)
		goto out;
	if (lifetime_s == 0)
		lifetime_s = AMTP_DIGEST_NONCE_LIFETIME;
	r = AMTP_E_NOMEM;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		goto out;
	n->cap = capacity;
	n->nbuckets = 1;
	while (n->nbuckets < capacity)
		n->nbuckets <<= 1;
	if ((n->ents = calloc(capacity, sizeof(*n->ents))) == NULL ||
	    (n->buckets = calloc(n->nbuckets, sizeof(*n->buckets))) == NULL)
		goto out;
	for (i = 0; i < n->nbuckets; i++)
		n->buckets[i] = NIL;
	n->lru_head = n->lru_tail = NIL;
	n->lifetime_ms = (uint64_t)lifetime_s * 1000;
	n->now_ms = real_now_ms;
	if (key != NULL)
		memcpy(n->key, key, KEY_LEN);
	else if (RAND_bytes(n->key, KEY_LEN) != 1) {
		r = AMTP_E_CRYPTO;
		goto out;
	}
	n->horizon_ms = start_horizon(n);
	*out = n;
	n = NULL;
	r = 0;
 out:
	amtp_digest_nonces_free(n);
	return r;
}

void
amtp_digest_nonces_free(struct amtp_digest_nonces *n)
{
	if (n == NULL)
		return;
	free(n->ents);
	free(n->buckets);
	explicit_bzero(n, sizeof(*n));
	free(n);
}

void
amtp_digest_nonces_set_clock(struct amtp_digest_nonces *n,
    uint64_t (*now_ms)(void *), void *arg)
{
	n->now_ms = now_ms != NULL ? now_ms : real_now_ms;
	n->clock_arg = now_ms != NULL ? arg : NULL;
	n->horizon_ms = start_horizon(n);
}

size_t
amtp_digest_nonces_count(const struct amtp_digest_nonces *n)
{
	return n->count;
}

uint64_t
amtp_digest_nonces_evictions(const struct amtp_digest_nonces *n)
{
	return n->evictions;
}

/* MAC of a nonce: HMAC-SHA256(key, "amtp-nonce-v1" | id | realm), cut to
 * NONCE_MAC_LEN bytes. */
static int
nonce_mac(const struct amtp_digest_nonces *n, const uint8_t id[NONCE_ID_LEN],
    const char *realm, uint8_t mac[NONCE_MAC_LEN])
{
	static const char label[] = "amtp-nonce-v1";
	uint8_t msg[sizeof(label) + NONCE_ID_LEN + AMTP_DIGEST_VALUE_MAX];
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int flen = 0;
	size_t rlen = strlen(realm), mlen = 0;

	if (rlen > AMTP_DIGEST_VALUE_MAX)
		return AMTP_E_INVAL;
	memcpy(msg, label, sizeof(label));	/* with its NUL as separator */
	mlen += sizeof(label);
	memcpy(msg + mlen, id, NONCE_ID_LEN);
	mlen += NONCE_ID_LEN;
	memcpy(msg + mlen, realm, rlen);
	mlen += rlen;
	if (HMAC(EVP_sha256(), n->key, KEY_LEN, msg, mlen, full, &flen) == NULL ||
	    flen < NONCE_MAC_LEN)
		return AMTP_E_CRYPTO;
	memcpy(mac, full, NONCE_MAC_LEN);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

int
amtp_digest_nonce_issue(struct amtp_digest_nonces *n, const char *realm,
    char out[AMTP_DIGEST_NONCE_HEXLEN + 1])
{
	uint8_t raw[NONCE_RAW_LEN];
	uint64_t now;
	int i, r;

	if (n == NULL || realm == NULL || out == NULL)
		return AMTP_E_INVAL;
	out[0] = '\0';
	now = n->now_ms(n->clock_arg);
	for (i = 0; i < 8; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	if (RAND_bytes(raw + 8, 8) != 1)
		return AMTP_E_CRYPTO;
	if ((r = nonce_mac(n, raw, realm, raw + NONCE_ID_LEN)) != 0)
		return r;
	return amtp_hex_encode(out, AMTP_DIGEST_NONCE_HEXLEN + 1, raw,
	    sizeof(raw), 1);
}

static uint32_t
bucket_of(const struct amtp_digest_nonces *n, const uint8_t id[NONCE_ID_LEN])
{
	uint64_t h = 0;
	int i;

	/* Bytes 8..15 are random and covered by the MAC. */
	for (i = 8; i < 16; i++)
		h = (h << 8) | id[i];
	return (uint32_t)(h & (n->nbuckets - 1));
}

static void
lru_unlink(struct amtp_digest_nonces *n, uint32_t i)
{
	struct nent *e = &n->ents[i];

	if (e->prev != NIL)
		n->ents[e->prev].next = e->next;
	else
		n->lru_head = e->next;
	if (e->next != NIL)
		n->ents[e->next].prev = e->prev;
	else
		n->lru_tail = e->prev;
	e->prev = e->next = NIL;
}

static void
lru_push_front(struct amtp_digest_nonces *n, uint32_t i)
{
	struct nent *e = &n->ents[i];

	e->prev = NIL;
	e->next = n->lru_head;
	if (n->lru_head != NIL)
		n->ents[n->lru_head].prev = i;
	n->lru_head = i;
	if (n->lru_tail == NIL)
		n->lru_tail = i;
}

static uint32_t
table_find(const struct amtp_digest_nonces *n, const uint8_t id[NONCE_ID_LEN])
{
	uint32_t i;

	for (i = n->buckets[bucket_of(n, id)]; i != NIL; i = n->ents[i].bnext)
		if (memcmp(n->ents[i].id, id, NONCE_ID_LEN) == 0)
			return i;
	return NIL;
}

static void
bucket_remove(struct amtp_digest_nonces *n, uint32_t i)
{
	uint32_t *pp = &n->buckets[bucket_of(n, n->ents[i].id)];

	while (*pp != NIL && *pp != i)
		pp = &n->ents[*pp].bnext;
	if (*pp == i)
		*pp = n->ents[i].bnext;
	n->ents[i].bnext = NIL;
}

/* Adds id with its first nc, evicting the least recently used entry when
 * the table is full (its issue time raises the horizon). */
static void
table_insert(struct amtp_digest_nonces *n, const uint8_t id[NONCE_ID_LEN],
    uint64_t issued_ms, uint64_t nc)
{
	uint32_t i, b;

	if (n->count < n->cap) {
		i = (uint32_t)n->count++;
	} else {
		i = n->lru_tail;
		lru_unlink(n, i);
		bucket_remove(n, i);
		if (n->ents[i].issued_ms > n->horizon_ms)
			n->horizon_ms = n->ents[i].issued_ms;
		n->evictions++;
	}
	memcpy(n->ents[i].id, id, NONCE_ID_LEN);
	n->ents[i].issued_ms = issued_ms;
	n->ents[i].highest_nc = nc;
	n->ents[i].used = 1;
	b = bucket_of(n, id);
	n->ents[i].bnext = n->buckets[b];
	n->buckets[b] = i;
	lru_push_front(n, i);
}

int
amtp_digest_verify(struct amtp_digest_nonces *n,
    const struct amtp_digest_auth *a, const char *realm, const char *method,
    const char *uri, const uint8_t ha1[AMTP_DIGEST_HA1_LEN])
{
	uint8_t raw[NONCE_RAW_LEN], mac[NONCE_MAC_LEN];
	uint64_t issued = 0, now;
	uint32_t i;
	char resp[33];
	int r = AMTP_E_INVAL, k;

	if (n == NULL || a == NULL || realm == NULL || method == NULL ||
	    ha1 == NULL)
		goto out;
	r = AMTP_E_AUTH;
	if (strcmp(a->realm, realm) != 0)
		goto out;
	if (uri != NULL && strcmp(a->uri, uri) != 0)
		goto out;
	/* Is it a nonce we issued for this realm? */
	if (strlen(a->nonce) != AMTP_DIGEST_NONCE_HEXLEN ||
	    amtp_hex_decode(a->nonce, AMTP_DIGEST_NONCE_HEXLEN, raw,
	    sizeof(raw)) != 0)
		goto out;
	if ((r = nonce_mac(n, raw, realm, mac)) != 0)
		goto out;
	r = AMTP_E_AUTH;
	if (CRYPTO_memcmp(mac, raw + NONCE_ID_LEN, NONCE_MAC_LEN) != 0)
		goto out;
	/* The password. */
	if ((r = compute_response(ha1, method, a->uri, a->nonce, a->nc,
	    a->cnonce, a->qop, resp)) != 0)
		goto out;
	r = AMTP_E_AUTH;
	if (strlen(a->response) != 32 ||
	    CRYPTO_memcmp(resp, a->response, 32) != 0)
		goto out;
	/* Freshness and replay. */
	for (k = 0; k < 8; k++)
		issued = (issued << 8) | raw[k];
	now = n->now_ms(n->clock_arg);
	r = AMTP_E_STALE;
	if (now > issued && now - issued > n->lifetime_ms)
		goto out;
	if ((i = table_find(n, raw)) != NIL) {
		r = AMTP_E_REPLAY;
		if (a->nc_value <= n->ents[i].highest_nc)
			goto out;
		n->ents[i].highest_nc = a->nc_value;
		lru_unlink(n, i);
		lru_push_front(n, i);
	} else {
		/* Forgotten (evicted, or from before this manager)? */
		r = AMTP_E_STALE;
		if (issued <= n->horizon_ms)
			goto out;
		table_insert(n, raw, issued, a->nc_value);
	}
	r = 0;
 out:
	explicit_bzero(resp, sizeof(resp));
	return r;
}

/* ------------------------------------------------------------------ */
/* Challenge (server side)                                            */

/* A value that every client parser reads back unchanged: printable, and no
 * '"', '\\', ',' or '=' (MeshCentral splits on ',' then '='). */
static int
valid_chal_value(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > AMTP_DIGEST_VALUE_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("\"\\,=", *s) != NULL)
			return 0;
	return 1;
}

int
amtp_digest_challenge_build(const char *realm, const char *nonce, int stale,
    struct amtp_buf *out)
{
	if (out == NULL || !valid_chal_value(realm) || !valid_chal_value(nonce))
		return AMTP_E_INVAL;
	return amtp_buf_putf(out,
	    "Digest realm=\"%s\", nonce=\"%s\",stale=\"%s\",qop=\"auth\"",
	    realm, nonce, stale ? "true" : "false");
}
