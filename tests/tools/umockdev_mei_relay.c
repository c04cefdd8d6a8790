/*
 * amtprov - tests/tools/umockdev_mei_relay.c: a /dev/mei0 for machines
 * without the MEI driver, backed by an amtsim device (test tool; the
 * integration tests tests/integration/mei_umockdev*.sh and agent_*.sh run
 * it).
 *
 * Mode 1 (umockdev):
 *	umockdev_mei_relay --sim DIR/0001.mei [--close-after N] -- CMD ARGS...
 * makes a umockdev testbed with a character device /dev/mei0 (242:0) whose
 * ioctl, write and read handlers relay to the amtsim device's MEI socket,
 * then runs CMD with libumockdev-preload in LD_PRELOAD, so that CMD's own
 * open("/dev/mei0"), IOCTL_MEI_CONNECT_CLIENT, write() and read() run
 * unchanged against the simulator (docs/agent.md; the recipe and its
 * pitfalls are in the umockdev notes).  Exits with CMD's exit status.
 *
 * Mode 2 (socket proxy):
 *	umockdev_mei_relay --sim DIR/0001.mei --proxy PATH [--close-after N]
 * listens on PATH (SOCK_SEQPACKET, like amtsim) and relays each client to
 * the device, until SIGTERM.
 *
 * --refuse: the AMTHI connect is refused, as on a machine whose firmware
 * has no AMTHI client (AMT disabled): ENOTTY from the ioctl, a close at
 * the socket's handshake.
 *
 * --close-after N: after N requests have been answered, the next request
 * is taken and the device connection is then cut, as a firmware reset or a
 * simulator that dies mid-exchange would (the driver then fails the read
 * with ENODEV; the socket reads end of file).  amtsim itself has no such
 * fault switch.
 *
 * Request/response only: one answer follows each request, so the relay
 * waits for it in a helper thread (never in umockdev's handler thread,
 * which serves every client).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/mei.h>

#include <umockdev.h>

#define HELLO_LEN	8		/* struct mei_client */
#define GUID_LEN	16
#define MSG_MAX		65536

static const char *sim_path;
static long close_after = -1;		/* requests answered before the cut */
static int refuse;			/* no AMTHI client */
static const char *progname = "umockdev_mei_relay";

/* One open of /dev/mei0, or one proxied client. */
struct conn {
	int		fd;		/* to the amtsim device, -1 when cut */
	long		answered;
	int		cut;		/* the next read fails */
	GMutex		mu;
};

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int
sim_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sim_path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, sim_path, strlen(sim_path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The handshake: GUID out, 8 bytes back (or a close: no such client). */
static int
sim_hello(int fd, const uint8_t *guid, uint8_t *hello)
{
	ssize_t n;

	if (send(fd, guid, GUID_LEN, MSG_NOSIGNAL) != GUID_LEN)
		return -1;
	do {
		n = recv(fd, hello, HELLO_LEN, 0);
	} while (n == -1 && errno == EINTR);
	return n == HELLO_LEN ? 0 : -1;
}

static void
conn_cut(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->cut = 1;
}

static void
conn_free(gpointer p)
{
	struct conn *c = p;

	if (c->fd != -1)
		close(c->fd);
	g_mutex_clear(&c->mu);
	g_free(c);
}

/* ------------------------------------------------------------------ */
/* Mode 1: umockdev handlers                                            */
/* ------------------------------------------------------------------ */

static struct conn *
conn_of(UMockdevIoctlClient *client)
{
	return g_object_get_data(G_OBJECT(client), "mei-conn");
}

static void
on_connected(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct conn *c = g_new0(struct conn, 1);

	(void)h;
	(void)ud;
	c->fd = -1;
	g_mutex_init(&c->mu);
	g_object_set_data_full(G_OBJECT(client), "mei-conn", c, conn_free);
}

static gboolean
on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct conn *c = conn_of(client);
	UMockdevIoctlData *arg, *data;
	uint8_t hello[HELLO_LEN];
	GError *err = NULL;

	(void)h;
	(void)ud;
	if (c == NULL || umockdev_ioctl_client_get_request(client) !=
	    (gulong)IOCTL_MEI_CONNECT_CLIENT) {
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
		return TRUE;
	}
	arg = umockdev_ioctl_client_get_arg(client);
	data = umockdev_ioctl_data_resolve(arg, 0,
	    sizeof(struct mei_connect_client_data), &err);
	if (data == NULL) {
		g_clear_error(&err);
		umockdev_ioctl_client_complete(client, -1, EFAULT);
		return TRUE;
	}
	g_mutex_lock(&c->mu);
	if (c->fd != -1) {
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, EBUSY);
		return TRUE;
	}
	if (refuse) {
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
		return TRUE;
	}
	/* the simulator answers at once: a short blocking wait here */
	if ((c->fd = sim_connect()) == -1) {
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return TRUE;
	}
	if (sim_hello(c->fd, data->data, hello) != 0) {
		conn_cut(c);
		g_mutex_unlock(&c->mu);
		/* what the driver says for a client the firmware lacks */
		umockdev_ioctl_client_complete(client, -1, ENOTTY);
		return TRUE;
	}
	g_mutex_unlock(&c->mu);
	memset(data->data, 0, sizeof(struct mei_connect_client_data));
	memcpy(data->data, hello, HELLO_LEN);
	umockdev_ioctl_client_complete(client, 0, 0);
	return TRUE;
}

