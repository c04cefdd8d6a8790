/* Unit tests for src/lib/buf.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"

static void
test_new_bounds(void **state)
{
	struct amtp_buf *b;

	(void)state;
	assert_null(amtp_buf_new(0));
	assert_null(amtp_buf_new(AMTP_BUF_MAX_ANY + 1));
	b = amtp_buf_new(AMTP_BUF_MAX_ANY);
	assert_non_null(b);
	amtp_buf_free(b);
	amtp_buf_free(NULL);
}

static void
test_empty(void **state)
{
	struct amtp_buf *b = amtp_buf_new(16);
	uint8_t u8;
	uint32_t u32;
	char *s = NULL;

	(void)state;
	assert_int_equal(amtp_buf_len(b), 0);
	assert_string_equal(amtp_buf_str(b), "");
	assert_int_equal(amtp_buf_get_u8(b, &u8), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_get_u32le(b, &u32), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_consume(b, 1), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_get_cstring(b, 0, 0, &s), 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(amtp_buf_put(b, NULL, 0), 0);
	assert_int_equal(amtp_buf_put(b, NULL, 1), AMTP_E_INVAL);
	amtp_buf_free(b);
}

static void
test_limit(void **state)
{
	struct amtp_buf *b = amtp_buf_new(8);
	uint8_t x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	(void)state;
	/* exactly at the limit */
	assert_int_equal(amtp_buf_put(b, x, 8), 0);
	assert_int_equal(amtp_buf_len(b), 8);
	assert_int_equal(amtp_buf_avail(b), 0);
	/* one over: refused, buffer unchanged */
	assert_int_equal(amtp_buf_put_u8(b, 1), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 8);
	assert_memory_equal(amtp_buf_ptr(b), x, 8);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put(b, x, 9), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 0);
	assert_int_equal(amtp_buf_putf(b, "%s", "123456789"), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 0);
	assert_int_equal(amtp_buf_putf(b, "%d-%s", 12, "3456"), 0);
	assert_string_equal(amtp_buf_str(b), "12-3456");
	amtp_buf_free(b);
	assert_null(amtp_buf_from(x, 9, 8));
}

