/*
 * amtprov - amthi.h: the AMTHI (PTHI) host-interface codec.
 *
 * AMTHI is the request/response protocol that the host speaks with the AMT
 * firmware over the MEI client {12F80028-B4B7-4B2D-ACA8-46E0FF65814C}
 * (spec amt-facts.md 1.2-1.8).  This module encodes and decodes both
 * directions with typed structs, so that the agent (requests out, responses
 * in) and the simulator (requests in, responses out) share one definition of
 * every byte.  It knows nothing about either program.
 *
 * Every message starts with a 12-byte header {u8 major=1, u8 minor=1,
 * u16 reserved=0, u32 command, u32 length}; a response adds a u32 AMT_STATUS
 * and sets bit 23 of the command.  All integers are little-endian.
 *
 * Usage (agent side):
 *	struct amtp_amthi_req req;
 *	struct amtp_amthi_resp resp;
 *	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_PROVISIONING_STATE);
 *	if ((r = amtp_amthi_call(mei, &req, &resp)) == 0)
 *		state = resp.u.provisioning_state;
 */
#ifndef AMTPROV_AMTHI_H
#define AMTPROV_AMTHI_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"

struct amtp_buf;
struct amtp_mei;

#define AMTP_AMTHI_HDR_LEN		12	/* request header */
#define AMTP_AMTHI_RESP_HDR_LEN		16	/* header + status */
#define AMTP_AMTHI_RESPONSE_BIT		0x00800000u
#define AMTP_AMTHI_VERSION_MAJOR	1
#define AMTP_AMTHI_VERSION_MINOR	1

/* Command codes (requests; a response carries code | RESPONSE_BIT). */
#define AMTP_AMTHI_GET_PROVISIONING_MODE	0x04000008u
#define AMTP_AMTHI_UNPROVISION			0x04000010u
#define AMTP_AMTHI_GET_PROVISIONING_STATE	0x04000011u
#define AMTP_AMTHI_GET_CODE_VERSIONS		0x0400001Au
#define AMTP_AMTHI_GET_SECURITY_PARAMETERS	0x0400001Bu
#define AMTP_AMTHI_GET_MAC_ADDRESSES		0x04000025u
#define AMTP_AMTHI_START_CONFIGURATION		0x04000029u
#define AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP	0x0400002Au
#define AMTP_AMTHI_GET_PROVISIONING_TLS_MODE	0x0400002Bu
#define AMTP_AMTHI_ENUMERATE_HASH_HANDLES	0x0400002Cu
#define AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY	0x0400002Du
#define AMTP_AMTHI_SET_DNS_SUFFIX		0x0400002Fu
#define AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED	0x04000030u
#define AMTP_AMTHI_GET_PKI_FQDN_SUFFIX		0x04000036u
#define AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS	0x04000048u
#define AMTP_AMTHI_GET_FEATURES_STATE		0x04000049u
#define AMTP_AMTHI_GET_UUID			0x0400005Cu
#define AMTP_AMTHI_STOP_CONFIGURATION		0x0400005Eu
#define AMTP_AMTHI_START_CONFIGURATION_EX	0x04000062u
#define AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT	0x04000067u
#define AMTP_AMTHI_GET_CONTROL_MODE		0x0400006Bu

/* AMT_STATUS values used here (spec 1.3; the full space is wider). */
#define AMTP_AMT_STATUS_SUCCESS				0u
#define AMTP_AMT_STATUS_INTERNAL_ERROR			1u
#define AMTP_AMT_STATUS_NOT_READY			2u
#define AMTP_AMT_STATUS_INVALID_AMT_MODE		3u
#define AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH		4u
#define AMTP_AMT_STATUS_NOT_PERMITTED			16u
#define AMTP_AMT_STATUS_INVALID_DOMAIN_NAME		28u
#define AMTP_AMT_STATUS_UNSUPPORTED_VERSION		29u
#define AMTP_AMT_STATUS_INVALID_PROVISIONING_STATE	32u
#define AMTP_AMT_STATUS_INVALID_INDEX			35u
#define AMTP_AMT_STATUS_INVALID_PARAMETER		36u
#define AMTP_AMT_STATUS_FLASH_WRITE_LIMIT_EXCEEDED	38u
#define AMTP_AMT_STATUS_CERTIFICATE_NOT_READY		49u
#define AMTP_AMT_STATUS_INVALID_COMMAND			0x803u
#define AMTP_AMT_STATUS_INVALID_HANDLE			0x805u
#define AMTP_AMT_STATUS_UNSUPPORTED			0x812u
#define AMTP_AMT_STATUS_NOT_FOUND			0x814u
#define AMTP_AMT_STATUS_BLOCKING_COMPONENT		0x81Cu
#define AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST	2501u

