/*
 * amtprov - enroll/signer.c: the CA key process (signer_main) and the client
 * side used by the enroll role (amtp_signer_*).
 *
 * The signer answers a fixed table of requests (after OpenSSH's monitor
 * dispatch table); anything else ends it: signer_main returns -1 and the
 * process exits without answering.  It never sees a device's bytes:
 * the enroll role parses and checks CSRs, and sends only names and a public
 * key in the form of signer.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"

#include "enroll/ca.h"
#include "enroll/signer.h"

struct amtp_signer {
	int		 fd;	/* remote: the channel; -1 when local */
	struct amtp_ca	*ca;	/* local: borrowed */
};

/* ---- request encoding ---------------------------------------------- */

static int
put_str(struct amtp_buf *b, const char *s)
{
	size_t n;
	int r;

	if (s == NULL || (n = strlen(s)) == 0 || n > AMTP_DNS_NAME_MAX)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_put_u16le(b, (uint16_t)n)) != 0)
		return r;
	return amtp_buf_put(b, s, n);
}

static int
get_str(struct amtp_buf *b, char *dst, size_t dstsz)
{
	uint16_t n;

	if (amtp_buf_get_u16le(b, &n) != 0 || n == 0 || n >= dstsz ||
	    n > AMTP_DNS_NAME_MAX)
		return AMTP_E_PROTO;
	if (amtp_buf_get(b, dst, n) != 0)
		return AMTP_E_PROTO;
	dst[n] = '\0';
	if (memchr(dst, '\0', n) != NULL)
		return AMTP_E_PROTO;
	return 0;
}