static void
test_integers_le(void **state)
{
	struct amtp_buf *b = amtp_buf_new(64);
	const uint8_t want[] = { 0xab, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	assert_int_equal(amtp_buf_put_u8(b, 0xab), 0);
	assert_int_equal(amtp_buf_put_u16le(b, 0x1234), 0);
	assert_int_equal(amtp_buf_put_u32le(b, 0x12345678), 0);
	assert_int_equal(amtp_buf_put_u64le(b, 0x0102030405060708ull), 0);
	assert_int_equal(amtp_buf_len(b), sizeof(want));
	assert_memory_equal(amtp_buf_ptr(b), want, sizeof(want));
	assert_int_equal(amtp_buf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(amtp_buf_get_u16le(b, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(amtp_buf_get_u32le(b, &u32), 0);
	assert_int_equal(u32, 0x12345678);
	/* 8 bytes left; a short read leaves the cursor where it was */
	assert_int_equal(amtp_buf_consume(b, 9), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_get_u64le(b, &u64), 0);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(amtp_buf_len(b), 0);
	amtp_buf_free(b);
}

static void
test_cstring(void **state)
{
	const uint8_t emb[] = { 'a', 0, 'b' };
	const uint8_t trail[] = { 'a', 'b', 0 };
	struct amtp_buf *b;
	char *s = NULL;

	(void)state;
	b = amtp_buf_from(emb, sizeof(emb), 16);
	assert_int_equal(amtp_buf_get_cstring(b, 3, 1, &s), AMTP_E_EMBEDDED_NUL);
	assert_null(s);
	assert_int_equal(amtp_buf_len(b), 3);	/* nothing consumed */
	assert_int_equal(amtp_buf_dup_cstring(b, &s), AMTP_E_EMBEDDED_NUL);
	assert_int_equal(amtp_buf_get_cstring(b, 4, 1, &s), AMTP_E_INCOMPLETE);
	amtp_buf_free(b);

	b = amtp_buf_from(trail, sizeof(trail), 16);
	assert_int_equal(amtp_buf_get_cstring(b, 3, 0, &s), AMTP_E_EMBEDDED_NUL);
	assert_int_equal(amtp_buf_get_cstring(b, 3, 1, &s), 0);
	assert_string_equal(s, "ab");
	assert_int_equal(amtp_buf_len(b), 0);
	free(s);
	amtp_buf_free(b);

	b = amtp_buf_new(16);
	assert_int_equal(amtp_buf_put_cstring(b, "hello"), 0);
	assert_int_equal(amtp_buf_put_cstring(b, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_buf_dup_cstring(b, &s), 0);
	assert_string_equal(s, "hello");
	free(s);
	amtp_buf_free(b);
}

static void
test_growth_and_peek(void **state)
{
	struct amtp_buf *b = amtp_buf_new(100000);
	uint8_t x[7] = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < 10000; i++)
		assert_int_equal(amtp_buf_put_u32le(b, (uint32_t)i), 0);
	assert_int_equal(amtp_buf_len(b), 40000);
	assert_int_equal(amtp_buf_consume(b, 39996), 0);
	assert_int_equal(amtp_buf_peek(b, 0, x, 4), 0);
	assert_int_equal(x[0] | x[1] << 8, 9999);
	assert_int_equal(amtp_buf_peek(b, 1, x, 4), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_peek(b, 5, x, 0), AMTP_E_INCOMPLETE);
	assert_int_equal(amtp_buf_put_zero(b, 3), 0);
	assert_int_equal(amtp_buf_get(b, x, 7), 0);
	assert_int_equal(x[6], 0);
	amtp_buf_free(b);
}

/* A temporary file left at PATH.tmp.PID (mode 0644) or a symbolic link
 * planted there: the write must not keep the old mode nor follow the link
 * (review 2026-11-28: secrets were written into a 0644 file). */
static void
test_stale_temp(const char *dir)
{
	char path[256], tmp[300], victim[256];
	struct amtp_buf *b = NULL;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/secret", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_non_null(f = fopen(tmp, "w"));
	assert_int_equal(fputs("old", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(tmp, 0644), 0);
	assert_int_equal(amtp_write_file_atomic(path, "s3cret", 6, 0600, 1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_non_null(f = fopen(victim, "w"));
	assert_int_equal(fputs("keep", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(amtp_write_file_atomic(path, "s3cret2", 7, 0600, 1),
	    0);
	assert_int_equal(amtp_buf_load_file(victim, 10, &b), 0);
	assert_string_equal(amtp_buf_str(b), "keep");
	amtp_buf_free(b);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(unlink(victim), 0);
	assert_int_equal(unlink(path), 0);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/amtp-buf-XXXXXX", path[256];
	struct amtp_buf *b = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(amtp_buf_load_file(path, 10, &b), AMTP_E_NOTFOUND);
	assert_null(b);
	assert_int_equal(amtp_write_file_atomic(path, "0123456789", 10, 0600, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(amtp_buf_load_file(path, 9, &b), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_load_file(path, 10, &b), 0);
	assert_string_equal(amtp_buf_str(b), "0123456789");
	amtp_buf_free(b);
	assert_int_equal(amtp_write_file_atomic(path, "x", 1, 0644, 1), 0);
	assert_int_equal(amtp_buf_load_file(path, 10, &b), 0);
	assert_string_equal(amtp_buf_str(b), "x");
	amtp_buf_free(b);
	assert_int_equal(amtp_buf_load_file(dir, 10, &b), AMTP_E_INVAL);
	test_stale_temp(dir);
	snprintf(path, sizeof(path), "%s/nodir/f", dir);
	assert_int_equal(amtp_write_file_atomic(path, "x", 1, 0600, 0), AMTP_E_IO);
	/* a FIFO is refused at once, never waited on */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(amtp_buf_load_file(path, 10, &b), AMTP_E_INVAL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_bounds),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_integers_le),
		cmocka_unit_test(test_cstring),
		cmocka_unit_test(test_growth_and_peek),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