/* Provisioning states (GetProvisioningState) and control modes. */
#define AMTP_AMT_STATE_PRE	0u
#define AMTP_AMT_STATE_IN	1u
#define AMTP_AMT_STATE_POST	2u
#define AMTP_AMT_CONTROL_NONE	0u
#define AMTP_AMT_CONTROL_CCM	1u
#define AMTP_AMT_CONTROL_ACM	2u

/* Hash algorithms on the host interface (docs/decisions-mei.md: 3 is
 * SHA-384, as current rpc-go reads it). */
#define AMTP_AMT_HASH_MD5	0u
#define AMTP_AMT_HASH_SHA1	1u
#define AMTP_AMT_HASH_SHA256	2u
#define AMTP_AMT_HASH_SHA384	3u
#define AMTP_AMT_HASH_SHA224	4u
#define AMTP_AMT_HASH_SHA512	5u

/* GetFeaturesState request ids. */
#define AMTP_AMT_FEATURE_REDIRECTION	0u	/* IDER open, SOL open, reserved */
#define AMTP_AMT_FEATURE_SYSTEM_DEFENSE	1u	/* activated */
#define AMTP_AMT_FEATURE_WEB_UI		2u	/* enabled */

/*
 * A request.  arg is the one u32 parameter of Unprovision (mode),
 * GetCertificateHashEntry (handle), GetLANInterfaceSettings (0 wired,
 * 1 wireless), GetFeaturesState (request id) and StartConfigurationEx
 * (IPv6Enable).  str/str_len hold the OTP of SetProvisioningServerOTP or the
 * suffix of SetDnsSuffix, without any NUL.  str_nul: on encode, count a
 * terminating NUL in the wire length (Intel LMS does for the OTP); on
 * decode, set when the client did.  The OTP is a secret: call
 * amtp_amthi_req_wipe() when done.
 */
struct amtp_amthi_req {
	uint32_t	command;
	uint32_t	arg;
	char		str[AMTP_AMTHI_FQDN_MAX + 1];
	size_t		str_len;
	int		str_nul;
};

struct amtp_amthi_version {
	char	desc[AMTP_AMTHI_VSTRING_LEN + 1];
	char	ver[AMTP_AMTHI_VSTRING_LEN + 1];
};

struct amtp_amthi_hash_entry {
	uint32_t	is_default;
	uint32_t	is_active;
	uint8_t		hash[AMTP_AMTHI_HASH_LEN_MAX];
	uint8_t		algorithm;
	char		name[AMTP_AMTHI_HASH_NAME_MAX + 1];
};

struct amtp_amthi_lan {
	uint32_t	enabled;
	uint32_t	ipv4;		/* first octet in the most significant byte */
	uint32_t	dhcp_enabled;
	uint8_t		dhcp_ip_mode;	/* 1 active, 2 passive */
	uint8_t		link_status;	/* 0 down, 1 up */
	uint8_t		mac[6];
};

/*
 * A response: the request code it answers (without the response bit), the
 * AMT_STATUS and, when the status is SUCCESS, the payload of that command
 * in the matching member of u.  Responses with another status carry no
 * payload.
 */
struct amtp_amthi_resp {
	uint32_t	command;
	uint32_t	status;
	union {
		uint32_t	provisioning_state;
		uint32_t	control_mode;
		uint32_t	tls_mode;
		uint32_t	zero_touch;
		struct {
			uint32_t	mode;
			uint32_t	legacy;
		} provisioning_mode;
		struct {
			char		bios[AMTP_AMTHI_BIOS_LEN + 1];
			uint32_t	count;
			struct amtp_amthi_version v[AMTP_AMTHI_VERSIONS_MAX];
		} code_versions;
		uint8_t		uuid[16];
		struct {
			char		s[AMTP_AMTHI_FQDN_MAX + 1];
			size_t		len;
		} dns_suffix;
		struct {
			uint32_t	count;
			uint32_t	handles[AMTP_AMTHI_HASH_HANDLES_MAX];
		} hash_handles;
		struct amtp_amthi_hash_entry hash_entry;
		struct amtp_amthi_lan lan;
		uint32_t	security[AMTP_AMTHI_SECURITY_WORDS];
		struct {
			uint8_t		dedicated[6];
			uint8_t		host[6];
		} macs;
		struct {
			uint32_t	request_id;
			uint32_t	count;		/* 3 for redirection, else 1 */
			uint32_t	values[3];
		} features;
		struct {
			char		user[AMTP_AMTHI_ACCOUNT_FIELD + 1];
			char		pass[AMTP_AMTHI_ACCOUNT_FIELD + 1];
		} account;
	} u;
};

