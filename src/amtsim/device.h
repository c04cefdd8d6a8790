/*
 * amtprov - device.h: one simulated AMT device and its flash (amtsim).
 *
 * A device is a state machine (PRE -> IN -> POST, spec amt-facts.md 6) with
 * identity facts, a certificate-hash table and settings, kept in "flash":
 * one JSON file per device, written atomically (temp file, fsync, rename)
 * by amtsim_device_save() after every change, and read back at start.  A
 * device killed at any moment comes back in its last saved state.
 *
 * Extending it (the network side): typed core fields live in struct
 * amtsim_device; everything else is a named section, registered once at
 * start with amtsim_section_register() (its own struct, its own JSON
 * sub-object under "sections", its own reset on unprovision).  Sections a
 * running program has not registered are kept verbatim, so no tool drops
 * another's data.  After changing anything, call amtsim_device_save().
 *
 * State changes go through amtsim_device_event() only, which checks the
 * transition, saves, and then calls the fleet's hook (so the network side
 * starts listening on 16992/16993 when the interface is activated and stops
 * when it is deactivated).
 */
#ifndef AMTSIM_DEVICE_H
#define AMTSIM_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "amtprov/amthi.h"
#include "amtprov/limits.h"

struct amtsim_loop;
struct amtsim_timer;
struct amtsim_fleet;
struct amtsim_fleet_ctx;

enum amtsim_state {
	AMTSIM_PRE = 0,		/* = AMTP_AMT_STATE_PRE, not provisioned */
	AMTSIM_IN = 1,		/* provisioning: network interface active */
	AMTSIM_POST = 2,	/* provisioned */
	AMTSIM_STATE__MAX
};

/* What can happen to the provisioning state. */
enum amtsim_event {
	AMTSIM_EV_START_CONFIG,	/* StartConfiguration[Ex]: PRE -> IN */
	AMTSIM_EV_STOP_CONFIG,	/* StopConfiguration: IN -> PRE */
	AMTSIM_EV_PERIOD_EXPIRED, /* provisioning period over: IN -> PRE */
	AMTSIM_EV_COMMIT,	/* CommitChanges (network side): IN -> POST */
	AMTSIM_EV_UNPROVISION,	/* Unprovision: IN or POST -> PRE */
	AMTSIM_EV__MAX
};

#define AMTSIM_HASH_ALGO_NAME_MAX	8
#define AMTSIM_VERSION_MAX		AMTP_AMTHI_VSTRING_LEN
#define AMTSIM_REALM_LEN		39	/* "Digest:" + 32 hex */
#define AMTSIM_SECTIONS_MAX		32

/* One entry of the certificate-hash table (spec 1.7). */
struct amtsim_hash {
	uint32_t	handle;
	uint8_t		algorithm;	/* AMTP_AMT_HASH_* */
	int		is_default;
	int		is_active;
	uint8_t		hash[AMTP_AMTHI_HASH_LEN_MAX];
	char		name[AMTP_AMTHI_HASH_NAME_MAX + 1];
};

/* Feature flags the host interface reports (GetSecurityParameters,
 * GetFeaturesState); the network side changes them and saves. */
struct amtsim_features {
	int	tls_enabled;
	int	sol;
	int	ider;
	int	kvm;
	int	web_ui;
	int	system_defense;
};

/* What differs between AMT generations (docs/decisions-mei.md). */
struct amtsim_caps {
	unsigned	hash_table_max;		/* 23 before AMT 11, then 33 */
	int		local_account;		/* GetLocalSystemAccount, AMT 7+ */
	int		kvm;			/* KVM redirection, AMT 6+ */
};

struct amtsim_device {
	unsigned	 index;			/* 1-based, in the fleet */
	struct amtsim_fleet *fleet;
	const struct amtsim_fleet_ctx *ctx;	/* never NULL once loaded */

	/* Identity (set at creation, never changed by the host). */
	uint8_t		 uuid[16];		/* SMBIOS/wire byte order */
	char		 amt_version[AMTSIM_VERSION_MAX + 1];	/* "11.8.50" */
	unsigned	 ver_major, ver_minor, ver_micro;
	char		 build_number[AMTSIM_VERSION_MAX + 1];
	char		 sku[AMTSIM_VERSION_MAX + 1];
	char		 bios_version[AMTP_AMTHI_BIOS_LEN];
	uint8_t		 mac_dedicated[6];	/* the ME's own (wired) MAC */
	uint8_t		 mac_host[6];
	uint8_t		 mac_wireless[6];
	uint32_t	 ipv4;			/* first octet most significant */
	int		 wireless;
	char		 realm[AMTSIM_REALM_LEN + 1];
	char		 dhcp_dns_suffix[AMTP_AMTHI_FQDN_MAX + 1];
	struct amtsim_caps caps;
	/* Fault knob for tests and demos (flash "faults"; a real device
	 * never does this): the network side reports an OTP other than the
	 * one the host set (docs/amtsim.md). */
	int		 otp_mismatch;

