/* Unit tests for src/lib/ipc.c: frames over a socketpair and in memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
test_roundtrip(void **state)
{
	struct amtp_buf *b = NULL;
	uint8_t *big;
	uint32_t t;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(amtp_ipc_send(sv[0], AMTP_IPC_SIGNER_CHAIN, NULL, 0), 0);
	assert_int_equal(amtp_ipc_send(sv[0], AMTP_IPC_SIGNER_SIGN, "abc", 3), 0);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    0);
	assert_int_equal(t, AMTP_IPC_SIGNER_CHAIN);
	assert_int_equal(amtp_buf_len(b), 0);
	amtp_buf_free(b);
	assert_int_equal(amtp_ipc_recv(sv[1], 3, AMTP_IPC_SIGNER__MAX, &t, &b),
	    0);	/* exactly at max */
	assert_int_equal(t, AMTP_IPC_SIGNER_SIGN);
	assert_int_equal(amtp_buf_len(b), 3);
	assert_memory_equal(amtp_buf_ptr(b), "abc", 3);
	amtp_buf_free(b);
	/* The largest frame; one byte more is refused before sending. */
	big = malloc(AMTP_IPC_FRAME_MAX + 1);
	assert_non_null(big);
	memset(big, 0xa5, AMTP_IPC_FRAME_MAX + 1);
	assert_int_equal(amtp_ipc_send(sv[0], AMTP_IPC_SIGNER_CERT, big,
	    AMTP_IPC_FRAME_MAX + 1), AMTP_E_TOOBIG);
	assert_int_equal(amtp_ipc_send(sv[0], AMTP_IPC_SIGNER_CERT, big,
	    AMTP_IPC_FRAME_MAX), 0);
	assert_int_equal(amtp_ipc_recv(sv[1], AMTP_IPC_FRAME_MAX,
	    AMTP_IPC_SIGNER__MAX, &t, &b), 0);
	assert_int_equal(amtp_buf_len(b), AMTP_IPC_FRAME_MAX);
	assert_memory_equal(amtp_buf_ptr(b), big, AMTP_IPC_FRAME_MAX);
	amtp_buf_free(b);
	free(big);
	/* Peer gone: recv says closed, send says closed. */
	close(sv[0]);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_CLOSED);
	assert_null(b);
	assert_int_equal(amtp_ipc_send(sv[1], AMTP_IPC_SIGNER_SIGN, "x", 1),
	    AMTP_E_CLOSED);
	close(sv[1]);
}

static void
raw(int fd, uint32_t type, uint32_t len, const char *payload, size_t plen)
{
	uint8_t h[8];

	h[0] = (uint8_t)type; h[1] = (uint8_t)(type >> 8);
	h[2] = (uint8_t)(type >> 16); h[3] = (uint8_t)(type >> 24);
	h[4] = (uint8_t)len; h[5] = (uint8_t)(len >> 8);
	h[6] = (uint8_t)(len >> 16); h[7] = (uint8_t)(len >> 24);
	assert_int_equal(write(fd, h, 8), 8);
	if (plen > 0)
		assert_int_equal(write(fd, payload, plen), (ssize_t)plen);
}

static void
test_bad_frames(void **state)
{
	struct amtp_buf *b = NULL;
	uint32_t t;
	int sv[2];

	(void)state;
	/* Over the receiver's max: refused before allocation. */
	pair(sv);
	raw(sv[0], AMTP_IPC_SIGNER_SIGN, 4, "abcd", 4);
	assert_int_equal(amtp_ipc_recv(sv[1], 3, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_PROTO);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw(sv[0], AMTP_IPC_SIGNER_SIGN, 0xffffffffu, NULL, 0);
	assert_int_equal(amtp_ipc_recv(sv[1], AMTP_IPC_FRAME_MAX,
	    AMTP_IPC_SIGNER__MAX, &t, &b), AMTP_E_PROTO);
	close(sv[0]); close(sv[1]);
	/* Unknown types: 0 and type_max. */
	pair(sv);
	raw(sv[0], 0, 0, NULL, 0);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_PROTO);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw(sv[0], AMTP_IPC_SIGNER__MAX, 0, NULL, 0);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_PROTO);
	close(sv[0]); close(sv[1]);
	/* Cut short: in the header, in the payload. */
	pair(sv);
	assert_int_equal(write(sv[0], "\1\0\0", 3), 3);
	close(sv[0]);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_PROTO);
	close(sv[1]);
	pair(sv);
	raw(sv[0], AMTP_IPC_SIGNER_SIGN, 10, "abc", 3);
	close(sv[0]);
	assert_int_equal(amtp_ipc_recv(sv[1], 16, AMTP_IPC_SIGNER__MAX, &t, &b),
	    AMTP_E_PROTO);
	assert_null(b);
	assert_int_equal(t, 0);
	close(sv[1]);
}

static void
test_decode(void **state)
{
	const uint8_t f[] = { 1, 0, 0, 0, 2, 0, 0, 0, 'h', 'i', 9 };
	struct amtp_buf *b = NULL;
	uint32_t t;
	size_t used, i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(amtp_ipc_decode(f, i, 16, AMTP_IPC_SIGNER__MAX,
		    &t, &b, &used), AMTP_E_INCOMPLETE);
	assert_null(b);
	assert_int_equal(amtp_ipc_decode(f, sizeof(f), 16, AMTP_IPC_SIGNER__MAX,
	    &t, &b, &used), 0);
	assert_int_equal(t, 1);
	assert_int_equal(used, 10);
	assert_string_equal(amtp_buf_str(b), "hi");
	amtp_buf_free(b);
	assert_int_equal(amtp_ipc_decode(f, sizeof(f), 1, AMTP_IPC_SIGNER__MAX,
	    &t, &b, &used), AMTP_E_PROTO);
	assert_int_equal(amtp_ipc_decode(f, sizeof(f), 16, 1, &t, &b, &used),
	    AMTP_E_PROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_decode),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