static gboolean
on_write(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct conn *c = conn_of(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	ssize_t n;

	(void)h;
	(void)ud;
	g_mutex_lock(&c->mu);
	if (c->fd == -1) {
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return TRUE;
	}
	if (close_after >= 0 && c->answered >= close_after) {
		/* taken, then the device goes away before answering */
		conn_cut(c);
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, arg->data_len, 0);
		return TRUE;
	}
	n = send(c->fd, arg->data, (size_t)arg->data_len, MSG_NOSIGNAL);
	g_mutex_unlock(&c->mu);
	if (n != arg->data_len)
		umockdev_ioctl_client_complete(client, -1, EIO);
	else
		umockdev_ioctl_client_complete(client, n, 0);
	return TRUE;
}

/* Waits for the simulator's answer off the handler thread. */
static gpointer
read_thread(gpointer p)
{
	UMockdevIoctlClient *client = p;
	struct conn *c = conn_of(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	uint8_t *buf = g_malloc(MSG_MAX);
	ssize_t n = -1;
	int fd;

	g_mutex_lock(&c->mu);
	fd = c->fd;
	g_mutex_unlock(&c->mu);
	if (fd != -1) {
		do {
			n = recv(fd, buf, MSG_MAX, MSG_TRUNC);
		} while (n == -1 && errno == EINTR);
	}
	if (n <= 0) {
		g_mutex_lock(&c->mu);
		conn_cut(c);
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
	} else if (n > arg->data_len || n > MSG_MAX) {
		umockdev_ioctl_client_complete(client, -1, EMSGSIZE);
	} else {
		memcpy(arg->data, buf, (size_t)n);
		g_mutex_lock(&c->mu);
		c->answered++;
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, n, 0);
	}
	g_free(buf);
	g_object_unref(client);
	return NULL;
}

static gboolean
on_read(UMockdevIoctlBase *h, UMockdevIoctlClient *client, gpointer ud)
{
	struct conn *c = conn_of(client);
	GThread *t;

	(void)h;
	(void)ud;
	g_mutex_lock(&c->mu);
	if (c->fd == -1) {
		g_mutex_unlock(&c->mu);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return TRUE;
	}
	g_mutex_unlock(&c->mu);
	g_object_ref(client);
	t = g_thread_new("mei-read", read_thread, client);
	g_thread_unref(t);
	return TRUE;
}

