/*
 * A fake AMT device behind a fake oobsp transport, for the service point's
 * unit tests (tests/unit/amtprovd/oobsp_*.c; static functions: include it
 * once per test program).
 *
 * Requests are the engine's real WS-Management envelopes (wsman.c builds
 * them), parsed with amtp_wsman_request_parse() and answered with
 * amtp_wsman_response_build(), so the steps read the bytes they would read
 * from a device.  Digest and TLS are modelled, not run: a connection carries
 * its user, password, pin and client-certificate flag, and the device takes
 * or refuses them by the rules of DESIGN.md (setup session: the provisioning
 * chain and admin with "" or the MEBx password; after the commit: admin with
 * the password it holds, over its stored certificate).  Real TLS and real
 * Digest are exercised against amtsim by tests/integration/oobsp_*.sh.
 */
#ifndef TEST_OOBSP_FAKEDEV_H
#define TEST_OOBSP_FAKEDEV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"

#define FD_MAX_DEVS	64
#define FD_MAX_CERTS	8
#define FD_MAX_ACLS	16
#define FD_REPLY_MAX	(256 * 1024)

struct fakedev {
	char		 addr[32];
	int		 state;			/* 0 PRE, 1 IN, 2 POST */
	char		 realm[64];
	char		 otp[40];		/* "" none */
	char		 mebx[40];		/* MEBx password, "" none */
	int		 accept_empty;		/* setup: admin + "" */
	int		 accept_admin_in;	/* IN: the admin password too */
	char		 admin_hash[64];	/* DigestPassword as set, "" */
	int		 refuse_tls;		/* refuse the provisioning chain */
	int		 keygen_unsupported;
	int		 commit_fails;		/* CommitChanges -> 2057 */
	int		 down_after_commit;	/* reboot: down for n runs */
	int		 wireless, wifi_n, nroots;
	int		 wifi_x[8];	/* 802.1X settings + client + CA refs */
	int		 x_enabled, x_proto;
	int		 ips_enabled;	/* IPS_IEEE8021xSettings.Enabled */
	int		 x_linked;	/* SetCertificates: references */
	char		 x_user[64];
	char		 wifi_id[8][96], wifi_ssid[8][33], wifi_psk[8][64];
	int		 krb_enabled, krb_nspn;
	char		 krb_realm[64], krb_key[64], krb_spn0[128];
	char		 krb_proto[8];
	char		 host[64], domain[128];
	int		 ping, tls_enabled, mutual, nonsecure;
	int		 redir_state, listener, webui_state;
	char		 power_id[64];
	int		 nkeys;
	int		 ncerts;
	X509		*certs[FD_MAX_CERTS];
	int		 ctx_cert;		/* bound to TLS, -1 none */
	int		 added_key;		/* AddKey used */
	int		 nacls;
	char		 acl_user[FD_MAX_ACLS][64];
	int		 acl_handle[FD_MAX_ACLS];
	int		 next_handle;
	/* counters */
	unsigned long	 requests;		/* authenticated requests */
	unsigned long	 writes;		/* requests that change state */
	unsigned long	 unprovisions;		/* Unprovision taken */
	unsigned long	 auth_fail;
	/* faults: the n-th authenticated request (1-based) gets a reset */
	unsigned long	 reset_at[4];
	int		 down_runs;		/* refuse connections n runs */
	/* called when a password arrives (SetAdminAclEntryEx: what is the
	 * DigestPassword; SetMEBxPassword: the password), or a certificate
	 * (AddCertificate: the blob), before it is taken */
	void		(*on_password)(struct fakedev *, const char *meth,
			    const char *value, void *arg);
	void		*on_password_arg;
	/* an Enumerate of this class is answered with an EnumerationContext
	 * too long for any client to keep */
	const char	*long_enum_ctx;
};

#define FD_LONG_CTX	"ctx-" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123"

struct fconn {
	struct fakenet		*n;
	char			 addr[32];
	char			 user[40];
	char			 pw[64];
	char			*pin;
	int			 client;
	const void		*body;
	struct amtp_buf		*req;
	oobsp_reply_fn		 cb;
	void			*arg;
	struct fconn		*qnext;
	int			 queued;
};

struct fakenet {
	struct oobsp_transport	 base;
	struct fakedev		 devs[FD_MAX_DEVS];
	size_t			 ndevs;
	EVP_PKEY		*devkey;	/* the key every device "makes" */
	unsigned long		 kill_after;	/* processed requests; 0 never */
	unsigned long		 processed;
	int			 killed;
	struct fconn		*queue;
	unsigned long		 msg;
};

static struct fakedev *
fake_find(struct fakenet *n, const char *addr)
{
	size_t i;

	for (i = 0; i < n->ndevs; i++)
		if (strcmp(n->devs[i].addr, addr) == 0)
			return &n->devs[i];
	return NULL;
}

