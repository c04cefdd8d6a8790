/*
 * amtprov - classes.c: the WS-Management classes a simulated AMT device
 * offers, as data (amtsim).  One table per class: its properties in the
 * order AMT returns them (ASCII order of names, spec/golden/), their types,
 * which are keys, which Put may change, which are computed from the device
 * and which are write-only; the operations it allows; its methods
 * (methods.c); where its instances come from (the flash, or a builder for
 * lists derived from other state such as certificates and keys).  ws.c is
 * the one engine that serves them all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/str.h"
#include "device.h"
#include "simnet.h"

#define AMT	AMTP_WSMAN_URI_AMT
#define CIM	AMTP_WSMAN_URI_CIM
#define IPS	AMTP_WSMAN_URI_IPS
#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* Property table shorthands. */
#define PSTR(n, f, max)	{ n, ST_STR, f, 0, max, NULL }
#define PBOOL(n, f)	{ n, ST_BOOL, f, 0, 0, NULL }
#define PINT(n, f, lo, hi) { n, ST_INT, f, lo, hi, NULL }
#define PGET(n, t, fn)	{ n, t, 0, 0, 0, fn }
#define PEPR(n, f)	{ n, ST_EPR, f, 0, 0, NULL }
#define W		SP_WRITE
#define K		SP_KEY

/* ---- helpers ---- */

static json_t *
inst_add(json_t *arr)
{
	json_t *o = json_object();

	if (o != NULL && json_array_append_new(arr, o) != 0)
		return NULL;
	return o;
}

static void
set(json_t *o, const char *k, const char *v)
{
	if (o != NULL)
		(void)json_object_set_new(o, k, json_string(v));
}

/* The service-class boilerplate AMT returns. */
static void
service(json_t *o, const char *ccn, const char *name)
{
	set(o, "CreationClassName", ccn);
	set(o, "ElementName", name);
	set(o, "Name", name);
	set(o, "SystemCreationClassName", "CIM_ComputerSystem");
	set(o, "SystemName", "Intel(r) AMT");
}

static const char *
bool_text(int v)
{
	return v ? "true" : "false";
}

static int
is_wireless(struct simnet_ctx *x)
{
	return x->d->wireless;
}

/* ---- AMT_GeneralSettings ---- */

static const char *
g_realm(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return x->d->realm;
}

static const char *
g_net_enabled(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return bool_text(amtsim_device_net_active(x->d));
}

static void
def_general(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "AMTNetworkEnabled", "1");
	set(o, "DDNSPeriodicUpdateInterval", "1440");
	set(o, "DDNSTTL", "900");
	set(o, "DDNSUpdateByDHCPServerEnabled", "true");
	set(o, "DDNSUpdateEnabled", "false");
	set(o, "DHCPSyncRequiresHostname", "1");
	set(o, "DHCPv6ConfigurationTimeout", "0");
	set(o, "DomainName", "");
	set(o, "ElementName", "Intel(r) AMT: General Settings");
	set(o, "HostName", "");
	set(o, "HostOSFQDN", "");
	set(o, "IdleWakeTimeout", "65535");
	set(o, "InstanceID", "Intel(r) AMT: General Settings");
	set(o, "PingResponseEnabled", "true");
	set(o, "PowerSource", "0");
	set(o, "PreferredAddressFamily", "0");
	set(o, "PresenceNotificationInterval", "0");
	set(o, "PrivacyLevel", "0");
	set(o, "RmcpPingResponseEnabled", "true");
	set(o, "SharedFQDN", "true");
	set(o, "ThunderboltDockEnabled", "0");
	set(o, "WsmanOnlyMode", "false");
}

/* Host and domain names: RFC 1123 labels (AMT refuses others). */
static int
valid_dns(const char *s, int allow_dots)
{
	size_t lab = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.' && allow_dots && lab > 0) {
			lab = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
		if (++lab > 63)
			return 0;
	}
	return 1;
}

static int
put_general(struct simnet_ctx *x, json_t *inst, const json_t *old)
{
	(void)x;
	(void)old;
	if (!valid_dns(simnet_str(inst, "HostName", ""), 0) ||
	    !valid_dns(simnet_str(inst, "DomainName", ""), 1))
		return SF_INVALID_REPRESENTATION;
	return SF_NONE;
}

static const struct simnet_prop p_general[] = {
	PINT("AMTNetworkEnabled", W, 0, 1),
	PINT("DDNSPeriodicUpdateInterval", W, 0, 4294967295LL),
	PINT("DDNSTTL", W, 0, 4294967295LL),
	PBOOL("DDNSUpdateByDHCPServerEnabled", W),
	PBOOL("DDNSUpdateEnabled", W),
	PINT("DHCPSyncRequiresHostname", W, 0, 1),
	PINT("DHCPv6ConfigurationTimeout", W, 0, 4294967295LL),
	PGET("DigestRealm", ST_STR, g_realm),
	PSTR("DomainName", W, 191),
	PSTR("ElementName", 0, 0),
	PSTR("HostName", W, 63),
	PSTR("HostOSFQDN", W, 255),
	PINT("IdleWakeTimeout", W, 1, 65535),
	PSTR("InstanceID", K, 0),
	PGET("NetworkInterfaceEnabled", ST_BOOL, g_net_enabled),
	PBOOL("PingResponseEnabled", W),
	PINT("PowerSource", 0, 0, 4294967295LL),
	PINT("PreferredAddressFamily", W, 0, 1),
	PINT("PresenceNotificationInterval", W, 0, 4294967295LL),
	PINT("PrivacyLevel", W, 0, 2),
	PBOOL("RmcpPingResponseEnabled", W),
	PBOOL("SharedFQDN", W),
	PINT("ThunderboltDockEnabled", W, 0, 2),
	PBOOL("WsmanOnlyMode", W),
};

static const struct simnet_class c_general = {
	"AMT_GeneralSettings", AMT, p_general, N(p_general),
	SC_GET | SC_PUT | SC_ENUM, NULL, NULL, NULL, put_general, NULL,
	NULL, def_general
};

/* ---- AMT_SetupAndConfigurationService ---- */

static const char *
g_prov_mode(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return x->d->control_mode == AMTP_AMT_CONTROL_CCM ? "4" : "1";
}

static const char *
g_prov_state(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return simnet_printf(x->a, "%d", (int)x->d->state);
}

/* Readable in IN state only (spec 4.4). */
/*
 * The OTP the host set, base64.  With the fault knob otp_mismatch
 * (docs/amtsim.md; a real device never does this) the device reports the
 * OTP with its last character changed, so that a service point's OTP check
 * fails deterministically; the flash keeps the OTP the host set.
 */
