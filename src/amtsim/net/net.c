/*
 * amtprov - net.c: amtsim's network side: two libmicrohttpd daemons per
 * device (HTTP 16992, TLS 16993) on the device's own loopback address, all
 * driven by the fleet's one epoll loop (MHD_USE_EPOLL; each daemon's epoll
 * fd is watched by the loop and MHD_run() is called when it is ready, and
 * again from a timer when MHD_get_timeout() asks for it, so data GnuTLS
 * holds decrypted is never stranded - http-tls-notes 2.2).
 *
 * A device listens while its interface is active (IN, POST): the fleet's
 * state hook starts and stops its daemons.  A stop asked for from inside a
 * request (Unprovision, a reboot fault) is deferred by a short timer so
 * that the answer goes out first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
#include "device.h"
#include "fleet.h"
#include "loop.h"
#include "simnet.h"

/* Time an answer has to leave before a deferred stop (ms). */
#define STOP_GRACE_MS	200
/* Pre-authentication sweep period (ms). */
#define SWEEP_MS	1000

uint64_t
simnet_now_ms(void)
{
	return amtsim_loop_now_ms();
}

int
amtsim_net_init(void)
{
	return simnet_state_register();
}

/* ---- daemons ---- */

void
simnet_daemon_run(struct simnet_daemon *dm)
{
	MHD_UNSIGNED_LONG_LONG to;
	int i;

	if (dm->mhd == NULL)
		return;
	for (i = 0; i < 4; i++) {
		(void)MHD_run(dm->mhd);
		if (MHD_get_timeout(dm->mhd, &to) != MHD_YES) {
			amtsim_timer_disarm(dm->timer);
			return;
		}
		if (to > 0) {
			amtsim_timer_arm(dm->timer, to);
			return;
		}
	}
	amtsim_timer_arm(dm->timer, 1);
}

static void
daemon_fd_cb(struct amtsim_loop *loop, int fd, uint32_t events, void *arg)
{
	struct simnet_daemon *dm = arg;

	(void)loop;
	(void)fd;
	(void)events;
	/* Network activity holds back the key pool refill (tls.c). */
	if (dm->sd != NULL && dm->sd->net != NULL)
		dm->sd->net->busy_ms = simnet_now_ms();
	simnet_daemon_run(dm);
}

static void
daemon_timer_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	simnet_daemon_run(arg);
}

static void
preauth_unlink(struct amtsim_net *net, struct simnet_conn *c)
{
	if (!c->in_list)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		net->preauth = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->in_list = 0;
}

static void
notify_conn(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct simnet_daemon *dm = cls;
	struct amtsim_net *net = dm->sd->net;
	const union MHD_ConnectionInfo *ci;
	struct simnet_conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((c = *socket_context) != NULL) {
			preauth_unlink(net, c);
			free(c);
			*socket_context = NULL;
		}
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->sd = dm->sd;
	c->dm = dm;
	c->started = simnet_now_ms();
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->fd = ci != NULL ? ci->connect_fd : -1;
	c->next = net->preauth;
	if (c->next != NULL)
		c->next->prev = c;
	net->preauth = c;
	c->in_list = 1;
	*socket_context = c;
	if (dm->tls && (ci = MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) != NULL &&
	    ci->tls_session != NULL)
		simnet_tls_session_start(c, ci->tls_session);
}

static enum MHD_Result
accept_cb(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addr;
	(void)addrlen;
	return simnet_http_port_open(cls) ? MHD_YES : MHD_NO;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct simnet_daemon *dm = cls;
	char line[256];
	size_t n;

	if (amtp_log_level() < AMTP_LOG_DEBUG)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("dev %u: mhd: %s", dm->sd->d->index, line);
}

static enum MHD_Result
access_shim(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	return simnet_http_access(cls, mc, url, method, version, upload_data,
	    upload_data_size, con_cls) ? MHD_YES : MHD_NO;
}

static void
completed_shim(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	simnet_http_completed(cls, mc, con_cls, (int)toe);
}

