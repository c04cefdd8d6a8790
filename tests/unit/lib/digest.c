/* Unit tests for src/lib/digest.c: RFC 2617/7616 MD5 vectors, AMT's form,
 * go-wsman-messages (hex nc) and MeshCentral (decimal nc) clients, the nonce
 * manager (replay, stale, eviction) and hostile headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#define AMT_REALM	"Digest:727734D63A1FC0423736E48DA554E462"
#define AMT_CHALLENGE	"Digest realm=\"" AMT_REALM "\", " \
	"nonce=\"B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA\",stale=\"false\",qop=\"auth\""

static uint64_t fake_ms;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

/* An independent MD5 of s, as 32 lower-case hex digits. */
static void
md5hex(const char *s, char out[33])
{
	uint8_t md[16];
	unsigned int n = 0;
	int i;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL), 1);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The response a client computes (RFC 7616 3.4.1), written out here
 * without the library, for nc texts the library's client never sends. */
static void
calc_response(const char *user, const char *realm, const char *pw,
    const char *method, const char *uri, const char *nonce, const char *nc,
    const char *cnonce, char out[33])
{
	char buf[1024], ha1[33], ha2[33];

	snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, pw);
	md5hex(buf, ha1);
	snprintf(buf, sizeof(buf), "%s:%s", method, uri);
	md5hex(buf, ha2);
	snprintf(buf, sizeof(buf), "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce,
	    ha2);
	md5hex(buf, out);
}

static int
parse_str(const char *s, struct amtp_digest_auth *a)
{
	return amtp_digest_auth_parse(s, strlen(s), a);
}

static int
chal_str(const char *s, struct amtp_digest_challenge *c)
{
	return amtp_digest_challenge_parse(s, strlen(s), c);
}

