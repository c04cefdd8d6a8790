/* Unit tests for src/amtsim/net/http.c: what a simulated device decides when
 * a request's headers are in: which port is open in which state, the
 * setup-session gate, method/path/header-count/body-size bounds before and
 * after authentication, and Digest as AMT does it (who may log in during
 * setup and after, RFC 7616 form from libcurl/libamtp and MeshCentral's
 * quoted decimal-nc form, wrong passwords, replays, stale nonces). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "device.h"
#include "net/simnet.h"

struct fixture {
	char			 dir[64];
	struct amtsim_fleet_ctx	 ctx;
	struct amtsim_net	 net;
	struct amtsim_device	*d;
	struct simnet_dev	*sd;
	uint64_t		 clock;
};

static uint64_t
fake_clock(void *arg)
{
	return ((struct fixture *)arg)->clock;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct amtsim_device_spec spec;

	assert_non_null(f);
	assert_int_equal(simnet_state_register(), 0);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 1;
	f->ctx.prov_period = 3600;
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = "11.8.50";
	spec.ipv4 = 0x7f140001u;
	spec.mebx_password = "Mebx!Pass1";
	spec.dhcp_dns_suffix = "corp.example";
	spec.pki_dns_suffix = "";
	assert_int_equal(amtsim_device_create(&spec, NULL, &f->d), 0);
	amtsim_device_set_ctx(f->d, &f->ctx);
	assert_int_equal(amtsim_device_event(f->d, AMTSIM_EV_START_CONFIG, 0),
	    0);
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &f->net.nonces),
	    0);
	f->clock = 1800000000000ull;
	amtp_digest_nonces_set_clock(f->net.nonces, fake_clock, f);
	f->sd = simnet_dev_get(&f->net, f->d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	f->sd->net = NULL;
	simnet_dev_free(f->sd);
	amtp_digest_nonces_free(f->net.nonces);
	amtsim_device_free(f->d);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* An Authorization value from libamtp's client (RFC 7616 form). */
static char *
answer(struct fixture *f, const char *user, const char *pw, uint32_t nc,
    char *nonce_io)
{
	static char out[AMTP_DIGEST_HEADER_MAX];
	struct amtp_digest_challenge c;
	struct amtp_buf *b;
	uint8_t ha1[16];

	memset(&c, 0, sizeof(c));
	if (nonce_io[0] == '\0')
		assert_int_equal(amtp_digest_nonce_issue(f->net.nonces,
		    f->d->realm, nonce_io), 0);
	(void)amtp_strlcpy(c.realm, f->d->realm, sizeof(c.realm));
	(void)amtp_strlcpy(c.nonce, nonce_io, sizeof(c.nonce));
	c.qop_auth = c.has_qop = 1;
	assert_int_equal(amtp_digest_ha1_raw(user, f->d->realm, pw, strlen(pw),
	    ha1), 0);
	assert_non_null(b = amtp_buf_new(AMTP_DIGEST_HEADER_MAX));
	assert_int_equal(amtp_digest_client_answer(&c, user, ha1, "POST",
	    "/wsman", nc, NULL, b), 0);
	(void)amtp_strlcpy(out, amtp_buf_str(b), sizeof(out));
	amtp_buf_free(b);
	return out;
}

static void
md5hex(const char *s, char out[33])
{
	uint8_t md[16];
	unsigned n = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL), 1);
	(void)amtp_hex_encode(out, 33, md, 16, 0);
}

/* MeshCentral's form: every value quoted, nc an unpadded decimal. */
static char *
mesh_answer(struct fixture *f, const char *pw, unsigned nc, const char *nonce)
{
	static char out[1024];
	char ha1[33], ha2[33], resp[33], tmp[512];

	(void)snprintf(tmp, sizeof(tmp), "admin:%s:%s", f->d->realm, pw);
	md5hex(tmp, ha1);
	md5hex("POST:/wsman", ha2);
	(void)snprintf(tmp, sizeof(tmp), "%s:%s:%u:0123456789abcdef0123456789abcdef:auth:%s",
	    ha1, nonce, nc, ha2);
	md5hex(tmp, resp);
	(void)snprintf(out, sizeof(out), "Digest username=\"admin\","
	    "realm=\"%s\",nonce=\"%s\",uri=\"/wsman\",qop=\"auth\",nc=\"%u\","
	    "cnonce=\"0123456789abcdef0123456789abcdef\",response=\"%s\"",
	    f->d->realm, nonce, nc, resp);
	return out;
}

