/*
 * amtprov - tests/unit/agent/fakefw.h: a small scripted AMT firmware for
 * the agent's unit tests: a thread serving one client on a SOCK_SEQPACKET
 * socket that mirrors /dev/mei0 (as amtsim's does), answering through the
 * shared AMTHI codec, with switches for error statuses, malformed replies,
 * stalls and a mid-exchange close.  Test code only: static functions,
 * included by tests/unit/agent/amt.c and run.c.
 */
#ifndef AMTP_TEST_FAKEFW_H
#define AMTP_TEST_FAKEFW_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"

struct fw {
	char		path[108];
	int		lfd;
	pthread_t	th;
	/* device */
	uint32_t	state, control;
	const char	*version;
	uint8_t		uuid[16];
	uint32_t	ipv4;
	int		wireless;
	char		otp[64];
	uint32_t	started_with;	/* command that activated */
	/* faults */
	int		refuse_guid;	/* close at the handshake */
	long		close_after;	/* answered requests before a cut */
	uint32_t	fail_cmd, fail_status;
	uint32_t	garble_cmd;	/* answer with another command code */
	uint32_t	stall_cmd;	/* never answer */
	long		answered;
};

static __attribute__((unused)) void
answer(struct fw *f, const struct amtp_amthi_req *q,
    struct amtp_amthi_resp *p)
{
	struct amtp_amthi_version *v;

	amtp_amthi_resp_init(p, q->command, AMTP_AMT_STATUS_SUCCESS);
	switch (q->command) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		p->u.provisioning_state = f->state;
		break;
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		amtp_strlcpy(p->u.code_versions.bios, "BIOS 1.2",
		    sizeof(p->u.code_versions.bios));
		v = p->u.code_versions.v;
		amtp_strlcpy(v[0].desc, "Flash", sizeof(v[0].desc));
		amtp_strlcpy(v[0].ver, f->version, sizeof(v[0].ver));
		amtp_strlcpy(v[1].desc, "AMT", sizeof(v[1].desc));
		amtp_strlcpy(v[1].ver, f->version, sizeof(v[1].ver));
		amtp_strlcpy(v[2].desc, "Build Number", sizeof(v[2].desc));
		amtp_strlcpy(v[2].ver, "3425", sizeof(v[2].ver));
		amtp_strlcpy(v[3].desc, "Sku", sizeof(v[3].desc));
		amtp_strlcpy(v[3].ver, "16392", sizeof(v[3].ver));
		p->u.code_versions.count = 4;
		break;
	case AMTP_AMTHI_GET_UUID:
		memcpy(p->u.uuid, f->uuid, 16);
		break;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		p->u.dns_suffix.len = amtp_strlcpy(p->u.dns_suffix.s,
		    "fleet.example.test", sizeof(p->u.dns_suffix.s));
		break;
	case AMTP_AMTHI_GET_CONTROL_MODE:
		p->u.control_mode = f->control;
		break;
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		if (q->arg == 1 && !f->wireless) {
			p->status = AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST;
			break;
		}
		p->u.lan.enabled = 1;
		p->u.lan.ipv4 = q->arg == 0 ? f->ipv4 : 0;
		p->u.lan.mac[5] = 7;
		break;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		p->u.hash_handles.count = 3;
		p->u.hash_handles.handles[0] = 1;
		p->u.hash_handles.handles[1] = 2;
		p->u.hash_handles.handles[2] = 3;
		break;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		p->u.hash_entry.is_active = 1;
		p->u.hash_entry.is_default = q->arg != 3;
		p->u.hash_entry.algorithm = q->arg == 1 ? AMTP_AMT_HASH_SHA256 :
		    q->arg == 2 ? AMTP_AMT_HASH_MD5 : AMTP_AMT_HASH_SHA384;
		memset(p->u.hash_entry.hash, (int)q->arg, 64);
		snprintf(p->u.hash_entry.name, sizeof(p->u.hash_entry.name),
		    "Root %u\x01", q->arg);
		break;
	case AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP:
		memcpy(f->otp, q->str, q->str_len);
		f->otp[q->str_len] = '\0';
		break;
	case AMTP_AMTHI_START_CONFIGURATION:
	case AMTP_AMTHI_START_CONFIGURATION_EX:
		if (f->state != AMTP_AMT_STATE_PRE) {
			p->status = AMTP_AMT_STATUS_INVALID_AMT_MODE;
			break;
		}
		f->state = AMTP_AMT_STATE_IN;
		f->started_with = q->command;
		break;
	default:
		p->status = AMTP_AMT_STATUS_INVALID_COMMAND;
	}
	if (q->command == f->fail_cmd)
		p->status = f->fail_status;
}

static __attribute__((unused)) void *
fw_main(void *arg)
{
	struct fw *f = arg;
	struct amtp_amthi_req q;
	struct amtp_amthi_resp p;
	struct amtp_buf *out = amtp_buf_new(AMTP_MEI_MSG_CAP);
	uint8_t in[AMTP_MEI_MSG_CAP], hello[8] = { 0x40, 0x10, 0, 0, 1 };
	uint32_t st;
	ssize_t n;
	int cfd;

	if ((cfd = accept(f->lfd, NULL, NULL)) == -1)
		goto out;
	if (recv(cfd, in, sizeof(in), 0) != 16 || f->refuse_guid ||
	    memcmp(in, amtp_mei_guid_amthi, 16) != 0)
		goto done;
	if (send(cfd, hello, sizeof(hello), 0) != sizeof(hello))
		goto done;
	while ((n = recv(cfd, in, sizeof(in), 0)) > 0) {
		if (f->close_after >= 0 && f->answered >= f->close_after)
			break;
		if (amtp_amthi_req_decode(in, (size_t)n, &q, &st) != 0)
			break;
		if (q.command == f->stall_cmd) {
			sleep(1);
			break;
		}
		answer(f, &q, &p);
		if (q.command == f->garble_cmd)
			p.command = AMTP_AMTHI_GET_UUID;
		amtp_buf_reset(out);
		if (amtp_amthi_resp_encode(&p, out) != 0)
			break;
		if (send(cfd, amtp_buf_ptr(out), amtp_buf_len(out), 0) !=
		    (ssize_t)amtp_buf_len(out))
			break;
		f->answered++;
	}
 done:
	close(cfd);
 out:
	amtp_buf_free(out);
	return NULL;
}

static __attribute__((unused)) int
fw_setup(void **state)
{
	struct fw *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun;
	int i;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/amtp_agent_fw.%d.mei",
	    (int)getpid());
	unlink(f->path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->state = AMTP_AMT_STATE_PRE;
	f->version = "11.8.50";
	for (i = 0; i < 16; i++)
		f->uuid[i] = (uint8_t)i;
	f->ipv4 = 0x7f140005;	/* 127.20.0.5 */
	f->close_after = -1;
	assert_int_equal(pthread_create(&f->th, NULL, fw_main, f), 0);
	*state = f;
	return 0;
}

static __attribute__((unused)) int
fw_teardown(void **state)
{
	struct fw *f = *state;

	struct sockaddr_un sun;
	int fd;

	/* wake an accept() still waiting: one connection that says nothing */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->path);
	free(f);
	return 0;
}

static __attribute__((unused)) struct amtp_mei *
open_fw(struct fw *f, int timeout_ms)
{
	struct amtp_mei *m = NULL;
	struct agent_err e;
	char uri[128];

	snprintf(uri, sizeof(uri), "unix:%s", f->path);
	agent_err_init(&e);
	assert_int_equal(agent_amt_open(uri, timeout_ms, &m, &e), 0);
	return m;
}

#endif
