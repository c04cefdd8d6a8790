/*
 * amtprov - simnet.h: internals shared by the files of amtsim's network
 * side (net.c daemons, tls.c certificates and the setup-session check,
 * http.c requests and Digest, ws.c WS-Management engine, classes.c class
 * tables, methods.c methods, state.c flash section, faults.c knobs).
 * Nothing outside src/amtsim/net includes it except unit tests.
 */
#ifndef AMTSIM_SIMNET_H
#define AMTSIM_SIMNET_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/wsman.h"
#include "net.h"

struct amtsim_device;
struct amtsim_timer;
struct amtp_buf;
struct amtp_digest_nonces;
struct MHD_Daemon;
struct simnet_class;

#define SIMNET_HTTP_PORT	16992
#define SIMNET_TLS_PORT		16993
/* Longest "<Class>.<Method>" name kept for fault matching. */
#define SIMNET_CALL_MAX		128
/* TLS priorities: TLS 1.2 and 1.3, with the RSA key-exchange AES-CBC
 * SHA-256 suites older AMT clients offer (http-tls-notes 5). */
#define SIMNET_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+SHA256"

/* ---- per-request arena (ws.c) ---- */
struct simnet_arena {
	struct simnet_chunk	*head;
};
void *simnet_alloc(struct simnet_arena *a, size_t n);
char *simnet_strdup(struct simnet_arena *a, const char *s);
char *simnet_printf(struct simnet_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void simnet_arena_free(struct simnet_arena *a);

/* ---- enumeration contexts ---- */
struct simnet_enum {
	char			 id[40];		/* "" when free */
	const struct simnet_class *cls;
	json_t			*items;		/* array of instances */
	size_t			 pos;
	uint64_t		 expires;	/* monotonic ms */
};

struct simnet_daemon {
	struct simnet_dev	*sd;
	struct MHD_Daemon	*mhd;
	int			 tls;
	int			 epfd;
	struct amtsim_timer	*timer;
	struct simnet_req	*suspended;	/* list */
};

/* The network side's runtime state of one device (d->net). */
struct simnet_dev {
	struct amtsim_device	*d;
	struct amtsim_net	*net;		/* NULL in unit tests */
	struct simnet_daemon	 http, tls;
	int			 listening;
	/* TLS server credentials: the self-signed one used before
	 * provisioning and the one provisioning stored. */
	gnutls_pcert_st		 self_pcert;
	int			 have_self;
	gnutls_pcert_st		 prov_pcert;
	gnutls_privkey_t	 prov_key;
	int			 have_prov;
	int			 prov_handle;	/* certificate in use, -1 */
	char			*prov_pub;	/* its key's stored "pub" */
	/* The key GenerateKeyPair made last, parsed: the CSR request that
	 * follows uses it without decoding its PEM (methods.c find_key;
	 * matched to a stored key by its public key). */
	EVP_PKEY		*key_cache;
	char			*key_cache_pub;	/* its stored "pub", or NULL */
	/* Digest: HA1s of the setup-session passwords (admin + "" and
	 * admin + MEBx password), computed per request. */
	uint8_t			 ha1_empty[16], ha1_mebx[16];
	struct simnet_enum	 enums[AMTP_SIM_NET_ENUMS_MAX];
	uint32_t		 enum_counter;
	uint64_t		 msg_counter;
	uint64_t		 requests;
	uint32_t		 fails_done;
	struct amtsim_timer	*stop_timer;
	int			 stop_restart;	/* reboot: listen again */
	uint64_t		 audit_saved;	/* last audit flash write, ms */
	struct amtsim_timer	*audit_timer;
};

/* ---- the network side (net.c) ---- */
struct amtsim_net {
	struct amtsim_loop		*loop;
	struct amtsim_fleet		*fleet;
	struct amtsim_net_opts		 opts;
	struct amtp_digest_nonces	*nonces;
	EVP_PKEY			*self_key;	/* fleet-wide */
	gnutls_privkey_t		 self_gkey;
	EVP_PKEY			**pool;		/* opts.keypool */
	size_t				 npool;
	uint64_t			 busy_ms;	/* last request */
	struct amtsim_timer		*pool_timer;
	struct amtsim_timer		*sweep_timer;
	struct simnet_conn		*preauth;	/* list */
	uint64_t			 rng_state;
};

/* One TCP connection (MHD socket context). */
struct simnet_conn {
	struct simnet_dev	*sd;
	struct simnet_daemon	*dm;
	struct simnet_conn	*prev, *next;	/* net->preauth list */
	int			 in_list;
	int			 fd;
	uint64_t		 started;	/* monotonic ms */
	int			 authed;	/* a request authenticated */
	int			 tls_checked;	/* setup-session chain done */
	int			 tls_ok;	/* ... and accepted */
	unsigned		 requests;
};

/* ---- flash section (state.c) ---- */
/* The device's network-side flash (a JSON object; see state.c for the
 * layout), created with factory defaults when missing. */
json_t *simnet_flash(struct amtsim_device *d);
int simnet_section_id(void);
int simnet_state_register(void);
/* Factory defaults into an empty object. */
int simnet_flash_defaults(struct amtsim_device *d, json_t *root);
/* Saves d; logs on failure.  0 or the error. */
int simnet_save(struct amtsim_device *d);
/* Helpers over the flash object. */
json_t *simnet_obj(json_t *root, const char *key);	/* made if absent */
json_t *simnet_arr(json_t *root, const char *key);	/* made if absent */
long long simnet_int(const json_t *o, const char *key, long long def);
const char *simnet_str(const json_t *o, const char *key, const char *def);
int simnet_next_handle(json_t *root, const char *counter);
/* Audit: records the outcome of a setup-session check. */
void simnet_audit_setup(struct amtsim_device *d, int accepted,
    const char *reason, const char *detail, const char *peer);

/* ---- device runtime (net.c) ---- */
/* d->net, made when missing (net may be NULL in unit tests). */
struct simnet_dev *simnet_dev_get(struct amtsim_net *net,
    struct amtsim_device *d);
void simnet_dev_free(struct simnet_dev *sd);
/* Monotonic ms (the loop's clock). */
uint64_t simnet_now_ms(void);
/* Runs dm's MHD now (and re-arms its timer from MHD_get_timeout). */
void simnet_daemon_run(struct simnet_daemon *dm);
/* Stops listening after the current answers went out; restart_ms > 0:
 * listen again after that long (a reboot). */
void simnet_dev_stop_later(struct simnet_dev *sd, uint32_t restart_ms);

/* ---- TLS (tls.c) ---- */
int simnet_tls_self_key(struct amtsim_net *net);
/* Makes (or loads from flash) the device's self-signed certificate. */
int simnet_tls_self_cert(struct simnet_dev *sd);
/* (Re)loads the certificate and key provisioning stored, if any. */
int simnet_tls_prov_load(struct simnet_dev *sd);
void simnet_tls_free(struct simnet_dev *sd);
/* MHD options: certificate retrieval and the handshake-time check. */
int simnet_tls_cert_cb(gnutls_session_t session,
    const gnutls_datum_t *req_ca_rdn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey);
void simnet_tls_session_start(struct simnet_conn *c, gnutls_session_t s);
/*
 * The setup-session check (spec 3.1, 3.2, DESIGN "DNS suffix match") on a
 * chain of DER certificates as the client sent them: amtp_pki's rules with
 * the device's active hash table and trusted DNS suffix.  0 when
 * accepted; AMTP_E_CERT with *reason (and detail) when refused.
 */
int simnet_tls_check_chain(struct amtsim_device *d,
    const gnutls_datum_t *certs, unsigned n, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz);
/* The DNS suffix the device trusts (PKI suffix, else the DHCP one). */
const char *simnet_trusted_suffix(const struct amtsim_device *d);

/*
 * A GnuTLS private key whose operations OpenSSL does with k (RSA only):
 * PKCS#1 v1.5 and RSA-PSS (RSAE, SHA-256/384/512) signatures and the
 * PKCS#1 v1.5 decryption of TLS RSA key exchange's 48-byte premaster
 * secret (RFC 5246 7.4.7.1: a wrong padding or length gives 48 random
 * bytes, not an error, in constant time).  It holds a reference to k until
 * gnutls_privkey_deinit.
 * 0, AMTP_E_INVAL (not RSA) or AMTP_E_CRYPTO/NOMEM.
 */
int simnet_tls_gkey(EVP_PKEY *k, gnutls_privkey_t *out);
/* Operations those keys did since the start (all keys, one thread). */
struct simnet_tls_ops {
	uint64_t	signs;
	uint64_t	decrypts;
};
void simnet_tls_ops_get(struct simnet_tls_ops *out);

/*
 * The certificate the len bytes at der start with (DER), parsed: the same
 * X509 as d2i_X509 makes, from a cache of the last certificates parsed
 * (keyed by the exact bytes) or parsed now and kept.  The caller owns one
 * reference (X509_free) and must not change it.  *used: the bytes the
 * certificate took (a caller that wants no trailing bytes checks it).
 * NULL when they are not a certificate.
 */
X509 *simnet_x509_parse(const uint8_t *der, size_t len, size_t *used);
/* Empties that cache (amtsim_net_free). */
void simnet_x509_cache_clear(void);

/* ---- keys (tls.c) ---- */
/* A new RSA-2048 key for GenerateKeyPair: from the pool, or made now. */
int simnet_key_take(struct amtsim_net *net, EVP_PKEY **out);
void simnet_keypool_fill(struct amtsim_net *net, int all);

/* ---- HTTP (http.c) ---- */
struct MHD_Connection;
struct simnet_req;
/* MHD callbacks (cls: the struct simnet_daemon). */
int simnet_http_access(void *cls, struct MHD_Connection *mc,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls);
void simnet_http_completed(void *cls, struct MHD_Connection *mc,
    void **con_cls, int toe);
/* Resumes every suspended request of dm (before its daemon stops). */
void simnet_http_resume_all(struct simnet_daemon *dm);
/*
 * The decisions taken when a request's headers are in (transport
 * independent, so unit tests and the fuzz target drive it without MHD):
 * 0 means close the connection without an answer (port closed in this
 * state, setup session not accepted, announced body too big); else
 * out->early is a status to answer at once (404, 405, 431) or 0, and
 * out->auth the Digest outcome (AUTH_*).  auth and content_length may be
 * NULL.
 */
enum simnet_auth { AUTH_NONE = 0, AUTH_OK, AUTH_STALE, AUTH_BAD };
struct simnet_http_decision {
	unsigned	 early;
	int		 auth;
	size_t		 body_max;
};
int simnet_http_headers(struct simnet_dev *sd, int tls, int tls_ok,
    const char *method, const char *url, unsigned nheaders, const char *auth,
    const char *content_length, struct simnet_http_decision *out);
/* 1 when dm accepts connections in the device's current state. */
int simnet_http_port_open(const struct simnet_daemon *dm);

/* ---- WS-Management (ws.c) ---- */
struct simnet_reply {
	struct amtp_buf	*body;			/* the envelope */
	int		 http_status;
	char		 call[SIMNET_CALL_MAX];	/* "Class.Method" / "Class.Get" */
	uint32_t	 delay_ms;		/* extra (key generation) */
	int		 after;			/* SIMNET_AFTER_* */
};
#define SIMNET_AFTER_NONE	0
#define SIMNET_AFTER_STOP	1	/* interface deactivated */
#define SIMNET_AFTER_RELOAD	2	/* TLS credentials changed */

/*
 * Handles one request envelope for sd's device: parses it (wsman.h),
 * dispatches it and builds the reply (a response or a SOAP fault) into
 * rep->body, which it allocates.  Changes are saved to flash before it
 * returns.  0, or AMTP_E_NOMEM (rep->body may then be NULL).
 */
int simnet_ws_handle(struct simnet_dev *sd, const void *xml, size_t len,
    struct simnet_reply *rep);
void simnet_reply_reset(struct simnet_reply *rep);
/* Drops expired enumeration contexts. */
void simnet_ws_expire(struct simnet_dev *sd, uint64_t now);
void simnet_ws_free(struct simnet_dev *sd);

/* ---- the class engine (classes.c) ---- */

enum simnet_type {
	ST_STR = 0,
	ST_BOOL,
	ST_INT,		/* min..max */
	ST_B64,		/* base64 binary */
	ST_EPR,		/* a reference (stored as {"uri","sel":{}}) */
};

#define SP_KEY		0x01	/* a key (selector) property */
#define SP_WRITE	0x02	/* Put may change it */
#define SP_ARRAY	0x04	/* repeated element */
#define SP_HIDDEN	0x08	/* write-only: never returned (secrets) */

struct simnet_ctx;
struct simnet_call;

struct simnet_prop {
	const char	*name;
	enum simnet_type type;
	unsigned	 flags;
	long long	 min, max;		/* ST_INT; ST_STR: max length */
	/* Computed value (NULL: stored in the instance).  Returns an arena
	 * string, or NULL to leave the property out. */
	const char	*(*get)(struct simnet_ctx *x, const json_t *inst);
};

struct simnet_method {
	const char	*name;
	/* Fills c->out and c->rv; may set c->fault. */
	void		(*fn)(struct simnet_call *c);
	int		 save;		/* persists: save after success */
};

#define SC_GET		0x01
#define SC_PUT		0x02
#define SC_ENUM		0x04
#define SC_CREATE	0x08
#define SC_DELETE	0x10

struct simnet_class {
	const char			*name;
	const char			*base;		/* resource URI base */
	const struct simnet_prop	*props;
	size_t				 nprops;
	unsigned			 ops;
	const struct simnet_method	*methods;	/* ends with NULL */
	/* Where instances come from: NULL: the flash ("inst"/<name>);
	 * else this builds them (a new array) for the device. */
	json_t				*(*instances)(struct simnet_ctx *x);
	/* 0 when the class does not exist on this device. */
	int				 (*present)(struct simnet_ctx *x);
	/* Put: called with the merged new instance before it is stored;
	 * returns SF_NONE or a fault. */
	int				 (*put)(struct simnet_ctx *x,
					    json_t *inst, const json_t *old);
	/* Create / Delete (classes that allow them). */
	int				 (*create)(struct simnet_ctx *x,
					    const struct amtp_wsman_obj *body,
					    struct amtp_wsman_epr *created);
	int				 (*del)(struct simnet_ctx *x,
					    json_t *inst);
	/* Factory instances (stored classes), added to an empty array. */
	void				 (*defaults)(struct amtsim_device *d,
					    json_t *arr);
};

/* SOAP faults the engine answers with. */
enum simnet_fault {
	SF_NONE = 0,
	SF_DEST_UNREACHABLE,	/* unknown resource */
	SF_ACTION_NOT_SUPPORTED,
	SF_INVALID_SELECTORS,
	SF_INVALID_REPRESENTATION,
	SF_ALREADY_EXISTS,
	SF_INVALID_ENUM_CONTEXT,
	SF_MALFORMED,		/* not a WS-Management request */
	SF_ACCESS_DENIED,
	SF_INTERNAL,
	SF__MAX
};

struct simnet_ctx {
	struct simnet_dev		*sd;
	struct amtsim_device		*d;
	json_t				*root;	/* flash */
	const struct amtp_wsman_request	*req;
	struct simnet_arena		*a;
	json_t				*keep;	/* refs alive until reply */
	uint32_t			 delay_ms;
	int				 after;
};

#define SIMNET_OUT_MAX	64
struct simnet_call {
	struct simnet_ctx		*x;
	const struct simnet_class	*cls;
	const struct amtp_wsman_obj	*in;	/* _INPUT (may be NULL) */
	struct amtp_wsman_prop		 out[SIMNET_OUT_MAX];
	size_t				 nout;
	long long			 rv;	/* ReturnValue */
	int				 fault;
	int				 save;	/* flash changed */
};

extern const struct simnet_class *const simnet_classes[];
extern const size_t simnet_nclasses;
const struct simnet_class *simnet_class_find(const char *resource_uri);
/* The resource URI of cls into the arena. */
const char *simnet_class_uri(struct simnet_arena *a,
    const struct simnet_class *cls);
const struct simnet_prop *simnet_prop_find(const struct simnet_class *cls,
    const char *name);
/* Checks a text value against a property's type.  1 when valid. */
int simnet_prop_valid(const struct simnet_prop *p, const char *v);
/* The instances of cls on the device (a new reference). */
json_t *simnet_class_instances(struct simnet_ctx *x,
    const struct simnet_class *cls);

/* Output helpers for methods (methods.c). */
void simnet_out(struct simnet_call *c, const char *name, const char *text);
void simnet_outf(struct simnet_call *c, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void simnet_out_epr(struct simnet_call *c, const char *name,
    const char *cls, const char *selname, const char *selval);
const char *simnet_in(const struct simnet_call *c, const char *name);
/* A reference parameter's selector value, or NULL. */
const char *simnet_in_epr_sel(const struct simnet_call *c, const char *name,
    const char *selname);

/* The method tables (methods.c), each class's list. */
extern const struct simnet_method simnet_m_setup[];
extern const struct simnet_method simnet_m_time[];
extern const struct simnet_method simnet_m_pkm[];
extern const struct simnet_method simnet_m_auth[];
extern const struct simnet_method simnet_m_kerberos[];
extern const struct simnet_method simnet_m_redir[];
extern const struct simnet_method simnet_m_webui[];
extern const struct simnet_method simnet_m_power[];
extern const struct simnet_method simnet_m_ether[];
extern const struct simnet_method simnet_m_wifiport[];
extern const struct simnet_method simnet_m_wificonf[];
extern const struct simnet_method simnet_m_hbs[];
extern const struct simnet_method simnet_m_ips8021x[];

/* Digest password parameters: 32 hex digits or base64 of 16 bytes. */
int simnet_decode_ha1(const char *s, uint8_t ha1[16]);
/* TLS settings now in force (applied at CommitChanges). */
int simnet_tls_enabled(struct amtsim_device *d);
int simnet_accept_non_secure(struct amtsim_device *d);

/* ---- faults (faults.c) ---- */
/* 1 when the knobs apply to device index. */
int simnet_faults_for(const struct amtsim_net_faults *f, unsigned index);
/* Response delay to add now (latency knob). */
uint32_t simnet_faults_latency(struct amtsim_net *net);
/* 1 when a knob can delay an answer (daemons then allow suspend). */
int simnet_can_delay(const struct amtsim_net_faults *f);
/* 1 when call matches pattern ("*" or exact). */
int simnet_faults_match(const char *pattern, const char *call);

#endif
