/* Unit tests for src/amtsim/device.c: the state machine (every transition,
 * legal and illegal), the flash file (round trip, atomic save, corrupt and
 * truncated files), the provisioning period, sections and the hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <jansson.h>

#include "amtprov/amthi.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "device.h"
#include "loop.h"

struct fixture {
	char			 dir[64];
	struct amtsim_fleet_ctx	 ctx;
	int			 hooks;
	enum amtsim_state	 last_old, last_now;
};

static void
hook(struct amtsim_device *d, enum amtsim_state old, enum amtsim_state now,
    void *arg)
{
	struct fixture *f = arg;

	(void)d;
	f->hooks++;
	f->last_old = old;
	f->last_now = now;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-dev-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 0;
	f->ctx.prov_period = 3600;
	f->ctx.hook = hook;
	f->ctx.hook_arg = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct amtsim_device *
make(struct fixture *f, unsigned index, const char *version)
{
	struct amtsim_device_spec spec;
	struct amtsim_hash lab;
	struct amtsim_device *d = NULL;

	memset(&lab, 0, sizeof(lab));
	lab.algorithm = AMTP_AMT_HASH_SHA256;
	lab.is_active = 1;
	memset(lab.hash, 0x5a, 32);
	(void)snprintf(lab.name, sizeof(lab.name), "Lab Root");
	memset(&spec, 0, sizeof(spec));
	spec.index = index;
	spec.amt_version = version;
	spec.ipv4 = 0x7f140000u + index;
	spec.wireless = index % 2 == 0;
	spec.dhcp_dns_suffix = "fleet.example.test";
	spec.pki_dns_suffix = "fleet.example.test";
	spec.mebx_password = "Mebx!Pass1";
	spec.extra_hashes = &lab;
	spec.nextra = 1;
	assert_int_equal(amtsim_device_create(&spec, NULL, &d), 0);
	amtsim_device_set_ctx(d, &f->ctx);
	assert_int_equal(amtsim_device_save(d), 0);
	return d;
}

static struct amtsim_device *
reload(struct fixture *f, unsigned index)
{
	struct amtsim_device *d = NULL;
	char err[512];

	assert_int_equal(amtsim_device_load(&f->ctx, index, NULL, &d, err,
	    sizeof(err)), 0);
	return d;
}

/* The table itself: every (state, event) pair. */
static void
test_transition_table(void **state)
{
	static const int want[AMTSIM_STATE__MAX][AMTSIM_EV__MAX] = {
		/* START    STOP        EXPIRED     COMMIT       UNPROV */
		{ AMTSIM_IN, -1,        -1,         -1,          -1 },	/* PRE */
		{ -1,       AMTSIM_PRE, AMTSIM_PRE, AMTSIM_POST, AMTSIM_PRE }, /* IN */
		{ -1,       -1,         -1,         -1,          AMTSIM_PRE }, /* POST */
	};
	int s, e;

	(void)state;
	for (s = 0; s < AMTSIM_STATE__MAX; s++)
		for (e = 0; e < AMTSIM_EV__MAX; e++)
			assert_int_equal(amtsim_state_next(
			    (enum amtsim_state)s, (enum amtsim_event)e),
			    want[s][e]);
	assert_int_equal(amtsim_state_next(AMTSIM_PRE, AMTSIM_EV__MAX), -1);
}

/* Drives a device through every event from every state, checking the AMT
 * status, the state after it, what was saved and the hook. */