static void
test_rfc2617_mufasa(void **state)
{
	struct amtp_digest_challenge c;
	struct amtp_digest_auth a;
	struct amtp_buf *b = amtp_buf_new(4096);
	uint8_t ha1[16];

	(void)state;
	assert_int_equal(chal_str("Digest realm=\"testrealm@host.com\", "
	    "qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"", &c), 0);
	assert_string_equal(c.realm, "testrealm@host.com");
	assert_string_equal(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_string_equal(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_true(c.has_opaque && c.has_qop && c.qop_auth && c.qop_auth_int);
	assert_false(c.stale);
	assert_int_equal(amtp_digest_ha1_raw("Mufasa", c.realm, "Circle Of Life",
	    14, ha1), 0);
	assert_int_equal(amtp_digest_client_answer(&c, "Mufasa", ha1, "GET",
	    "/dir/index.html", 1, "0a4f113b", b), 0);
	assert_string_equal(amtp_buf_str(b), "Digest username=\"Mufasa\", "
	    "realm=\"testrealm@host.com\", "
	    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "uri=\"/dir/index.html\", "
	    "response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
	    "nc=00000001, cnonce=\"0a4f113b\", "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	/* The server side reads the same answer back. */
	assert_int_equal(amtp_digest_auth_parse(amtp_buf_str(b), amtp_buf_len(b),
	    &a), 0);
	assert_string_equal(a.username, "Mufasa");
	assert_string_equal(a.uri, "/dir/index.html");
	assert_string_equal(a.response, "6629fae49393a05397450978507c4ef1");
	assert_string_equal(a.nc, "00000001");
	assert_int_equal(a.nc_value, 1);
	assert_string_equal(a.cnonce, "0a4f113b");
	assert_string_equal(a.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_string_equal(a.qop, "auth");
	amtp_buf_free(b);
}

static void
test_rfc7616_md5(void **state)
{
	struct amtp_digest_challenge c;
	struct amtp_buf *b = amtp_buf_new(4096);
	uint8_t ha1[16];

	(void)state;
	assert_int_equal(chal_str(
	    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
	    "algorithm=MD5, "
	    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"", &c), 0);
	assert_string_equal(c.algorithm, "MD5");
	assert_true(c.qop_auth && c.qop_auth_int);
	assert_int_equal(amtp_digest_ha1_raw("Mufasa", c.realm, "Circle of Life",
	    14, ha1), 0);
	assert_int_equal(amtp_digest_client_answer(&c, "Mufasa", ha1, "GET",
	    "/dir/index.html", 1, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
	    b), 0);
	assert_non_null(strstr(amtp_buf_str(b),
	    "response=\"8ca523f5e9506fed4657c9700eebdbec\""));
	assert_non_null(strstr(amtp_buf_str(b), ", algorithm=MD5"));
	/* SHA-256 and session variants are not AMT's: refused, not guessed. */
	assert_int_equal(chal_str("Digest realm=\"r\", nonce=\"n\", "
	    "algorithm=SHA-256", &c), AMTP_E_UNSUPPORTED);
	assert_int_equal(chal_str("Digest realm=\"r\", nonce=\"n\", "
	    "algorithm=MD5-sess", &c), AMTP_E_UNSUPPORTED);
	assert_string_equal(c.realm, "");	/* cleared on failure */
	amtp_buf_free(b);
}

static void
test_amt_challenge(void **state)
{
	struct amtp_digest_challenge c;
	struct amtp_buf *b = amtp_buf_new(512);

	(void)state;
	assert_int_equal(chal_str(AMT_CHALLENGE, &c), 0);
	assert_string_equal(c.realm, AMT_REALM);
	assert_string_equal(c.nonce, "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA");
	assert_false(c.stale);
	assert_true(c.has_qop && c.qop_auth && !c.qop_auth_int);
	assert_false(c.has_opaque);
	assert_string_equal(c.algorithm, "");

	/* Our server's challenge is byte for byte the device's layout. */
	assert_int_equal(amtp_digest_challenge_build(AMT_REALM,
	    "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA", 0, b), 0);
	assert_string_equal(amtp_buf_str(b), AMT_CHALLENGE);
	amtp_buf_reset(b);
	assert_int_equal(amtp_digest_challenge_build(AMT_REALM, "ABC", 1, b), 0);
	assert_string_equal(amtp_buf_str(b), "Digest realm=\"" AMT_REALM
	    "\", nonce=\"ABC\",stale=\"true\",qop=\"auth\"");
	assert_int_equal(chal_str(amtp_buf_str(b), &c), 0);
	assert_true(c.stale);
	amtp_buf_reset(b);
	/* Values a client parser would split wrongly are refused. */
	assert_int_equal(amtp_digest_challenge_build(AMT_REALM, "a=b", 0, b),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_digest_challenge_build(AMT_REALM, "a,b", 0, b),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_digest_challenge_build("r\"", "n", 0, b),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_digest_challenge_build("", "n", 0, b), AMTP_E_INVAL);
	assert_int_equal(amtp_digest_challenge_build("r", "n\n", 0, b),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_buf_len(b), 0);

	/* Unquoted values, odd spacing, unknown parameters. */
	assert_int_equal(chal_str("  digest   realm=R,nonce=N , stale=TRUE ,"
	    "qop=auth, charset=UTF-8, userhash=false", &c), 0);
	assert_string_equal(c.realm, "R");
	assert_string_equal(c.nonce, "N");
	assert_true(c.stale && c.qop_auth);
	/* A challenge without qop (RFC 2069). */
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N\"", &c), 0);
	assert_false(c.has_qop);
	amtp_buf_free(b);
}

/* Builds an Authorization the way go-wsman-messages does: every value
 * quoted, nc as 8 lower-case hex digits, a 6-hex-digit cnonce. */
static void
gowsman_header(char *dst, size_t dstsz, const char *pw, const char *nonce,
    const char *nc)
{
	char resp[33];

	calc_response("admin", AMT_REALM, pw, "POST", "/wsman", nonce, nc,
	    "a1b2c3", resp);
	snprintf(dst, dstsz, "Digest username=\"admin\", realm=\"%s\", "
	    "nonce=\"%s\", uri=\"/wsman\", response=\"%s\", qop=\"auth\", "
	    "nc=\"%s\", cnonce=\"a1b2c3\"", AMT_REALM, nonce, resp, nc);
}

/* MeshCentral: nc as an unpadded decimal counter, 32-hex-digit cnonce. */
static void
mesh_header(char *dst, size_t dstsz, const char *pw, const char *nonce,
    const char *nc)
{
	static const char cn[] = "0123456789abcdef0123456789abcdef";
	char resp[33];

	calc_response("admin", AMT_REALM, pw, "POST", "/wsman", nonce, nc, cn,
	    resp);
	snprintf(dst, dstsz, "Digest username=\"admin\",realm=\"%s\","
	    "nonce=\"%s\",uri=\"/wsman\",qop=\"auth\",nc=\"%s\",cnonce=\"%s\","
	    "response=\"%s\"", AMT_REALM, nonce, nc, cn, resp);
}

static void
issue(struct amtp_digest_nonces *n, const char *realm, char nonce[49])
{
	size_t i;

	assert_int_equal(amtp_digest_nonce_issue(n, realm, nonce), 0);
	assert_int_equal(strlen(nonce), AMTP_DIGEST_NONCE_HEXLEN);
	for (i = 0; i < AMTP_DIGEST_NONCE_HEXLEN; i++)
		assert_true((nonce[i] >= '0' && nonce[i] <= '9') ||
		    (nonce[i] >= 'A' && nonce[i] <= 'F'));
}

static int
verify_str(struct amtp_digest_nonces *n, const char *hdr, const char *pw)
{
	struct amtp_digest_auth a;
	uint8_t ha1[16];
	int r;

	if ((r = parse_str(hdr, &a)) != 0)
		return r;
	assert_int_equal(amtp_digest_ha1_raw(a.username, AMT_REALM, pw,
	    strlen(pw), ha1), 0);
	return amtp_digest_verify(n, &a, AMT_REALM, "POST", "/wsman", ha1);
}

static void
test_gowsman_hex_nc(void **state)
{
	struct amtp_digest_nonces *n;
	char nonce[49], h[1024];

	(void)state;
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &n), 0);
	issue(n, AMT_REALM, nonce);
	gowsman_header(h, sizeof(h), "P@ssw0rd", nonce, "00000001");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), 0);
	gowsman_header(h, sizeof(h), "P@ssw0rd", nonce, "00000002");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), 0);
	/* The same request again: a replay. */
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), AMTP_E_REPLAY);
	gowsman_header(h, sizeof(h), "P@ssw0rd", nonce, "00000001");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), AMTP_E_REPLAY);
	/* Hex digits above 9, upper or lower case. */
	gowsman_header(h, sizeof(h), "P@ssw0rd", nonce, "0000000a");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), 0);
	gowsman_header(h, sizeof(h), "P@ssw0rd", nonce, "0000000B");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), 0);
	/* Wrong password: 401, not stale. */
	gowsman_header(h, sizeof(h), "wrong", nonce, "00000010");
	assert_int_equal(verify_str(n, h, "P@ssw0rd"), AMTP_E_AUTH);
	assert_int_equal(amtp_digest_nonces_count(n), 1);
	amtp_digest_nonces_free(n);
}

