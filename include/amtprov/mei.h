/*
 * amtprov - mei.h: the MEI (HECI) transport, real or simulated.
 *
 * One API with two back ends, chosen by a URI:
 *   "/dev/mei0" (or any other path)  the Linux driver: open(2),
 *        IOCTL_MEI_CONNECT_CLIENT with the client GUID (retried on EBUSY),
 *        then one write(2) per request and one read(2) per response.
 *   "unix:/path/to/device.mei"       an amtsim device: a SOCK_SEQPACKET
 *        socket that mirrors the driver.  The first packet sent is the
 *        16-byte GUID in ioctl byte order; the answer is the 8-byte ioctl
 *        output {u32 max_msg_length LE, u8 protocol_version, u8 reserved[3]},
 *        or a close when the device has no such client.  Then one packet per
 *        request and one per response, byte-identical to /dev/mei0.
 *
 * Reads wait at most timeout_ms (poll).  timeout_ms == 0 means wait without
 * poll(2), in one blocking read(2): umockdev (tests of the agent against a
 * fake /dev/mei0) does not emulate poll.
 */
#ifndef AMTPROV_MEI_H
#define AMTPROV_MEI_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;
struct amtp_mei;

/* Where the agent looks when nothing else is configured. */
#define AMTP_MEI_DEFAULT_URI	"/dev/mei0"
#define AMTP_MEI_UNIX_PREFIX	"unix:"

/* {12F80028-B4B7-4B2D-ACA8-46E0FF65814C} in ioctl byte order (spec 1.1). */
extern const uint8_t amtp_mei_guid_amthi[16];

/*
 * Opens uri and connects to the MEI client guid.  timeout_ms bounds the
 * connect handshake of the socket back end and every later read (0: no
 * bound, see above).  Returns 0 and a connection in *out, or:
 *   AMTP_E_NOTFOUND  no device at that path / no such MEI client
 *   AMTP_E_PERM      permission denied opening the device
 *   AMTP_E_BUSY      the client stayed busy through every retry
 *   AMTP_E_TIMEOUT   the simulator did not answer the handshake
 *   AMTP_E_PROTO     a malformed handshake answer or max_msg_length
 *                    of 0 or above AMTP_MEI_MSG_CAP
 *   AMTP_E_INVAL     an empty URI, or "unix:" with a path that does not fit
 *   AMTP_E_IO        anything else (errno kept)
 */
int amtp_mei_open(const char *uri, const uint8_t guid[16], int timeout_ms,
    struct amtp_mei **out);

/* Closes the connection.  amtp_mei_close(NULL) does nothing. */
void amtp_mei_close(struct amtp_mei *m);

/* What the connect returned. */
uint32_t amtp_mei_max_msg_length(const struct amtp_mei *m);
uint8_t amtp_mei_protocol_version(const struct amtp_mei *m);
/* 1 for the simulator back end. */
int amtp_mei_is_sim(const struct amtp_mei *m);

/*
 * Sends one whole message.  AMTP_E_TOOBIG when len is 0 or larger than
 * max_msg_length (nothing is sent), AMTP_E_CLOSED when the peer is gone,
 * AMTP_E_IO on a short or failed write.
 */
int amtp_mei_send(struct amtp_mei *m, const void *msg, size_t len);

/*
 * Receives one whole message into out (emptied first; its maximum must be
 * at least max_msg_length).  AMTP_E_TIMEOUT when nothing came within the
 * timeout, AMTP_E_CLOSED when the peer closed, AMTP_E_TOOBIG when the
 * message was larger than out can hold, AMTP_E_IO otherwise.
 */
int amtp_mei_recv(struct amtp_mei *m, struct amtp_buf *out);

/* One request and its response: amtp_mei_send() then amtp_mei_recv(). */
int amtp_mei_transact(struct amtp_mei *m, const void *req, size_t len,
    struct amtp_buf *resp);

#endif
