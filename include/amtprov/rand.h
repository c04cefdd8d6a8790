/*
 * amtprov - rand.h: random bytes (getrandom) and AMT-compliant passwords.
 */
#ifndef AMTPROV_RAND_H
#define AMTPROV_RAND_H

#include <stddef.h>
#include <stdint.h>

struct amtp_secret;

/* Fills buf with len random bytes from getrandom(2) (retries on EINTR and
 * short reads).  0 or AMTP_E_IO. */
int amtp_rand_bytes(void *buf, size_t len);

/* A uniform random integer in [0, upper) without modulo bias; upper > 0. */
int amtp_rand_uniform(uint32_t upper, uint32_t *out);

/*
 * A strong password for an AMT account: len characters (AMTP_AMT_PASSWORD_MIN
 * .. AMTP_AMT_PASSWORD_MAX), at least one upper-case letter, one lower-case
 * letter, one digit and one symbol, and never ':' '"' ',' or '_' (the
 * characters AMT or ConfigMgr refuse).  AMTP_E_RANGE for a bad len.
 */
int amtp_rand_password(size_t len, struct amtp_secret **out);

/* 1 when pw follows the rules above (used to check passwords from config). */
int amtp_password_is_strong(const char *pw, size_t len);

/* A one-time password for SetProvisioningServerOTP: AMTP_OTP_LEN printable
 * characters (letters and digits). */
int amtp_rand_otp(struct amtp_secret **out);

#endif
