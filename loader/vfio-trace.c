// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-trace: live events and statistics of VFIO devices bound to
 * vfio-pci-bpf, from the module's tracepoints (bpf/vfio_trace.bpf.c).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "bpf.h"
#include "counters.h"
#include "device.h"
#include "kinds.h"
#include "vfio_trace.skel.h"

/* Groups accepted by -e besides the kinds themselves. */
static const struct {
	const char *name;
	__u32 mask;
} kind_groups[] = {
	{ "config", 1u << VFT_CONFIG_READ | 1u << VFT_CONFIG_WRITE },
	{ "bar", 1u << VFT_BAR_READ | 1u << VFT_BAR_WRITE | 1u << VFT_MMAP },
	{ "irq", 1u << VFT_SET_IRQS | 1u << VFT_IRQ_VECTOR | 1u << VFT_IRQ },
	{ "mig", 1u << VFT_MIG_TRANSITION | 1u << VFT_MIG_DATA },
	{ "all", (1u << VFT_NR_KINDS) - 1 },
};

static struct env {
	const char *bdf;
	__u32 sbdf;
	__u32 kinds;
	bool json;
	bool stats;
	bool stock;
	bool hist;
	bool totals;
	int interval;
	int duration;
	__u32 ringbuf;
} env = {
	.sbdf = VFT_ALL_DEVICES,
	.kinds = (1u << VFT_NR_KINDS) - 1,
};

static __u64 seen;
static __u64 boot_ns_at_start;

const char *argp_program_version = "vfio-trace " VFIO_BPF_VERSION;
static const char doc[] =
"Trace what VFIO users do to devices bound to vfio-pci-bpf.\n"
"\n"
"USAGE: vfio-trace [-k] [-d BDF] [-e EVENTS] [-j] [-b SIZE] [-s [-H] [-i SEC [-T]]] [-D SEC]\v"
"EVENTS is a comma separated list of: open close reset config_read\n"
"config_write bar_read bar_write mmap ioctl set_irqs irq_vector irq\n"
"mig_transition mig_data policy, or the groups config bar irq mig all.\n"
"'policy' is a policy decision other than allow (also in monitor mode).\n"
"'irq' is an interrupt the device delivered on an armed vector.\n"
"\n"
"-k observes devices under stock vfio-pci (or any vfio-pci based driver)\n"
"with fentry/fexit on vfio_pci_core: config, BAR, mmap, ioctl, reset,\n"
"set_irqs, open, close and irq events; no migration or irq_vector events.\n"
"\n"
"EXAMPLES:\n"
"    vfio-trace                      # every event of every device\n"
"    vfio-trace -d 0000:01:00.0      # one device\n"
"    vfio-trace -e config,irq -j     # config and interrupt events, JSON lines\n"
"    vfio-trace -s -i 5              # what happened in each 5 s, per device and event\n"
"    vfio-trace -s -i 5 -T           # the same, totals since the start\n"
"    vfio-trace -k -d 0000:01:00.0   # a device under stock vfio-pci\n"
"    vfio-trace -s -H -e config      # config access latency histograms\n"
"    vfio-trace -j -b 16M >log.json  # a bigger ring buffer for a fast device\n";

static const struct argp_option opts[] = {
	{ "device", 'd', "BDF", 0, "Only this device (0000:01:00.0, or 01:00.0)", 0 },
	{ "events", 'e', "EVENTS", 0, "Only these events (see below)", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line", 0 },
	{ "stock", 'k', NULL, 0, "Stock-kernel mode: observe every vfio-pci based driver through vfio_pci_core (no module needed)", 0 },
	{ "stats", 's', NULL, 0, "Counts instead of events", 0 },
	{ "histogram", 'H', NULL, 0, "With -s: latency histograms of config, BAR and ioctl accesses", 0 },
	{ "interval", 'i', "SEC", 0, "With -s: print what happened in each SEC seconds, under a time header", 0 },
	{ "totals", 'T', NULL, 0, "With -i: print totals since the start instead", 0 },
	{ "duration", 'D', "SEC", 0, "Stop after SEC seconds", 0 },
	{ "buffer", 'b', "SIZE", 0, "Ring buffer size: a power of two, at least a page, K or M suffix (default 1M)", 0 },
	{},
};

static int parse_kinds(const char *arg, __u32 *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int err = 0;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		if (vfb_kind_by_name(tok) >= 0) {
			*mask |= 1u << vfb_kind_by_name(tok);
			found = true;
		}
		for (size_t i = 0; i < sizeof(kind_groups) / sizeof(kind_groups[0]); i++) {
			if (!strcmp(tok, kind_groups[i].name)) {
				*mask |= kind_groups[i].mask;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "vfio-trace: unknown event '%s' (see --help)\n", tok);
			err = -EINVAL;
		}
	}
	free(copy);
	return err;
}

