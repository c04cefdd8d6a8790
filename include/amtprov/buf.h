/*
 * amtprov - buf.h: an owned, bounded byte buffer.
 *
 * After OpenSSH's sshbuf and curl's dynbuf.  A buffer has a maximum size given
 * at creation; nothing grows past it.  Data is appended at the end and read
 * from a cursor at the front.  The bytes are always followed by a NUL (not
 * counted in the length), so text can be looked at as a C string.  Getters
 * check what remains and return AMTP_E_INCOMPLETE without moving the cursor
 * when there is not enough.  A failed put leaves the buffer as it was.
 * amtp_buf_free() wipes the memory before it frees it, so a buffer may hold
 * secrets.  Every call checks the internals and aborts on corruption.
 *
 * Integers on the wire (MEI/AMTHI) are little-endian: _le getters/putters.
 */
#ifndef AMTPROV_BUF_H
#define AMTPROV_BUF_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;

/* A new empty buffer that will hold at most max bytes (1..AMTP_BUF_MAX_ANY).
 * Returns NULL on a bad max or when out of memory. */
struct amtp_buf *amtp_buf_new(size_t max);

/* A new buffer holding a copy of len bytes of data, with room up to max.
 * Returns NULL when len > max, on a bad max or when out of memory. */
struct amtp_buf *amtp_buf_from(const void *data, size_t len, size_t max);

/* Wipes and frees b.  amtp_buf_free(NULL) does nothing. */
void amtp_buf_free(struct amtp_buf *b);

/* Empties b (wiping what it held); the maximum stays. */
void amtp_buf_reset(struct amtp_buf *b);

/* Bytes left to read. */
size_t amtp_buf_len(const struct amtp_buf *b);
/* The maximum given at creation. */
size_t amtp_buf_max(const struct amtp_buf *b);
/* Bytes that can still be appended. */
size_t amtp_buf_avail(const struct amtp_buf *b);
/* The unread bytes; always followed by a NUL.  Valid until the next put. */
const uint8_t *amtp_buf_ptr(const struct amtp_buf *b);
/* The unread bytes as a C string; "" when empty.  Embedded NULs are not
 * checked here: use amtp_buf_dup_cstring() for untrusted text. */
const char *amtp_buf_str(const struct amtp_buf *b);

/* Appending.  0, AMTP_E_TOOBIG (would pass max) or AMTP_E_NOMEM. */
int amtp_buf_put(struct amtp_buf *b, const void *data, size_t len);
int amtp_buf_put_u8(struct amtp_buf *b, uint8_t v);
int amtp_buf_put_u16le(struct amtp_buf *b, uint16_t v);
int amtp_buf_put_u32le(struct amtp_buf *b, uint32_t v);
int amtp_buf_put_u64le(struct amtp_buf *b, uint64_t v);
/* Appends the bytes of a C string (without its NUL). */
int amtp_buf_put_cstring(struct amtp_buf *b, const char *s);
/* Appends len zero bytes. */
int amtp_buf_put_zero(struct amtp_buf *b, size_t len);
/* Appends formatted text; AMTP_E_TOOBIG leaves b unchanged. */
int amtp_buf_putf(struct amtp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Makes room for len bytes at the end and returns where they go in *dst; the
 * caller must fill all of them.  Same errors as amtp_buf_put. */
int amtp_buf_reserve(struct amtp_buf *b, size_t len, uint8_t **dst);

/* Reading from the cursor.  0 or AMTP_E_INCOMPLETE (nothing consumed). */
int amtp_buf_get(struct amtp_buf *b, void *out, size_t len);
int amtp_buf_get_u8(struct amtp_buf *b, uint8_t *v);
int amtp_buf_get_u16le(struct amtp_buf *b, uint16_t *v);
int amtp_buf_get_u32le(struct amtp_buf *b, uint32_t *v);
int amtp_buf_get_u64le(struct amtp_buf *b, uint64_t *v);
/* Skips len bytes. */
int amtp_buf_consume(struct amtp_buf *b, size_t len);
/* Peeks at len bytes without consuming them. */
int amtp_buf_peek(const struct amtp_buf *b, size_t off, void *out, size_t len);

/*
 * Reads len bytes as a string into a new NUL-terminated heap copy in *out.
 * A NUL inside the len bytes gives AMTP_E_EMBEDDED_NUL, except that one NUL
 * at the very end is dropped when allow_trailing_nul is set (AMTHI strings
 * are sent both ways).  *out is NULL on failure and nothing is consumed.
 */
int amtp_buf_get_cstring(struct amtp_buf *b, size_t len, int allow_trailing_nul,
    char **out);

/* All unread bytes as a new NUL-terminated string; AMTP_E_EMBEDDED_NUL when
 * they contain a NUL. */
int amtp_buf_dup_cstring(const struct amtp_buf *b, char **out);

/*
 * Reads a whole file into a new buffer of maximum max.  AMTP_E_TOOBIG when
 * the file is larger, AMTP_E_NOTFOUND when it does not exist, AMTP_E_IO
 * otherwise (errno is kept).
 */
int amtp_buf_load_file(const char *path, size_t max, struct amtp_buf **out);

/*
 * Writes data to path atomically: a temporary file in the same folder,
 * fsync (unless no_fsync), rename, and fsync of the folder.  mode is the new
 * file's permission bits.  0 or AMTP_E_IO.
 */
int amtp_write_file_atomic(const char *path, const void *data, size_t len,
    unsigned mode, int no_fsync);

#endif
