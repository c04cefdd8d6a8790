/*
 * amtprov - limits.h: every size limit, in one place.
 *
 * A bare number in a parser is a bug report waiting to happen: name it here,
 * say why it has the value it has, and use the name.
 */
#ifndef AMTPROV_LIMITS_H
#define AMTPROV_LIMITS_H

/* Largest buffer any amtp_buf may be created with (64 MiB): a guard against
 * a computed size gone wrong, not a protocol limit. */
#define AMTP_BUF_MAX_ANY		(64u * 1024 * 1024)

/* Log lines: untrusted bytes quoted in a log line are cut after this many
 * input bytes (as redis does with 64). */
#define AMTP_LOG_UNTRUSTED_MAX		64
/* Longest formatted log message (bytes, without the prefix). */
#define AMTP_LOG_LINE_MAX		2048

/* Decimal integers parsed by amtp_parse_int: longest accepted text. */
#define AMTP_INT_TEXT_MAX		32

/* Configuration files: whole file, one line, a section or key name, a value. */
#define AMTP_CONF_FILE_MAX		(1024 * 1024)
#define AMTP_CONF_LINE_MAX		4096
#define AMTP_CONF_NAME_MAX		64
#define AMTP_CONF_VALUE_MAX		2048

/* Site master key file: exactly 32 bytes of key, stored as 64 hex digits
 * plus an optional newline. */
#define AMTP_MASTER_KEY_LEN		32
#define AMTP_MASTER_KEY_FILE_MAX	128

/* Secrets: the largest secret we hold (a PEM private key is the largest). */
#define AMTP_SECRET_MAX			(16 * 1024)

/* AMT account passwords (ConfigMgr and MeshCentral policy, spec 3.3). */
#define AMTP_AMT_PASSWORD_MIN		8
#define AMTP_AMT_PASSWORD_MAX		32

/* One-time password set by the agent (spec 1.6: wire length 8..32). */
#define AMTP_OTP_MIN			8
#define AMTP_OTP_MAX			32
#define AMTP_OTP_LEN			24	/* DESIGN.md: 24 printable chars */

/* PKI (enroll, simulator): longest chain accepted (leaf + intermediates +
 * root), as rpki-client's MAX_CERT_DEPTH; largest PEM chain file, PKCS#12
 * file and certificate request read; longest DNS name (RFC 1035). */
#define AMTP_MAX_CHAIN_DEPTH		8
#define AMTP_PKI_PEM_MAX		(256 * 1024)
#define AMTP_PKI_P12_MAX		(256 * 1024)
#define AMTP_CSR_MAX			(16 * 1024)
#define AMTP_DNS_NAME_MAX		253
/* RSA sizes: AMT web-server keys are exactly 2048 bits (older firmware
 * rejects larger keys); other certificates may use up to 4096. */
#define AMTP_RSA_AMT_BITS		2048
#define AMTP_RSA_MAX_BITS		4096
/* Validity of issued certificates, days: site root, intermediate, leaves. */
#define AMTP_CA_ROOT_DAYS		(20 * 365)
#define AMTP_CA_INTER_DAYS		(10 * 365)
#define AMTP_CA_LEAF_DAYS		(2 * 365)

/* IPC frames (signer channel): one frame holds at most a CSR or a chain. */
#define AMTP_IPC_FRAME_MAX		(64 * 1024)

/* Directory: longest DN, LDAP URI, attribute or class name, and number of
 * configured object classes. */
#define AMTP_DIR_DN_MAX			1024
#define AMTP_DIR_URI_MAX		512
#define AMTP_DIR_NAME_MAX		64
#define AMTP_DIR_CLASSES_MAX		8
/* Directory account passwords (random, escrowed): characters. */
#define AMTP_DIR_PASSWORD_LEN		32

/* HTTP Digest (spec 5.2).  A whole WWW-Authenticate / Authorization value
 * (AMT's challenge is about 120 bytes, a client's answer about 350), one
 * parameter value (realm is "Digest:" + 32 hex; cnonces are up to 48 chars),
 * and the parameter count (a full RFC 7616 answer has 11). */
#define AMTP_DIGEST_HEADER_MAX		4096
#define AMTP_DIGEST_VALUE_MAX		256
#define AMTP_DIGEST_PARAMS_MAX		16
/* Server-side nonces: life of a nonce before it is answered with stale=true
 * (seconds), and the number of nonces whose highest nc is remembered by one
 * nonce manager (about 100 bytes each; oldest-used is evicted first). */