static void
test_meshcentral_decimal_nc(void **state)
{
	struct amtp_digest_nonces *n;
	struct amtp_digest_auth a;
	char nonce[49], h[1024], nc[16];
	int i;

	(void)state;
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &n), 0);
	issue(n, AMT_REALM, nonce);
	for (i = 1; i <= 12; i++) {
		snprintf(nc, sizeof(nc), "%d", i);
		mesh_header(h, sizeof(h), "Mesh1234!", nonce, nc);
		assert_int_equal(parse_str(h, &a), 0);
		assert_string_equal(a.nc, nc);		/* kept as received */
		assert_int_equal(a.nc_value, (uint64_t)i);
		assert_int_equal(verify_str(n, h, "Mesh1234!"), 0);
	}
	mesh_header(h, sizeof(h), "Mesh1234!", nonce, "9");
	assert_int_equal(verify_str(n, h, "Mesh1234!"), AMTP_E_REPLAY);
	/* The same hash over "0000000d" is a different response: nc text is
	 * hashed exactly as sent, so a decimal response under a hex nc fails. */
	mesh_header(h, sizeof(h), "Mesh1234!", nonce, "13");
	{
		char *p = strstr(h, "nc=\"13\"");

		assert_non_null(p);
		memmove(p + 13, p + 7, strlen(p + 7) + 1);
		memcpy(p, "nc=\"0000000d\"", 13);
	}
	assert_int_equal(verify_str(n, h, "Mesh1234!"), AMTP_E_AUTH);
	amtp_digest_nonces_free(n);
}