static void
test_transitions_applied(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d, *again;
	int s, e, next, hooks;
	uint32_t st;

	for (s = 0; s < AMTSIM_STATE__MAX; s++) {
		for (e = 0; e < AMTSIM_EV__MAX; e++) {
			d = make(f, 1, "11.8.50");
			/* reach state s the legal way */
			if (s >= AMTSIM_IN)
				assert_int_equal(amtsim_device_event(d,
				    AMTSIM_EV_START_CONFIG, 0), 0);
			if (s == AMTSIM_POST)
				assert_int_equal(amtsim_device_event(d,
				    AMTSIM_EV_COMMIT, AMTP_AMT_CONTROL_ACM), 0);
			assert_int_equal(d->state, s);
			memcpy(d->otp, "OneTimePass1", 12);
			d->otp_len = 12;
			hooks = f->hooks;
			next = amtsim_state_next((enum amtsim_state)s,
			    (enum amtsim_event)e);
			st = amtsim_device_event(d, (enum amtsim_event)e,
			    AMTP_AMT_CONTROL_ACM);
			again = reload(f, 1);
			if (next < 0) {
				assert_int_equal(st,
				    AMTP_AMT_STATUS_INVALID_AMT_MODE);
				assert_int_equal(d->state, s);
				assert_int_equal(again->state, s);
				assert_int_equal(f->hooks, hooks);
			} else {
				assert_int_equal(st, 0);
				assert_int_equal(d->state, next);
				assert_int_equal(again->state, next);
				assert_int_equal(f->hooks, hooks + 1);
				assert_int_equal(f->last_old, s);
				assert_int_equal(f->last_now, next);
				if (next == AMTSIM_PRE) {
					/* leaving IN/POST drops the OTP */
					assert_int_equal(again->otp_len, 0);
					assert_int_equal(again->control_mode,
					    0);
					assert_int_equal(again->prov_deadline,
					    0);
				}
				if (next == AMTSIM_IN)
					assert_true(again->prov_deadline >
					    (int64_t)time(NULL) + 3500);
				if (next == AMTSIM_POST)
					assert_int_equal(again->control_mode,
					    AMTP_AMT_CONTROL_ACM);
			}
			assert_int_equal(amtsim_device_net_active(again),
			    again->state != AMTSIM_PRE);
			amtsim_device_free(again);
			amtsim_device_free(d);
		}
	}
}

static void
test_commit_control_mode(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d = make(f, 1, "15.0.23");

	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0), 0);
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_COMMIT, 0),
	    AMTP_AMT_STATUS_INVALID_PARAMETER);
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_COMMIT, 3),
	    AMTP_AMT_STATUS_INVALID_PARAMETER);
	assert_int_equal(d->state, AMTSIM_IN);
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_COMMIT,
	    AMTP_AMT_CONTROL_CCM), 0);
	assert_int_equal(d->control_mode, AMTP_AMT_CONTROL_CCM);
	amtsim_device_free(d);
}

/* A failed flash write leaves the device as it was (the device's folder
 * is gone). */
static void
test_save_failure_keeps_state(void **state)
{
	struct fixture *f = *state;
	struct amtsim_fleet_ctx bad = f->ctx;
	struct amtsim_device *d = make(f, 1, "11.8.50");
	uint64_t writes = d->flash_writes;

	bad.dir = "/nonexistent/amtsim";
	amtsim_device_set_ctx(d, &bad);
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0),
	    AMTP_AMT_STATUS_INTERNAL_ERROR);
	assert_int_equal(d->state, AMTSIM_PRE);
	assert_int_equal(d->prov_deadline, 0);
	assert_int_equal(d->flash_writes, writes);
	assert_int_not_equal(amtsim_device_save(d), 0);
	amtsim_device_free(d);
}