#define AMTP_DIGEST_NONCE_LIFETIME	300
#define AMTP_DIGEST_NONCE_TABLE		16384
#define AMTP_DIGEST_NONCE_TABLE_MAX	(1u << 22)

/* XML / SOAP (spec 5.3).  Largest envelope we parse (AMT's own replies are
 * under 64 KiB; a Pull of many certificates is the largest we expect), the
 * deepest element nesting (a nested EPR in a Selector of a ResourceCreated
 * reply is 13 levels deep), the longest text of one element (a certificate
 * or CRL in base64), and the element count of one document. */
#define AMTP_MAX_SOAP_SIZE		(1024 * 1024)
#define AMTP_MAX_XML_DEPTH		32
#define AMTP_MAX_XML_TEXT		(256 * 1024)
#define AMTP_MAX_XML_ELEMENTS		20000
/* WS-Management: selectors in one SelectorSet, properties of one instance or
 * method element, instances in one Pull reply. */
#define AMTP_WSMAN_MAX_SELECTORS	16
#define AMTP_WSMAN_MAX_PROPS		512
#define AMTP_WSMAN_MAX_ITEMS		1024
/* Memory one parsed envelope may take (its arena): a bound on what a
 * hostile document can make us allocate, well above 8x the largest input. */
#define AMTP_WSMAN_ARENA_MAX		(16u * 1024 * 1024)
/* WS-Management client (service point): time to connect (TLS included),
 * time for one request (GenerateKeyPair on real firmware takes seconds;
 * a stuck device must not hold a job forever), concurrent connections of
 * one client by default (about 80 kB each with TLS, spec/http-tls-notes.md
 * 7), resends of one request after a 401 challenge (the first challenge
 * and one stale="true"), and the longest device URL. */
#define AMTP_WSCLIENT_CONNECT_TIMEOUT_MS	10000
#define AMTP_WSCLIENT_REQUEST_TIMEOUT_MS	120000
#define AMTP_WSCLIENT_MAX_CONNECTIONS		1000
#define AMTP_WSCLIENT_AUTH_RESENDS		2
#define AMTP_WSCLIENT_URL_MAX			512

/* Site database (src/amtprovd/store).  Longest store URI; PostgreSQL schema
 * name (an identifier, NAMEDATALEN - 1); SQLite busy timeout (ms) before a
 * locked database gives AMTP_E_BUSY. */
#define AMTP_STORE_URI_MAX		1024
#define AMTP_STORE_SCHEMA_MAX		63
#define AMTP_STORE_BUSY_TIMEOUT_MS	10000
/* Text columns: SMBIOS UUID in canonical form (8-4-4-4-12); host name label
 * (RFC 1035: 63) and FQDN (253); an IPv6 address with zone in text (45 +
 * zone); short names (step, actor, action, profile, account, setting key);
 * one-line free text (reasons, details, subjects); a lease owner id; a
 * credential/token hash ("sha256:" + 64 hex, or a crypt-style string); a
 * firmware root hash (SHA-512: 128 hex digits); firmware version strings. */
#define AMTP_STORE_UUID_LEN		36
#define AMTP_STORE_HOSTNAME_MAX		63
#define AMTP_STORE_FQDN_MAX		253
#define AMTP_STORE_ADDR_MAX		63
#define AMTP_STORE_NAME_MAX		64
#define AMTP_STORE_TEXT_MAX		512
#define AMTP_STORE_OWNER_MAX		128
#define AMTP_STORE_HASH_MAX		160
#define AMTP_STORE_HASH_HEX_MAX		128
#define AMTP_STORE_VERSION_MAX		32
/* Firmware certificate hashes per device (AMT 11+ holds about 25 defaults
 * plus user-added ones). */
#define AMTP_STORE_FW_HASHES_MAX	40
/* Certificates: serial (20 bytes by RFC 5280 = 40 hex, with headroom), one
 * PEM certificate. */
#define AMTP_STORE_SERIAL_MAX		64
#define AMTP_STORE_PEM_MAX		(16 * 1024)
/* Directory accounts: container DN, SPNs per account (AMT needs 4: HTTP/ on
 * 16992 and 16993, for the FQDN and the short name), one SPN. */
