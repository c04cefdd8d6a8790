/*
 * amtprov - fleet.h: a fleet of simulated devices in one state folder
 * (amtsim).
 *
 * DIR/fleet.json records what the fleet was made from; DIR/NNNN.json is
 * device NNNN's flash and DIR/NNNN.mei its MEI socket.  Device i (1-based)
 * gets the address first + i - 1.  A fleet is created once from a
 * description (flags and/or a JSON file, see docs/amtsim.md) and then
 * restarted from flash by amtsim_fleet_open().
 */
#ifndef AMTSIM_FLEET_H
#define AMTSIM_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"
#include "device.h"

#define AMTSIM_VERSIONS_MAX	16

/* A per-device exception to the fleet's defaults.  -1 / NULL: unset. */
struct amtsim_override {
	unsigned	 index;
	int		 untrusted;	/* 1: no custom trusted roots */
	int		 otp_mismatch;	/* 1: fault knob, reports a wrong OTP */
	int		 wireless;
	char		*amt_version;
	char		*mebx_password;
	char		*dns_suffix;	/* DHCP suffix */
	char		*pki_dns_suffix;
};

struct amtsim_fleet_desc {
	unsigned	 count;
	uint32_t	 first_address;
	char		*versions[AMTSIM_VERSIONS_MAX];	/* round-robin */
	size_t		 nversions;
	char		*dns_suffix;	/* DHCP suffix; also the PKI suffix */
	char		*pki_dns_suffix; /* NULL: same as dns_suffix */
	struct amtsim_hash roots[AMTP_SIM_TRUST_ROOTS_MAX];
	size_t		 nroots;
	char		*mebx_password;	/* NULL: "admin" */
	unsigned	 wireless_every; /* 0 none; n: devices n, 2n, ... */
	struct amtsim_override *overrides;
	size_t		 noverrides;
};

struct amtsim_fleet {
	struct amtsim_fleet_ctx	 ctx;
	char			*dir;
	struct amtsim_device	**devs;		/* devs[i - 1] is device i */
	unsigned		 count;
};

/* Sets the defaults: address 127.20.0.1, version 11.8.50, no suffix. */
void amtsim_fleet_desc_init(struct amtsim_fleet_desc *desc);
void amtsim_fleet_desc_reset(struct amtsim_fleet_desc *desc);

/*
 * Reads a fleet description file (JSON, docs/amtsim.md) into desc (which
 * keeps its values for keys the file does not have).  AMTP_E_JSON or
 * AMTP_E_PARSE with a sentence in err naming the file and the key.
 */
int amtsim_fleet_desc_load(const char *path, struct amtsim_fleet_desc *desc,
    char *err, size_t errlen);

/* The same from len bytes of text; path only names it in messages (the
 * parser fuzz/fuzz_amtsim_fleet.c drives). */
int amtsim_fleet_desc_parse(const void *text, size_t len, const char *path,
    struct amtsim_fleet_desc *desc, char *err, size_t errlen);

/* Sets the list of versions from "11.8.50,15.0.23" (each AMT 6+). */
int amtsim_fleet_desc_versions(struct amtsim_fleet_desc *desc,
    const char *list, char *err, size_t errlen);

/*
 * Reads trusted root hashes from a file: one per line, "HEX [name]" where
 * HEX is 64 (SHA-256) or 96 (SHA-384) hex digits, colons allowed; blank
 * lines and lines starting with '#' are skipped (sha256sum output works).
 */
int amtsim_fleet_desc_roots(struct amtsim_fleet_desc *desc, const char *path,
    char *err, size_t errlen);

/* Adds or finds the override of device index. */
struct amtsim_override *amtsim_fleet_desc_override(
    struct amtsim_fleet_desc *desc, unsigned index);

/*
 * Creates the fleet in dir (made if missing; it must not hold a fleet
 * yet): every device's flash file, then fleet.json last, so a creation cut
 * short is seen as "no fleet" and can be run again.
 */
int amtsim_fleet_create(const char *dir, const struct amtsim_fleet_desc *desc,
    int no_fsync, char *err, size_t errlen);

/* 1 when dir holds a fleet (fleet.json). */
int amtsim_fleet_exists(const char *dir);

/*
 * Loads the fleet in dir with the settings in tmpl (dir is set from the
 * argument; loop, hook, period and no_fsync from tmpl).  Devices left in IN
 * past their period fall back to PRE; the others in IN get their timer.
 */
int amtsim_fleet_open(const char *dir, const struct amtsim_fleet_ctx *tmpl,
    struct amtsim_fleet **out, char *err, size_t errlen);

/* Opens every device's MEI socket on the fleet's loop. */
int amtsim_fleet_listen(struct amtsim_fleet *f, char *err, size_t errlen);

/* Device index (1-based) or NULL. */
struct amtsim_device *amtsim_fleet_device(struct amtsim_fleet *f,
    unsigned index);

/* Closes the sockets and frees everything.  NULL does nothing. */
void amtsim_fleet_free(struct amtsim_fleet *f);

#endif
