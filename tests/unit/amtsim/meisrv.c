/* Unit tests for src/amtsim/meisrv.c: the simulated /dev/mei0 socket of a
 * device, driven on a real loop with real SOCK_SEQPACKET clients: the GUID
 * handshake, the handshake deadline that frees the connection slots of
 * clients that never speak, and oversized packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"
#include "device.h"
#include "loop.h"
#include "meisrv.h"

struct fixture {
	char			 dir[64];
	char			 path[128];
	struct amtsim_fleet_ctx	 ctx;
	struct amtsim_loop	*loop;
	struct amtsim_device	*dev;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct amtsim_device_spec spec;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-meisrv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(amtsim_loop_new(&f->loop), 0);
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 1;
	f->ctx.prov_period = 3600;
	f->ctx.loop = f->loop;
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = "11.8.50";
	spec.ipv4 = 0x7f000001u;
	spec.dhcp_dns_suffix = "";
	spec.pki_dns_suffix = "";
	assert_int_equal(amtsim_device_create(&spec, NULL, &f->dev), 0);
	amtsim_device_set_ctx(f->dev, &f->ctx);
	assert_int_equal(amtsim_device_save(f->dev), 0);
	assert_int_equal(amtsim_device_mei_path(f->dir, 1, f->path,
	    sizeof(f->path)), 0);
	amtsim_meisrv_handshake_ms = 200;
	assert_int_equal(amtsim_meisrv_start(f->dev, f->loop, f->path), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	amtsim_meisrv_stop(f->dev);
	amtsim_device_free(f->dev);
	amtsim_loop_free(f->loop);
	amtsim_meisrv_handshake_ms = AMTP_SIM_MEI_HANDSHAKE_MS;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Runs the loop for about ms milliseconds. */
static void
pump(struct fixture *f, unsigned ms)
{
	uint64_t end = amtsim_loop_now_ms() + ms;

	while (amtsim_loop_now_ms() < end)
		assert_int_equal(amtsim_loop_run_once(f->loop, 10), 0);
}

static int
client(struct fixture *f)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* What a nonblocking recv gives now: the byte count, 0 for a close by the
 * server, -1 when nothing is there yet. */
static ssize_t
peek_state(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	if (n == -1 && errno == EAGAIN)
		return -1;
	if (n == -1 && errno == ECONNRESET)
		return 0;
	return n;
}

/* Sends the AMTHI GUID and expects the 8-byte hello. */
static void
handshake(struct fixture *f, int fd)
{
	uint8_t buf[64];

	assert_int_equal(send(fd, amtp_mei_guid_amthi, 16, MSG_NOSIGNAL), 16);
	pump(f, 30);
	assert_int_equal(peek_state(fd, buf, sizeof(buf)), 8);
	assert_int_equal(buf[0] | buf[1] << 8, AMTP_MEI_SIM_MAX_MSG);
	assert_int_equal(buf[4], AMTSIM_MEI_PROTOCOL_VERSION);
}

/* One GetProvisioningState round trip on a connected client. */
static void
ask_state(struct fixture *f, int fd)
{
	struct amtp_amthi_req req;
	struct amtp_amthi_resp resp;
	struct amtp_buf *b;
	uint8_t buf[256];
	ssize_t n;

	assert_non_null(b = amtp_buf_new(AMTP_MEI_MSG_CAP));
	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_PROVISIONING_STATE);
	assert_int_equal(amtp_amthi_req_encode(&req, b), 0);
	assert_int_equal(send(fd, amtp_buf_ptr(b), amtp_buf_len(b),
	    MSG_NOSIGNAL), (ssize_t)amtp_buf_len(b));
	amtp_buf_free(b);
	pump(f, 30);
	n = peek_state(fd, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, buf, (size_t)n, &resp), 0);
	assert_int_equal(resp.u.provisioning_state, AMTSIM_PRE);
}

/* Clients that connect and never send a GUID fill the slots only until
 * the handshake deadline; then a real client gets in. */
static void
test_silent_clients_time_out(void **state)
{
	struct fixture *f = *state;
	int silent[AMTP_SIM_MEI_CONN_MAX], fd, i;
	uint8_t buf[64];

	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++)
		silent[i] = client(f);
	pump(f, 50);
	/* All slots taken: a fifth client is closed at once. */
	fd = client(f);
	pump(f, 30);
	assert_int_equal(peek_state(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
	/* The silent ones are still open before the deadline... */
	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++)
		assert_int_equal(peek_state(silent[i], buf, sizeof(buf)), -1);
	/* ...and closed after it. */
	pump(f, 300);
	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++) {
		assert_int_equal(peek_state(silent[i], buf, sizeof(buf)), 0);
		(void)close(silent[i]);
	}
	fd = client(f);
	pump(f, 20);
	handshake(f, fd);
	ask_state(f, fd);
	(void)close(fd);
}

/* A client that completes the handshake is not closed at the deadline. */
static void
test_handshake_disarms_deadline(void **state)
{
	struct fixture *f = *state;
	int fd;

	fd = client(f);
	pump(f, 100);
	handshake(f, fd);
	pump(f, 400);
	ask_state(f, fd);
	(void)close(fd);
}

/* A wrong GUID, and a packet over the maximum, close the connection. */
static void
test_bad_guid_and_oversize(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[AMTP_MEI_SIM_MAX_MSG + 100];
	uint8_t guid[16], buf[64];
	int fd;

	memcpy(guid, amtp_mei_guid_amthi, 16);
	guid[0] ^= 1;
	fd = client(f);
	assert_int_equal(send(fd, guid, 16, MSG_NOSIGNAL), 16);
	pump(f, 30);
	assert_int_equal(peek_state(fd, buf, sizeof(buf)), 0);
	(void)close(fd);

	fd = client(f);
	handshake(f, fd);
	memset(big, 'A', sizeof(big));
	assert_int_equal(send(fd, big, sizeof(big), MSG_NOSIGNAL),
	    (ssize_t)sizeof(big));
	pump(f, 30);
	assert_int_equal(peek_state(fd, buf, sizeof(buf)), 0);
	(void)close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_silent_clients_time_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_disarms_deadline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_guid_and_oversize,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