static void
test_own_client_against_server(void **state)
{
	struct amtp_digest_nonces *n;
	struct amtp_digest_challenge c;
	struct amtp_digest_auth a;
	struct amtp_secret *pw;
	struct amtp_buf *chal = amtp_buf_new(512), *ans = amtp_buf_new(4096);
	uint8_t ha1[16], ha1b[16];
	char nonce[49];
	uint32_t nc;

	(void)state;
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &n), 0);
	assert_int_equal(amtp_secret_from_cstr("Adm1n!pass", &pw), 0);
	issue(n, AMT_REALM, nonce);
	assert_int_equal(amtp_digest_challenge_build(AMT_REALM, nonce, 0, chal), 0);
	assert_int_equal(amtp_digest_challenge_parse(amtp_buf_str(chal),
	    amtp_buf_len(chal), &c), 0);
	assert_int_equal(amtp_digest_ha1("admin", c.realm, pw, ha1), 0);
	assert_int_equal(amtp_digest_ha1_raw("admin", c.realm, "Adm1n!pass", 10,
	    ha1b), 0);
	assert_memory_equal(ha1, ha1b, 16);
	for (nc = 1; nc <= 3; nc++) {
		amtp_buf_reset(ans);
		/* cnonce NULL: random, 32 hex digits */
		assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "POST",
		    "/wsman", nc, NULL, ans), 0);
		assert_int_equal(amtp_digest_auth_parse(amtp_buf_str(ans),
		    amtp_buf_len(ans), &a), 0);
		assert_int_equal(strlen(a.cnonce), 32);
		assert_int_equal(amtp_digest_verify(n, &a, AMT_REALM, "POST",
		    "/wsman", ha1), 0);
	}
	/* Digest uri must be the request target; method is hashed. */
	assert_int_equal(amtp_digest_verify(n, &a, AMT_REALM, "POST", "/other",
	    ha1), AMTP_E_AUTH);
	amtp_buf_reset(ans);
	assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "GET",
	    "/wsman", 4, NULL, ans), 0);
	assert_int_equal(amtp_digest_auth_parse(amtp_buf_str(ans),
	    amtp_buf_len(ans), &a), 0);
	assert_int_equal(amtp_digest_verify(n, &a, AMT_REALM, "POST", "/wsman",
	    ha1), AMTP_E_AUTH);
	/* Another device's realm: the nonce is not valid there. */
	assert_int_equal(amtp_digest_verify(n, &a,
	    "Digest:00000000000000000000000000000000", "GET", "/wsman", ha1),
	    AMTP_E_AUTH);
	amtp_secret_free(pw);
	amtp_buf_free(chal);
	amtp_buf_free(ans);
	amtp_digest_nonces_free(n);
}

static void
test_forged_nonce(void **state)
{
	struct amtp_digest_nonces *n, *n2;
	char nonce[49], other[49], h[1024];
	uint8_t key[32];

	(void)state;
	memset(key, 7, sizeof(key));
	assert_int_equal(amtp_digest_nonces_new(0, 0, key, &n), 0);
	issue(n, AMT_REALM, nonce);
	/* One digit changed: the MAC fails. */
	nonce[20] = nonce[20] == 'A' ? 'B' : 'A';
	gowsman_header(h, sizeof(h), "pw", nonce, "00000001");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_AUTH);
	/* AMT-style base64 nonce we never issued. */
	gowsman_header(h, sizeof(h), "pw", "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA",
	    "00000001");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_AUTH);
	/* A nonce for another realm. */
	issue(n, "Digest:11111111111111111111111111111111", other);
	gowsman_header(h, sizeof(h), "pw", other, "00000001");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_AUTH);
	/* A nonce of a manager with another key. */
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &n2), 0);
	issue(n2, AMT_REALM, other);
	gowsman_header(h, sizeof(h), "pw", other, "00000001");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_AUTH);
	assert_int_equal(amtp_digest_nonces_count(n), 0);
	amtp_digest_nonces_free(n2);
	amtp_digest_nonces_free(n);
}