static const char *
g_otp(struct simnet_ctx *x, const json_t *i)
{
	struct amtp_buf *b;
	const char *s = NULL;
	char otp[AMTP_OTP_MAX + 1];
	size_t n = x->d->otp_len;

	(void)i;
	if (x->d->state != AMTSIM_IN || n == 0 || n > AMTP_OTP_MAX)
		return NULL;
	memcpy(otp, x->d->otp, n);
	if (x->d->otp_mismatch)
		otp[n - 1] = otp[n - 1] == 'x' ? 'y' : 'x';
	if ((b = amtp_buf_new(2 * AMTP_OTP_MAX + 8)) != NULL &&
	    amtp_b64_encode(b, otp, n) == 0)
		s = simnet_strdup(x->a, amtp_buf_str(b));
	amtp_buf_free(b);
	explicit_bzero(otp, sizeof(otp));
	return s;
}

static const char *
g_dhcp_suffix(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return x->d->dhcp_dns_suffix[0] != '\0' ? x->d->dhcp_dns_suffix : NULL;
}

static const char *
g_trusted_suffix(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return x->d->pki_dns_suffix[0] != '\0' ? x->d->pki_dns_suffix : NULL;
}

static void
def_setup(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	service(o, "AMT_SetupAndConfigurationService",
	    "Intel(r) AMT Setup and Configuration Service");
	set(o, "EnabledState", "5");
	set(o, "PasswordModel", "1");
	set(o, "RequestedState", "12");
	set(o, "ZeroTouchConfigurationEnabled", "true");
}

static const struct simnet_prop p_setup[] = {
	PSTR("CreationClassName", K, 0),
	PGET("DhcpDNSSuffix", ST_STR, g_dhcp_suffix),
	PSTR("ElementName", 0, 0),
	PINT("EnabledState", 0, 0, 4294967295LL),
	PSTR("Name", K, 0),
	PINT("PasswordModel", 0, 0, 2),
	PGET("ProvisioningMode", ST_INT, g_prov_mode),
	PGET("ProvisioningServerOTP", ST_B64, g_otp),
	PGET("ProvisioningState", ST_INT, g_prov_state),
	PINT("RequestedState", 0, 0, 4294967295LL),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
	PGET("TrustedDNSSuffix", ST_STR, g_trusted_suffix),
	PBOOL("ZeroTouchConfigurationEnabled", 0),
};

static const struct simnet_class c_setup = {
	"AMT_SetupAndConfigurationService", AMT, p_setup, N(p_setup),
	SC_GET | SC_ENUM, simnet_m_setup, NULL, NULL, NULL, NULL, NULL,
	def_setup
};

/* ---- plain services (boilerplate plus methods) ---- */

static const struct simnet_prop p_service[] = {
	PSTR("CreationClassName", K, 0),
	PSTR("ElementName", 0, 0),
	PINT("EnabledState", 0, 0, 4294967295LL),
	PSTR("Name", K, 0),
	PINT("RequestedState", 0, 0, 4294967295LL),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
};

#define DEF_SERVICE(fn, ccn, name)					\
static void								\
fn(struct amtsim_device *d, json_t *arr)				\
{									\
	json_t *o = inst_add(arr);					\
									\
	(void)d;							\
	service(o, ccn, name);						\
	set(o, "EnabledState", "5");					\
	set(o, "RequestedState", "12");					\
}

DEF_SERVICE(def_time, "AMT_TimeSynchronizationService",
    "Intel(r) AMT Time Synchronization Service")
DEF_SERVICE(def_pkm, "AMT_PublicKeyManagementService",
    "Intel(r) AMT Public Key Management Service")
DEF_SERVICE(def_auth, "AMT_AuthorizationService",
    "Intel(r) AMT Authorization Service")

static const struct simnet_class c_time = {
	"AMT_TimeSynchronizationService", AMT, p_service, N(p_service),
	SC_GET | SC_ENUM, simnet_m_time, NULL, NULL, NULL, NULL, NULL,
	def_time
};

static const struct simnet_class c_pkm = {
	"AMT_PublicKeyManagementService", AMT, p_service, N(p_service),
	SC_GET | SC_ENUM, simnet_m_pkm, NULL, NULL, NULL, NULL, NULL,
	def_pkm
};

static const struct simnet_class c_auth = {
	"AMT_AuthorizationService", AMT, p_service, N(p_service),
	SC_GET | SC_ENUM, simnet_m_auth, NULL, NULL, NULL, NULL, NULL,
	def_auth
};

/* ---- AMT_PublicKeyCertificate / AMT_PublicPrivateKeyPair ---- */

static json_t *
inst_certs(struct simnet_ctx *x)
{
	json_t *arr = json_array(), *e, *o;
	size_t i;

	if (arr == NULL)
		return NULL;
	json_array_foreach(json_object_get(x->root, "certs"), i, e) {
		if ((o = inst_add(arr)) == NULL)
			break;
		set(o, "ElementName", "Intel(r) AMT Certificate");
		(void)json_object_set_new(o, "InstanceID", json_sprintf(
		    "Intel(r) AMT Certificate: Handle: %lld",
		    simnet_int(e, "handle", 0)));
		set(o, "Issuer", simnet_str(e, "issuer", ""));
		set(o, "Subject", simnet_str(e, "subject", ""));
		set(o, "TrustedRootCertficate", bool_text(simnet_int(e, "root",
		    0)));
		set(o, "X509Certificate", simnet_str(e, "der", ""));
	}
	return arr;
}

/*
 * The credential contexts of the device (certificate handle -> what uses
 * it): the TLS certificate (AMT_TLSCredentialContext), the client and CA
 * certificates of each Wi-Fi 802.1X profile (AddWiFiSettings'
 * ClientCredential/CACredential; CIM_CredentialContext) and of the wired
 * 802.1X settings (IPS_IEEE8021xSettings.SetCertificates;
 * IPS_8021xCredentialContext).  f is called for each; stops when it
 * returns non-zero and returns that.
 */
struct cert_ref {
	long long	 handle;
	const char	*cls;		/* the association's class */
	const char	*pc_uri;	/* ElementProvidingContext */
	const char	*pc_sel;	/* its selector name */
	const char	*pc_val;	/* ... and value */
};