static void
test_flash_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d = make(f, 7, "16.1.25"), *e;
	json_t *a, *b;

	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0), 0);
	memcpy(d->otp, "Abcdefgh12345678", 16);
	d->otp_len = 16;
	d->features.tls_enabled = 1;
	assert_int_equal(amtsim_device_save(d), 0);
	e = reload(f, 7);
	a = amtsim_device_to_json(d, 1);
	b = amtsim_device_to_json(e, 1);
	assert_true(json_equal(a, b));
	assert_memory_equal(d->uuid, e->uuid, 16);
	assert_int_equal(e->nhashes, 9);
	assert_true(e->hashes[8].is_active);
	assert_false(e->hashes[8].is_default);
	assert_string_equal(e->hashes[8].name, "Lab Root");
	assert_string_equal(e->otp, "Abcdefgh12345678");
	assert_int_equal(strncmp(e->realm, "Digest:", 7), 0);
	assert_int_equal(strlen(e->realm), 39);
	assert_int_equal(e->wireless, 0);
	assert_int_equal(e->caps.hash_table_max, 33);
	assert_non_null(amtsim_device_find_hash(e, AMTP_AMT_HASH_SHA256,
	    e->hashes[8].hash, 32));
	assert_null(amtsim_device_find_hash(e, AMTP_AMT_HASH_SHA384,
	    e->hashes[8].hash, 48));
	json_decref(a);
	json_decref(b);
	/* without secrets: redacted */
	a = amtsim_device_to_json(d, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "provisioning"), "otp")), "(redacted)");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "provisioning"), "mebx_password")), "(redacted)");
	json_decref(a);
	/* no fault knob: no "faults" in flash */
	a = amtsim_device_to_json(d, 1);
	assert_null(json_object_get(a, "faults"));
	json_decref(a);
	assert_int_equal(e->otp_mismatch, 0);
	amtsim_device_free(e);
	/* the otp_mismatch fault knob survives a save and a load */
	d->otp_mismatch = 1;
	assert_int_equal(amtsim_device_save(d), 0);
	e = reload(f, 7);
	assert_int_equal(e->otp_mismatch, 1);
	assert_string_equal(e->otp, "Abcdefgh12345678");
	amtsim_device_free(d);
	amtsim_device_free(e);
}

static void
test_unique_identity(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *a = make(f, 1, "11.8.50");
	struct amtsim_device *b = make(f, 2, "11.8.50");

	assert_memory_not_equal(a->uuid, b->uuid, 16);
	assert_string_not_equal(a->realm, b->realm);
	assert_memory_not_equal(a->mac_host, b->mac_host, 6);
	assert_string_not_equal(a->local_pass, b->local_pass);
	amtsim_device_free(a);
	amtsim_device_free(b);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Truncated at every 97th byte, emptied, garbage, wrong types: a clear
 * error naming the file, never a crash. */
/* A flash file cut inside a secret: the error (which amtsim logs) names the
 * place but never quotes the secret (jansson's "near '<token>'"). */
static void
test_parse_error_hides_secret(void **state)
{
	static const char *texts[] = {
		"{\"provisioning\": {\"otp\": \"Zq7SecretOtpValue",
		"{\"provisioning\": {\"otp\": Zq7SecretOtpValue}}",
		"{\"local_account\": {\"password\": \"Zq7Secret\x01\"}}",
	};
	struct amtsim_device *e = NULL;
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(amtsim_device_parse(NULL, 1, texts[i],
		    strlen(texts[i]), NULL, &e, err, sizeof(err)), AMTP_E_JSON);
		assert_null(e);
		assert_non_null(strstr(err, "not valid JSON"));
		assert_non_null(strstr(err, "column"));
		assert_null(strstr(err, "Zq7"));
	}
}

/* jansson frees through a wiping free once amtsim installs it; blocks made
 * before and after mix freely (json_dumps text is still free()d). */
static void
test_json_wipe_on_free(void **state)
{
	json_malloc_t m = NULL;
	json_free_t fr = NULL;
	json_t *before, *after;
	char *text;

	(void)state;
	before = json_pack("{s:s}", "otp", "Zq7SecretOtpValue");
	assert_non_null(before);
	amtsim_json_wipe_on_free();
	json_get_alloc_funcs(&m, &fr);
	assert_ptr_equal(m, malloc);
	assert_non_null(fr);
	assert_ptr_not_equal(fr, free);
	after = json_pack("{s:s}", "password", "Zq7P@ssw0rd");
	assert_non_null(after);
	assert_int_equal(json_object_update(after, before), 0);
	json_decref(before);
	text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text,
	    "{\"otp\":\"Zq7SecretOtpValue\",\"password\":\"Zq7P@ssw0rd\"}");
	free(text);
	json_decref(after);
}