static void
test_stale(void **state)
{
	struct amtp_digest_nonces *n, *n2;
	char nonce[49], h[1024];
	uint8_t key[32];

	(void)state;
	memset(key, 9, sizeof(key));
	fake_ms = 1800000000000ULL;
	assert_int_equal(amtp_digest_nonces_new(0, 10, key, &n), 0);
	amtp_digest_nonces_set_clock(n, fake_clock, NULL);
	fake_ms += 5;
	issue(n, AMT_REALM, nonce);
	fake_ms += 10000;		/* exactly the lifetime: still fresh */
	gowsman_header(h, sizeof(h), "pw", nonce, "00000001");
	assert_int_equal(verify_str(n, h, "pw"), 0);
	fake_ms += 1;			/* one millisecond over */
	gowsman_header(h, sizeof(h), "pw", nonce, "00000002");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_STALE);
	/* A wrong password with an expired nonce is a plain failure. */
	gowsman_header(h, sizeof(h), "bad", nonce, "00000003");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_AUTH);

	/* Same key, new manager (a restart): an older nonce may have been used
	 * before, so it is stale, not accepted and not refused. */
	issue(n, AMT_REALM, nonce);
	fake_ms += 1;
	assert_int_equal(amtp_digest_nonces_new(0, 10, key, &n2), 0);
	amtp_digest_nonces_set_clock(n2, fake_clock, NULL);
	gowsman_header(h, sizeof(h), "pw", nonce, "00000001");
	assert_int_equal(verify_str(n2, h, "pw"), AMTP_E_STALE);
	fake_ms += 1;
	issue(n2, AMT_REALM, nonce);
	gowsman_header(h, sizeof(h), "pw", nonce, "00000001");
	assert_int_equal(verify_str(n2, h, "pw"), 0);
	amtp_digest_nonces_set_clock(n, NULL, NULL);
	amtp_digest_nonces_free(n2);
	amtp_digest_nonces_free(n);
}

static void
test_eviction(void **state)
{
	struct amtp_digest_nonces *n;
	char nonce[5][49], h[1024];
	int i;

	(void)state;
	fake_ms = 1900000000000ULL;
	assert_int_equal(amtp_digest_nonces_new(2, 0, NULL, &n), 0);
	amtp_digest_nonces_set_clock(n, fake_clock, NULL);
	for (i = 0; i < 3; i++) {
		fake_ms += 1;
		issue(n, AMT_REALM, nonce[i]);
		gowsman_header(h, sizeof(h), "pw", nonce[i], "00000001");
		assert_int_equal(verify_str(n, h, "pw"), 0);
		/* keep nonce 0 recently used so that nonce 1 is evicted */
		if (i == 1) {
			gowsman_header(h, sizeof(h), "pw", nonce[0], "00000002");
			assert_int_equal(verify_str(n, h, "pw"), 0);
		}
	}
	assert_int_equal(amtp_digest_nonces_count(n), 2);
	assert_int_equal(amtp_digest_nonces_evictions(n), 1);
	/* nonce 1 was forgotten: its replay must not pass; stale re-challenges */
	gowsman_header(h, sizeof(h), "pw", nonce[1], "00000001");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_STALE);
	/* nonce 0 survived with its nc */
	gowsman_header(h, sizeof(h), "pw", nonce[0], "00000002");
	assert_int_equal(verify_str(n, h, "pw"), AMTP_E_REPLAY);
	gowsman_header(h, sizeof(h), "pw", nonce[0], "00000003");
	assert_int_equal(verify_str(n, h, "pw"), 0);
	/* A nonce issued after the eviction is new and accepted. */
	fake_ms += 1;
	issue(n, AMT_REALM, nonce[3]);
	gowsman_header(h, sizeof(h), "pw", nonce[3], "00000001");
	assert_int_equal(verify_str(n, h, "pw"), 0);
	assert_int_equal(amtp_digest_nonces_count(n), 2);
	assert_int_equal(amtp_digest_nonces_evictions(n), 2);
	amtp_digest_nonces_free(n);

	assert_int_equal(amtp_digest_nonces_new(AMTP_DIGEST_NONCE_TABLE_MAX + 1,
	    0, NULL, &n), AMTP_E_INVAL);
	assert_null(n);
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, NULL), AMTP_E_INVAL);
}