int
amtp_signer_encode_req(const struct amtp_ca_req *req, struct amtp_buf *b)
{
	unsigned char *der = NULL;
	size_t i;
	int len, r;

	if (req == NULL || req->pub == NULL || req->ndns > AMTP_CA_NAMES_MAX ||
	    req->nips > AMTP_CA_NAMES_MAX ||
	    (unsigned)req->profile >= AMTP_CA_PROFILE__MAX)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_put_u8(b, (uint8_t)req->profile)) != 0 ||
	    (r = amtp_buf_put_u8(b, (uint8_t)req->ndns)) != 0 ||
	    (r = amtp_buf_put_u8(b, (uint8_t)req->nips)) != 0 ||
	    (r = put_str(b, req->cn)) != 0)
		return r;
	for (i = 0; i < req->ndns; i++)
		if ((r = put_str(b, req->dns[i])) != 0)
			return r;
	for (i = 0; i < req->nips; i++)
		if ((r = put_str(b, req->ips[i])) != 0)
			return r;
	if ((len = req->spki != NULL ? i2d_X509_PUBKEY(req->spki, &der) :
	    i2d_PUBKEY(req->pub, &der)) <= 0) {
		ERR_clear_error();
		return AMTP_E_CRYPTO;
	}
	if ((r = amtp_buf_put_u32le(b, (uint32_t)len)) == 0)
		r = amtp_buf_put(b, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

int
amtp_signer_decode_req(struct amtp_buf *b, struct amtp_signer_names *names,
    struct amtp_ca_req *req)
{
	const unsigned char *p;
	uint8_t profile, ndns, nips;
	uint32_t len;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (amtp_buf_get_u8(b, &profile) != 0 ||
	    amtp_buf_get_u8(b, &ndns) != 0 || amtp_buf_get_u8(b, &nips) != 0 ||
	    profile >= AMTP_CA_PROFILE__MAX || ndns > AMTP_CA_NAMES_MAX ||
	    nips > AMTP_CA_NAMES_MAX)
		return AMTP_E_PROTO;
	if (get_str(b, names->cn, sizeof(names->cn)) != 0)
		return AMTP_E_PROTO;
	for (i = 0; i < ndns; i++) {
		if (get_str(b, names->dns[i], sizeof(names->dns[i])) != 0)
			return AMTP_E_PROTO;
		req->dns[i] = names->dns[i];
	}
	for (i = 0; i < nips; i++) {
		if (get_str(b, names->ips[i], sizeof(names->ips[i])) != 0)
			return AMTP_E_PROTO;
		req->ips[i] = names->ips[i];
	}
	if (amtp_buf_get_u32le(b, &len) != 0 || len == 0 ||
	    len != amtp_buf_len(b))
		return AMTP_E_PROTO;
	p = amtp_buf_ptr(b);
	if ((req->pub = d2i_PUBKEY(NULL, &p, (long)len)) == NULL ||
	    p != amtp_buf_ptr(b) + len) {
		ERR_clear_error();
		EVP_PKEY_free(req->pub);
		req->pub = NULL;
		return AMTP_E_PROTO;
	}
	(void)amtp_buf_consume(b, len);
	req->profile = (enum amtp_ca_profile)profile;
	req->cn = names->cn;
	req->ndns = ndns;
	req->nips = nips;
	return 0;
}

/* ---- the signer process -------------------------------------------- */

#define REQ_PERMITTED	0x01	/* may be asked at all */

struct signer_req {
	uint32_t	type;
	unsigned	flags;
	int		(*answer)(int, struct amtp_ca *, struct amtp_buf *);
};

static int
send_error(int fd, int code)
{
	uint8_t b[4];
	uint32_t v = (uint32_t)code;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
	return amtp_ipc_send(fd, AMTP_IPC_SIGNER_ERROR, b, sizeof(b));
}

static int
answer_sign(int fd, struct amtp_ca *ca, struct amtp_buf *in)
{
	struct amtp_signer_names names;
	struct amtp_ca_req req;
	unsigned char *der = NULL;
	X509 *cert = NULL;
	int len, r;

	if ((r = amtp_signer_decode_req(in, &names, &req)) != 0) {
		log_warnx("signer: malformed sign request");
		return AMTP_E_PROTO;
	}
	if ((r = amtp_ca_sign(ca, &req, &cert)) != 0) {
		log_warn_r(r, "signer: %s certificate refused",
		    amtp_ca_profile_name(req.profile));
		r = send_error(fd, r);
		goto out;
	}
	if ((len = i2d_X509(cert, &der)) <= 0) {
		r = send_error(fd, AMTP_E_CRYPTO);
		goto out;
	}
	r = amtp_ipc_send(fd, AMTP_IPC_SIGNER_CERT, der, (size_t)len);
 out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(req.pub);
	return r;
}

static int
answer_chain(int fd, struct amtp_ca *ca, struct amtp_buf *in)
{
	STACK_OF(X509) *sk = NULL;
	struct amtp_buf *b = NULL;
	int r;

	if (amtp_buf_len(in) != 0) {
		log_warnx("signer: chain request with a payload");
		return AMTP_E_PROTO;
	}
	if ((r = amtp_ca_chain(ca, &sk)) != 0)
		return send_error(fd, r);
	if ((b = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL) {
		r = send_error(fd, AMTP_E_NOMEM);
		goto out;
	}
	if ((r = amtp_pki_chain_to_pem(sk, b)) != 0) {
		r = send_error(fd, r);
		goto out;
	}
	r = amtp_ipc_send(fd, AMTP_IPC_SIGNER_CHAIN_PEM, amtp_buf_ptr(b),
	    amtp_buf_len(b));
 out:
	amtp_buf_free(b);
	amtp_pki_chain_free(sk);
	return r;
}

/* The fixed table of requests the signer answers. */
static const struct signer_req signer_reqs[] = {
	{ AMTP_IPC_SIGNER_SIGN,		REQ_PERMITTED,	answer_sign },
	{ AMTP_IPC_SIGNER_CHAIN,	REQ_PERMITTED,	answer_chain },
};

int
signer_main(int fd, struct amtp_ca *ca)
{
	struct amtp_buf *in = NULL;
	uint32_t type;
	size_t i;
	int r;

	for (;;) {
		r = amtp_ipc_recv(fd, AMTP_IPC_FRAME_MAX, AMTP_IPC_SIGNER__MAX,
		    &type, &in);
		if (r == AMTP_E_CLOSED)
			return 0;
		if (r != 0) {
			log_warn_r(r, "signer: bad internal framing");
			return -1;
		}
		for (i = 0; i < sizeof(signer_reqs) / sizeof(signer_reqs[0]);
		    i++)
			if (signer_reqs[i].type == type)
				break;
		if (i == sizeof(signer_reqs) / sizeof(signer_reqs[0]) ||
		    !(signer_reqs[i].flags & REQ_PERMITTED)) {
			log_warnx("signer: unpermitted request %u", type);
			amtp_buf_free(in);
			return -1;
		}
		r = signer_reqs[i].answer(fd, ca, in);
		amtp_buf_free(in);
		in = NULL;
		if (r == AMTP_E_CLOSED)
			return 0;
		if (r != 0) {
			if (r != AMTP_E_PROTO)
				log_warn_r(r, "signer: answer");
			return -1;
		}
	}
}

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#endif

/*
 * Landlock: no filesystem access at all (every right handled, no rule).
 * A kernel without Landlock is not an error (the other steps still hold);
 * a kernel that has it and refuses is.
 */
static int
landlock_nofs(void)
{
	struct landlock_ruleset_attr attr;
	long abi;
	int fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
	    0)) < 0)
		return -1;
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	return 0;
}

/*
 * Narrowing the signer: it keeps only its channel (as fd 3) and stderr,
 * cannot be traced or dumped by processes of the same user (the key stays
 * out of core files), cannot gain privileges, and has no filesystem access
 * (Landlock, where the kernel has it).
 * TODO drop to an unprivileged user and add a seccomp filter (read, write,
 * memory, getrandom, exit) once the program's main decides the user and
 * the sanitizer builds allow it.
 */