static void
test_corrupt_flash(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d = make(f, 3, "11.8.50"), *e = NULL;
	char path[256], err[1024], *text;
	json_t *o;
	size_t len, cut;

	assert_int_equal(amtsim_device_flash_path(f->dir, 3, path,
	    sizeof(path)), 0);
	o = amtsim_device_to_json(d, 1);
	text = json_dumps(o, JSON_INDENT(1));
	len = strlen(text);
	for (cut = 0; cut < len; cut += 97) {
		write_file(path, text, cut);
		assert_int_not_equal(amtsim_device_load(&f->ctx, 3, NULL, &e,
		    err, sizeof(err)), 0);
		assert_null(e);
		assert_non_null(strstr(err, path));
	}
	write_file(path, "{\"format\": 1}", 13);
	assert_int_equal(amtsim_device_load(&f->ctx, 3, NULL, &e, err,
	    sizeof(err)), AMTP_E_PARSE);
	assert_non_null(strstr(err, "format"));
	/* a wrong type deep inside */
	json_object_set_new(json_object_get(o, "provisioning"), "state",
	    json_string("halfway"));
	free(text);
	text = json_dumps(o, 0);
	write_file(path, text, strlen(text));
	assert_int_equal(amtsim_device_load(&f->ctx, 3, NULL, &e, err,
	    sizeof(err)), AMTP_E_PARSE);
	assert_non_null(strstr(err, "state"));
	/* another device's file */
	json_object_set_new(json_object_get(o, "provisioning"), "state",
	    json_string("pre"));
	json_object_set_new(o, "index", json_integer(4));
	free(text);
	text = json_dumps(o, 0);
	write_file(path, text, strlen(text));
	assert_int_equal(amtsim_device_load(&f->ctx, 3, NULL, &e, err,
	    sizeof(err)), AMTP_E_PARSE);
	/* duplicate keys are refused */
	write_file(path, "{\"format\":\"amtsim-flash-1\",\"format\":\"x\"}", 40);
	assert_int_equal(amtsim_device_load(&f->ctx, 3, NULL, &e, err,
	    sizeof(err)), AMTP_E_JSON);
	/* missing */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(amtsim_device_load(&f->ctx, 3, NULL, &e, err,
	    sizeof(err)), AMTP_E_NOTFOUND);
	assert_non_null(strstr(err, path));
	/* and the good one loads again */
	assert_int_equal(amtsim_device_save(d), 0);
	e = reload(f, 3);
	amtsim_device_free(e);
	free(text);
	json_decref(o);
	amtsim_device_free(d);
}

/* Only whole files are ever seen: no temp file is left behind. */
static void
test_atomic_save_leaves_no_temp(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d = make(f, 5, "8.1.40");
	char cmd[256];
	int i;

	for (i = 0; i < 20; i++)
		assert_int_equal(amtsim_device_save(d), 0);
	(void)snprintf(cmd, sizeof(cmd), "test -z \"$(ls %s | grep tmp)\"",
	    f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(d->flash_writes, 21);
	assert_int_equal(d->caps.hash_table_max, 23);
	assert_int_equal(d->caps.local_account, 1);
	amtsim_device_free(d);
}

static void
test_versions(void **state)
{
	struct amtsim_device_spec spec;
	struct amtsim_device *d = NULL;
	static const char *bad[] = { "5.2.70", "11.8", "11.8.x", "", "100.0.0",
	    "11.8.50.1", "abc", "6.0.99999" };
	size_t i;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.dhcp_dns_suffix = "";
	spec.pki_dns_suffix = "";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec.amt_version = bad[i];
		assert_int_equal(amtsim_device_create(&spec, NULL, &d),
		    AMTP_E_RANGE);
		assert_null(d);
	}
	spec.amt_version = "6.0.30";
	assert_int_equal(amtsim_device_create(&spec, NULL, &d), 0);
	assert_int_equal(d->ver_major, 6);
	assert_int_equal(d->caps.local_account, 0);
	assert_string_equal(d->mebx_password, "admin");
	amtsim_device_free(d);
}

