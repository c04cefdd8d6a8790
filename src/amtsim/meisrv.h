/*
 * amtprov - meisrv.h: the MEI socket of a simulated device (amtsim).
 *
 * Each device listens on its own Unix SOCK_SEQPACKET socket that behaves as
 * /dev/mei0 does for one client (DESIGN.md, mei.h): the first packet from a
 * client is the 16-byte MEI client GUID in ioctl byte order, answered with
 * the 8-byte ioctl output {u32 max_msg_length LE, u8 protocol_version,
 * u8 reserved[3]} for the AMTHI GUID, or by closing for any other GUID;
 * then one packet per AMTHI request and one per response.  A packet larger
 * than max_msg_length (which the driver would refuse to write) closes the
 * connection, and so does a client that sends no GUID within
 * amtsim_meisrv_handshake_ms (each device has only AMTP_SIM_MEI_CONN_MAX
 * connection slots).
 */
#ifndef AMTSIM_MEISRV_H
#define AMTSIM_MEISRV_H

struct amtsim_device;
struct amtsim_loop;

/* What the simulated driver reports for the AMTHI client. */
#define AMTSIM_MEI_PROTOCOL_VERSION	1

/* Milliseconds a new connection has to send its GUID before it is closed
 * (AMTP_SIM_MEI_HANDSHAKE_MS; tests lower it).  Read at each accept. */
extern unsigned amtsim_meisrv_handshake_ms;

/*
 * Binds path (a stale socket file there is removed first), listens, and
 * serves d on loop.  0, AMTP_E_INVAL (path too long for a Unix socket),
 * AMTP_E_NOMEM or AMTP_E_IO.
 */
int amtsim_meisrv_start(struct amtsim_device *d, struct amtsim_loop *loop,
    const char *path);

/* Closes the listener and every connection of d; removes the socket file.
 * Does nothing when d has none. */
void amtsim_meisrv_stop(struct amtsim_device *d);

#endif
