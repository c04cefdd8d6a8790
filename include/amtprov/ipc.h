/*
 * amtprov - ipc.h: framed messages between the processes of one program.
 *
 * A frame is a header of two little-endian u32, the message type and the
 * payload length, followed by the payload.  The length is checked against
 * the channel's maximum before anything is allocated (as rpki-client's
 * io.c does); a bad frame is a broken peer, and the caller stops talking to
 * it (STYLE.md section 8).  Channels are SOCK_STREAM socketpairs made by the
 * parent before it forks a role.
 *
 * Channels and their message types (one enum per channel):
 *   signer: enroll role <-> the CA key process (src/amtprovd/enroll/signer.c)
 */
#ifndef AMTPROV_IPC_H
#define AMTPROV_IPC_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;

#define AMTP_IPC_HDR_LEN	8

/* The signer channel.  Requests go to the signer, answers come back. */
enum amtp_ipc_signer {
	AMTP_IPC_SIGNER_NONE = 0,
	AMTP_IPC_SIGNER_SIGN,		/* request: sign (see signer.h) */
	AMTP_IPC_SIGNER_CHAIN,		/* request: the CA chain; empty */
	AMTP_IPC_SIGNER_CERT,		/* answer: a DER certificate */
	AMTP_IPC_SIGNER_CHAIN_PEM,	/* answer: PEM certificates */
	AMTP_IPC_SIGNER_ERROR,		/* answer: i32 LE AMTP_E_* code */
	AMTP_IPC_SIGNER__MAX
};

/*
 * Writes one frame (all of it; retries on EINTR and short writes).
 * 0, AMTP_E_TOOBIG (len > AMTP_IPC_FRAME_MAX), AMTP_E_CLOSED (peer gone),
 * AMTP_E_IO.
 */
int amtp_ipc_send(int fd, uint32_t type, const void *data, size_t len);

/*
 * Reads one frame whose payload is at most max bytes (<= AMTP_IPC_FRAME_MAX)
 * and whose type is below type_max.  *body is a new buffer with the payload.
 * 0; AMTP_E_CLOSED when the peer closed before a frame began; AMTP_E_PROTO
 * for a frame that is too long, of an unknown type, or cut short; AMTP_E_IO.
 */
int amtp_ipc_recv(int fd, size_t max, uint32_t type_max, uint32_t *type,
    struct amtp_buf **body);

/*
 * The same over bytes in memory (for tests and the fuzz target): decodes the
 * first frame of data[0..len).  AMTP_E_INCOMPLETE when more bytes are needed
 * (nothing allocated), AMTP_E_PROTO as above.  *consumed gets the frame's
 * size on success.
 */
int amtp_ipc_decode(const void *data, size_t len, size_t max,
    uint32_t type_max, uint32_t *type, struct amtp_buf **body,
    size_t *consumed);

#endif