static int
daemon_start(struct simnet_dev *sd, struct simnet_daemon *dm, int tls)
{
	struct amtsim_net *net = sd->net;
	struct MHD_OptionItem o[16];
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *di;
	unsigned flags;
	size_t n = 0;
	int r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(sd->d->ipv4);
	sin.sin_port = htons(tls ? (net->opts.tls_port != 0 ?
	    net->opts.tls_port : SIMNET_TLS_PORT) : (net->opts.http_port != 0 ?
	    net->opts.http_port : SIMNET_HTTP_PORT));
	dm->sd = sd;
	dm->tls = tls;
	dm->epfd = -1;
#define OPT(a, b, c) do { o[n].option = (a); o[n].value = (intptr_t)(b); \
	o[n].ptr_value = (void *)(c); n++; } while (0)
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, dm);
	OPT(MHD_OPTION_SOCK_ADDR, 0, &sin);
	OPT(MHD_OPTION_CONNECTION_LIMIT, AMTP_SIM_NET_CONN_MAX, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, AMTP_SIM_NET_CONN_PER_IP,
	    NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, AMTP_SIM_NET_IDLE_TIMEOUT, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, AMTP_SIM_NET_CONN_MEMORY,
	    NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, notify_conn, dm);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, completed_shim, dm);
	if (tls) {
		OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, simnet_tls_cert_cb);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, SIMNET_TLS_PRIORITIES);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	/* Delayed answers (fault knobs) need suspend/resume, which costs
	 * an eventfd per daemon: only when a knob can delay. */
	if (simnet_can_delay(&net->opts.faults))
		flags |= MHD_ALLOW_SUSPEND_RESUME;
	if (tls)
		flags |= MHD_USE_TLS;
	dm->mhd = MHD_start_daemon(flags, 0, accept_cb, dm, access_shim, dm,
	    MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	if (dm->mhd == NULL)
		return AMTP_E_IO;
	r = AMTP_E_IO;
	if ((di = MHD_get_daemon_info(dm->mhd, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL)
		goto fail;
	dm->epfd = di->epoll_fd;
	if ((dm->timer = amtsim_timer_new(net->loop, daemon_timer_cb, dm)) ==
	    NULL) {
		r = AMTP_E_NOMEM;
		goto fail;
	}
	if ((r = amtsim_loop_add_fd(net->loop, dm->epfd, EPOLLIN,
	    daemon_fd_cb, dm)) != 0)
		goto fail;
	return 0;
 fail:
	amtsim_timer_free(dm->timer);
	dm->timer = NULL;
	MHD_stop_daemon(dm->mhd);
	dm->mhd = NULL;
	return r;
}

static void
daemon_stop(struct simnet_daemon *dm)
{
	if (dm->mhd == NULL)
		return;
	simnet_http_resume_all(dm);
	(void)amtsim_loop_del_fd(dm->sd->net->loop, dm->epfd);
	amtsim_timer_free(dm->timer);
	dm->timer = NULL;
	MHD_stop_daemon(dm->mhd);
	dm->mhd = NULL;
	dm->epfd = -1;
}

static int
dev_listen(struct simnet_dev *sd)
{
	char addr[32];
	int r;

	if (sd->listening)
		return 0;
	if ((r = simnet_tls_self_cert(sd)) != 0) {
		log_warn_r(r, "dev %u: self-signed certificate", sd->d->index);
		return r;
	}
	if (sd->d->state == AMTSIM_POST)
		(void)simnet_tls_prov_load(sd);
	amtsim_ipv4_format(sd->d->ipv4, addr, sizeof(addr));
	if ((r = daemon_start(sd, &sd->http, 0)) != 0 ||
	    (r = daemon_start(sd, &sd->tls, 1)) != 0) {
		log_warn("dev %u: cannot listen on %s", sd->d->index, addr);
		daemon_stop(&sd->http);
		return r;
	}
	sd->listening = 1;
	log_debug("dev %u: listening on %s", sd->d->index, addr);
	return 0;
}

static void
dev_unlisten(struct simnet_dev *sd)
{
	if (!sd->listening)
		return;
	daemon_stop(&sd->http);
	daemon_stop(&sd->tls);
	sd->listening = 0;
	log_debug("dev %u: not listening", sd->d->index);
}

static void
stop_timer_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct simnet_dev *sd = arg;

	(void)loop;
	if (sd->listening) {
		dev_unlisten(sd);
		if (sd->stop_restart > 0) {
			log_info("dev %u: rebooting (%d ms)", sd->d->index,
			    sd->stop_restart);
			amtsim_timer_arm(t, (uint64_t)sd->stop_restart);
			return;
		}
	}
	sd->stop_restart = 0;
	if (amtsim_device_net_active(sd->d))
		(void)dev_listen(sd);
}

void
simnet_dev_stop_later(struct simnet_dev *sd, uint32_t restart_ms)
{
	if (sd->net == NULL)
		return;
	if (sd->stop_timer == NULL && (sd->stop_timer = amtsim_timer_new(
	    sd->net->loop, stop_timer_cb, sd)) == NULL)
		return;
	sd->stop_restart = (int)restart_ms;
	amtsim_timer_arm(sd->stop_timer, STOP_GRACE_MS);
}

struct simnet_dev *
simnet_dev_get(struct amtsim_net *net, struct amtsim_device *d)
{
	struct simnet_dev *sd = d->net;

	if (sd != NULL)
		return sd;
	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return NULL;
	sd->d = d;
	sd->net = net;
	sd->prov_handle = -1;
	sd->http.epfd = sd->tls.epfd = -1;
	d->net = sd;
	return sd;
}

void
simnet_dev_free(struct simnet_dev *sd)
{
	if (sd == NULL)
		return;
	dev_unlisten(sd);
	amtsim_timer_free(sd->stop_timer);
	amtsim_timer_free(sd->audit_timer);
	simnet_tls_free(sd);
	EVP_PKEY_free(sd->key_cache);
	free(sd->key_cache_pub);
	if (sd->have_self)
		gnutls_pcert_deinit(&sd->self_pcert);
	simnet_ws_free(sd);
	explicit_bzero(sd->ha1_empty, sizeof(sd->ha1_empty));
	explicit_bzero(sd->ha1_mebx, sizeof(sd->ha1_mebx));
	sd->d->net = NULL;
	free(sd);
}

/* ---- the fleet's hook ---- */

static void
state_hook(struct amtsim_device *d, enum amtsim_state old,
    enum amtsim_state now, void *arg)
{
	struct amtsim_net *net = arg;
	struct simnet_dev *sd;

	if (net == NULL || (sd = simnet_dev_get(net, d)) == NULL)
		return;
	log_debug("dev %u: %s -> %s", d->index, amtsim_state_name(old),
	    amtsim_state_name(now));
	if (now == AMTSIM_POST)
		(void)simnet_tls_prov_load(sd);
	if (amtsim_device_net_active(d)) {
		if (!sd->listening && (sd->stop_timer == NULL ||
		    !amtsim_timer_armed(sd->stop_timer)))
			(void)dev_listen(sd);
	} else if (sd->listening)
		simnet_dev_stop_later(sd, 0);
}

static void
sweep_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct amtsim_net *net = arg;
	struct simnet_conn *c, *n;
	uint64_t now = simnet_now_ms();

	(void)loop;
	/* Slow-loris bound: a connection that has not completed an
	 * authenticated request in time is shut down (MHD then closes
	 * it on its next run). */
	for (c = net->preauth; c != NULL; c = n) {
		n = c->next;
		if (now - c->started < (net->opts.preauth_ms > 0 ?
		    net->opts.preauth_ms : AMTP_SIM_NET_PREAUTH_TIME_MS))
			continue;
		log_debug("dev %u: connection timed out before "
		    "authentication", c->sd->d->index);
		preauth_unlink(net, c);
		if (c->fd >= 0)
			(void)shutdown(c->fd, SHUT_RDWR);
	}
	amtsim_timer_arm(t, SWEEP_MS);
}