static int
decide(struct fixture *f, int tls, int tls_ok, const char *method,
    const char *url, unsigned nh, const char *auth, const char *cl,
    struct simnet_http_decision *dec)
{
	return simnet_http_headers(f->sd, tls, tls_ok, method, url, nh, auth,
	    cl, dec);
}

static int
auth_of(struct fixture *f, const char *auth)
{
	struct simnet_http_decision dec;

	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 5, auth, NULL,
	    &dec), 1);
	assert_int_equal(dec.early, 0);
	return dec.auth;
}

static void
test_ports_and_gate(void **state)
{
	struct fixture *f = *state;
	struct simnet_http_decision dec;

	/* IN: 16992 closed; 16993 only after the chain was accepted. */
	assert_int_equal(decide(f, 0, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 0);
	assert_int_equal(decide(f, 1, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 0);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 1);
	assert_int_equal(dec.auth, AUTH_NONE);
	/* POST without TLS settings: both open, no chain needed. */
	(void)json_object_set_new(simnet_flash(f->d), "admin", json_pack(
	    "{ssss}", "user", "admin", "ha1", "00000000000000000000000000000000"));
	assert_int_equal(amtsim_device_event(f->d, AMTSIM_EV_COMMIT,
	    AMTP_AMT_CONTROL_ACM), 0);
	assert_int_equal(decide(f, 0, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 1);
	assert_int_equal(decide(f, 1, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 1);
	/* TLS on and non-secure refused: 16992 closes. */
	(void)json_object_set_new(simnet_flash(f->d), "tls_active", json_pack(
	    "{sbsbsb}", "enabled", 1, "accept_non_secure", 0, "mutual", 0));
	assert_int_equal(decide(f, 0, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 0);
	(void)json_object_set_new(simnet_flash(f->d), "tls_active", json_pack(
	    "{sbsbsb}", "enabled", 1, "accept_non_secure", 1, "mutual", 0));
	assert_int_equal(decide(f, 0, 0, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 1);
	/* PRE: nothing listens. */
	assert_int_equal(amtsim_device_event(f->d, AMTSIM_EV_UNPROVISION, 0),
	    0);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, NULL,
	    &dec), 0);
}

static void
test_bounds(void **state)
{
	struct fixture *f = *state;
	struct simnet_http_decision dec;
	char nonce[AMTP_DIGEST_NONCE_HEXLEN + 1] = "", big[32];

	assert_int_equal(decide(f, 1, 1, "GET", "/wsman", 3, NULL, NULL, &dec),
	    1);
	assert_int_equal(dec.early, 405);
	assert_int_equal(decide(f, 1, 1, "POST", "/index.htm", 3, NULL, NULL,
	    &dec), 1);
	assert_int_equal(dec.early, 404);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman",
	    AMTP_SIM_NET_HEADERS_MAX, NULL, NULL, &dec), 1);
	assert_int_equal(dec.early, 0);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman",
	    AMTP_SIM_NET_HEADERS_MAX + 1, NULL, NULL, &dec), 1);
	assert_int_equal(dec.early, 431);
	/* Before authentication: at most the small cap. */
	(void)snprintf(big, sizeof(big), "%d", AMTP_SIM_NET_PREAUTH_BODY_MAX);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, big, &dec),
	    1);
	(void)snprintf(big, sizeof(big), "%d", AMTP_SIM_NET_PREAUTH_BODY_MAX +
	    1);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, big, &dec),
	    0);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, "-1",
	    &dec), 0);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, NULL, "12x",
	    &dec), 0);
	/* Authenticated: the SOAP cap. */
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, answer(f, "admin",
	    "", 1, nonce), big, &dec), 1);
	assert_int_equal(dec.auth, AUTH_OK);
	assert_int_equal(dec.body_max, AMTP_SIM_NET_BODY_MAX);
	(void)snprintf(big, sizeof(big), "%d", AMTP_SIM_NET_BODY_MAX + 1);
	assert_int_equal(decide(f, 1, 1, "POST", "/wsman", 3, answer(f, "admin",
	    "", 2, nonce), big, &dec), 0);
}