static struct fakedev *
fakenet_add(struct fakenet *n, const char *addr, const char *otp)
{
	struct fakedev *d;

	if (n->ndevs >= FD_MAX_DEVS)
		return NULL;
	d = &n->devs[n->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	snprintf(d->otp, sizeof(d->otp), "%s", otp);
	snprintf(d->realm, sizeof(d->realm), "Digest:%08X0123456789ABCDEF0123"
	    "4567", (unsigned)n->ndevs);
	d->state = 1;
	d->accept_empty = 1;
	d->ctx_cert = -1;
	d->next_handle = 1;
	d->redir_state = 32768;
	d->webui_state = 3;
	return d;
}

/* ---- transport ---- */

static int
f_open(struct oobsp_transport *t, const struct oobsp_target *tg,
    struct oobsp_conn **out)
{
	struct fconn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return AMTP_E_NOMEM;
	c->n = (struct fakenet *)t;
	snprintf(c->addr, sizeof(c->addr), "%s", tg->addr);
	snprintf(c->user, sizeof(c->user), "%s", tg->user);
	snprintf(c->pw, sizeof(c->pw), "%s", amtp_secret_cstr(tg->password));
	c->client = tg->client_chain_pem != NULL && tg->client_key_pem != NULL;
	if (tg->pin != NULL)
		c->pin = strdup(tg->pin);
	*out = (struct oobsp_conn *)c;
	return 0;
}

static void
f_unqueue(struct fakenet *n, struct fconn *c)
{
	struct fconn **pp;

	for (pp = &n->queue; *pp != NULL; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			break;
		}
	c->queued = 0;
}

static void
f_close(struct oobsp_transport *t, struct oobsp_conn *oc)
{
	struct fconn *c = (struct fconn *)oc;

	if (c == NULL)
		return;
	if (c->queued)
		f_unqueue((struct fakenet *)t, c);
	amtp_buf_free(c->req);
	explicit_bzero(c->pw, sizeof(c->pw));
	free(c->pin);
	free(c);
}

static int
f_send(struct oobsp_transport *t, struct oobsp_conn *oc, const void *body,
    size_t len, oobsp_reply_fn cb, void *arg)
{
	struct fconn *c = (struct fconn *)oc, **pp;

	if (c->queued)
		return AMTP_E_BUSY;
	amtp_buf_free(c->req);
	if ((c->req = amtp_buf_from(body, len, len + 1)) == NULL)
		return AMTP_E_NOMEM;
	c->cb = cb;
	c->arg = arg;
	c->queued = 1;
	c->qnext = NULL;
	for (pp = &((struct fakenet *)t)->queue; *pp != NULL;
	    pp = &(*pp)->qnext)
		;
	*pp = c;
	return 0;
}

/* ---- the device ---- */

static const char *
cls_of(const char *uri)
{
	const char *s = strrchr(uri != NULL ? uri : "", '/');

	return s != NULL ? s + 1 : "";
}

static int
hash_ok(const struct fakedev *d, const char *user, const char *pw)
{
	uint8_t ha1[16];
	struct amtp_buf *b = amtp_buf_new(64);
	int ok;

	amtp_digest_ha1_raw(user, d->realm, pw, strlen(pw), ha1);
	amtp_b64_encode(b, ha1, 16);
	ok = d->admin_hash[0] != '\0' &&
	    strcmp(amtp_buf_str(b), d->admin_hash) == 0;
	amtp_buf_free(b);
	return ok;
}

/* 0, AMTP_E_AUTH or AMTP_E_TLS */
static int
fake_auth(struct fakedev *d, struct fconn *c)
{
	char pin[600] = "";
	int i;

	if (strcmp(c->user, "admin") != 0)
		return AMTP_E_AUTH;
	if (d->state == 1) {
		if (!c->client || d->refuse_tls)
			return AMTP_E_TLS;
		if (c->pw[0] == '\0' && d->accept_empty)
			return 0;
		if (d->mebx[0] != '\0' && strcmp(c->pw, d->mebx) == 0)
			return 0;
		if (d->accept_admin_in && hash_ok(d, "admin", c->pw))
			return 0;
		return AMTP_E_AUTH;
	}
	if (d->state == 2) {
		if (c->pin != NULL) {
			if (d->ctx_cert < 0)
				return AMTP_E_TLS;
			oobsp_pin_append(d->certs[d->ctx_cert], pin,
			    sizeof(pin));
			for (i = 0; pin[i] != '\0'; i++)
				;
			if (strstr(c->pin, pin) == NULL)
				return AMTP_E_TLS;
		}
		return hash_ok(d, "admin", c->pw) ? 0 : AMTP_E_AUTH;
	}
	return AMTP_E_CLOSED;	/* PRE: not listening */
}

#define P(nm, tx) { NULL, (nm), (tx), NULL, NULL, 0 }

static int
reply_obj(struct fakenet *n, const struct amtp_wsman_request *q,
    struct amtp_buf *out, const struct amtp_wsman_obj *body,
    const struct amtp_wsman_epr *created, const char *ctx,
    const struct amtp_wsman_obj *items, size_t nitems)
{
	struct amtp_wsman_resp_build rb;
	char mid[32];

	snprintf(mid, sizeof(mid), "uuid:%lu", ++n->msg);
	memset(&rb, 0, sizeof(rb));
	rb.op = q->op;
	rb.resource_uri = q->resource_uri;
	rb.method = q->method;
	rb.relates_to = q->message_id;
	rb.message_id = mid;
	rb.body = body;
	rb.created = created;
	rb.enum_context = ctx;
	rb.items = items;
	rb.nitems = nitems;
	rb.end_of_sequence = q->op == AMTP_WSMAN_OP_PULL;
	return amtp_wsman_response_build(&rb, out);
}

static int
reply_rv(struct fakenet *n, const struct amtp_wsman_request *q,
    struct amtp_buf *out, long rv, const struct amtp_wsman_prop *extra,
    size_t nextra)
{
	struct amtp_wsman_prop props[16];
	struct amtp_wsman_obj o;
	char rvs[16];
	size_t i;

	snprintf(rvs, sizeof(rvs), "%ld", rv);
	for (i = 0; i < nextra; i++)
		props[i] = extra[i];
	memset(&props[nextra], 0, sizeof(props[0]));
	props[nextra].name = "ReturnValue";
	props[nextra].text = rvs;
	memset(&o, 0, sizeof(o));
	o.props = props;
	o.nprops = nextra + 1;
	return reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
}

static const char *
in_text(const struct amtp_wsman_request *q, const char *name)
{
	return q->body != NULL ? amtp_wsman_obj_text(q->body, name) : NULL;
}

static int
b64_of(struct amtp_buf *b, const unsigned char *der, int len)
{
	amtp_buf_reset(b);
	return amtp_b64_encode(b, der, (size_t)len);
}

/* Handles one authenticated request; 0 with out filled, or <0. */
static int
fake_handle(struct fakenet *n, struct fakedev *d,
    const struct amtp_wsman_request *q, struct amtp_buf *out)
{
	const char *cls = cls_of(q->resource_uri), *s;
	struct amtp_wsman_prop props[24];
	struct amtp_wsman_obj o, items[FD_MAX_CERTS + 2];
	struct amtp_wsman_selector sel[2];
	struct amtp_wsman_epr epr;
	struct amtp_buf *b = amtp_buf_new(FD_REPLY_MAX);
	struct amtp_buf *blobs[FD_MAX_CERTS] = { NULL };
	const struct amtp_wsman_prop *pp;
	char buf[8][128];
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_REQ *req;
	X509 *x;
	int len, i, r = AMTP_E_UNSUPPORTED, m = q->op;
	const char *meth = q->method != NULL ? q->method : "";

	memset(props, 0, sizeof(props));
	memset(&o, 0, sizeof(o));
	o.props = props;
#define W() d->writes++
	if (strcmp(cls, "AMT_SetupAndConfigurationService") == 0) {
		if (m == AMTP_WSMAN_OP_GET) {
			snprintf(buf[0], sizeof(buf[0]), "%d", d->state);
			amtp_b64_encode(b, d->otp, strlen(d->otp));
			props[0] = (struct amtp_wsman_prop)P("ProvisioningState",
			    buf[0]);
			props[1] = (struct amtp_wsman_prop)P(
			    "ProvisioningServerOTP", d->state == 1 ?
			    amtp_buf_str(b) : "");
			props[2] = (struct amtp_wsman_prop)P("ProvisioningMode",
			    "1");
			o.nprops = 3;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (strcmp(meth, "SetMEBxPassword") == 0) {
			W();
			if (d->on_password != NULL)
				d->on_password(d, meth, in_text(q, "Password"),
				    d->on_password_arg);
			snprintf(d->mebx, sizeof(d->mebx), "%s",
			    in_text(q, "Password"));
			r = reply_rv(n, q, out, 0, NULL, 0);
		} else if (strcmp(meth, "Unprovision") == 0) {
			/* amtsim: mode 0, 1 or 4 -> PRE; else 36 */
			const char *pm = in_text(q, "ProvisioningMode");

			W();
			if (pm == NULL || (strcmp(pm, "0") != 0 &&
			    strcmp(pm, "1") != 0 && strcmp(pm, "4") != 0))
				r = reply_rv(n, q, out, 36, NULL, 0);
			else {
				d->state = 0;
				d->admin_hash[0] = '\0';
				d->unprovisions++;
				r = reply_rv(n, q, out, 0, NULL, 0);
			}
		} else if (strcmp(meth, "CommitChanges") == 0) {
			W();
			if (d->commit_fails || d->admin_hash[0] == '\0')
				r = reply_rv(n, q, out, 2057, NULL, 0);
			else {
				d->state = 2;
				d->down_runs = d->down_after_commit;
				r = reply_rv(n, q, out, 0, NULL, 0);
			}
		}
	} else if (strcmp(cls, "AMT_GeneralSettings") == 0) {
		if (m == AMTP_WSMAN_OP_GET) {
			props[0] = (struct amtp_wsman_prop)P("DigestRealm",
			    d->realm);
			props[1] = (struct amtp_wsman_prop)P("HostName",
			    d->host);
			props[2] = (struct amtp_wsman_prop)P("DomainName",
			    d->domain);
			props[3] = (struct amtp_wsman_prop)P(
			    "PingResponseEnabled", d->ping ? "true" : "false");
			props[4] = (struct amtp_wsman_prop)P("InstanceID",
			    "Intel(r) AMT: General Settings");
			o.nprops = 5;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_PUT) {
			W();
			if ((s = in_text(q, "HostName")) != NULL)
				snprintf(d->host, sizeof(d->host), "%s", s);
			if ((s = in_text(q, "DomainName")) != NULL)
				snprintf(d->domain, sizeof(d->domain), "%s", s);
			if ((s = in_text(q, "PingResponseEnabled")) != NULL)
				d->ping = strcmp(s, "true") == 0;
			r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_TimeSynchronizationService") == 0) {
		if (strcmp(meth, "GetLowAccuracyTimeSynch") == 0) {
			snprintf(buf[0], sizeof(buf[0]), "%lld",
			    (long long)time(NULL) - 3600);
			props[0] = (struct amtp_wsman_prop)P("Ta0", buf[0]);
			r = reply_rv(n, q, out, 0, props, 1);
		} else if (strcmp(meth, "SetHighAccuracyTimeSynch") == 0) {
			W();
			r = reply_rv(n, q, out, in_text(q, "Ta0") != NULL &&
			    in_text(q, "Tm1") != NULL ? 0 : 36, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_PublicKeyManagementService") == 0) {
		if (strcmp(meth, "GenerateKeyPair") == 0) {
			W();
			if (d->keygen_unsupported)
				r = reply_rv(n, q, out, 2066, NULL, 0);
			else {
				snprintf(buf[0], sizeof(buf[0]),
				    "Intel(r) AMT Key: Handle: %d", d->nkeys++);
				memset(sel, 0, sizeof(sel));
				sel[0].name = "InstanceID";
				sel[0].value = buf[0];
				memset(&epr, 0, sizeof(epr));
				epr.resource_uri = AMTP_WSMAN_URI_AMT
				    "AMT_PublicPrivateKeyPair";
				epr.selectors = sel;
				epr.nselectors = 1;
				props[0].name = "KeyPair";
				props[0].epr = &epr;
				r = reply_rv(n, q, out, 0, props, 1);
			}
		} else if (strcmp(meth, "AddKey") == 0) {
			W();
			d->added_key = 1;
			r = reply_rv(n, q, out, in_text(q, "KeyBlob") != NULL ?
			    0 : 36, NULL, 0);
		} else if (strcmp(meth, "GeneratePKCS10RequestEx") == 0) {
			s = in_text(q, "NullSignedCertificateRequest");
			amtp_b64_decode(b, s, strlen(s));
			p = amtp_buf_ptr(b);
			req = d2i_X509_REQ(NULL, &p, (long)amtp_buf_len(b));
			if (req == NULL ||
			    X509_REQ_sign(req, n->devkey, EVP_sha256()) <= 0) {
				X509_REQ_free(req);
				r = reply_rv(n, q, out, 36, NULL, 0);
			} else {
				len = i2d_X509_REQ(req, &der);
				X509_REQ_free(req);
				b64_of(b, der, len);
				OPENSSL_free(der);
			der = NULL;
				props[0] = (struct amtp_wsman_prop)P(
				    "SignedCertificateRequest", amtp_buf_str(b));
				r = reply_rv(n, q, out, 0, props, 1);
			}
		} else if (strcmp(meth, "AddTrustedRootCertificate") == 0) {
			W();
			s = in_text(q, "CertificateBlob");
			amtp_b64_decode(b, s, strlen(s));
			p = amtp_buf_ptr(b);
			x = d2i_X509(NULL, &p, (long)amtp_buf_len(b));
			for (i = 0; x != NULL && i < d->ncerts; i++)
				if (X509_cmp(x, d->certs[i]) == 0)
					break;
			if (x == NULL || d->ncerts >= FD_MAX_CERTS) {
				X509_free(x);
				r = reply_rv(n, q, out, 2063, NULL, 0);
			} else if (i < d->ncerts) {
				X509_free(x);
				r = reply_rv(n, q, out, 2058, NULL, 0);
			} else {
				d->certs[d->ncerts] = x;
				d->nroots++;
				snprintf(buf[0], sizeof(buf[0]),
				    "Intel(r) AMT Certificate: Handle: %d",
				    d->ncerts++);
				memset(sel, 0, sizeof(sel));
				sel[0].name = "InstanceID";
				sel[0].value = buf[0];
				memset(&epr, 0, sizeof(epr));
				epr.resource_uri = AMTP_WSMAN_URI_AMT
				    "AMT_PublicKeyCertificate";
				epr.selectors = sel;
				epr.nselectors = 1;
				props[0].name = "CreatedCertificate";
				props[0].epr = &epr;
				r = reply_rv(n, q, out, 0, props, 1);
			}
		} else if (strcmp(meth, "AddCertificate") == 0) {
			W();
			s = in_text(q, "CertificateBlob");
			if (d->on_password != NULL)
				d->on_password(d, meth, s, d->on_password_arg);
			amtp_b64_decode(b, s, strlen(s));
			p = amtp_buf_ptr(b);
			x = d2i_X509(NULL, &p, (long)amtp_buf_len(b));
			if (x == NULL || d->ncerts >= FD_MAX_CERTS) {
				X509_free(x);
				r = reply_rv(n, q, out, 2063, NULL, 0);
			} else {
				d->certs[d->ncerts] = x;
				snprintf(buf[0], sizeof(buf[0]),
				    "Intel(r) AMT Certificate: Handle: %d",
				    d->ncerts++);
				memset(sel, 0, sizeof(sel));
				sel[0].name = "InstanceID";
				sel[0].value = buf[0];
				memset(&epr, 0, sizeof(epr));
				epr.resource_uri = AMTP_WSMAN_URI_AMT
				    "AMT_PublicKeyCertificate";
				epr.selectors = sel;
				epr.nselectors = 1;
				props[0].name = "CreatedCertificate";
				props[0].epr = &epr;
				r = reply_rv(n, q, out, 0, props, 1);
			}
		}
	} else if (m == AMTP_WSMAN_OP_ENUMERATE) {
		r = reply_obj(n, q, out, NULL, NULL, d->long_enum_ctx != NULL &&
		    strcmp(cls, d->long_enum_ctx) == 0 ? FD_LONG_CTX : "ctx-1",
		    NULL, 0);
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "AMT_PublicPrivateKeyPair") == 0) {
		len = i2d_PublicKey(n->devkey, &der);
		b64_of(b, der, len);
		OPENSSL_free(der);
			der = NULL;
		for (i = 0; i < d->nkeys && i < FD_MAX_CERTS; i++) {
			snprintf(buf[i], sizeof(buf[i]),
			    "Intel(r) AMT Key: Handle: %d", i);
			memset(&props[2 * i], 0, 2 * sizeof(props[0]));
			props[2 * i].name = "DERKey";
			props[2 * i].text = amtp_buf_str(b);
			props[2 * i + 1].name = "InstanceID";
			props[2 * i + 1].text = buf[i];
			memset(&items[i], 0, sizeof(items[i]));
			items[i].name = cls;
			items[i].props = &props[2 * i];
			items[i].nprops = 2;
		}
		r = reply_obj(n, q, out, NULL, NULL, NULL, items, (size_t)i);
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "AMT_PublicKeyCertificate") == 0) {
		for (i = 0; i < d->ncerts; i++) {
			if (blobs[i] == NULL)
				blobs[i] = amtp_buf_new(16384);
			len = i2d_X509(d->certs[i], &der);
			b64_of(blobs[i], der, len);
			OPENSSL_free(der);
			der = NULL;
			snprintf(buf[i], sizeof(buf[i]),
			    "Intel(r) AMT Certificate: Handle: %d", i);
			memset(&props[2 * i], 0, 2 * sizeof(props[0]));
			props[2 * i].name = "X509Certificate";
			props[2 * i].text = amtp_buf_str(blobs[i]);
			props[2 * i + 1].name = "InstanceID";
			props[2 * i + 1].text = buf[i];
			memset(&items[i], 0, sizeof(items[i]));
			items[i].name = cls;
			items[i].props = &props[2 * i];
			items[i].nprops = 2;
		}
		r = reply_obj(n, q, out, NULL, NULL, NULL, items, (size_t)i);
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "AMT_TLSCredentialContext") == 0) {
		i = 0;
		if (d->ctx_cert >= 0) {
			snprintf(buf[0], sizeof(buf[0]),
			    "Intel(r) AMT Certificate: Handle: %d", d->ctx_cert);
			memset(sel, 0, sizeof(sel));
			sel[0].name = "InstanceID";
			sel[0].value = buf[0];
			memset(&epr, 0, sizeof(epr));
			epr.resource_uri = AMTP_WSMAN_URI_AMT
			    "AMT_PublicKeyCertificate";
			epr.selectors = sel;
			epr.nselectors = 1;
			props[0].name = "ElementInContext";
			props[0].epr = &epr;
			memset(&items[0], 0, sizeof(items[0]));
			items[0].name = cls;
			items[0].props = props;
			items[0].nprops = 1;
			i = 1;
		}
		r = reply_obj(n, q, out, NULL, NULL, NULL, items, (size_t)i);
	} else if (m == AMTP_WSMAN_OP_PULL && strcmp(cls, "CIM_WiFiPort") == 0) {
		props[0] = (struct amtp_wsman_prop)P("DeviceID",
		    "WiFi Port 0");
		memset(&items[0], 0, sizeof(items[0]));
		items[0].name = cls;
		items[0].props = props;
		items[0].nprops = 1;
		r = reply_obj(n, q, out, NULL, NULL, NULL, items,
		    d->wireless ? 1 : 0);
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "CIM_WiFiEndpointSettings") == 0) {
		for (i = 0; i < d->wifi_n; i++) {
			memset(&props[2 * i], 0, 2 * sizeof(props[0]));
			props[2 * i].name = "InstanceID";
			props[2 * i].text = d->wifi_id[i];
			props[2 * i + 1].name = "SSID";
			props[2 * i + 1].text = d->wifi_ssid[i];
			memset(&items[i], 0, sizeof(items[i]));
			items[i].name = cls;
			items[i].props = &props[2 * i];
			items[i].nprops = 2;
		}
		r = reply_obj(n, q, out, NULL, NULL, NULL, items,
		    (size_t)d->wifi_n);
	} else if (m == AMTP_WSMAN_OP_DELETE &&
	    strcmp(cls, "CIM_WiFiEndpointSettings") == 0) {
		W();
		s = q->nselectors == 1 ? q->selectors[0].value : NULL;
		for (i = 0; i < d->wifi_n; i++)
			if (s != NULL && strcmp(d->wifi_id[i], s) == 0)
				break;
		if (i == d->wifi_n)
			r = AMTP_E_NOTFOUND;
		else {
			memmove(d->wifi_id[i], d->wifi_id[i + 1],
			    sizeof(d->wifi_id[0]) * (size_t)(d->wifi_n - i - 1));
			memmove(d->wifi_ssid[i], d->wifi_ssid[i + 1],
			    sizeof(d->wifi_ssid[0]) * (size_t)(d->wifi_n - i - 1));
			memmove(d->wifi_psk[i], d->wifi_psk[i + 1],
			    sizeof(d->wifi_psk[0]) * (size_t)(d->wifi_n - i - 1));
			d->wifi_n--;
			r = reply_obj(n, q, out, NULL, NULL, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_WiFiPortConfigurationService") == 0 &&
	    strcmp(meth, "AddWiFiSettings") == 0) {
		const struct amtp_wsman_obj *ws;

		W();
		pp = amtp_wsman_obj_prop(q->body, "WiFiEndpointSettingsInput",
		    0);
		ws = pp != NULL ? pp->obj : NULL;
		if (ws == NULL || d->wifi_n >= 8 ||
		    amtp_wsman_obj_text(ws, "SSID") == NULL ||
		    amtp_wsman_obj_text(ws, "InstanceID") == NULL)
			r = reply_rv(n, q, out, 36, NULL, 0);
		else {
			snprintf(d->wifi_id[d->wifi_n], sizeof(d->wifi_id[0]),
			    "%s", amtp_wsman_obj_text(ws, "InstanceID"));
			snprintf(d->wifi_ssid[d->wifi_n],
			    sizeof(d->wifi_ssid[0]), "%s",
			    amtp_wsman_obj_text(ws, "SSID"));
			snprintf(d->wifi_psk[d->wifi_n], sizeof(d->wifi_psk[0]),
			    "%s", amtp_wsman_obj_text(ws, "PSKPassPhrase") !=
			    NULL ? amtp_wsman_obj_text(ws, "PSKPassPhrase") : "");
			d->wifi_x[d->wifi_n] =
			    (amtp_wsman_obj_prop(q->body,
			    "IEEE8021xSettingsInput", 0) != NULL) +
			    (amtp_wsman_obj_prop(q->body, "ClientCredential", 0)
			    != NULL) + (amtp_wsman_obj_prop(q->body,
			    "CACredential", 0) != NULL);
			d->wifi_n++;
			r = reply_rv(n, q, out, 0, NULL, 0);
		}
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "AMT_SystemPowerScheme") == 0) {
		static const char *const names[] = { "Mobile: ON in S0",
		    "Desktop: ON in S0, ME Wake in S3, S4-5",
		    "Desktop: ON in S0, S3, S4-5" };
		for (i = 0; i < 3; i++) {
			snprintf(buf[i], sizeof(buf[i]), "Intel(r) AMT Power "
			    "Scheme %d", i);
			memset(&props[2 * i], 0, 2 * sizeof(props[0]));
			props[2 * i].name = "ElementName";
			props[2 * i].text = names[i];
			props[2 * i + 1].name = "InstanceID";
			props[2 * i + 1].text = buf[i];
			memset(&items[i], 0, sizeof(items[i]));
			items[i].name = cls;
			items[i].props = &props[2 * i];
			items[i].nprops = 2;
		}
		r = reply_obj(n, q, out, NULL, NULL, NULL, items, 3);
	} else if (m == AMTP_WSMAN_OP_CREATE &&
	    strcmp(cls, "AMT_TLSCredentialContext") == 0) {
		W();
		pp = amtp_wsman_obj_prop(q->body, "ElementInContext", 0);
		s = pp != NULL && pp->epr != NULL ?
		    amtp_wsman_epr_selector(pp->epr, "InstanceID") : NULL;
		if (s == NULL || sscanf(s, "Intel(r) AMT Certificate: "
		    "Handle: %d", &i) != 1 || i >= d->ncerts)
			r = AMTP_E_PROTO;
		else {
			d->ctx_cert = i;
			memset(&epr, 0, sizeof(epr));
			epr.resource_uri = q->resource_uri;
			r = reply_obj(n, q, out, NULL, &epr, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_TLSSettingData") == 0) {
		if (m == AMTP_WSMAN_OP_GET) {
			props[0] = (struct amtp_wsman_prop)P("ElementName",
			    "Intel(r) AMT 802.3 TLS Settings");
			props[1] = (struct amtp_wsman_prop)P("InstanceID",
			    "Intel(r) AMT 802.3 TLS Settings");
			props[2] = (struct amtp_wsman_prop)P("Enabled",
			    d->tls_enabled ? "true" : "false");
			props[3] = (struct amtp_wsman_prop)P(
			    "MutualAuthentication", "false");
			props[4] = (struct amtp_wsman_prop)P(
			    "AcceptNonSecureConnections", "true");
			o.nprops = 5;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_PUT) {
			W();
			d->tls_enabled = in_text(q, "Enabled") != NULL &&
			    strcmp(in_text(q, "Enabled"), "true") == 0;
			s = in_text(q, "AcceptNonSecureConnections");
			d->nonsecure = s != NULL && strcmp(s, "true") == 0;
			r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_AuthorizationService") == 0) {
		if (strcmp(meth, "SetAdminAclEntryEx") == 0) {
			W();
			if (d->on_password != NULL)
				d->on_password(d, meth,
				    in_text(q, "DigestPassword"),
				    d->on_password_arg);
			snprintf(d->admin_hash, sizeof(d->admin_hash), "%s",
			    in_text(q, "DigestPassword"));
			r = reply_rv(n, q, out, 0, NULL, 0);
		} else if (strcmp(meth, "EnumerateUserAclEntries") == 0) {
			for (i = 0; i < d->nacls; i++) {
				snprintf(buf[i % 8], sizeof(buf[0]), "%d",
				    d->acl_handle[i]);
				props[i] = (struct amtp_wsman_prop)P("Handles",
				    buf[i % 8]);
			}
			snprintf(buf[7], sizeof(buf[7]), "%d", d->nacls);
			props[i] = (struct amtp_wsman_prop)P("TotalCount",
			    buf[7]);
			r = reply_rv(n, q, out, 0, props, (size_t)i + 1);
		} else if (strcmp(meth, "RemoveUserAclEntry") == 0) {
			W();
			s = in_text(q, "Handle");
			for (i = 0; i < d->nacls; i++)
				if (s != NULL && d->acl_handle[i] ==
				    (int)strtol(s, NULL, 10))
					break;
			if (i == d->nacls)
				r = reply_rv(n, q, out, 2053, NULL, 0);
			else {
				memmove(&d->acl_handle[i], &d->acl_handle[i + 1],
				    sizeof(int) * (size_t)(d->nacls - i - 1));
				memmove(d->acl_user[i], d->acl_user[i + 1],
				    sizeof(d->acl_user[0]) *
				    (size_t)(d->nacls - i - 1));
				d->nacls--;
				r = reply_rv(n, q, out, 0, NULL, 0);
			}
		} else if (strcmp(meth, "AddUserAclEntryEx") == 0) {
			W();
			s = in_text(q, "DigestUsername");
			if (s == NULL)
				s = in_text(q, "KerberosUserSid");
			if (s == NULL || d->nacls >= FD_MAX_ACLS ||
			    in_text(q, "Realms") == NULL)
				r = reply_rv(n, q, out, 36, NULL, 0);
			else {
				snprintf(d->acl_user[d->nacls],
				    sizeof(d->acl_user[0]), "%s", s);
				d->acl_handle[d->nacls++] = d->next_handle;
				snprintf(buf[0], sizeof(buf[0]), "%d",
				    d->next_handle++);
				props[0] = (struct amtp_wsman_prop)P("Handle",
				    buf[0]);
				r = reply_rv(n, q, out, 0, props, 1);
			}
		}
	} else if (strcmp(cls, "AMT_RedirectionService") == 0) {
		if (strcmp(meth, "RequestStateChange") == 0) {
			W();
			d->redir_state = (int)strtol(in_text(q,
			    "RequestedState"), NULL, 10);
			r = reply_rv(n, q, out, 0, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_GET) {
			snprintf(buf[0], sizeof(buf[0]), "%d", d->redir_state);
			props[0] = (struct amtp_wsman_prop)P("Name",
			    "Intel(r) AMT Redirection Service");
			props[1] = (struct amtp_wsman_prop)P("EnabledState",
			    buf[0]);
			props[2] = (struct amtp_wsman_prop)P("ListenerEnabled",
			    d->listener ? "true" : "false");
			o.nprops = 3;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_PUT) {
			W();
			d->listener = strcmp(in_text(q, "ListenerEnabled"),
			    "true") == 0;
			r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_KerberosSettingData") == 0) {
		if (m == AMTP_WSMAN_OP_GET) {
			props[0] = (struct amtp_wsman_prop)P("InstanceID",
			    "Intel (r) AMT: Kerberos Settings");
			props[1] = (struct amtp_wsman_prop)P("KrbEnabled",
			    d->krb_enabled ? "true" : "false");
			o.nprops = 2;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_PUT) {
			W();
			s = in_text(q, "KrbEnabled");
			d->krb_enabled = s != NULL && strcmp(s, "true") == 0;
			snprintf(d->krb_realm, sizeof(d->krb_realm), "%s",
			    in_text(q, "RealmName") != NULL ?
			    in_text(q, "RealmName") : "");
			snprintf(d->krb_key, sizeof(d->krb_key), "%s",
			    in_text(q, "MasterKey") != NULL ?
			    in_text(q, "MasterKey") : "");
			snprintf(d->krb_spn0, sizeof(d->krb_spn0), "%s",
			    in_text(q, "ServicePrincipalName") != NULL ?
			    in_text(q, "ServicePrincipalName") : "");
			d->krb_nspn = (int)amtp_wsman_obj_count(q->body,
			    "ServicePrincipalName");
			for (i = 0; i < 7 && i < (int)amtp_wsman_obj_count(
			    q->body, "ServicePrincipalProtocol"); i++)
				d->krb_proto[i] = amtp_wsman_obj_prop(q->body,
				    "ServicePrincipalProtocol", (size_t)i)->text[0];
			d->krb_proto[i] = '\0';
			r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
		}
	} else if (strcmp(cls, "AMT_8021XProfile") == 0) {
		if (m == AMTP_WSMAN_OP_GET) {
			props[0] = (struct amtp_wsman_prop)P("InstanceID",
			    "Intel(r) AMT 8021X Profile 0");
			props[1] = (struct amtp_wsman_prop)P("Enabled",
			    d->x_enabled ? "true" : "false");
			props[2] = (struct amtp_wsman_prop)P("PxeTimeout", "0");
			o.nprops = 3;
			r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
		} else if (m == AMTP_WSMAN_OP_PUT) {
			W();
			d->x_enabled = in_text(q, "Enabled") != NULL &&
			    strcmp(in_text(q, "Enabled"), "true") == 0;
			d->x_proto = in_text(q, "AuthenticationProtocol") !=
			    NULL ? (int)strtol(in_text(q,
			    "AuthenticationProtocol"), NULL, 10) : -1;
			snprintf(d->x_user, sizeof(d->x_user), "%s",
			    in_text(q, "Username") != NULL ?
			    in_text(q, "Username") : "");
			r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
		}
	} else if (m == AMTP_WSMAN_OP_PULL &&
	    strcmp(cls, "CIM_CredentialContext") == 0) {
		/* links are not modelled here (amtsim does): none */
		r = reply_obj(n, q, out, NULL, NULL, NULL, NULL, 0);
	} else if (strcmp(cls, "IPS_IEEE8021xSettings") == 0 &&
	    m == AMTP_WSMAN_OP_GET) {
		props[0] = (struct amtp_wsman_prop)P("InstanceID",
		    "Intel(r) AMT: 8021X Settings");
		props[1] = (struct amtp_wsman_prop)P("Enabled", "3");
		o.nprops = 2;
		r = reply_obj(n, q, out, &o, NULL, NULL, NULL, 0);
	} else if (strcmp(cls, "IPS_IEEE8021xSettings") == 0 &&
	    m == AMTP_WSMAN_OP_PUT) {
		W();
		d->ips_enabled = in_text(q, "Enabled") != NULL ?
		    (int)strtol(in_text(q, "Enabled"), NULL, 10) : -1;
		r = reply_obj(n, q, out, q->body, NULL, NULL, NULL, 0);
	} else if (strcmp(cls, "IPS_IEEE8021xSettings") == 0 &&
	    strcmp(meth, "SetCertificates") == 0) {
		W();
		d->x_linked = (amtp_wsman_obj_prop(q->body,
		    "ServerCertificateIssuer", 0) != NULL) +
		    (amtp_wsman_obj_prop(q->body, "ClientCertificate", 0) !=
		    NULL);
		r = reply_rv(n, q, out, 0, NULL, 0);
	} else if (strcmp(cls, "AMT_WebUIService") == 0 &&
	    strcmp(meth, "RequestStateChange") == 0) {
		W();
		d->webui_state = (int)strtol(in_text(q, "RequestedState"), NULL,
		    10);
		r = reply_rv(n, q, out, 0, NULL, 0);
	} else if (strcmp(cls, "AMT_SystemPowerScheme") == 0 &&
	    strcmp(meth, "SetPowerScheme") == 0) {
		W();
		s = NULL;
		for (i = 0; i < (int)q->nselectors; i++)
			if (strcmp(q->selectors[i].name, "InstanceID") == 0)
				s = q->selectors[i].value;
		snprintf(d->power_id, sizeof(d->power_id), "%s",
		    s != NULL ? s : "");
		r = reply_rv(n, q, out, s != NULL ? 0 : 36, NULL, 0);
	}
#undef W
	for (i = 0; i < FD_MAX_CERTS; i++)
		amtp_buf_free(blobs[i]);
	amtp_buf_free(b);
	return r;
}

static int
f_run(struct oobsp_transport *t, int timeout_ms)
{
	struct fakenet *n = (struct fakenet *)t;
	struct amtp_wsman_request *q = NULL;
	struct oobsp_reply rep;
	struct amtp_buf *out;
	struct fakedev *d;
	struct fconn *c;
	oobsp_reply_fn cb;
	void *arg;
	size_t k;
	int r;

	(void)timeout_ms;
	if (n->killed)
		return AMTP_E_INTERNAL;
	for (k = 0; k < n->ndevs; k++)
		if (n->devs[k].down_runs > 0)
			n->devs[k].down_runs--;
	while ((c = n->queue) != NULL) {
		f_unqueue(n, c);
		memset(&rep, 0, sizeof(rep));
		out = amtp_buf_new(FD_REPLY_MAX);
		d = fake_find(n, c->addr);
		if (d == NULL || d->down_runs > 0)
			rep.status = AMTP_E_CLOSED;
		else if ((r = fake_auth(d, c)) != 0) {
			rep.status = r;
			if (r == AMTP_E_AUTH)
				d->auth_fail++;
			if (r == AMTP_E_TLS)
				snprintf(rep.detail, sizeof(rep.detail),
				    "alert bad certificate");
		} else {
			d->requests++;
			for (k = 0; k < 4; k++)
				if (d->reset_at[k] == d->requests)
					rep.status = AMTP_E_CLOSED;
			if (rep.status == 0) {
				r = amtp_wsman_request_parse(amtp_buf_ptr(c->req),
				    amtp_buf_len(c->req), &q, NULL, 0);
				if (r == 0)
					r = fake_handle(n, d, q, out);
				amtp_wsman_request_free(q);
				q = NULL;
				if (r != 0) {
					rep.status = AMTP_E_HTTP;
					rep.http = 400;
				} else {
					rep.http = 200;
					rep.body = amtp_buf_str(out);
					rep.len = amtp_buf_len(out);
				}
			}
			n->processed++;
			if (n->kill_after != 0 &&
			    n->processed >= n->kill_after) {
				/* the device did it; the service point dies
				 * before it hears the answer */
				n->killed = 1;
				amtp_buf_free(out);
				return AMTP_E_INTERNAL;
			}
		}
		cb = c->cb;
		arg = c->arg;
		cb(arg, &rep);
		amtp_buf_free(out);
	}
	return 0;
}

static void
f_free(struct oobsp_transport *t)
{
	(void)t;
}

static const struct oobsp_transport_ops fake_ops = {
	f_open, f_close, f_send, f_run, f_free
};

static struct fakenet *
fakenet_new(EVP_PKEY *devkey)
{
	struct fakenet *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->base.ops = &fake_ops;
	n->devkey = devkey;
	return n;
}

static void
fakenet_free(struct fakenet *n)
{
	size_t i;
	int k;

	if (n == NULL)
		return;
	for (i = 0; i < n->ndevs; i++)
		for (k = 0; k < n->devs[i].ncerts; k++)
			X509_free(n->devs[i].certs[k]);
	free(n);
}

#endif
