/*
 * amtprov - net.h: the network side of amtsim (what a simulated AMT device
 * does on 16992/16993 once its network interface is active).
 *
 * Every device listens on its own loopback address with two libmicrohttpd
 * daemons (HTTP 16992, TLS 16993) driven by the fleet's one event loop
 * (external epoll, no thread per device).  Requests are WS-Management
 * over HTTP Digest; the class set is data (classes.c) served by one generic
 * engine (ws.c).  docs/amtsim-network.md describes behaviour and decisions.
 *
 * Use:
 *	amtsim_net_init();			before amtsim_fleet_open()
 *	amtsim_fleet_open(...);
 *	amtsim_net_start(loop, fleet, &opts, &net, err, errlen);
 *	amtsim_loop_run(loop);
 *	amtsim_net_free(net);			before amtsim_fleet_free()
 */
#ifndef AMTSIM_NET_H
#define AMTSIM_NET_H

#include <stddef.h>
#include <stdint.h>

struct amtsim_loop;
struct amtsim_fleet;
struct amtsim_device;
struct amtsim_net;

/* Fault knobs (faults.c).  All zero: a well-behaved device. */
struct amtsim_net_faults {
	uint32_t	 latency_min_ms;	/* response delay: fixed when */
	uint32_t	 latency_max_ms;	/* max <= min, else uniform */
	uint32_t	 keygen_ms;		/* extra delay of GenerateKeyPair */
	uint32_t	 reset_after;		/* close the connection on its
						 * Nth request (no answer) */
	char		*fail_call;		/* "<Class>.<Method|Op>" (or
						 * "*") answered by ... */
	uint32_t	 fail_status;		/* ... this 5xx, or */
	int		 fail_timeout;		/* ... no answer at all, or */
	int		 fail_malformed;	/* ... a cut, malformed body */
	uint32_t	 fail_count;		/* how many times (0: always) */
	char		*reboot_on;		/* "<Class>.<Method|Op>": reboot
						 * after answering it */
	uint32_t	 reboot_ms;		/* time the device is away */
	unsigned	 device;		/* 0: every device, else only
						 * this index */
};

struct amtsim_net_opts {
	uint16_t		 http_port;	/* 0: 16992 */
	uint16_t		 tls_port;	/* 0: 16993 */
	const char		*state_dir;	/* fleet-wide self-signed key */
	unsigned		 keypool;	/* RSA keys kept ready */
	uint32_t		 preauth_ms;	/* 0: AMTP_SIM_NET_PREAUTH_TIME_MS */
	struct amtsim_net_faults faults;
};

/*
 * Registers the network side's flash section.  Call once, before any
 * device is created or loaded.  0 or a negative AMTP_E_* code.
 */
int amtsim_net_init(void);

/*
 * Starts the network side of fleet on loop: hooks the fleet's state
 * changes and starts listening for every device whose interface is
 * active.  err gets a sentence on failure.
 */
int amtsim_net_start(struct amtsim_loop *loop, struct amtsim_fleet *fleet,
    const struct amtsim_net_opts *opts, struct amtsim_net **out, char *err,
    size_t errlen);

/* Stops every daemon and frees.  NULL does nothing. */
void amtsim_net_free(struct amtsim_net *net);

/*
 * Parses a fault specification "key=value[,key=value...]" into f (see
 * docs/amtsim-network.md: latency=50 or latency=10-200, keygen=2000,
 * reset-after=3, fail=AMT_SetupAndConfigurationService.CommitChanges,
 * status=503, timeout, malformed, count=1, reboot=<call>, reboot-ms=2000,
 * device=3).  0 or AMTP_E_PARSE with a sentence in err.
 */
int amtsim_net_faults_parse(const char *spec, struct amtsim_net_faults *f,
    char *err, size_t errlen);
void amtsim_net_faults_reset(struct amtsim_net_faults *f);

#endif
