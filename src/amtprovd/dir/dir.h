/*
 * amtprov - dir/dir.h: the directory, where each AMT device gets an account
 * (role site, provisioning step 4).
 *
 * One interface, two back ends:
 *   - built-in: a table in the site database (amtp_store_diracct_*), the
 *     embedded default;
 *   - LDAP (OpenLDAP's libldap): Active Directory, Samba AD or OpenLDAP,
 *     with simple or SASL bind, StartTLS or ldaps, and configurable object
 *     classes and attribute names.
 *
 * An account is named after the device's host name (the first label of its
 * FQDN), lives in the configured container (an OU's DN), holds a random
 * password and the service principal names of the AMT web service
 * (amtp_dir_spns()).  Creating is idempotent: an existing account gets its
 * SPNs, password and enabled state set again.
 *
 * The password: the caller makes it (amtp_rand_password(AMTP_DIR_PASSWORD_LEN))
 * and escrows it FIRST (amtp_store_cred_put_pending(dev, AMTP_CRED_DIRECTORY)),
 * then creates the account, then promotes the escrowed version.  A crash in
 * between leaves a pending password that the resumed job sets again.
 * See docs/directory.md.
 */
#ifndef AMTPROVD_DIR_DIR_H
#define AMTPROVD_DIR_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"

struct amtp_dir;
struct amtp_secret;
struct amtp_store;

/* Ports of the AMT web service: HTTP and HTTPS. */
#define AMTP_DIR_SPN_COUNT	4
#define AMTP_DIR_SPN_MAX	(AMTP_DNS_NAME_MAX + 16)

/*
 * The SPNs of a device's account, in this order:
 *   HTTP/<fqdn>:16992  HTTP/<fqdn>:16993  HTTP/<host>:16992  HTTP/<host>:16993
 * (Kerberos names the service "HTTP" for both ports; see docs/directory.md).
 * host may be NULL: the first label of fqdn.  AMTP_E_INVAL for a name that
 * is not a DNS name.
 */
int amtp_dir_spns(const char *fqdn, const char *host,
    char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1]);

/* An account as the directory holds it. */
struct amtp_dir_account {
	char	name[AMTP_DIR_NAME_MAX + 1];	/* the host name */
	char	dn[AMTP_DIR_DN_MAX + 1];	/* LDAP DN; built-in: cn=<name>,<container> */
	int	enabled;
	size_t	n_spns;
	char	spns[AMTP_STORE_SPNS_MAX][AMTP_DIR_SPN_MAX + 1];
};

/* LDAP settings.  NULL strings take the default (Active Directory's). */
struct amtp_dir_ldap_conf {
	const char	*uri;		/* ldap://host:389 or ldaps://host:636 */
	int		 starttls;	/* 1: StartTLS on an ldap:// URI (required) */
	const char	*ca_file;	/* CA certificates for TLS; NULL: system */
	const char	*bind_dn;	/* simple bind DN (NULL with sasl_mech) */
	const struct amtp_secret *bind_pw;	/* simple bind password */
	const char	*sasl_mech;	/* "EXTERNAL", "GSSAPI"...; NULL: simple */
	const char	*object_classes;	/* comma list; "computer" */
	const char	*naming_attr;	/* RDN attribute; "cn" */
	const char	*account_attr;	/* "sAMAccountName" (value <HOST>$); "" none */
	const char	*spn_attr;	/* "servicePrincipalName" */
	const char	*dns_attr;	/* "dNSHostName" (value fqdn); "" none */
	const char	*password_attr;	/* "unicodePwd" (AD encoding, needs TLS)
					 * or e.g. "userPassword" (as given) */
	const char	*uac_attr;	/* "userAccountControl": 4096 enabled,
					 * 4098 disabled; "" none (disable then
					 * fails with AMTP_E_UNSUPPORTED) */
	int		 timeout_secs;	/* network and operation timeout; 0: 10 */
};

/*
 * Connects and binds.  err (may be NULL) gets the server's message.
 * AMTP_E_LDAP (server or bind failure), AMTP_E_TLS (StartTLS failed),
 * AMTP_E_CONFIG (bad settings: a name that is not an attribute name, ...).
 */
int amtp_dir_open_ldap(const struct amtp_dir_ldap_conf *conf,
    struct amtp_dir **out, char *err, size_t errlen);

/* The built-in directory on st (borrowed; must outlive the directory). */
int amtp_dir_open_builtin(struct amtp_store *st, struct amtp_dir **out);

/* Closes (unbinds) and frees; NULL does nothing. */
void amtp_dir_close(struct amtp_dir *d);

/* "ldap" or "builtin". */
const char *amtp_dir_backend(const struct amtp_dir *d);

/* The last failure's description (server message; "" none). */
const char *amtp_dir_errmsg(const struct amtp_dir *d);

/*
 * Creates or updates the account of the device fqdn (host: its host name,
 * NULL for the first label of fqdn) in container: SPNs, password (required),
 * enabled.  device_id (built-in only; 0 none) binds it to a device.
 * *created (may be NULL) is 1 for a new account.  out (may be NULL) gets the
 * account as stored.  AMTP_E_CONFLICT when an SPN belongs to another
 * account (built-in); AMTP_E_LDAP.
 */
int amtp_dir_create_account(struct amtp_dir *d, const char *container,
    const char *fqdn, const char *host, int64_t device_id,
    const struct amtp_secret *password, int *created,
    struct amtp_dir_account *out);

/* The account named host in container.  AMTP_E_NOTFOUND. */
int amtp_dir_get_account(struct amtp_dir *d, const char *container,
    const char *host, struct amtp_dir_account *out);

/* Disables (enabled 0) or removes the account (device unprovisioned).
 * AMTP_E_NOTFOUND when there is none. */
int amtp_dir_disable_account(struct amtp_dir *d, const char *container,
    const char *host);
int amtp_dir_delete_account(struct amtp_dir *d, const char *container,
    const char *host);

/* Back end operations (dir_ldap.c, dir_builtin.c). */
struct amtp_dir_ops {
	const char *name;
	int (*create)(struct amtp_dir *, const char *, const char *,
	    const char *, int64_t, const struct amtp_secret *, int *,
	    char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1]);
	int (*get)(struct amtp_dir *, const char *, const char *,
	    struct amtp_dir_account *);
	int (*set_enabled)(struct amtp_dir *, const char *, const char *, int);
	int (*del)(struct amtp_dir *, const char *, const char *);
	void (*close)(struct amtp_dir *);
};

struct amtp_dir {
	const struct amtp_dir_ops *ops;
	void	*be;				/* the back end's state */
	char	 errmsg[256];
};

/* 1 when s is a DNS name (letters, digits, '-', dots between labels). */
int amtp_dir_valid_dns_name(const char *s);

#endif