static int parse_int(const char *arg, const char *what, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX) {
		fprintf(stderr, "vfio-trace: %s must be a positive number of seconds, not '%s'\n",
			what, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* A ring buffer size: a power of two of at least a page, K or M suffix. */
static int parse_size(const char *arg, __u32 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (!errno && (*end == 'K' || *end == 'k'))
		v <<= 10, end++;
	else if (!errno && (*end == 'M' || *end == 'm'))
		v <<= 20, end++;
	if (errno || *end || v < (unsigned long long)getpagesize() || v > 1ULL << 30 ||
	    (v & (v - 1))) {
		fprintf(stderr, "vfio-trace: the buffer size must be a power of two from %dK to 1024M, not '%s'\n",
			getpagesize() >> 10, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	static char bdf[VFB_BDF_LEN];

	switch (key) {
	case 'd':
		if (vfb_parse_bdf(arg, &env.sbdf)) {
			fprintf(stderr, "vfio-trace: '%s' is not a PCI address like 0000:01:00.0 or 01:00.0\n",
				arg);
			argp_usage(state);
		}
		/* The name sysfs knows it by, whichever form was given. */
		vfb_bdf_str(env.sbdf, bdf, sizeof(bdf));
		env.bdf = bdf;
		break;
	case 'e':
		if (parse_kinds(arg, &env.kinds))
			argp_usage(state);
		break;
	case 'j':
		env.json = true;
		break;
	case 'k':
		env.stock = true;
		break;
	case 's':
		env.stats = true;
		break;
	case 'H':
		env.hist = true;
		break;
	case 'T':
		env.totals = true;
		break;
	case 'i':
		if (parse_int(arg, "the interval", &env.interval))
			argp_usage(state);
		break;
	case 'D':
		if (parse_int(arg, "the duration", &env.duration))
			argp_usage(state);
		break;
	case 'b':
		if (parse_size(arg, &env.ringbuf))
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct vft_event *e = data;
	char line[512];

	if (size < sizeof(*e) || e->kind >= VFT_NR_KINDS)
		return 0;
	seen++;
	if (env.json)
		vfb_event_json(e, line, sizeof(line));
	else
		vfb_event_text(e, (e->ts_ns - boot_ns_at_start) / 1e9, line, sizeof(line));
	puts(line);
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_stats(const struct vfb_snapshot *s)
{
	char bdf[VFB_BDF_LEN];
	bool first = true;

	if (env.json) {
		printf("{\"stats\":[");
		for (int i = 0; i < s->ncounts; i++) {
			const struct vfb_count *c = &s->counts[i];

			vfb_bdf_str(c->key.sbdf, bdf, sizeof(bdf));
			printf("%s{\"bdf\":\"%s\",\"event\":\"%s\",\"count\":%llu,\"errors\":%llu}",
			       i ? "," : "", bdf, vfb_kind_name(c->key.kind),
			       (unsigned long long)c->n.events, (unsigned long long)c->n.errors);
		}
		printf("],\"irqs\":[");
	} else {
		printf("%-12s %-14s %12s %8s\n", "BDF", "EVENT", "COUNT", "ERRORS");
		for (int i = 0; i < s->ncounts; i++) {
			const struct vfb_count *c = &s->counts[i];

			vfb_bdf_str(c->key.sbdf, bdf, sizeof(bdf));
			printf("%-12s %-14s %12llu %8llu\n", bdf, vfb_kind_name(c->key.kind),
			       (unsigned long long)c->n.events, (unsigned long long)c->n.errors);
		}
	}
	for (int i = 0; i < s->nirqs; i++) {
		const struct vfb_delivery *d = &s->irqs[i];

		vfb_bdf_str(d->v.sbdf, bdf, sizeof(bdf));
		if (env.json) {
			printf("%s{\"bdf\":\"%s\",\"index\":\"%s\",\"vector\":%u,\"delivered\":%llu}",
			       first ? "" : ",", bdf, vfb_irq_index_name(d->v.index), d->v.vector,
			       (unsigned long long)d->n);
		} else {
			if (first)
				printf("%-12s %-5s %8s %12s\n", "BDF", "INDEX", "VECTOR", "DELIVERED");
			printf("%-12s %-5s %8u %12llu\n", bdf, vfb_irq_index_name(d->v.index),
			       d->v.vector, (unsigned long long)d->n);
		}
		first = false;
	}
	if (env.json)
		printf("]}\n");
	fflush(stdout);
}

/* A log2 histogram in the layout of bcc's libbpf-tools. */
static void print_log2_hist(const __u64 *slots, int n, const char *unit)
{
	int first = -1, last = -1, width = 40;
	__u64 max = 0;

	for (int i = 0; i < n; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (first < 0)
		return;
	printf("%24s : %-8s %s\n", unit, "count", "distribution");
	for (int i = first; i <= last; i++) {
		unsigned long long lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;
		int bar = max ? (int)(slots[i] * width / max) : 0;
		char stars[41];

		memset(stars, '*', bar);
		stars[bar] = '\0';
		printf("%10llu -> %-10llu : %-8llu |%-40s|\n", lo, hi,
		       (unsigned long long)slots[i], stars);
	}
}

static void print_hists(const struct vfb_snapshot *s)
{
	char bdf[VFB_BDF_LEN];

	for (int i = 0; i < s->nlat; i++) {
		vfb_bdf_str(s->lat[i].key.sbdf, bdf, sizeof(bdf));
		printf("\n%s %s latency through vfio_pci_core:\n", bdf,
		       vfb_kind_name(s->lat[i].key.kind));
		print_log2_hist(s->lat[i].h.slots, VFT_HIST_SLOTS, "nsecs");
	}
	fflush(stdout);
}

/*
 * What the maps hold now; with @prev, only what came since, under a time
 * header, as libbpf-tools print intervals.  @prev becomes this snapshot.
 */
static void print_snapshot(const struct vfb_counters *c, struct vfb_snapshot *prev)
{
	struct vfb_snapshot s;
	char ts[32];
	time_t t;
	int err;

	err = vfb_snapshot_read(c, &s);
	if (err) {
		fprintf(stderr, "vfio-trace: reading the counters: %s\n", strerror(-err));
		return;
	}
	if (prev) {
		t = time(NULL);
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
		if (!env.json)
			printf("\n%-8s\n", ts);
	}
	if (prev && !env.totals) {
		/* The totals stay for the next interval; the difference is shown. */
		struct vfb_snapshot d;

		if (vfb_snapshot_copy(&d, &s)) {
			vfb_snapshot_free(&s);
			return;
		}
		vfb_snapshot_since(&d, prev);
		vfb_snapshot_free(prev);
		*prev = s;
		s = d;
	}
	print_stats(&s);
	if (env.hist)
		print_hists(&s);
	vfb_snapshot_free(&s);
}

/* Say what is wrong with the machine before libbpf says it less clearly. */
static int preflight(void)
{
	struct vfb_device d;

	if (env.stock && vfb_check_btf("vfio-trace", "vfio_pci_core",
				       "  modprobe vfio-pci: stock-kernel mode traces through it\n"))
		return -ENOENT;
	if (!env.stock && vfb_check_btf("vfio-trace", "vfio_pci_bpf", VFB_LOAD_HINT
					"  or use -k to observe devices under stock vfio-pci\n"))
		return -ENOENT;
	if (!env.bdf)
		return 0;
	if (vfb_device_read(env.bdf, &d)) {
		fprintf(stderr, "vfio-trace: no PCI device %s (see /sys/bus/pci/devices)\n",
			env.bdf);
		return -ENODEV;
	}
	if (env.stock ? strncmp(d.driver, "vfio", 4) : strcmp(d.driver, VFB_DRIVER))
		fprintf(stderr, "vfio-trace: warning: %s is bound to %s, not %s:\n"
			"  its events appear once it is\n",
			env.bdf, d.driver[0] ? d.driver : "no driver",
			env.stock ? "a vfio driver" : VFB_DRIVER);
	return 0;
}

int main(int argc, char **argv)
{
	struct vfb_snapshot last = {};
	struct ring_buffer *rb = NULL;
	struct vfb_trace_opts o = {};
	struct vfio_trace_bpf *skel;
	struct vfb_counters counters;
	__u64 start, last_stats, last_lost = 0;
	char line[128];
	int err;

	if (vfb_parse_args(opts, parse_arg, NULL, doc, argc, argv))
		return 2;
	if ((env.interval || env.hist) && !env.stats) {
		fprintf(stderr, "vfio-trace: -i and -H go with -s\n");
		return 2;
	}
	if (env.totals && !env.interval) {
		fprintf(stderr, "vfio-trace: -T goes with -i\n");
		return 2;
	}
	if (env.hist && env.json) {
		fprintf(stderr, "vfio-trace: -H prints text histograms; drop -j\n");
		return 2;
	}
	libbpf_set_print(vfb_libbpf_print);
	if (preflight())
		return 1;

	o.mode = env.stock ? VFB_TRACE_STOCK : VFB_TRACE_MODULE;
	o.latency = env.hist;
	o.stream = !env.stats;
	o.sbdf = env.sbdf;
	o.kinds = env.kinds;
	o.ringbuf = env.ringbuf;
	skel = vfb_trace_load(&o, "vfio-trace");
	if (!skel)
		return 1;
	err = vfio_trace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "vfio-trace: cannot attach to %s: %s\n",
			env.stock ? "vfio_pci_core" : "the vfio_pci_bpf tracepoints",
			strerror(-err));
		goto cleanup;
	}
	vfb_counters_of(&counters, skel);
	if (!env.stats) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
		if (!rb) {
			err = -errno;
			fprintf(stderr, "vfio-trace: ring buffer: %s\n", strerror(errno));
			goto cleanup;
		}
	}

	vfb_catch_signals();
	start = last_stats = now_ns();
	boot_ns_at_start = start;
	/* Before any event, on the same stream when both go to one terminal. */
	fflush(stdout);
	fprintf(stderr, "vfio-trace: tracing %s%s; Ctrl-C to stop\n",
		env.bdf ? env.bdf : env.stock ? "all vfio-pci based devices" :
		"all vfio-pci-bpf devices", env.stock ? " through vfio_pci_core" : "");
	if (!env.stats && !env.json) {
		vfb_event_header(line, sizeof(line));
		puts(line);
	}
	fflush(stdout);

	while (!vfb_exiting) {
		__u64 t;

		if (rb) {
			err = ring_buffer__poll(rb, 100);
			if (err == -EINTR) {
				err = 0;
				break;
			}
			if (err < 0) {
				fprintf(stderr, "vfio-trace: polling the ring buffer: %s\n",
					strerror(-err));
				break;
			}
			fflush(stdout);
		} else {
			usleep(100000);
		}
		t = now_ns();
		if (skel->bss->lost != last_lost) {
			fprintf(stderr, "vfio-trace: %llu events lost so far (ring buffer full)\n",
				(unsigned long long)skel->bss->lost);
			last_lost = skel->bss->lost;
		}
		if (env.stats && env.interval &&
		    t - last_stats >= (__u64)env.interval * 1000000000ULL) {
			print_snapshot(&counters, &last);
			last_stats = t;
		}
		if (env.duration && t - start >= (__u64)env.duration * 1000000000ULL)
			break;
	}
	err = err < 0 ? err : 0;
	if (rb)
		ring_buffer__consume(rb);
	/* At the end: the totals. */
	if (env.stats)
		print_snapshot(&counters, NULL);
	if (env.stats)
		fprintf(stderr, "vfio-trace: done\n");
	else
		fprintf(stderr, "vfio-trace: %llu events shown, %llu lost\n",
			(unsigned long long)seen, (unsigned long long)skel->bss->lost);

cleanup:
	vfb_snapshot_free(&last);
	ring_buffer__free(rb);
	vfio_trace_bpf__destroy(skel);
	return err ? 1 : 0;
}