	/* Settings the host may change. */
	char		 pki_dns_suffix[AMTP_AMTHI_FQDN_MAX + 1];
	struct amtsim_hash *hashes;
	size_t		 nhashes;
	uint32_t	 next_handle;

	/* Provisioning. */
	enum amtsim_state state;
	uint32_t	 control_mode;		/* AMTP_AMT_CONTROL_* */
	char		 otp[AMTP_OTP_MAX + 1];	/* secret; "" when unset */
	size_t		 otp_len;
	int		 ipv6_enabled;
	int64_t		 prov_deadline;		/* unix time IN ends; 0 */
	char		 mebx_password[AMTP_AMT_PASSWORD_MAX + 1];
	char		 local_user[AMTP_AMTHI_ACCOUNT_FIELD];
	char		 local_pass[AMTP_AMTHI_ACCOUNT_FIELD];
	struct amtsim_features features;
	uint64_t	 flash_writes;

	/* Later issues' state: see amtsim_section_register(). */
	void		*sections[AMTSIM_SECTIONS_MAX];
	json_t		*unknown_sections;	/* kept verbatim, or NULL */

	/* Runtime only (never in flash). */
	struct amtsim_timer *prov_timer;
	void		*mei;			/* meisrv.c */
	void		*net;			/* the network side's */
	size_t		 flash_len;		/* text of the last save */
};

/*
 * A section: a part of the device state owned by another module.  name is
 * its key under "sections" in the flash file.  load() builds the state from
 * obj (NULL when the file has none: set defaults) into *state; save()
 * returns a JSON object the caller holds one reference to (or NULL on
 * failure); it may be the section's live state, so amtsim_device_to_json()
 * and its callers only read it; reset() returns the state
 * to factory defaults on unprovision; free() frees it.  load/save return 0
 * or a negative AMTP_E_* code; load may write a sentence to err.
 */
struct amtsim_section_ops {
	const char	*name;
	int		(*load)(struct amtsim_device *d, const json_t *obj,
			    void **state, char *err, size_t errlen);
	json_t		*(*save)(const struct amtsim_device *d,
			    const void *state);
	void		(*reset)(struct amtsim_device *d, void *state);
	void		(*free)(void *state);
};

/* Registers a section for every device loaded afterwards; returns its id
 * (>= 0, the index into d->sections) or AMTP_E_TOOBIG/AMTP_E_EXISTS. */
int amtsim_section_register(const struct amtsim_section_ops *ops);
/* The state of section id on d (NULL when not registered). */
void *amtsim_device_section(struct amtsim_device *d, int id);

/* Called after every successful state change (already saved). */
typedef void (*amtsim_state_hook)(struct amtsim_device *d,
    enum amtsim_state old, enum amtsim_state now, void *arg);

/*
 * The fleet-wide settings a device needs: where its files go, whether to
 * fsync (no_fsync is for benchmarks only), the provisioning period, the
 * loop for its timers (may be NULL: no timers, e.g. `--show`), and the hook.
 */
struct amtsim_fleet_ctx {
	const char		*dir;
	int			 no_fsync;
	uint32_t		 prov_period;	/* seconds */
	struct amtsim_loop	*loop;
	amtsim_state_hook	 hook;
	void			*hook_arg;
};

/* Paths of device i's files: DIR/NNNN.json and DIR/NNNN.mei (at least 4
 * digits).  0 or AMTP_E_TOOBIG when they do not fit dstsz. */
int amtsim_device_flash_path(const char *dir, unsigned index, char *dst,
    size_t dstsz);
int amtsim_device_mei_path(const char *dir, unsigned index, char *dst,
    size_t dstsz);

/* What a new device is made from (fleet.c fills it per device). */
struct amtsim_device_spec {
	unsigned	 index;
	const char	*amt_version;		/* "11.8.50", major >= 6 */
	uint32_t	 ipv4;
	int		 wireless;
	const char	*dhcp_dns_suffix;	/* may be "" */
	const char	*pki_dns_suffix;	/* may be "" */
	const char	*mebx_password;		/* "admin" when NULL */
	const struct amtsim_hash *extra_hashes;	/* custom trusted roots */
	size_t		 nextra;
	int		 otp_mismatch;		/* fault knob, see above */
};