static int
run_umockdev(char **cmd)
{
	UMockdevTestbed *tb;
	UMockdevIoctlBase *h;
	GError *err = NULL;
	const char *asan;
	char *asan_opts;
	pid_t pid;
	int st;

	tb = umockdev_testbed_new();
	if (!umockdev_testbed_add_from_string(tb,
	    "P: /devices/virtual/mei/mei0\nN: mei0\nE: SUBSYSTEM=mei\n"
	    "E: DEVNAME=/dev/mei0\nA: dev=242:0\n", &err))
		die("testbed: %s", err->message);
	h = umockdev_ioctl_base_new();
	g_signal_connect(h, "client-connected", G_CALLBACK(on_connected),
	    NULL);
	g_signal_connect(h, "handle-ioctl", G_CALLBACK(on_ioctl), NULL);
	g_signal_connect(h, "handle-write", G_CALLBACK(on_write), NULL);
	g_signal_connect(h, "handle-read", G_CALLBACK(on_read), NULL);
	if (!umockdev_testbed_attach_ioctl(tb, "/dev/mei0", h, &err))
		die("attach: %s", err->message);

	/* an ASan-built CMD refuses to start with a preload ahead of its
	 * runtime unless told that this is fine */
	asan = getenv("ASAN_OPTIONS");
	asan_opts = g_strdup_printf("%s%sverify_asan_link_order=0",
	    asan != NULL ? asan : "", asan != NULL && *asan != '\0' ? ":" : "");
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setenv("LD_PRELOAD", "libumockdev-preload.so.0", 1);
		setenv("ASAN_OPTIONS", asan_opts, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "%s: %s: %s\n", progname, cmd[0],
		    strerror(errno));
		_exit(127);
	}
	g_free(asan_opts);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	g_object_unref(h);
	g_object_unref(tb);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "%s: %s killed by signal %d\n", progname, cmd[0],
	    WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------------ */
/* Mode 2: socket proxy                                                 */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Relays one client, message by message, until either side closes. */
static void
proxy_one(int cfd)
{
	struct conn c;
	uint8_t *buf = malloc(MSG_MAX);
	ssize_t n;
	int first = 1;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	if (buf == NULL)
		goto out;
	if (refuse) {
		/* as amtsim does for an unknown GUID: read it, then close */
		(void)recv(cfd, buf, MSG_MAX, 0);
		goto out;
	}
	if ((c.fd = sim_connect()) == -1)
		goto out;
	for (;;) {
		if ((n = recv(cfd, buf, MSG_MAX, 0)) <= 0)
			break;
		if (!first && close_after >= 0 && c.answered >= close_after)
			break;	/* taken; the device goes away */
		if (send(c.fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
		if ((n = recv(c.fd, buf, MSG_MAX, 0)) <= 0)
			break;
		if (send(cfd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
		if (!first)
			c.answered++;
		first = 0;
	}
 out:
	if (c.fd != -1)
		close(c.fd);
	free(buf);
}

static int
run_proxy(const char *path)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	int lfd, cfd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("%s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 8) == -1)
		die("listen: %s", strerror(errno));
	printf("%s: proxy ready on %s\n", progname, path);
	fflush(stdout);
	while (!stop) {
		if ((cfd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		proxy_one(cfd);
		close(cfd);
	}
	close(lfd);
	unlink(path);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *proxy = NULL;
	char *end;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sim") == 0 && i + 1 < argc)
			sim_path = argv[++i];
		else if (strcmp(argv[i], "--refuse") == 0)
			refuse = 1;
		else if (strcmp(argv[i], "--proxy") == 0 && i + 1 < argc)
			proxy = argv[++i];
		else if (strcmp(argv[i], "--close-after") == 0 && i + 1 < argc) {
			errno = 0;
			close_after = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || close_after < 0)
				die("--close-after: not a count: %s", argv[i]);
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			die("unknown argument %s (usage: --sim PATH "
			    "[--refuse] [--close-after N] (--proxy PATH | -- CMD ...))",
			    argv[i]);
	}
	if (sim_path == NULL)
		die("%s", "--sim PATH is required");
	if (strncmp(sim_path, "unix:", 5) == 0)
		sim_path += 5;
	if (proxy != NULL)
		return run_proxy(proxy);
	if (i >= argc)
		die("%s", "no command after --");
	return run_umockdev(argv + i);
}