static void
test_ipv4(void **state)
{
	uint32_t ip;
	char t[32];

	(void)state;
	assert_int_equal(amtsim_ipv4_parse("127.20.0.255", &ip), 0);
	assert_int_equal(ip, 0x7f1400ffu);
	amtsim_ipv4_format(ip + 1, t, sizeof(t));
	assert_string_equal(t, "127.20.1.0");
	assert_int_equal(amtsim_ipv4_parse("127.20.0.256", &ip), AMTP_E_PARSE);
	assert_int_equal(amtsim_ipv4_parse("127.20.0", &ip), AMTP_E_PARSE);
	assert_int_equal(amtsim_ipv4_parse("127.20.0.1 ", &ip), AMTP_E_PARSE);
	assert_int_equal(amtsim_ipv4_parse("-1.0.0.1", &ip), AMTP_E_PARSE);
}

/* The provisioning period: an IN device falls back to PRE when it ends,
 * from the loop's timer. */
static void
test_period_timer(void **state)
{
	struct fixture *f = *state;
	struct amtsim_loop *loop = NULL;
	struct amtsim_device *d, *e;
	int i;

	assert_int_equal(amtsim_loop_new(&loop), 0);
	f->ctx.loop = loop;
	f->ctx.prov_period = 1;
	d = make(f, 1, "11.8.50");
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0), 0);
	assert_non_null(d->prov_timer);
	assert_true(amtsim_timer_armed(d->prov_timer));
	for (i = 0; i < 40 && d->state == AMTSIM_IN; i++)
		assert_int_equal(amtsim_loop_run_once(loop, 100), 0);
	assert_int_equal(d->state, AMTSIM_PRE);
	assert_int_equal(f->last_old, AMTSIM_IN);
	e = reload(f, 1);
	assert_int_equal(e->state, AMTSIM_PRE);
	amtsim_device_free(e);
	amtsim_device_free(d);
	f->ctx.loop = NULL;
	amtsim_loop_free(loop);
}

/* Sections: a registered one is loaded, saved and reset; an unknown one
 * is kept verbatim. */
struct counter {
	int n;
};

static int
ctr_load(struct amtsim_device *d, const json_t *obj, void **st, char *err,
    size_t errlen)
{
	struct counter *c = calloc(1, sizeof(*c));

	(void)d;
	(void)err;
	(void)errlen;
	if (c == NULL)
		return AMTP_E_NOMEM;
	if (obj != NULL)
		c->n = (int)json_integer_value(json_object_get(obj, "n"));
	*st = c;
	return 0;
}

static json_t *
ctr_save(const struct amtsim_device *d, const void *st)
{
	(void)d;
	return json_pack("{s:i}", "n", ((const struct counter *)st)->n);
}

static void
ctr_reset(struct amtsim_device *d, void *st)
{
	(void)d;
	((struct counter *)st)->n = 0;
}

static const struct amtsim_section_ops ctr_ops = {
	"test_counter", ctr_load, ctr_save, ctr_reset, free
};