static int
each_cert_ref(struct simnet_ctx *x, int (*f)(struct simnet_ctx *,
    const struct cert_ref *, void *), void *arg)
{
	static const char *const links[] = { "_ca", "_client" };
	struct cert_ref ref;
	json_t *arr, *e;
	size_t i, k;
	int r;

	memset(&ref, 0, sizeof(ref));
	if ((ref.handle = simnet_int(json_object_get(x->root, "tlsctx"),
	    "cert", -1)) >= 0) {
		ref.cls = "AMT_TLSCredentialContext";
		ref.pc_uri = AMT "AMT_TLSProtocolEndpointCollection";
		ref.pc_sel = "ElementName";
		ref.pc_val = "TLSProtocolEndpointInstances Collection";
		if ((r = f(x, &ref, arg)) != 0)
			return r;
	}
	arr = json_object_get(json_object_get(x->root, "inst"),
	    "CIM_WiFiEndpointSettings");
	json_array_foreach(arr, i, e)
		for (k = 0; k < 2; k++) {
			if ((ref.handle = simnet_int(e, links[k], -1)) < 0)
				continue;
			ref.cls = "CIM_CredentialContext";
			ref.pc_uri = CIM "CIM_IEEE8021xSettings";
			ref.pc_sel = "InstanceID";
			ref.pc_val = simnet_printf(x->a, "Intel(r) AMT:IEEE "
			    "802.1x Settings %s", simnet_str(e, "ElementName",
			    ""));
			if ((r = f(x, &ref, arg)) != 0)
				return r;
		}
	arr = json_object_get(json_object_get(x->root, "inst"),
	    "IPS_IEEE8021xSettings");
	json_array_foreach(arr, i, e)
		for (k = 0; k < 2; k++) {
			if ((ref.handle = simnet_int(e, links[k], -1)) < 0)
				continue;
			ref.cls = "IPS_8021xCredentialContext";
			ref.pc_uri = IPS "IPS_IEEE8021xSettings";
			ref.pc_sel = "InstanceID";
			ref.pc_val = simnet_str(e, "InstanceID", "");
			if ((r = f(x, &ref, arg)) != 0)
				return r;
		}
	return 0;
}

static int
ref_is(struct simnet_ctx *x, const struct cert_ref *ref, void *arg)
{
	(void)x;
	return ref->handle == *(const long long *)arg;
}

/* 1 when a credential context names certificate handle h. */
static int
cert_in_use(struct simnet_ctx *x, long long h)
{
	return each_cert_ref(x, ref_is, &h);
}

/* The PKCS#1 public key (base64, as a key's "pub") of a stored
 * certificate ("der": base64 DER), in the arena; NULL when unreadable. */
static const char *
cert_pub(struct simnet_ctx *x, const json_t *cert)
{
	const char *der64 = simnet_str(cert, "der", "");
	struct amtp_buf *b = NULL, *o = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	const char *s = NULL;
	X509 *c = NULL;
	int n;

	if ((b = amtp_buf_new(strlen(der64) + 16)) == NULL ||
	    amtp_b64_decode(b, der64, strlen(der64)) != 0)
		goto out;
	p = amtp_buf_ptr(b);
	if ((c = d2i_X509(NULL, &p, (long)amtp_buf_len(b))) == NULL ||
	    X509_get0_pubkey(c) == NULL ||
	    (n = i2d_PublicKey(X509_get0_pubkey(c), &der)) <= 0)
		goto out;
	if ((o = amtp_buf_new((size_t)n * 2 + 16)) != NULL &&
	    amtp_b64_encode(o, der, (size_t)n) == 0)
		s = simnet_strdup(x->a, amtp_buf_str(o));
 out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_free(c);
	amtp_buf_free(o);
	amtp_buf_free(b);
	return s;
}

/* 1 when the key whose public part is pub belongs to a certificate in
 * use (AMT keeps a key while its certificate serves). */
static int
key_in_use(struct simnet_ctx *x, const char *pub)
{
	const char *cp;
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(x->root, "certs"), i, e) {
		if (simnet_int(e, "root", 0) ||
		    !cert_in_use(x, simnet_int(e, "handle", -1)))
			continue;
		if ((cp = cert_pub(x, e)) != NULL && strcmp(cp, pub) == 0)
			return 1;
	}
	return 0;
}

static int
del_handle(struct simnet_ctx *x, json_t *inst, const char *list,
    const char *prefix)
{
	const char *id = simnet_str(inst, "InstanceID", "");
	json_t *arr = json_object_get(x->root, list), *e;
	long long h;
	size_t i;
	int certs = strcmp(list, "certs") == 0;

	if (strncmp(id, prefix, strlen(prefix)) != 0 ||
	    amtp_parse_int(id + strlen(prefix), 0, INT32_MAX, &h) != 0)
		return SF_INVALID_SELECTORS;
	json_array_foreach(arr, i, e) {
		if (simnet_int(e, "handle", -1) != h)
			continue;
		/*
		 * A certificate a credential context names (TLS, a Wi-Fi or
		 * the wired 802.1X profile), or the key of one, cannot go:
		 * AMT refuses (in use).  XXX the fault AMT sends is not in
		 * the public record; AccessDenied here.
		 */
		if (certs ? cert_in_use(x, h) :
		    key_in_use(x, simnet_str(e, "pub", "")))
			return SF_ACCESS_DENIED;
		(void)json_array_remove(arr, i);
		x->after = SIMNET_AFTER_RELOAD;
		return SF_NONE;
	}
	return SF_INVALID_SELECTORS;
}

static int
del_cert(struct simnet_ctx *x, json_t *inst)
{
	return del_handle(x, inst, "certs", "Intel(r) AMT Certificate: "
	    "Handle: ");
}

static const struct simnet_prop p_cert[] = {
	PSTR("ElementName", 0, 0),
	PSTR("InstanceID", K, 0),
	PSTR("Issuer", 0, 0),
	PSTR("Subject", 0, 0),
	PBOOL("TrustedRootCertficate", 0),	/* sic: AMT's spelling */
	PSTR("X509Certificate", 0, 0),
};

static const struct simnet_class c_cert = {
	"AMT_PublicKeyCertificate", AMT, p_cert, N(p_cert),
	SC_GET | SC_ENUM | SC_DELETE, NULL, inst_certs, NULL, NULL, NULL,
	del_cert, NULL
};

static json_t *
inst_keys(struct simnet_ctx *x)
{
	json_t *arr = json_array(), *e, *o;
	size_t i;

	if (arr == NULL)
		return NULL;
	json_array_foreach(json_object_get(x->root, "keys"), i, e) {
		if ((o = inst_add(arr)) == NULL)
			break;
		set(o, "DERKey", simnet_str(e, "pub", ""));
		set(o, "ElementName", "Intel(r) AMT Key");
		(void)json_object_set_new(o, "InstanceID", json_sprintf(
		    "Intel(r) AMT Key: Handle: %lld", simnet_int(e, "handle",
		    0)));
	}
	return arr;
}