#define AMTP_STORE_DN_MAX		1024
#define AMTP_STORE_SPNS_MAX		8
#define AMTP_STORE_SPN_MAX		300
/* Lists: default and largest page; longest lease or requeue delay (s). */
#define AMTP_STORE_LIST_DEFAULT		100
#define AMTP_STORE_LIST_MAX		1000
#define AMTP_STORE_LEASE_MAX		86400

/* Sealed secrets (secret.h): 'A' 'S' version, a 12-byte GCM nonce (the size
 * GCM is designed for), the ciphertext and a full 16-byte tag. */
#define AMTP_SEAL_NONCE_LEN		12
#define AMTP_SEAL_TAG_LEN		16
#define AMTP_SEAL_OVERHEAD		(3 + AMTP_SEAL_NONCE_LEN + AMTP_SEAL_TAG_LEN)
#define AMTP_SEALED_MAX			(AMTP_SEAL_OVERHEAD + AMTP_SECRET_MAX)

/* Configuration files, limits that inih imposes or that lists need:
 * inih copies a section name into a 50-byte array and silently cuts it,
 * so we refuse names longer than this before inih sees them. */
#define AMTP_CONF_SECTION_MAX		48
/* Distinct sections in one file (Wi-Fi profiles and setup credentials are a
 * few dozen at most), and keys in one schema: both bound the value table. */
#define AMTP_CONF_SECTIONS_MAX		256
#define AMTP_CONF_SCHEMA_MAX		512
/* Items in one comma-separated LIST value. */
#define AMTP_CONF_LIST_MAX		64

/* MEI / AMTHI (spec 1.1, 1.2).  The largest message the transport will read:
 * the read buffer must hold max_msg_length bytes, and a driver or a
 * simulator that advertises more than this is refused as a protocol error. */
#define AMTP_MEI_MSG_CAP		65536
/* max_msg_length the simulator advertises for the AMTHI client (the value
 * real firmware reports for AMTHI, and the one the umockdev notes use). */
#define AMTP_MEI_SIM_MAX_MSG		4160
/* Connect retries on EBUSY (rpc-go: up to 8 for the AMTHI client). */
#define AMTP_MEI_BUSY_RETRIES		8
/* Default time a response may take before the transport gives up (ms). */
#define AMTP_MEI_TIMEOUT_MS		10000
/* GetCodeVersions: at most 50 entries, 20-byte description and version
 * strings, a 65-byte BIOS version (spec 1.5). */
#define AMTP_AMTHI_VERSIONS_MAX		50
#define AMTP_AMTHI_VSTRING_LEN		20
#define AMTP_AMTHI_BIOS_LEN		65
/* EnumerateHashHandles: current firmware holds at most 33 entries (spec
 * 1.4); the decoder accepts up to 64 so that a larger table is read, not
 * refused. */
#define AMTP_AMTHI_HASH_HANDLES_MAX	64
/* GetCertificateHashEntry: 64-byte hash field, name of at most 32
 * characters plus an optional NUL on the wire (spec 1.7). */
#define AMTP_AMTHI_HASH_LEN_MAX		64
#define AMTP_AMTHI_HASH_NAME_MAX	32
/* DNS suffixes and FQDNs (RFC 1035: 255 octets on the wire, 253 as text). */
#define AMTP_AMTHI_FQDN_MAX		253
/* GetLocalSystemAccount: two 33-byte NUL-terminated fields (spec 1.4). */
#define AMTP_AMTHI_ACCOUNT_FIELD	33
/* GetSecurityParameters: 17 u32 values (spec 1.4). */
#define AMTP_AMTHI_SECURITY_WORDS	17

/* amtsim: devices in one fleet, size of one flash file (the network side
 * stores certificates and keys there), size of a fleet description. */