static void
test_setup_session_accounts(void **state)
{
	struct fixture *f = *state;
	char nonce[AMTP_DIGEST_NONCE_HEXLEN + 1] = "";

	assert_int_equal(auth_of(f, NULL), AUTH_NONE);
	assert_int_equal(auth_of(f, "Basic YWRtaW46"), AUTH_BAD);
	/* admin with the empty password, then the MEBx password. */
	assert_int_equal(auth_of(f, answer(f, "admin", "", 1, nonce)), AUTH_OK);
	assert_int_equal(auth_of(f, answer(f, "admin", "Mebx!Pass1", 2,
	    nonce)), AUTH_OK);
	assert_int_equal(auth_of(f, answer(f, "admin", "wrong", 3, nonce)),
	    AUTH_BAD);
	assert_int_equal(auth_of(f, answer(f, "root", "", 4, nonce)), AUTH_BAD);
	/* Replay: the same nc again. */
	assert_int_equal(auth_of(f, answer(f, "admin", "", 2, nonce)),
	    AUTH_BAD);
	/* MeshCentral: quoted qop/nc, decimal nc, counting up. */
	assert_int_equal(auth_of(f, mesh_answer(f, "", 9, nonce)), AUTH_OK);
	assert_int_equal(auth_of(f, mesh_answer(f, "", 10, nonce)), AUTH_OK);
	assert_int_equal(auth_of(f, mesh_answer(f, "x", 11, nonce)), AUTH_BAD);
	/* A nonce past its life: stale (the password was right). */
	f->clock += (uint64_t)(AMTP_DIGEST_NONCE_LIFETIME + 1) * 1000;
	assert_int_equal(auth_of(f, answer(f, "admin", "", 12, nonce)),
	    AUTH_STALE);
	/* Another device's realm (a nonce made for another realm). */
	{
		char other[AMTP_DIGEST_NONCE_HEXLEN + 1];

		assert_int_equal(amtp_digest_nonce_issue(f->net.nonces,
		    "Digest:00000000000000000000000000000000", other), 0);
		assert_int_equal(auth_of(f, answer(f, "admin", "", 1, other)),
		    AUTH_BAD);
	}
	/* The MEBx password changes: the old one stops working. */
	(void)amtp_strlcpy(f->d->mebx_password, "Mebx!Pass2",
	    sizeof(f->d->mebx_password));
	nonce[0] = '\0';
	assert_int_equal(auth_of(f, answer(f, "admin", "Mebx!Pass1", 1,
	    nonce)), AUTH_BAD);
	assert_int_equal(auth_of(f, answer(f, "admin", "Mebx!Pass2", 2,
	    nonce)), AUTH_OK);
}

static void
test_post_accounts(void **state)
{
	struct fixture *f = *state;
	char nonce[AMTP_DIGEST_NONCE_HEXLEN + 1] = "", hex[33];
	uint8_t ha1[16];
	json_t *users;

	/* The admin account set by SetAdminAclEntryEx (HA1 stored). */
	assert_int_equal(amtp_digest_ha1_raw("admin", f->d->realm, "P@ssw0rd!",
	    9, ha1), 0);
	(void)amtp_hex_encode(hex, sizeof(hex), ha1, 16, 0);
	(void)json_object_set_new(simnet_flash(f->d), "admin", json_pack(
	    "{ssss}", "user", "admin", "ha1", hex));
	/* In IN it works beside the setup passwords. */
	assert_int_equal(auth_of(f, answer(f, "admin", "P@ssw0rd!", 1, nonce)),
	    AUTH_OK);
	assert_int_equal(amtsim_device_event(f->d, AMTSIM_EV_COMMIT,
	    AMTP_AMT_CONTROL_ACM), 0);
	/* In POST the setup passwords are gone. */
	assert_int_equal(auth_of(f, answer(f, "admin", "", 2, nonce)),
	    AUTH_BAD);
	assert_int_equal(auth_of(f, answer(f, "admin", "Mebx!Pass1", 3,
	    nonce)), AUTH_BAD);
	assert_int_equal(auth_of(f, answer(f, "admin", "P@ssw0rd!", 4, nonce)),
	    AUTH_OK);
	/* User ACL entries: network access yes, local only no. */
	assert_int_equal(amtp_digest_ha1_raw("op", f->d->realm, "Op3r@tor!",
	    9, ha1), 0);
	(void)amtp_hex_encode(hex, sizeof(hex), ha1, 16, 0);
	users = json_object_get(simnet_flash(f->d), "users");
	(void)json_array_append_new(users, json_pack("{sisssssi}", "handle", 1,
	    "user", "op", "ha1", hex, "access", 2));
	assert_int_equal(auth_of(f, answer(f, "op", "Op3r@tor!", 5, nonce)),
	    AUTH_OK);
	(void)json_object_set_new(json_array_get(users, 0), "access",
	    json_integer(0));
	assert_int_equal(auth_of(f, answer(f, "op", "Op3r@tor!", 6, nonce)),
	    AUTH_BAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ports_and_gate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_session_accounts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_accounts, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
