/*
 * amtprov - config.c: the amtprovd.conf schema and its cross-key checks
 * (amtprovd, every role).
 *
 * Each entry's help text is the one line that docs/configuration.md shows;
 * keep it a sentence a site administrator understands.
 */
#include <arpa/inet.h>
#include <string.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "config.h"
#include "dir/dir.h"

static const char *const role_names[AMTPD_ROLE__MAX] = {
	"site", "oobsp", "enroll"
};

static const char *const log_levels[] = {
	"error", "warning", "info", "debug", NULL
};
static const char *const dir_types[] = { "builtin", "ldap", NULL };
static const char *const mebx_policies[] = {
	"random", "fixed", "keep", NULL
};
static const char *const acl_access[] = { "network", "local", "any", NULL };
static const char *const acl_types[] = { "digest", "kerberos", NULL };
static const char *const power_schemes[] = {
	"s0", "s0_s3", "s0_s3_s4_s5", NULL
};
static const char *const wifi_security[] = {
	"wpa2_psk", "wpa2_enterprise", "wpa_psk", "wpa_enterprise", NULL
};
static const char *const wifi_encryption[] = { "ccmp", "tkip", NULL };
static const char *const eap_methods[] = {
	"eap_tls", "peap_mschapv2", "eap_ttls_mschapv2", NULL
};
static const char *const ca_types[] = { "builtin", NULL };

#define K(sec, nm, ty, df, mn, mx, ch, rq, hl) \
	{ sec, nm, ty, df, mn, mx, ch, rq, hl }