static void
test_sections(void **state)
{
	struct fixture *f = *state;
	struct amtsim_device *d, *e;
	struct counter *c;
	char path[256], *text;
	json_t *o;
	int id;

	id = amtsim_section_register(&ctr_ops);
	assert_true(id >= 0);
	assert_int_equal(amtsim_section_register(&ctr_ops), AMTP_E_EXISTS);
	d = make(f, 2, "11.8.50");
	/* sections appear on load */
	e = reload(f, 2);
	c = amtsim_device_section(e, id);
	assert_non_null(c);
	assert_int_equal(c->n, 0);
	c->n = 42;
	assert_int_equal(amtsim_device_save(e), 0);
	amtsim_device_free(e);
	/* someone else's section in the file survives a load and save */
	assert_int_equal(amtsim_device_flash_path(f->dir, 2, path,
	    sizeof(path)), 0);
	e = reload(f, 2);
	o = amtsim_device_to_json(e, 1);
	json_object_set_new(json_object_get(o, "sections"), "wifi",
	    json_pack("{s:s}", "ssid", "lab"));
	text = json_dumps(o, 0);
	write_file(path, text, strlen(text));
	free(text);
	json_decref(o);
	amtsim_device_free(e);
	e = reload(f, 2);
	assert_int_equal(((struct counter *)amtsim_device_section(e, id))->n,
	    42);
	assert_int_equal(amtsim_device_save(e), 0);
	amtsim_device_free(e);
	e = reload(f, 2);
	o = amtsim_device_to_json(e, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "sections"), "wifi"), "ssid")), "lab");
	json_decref(o);
	/* secrets in sections (as the network side stores them) are shown
	 * only with secrets; the rest as stored */
	assert_int_equal(amtsim_device_flash_path(f->dir, 2, path,
	    sizeof(path)), 0);
	o = amtsim_device_to_json(e, 1);
	json_object_set_new(json_object_get(o, "sections"), "wifi",
	    json_pack("{s:s, s:{s:s, s:s}, s:[{s:i, s:s, s:s}], s:[{s:s}]}",
	    "ssid", "lab", "admin", "user", "admin", "ha1",
	    "8d5c7bdcab0a4ca5a4df2ef8a7a9d91f", "keys", "handle", 1, "key",
	    "-----BEGIN PRIVATE KEY-----", "pub", "MIIB", "profiles",
	    "PSKPassPhrase", "wifi-secret"));
	text = json_dumps(o, 0);
	write_file(path, text, strlen(text));
	free(text);
	json_decref(o);
	amtsim_device_free(e);
	e = reload(f, 2);
	o = amtsim_device_to_json(e, 0);
	text = json_dumps(o, 0);
	assert_null(strstr(text, "8d5c7bdc"));
	assert_null(strstr(text, "BEGIN PRIVATE KEY"));
	assert_null(strstr(text, "wifi-secret"));
	assert_non_null(strstr(text, "\"ha1\": \"(redacted)\""));
	assert_non_null(strstr(text, "\"pub\": \"MIIB\""));
	assert_non_null(strstr(text, "\"ssid\": \"lab\""));
	free(text);
	json_decref(o);
	o = amtsim_device_to_json(e, 1);
	text = json_dumps(o, 0);
	assert_non_null(strstr(text, "8d5c7bdcab0a4ca5a4df2ef8a7a9d91f"));
	assert_non_null(strstr(text, "BEGIN PRIVATE KEY"));
	assert_non_null(strstr(text, "wifi-secret"));
	free(text);
	json_decref(o);
	/* unprovision resets it */
	assert_int_equal(amtsim_device_event(e, AMTSIM_EV_START_CONFIG, 0), 0);
	assert_int_equal(amtsim_device_event(e, AMTSIM_EV_UNPROVISION, 0), 0);
	assert_int_equal(((struct counter *)amtsim_device_section(e, id))->n,
	    0);
	assert_null(amtsim_device_section(e, id + 1));
	amtsim_device_free(e);
	amtsim_device_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test_setup_teardown(test_transitions_applied,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_control_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_failure_keeps_state,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flash_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unique_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_flash, setup,
		    teardown),
		cmocka_unit_test(test_parse_error_hides_secret),
		cmocka_unit_test(test_json_wipe_on_free),
		cmocka_unit_test_setup_teardown(test_atomic_save_leaves_no_temp,
		    setup, teardown),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test_setup_teardown(test_period_timer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sections, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