static int
del_key(struct simnet_ctx *x, json_t *inst)
{
	return del_handle(x, inst, "keys", "Intel(r) AMT Key: Handle: ");
}

static const struct simnet_prop p_key[] = {
	PSTR("DERKey", 0, 0),
	PSTR("ElementName", 0, 0),
	PSTR("InstanceID", K, 0),
};

static const struct simnet_class c_key = {
	"AMT_PublicPrivateKeyPair", AMT, p_key, N(p_key),
	SC_GET | SC_ENUM | SC_DELETE, NULL, inst_keys, NULL, NULL, NULL,
	del_key, NULL
};

/* ---- TLS ---- */

static void
def_tls(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "AcceptNonSecureConnections", "false");
	set(o, "ElementName", "Intel(r) AMT 802.3 TLS Settings");
	set(o, "Enabled", "false");
	set(o, "InstanceID", "Intel(r) AMT 802.3 TLS Settings");
	set(o, "MutualAuthentication", "false");
	o = inst_add(arr);
	set(o, "AcceptNonSecureConnections", "true");
	set(o, "ElementName", "Intel(r) AMT LMS TLS Settings");
	set(o, "Enabled", "false");
	set(o, "InstanceID", "Intel(r) AMT LMS TLS Settings");
	set(o, "MutualAuthentication", "false");
}

static const struct simnet_prop p_tls[] = {
	PBOOL("AcceptNonSecureConnections", W),
	PSTR("ElementName", 0, 0),
	PBOOL("Enabled", W),
	PSTR("InstanceID", K, 0),
	PBOOL("MutualAuthentication", W),
	PSTR("TrustedCN", W | SP_ARRAY, 255),
};

static const struct simnet_class c_tls = {
	"AMT_TLSSettingData", AMT, p_tls, N(p_tls),
	SC_GET | SC_PUT | SC_ENUM, NULL, NULL, NULL, NULL, NULL, NULL,
	def_tls
};

#define TLS_COLLECTION	"TLSProtocolEndpointInstances Collection"

static json_t *
inst_tlsctx(struct simnet_ctx *x)
{
	json_t *arr = json_array(), *o, *ctx;
	long long h;

	if (arr == NULL)
		return NULL;
	ctx = json_object_get(x->root, "tlsctx");
	if ((h = simnet_int(ctx, "cert", -1)) < 0)
		return arr;
	if ((o = inst_add(arr)) == NULL)
		return arr;
	(void)json_object_set_new(o, "ElementInContext", json_pack(
	    "{sss{so}}", "uri", AMT "AMT_PublicKeyCertificate", "sel",
	    "InstanceID", json_sprintf("Intel(r) AMT Certificate: Handle: %lld",
	    h)));
	(void)json_object_set_new(o, "ElementProvidingContext", json_pack(
	    "{sss{ss}}", "uri", AMT "AMT_TLSProtocolEndpointCollection", "sel",
	    "ElementName", TLS_COLLECTION));
	return arr;
}

static long long
cert_handle_of(const char *id)
{
	static const char pfx[] = "Intel(r) AMT Certificate: Handle: ";
	long long h;

	if (id == NULL || strncmp(id, pfx, sizeof(pfx) - 1) != 0 ||
	    amtp_parse_int(id + sizeof(pfx) - 1, 0, INT32_MAX, &h) != 0)
		return -1;
	return h;
}

static int
create_tlsctx(struct simnet_ctx *x, const struct amtp_wsman_obj *body,
    struct amtp_wsman_epr *created)
{
	const struct amtp_wsman_prop *eic, *epc;
	struct amtp_wsman_selector *s;
	struct amtp_wsman_epr *e1, *e2;
	json_t *e, *ctx;
	long long h;
	size_t i;
	int found = 0;

	eic = amtp_wsman_obj_prop(body, "ElementInContext", 0);
	epc = amtp_wsman_obj_prop(body, "ElementProvidingContext", 0);
	if (eic == NULL || eic->epr == NULL || epc == NULL || epc->epr == NULL)
		return SF_INVALID_REPRESENTATION;
	if ((h = cert_handle_of(amtp_wsman_epr_selector(eic->epr,
	    "InstanceID"))) < 0)
		return SF_INVALID_REPRESENTATION;
	json_array_foreach(json_object_get(x->root, "certs"), i, e)
		if (simnet_int(e, "handle", -1) == h && !simnet_int(e, "root",
		    0))
			found = 1;
	if (!found)
		return SF_INVALID_REPRESENTATION;
	ctx = json_object_get(x->root, "tlsctx");
	if (simnet_int(ctx, "cert", -1) >= 0)
		return SF_ALREADY_EXISTS;
	if (json_object_set_new(x->root, "tlsctx", json_pack("{sI}", "cert",
	    (json_int_t)h)) != 0)
		return SF_INTERNAL;
	x->after = SIMNET_AFTER_RELOAD;
	/* ResourceCreated: the two references as selectors (golden). */
	if ((s = simnet_alloc(x->a, 2 * sizeof(*s))) == NULL ||
	    (e1 = simnet_alloc(x->a, sizeof(*e1))) == NULL ||
	    (e2 = simnet_alloc(x->a, sizeof(*e2))) == NULL)
		return SF_INTERNAL;
	*e1 = *eic->epr;
	e1->address = NULL;
	*e2 = *epc->epr;
	e2->address = NULL;
	s[0].name = "ElementInContext";
	s[0].epr = e1;
	s[1].name = "ElementProvidingContext";
	s[1].epr = e2;
	created->resource_uri = AMT "AMT_TLSCredentialContext";
	created->selectors = s;
	created->nselectors = 2;
	return SF_NONE;
}

static int
del_tlsctx(struct simnet_ctx *x, json_t *inst)
{
	(void)inst;
	(void)json_object_del(x->root, "tlsctx");
	x->after = SIMNET_AFTER_RELOAD;
	return SF_NONE;
}

static const struct simnet_prop p_tlsctx[] = {
	PEPR("ElementInContext", 0),
	PEPR("ElementProvidingContext", 0),
};

static const struct simnet_class c_tlsctx = {
	"AMT_TLSCredentialContext", AMT, p_tlsctx, N(p_tlsctx),
	SC_GET | SC_ENUM | SC_CREATE | SC_DELETE, NULL, inst_tlsctx, NULL,
	NULL, create_tlsctx, del_tlsctx, NULL
};