const struct amtp_conf_key amtpd_config_schema[] = {
	/* [site]: this process and the site server role. */
	K("site", "roles", AMTP_CONF_LIST, "site", 0, 64, NULL, 0,
	    "Roles this amtprovd process runs: any of site, oobsp, enroll."),
	K("site", "listen", AMTP_CONF_STR, "0.0.0.0:8443", 0, 64, NULL, 0,
	    "Address and port of the HTTPS API: IPv4:PORT or [IPv6]:PORT (port 0: any free port, logged at start)."),
	K("site", "tls_cert", AMTP_CONF_STR, NULL, 0, 1024, NULL, 0,
	    "PEM file with the site server's certificate (and chain); required by role site."),
	K("site", "tls_key", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "PEM file with the private key of tls_cert (mode 0600); required by role site."),
	K("site", "tls_priorities", AMTP_CONF_STR,
	    "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"
	    "-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM:"
	    "+AES-128-CBC:+AES-256-CBC:-GROUP-ALL:+GROUP-X25519:"
	    "+GROUP-SECP256R1:+GROUP-SECP384R1:+SHA256", 0, 256, NULL, 0,
	    "GnuTLS priority string of the HTTPS API (TLS 1.2 and 1.3 by default; the server's order: AES-128-GCM with SHA-256 first, whose handshake costs about a fifth less CPU than the SHA-384 suite clients prefer, and X25519 first, the key share clients send, so no retry round trip)."),
	K("site", "database", AMTP_CONF_STR, NULL, 0, 1024, NULL, 1,
	    "Site database: sqlite:/path/to/site.db or postgresql://user@host/db."),
	K("site", "master_key_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 1,
	    "File holding the site master key (64 hex digits, mode 0600) that seals every stored password."),
	K("site", "enrolment_secret_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the shared secret agents present to register (Bearer token); required by role site."),
	K("site", "threads", AMTP_CONF_INT, "4", 1, 64, NULL, 0,
	    "Worker threads of the HTTPS API."),
	K("site", "max_connections", AMTP_CONF_INT, "4096", 16, 65536, NULL, 0,
	    "Most concurrent HTTPS connections; a connection over the limit is accepted and closed at once (the client sees it reset and must retry)."),
	K("site", "connection_timeout", AMTP_CONF_INT, "30", 1, 3600, NULL, 0,
	    "Seconds an idle HTTPS connection is kept open."),
	K("site", "log_level", AMTP_CONF_ENUM, "info", 0, 0, log_levels, 0,
	    "Most verbose log level written: error, warning, info or debug."),

	/* [oob]: what every device gets. */
	K("oob", "provision", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Site policy: tell agents of devices not yet provisioned to provision AMT."),
	K("oob", "dns_domain", AMTP_CONF_STR, NULL, 0, 253, NULL, 0,
	    "DNS domain of the AMT devices (their FQDN is HOST.dns_domain unless the agent reports one)."),
	K("oob", "power_scheme", AMTP_CONF_ENUM, "s0_s3_s4_s5", 0, 0, power_schemes, 0,
	    "Power states in which AMT stays manageable: s0, s0_s3 or s0_s3_s4_s5."),
	K("oob", "web_ui", AMTP_CONF_BOOL, "false", 0, 0, NULL, 0,
	    "Enable the AMT web user interface."),
	K("oob", "serial_over_lan", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Enable serial-over-LAN redirection."),
	K("oob", "ide_redirection", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Enable IDE (storage) redirection."),
	K("oob", "ping_response", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Let AMT answer ICMP echo requests."),
	K("oob", "admin_password_length", AMTP_CONF_INT, "16",
	    AMTP_AMT_PASSWORD_MIN, AMTP_AMT_PASSWORD_MAX, NULL, 0,
	    "Length of the random AMT admin password set on each device."),
	K("oob", "wired_8021x", AMTP_CONF_STR, NULL, 0, AMTP_CONF_NAME_MAX, NULL, 0,
	    "Name of an [ieee8021x.NAME] profile applied to the wired interface; unset for none."),

	/* [directory]: where device accounts are created (step 4). */
	K("directory", "type", AMTP_CONF_ENUM, "builtin", 0, 0, dir_types, 0,
	    "builtin (a table in the site database) or ldap."),
	K("directory", "container", AMTP_CONF_STR, "OU=AMT", 0, 1024, NULL, 0,
	    "DN of the container (OU) that receives one account per AMT device."),
	K("directory", "ldap_uri", AMTP_CONF_STR, NULL, 0, 512, NULL, 0,
	    "LDAP server for type ldap: ldap://host, ldaps://host or ldapi://path."),
	K("directory", "starttls", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Require StartTLS on an ldap:// URI."),
	K("directory", "ca_file", AMTP_CONF_STR, NULL, 0, 1024, NULL, 0,
	    "PEM file of the CA certificates that sign the LDAP server's certificate; unset: the system's."),
	K("directory", "bind_dn", AMTP_CONF_STR, NULL, 0, 512, NULL, 0,
	    "DN the site server binds as (simple bind)."),
	K("directory", "bind_password_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the bind DN's password."),
	K("directory", "sasl_mech", AMTP_CONF_STR, NULL, 0, 32, NULL, 0,
	    "SASL mechanism instead of a simple bind: EXTERNAL or GSSAPI."),
	K("directory", "object_classes", AMTP_CONF_STR, NULL, 0, 256, NULL, 0,
	    "Object classes of a new account, comma-separated; unset: computer (Active Directory)."),
	K("directory", "naming_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "RDN attribute of an account; unset: cn."),
	K("directory", "account_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "Account name attribute (value HOST$); unset: sAMAccountName; empty: none."),
	K("directory", "spn_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "SPN attribute; unset: servicePrincipalName."),
	K("directory", "dns_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "DNS name attribute (value FQDN); unset: dNSHostName; empty: none."),
	K("directory", "password_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "Password attribute; unset: unicodePwd (Active Directory, needs TLS), e.g. userPassword for OpenLDAP."),
	K("directory", "uac_attr", AMTP_CONF_STR, NULL, 0, 64, NULL, 0,
	    "Account control attribute; unset: userAccountControl; empty: none."),
	K("directory", "timeout", AMTP_CONF_INT, "10", 1, 300, NULL, 0,
	    "LDAP network and operation timeout, seconds."),

	/* [mebx]: the MEBx password. */
	K("mebx", "policy", AMTP_CONF_ENUM, "random", 0, 0, mebx_policies, 0,
	    "MEBx password: random (one per device, escrowed), fixed (from password_file) or keep (never set)."),
	K("mebx", "password_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the MEBx password for policy fixed."),
	K("mebx", "password_length", AMTP_CONF_INT, "16",
	    AMTP_AMT_PASSWORD_MIN, AMTP_AMT_PASSWORD_MAX, NULL, 0,
	    "Length of a random MEBx password."),

	/* [setup_credential.NAME]: tried in file order on the setup session. */
	K("setup_credential.*", "user", AMTP_CONF_STR, "admin", 0, 32, NULL, 0,
	    "Digest user name of a setup credential (tried in file order)."),
	K("setup_credential.*", "password_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding this credential's password; unset means the empty password."),

	/* [admin_acl.NAME]: the user ACL entries written in the second stage. */
	K("admin_acl.*", "account", AMTP_CONF_STR, NULL, 0, 256, NULL, 1,
	    "Digest user name, or DOMAIN\\account for a Kerberos entry."),
	K("admin_acl.*", "type", AMTP_CONF_ENUM, "kerberos", 0, 0, acl_types, 0,
	    "digest or kerberos."),
	K("admin_acl.*", "password_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the password of a digest entry."),
	K("admin_acl.*", "realms", AMTP_CONF_LIST,
	    "pt_administration,redirection,hardware_asset,remote_control", 0, 512, NULL, 0,
	    "AMT realms (rights) granted, comma-separated."),
	K("admin_acl.*", "access", AMTP_CONF_ENUM, "any", 0, 0, acl_access, 0,
	    "Where the account may connect from: network, local or any."),

	/* [kerberos] */
	K("kerberos", "enabled", AMTP_CONF_BOOL, "false", 0, 0, NULL, 0,
	    "Enable Kerberos authentication on AMT (needs a directory account)."),
	K("kerberos", "realm", AMTP_CONF_STR, NULL, 0, 253, NULL, 0,
	    "Kerberos realm (upper case), e.g. FLEET.EXAMPLE.TEST."),
	K("kerberos", "clock_tolerance", AMTP_CONF_INT, "5", 1, 60, NULL, 0,
	    "Allowed clock skew in minutes."),

	/* [wifi.NAME]: wireless profiles. */
	K("wifi.*", "ssid", AMTP_CONF_STR, NULL, 0, 32, NULL, 1,
	    "Network name (1 to 32 bytes)."),
	K("wifi.*", "security", AMTP_CONF_ENUM, "wpa2_psk", 0, 0, wifi_security, 0,
	    "wpa2_psk, wpa2_enterprise, wpa_psk or wpa_enterprise."),
	K("wifi.*", "encryption", AMTP_CONF_ENUM, "ccmp", 0, 0, wifi_encryption, 0,
	    "ccmp (AES) or tkip."),
	K("wifi.*", "psk_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the passphrase of a PSK profile."),
	K("wifi.*", "ieee8021x", AMTP_CONF_STR, NULL, 0, AMTP_CONF_NAME_MAX, NULL, 0,
	    "Name of the [ieee8021x.NAME] profile of an enterprise network."),
	K("wifi.*", "priority", AMTP_CONF_INT, "1", 1, 255, NULL, 0,
	    "Profile priority (1 is tried first)."),

	/* [ieee8021x.NAME]: 802.1X profiles for Wi-Fi and wired. */
	K("ieee8021x.*", "method", AMTP_CONF_ENUM, "eap_tls", 0, 0, eap_methods, 0,
	    "eap_tls, peap_mschapv2 or eap_ttls_mschapv2."),
	K("ieee8021x.*", "server_names", AMTP_CONF_LIST, NULL, 0, 1024, NULL, 0,
	    "Names the RADIUS server certificate may carry, comma-separated."),
	K("ieee8021x.*", "ca_cert_file", AMTP_CONF_STR, NULL, 0, 1024, NULL, 0,
	    "PEM file with the root CA of the RADIUS server certificate."),
	K("ieee8021x.*", "username", AMTP_CONF_STR, NULL, 0, 256, NULL, 0,
	    "User name for the password methods."),
	K("ieee8021x.*", "password_file", AMTP_CONF_SECRET_FILE, NULL, 0, 1024, NULL, 0,
	    "File holding the password for the password methods."),
	K("ieee8021x.*", "client_certificate", AMTP_CONF_BOOL, "true", 0, 0, NULL, 0,
	    "Enrol a client certificate for the device through the enrollment point (eap_tls)."),

	/* [oobsp]: the out-of-band service point role. */
	K("oobsp", "workers", AMTP_CONF_INT, "16", 1, 1024, NULL, 0,
	    "Jobs one service point runs at once."),
	K("oobsp", "lease_seconds", AMTP_CONF_INT, "300", 10, 86400, NULL, 0,
	    "How long a claimed job stays with this service point without a heartbeat."),
	K("oobsp", "max_attempts", AMTP_CONF_INT, "5", 1, 100, NULL, 0,
	    "Attempts of one job before it fails for good."),
	K("oobsp", "pki_dir", AMTP_CONF_STR, NULL, 0, 1024, NULL, 0,
	    "Site directory with the provisioning certificate (prov-chain.pem, prov-key.sealed) and the CA files; required by role oobsp."),

	/* [enroll]: the enrollment point role. */
	K("enroll", "ca", AMTP_CONF_ENUM, "builtin", 0, 0, ca_types, 0,
	    "Certificate authority: builtin (a CA whose key is sealed in the site database)."),
	K("enroll", "cert_days", AMTP_CONF_INT, "825", 1, 3650, NULL, 0,
	    "Validity of issued AMT web-server certificates, in days."),
	K("enroll", "pki_dir", AMTP_CONF_STR, NULL, 0, 1024, NULL, 0,
	    "Site directory with the CA files; unset: oobsp.pki_dir."),
	K("enroll", "socket", AMTP_CONF_STR, NULL, 0, 107, NULL, 0,
	    "Local socket the service points ask for certificates (mode 0600); unset: enroll.sock in the site directory."),
	K("enroll", "allowed_uid", AMTP_CONF_INT, "-1", -1, 2147483647, NULL, 0,
	    "Another user id allowed on the socket besides amtprovd's own; -1: none."),
	K("enroll", "max_requests", AMTP_CONF_INT, "1000", 1, 1000000, NULL, 0,
	    "Requests answered on one socket connection before it is closed (the client reconnects)."),
	K("enroll", "idle_timeout", AMTP_CONF_INT, "60", 1, 3600, NULL, 0,
	    "Seconds an idle socket connection is kept open."),

	{ NULL, NULL, AMTP_CONF_STR, NULL, 0, 0, NULL, 0, NULL }
};

int
amtpd_config_role_parse(const char *s)
{
	int i;

	for (i = 0; i < AMTPD_ROLE__MAX; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

const char *
amtpd_config_role_name(int r)
{
	if (r < 0 || r >= AMTPD_ROLE__MAX)
		return "?";
	return role_names[r];
}

int
amtpd_config_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs, *port;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	long long p;
	size_t hl;
	int r, v6 = 0;

	memset(ss, 0, sizeof(*ss));
	*sslen = 0;
	if (s[0] == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':')
			return AMTP_E_PARSE;
		hs = s + 1;
		hl = (size_t)(colon - hs);
		port = colon + 2;
		v6 = 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return AMTP_E_PARSE;
		hs = s;
		hl = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return AMTP_E_PARSE;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if ((r = amtp_parse_int(port, 0, 65535, &p)) != 0)
		return r;
	if (v6) {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return AMTP_E_PARSE;
		*sslen = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return AMTP_E_PARSE;
		*sslen = sizeof(*sin);
	}
	return 0;
}

/* Rules that cross keys or need more than a type check. */
static int
config_check(const struct amtp_conf *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *v, *item;
	size_t i, n;
	int role, site = 0;

	n = amtp_conf_list_len(c, "site", "roles");
	if (n == 0) {
		snprintf(err, errlen, "site.roles: no role given");
		return AMTP_E_CONFIG;
	}
	for (i = 0; i < n; i++) {
		item = amtp_conf_list_item(c, "site", "roles", i);
		if ((role = amtpd_config_role_parse(item)) < 0) {
			snprintf(err, errlen, "site.roles: unknown role \"%.32s\" "
			    "(known: site, oobsp, enroll)", item);
			return AMTP_E_CONFIG;
		}
		if (role == AMTPD_ROLE_SITE)
			site = 1;
	}
	v = amtp_conf_str(c, "site", "listen");
	if (v == NULL || amtpd_config_parse_listen(v, &ss, &sl) != 0) {
		snprintf(err, errlen, "site.listen: not ADDRESS:PORT "
		    "(e.g. 0.0.0.0:8443 or [::1]:8443)");
		return AMTP_E_CONFIG;
	}
	v = amtp_conf_str(c, "site", "database");
	if (v == NULL || (strncmp(v, "sqlite:", 7) != 0 &&
	    strncmp(v, "postgresql://", 13) != 0 &&
	    strncmp(v, "postgres://", 11) != 0)) {
		snprintf(err, errlen, "site.database: must start with sqlite: "
		    "or postgresql://");
		return AMTP_E_CONFIG;
	}
	v = amtp_conf_str(c, "oob", "dns_domain");
	if (v != NULL && !amtp_dir_valid_dns_name(v)) {
		snprintf(err, errlen, "oob.dns_domain: not a DNS name");
		return AMTP_E_CONFIG;
	}
	v = amtp_conf_str(c, "directory", "type");
	if (v != NULL && strcmp(v, "ldap") == 0 &&
	    amtp_conf_str(c, "directory", "ldap_uri") == NULL) {
		snprintf(err, errlen, "directory.ldap_uri: required by type ldap");
		return AMTP_E_CONFIG;
	}
	if (site) {
		if (amtp_conf_str(c, "site", "tls_cert") == NULL ||
		    amtp_conf_str(c, "site", "tls_key") == NULL) {
			snprintf(err, errlen, "site.tls_cert, site.tls_key: "
			    "required by role site");
			return AMTP_E_CONFIG;
		}
		if (amtp_conf_str(c, "site", "enrolment_secret_file") == NULL) {
			snprintf(err, errlen, "site.enrolment_secret_file: "
			    "required by role site");
			return AMTP_E_CONFIG;
		}
	}
	return 0;
}

int
amtpd_config_load_mem(const char *text, size_t len, struct amtp_conf **out,
    char *err, size_t errlen)
{
	struct amtp_conf *c = NULL;
	int r;

	*out = NULL;
	if ((r = amtp_conf_load_mem("amtprovd.conf", text, len,
	    amtpd_config_schema, &c, err, errlen)) != 0)
		goto out;
	if ((r = config_check(c, err, errlen)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
 out:
	amtp_conf_free(c);
	return r;
}

int
amtpd_config_load(const char *path, struct amtp_conf **out, char *err,
    size_t errlen)
{
	struct amtp_conf *c = NULL;
	char sub[AMTP_LOG_LINE_MAX / 2];
	int r;

	*out = NULL;
	if ((r = amtp_conf_load(path, amtpd_config_schema, &c, err,
	    errlen)) != 0)
		goto out;
	if ((r = config_check(c, sub, sizeof(sub))) != 0) {
		snprintf(err, errlen, "%s: %s", path, sub);
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	amtp_conf_free(c);
	return r;
}