#define AMTP_SIM_DEVICES_MAX		65535
#define AMTP_SIM_FLASH_MAX		(4 * 1024 * 1024)
#define AMTP_SIM_FLEET_FILE_MAX		(1024 * 1024)
/* Custom trusted root hashes given at fleet creation. */
#define AMTP_SIM_TRUST_ROOTS_MAX	16
/* Concurrent MEI connections to one simulated device. */
#define AMTP_SIM_MEI_CONN_MAX		4
/* Provisioning period: default 24 h (spec 6), configurable down to 1 s. */
#define AMTP_SIM_PROV_PERIOD_DEFAULT	(24 * 3600)
/* amtsim network side (src/amtsim/net).  Before a request is
 * authenticated: largest body read (an RPS request is under 4 KiB; the
 * body of an unauthenticated request is read only to be thrown away),
 * most header lines, and the time a new connection has to complete an
 * authenticated request (slow-loris bound; a thousand clients connecting
 * at once to one simulator need about 12 s for their TLS handshakes, hence
 * 30 s; amtsim --preauth-timeout changes it).  After: largest body (a SOAP
 * envelope).  Per device and port: connections at once, and from one
 * client address; MHD's per-connection memory (request line and headers
 * must fit); idle keep-alive timeout (s). */
#define AMTP_SIM_NET_PREAUTH_BODY_MAX	(64 * 1024)
#define AMTP_SIM_NET_HEADERS_MAX	64
#define AMTP_SIM_NET_PREAUTH_TIME_MS	30000
#define AMTP_SIM_NET_BODY_MAX		AMTP_MAX_SOAP_SIZE
#define AMTP_SIM_NET_CONN_MAX		64
#define AMTP_SIM_NET_CONN_PER_IP	32
#define AMTP_SIM_NET_CONN_MEMORY	(32 * 1024)
#define AMTP_SIM_NET_IDLE_TIMEOUT	30
/* Open enumeration contexts per device and their life (ms) (AMT keeps a
 * handful; a client that never pulls must not hold memory forever). */
#define AMTP_SIM_NET_ENUMS_MAX		16
#define AMTP_SIM_NET_ENUM_LIFE_MS	60000
/* Per device: user ACL entries (digest and Kerberos together), stored
 * certificates, stored key pairs, Wi-Fi profiles (AMT's own limits are in
 * the same range; exact values are unconfirmed). */
#define AMTP_SIM_NET_USERS_MAX		14
#define AMTP_SIM_NET_CERTS_MAX		16
#define AMTP_SIM_NET_KEYS_MAX		8
#define AMTP_SIM_NET_WIFI_MAX		16
/* RSA keys generated ahead for GenerateKeyPair (fleet-wide pool; about
 * 2 KiB each, so the maximum holds a 10,000-device run in ~20 MiB).  The
 * pool is refilled only after the network side has been idle for
 * AMTP_SIM_NET_KEYPOOL_IDLE_MS, so that key generation stays out of a
 * provisioning burst. */
#define AMTP_SIM_NET_KEYPOOL_DEFAULT	2
#define AMTP_SIM_NET_KEYPOOL_MAX	10000
#define AMTP_SIM_NET_KEYPOOL_IDLE_MS	1000
/* amtsim --show without --secrets: how deep the sections are searched for
 * secrets to redact (anything deeper is redacted whole). */
#define AMTP_SIM_SHOW_DEPTH_MAX		16

/* Site server HTTPS API (role site).  Request bodies: an authenticated
 * agent or admin may send up to AMTP_SITE_BODY_MAX (a state message with
 * AMTP_SITE_CERT_HASHES_MAX hashes is about 12 KiB); registration, which
 * only holds the enrolment secret, gets AMTP_SITE_BODY_PREAUTH_MAX. */
#define AMTP_SITE_BODY_MAX		(64 * 1024)
#define AMTP_SITE_BODY_PREAUTH_MAX	4096
/* A chunked body that passes its limit is read on and dropped up to this
 * many bytes, so that the caller gets its 413 answer (MHD cannot answer in
 * the middle of a body); past it the connection is closed. */
#define AMTP_SITE_BODY_DISCARD_MAX	(1024 * 1024)
/* Deepest JSON nesting accepted in a request (the state message is 3:
 * object > cert_hashes array > hash object). */