static void
def_tlscoll(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "ElementName", TLS_COLLECTION);
	set(o, "InstanceID", TLS_COLLECTION);
}

static const struct simnet_prop p_tlscoll[] = {
	PSTR("ElementName", K, 0),
	PSTR("InstanceID", 0, 0),
};

static const struct simnet_class c_tlscoll = {
	"AMT_TLSProtocolEndpointCollection", AMT, p_tlscoll, N(p_tlscoll),
	SC_GET | SC_ENUM, NULL, NULL, NULL, NULL, NULL, NULL, def_tlscoll
};

/* ---- Kerberos ---- */

static void
def_kerberos(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "ElementName", "Intel(r) AMT: Kerberos Settings");
	/* sic: AMT's InstanceID has a space in "Intel (r)" (golden). */
	set(o, "InstanceID", "Intel (r) AMT: Kerberos Settings");
	set(o, "KrbEnabled", "false");
	(void)json_object_set_new(o, "SupportedEncryptionAlgorithms",
	    json_pack("[sss]", "0", "1", "2"));
}

/* Enabling Kerberos needs a realm and a key (a master key or a
 * passphrase to derive one). */
static int
put_kerberos(struct simnet_ctx *x, json_t *inst, const json_t *old)
{
	(void)x;
	(void)old;
	if (strcmp(simnet_str(inst, "KrbEnabled", "false"), "true") == 0 &&
	    (simnet_str(inst, "RealmName", "")[0] == '\0' ||
	    (simnet_str(inst, "MasterKey", "")[0] == '\0' &&
	    simnet_str(inst, "Passphrase", "")[0] == '\0')))
		return SF_INVALID_REPRESENTATION;
	return SF_NONE;
}

static const struct simnet_prop p_kerberos[] = {
	PINT("ConfiguredEncryptionAlgorithms", W | SP_ARRAY, 0, 2),
	PSTR("ElementName", 0, 0),
	PINT("EncryptionAlgorithm", W, 0, 2),
	PSTR("InstanceID", K, 0),
	PINT("IterationCount", W, 0, 100000),
	PINT("KeyVersion", W, 0, 4294967295LL),
	PBOOL("KrbEnabled", W),
	{ "MasterKey", ST_B64, W | SP_HIDDEN, 0, 0, NULL },
	PINT("MaximumClockTolerance", W, 1, 60),
	{ "Passphrase", ST_STR, W | SP_HIDDEN, 0, 256, NULL },
	PSTR("RealmName", W, 255),
	{ "Salt", ST_STR, W | SP_HIDDEN, 0, 256, NULL },
	PSTR("ServicePrincipalName", W | SP_ARRAY, 255),
	PINT("ServicePrincipalProtocol", W | SP_ARRAY, 0, 3),
	PINT("SupportedEncryptionAlgorithms", SP_ARRAY, 0, 2),
};

static const struct simnet_class c_kerberos = {
	"AMT_KerberosSettingData", AMT, p_kerberos, N(p_kerberos),
	SC_GET | SC_PUT | SC_ENUM, simnet_m_kerberos, NULL, NULL,
	put_kerberos, NULL, NULL, def_kerberos
};

/* ---- Redirection, Web UI ---- */

static const char *
g_redir_state(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return simnet_printf(x->a, "%d", 32768 + (x->d->features.ider ? 1 : 0) +
	    (x->d->features.sol ? 2 : 0));
}

static void
def_redir(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	service(o, "AMT_RedirectionService",
	    "Intel(r) AMT Redirection Service");
	set(o, "ListenerEnabled", "false");
}

static const struct simnet_prop p_redir[] = {
	PSTR("CreationClassName", K, 0),
	PSTR("ElementName", 0, 0),
	PGET("EnabledState", ST_INT, g_redir_state),
	PBOOL("ListenerEnabled", W),
	PSTR("Name", K, 0),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
};

static const struct simnet_class c_redir = {
	"AMT_RedirectionService", AMT, p_redir, N(p_redir),
	SC_GET | SC_PUT | SC_ENUM, simnet_m_redir, NULL, NULL, NULL, NULL,
	NULL, def_redir
};

static const char *
g_webui_state(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return x->d->features.web_ui ? "2" : "3";
}

static void
def_webui(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	service(o, "AMT_WebUIService", "Intel(r) AMT Web Browser UI Service");
	set(o, "RequestedState", "12");
}

static const struct simnet_prop p_webui[] = {
	PSTR("CreationClassName", K, 0),
	PSTR("ElementName", 0, 0),
	PGET("EnabledState", ST_INT, g_webui_state),
	PSTR("Name", K, 0),
	PINT("RequestedState", 0, 0, 4294967295LL),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
};

static const struct simnet_class c_webui = {
	"AMT_WebUIService", AMT, p_webui, N(p_webui),
	SC_GET | SC_ENUM, simnet_m_webui, NULL, NULL, NULL, NULL, NULL,
	def_webui
};

/* ---- Power schemes ---- */

static void
scheme(json_t *arr, const char *id, const char *desc, const char *guid)
{
	json_t *o = inst_add(arr);

	set(o, "Description", desc);
	set(o, "ElementName", id);
	set(o, "InstanceID", id);
	set(o, "SchemeGUID", guid);
}

static void
def_power(struct amtsim_device *d, json_t *arr)
{
	(void)d;
	/* GUIDs (base64 of 16 bytes) are the simulator's own. */
	scheme(arr, "Intel(r) AMT Power Scheme 0",
	    "Mobile: ON in S0", "5H5GkfXkQ0KYTW9FEJ6nXA==");
	scheme(arr, "Intel(r) AMT Power Scheme 1",
	    "Desktop: ON in S0, ME Wake in S3, S4-5",
	    "zmcZcj2LRUuMeYPw2gZ9fg==");
	scheme(arr, "Intel(r) AMT Power Scheme 2",
	    "Desktop: ON in S0, S3, S4-5", "q8bM8V8gWEqf9kCuAVYMLw==");
}

static const struct simnet_prop p_power[] = {
	PSTR("Description", 0, 0),
	PSTR("ElementName", 0, 0),
	PSTR("InstanceID", K, 0),
	PSTR("SchemeGUID", 0, 0),
};

static const struct simnet_class c_power = {
	"AMT_SystemPowerScheme", AMT, p_power, N(p_power),
	SC_GET | SC_ENUM, simnet_m_power, NULL, NULL, NULL, NULL, NULL,
	def_power
};

/* ---- CIM_ElementSettingData (which power scheme is current) ---- */