/* The command's name ("GetProvisioningState"), or NULL when this codec does
 * not know it.  The response bit is ignored. */
const char *amtp_amthi_cmd_name(uint32_t command);

/* A name for an AMT_STATUS ("INVALID_AMT_MODE"); "UNKNOWN" when not known. */
const char *amtp_amthi_status_name(uint32_t status);

/* Bytes of a hash of the given host-interface algorithm; 0 when unknown. */
size_t amtp_amthi_hash_len(uint32_t algorithm);

/* Clears *req and sets its command. */
void amtp_amthi_req_init(struct amtp_amthi_req *req, uint32_t command);
/* Wipes *req (it may hold an OTP). */
void amtp_amthi_req_wipe(struct amtp_amthi_req *req);

/*
 * Appends the wire form of req to out.  AMTP_E_UNSUPPORTED for a command
 * this codec does not know, AMTP_E_RANGE for an OTP outside 8..32 wire
 * bytes or a suffix longer than AMTP_AMTHI_FQDN_MAX, AMTP_E_EMBEDDED_NUL
 * for a NUL inside str, AMTP_E_TOOBIG/NOMEM from the buffer.
 */
int amtp_amthi_req_encode(const struct amtp_amthi_req *req,
    struct amtp_buf *out);

/*
 * Decodes one request message (simulator side).  On success returns 0 and
 * fills *req.  On failure returns a negative code and sets *status to the
 * AMT_STATUS a device answers with, and req->command to the command the
 * answer names (the request's, or 0 when the message is too short to hold
 * one):
 *   shorter than a header, header Length != bytes after it, or a payload
 *   size this command never has        -> INVALID_MESSAGE_LENGTH (4)
 *   Major != 1 or Minor < 1            -> UNSUPPORTED_VERSION (29)
 *   Reserved != 0 or response bit set  -> INVALID_PARAMETER (36)
 *   unknown command                    -> INVALID_COMMAND (0x803)
 *   OTP length outside 8..32, NUL inside a string, a bad suffix
 *                                      -> INVALID_PARAMETER (36) /
 *                                         INVALID_DOMAIN_NAME (28)
 * (docs/decisions-mei.md says why.)  Never reads past len.
 */
int amtp_amthi_req_decode(const void *msg, size_t len,
    struct amtp_amthi_req *req, uint32_t *status);

/* Clears *resp and sets its command and status. */
void amtp_amthi_resp_init(struct amtp_amthi_resp *resp, uint32_t command,
    uint32_t status);
/* Wipes *resp (it may hold the local system account password). */
void amtp_amthi_resp_wipe(struct amtp_amthi_resp *resp);

/*
 * Appends the wire form of resp to out (simulator side).  With a status
 * other than SUCCESS only the 16-byte header is written.  Payloads are
 * written in the form every public client reads (spec 1.4-1.8): strings at
 * the end of a reply without NUL or padding, GetLocalSystemAccount as 68
 * bytes.  AMTP_E_UNSUPPORTED for an unknown command, AMTP_E_RANGE for a
 * count or length beyond the limits.
 */
int amtp_amthi_resp_encode(const struct amtp_amthi_resp *resp,
    struct amtp_buf *out);

/*
 * Decodes and validates the response to request code command (agent side).
 * Checks: at least 16 bytes, Major 1 and Minor >= 1, Reserved 0, Command ==
 * command | RESPONSE_BIT, Length + 12 == len, then the exact payload size
 * of that command.  Returns 0 with *resp filled when the status is SUCCESS
 * (or CERTIFICATE_NOT_READY for StartConfiguration[Ex], which means
 * started); AMTP_E_AMT_STATUS with resp->status set for any other status;
 * AMTP_E_PROTO for a header that does not match, AMTP_E_INCOMPLETE or
 * AMTP_E_PARSE for a payload of the wrong size or content.
 */
int amtp_amthi_resp_decode(uint32_t command, const void *msg, size_t len,
    struct amtp_amthi_resp *resp);

/*
 * One exchange over an open MEI connection: encode req, send it, read one
 * response and decode it.  Returns what amtp_amthi_resp_decode() returns,
 * or the transport's error.
 */
int amtp_amthi_call(struct amtp_mei *mei, const struct amtp_amthi_req *req,
    struct amtp_amthi_resp *resp);

#endif