#define GOOD_AUTH "Digest username=\"admin\", realm=\"R\", nonce=\"N\", " \
	"uri=\"/wsman\", response=\"0123456789abcdef0123456789ABCDEF\", " \
	"qop=auth, nc=00000001, cnonce=\"c\""

static void
test_auth_parse_errors(void **state)
{
	static const char *fields[] = { "username", "realm", "nonce", "uri",
	    "response", "qop", "nc", "cnonce" };
	static const char *vals[] = { "\"admin\"", "\"R\"", "\"N\"", "\"/wsman\"",
	    "\"0123456789abcdef0123456789abcdef\"", "auth", "00000001", "\"c\"" };
	struct amtp_digest_auth a;
	char h[8192], big[600];
	size_t i, k;

	(void)state;
	assert_int_equal(parse_str(GOOD_AUTH, &a), 0);
	assert_string_equal(a.response, "0123456789abcdef0123456789abcdef");
	/* Each required field missing, then each one repeated. */
	for (i = 0; i < 8; i++) {
		h[0] = '\0';
		snprintf(h, sizeof(h), "Digest ");
		for (k = 0; k < 8; k++) {
			if (k == i)
				continue;
			snprintf(h + strlen(h), sizeof(h) - strlen(h), "%s=%s, ",
			    fields[k], vals[k]);
		}
		assert_int_equal(parse_str(h, &a), AMTP_E_PARSE);
		assert_string_equal(a.username, "");
		snprintf(h, sizeof(h), "%s, %s=%s", GOOD_AUTH, fields[i], vals[i]);
		assert_int_equal(parse_str(h, &a), AMTP_E_PARSE);
	}
	/* Value length: exactly at the limit, one over. */
	memset(big, 'u', AMTP_DIGEST_VALUE_MAX + 1);
	big[AMTP_DIGEST_VALUE_MAX] = '\0';
	snprintf(h, sizeof(h), "%s, opaque=\"%s\"", GOOD_AUTH, big);
	assert_int_equal(parse_str(h, &a), 0);
	assert_int_equal(strlen(a.opaque), AMTP_DIGEST_VALUE_MAX);
	big[AMTP_DIGEST_VALUE_MAX] = 'u';
	big[AMTP_DIGEST_VALUE_MAX + 1] = '\0';
	snprintf(h, sizeof(h), "%s, opaque=\"%s\"", GOOD_AUTH, big);
	assert_int_equal(parse_str(h, &a), AMTP_E_TOOBIG);
	snprintf(h, sizeof(h), "%s, opaque=%s", GOOD_AUTH, big);
	assert_int_equal(parse_str(h, &a), AMTP_E_TOOBIG);
	/* Whole header over the limit. */
	memset(h, ' ', sizeof(h));
	memcpy(h, GOOD_AUTH, strlen(GOOD_AUTH));
	assert_int_equal(amtp_digest_auth_parse(h, AMTP_DIGEST_HEADER_MAX, &a), 0);
	assert_int_equal(amtp_digest_auth_parse(h, AMTP_DIGEST_HEADER_MAX + 1, &a),
	    AMTP_E_TOOBIG);
	/* Too many parameters. */
	snprintf(h, sizeof(h), "%s", GOOD_AUTH);
	for (i = 0; i < 9; i++)
		snprintf(h + strlen(h), sizeof(h) - strlen(h), ", x%zu=1", i);
	assert_int_equal(parse_str(h, &a), AMTP_E_TOOBIG);
	/* Syntax. */
	assert_int_equal(parse_str("Digest username=\"admin", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque=\"x\\", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque=", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", =x", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque=\"x\"y", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque=\"a\tb\x01\"", &a),
	    AMTP_E_PARSE);
	assert_int_equal(parse_str(GOOD_AUTH ", opaque=a\"b", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str("Digest", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str("", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str("Digestusername=\"a\"", &a), AMTP_E_UNSUPPORTED);
	assert_int_equal(amtp_digest_auth_parse("Digest a\0b=1", 12, &a),
	    AMTP_E_PARSE);
	assert_int_equal(amtp_digest_auth_parse(NULL, 0, &a), AMTP_E_INVAL);
	assert_int_equal(amtp_digest_auth_parse(GOOD_AUTH, 3, NULL), AMTP_E_INVAL);
	/* Escapes inside quotes are undone. */
	assert_int_equal(parse_str("Digest username=\"a\\\"b\\\\c\", realm=R, "
	    "nonce=N, uri=/wsman, response=0123456789abcdef0123456789abcdef, "
	    "qop=\"auth\", nc=\"1\", cnonce=c", &a), 0);
	assert_string_equal(a.username, "a\"b\\c");
	/* Schemes, qop, algorithm. */
	assert_int_equal(parse_str("Basic YWRtaW46cHc=", &a), AMTP_E_UNSUPPORTED);
	assert_int_equal(parse_str("Digest username=\"admin\", realm=\"R\", "
	    "nonce=\"N\", uri=\"/wsman\", "
	    "response=\"0123456789abcdef0123456789abcdef\", qop=auth-int, "
	    "nc=00000001, cnonce=\"c\"", &a), AMTP_E_UNSUPPORTED);
	assert_int_equal(parse_str(GOOD_AUTH ", algorithm=SHA-256", &a),
	    AMTP_E_UNSUPPORTED);
	assert_int_equal(parse_str(GOOD_AUTH ", algorithm=md5", &a), 0);
	/* Response must be 32 hex digits. */
	assert_int_equal(parse_str("Digest username=\"admin\", realm=\"R\", "
	    "nonce=\"N\", uri=\"/wsman\", response=\"0123\", qop=auth, "
	    "nc=00000001, cnonce=\"c\"", &a), AMTP_E_PARSE);
	assert_int_equal(parse_str("Digest username=\"admin\", realm=\"R\", "
	    "nonce=\"N\", uri=\"/wsman\", "
	    "response=\"0123456789abcdef0123456789abcdeg\", qop=auth, "
	    "nc=00000001, cnonce=\"c\"", &a), AMTP_E_PARSE);
}

static void
test_nc_forms(void **state)
{
	static const struct {
		const char *nc;
		int r;
		uint64_t v;
	} t[] = {
		{ "00000001", 0, 1 }, { "0000000a", 0, 10 }, { "FFFFFFFF", 0,
		    0xffffffffULL }, { "1", 0, 1 }, { "10", 0, 10 },
		{ "4294967296", 0, 4294967296ULL }, { "12345678", 0, 0x12345678 },
		{ "0", AMTP_E_PARSE, 0 }, { "00000000", AMTP_E_PARSE, 0 },
		{ "01", AMTP_E_PARSE, 0 }, { "1a", AMTP_E_PARSE, 0 },
		{ "0000000g", AMTP_E_PARSE, 0 }, { "12345678901", AMTP_E_PARSE, 0 },
		{ "-1", AMTP_E_PARSE, 0 }, { "0x1", AMTP_E_PARSE, 0 },
	};
	struct amtp_digest_auth a;
	char h[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(h, sizeof(h), "Digest username=\"admin\", realm=\"R\", "
		    "nonce=\"N\", uri=\"/wsman\", "
		    "response=\"0123456789abcdef0123456789abcdef\", qop=auth, "
		    "nc=\"%s\", cnonce=\"c\"", t[i].nc);
		assert_int_equal(parse_str(h, &a), t[i].r);
		if (t[i].r == 0)
			assert_true(a.nc_value == t[i].v);
	}
}

static void
test_challenge_errors(void **state)
{
	struct amtp_digest_challenge c;
	struct amtp_buf *b = amtp_buf_new(512);
	struct amtp_buf *tiny = amtp_buf_new(16);
	uint8_t ha1[16];
	char big[300];

	(void)state;
	assert_int_equal(chal_str("Digest realm=\"R\"", &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest nonce=\"N\"", &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"\"", &c),
	    AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R\", realm=\"S\", nonce=\"N\"",
	    &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N\", stale=\"x\"",
	    &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N\", stale=false, "
	    "stale=true", &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N\", "
	    "qop=\"auth-int\"", &c), AMTP_E_UNSUPPORTED);
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N\", qop=\"auth,\"",
	    &c), AMTP_E_PARSE);
	assert_int_equal(chal_str("Digest realm=\"R, nonce=\"N\"", &c),
	    AMTP_E_PARSE);
	assert_int_equal(chal_str("Negotiate", &c), AMTP_E_UNSUPPORTED);
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char h[512];

		snprintf(h, sizeof(h), "Digest realm=\"%s\", nonce=\"N\"", big);
		assert_int_equal(chal_str(h, &c), AMTP_E_TOOBIG);
	}

	/* client_answer argument checks */
	assert_int_equal(chal_str(AMT_CHALLENGE, &c), 0);
	memset(ha1, 0, sizeof(ha1));
	assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "POST",
	    "/wsman", 0, NULL, b), AMTP_E_INVAL);
	assert_int_equal(amtp_digest_client_answer(&c, "ad\nmin", ha1, "POST",
	    "/wsman", 1, NULL, b), AMTP_E_INVAL);
	assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "POST",
	    "/wsman", 1, "", b), AMTP_E_INVAL);
	assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "POST",
	    "/wsman", 1, NULL, tiny), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(tiny), 0);
	c.qop_auth = 0;
	c.qop_auth_int = 1;
	assert_int_equal(amtp_digest_client_answer(&c, "admin", ha1, "POST",
	    "/wsman", 1, NULL, b), AMTP_E_UNSUPPORTED);
	assert_int_equal(amtp_buf_len(b), 0);
	amtp_buf_free(b);
	amtp_buf_free(tiny);
}