int
amtp_signer_narrow(int *fd)
{
	struct rlimit rl = { 0, 0 };

	if (*fd != 3) {
		if (dup2(*fd, 3) == -1)
			return -1;
		(void)close(*fd);
		*fd = 3;
	}
	if (close_range(4, ~0U, 0) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_CORE, &rl) == -1 || landlock_nofs() != 0)
		return -1;
	return 0;
}

int
amtp_signer_spawn(struct amtp_ca *ca, pid_t *pid, int *fd)
{
	int sv[2];
	pid_t p;

	*pid = -1;
	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return AMTP_E_IO;
	if ((p = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return AMTP_E_IO;
	}
	if (p == 0) {
		close(sv[0]);
		if (amtp_signer_narrow(&sv[1]) != 0)
			_exit(1);
		_exit(signer_main(sv[1], ca) == 0 ? 0 : 1);
	}
	close(sv[1]);
	*pid = p;
	*fd = sv[0];
	return 0;
}

/* ---- the client side ------------------------------------------------ */

int
amtp_signer_remote(int fd, struct amtp_signer **out)
{
	struct amtp_signer *s;

	*out = NULL;
	if (fd < 0)
		return AMTP_E_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return AMTP_E_NOMEM;
	s->fd = fd;
	*out = s;
	return 0;
}

int
amtp_signer_local(struct amtp_ca *ca, struct amtp_signer **out)
{
	struct amtp_signer *s;

	*out = NULL;
	if (ca == NULL)
		return AMTP_E_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return AMTP_E_NOMEM;
	s->fd = -1;
	s->ca = ca;
	*out = s;
	return 0;
}

void
amtp_signer_free(struct amtp_signer *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		(void)close(s->fd);
	free(s);
}

/* Sends a request and reads its answer: want, or an error frame. */
static int
roundtrip(struct amtp_signer *s, uint32_t type, struct amtp_buf *req,
    uint32_t want, struct amtp_buf **ans)
{
	struct amtp_buf *b = NULL;
	uint32_t t, code;
	int r;

	*ans = NULL;
	if ((r = amtp_ipc_send(s->fd, type, req ? amtp_buf_ptr(req) : NULL,
	    req ? amtp_buf_len(req) : 0)) != 0)
		return r;
	if ((r = amtp_ipc_recv(s->fd, AMTP_IPC_FRAME_MAX, AMTP_IPC_SIGNER__MAX,
	    &t, &b)) != 0)
		return r;
	if (t == AMTP_IPC_SIGNER_ERROR) {
		r = AMTP_E_PROTO;
		if (amtp_buf_get_u32le(b, &code) == 0 &&
		    amtp_buf_len(b) == 0 && (int32_t)code < 0 &&
		    (int32_t)code > AMTP_E__MAX)
			r = (int32_t)code;
		amtp_buf_free(b);
		return r;
	}
	if (t != want) {
		amtp_buf_free(b);
		return AMTP_E_PROTO;
	}
	*ans = b;
	return 0;
}

int
amtp_signer_sign(struct amtp_signer *s, const struct amtp_ca_req *req,
    X509 **out)
{
	struct amtp_buf *b = NULL, *ans = NULL;
	const unsigned char *p;
	int r;

	*out = NULL;
	if (s->ca != NULL)
		return amtp_ca_sign(s->ca, req, out);
	if ((b = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_signer_encode_req(req, b)) != 0)
		goto out;
	if ((r = roundtrip(s, AMTP_IPC_SIGNER_SIGN, b, AMTP_IPC_SIGNER_CERT,
	    &ans)) != 0)
		goto out;
	p = amtp_buf_ptr(ans);
	r = AMTP_E_PROTO;
	if ((*out = d2i_X509(NULL, &p, (long)amtp_buf_len(ans))) == NULL)
		goto out;
	if (p != amtp_buf_ptr(ans) + amtp_buf_len(ans)) {
		X509_free(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
 out:
	ERR_clear_error();
	amtp_buf_free(ans);
	amtp_buf_free(b);
	return r;
}

int
amtp_signer_chain(struct amtp_signer *s, STACK_OF(X509) **out)
{
	struct amtp_buf *ans = NULL;
	int r;

	*out = NULL;
	if (s->ca != NULL)
		return amtp_ca_chain(s->ca, out);
	if ((r = roundtrip(s, AMTP_IPC_SIGNER_CHAIN, NULL,
	    AMTP_IPC_SIGNER_CHAIN_PEM, &ans)) != 0)
		return r;
	r = amtp_pki_chain_from_pem(amtp_buf_ptr(ans), amtp_buf_len(ans), out);
	if (r != 0)
		r = AMTP_E_PROTO;
	amtp_buf_free(ans);
	return r;
}
