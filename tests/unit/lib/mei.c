/* Unit tests for src/lib/mei.c: both back ends' error paths and the
 * simulator handshake, against a scripted peer in a child process (the
 * real amtsim is exercised by tests/integration/amtsim_mei.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"

enum peer {
	PEER_GOOD,		/* hello 4160/1, then answers each request */
	PEER_CLOSE_AT_GUID,	/* closes on the GUID (unknown client) */
	PEER_SHORT_HELLO,	/* 7-byte hello */
	PEER_ZERO_MAX,		/* max_msg_length 0 */
	PEER_HUGE_MAX,		/* max_msg_length over the cap */
	PEER_SILENT,		/* never answers the GUID */
	PEER_BIG_REPLY,		/* hello, then a 5000-byte reply */
	PEER_CLOSE_AFTER_HELLO,
	PEER_NO_REPLY,		/* hello, then silence */
};

struct fixture {
	char	 dir[64];
	char	 path[128];
	char	 uri[140];
	pid_t	 pid;
};

static const uint8_t prov_state_in[20] = { 0x01, 0x01, 0x00, 0x00, 0x11,
    0x00, 0x80, 0x04, 0x08, 0x00, 0x00, 0x00, 0, 0, 0, 0, 1, 0, 0, 0 };

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
peer_run(int lfd, enum peer mode)
{
	uint8_t buf[8192], hello[8] = { 0 };
	ssize_t n;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(10);
	n = recv(fd, buf, sizeof(buf), 0);
	if (n != 16)
		_exit(11);
	switch (mode) {
	case PEER_CLOSE_AT_GUID:
		_exit(0);
	case PEER_SILENT:
		sleep(3);
		_exit(0);
	case PEER_SHORT_HELLO:
		(void)send(fd, hello, 7, 0);
		sleep(1);
		_exit(0);
	default:
		break;
	}
	put32(hello, mode == PEER_ZERO_MAX ? 0 : mode == PEER_HUGE_MAX ?
	    AMTP_MEI_MSG_CAP + 1 : AMTP_MEI_SIM_MAX_MSG);
	hello[4] = 1;
	(void)send(fd, hello, 8, 0);
	if (mode == PEER_CLOSE_AFTER_HELLO)
		_exit(0);
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			_exit(0);
		if (mode == PEER_NO_REPLY) {
			sleep(3);
			_exit(0);
		}
		if (mode == PEER_BIG_REPLY) {
			memset(buf, 0x41, 5000);
			(void)send(fd, buf, 5000, 0);
			continue;
		}
		(void)send(fd, prov_state_in, sizeof(prov_state_in), 0);
	}
}

