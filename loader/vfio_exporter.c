// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_exporter: Prometheus metrics of VFIO devices bound to vfio-pci-bpf.
 *
 * Loads bpf/vfio_trace.bpf.c in counts-only mode (no ring buffer), or reads
 * the counters `vfio-bpf load` pinned, and serves GET /metrics in the
 * Prometheus text exposition format with libmicrohttpd (exporter.c).  The
 * BPF counters are never reset, so the exported counters only grow.
 * docs/metrics.md describes the metric families.
 */
#include <argp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf.h"
#include "exporter.h"

enum { OPT_MAX_CONNS = 256, OPT_PER_CLIENT, OPT_IDLE_TIMEOUT };

const char *argp_program_version = "vfio_exporter " EXPORTER_VERSION;
static const char doc[] =
"Export metrics of VFIO devices bound to vfio-pci-bpf to Prometheus.\n"
"\n"
"USAGE: vfio_exporter [-l ADDR:PORT] [--max-connections N] [--max-per-client N]\n"
"                     [--idle-timeout SECONDS] [-v]\v"
"Serves /metrics in the Prometheus text format (docs/metrics.md), and a\n"
"page linking it on /.  ADDR is an IPv4 address, an IPv6 address in\n"
"brackets, or empty for every IPv4 address; the default, " DEFAULT_LISTEN ",\n"
"is reachable from this machine only.\n"
"\n"
"Idle connections cannot starve a scrape: when all --max-connections are\n"
"taken, or a client has --max-per-client of them, the one idle the longest\n"
"(no request under way) is closed for the newcomer; a connection idle for\n"
"--idle-timeout seconds is closed anyway.\n"
"\n"
"EXAMPLES:\n"
"    vfio_exporter                       # serve http://" DEFAULT_LISTEN "/metrics\n"
"    vfio_exporter -l 127.0.0.1:9500     # another port\n"
"    vfio_exporter -l [::1]:9466         # IPv6 loopback\n"
"    curl -s 127.0.0.1:9466/metrics      # scrape it\n";

static const struct argp_option opts[] = {
	{ "listen", 'l', "ADDR:PORT", 0, "Serve on ADDR:PORT (default " DEFAULT_LISTEN ")", 0 },
	{ "max-connections", OPT_MAX_CONNS, "N", 0, "At most N connections at once (default 64)", 0 },
	{ "max-per-client", OPT_PER_CLIENT, "N", 0,
	  "At most N connections from one IP address (default 16)", 0 },
	{ "idle-timeout", OPT_IDLE_TIMEOUT, "SECONDS", 0,
	  "Close a connection idle this long (default 10)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'l':
		if (parse_listen(arg))
			argp_error(state, "'%s' is not ADDR:PORT like 127.0.0.1:9466 or [::1]:9466",
				   arg);
		env.listen = arg;
		break;
	case OPT_MAX_CONNS:
	case OPT_PER_CLIENT:
	case OPT_IDLE_TIMEOUT: {
		unsigned long v;
		char *end;

		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || !*arg || *arg == '-' || v < (key == OPT_MAX_CONNS ? 2 : 1) ||
		    v > 4096)
			argp_error(state, "'%s' is not a number from %d to 4096", arg,
				   key == OPT_MAX_CONNS ? 2 : 1);
		*(key == OPT_MAX_CONNS ? &env.max_conns : key == OPT_PER_CLIENT ?
		  &env.per_client : &env.idle_timeout) = v;
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *httpd = NULL;
	sigset_t sigs, old;
	int err, lfd = -1;
	bool pinned;

	parse_listen(DEFAULT_LISTEN);
	if (vfb_parse_args(opts, parse_arg, NULL, doc, argc, argv))
		return 2;
	libbpf_set_print(vfb_libbpf_print);
	/*
	 * The counters `vfio-bpf load` pinned (the module's, stock-kernel ones,
	 * or both), or our own, which need the module.
	 */
	err = vfb_counters_open_pinned(&counters);
	pinned = !err;
	if (err == -EACCES) {
		/*
		 * Loading counters of our own would need more than reading
		 * them does (CAP_BPF, CAP_PERFMON): say what is missing.
		 */
		fprintf(stderr, "vfio_exporter: the counters pinned at %s are root's: run as root,\n"
			"  or with CAP_DAC_READ_SEARCH (as vfio_exporter.service does)\n",
			VFB_COUNTERS_DIR);
		return 1;
	}
	if (!pinned && vfb_check_btf("vfio_exporter", "vfio_pci_bpf", VFB_LOAD_HINT
				     "  or, on a host without it, count devices under stock vfio-pci:\n"
				     "  vfio-bpf load (stock-kernel mode), then start vfio_exporter\n"))
		return 1;
	lfd = open_listener();
	if (lfd < 0) {
		vfb_counters_close(&counters);
		return 1;
	}
	if (pinned) {
		fprintf(stderr, "vfio_exporter: reading the counters pinned at %s%s\n",
			VFB_COUNTERS_DIR, !counters.stock_counts ? "" : !counters.module ?
			" (stock-kernel mode: devices under vfio-pci)" :
			" (devices under vfio-pci too)");
	} else if (vfb_counters_load(&counters, "vfio_exporter")) {
		err = -EINVAL;
		goto cleanup;
	}

	vfb_catch_signals();
	signal(SIGPIPE, SIG_IGN);
	/* The HTTP thread inherits a mask without them: signals come here. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	httpd = start_httpd(lfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!httpd) {
		err = -EIO;
		fprintf(stderr, "vfio_exporter: cannot start the HTTP server on %s\n", env.listen);
		goto cleanup;
	}
	lfd = -1;	/* the daemon's now */

	fprintf(stderr, "vfio_exporter: serving http://%s/metrics; Ctrl-C to stop\n", env.listen);
	while (!vfb_exiting)
		usleep(100000);
	err = 0;

cleanup:
	if (httpd)
		MHD_stop_daemon(httpd);
	free(conns);
	if (lfd >= 0)
		close(lfd);
	vfb_counters_close(&counters);
	return err ? 1 : 0;
}