/*
 * Makes a new device from spec, with fresh random UUID, realm and local
 * account, the default hash table plus spec's extra hashes, state PRE; does
 * not save it.  AMTP_E_RANGE for an AMT version before 6 or malformed,
 * AMTP_E_TOOBIG when the hashes do not fit the table.
 */
int amtsim_device_create(const struct amtsim_device_spec *spec,
    struct amtsim_fleet *fleet, struct amtsim_device **out);

/*
 * Loads device index from its flash file in ctx->dir.  A missing,
 * truncated or malformed file gives AMTP_E_NOTFOUND / AMTP_E_PARSE /
 * AMTP_E_JSON and a sentence in err that names the file and what is wrong.
 * A device found in IN whose period has passed falls back to PRE (saved).
 */
int amtsim_device_load(const struct amtsim_fleet_ctx *ctx, unsigned index,
    struct amtsim_fleet *fleet, struct amtsim_device **out, char *err,
    size_t errlen);

/*
 * The same from the len bytes of a flash file's text (the parser that
 * amtsim_device_load() and fuzz/fuzz_amtsim_flash.c use).  err gets the
 * reason without the file name.
 */
int amtsim_device_parse(const struct amtsim_fleet_ctx *ctx, unsigned index,
    const void *text, size_t len, struct amtsim_fleet *fleet,
    struct amtsim_device **out, char *err, size_t errlen);

/*
 * Writes jansson's reason for a failed load to dst without the input it
 * quotes: jansson appends "near '<token>'", and in a flash file or a fleet
 * description the token may be part of an OTP or a password.  The result
 * is "<reason> (column C, byte B)".
 */
void amtsim_json_error(const json_error_t *je, char *dst, size_t dstsz);
/*
 * Makes jansson wipe every block it frees (process-wide: jansson's
 * allocator is global).  The flash JSON of a device holds its OTP and
 * passwords, and jansson copies every string it is given or parses.
 * Blocks still come from malloc, so text from json_dumps() may be freed
 * with free() as before.  amtsim's main calls it before any JSON is made.
 */
void amtsim_json_wipe_on_free(void);
/* Frees d (wiping its secrets).  NULL does nothing. */
void amtsim_device_free(struct amtsim_device *d);

/* Sets the fleet settings d uses (create leaves none; load sets them). */
void amtsim_device_set_ctx(struct amtsim_device *d,
    const struct amtsim_fleet_ctx *ctx);

/* Writes d's flash file now (atomically).  0 or AMTP_E_IO/NOMEM/JSON. */
int amtsim_device_save(struct amtsim_device *d);

/* d as JSON (the flash format); with_secrets 0 replaces the OTP and the
 * passwords by "(redacted)".  NULL when out of memory. */
json_t *amtsim_device_to_json(const struct amtsim_device *d,
    int with_secrets);

/*
 * Applies ev.  Returns an AMT_STATUS: SUCCESS (then the change is saved
 * and the hook has run), INVALID_AMT_MODE (3) when ev is not allowed in
 * the current state, or INTERNAL_ERROR (1) when the flash write failed (the
 * state is then unchanged).  control_mode is used by AMTSIM_EV_COMMIT only
 * (AMTP_AMT_CONTROL_ACM or _CCM).
 */
uint32_t amtsim_device_event(struct amtsim_device *d, enum amtsim_event ev,
    uint32_t control_mode);

/* The state reached from state by ev, or -1 when ev is not allowed there
 * (the transition table, for tests and docs). */
int amtsim_state_next(enum amtsim_state state, enum amtsim_event ev);

/* (Re)arms the provisioning-period timer of an IN device on ctx->loop. */
void amtsim_device_arm_period(struct amtsim_device *d);

/* 1 when the network interface listens (IN or POST). */
int amtsim_device_net_active(const struct amtsim_device *d);

/* The hash-table entry with this algorithm and hash bytes that is active,
 * or NULL (the TLS-PKI root check). */
const struct amtsim_hash *amtsim_device_find_hash(const struct amtsim_device *d,
    uint8_t algorithm, const uint8_t *hash, size_t len);

/* Names: "pre"/"in"/"post"; "sha256" etc. */
const char *amtsim_state_name(enum amtsim_state s);
const char *amtsim_hash_algo_name(uint8_t algorithm);
/* Parses "sha256" etc.; -1 when unknown. */
int amtsim_hash_algo_parse(const char *s);

/* The capabilities of AMT major version major. */
void amtsim_caps_for(unsigned major, struct amtsim_caps *caps);

/* Formats ipv4 (host order, first octet most significant) into dst. */
void amtsim_ipv4_format(uint32_t ipv4, char *dst, size_t dstsz);
/* Parses a dotted quad.  0 or AMTP_E_PARSE. */
int amtsim_ipv4_parse(const char *s, uint32_t *out);

#endif