#define AMTP_SITE_JSON_DEPTH_MAX	4
/* Members of one request object (unknown members are refused anyway). */
#define AMTP_SITE_JSON_MEMBERS_MAX	32
/* Firmware certificate hashes in one state message: what the store keeps. */
#define AMTP_SITE_CERT_HASHES_MAX	AMTP_STORE_FW_HASHES_MAX
/* A Bearer token in an Authorization header (ours are 43 + a name). */
#define AMTP_SITE_TOKEN_MAX		160
/* Random bytes in an agent or admin token (base64url: 43 characters). */
#define AMTP_SITE_TOKEN_BYTES		32
/* Request path (the API's longest is under 80 bytes). */
#define AMTP_SITE_URL_MAX		256
/* Free-text reasons an admin gives to an action. */
#define AMTP_SITE_REASON_MAX		256
/* MHD per-connection memory (request line, headers, response headers). */
#define AMTP_SITE_CONN_MEMORY		(32 * 1024)
/* Kernel listen queue for bursts of agents connecting at once. */
#define AMTP_SITE_LISTEN_BACKLOG	1024
/* The enrolment secret file: at least 16 and at most 256 bytes of text. */
#define AMTP_SITE_ENROL_SECRET_MIN	16
#define AMTP_SITE_ENROL_SECRET_MAX	256
/* Jobs scanned per /metrics refresh for step histograms, and the least
 * time between two refreshes (seconds). */
#define AMTP_SITE_METRICS_JOBS_MAX	100000
#define AMTP_SITE_METRICS_REFRESH	5
/* Site API fields: an AMT version, build or SKU text ("16.1.25"), and the
 * friendly name of a firmware certificate hash. */
#define AMTP_SITE_VERSION_MAX		32
#define AMTP_SITE_HASH_NAME_MAX		64

/* Client agent (src/agent).  Largest site answer read (the biggest, the
 * state answer, is under 200 bytes; anything past this is cut off and
 * refused before parsing), deepest JSON nesting accepted in one, the site
 * URL and file paths the agent is given. */
#define AMTP_AGENT_RESPONSE_MAX		(64 * 1024)
#define AMTP_AGENT_JSON_DEPTH_MAX	4
#define AMTP_AGENT_URL_MAX		512
#define AMTP_AGENT_PATH_MAX		1024
/* HTTP: time to connect (TLS included) and for a whole request, seconds. */
#define AMTP_AGENT_CONNECT_TIMEOUT	10
#define AMTP_AGENT_REQUEST_TIMEOUT	30
/* Retries when the site is down (connection refused, timeout, 5xx): the
 * default count and the most allowed, the first delay (ms, doubled each
 * time) and the longest single delay (ms). */
#define AMTP_AGENT_RETRIES_DEFAULT	5
#define AMTP_AGENT_RETRIES_MAX		100
#define AMTP_AGENT_RETRY_DELAY_MS	2000
#define AMTP_AGENT_RETRY_DELAY_MAX_MS	60000
/* The agent's state folder files: the agent token (what the site issues,
 * "<uuid>.<43 chars>") and the provisioning record (a small JSON object). */
#define AMTP_AGENT_TOKEN_FILE_MAX	256
#define AMTP_AGENT_RECORD_MAX		4096
/* amtsim MEI socket: time a new connection has to send its client GUID
 * before it is closed, so that clients that connect and say nothing cannot
 * hold the AMTP_SIM_MEI_CONN_MAX slots of a device. */
#define AMTP_SIM_MEI_HANDSHAKE_MS	2000

/* Enrollment point socket (src/amtprovd/enroll/role.c): largest request
 * payload (a device id, a length and the largest CSR), longest refusal
 * detail sent back, most connections served at once (more are accepted and
 * closed at once, logged), and how long a frame, once begun, or an answer,
 * once queued, may take before the peer is dropped (ms). */
#define AMTP_ENROLL_REQ_MAX		(8 + 4 + AMTP_CSR_MAX)
#define AMTP_ENROLL_DETAIL_MAX		256
#define AMTP_ENROLL_CONN_MAX		64
#define AMTP_ENROLL_FRAME_MS		5000

/* amtsim's flash writer (src/amtsim/jsondump.c): the deepest nesting of
 * arrays and objects it writes, jansson's parser limit, so that whatever
 * a device loaded it can save again. */
#define AMTP_SIM_FLASH_DEPTH_MAX	2048

/* amtsim: parsed certificates kept for reuse (the service point's chain
 * in every setup session, a certificate stored and then loaded for TLS):
 * how many, and the largest DER kept (bigger ones are parsed every time).
 * OpenSSL 3 parses a certificate in about 0.1 ms. */
#define AMTP_SIM_NET_X509_CACHE		128
#define AMTP_SIM_NET_X509_CACHE_DER_MAX	(8 * 1024)

#endif