static void
start_peer(struct fixture *f, enum peer mode)
{
	struct sockaddr_un sun;
	int lfd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	(void)unlink(f->path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		peer_run(lfd, mode);
	(void)close(lfd);
}

static void
stop_peer(struct fixture *f)
{
	int st;

	if (f->pid > 0) {
		(void)kill(f->pid, SIGKILL);
		(void)waitpid(f->pid, &st, 0);
		f->pid = 0;
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtp-mei-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/dev.mei", f->dir);
	(void)snprintf(f->uri, sizeof(f->uri), "unix:%s", f->path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	stop_peer(f);
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_good_exchange(void **state)
{
	struct fixture *f = *state;
	struct amtp_mei *m = NULL;
	struct amtp_buf *b = amtp_buf_new(AMTP_MEI_MSG_CAP);
	struct amtp_buf *small = amtp_buf_new(100);
	struct amtp_amthi_req req;
	struct amtp_amthi_resp resp;
	uint8_t big[AMTP_MEI_SIM_MAX_MSG + 1];

	start_peer(f, PEER_GOOD);
	assert_int_equal(amtp_mei_open(f->uri, amtp_mei_guid_amthi, 2000, &m),
	    0);
	assert_int_equal(amtp_mei_max_msg_length(m), AMTP_MEI_SIM_MAX_MSG);
	assert_int_equal(amtp_mei_protocol_version(m), 1);
	assert_int_equal(amtp_mei_is_sim(m), 1);
	/* one message each way, boundaries kept */
	assert_int_equal(amtp_mei_transact(m, "\x01\x01\x00\x00\x11\x00\x00"
	    "\x04\x00\x00\x00\x00", 12, b), 0);
	assert_int_equal(amtp_buf_len(b), 20);
	assert_memory_equal(amtp_buf_ptr(b), prov_state_in, 20);
	/* the codec on top */
	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_PROVISIONING_STATE);
	assert_int_equal(amtp_amthi_call(m, &req, &resp), 0);
	assert_int_equal(resp.u.provisioning_state, 1);
	/* a reply to the wrong command is a protocol error */
	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_CONTROL_MODE);
	assert_int_equal(amtp_amthi_call(m, &req, &resp), AMTP_E_PROTO);
	/* over max_msg_length, empty: refused before sending */
	memset(big, 0, sizeof(big));
	assert_int_equal(amtp_mei_send(m, big, sizeof(big)), AMTP_E_TOOBIG);
	assert_int_equal(amtp_mei_send(m, big, 0), AMTP_E_TOOBIG);
	/* exactly max_msg_length is fine */
	assert_int_equal(amtp_mei_send(m, big, sizeof(big) - 1), 0);
	/* a receive buffer smaller than max_msg_length is a caller bug */
	assert_int_equal(amtp_mei_recv(m, small), AMTP_E_INVAL);
	assert_int_equal(amtp_mei_recv(m, b), 0);
	amtp_mei_close(m);
	amtp_mei_close(NULL);
	amtp_buf_free(b);
	amtp_buf_free(small);
}

static void
expect_open(struct fixture *f, enum peer mode, int timeout, int want)
{
	struct amtp_mei *m = NULL;

	start_peer(f, mode);
	assert_int_equal(amtp_mei_open(f->uri, amtp_mei_guid_amthi, timeout,
	    &m), want);
	assert_null(m);
	stop_peer(f);
}

static void
test_handshake_errors(void **state)
{
	struct fixture *f = *state;

	expect_open(f, PEER_CLOSE_AT_GUID, 2000, AMTP_E_NOTFOUND);
	expect_open(f, PEER_SHORT_HELLO, 2000, AMTP_E_PROTO);
	expect_open(f, PEER_ZERO_MAX, 2000, AMTP_E_PROTO);
	expect_open(f, PEER_HUGE_MAX, 2000, AMTP_E_PROTO);
	expect_open(f, PEER_SILENT, 200, AMTP_E_TIMEOUT);
}

static void
test_reply_errors(void **state)
{
	struct fixture *f = *state;
	struct amtp_mei *m = NULL;
	struct amtp_buf *b = amtp_buf_new(AMTP_MEI_SIM_MAX_MSG);

	start_peer(f, PEER_BIG_REPLY);
	assert_int_equal(amtp_mei_open(f->uri, amtp_mei_guid_amthi, 2000, &m),
	    0);
	assert_int_equal(amtp_mei_transact(m, "x", 1, b), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 0);
	amtp_mei_close(m);
	stop_peer(f);

	start_peer(f, PEER_CLOSE_AFTER_HELLO);
	assert_int_equal(amtp_mei_open(f->uri, amtp_mei_guid_amthi, 2000, &m),
	    0);
	assert_int_equal(amtp_mei_recv(m, b), AMTP_E_CLOSED);
	amtp_mei_close(m);
	stop_peer(f);

	start_peer(f, PEER_NO_REPLY);
	assert_int_equal(amtp_mei_open(f->uri, amtp_mei_guid_amthi, 200, &m),
	    0);
	assert_int_equal(amtp_mei_transact(m, "x", 1, b), AMTP_E_TIMEOUT);
	amtp_mei_close(m);
	amtp_buf_free(b);
}

static void
test_open_errors(void **state)
{
	struct amtp_mei *m = NULL;
	char longp[200];

	(void)state;
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:/", 6);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(amtp_mei_open("", amtp_mei_guid_amthi, 100, &m),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_mei_open(NULL, amtp_mei_guid_amthi, 100, &m),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_mei_open("unix:", amtp_mei_guid_amthi, 100, &m),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_mei_open(longp, amtp_mei_guid_amthi, 100, &m),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_mei_open("/dev/mei0", amtp_mei_guid_amthi, -1,
	    &m), AMTP_E_INVAL);
	assert_int_equal(amtp_mei_open("unix:/nonexistent/x.mei",
	    amtp_mei_guid_amthi, 100, &m), AMTP_E_NOTFOUND);
	/* the driver back end: no device, and a device that is not MEI */
	assert_int_equal(amtp_mei_open("/nonexistent/mei0",
	    amtp_mei_guid_amthi, 100, &m), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_mei_open("/dev/null", amtp_mei_guid_amthi, 100,
	    &m), AMTP_E_NOTFOUND);
	assert_null(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_exchange, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handshake_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reply_errors, setup,
		    teardown),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