#define DEFAULT_SCHEME	"Intel(r) AMT Power Scheme 1"

/* One association per power scheme: the system and the scheme, with
 * IsCurrent 1 (is current) or 2 (is not), CIM's values. */
static json_t *
inst_esd(struct simnet_ctx *x)
{
	const char *cur = simnet_str(x->root, "power_scheme", DEFAULT_SCHEME);
	json_t *arr = json_array(), *schemes, *e, *o;
	const char *id;
	size_t i;

	if (arr == NULL)
		return NULL;
	schemes = json_object_get(json_object_get(x->root, "inst"),
	    "AMT_SystemPowerScheme");
	json_array_foreach(schemes, i, e) {
		id = simnet_str(e, "InstanceID", "");
		if ((o = inst_add(arr)) == NULL)
			break;
		set(o, "ElementName", "Intel(r) AMT Element Setting Data");
		set(o, "IsCurrent", strcmp(id, cur) == 0 ? "1" : "2");
		(void)json_object_set_new(o, "ManagedElement", json_pack(
		    "{sss{ssss}}", "uri", CIM "CIM_ComputerSystem", "sel",
		    "CreationClassName", "CIM_ComputerSystem", "Name",
		    "ManagedSystem"));
		(void)json_object_set_new(o, "SettingData", json_pack(
		    "{sss{ss}}", "uri", AMT "AMT_SystemPowerScheme", "sel",
		    "InstanceID", id));
	}
	return arr;
}

static const struct simnet_prop p_esd[] = {
	PSTR("ElementName", 0, 0),
	PINT("IsCurrent", 0, 0, 2),
	PEPR("ManagedElement", K),
	PEPR("SettingData", K),
};

static const struct simnet_class c_esd = {
	"CIM_ElementSettingData", CIM, p_esd, N(p_esd),
	SC_ENUM, NULL, inst_esd, NULL, NULL, NULL, NULL, NULL
};

/* ---- CIM_SoftwareIdentity ---- */

static json_t *
inst_software(struct simnet_ctx *x)
{
	struct amtsim_device *d = x->d;
	const char *ids[] = { "Flash", "Netstack", "AMTApps", "AMT", "Sku",
	    "VendorID", "Build Number", "Recovery Version",
	    "Recovery Build Num", "Legacy Mode", "AMT FW Core Version" };
	json_t *arr = json_array(), *o;
	const char *v;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < N(ids); i++) {
		if (strcmp(ids[i], "Sku") == 0)
			v = d->sku;
		else if (strcmp(ids[i], "VendorID") == 0)
			v = "8086";
		else if (strcmp(ids[i], "Build Number") == 0 ||
		    strcmp(ids[i], "Recovery Build Num") == 0)
			v = d->build_number;
		else if (strcmp(ids[i], "Legacy Mode") == 0)
			v = "False";
		else
			v = d->amt_version;
		if ((o = inst_add(arr)) == NULL)
			break;
		set(o, "InstanceID", ids[i]);
		set(o, "IsEntity", "true");
		set(o, "VersionString", v);
	}
	return arr;
}

static const struct simnet_prop p_software[] = {
	PSTR("InstanceID", K, 0),
	PBOOL("IsEntity", 0),
	PSTR("VersionString", 0, 0),
};

static const struct simnet_class c_software = {
	"CIM_SoftwareIdentity", CIM, p_software, N(p_software),
	SC_GET | SC_ENUM, NULL, inst_software, NULL, NULL, NULL, NULL, NULL
};

/* ---- AMT_EthernetPortSettings ---- */

static const char *
g_mac(struct simnet_ctx *x, const json_t *i)
{
	const uint8_t *m;

	m = strcmp(simnet_str(i, "InstanceID", ""),
	    "Intel(r) AMT Ethernet Port Settings 1") == 0 ?
	    x->d->mac_wireless : x->d->mac_dedicated;
	return simnet_printf(x->a, "%02x-%02x-%02x-%02x-%02x-%02x", m[0], m[1],
	    m[2], m[3], m[4], m[5]);
}

static void
def_ether(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);
	char ip[32];

	amtsim_ipv4_format(d->ipv4, ip, sizeof(ip));
	set(o, "DHCPEnabled", "true");
	set(o, "ElementName", "Intel(r) AMT Ethernet Port Settings");
	set(o, "IPAddress", ip);
	set(o, "InstanceID", "Intel(r) AMT Ethernet Port Settings 0");
	set(o, "IpSyncEnabled", "true");
	set(o, "LinkIsUp", "true");
	(void)json_object_set_new(o, "LinkPolicy", json_pack("[ss]", "1",
	    "14"));
	set(o, "PhysicalConnectionType", "0");
	set(o, "SharedDynamicIP", "true");
	set(o, "SharedMAC", "true");
	set(o, "SharedStaticIp", "false");
	set(o, "SubnetMask", "255.0.0.0");
	if (!d->wireless)
		return;
	o = inst_add(arr);
	set(o, "ConsoleTcpMaxRetransmissions", "5");
	set(o, "DHCPEnabled", "true");
	set(o, "ElementName", "Intel(r) AMT Ethernet Port Settings");
	set(o, "InstanceID", "Intel(r) AMT Ethernet Port Settings 1");
	set(o, "LinkControl", "2");
	set(o, "LinkIsUp", "false");
	set(o, "LinkPreference", "2");
	set(o, "PhysicalConnectionType", "3");
	set(o, "SharedMAC", "true");
	set(o, "WLANLinkProtectionLevel", "1");
}

static int
valid_ip(const char *s)
{
	uint32_t v;

	return s[0] == '\0' || amtsim_ipv4_parse(s, &v) == 0;
}

/* Static addressing needs an address and a mask. */
static int
put_ether(struct simnet_ctx *x, json_t *inst, const json_t *old)
{
	static const char *ips[] = { "IPAddress", "SubnetMask",
	    "DefaultGateway", "PrimaryDNS", "SecondaryDNS" };
	size_t i;

	(void)x;
	(void)old;
	for (i = 0; i < N(ips); i++)
		if (!valid_ip(simnet_str(inst, ips[i], "")))
			return SF_INVALID_REPRESENTATION;
	if (strcmp(simnet_str(inst, "DHCPEnabled", "true"), "false") == 0 &&
	    (simnet_str(inst, "IPAddress", "")[0] == '\0' ||
	    simnet_str(inst, "SubnetMask", "")[0] == '\0'))
		return SF_INVALID_REPRESENTATION;
	return SF_NONE;
}

