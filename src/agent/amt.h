/*
 * amtprov - amt.h: what the agent asks the AMT firmware over MEI (program
 * amtprov-agent): the facts (state, versions, UUID, DNS suffix, hashes,
 * control mode, wired address, wireless), the OTP and the activation of the
 * network interface.  Every function fills a struct agent_err that names
 * the command and what went wrong, with the exit code it means:
 * AGENT_EXIT_MEI when the device is missing or stops answering,
 * AGENT_EXIT_FIRMWARE when the firmware answers with an error status or a
 * malformed reply.
 */
#ifndef AGENT_AMT_H
#define AGENT_AMT_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"

#include "agent.h"

struct amtp_mei;
struct amtp_secret;

#define AGENT_IPV4_TEXT_MAX	15	/* 255.255.255.255 */

struct agent_amt_hash {
	char		name[AMTP_AMTHI_HASH_NAME_MAX + 1];
	char		hex[2 * AMTP_AMTHI_HASH_LEN_MAX + 1];	/* lower case */
	uint8_t		algorithm;
	int		is_default;
	int		is_active;
};

/* Everything `status` shows and the state message carries. */
struct agent_amt_facts {
	uint32_t	state;			/* AMTP_AMT_STATE_* */
	uint32_t	control_mode;		/* AMTP_AMT_CONTROL_* */
	char		amt_version[AMTP_AMTHI_VSTRING_LEN + 1];
	unsigned	ver_major;
	char		build[AMTP_AMTHI_VSTRING_LEN + 1];
	char		sku[AMTP_AMTHI_VSTRING_LEN + 1];
	char		bios[AMTP_AMTHI_BIOS_LEN + 1];
	char		uuid[AGENT_UUID_LEN + 1];	/* lower case */
	char		dns_suffix[AMTP_AMTHI_FQDN_MAX + 1];
	uint32_t	wired_ipv4;		/* first octet most significant */
	char		wired_addr[AGENT_IPV4_TEXT_MAX + 1];	/* "" none */
	uint8_t		wired_mac[6];
	int		wireless;
	size_t		nhashes;
	struct agent_amt_hash hashes[AMTP_AMTHI_HASH_HANDLES_MAX];
	size_t		hashes_skipped;	/* MD5/SHA-224: the site takes none */
};

/*
 * Opens the MEI device at uri and connects to the AMTHI client.  Missing
 * device or socket: AMTP_E_NOTFOUND, e->code "mei_missing"; present but no
 * AMTHI client: AMTP_E_UNSUPPORTED, "amt_disabled"; other failures
 * "mei_failed".
 */
int agent_amt_open(const char *uri, int timeout_ms, struct amtp_mei **out,
    struct agent_err *e);

/* GetProvisioningState. */
int agent_amt_state(struct amtp_mei *mei, uint32_t *state,
    struct agent_err *e);

/* GetUUID, formatted (lower case) into uuid[AGENT_UUID_LEN + 1]. */
int agent_amt_uuid(struct amtp_mei *mei, char *uuid, struct agent_err *e);

/* Every fact (several commands; the hash table one entry at a time). */
int agent_amt_facts(struct amtp_mei *mei, struct agent_amt_facts *f,
    struct agent_err *e);

/* SetProvisioningServerOTP with otp (8..32 bytes). */
int agent_amt_set_otp(struct amtp_mei *mei, const struct amtp_secret *otp,
    struct agent_err *e);

/* Activates the network interface: StartConfigurationEx (IPv6 off) on AMT
 * 6 and later, StartConfiguration before.  *which names the command. */
int agent_amt_activate(struct amtp_mei *mei, unsigned ver_major,
    const char **which, struct agent_err *e);

/* Names for the state message and the report. */
const char *agent_amt_state_name(uint32_t state);	/* pre, in, post */
const char *agent_amt_control_name(uint32_t mode);	/* none, client, admin */

/* Formats 16 GetUUID bytes (SMBIOS order: the first three fields little
 * endian) as a lower-case canonical UUID into dst[AGENT_UUID_LEN + 1]. */
void agent_amt_uuid_format(const uint8_t b[16], char *dst);

/* 1 when s is a canonical UUID (either case). */
int agent_is_uuid(const char *s);

#endif