static void
pool_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	simnet_keypool_fill(arg, 0);
}

int
amtsim_net_start(struct amtsim_loop *loop, struct amtsim_fleet *fleet,
    const struct amtsim_net_opts *opts, struct amtsim_net **out, char *err,
    size_t errlen)
{
	struct amtsim_net *net = NULL;
	struct amtsim_device *d;
	size_t cap;
	unsigned i;
	int r;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((r = simnet_state_register()) != 0) {
		(void)snprintf(err, errlen, "network side: %s",
		    amtp_strerror(r));
		return r;
	}
	r = AMTP_E_NOMEM;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		goto fail;
	net->loop = loop;
	net->fleet = fleet;
	net->opts = *opts;
	/* The fault strings stay owned by the caller's opts. */
	cap = (size_t)fleet->count * 8;
	if (cap < AMTP_DIGEST_NONCE_TABLE)
		cap = AMTP_DIGEST_NONCE_TABLE;
	if (cap > AMTP_DIGEST_NONCE_TABLE_MAX)
		cap = AMTP_DIGEST_NONCE_TABLE_MAX;
	if ((r = amtp_digest_nonces_new(cap, 0, NULL, &net->nonces)) != 0)
		goto fail;
	r = AMTP_E_NOMEM;
	if (net->opts.keypool > AMTP_SIM_NET_KEYPOOL_MAX)
		net->opts.keypool = AMTP_SIM_NET_KEYPOOL_MAX;
	if (net->opts.keypool > 0 && (net->pool = calloc(net->opts.keypool,
	    sizeof(*net->pool))) == NULL)
		goto fail;
	if ((r = simnet_tls_self_key(net)) != 0) {
		(void)snprintf(err, errlen, "network side: TLS key: %s",
		    amtp_strerror(r));
		goto fail;
	}
	r = AMTP_E_NOMEM;
	if ((net->sweep_timer = amtsim_timer_new(loop, sweep_cb, net)) ==
	    NULL || (net->pool_timer = amtsim_timer_new(loop, pool_cb, net)) ==
	    NULL)
		goto fail;
	amtsim_timer_arm(net->sweep_timer, SWEEP_MS);
	if (net->opts.keypool > 0)
		amtsim_timer_arm(net->pool_timer, 10);
	fleet->ctx.hook = state_hook;
	fleet->ctx.hook_arg = net;
	for (i = 1; i <= fleet->count; i++) {
		d = amtsim_fleet_device(fleet, i);
		if (simnet_dev_get(net, d) == NULL)
			goto fail;
		if (amtsim_device_net_active(d) &&
		    (r = dev_listen(d->net)) != 0) {
			(void)snprintf(err, errlen, "device %u: cannot listen "
			    "on 16992/16993: %s", i, amtp_strerror(r));
			goto fail;
		}
	}
	*out = net;
	return 0;
 fail:
	if (r == AMTP_E_NOMEM && err[0] == '\0')
		(void)snprintf(err, errlen, "network side: out of memory");
	amtsim_net_free(net);
	return r;
}

void
amtsim_net_free(struct amtsim_net *net)
{
	struct amtsim_device *d;
	unsigned i;
	size_t k;

	if (net == NULL)
		return;
	if (net->fleet != NULL) {
		if (net->fleet->ctx.hook == state_hook) {
			net->fleet->ctx.hook = NULL;
			net->fleet->ctx.hook_arg = NULL;
		}
		for (i = 1; i <= net->fleet->count; i++)
			if ((d = amtsim_fleet_device(net->fleet, i)) != NULL)
				simnet_dev_free(d->net);
	}
	amtsim_timer_free(net->sweep_timer);
	amtsim_timer_free(net->pool_timer);
	for (k = 0; k < net->npool; k++)
		EVP_PKEY_free(net->pool[k]);
	free(net->pool);
	if (net->self_gkey != NULL)
		gnutls_privkey_deinit(net->self_gkey);
	EVP_PKEY_free(net->self_key);
	amtp_digest_nonces_free(net->nonces);
	simnet_x509_cache_clear();
	free(net);
}