static const struct simnet_prop p_ether[] = {
	PINT("ConsoleTcpMaxRetransmissions", 0, 0, 7),
	PBOOL("DHCPEnabled", W),
	PSTR("DefaultGateway", W, 15),
	PSTR("ElementName", 0, 0),
	PSTR("IPAddress", W, 15),
	PSTR("InstanceID", K, 0),
	PBOOL("IpSyncEnabled", W),
	PINT("LinkControl", 0, 1, 2),
	PBOOL("LinkIsUp", 0),
	PINT("LinkPolicy", W | SP_ARRAY, 1, 224),
	PINT("LinkPreference", 0, 1, 2),
	PGET("MACAddress", ST_STR, g_mac),
	PINT("PhysicalConnectionType", 0, 0, 4),
	PSTR("PrimaryDNS", W, 15),
	PSTR("SecondaryDNS", W, 15),
	PBOOL("SharedDynamicIP", W),
	PBOOL("SharedMAC", W),
	PBOOL("SharedStaticIp", W),
	PSTR("SubnetMask", W, 15),
	PINT("WLANLinkProtectionLevel", W, 0, 3),
};

static const struct simnet_class c_ether = {
	"AMT_EthernetPortSettings", AMT, p_ether, N(p_ether),
	SC_GET | SC_PUT | SC_ENUM, simnet_m_ether, NULL, NULL, put_ether,
	NULL, NULL, def_ether
};

/* ---- Wi-Fi (wireless devices only) ---- */

static void
def_wifiport(struct amtsim_device *d, json_t *arr)
{
	json_t *o;
	char mac[16];

	if (!d->wireless)
		return;
	o = inst_add(arr);
	(void)snprintf(mac, sizeof(mac), "%02x%02x%02x%02x%02x%02x",
	    d->mac_wireless[0], d->mac_wireless[1], d->mac_wireless[2],
	    d->mac_wireless[3], d->mac_wireless[4], d->mac_wireless[5]);
	set(o, "CreationClassName", "CIM_WiFiPort");
	set(o, "DeviceID", "WiFi Port 0");
	set(o, "ElementName", "WiFi Port 0");
	set(o, "EnabledState", "3");
	set(o, "HealthState", "5");
	set(o, "LinkTechnology", "11");
	set(o, "PermanentAddress", mac);
	set(o, "PortType", "0");
	set(o, "RequestedState", "3");
	set(o, "SystemCreationClassName", "CIM_ComputerSystem");
	set(o, "SystemName", "Intel(r) AMT");
}

static const struct simnet_prop p_wifiport[] = {
	PSTR("CreationClassName", K, 0),
	PSTR("DeviceID", K, 0),
	PSTR("ElementName", 0, 0),
	PINT("EnabledState", 0, 0, 4294967295LL),
	PINT("HealthState", 0, 0, 4294967295LL),
	PINT("LinkTechnology", 0, 0, 4294967295LL),
	PSTR("PermanentAddress", 0, 0),
	PINT("PortType", 0, 0, 4294967295LL),
	PINT("RequestedState", 0, 0, 4294967295LL),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
};

static const struct simnet_class c_wifiport = {
	"CIM_WiFiPort", CIM, p_wifiport, N(p_wifiport),
	SC_GET | SC_ENUM, simnet_m_wifiport, NULL, is_wireless, NULL, NULL,
	NULL, def_wifiport
};

static int
del_wifi(struct simnet_ctx *x, json_t *inst)
{
	(void)x;
	(void)inst;
	return SF_NONE;
}

static const struct simnet_prop p_wifiset[] = {
	PINT("AuthenticationMethod", 0, 1, 32769),
	PINT("BSSType", 0, 0, 3),
	PSTR("ElementName", 0, 32),
	PINT("EncryptionMethod", 0, 1, 5),
	PSTR("InstanceID", K, 0),
	{ "PSKPassPhrase", ST_STR, SP_HIDDEN, 0, 63, NULL },
	PINT("Priority", 0, 0, 255),
	PSTR("SSID", 0, 32),
};

static const struct simnet_class c_wifiset = {
	"CIM_WiFiEndpointSettings", CIM, p_wifiset, N(p_wifiset),
	SC_GET | SC_ENUM | SC_DELETE, NULL, NULL, is_wireless, NULL, NULL,
	del_wifi, NULL
};

static void
def_wificonf(struct amtsim_device *d, json_t *arr)
{
	json_t *o;

	if (!d->wireless)
		return;
	o = inst_add(arr);
	service(o, "AMT_WiFiPortConfigurationService",
	    "Intel(r) AMT WiFi Port Configuration Service");
	set(o, "EnabledState", "5");
	set(o, "RequestedState", "12");
	set(o, "localProfileSynchronizationEnabled", "0");
}

static const struct simnet_prop p_wificonf[] = {
	PSTR("CreationClassName", K, 0),
	PSTR("ElementName", 0, 0),
	PINT("EnabledState", 0, 0, 4294967295LL),
	PSTR("Name", K, 0),
	PINT("RequestedState", 0, 0, 4294967295LL),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
	PINT("localProfileSynchronizationEnabled", W, 0, 3),
};

static const struct simnet_class c_wificonf = {
	"AMT_WiFiPortConfigurationService", AMT, p_wificonf, N(p_wificonf),
	SC_GET | SC_PUT | SC_ENUM, simnet_m_wificonf, NULL, is_wireless,
	NULL, NULL, NULL, def_wificonf
};

/* ---- AMT_8021XProfile ---- */

static void
def_8021x(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "ActiveInS0", "true");
	set(o, "ElementName", "Intel(r) AMT 8021X Profile");
	set(o, "Enabled", "false");
	set(o, "InstanceID", "Intel(r) AMT 8021X Profile 0");
	set(o, "PxeTimeout", "0");
}

static const struct simnet_prop p_8021x[] = {
	PBOOL("ActiveInS0", W),
	PINT("AuthenticationProtocol", W, 0, 10),
	PSTR("Domain", W, 255),
	PSTR("ElementName", 0, 0),
	PBOOL("Enabled", W),
	PSTR("InstanceID", K, 0),
	{ "Password", ST_STR, W | SP_HIDDEN, 0, 32, NULL },
	PINT("PxeTimeout", W, 0, 86400),
	PSTR("RoamingIdentity", W, 80),
	PSTR("ServerCertificateName", W, 80),
	PINT("ServerCertificateNameComparison", W, 0, 2),
	PSTR("Username", W, 128),
};