static void
test_rfc2069(void **state)
{
	struct amtp_digest_challenge c;
	struct amtp_buf *b = amtp_buf_new(1024);
	uint8_t ha1[16];
	char buf[256], h1[33], h2[33], want[33], exp[64];

	(void)state;
	assert_int_equal(chal_str("Digest realm=\"R\", nonce=\"N1\"", &c), 0);
	assert_int_equal(amtp_digest_ha1_raw("u", "R", "p", 1, ha1), 0);
	assert_int_equal(amtp_digest_client_answer(&c, "u", ha1, "POST", "/wsman",
	    1, "cn", b), 0);
	md5hex("u:R:p", h1);
	md5hex("POST:/wsman", h2);
	snprintf(buf, sizeof(buf), "%s:N1:%s", h1, h2);
	md5hex(buf, want);
	snprintf(exp, sizeof(exp), "response=\"%s\"", want);
	assert_non_null(strstr(amtp_buf_str(b), exp));
	assert_null(strstr(amtp_buf_str(b), "qop="));
	assert_null(strstr(amtp_buf_str(b), "cnonce="));
	amtp_buf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_mufasa),
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_amt_challenge),
		cmocka_unit_test(test_gowsman_hex_nc),
		cmocka_unit_test(test_meshcentral_decimal_nc),
		cmocka_unit_test(test_own_client_against_server),
		cmocka_unit_test(test_forged_nonce),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_auth_parse_errors),
		cmocka_unit_test(test_nc_forms),
		cmocka_unit_test(test_challenge_errors),
		cmocka_unit_test(test_rfc2069),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
