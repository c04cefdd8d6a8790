/*
 * amtprov - site/diracct.h: step 4, the device's directory account, from
 * the site server's side (role site).
 */
#ifndef SITE_DIRACCT_H
#define SITE_DIRACCT_H

#include <stddef.h>

struct amtp_device_rec;
struct amtp_store;
struct site;

/*
 * Gives device d its directory account (directory.type, in
 * directory.container) with a random password, escrowed first: the
 * password is sealed as the pending AMTP_CRED_DIRECTORY version, the account
 * is created (idempotent), then the version is promoted.  A pending version
 * left by an earlier attempt is used again, so a crash anywhere loses
 * nothing.  st is the caller's store connection (also the built-in
 * directory's).  0, AMTP_E_STATE when the device has no FQDN, or the
 * directory's / store's error; why gets a sentence for the log (no secret).
 */
int site_diracct_ensure(struct site *s, struct amtp_store *st,
    const struct amtp_device_rec *d, char *why, size_t whylen);

#endif