static const struct simnet_class c_8021x = {
	"AMT_8021XProfile", AMT, p_8021x, N(p_8021x),
	SC_GET | SC_PUT | SC_ENUM, NULL, NULL, NULL, NULL, NULL, NULL,
	def_8021x
};

/* ---- IPS_HostBasedSetupService ---- */

static const char *
g_control_mode(struct simnet_ctx *x, const json_t *i)
{
	(void)i;
	return simnet_printf(x->a, "%u", (unsigned)x->d->control_mode);
}

static void
def_hbs(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);
	struct amtp_buf *b;
	uint8_t nonce[20];
	size_t i;

	(void)json_object_set_new(o, "AllowedControlModes", json_pack("[ss]",
	    "2", "1"));
	set(o, "CertChainStatus", "0");
	/* A fixed-per-device nonce from the UUID (never used to sign:
	 * host-based setup is not simulated over the network). */
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = d->uuid[i % 16] ^ (uint8_t)(i * 37);
	if ((b = amtp_buf_new(64)) != NULL && amtp_b64_encode(b, nonce,
	    sizeof(nonce)) == 0)
		set(o, "ConfigurationNonce", amtp_buf_str(b));
	amtp_buf_free(b);
	service(o, "IPS_HostBasedSetupService",
	    "Intel(r) AMT Host Based Setup Service");
}

static const struct simnet_prop p_hbs[] = {
	PINT("AllowedControlModes", SP_ARRAY, 0, 2),
	PINT("CertChainStatus", 0, 0, 2),
	PSTR("ConfigurationNonce", 0, 0),
	PSTR("CreationClassName", K, 0),
	PGET("CurrentControlMode", ST_INT, g_control_mode),
	PSTR("ElementName", 0, 0),
	PSTR("Name", K, 0),
	PSTR("SystemCreationClassName", K, 0),
	PSTR("SystemName", K, 0),
};

static const struct simnet_class c_hbs = {
	"IPS_HostBasedSetupService", IPS, p_hbs, N(p_hbs),
	SC_GET | SC_ENUM, simnet_m_hbs, NULL, NULL, NULL, NULL, NULL,
	def_hbs
};

/* ---- IPS_IEEE8021xSettings (the wired 802.1X settings, newer AMT) ---- */

static void
def_ips8021x(struct amtsim_device *d, json_t *arr)
{
	json_t *o = inst_add(arr);

	(void)d;
	set(o, "AvailableInS0", "true");
	set(o, "ElementName", "Intel(r) AMT: 8021X Settings");
	set(o, "Enabled", "3");
	set(o, "InstanceID", "Intel(r) AMT: 8021X Settings");
	set(o, "PxeTimeout", "120");
}

static const struct simnet_prop p_ips8021x[] = {
	PINT("AuthenticationProtocol", W, 0, 10),
	PBOOL("AvailableInS0", W),
	PSTR("Domain", W, 255),
	PSTR("ElementName", 0, 0),
	PINT("Enabled", W, 2, 6),
	PSTR("InstanceID", K, 0),
	{ "Password", ST_STR, W | SP_HIDDEN, 0, 32, NULL },
	PINT("PxeTimeout", W, 0, 86400),
	PSTR("RoamingIdentity", W, 80),
	PSTR("ServerCertificateName", W, 80),
	PINT("ServerCertificateNameComparison", W, 0, 2),
	PSTR("Username", W, 128),
};

static const struct simnet_class c_ips8021x = {
	"IPS_IEEE8021xSettings", IPS, p_ips8021x, N(p_ips8021x),
	SC_GET | SC_PUT | SC_ENUM, simnet_m_ips8021x, NULL, NULL, NULL, NULL,
	NULL, def_ips8021x
};

/* ---- credential contexts (associations, read-only) ---- */

struct ctx_build {
	json_t		*arr;
	const char	*only;		/* a class name, or NULL: all */
};

static int
ctx_add(struct simnet_ctx *x, const struct cert_ref *ref, void *arg)
{
	struct ctx_build *cb = arg;
	json_t *o;

	(void)x;
	if (cb->only != NULL && strcmp(cb->only, ref->cls) != 0)
		return 0;
	if ((o = inst_add(cb->arr)) == NULL)
		return 1;
	/* the Pull item is named after the association's own class, as
	 * AMT answers an Enumerate of CIM_CredentialContext */
	set(o, "_class", ref->cls);
	(void)json_object_set_new(o, "ElementInContext", json_pack(
	    "{sss{so}}", "uri", AMT "AMT_PublicKeyCertificate", "sel",
	    "InstanceID", json_sprintf("Intel(r) AMT Certificate: Handle: %lld",
	    ref->handle)));
	(void)json_object_set_new(o, "ElementProvidingContext", json_pack(
	    "{sss{ss}}", "uri", ref->pc_uri, "sel", ref->pc_sel,
	    ref->pc_val));
	return 0;
}

static json_t *
ctx_instances(struct simnet_ctx *x, const char *only)
{
	struct ctx_build cb;

	if ((cb.arr = json_array()) == NULL)
		return NULL;
	cb.only = only;
	(void)each_cert_ref(x, ctx_add, &cb);
	return cb.arr;
}

static json_t *
inst_credctx(struct simnet_ctx *x)
{
	return ctx_instances(x, NULL);
}

static json_t *
inst_ips8021xctx(struct simnet_ctx *x)
{
	return ctx_instances(x, "IPS_8021xCredentialContext");
}

static const struct simnet_prop p_credctx[] = {
	PEPR("ElementInContext", K),
	PEPR("ElementProvidingContext", K),
};

static const struct simnet_class c_credctx = {
	"CIM_CredentialContext", CIM, p_credctx, N(p_credctx),
	SC_ENUM, NULL, inst_credctx, NULL, NULL, NULL, NULL, NULL
};

static const struct simnet_class c_ips8021xctx = {
	"IPS_8021xCredentialContext", IPS, p_credctx, N(p_credctx),
	SC_ENUM, NULL, inst_ips8021xctx, NULL, NULL, NULL, NULL, NULL
};

/* ---- the list ---- */

const struct simnet_class *const simnet_classes[] = {
	&c_general, &c_setup, &c_time, &c_pkm, &c_cert, &c_key, &c_tls,
	&c_tlsctx, &c_tlscoll, &c_auth, &c_kerberos, &c_redir, &c_webui,
	&c_power, &c_esd, &c_software, &c_ether, &c_wifiport, &c_wifiset,
	&c_wificonf, &c_8021x, &c_ips8021x, &c_credctx, &c_ips8021xctx,
	&c_hbs,
};
const size_t simnet_nclasses = N(simnet_classes);
