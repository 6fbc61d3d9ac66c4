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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "vfio_trace.h"
#include "vfio_trace.skel.h"

static const char *const kind_names[VFT_NR_KINDS] = {
	[VFT_OPEN] = "open",
	[VFT_CLOSE] = "close",
	[VFT_RESET] = "reset",
	[VFT_CONFIG_READ] = "config_read",
	[VFT_CONFIG_WRITE] = "config_write",
	[VFT_BAR_READ] = "bar_read",
	[VFT_BAR_WRITE] = "bar_write",
	[VFT_MMAP] = "mmap",
	[VFT_IOCTL] = "ioctl",
	[VFT_SET_IRQS] = "set_irqs",
	[VFT_IRQ_VECTOR] = "irq_vector",
	[VFT_IRQ] = "irq",
	[VFT_MIG_TRANSITION] = "mig_transition",
	[VFT_MIG_DATA] = "mig_data",
};

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

static const char *const irq_index_names[] = { "INTX", "MSI", "MSIX", "ERR", "REQ" };

static struct env {
	const char *bdf;
	__u32 sbdf;
	__u32 kinds;
	bool json;
	bool stats;
	bool stock;
	bool hist;
	int interval;
	int duration;
} env = {
	.sbdf = VFT_ALL_DEVICES,
	.kinds = (1u << VFT_NR_KINDS) - 1,
};

static volatile sig_atomic_t exiting;
static __u64 seen;
static __u64 boot_ns_at_start;

const char *argp_program_version = "vfio-trace 0.1";
static const char doc[] =
"Trace what VFIO users do to devices bound to vfio-pci-bpf.\n"
"\n"
"USAGE: vfio-trace [-k] [-d BDF] [-e EVENTS] [-j] [-s [-H] [-i SEC]] [-D SEC]\v"
"EVENTS is a comma separated list of: open close reset config_read\n"
"config_write bar_read bar_write mmap ioctl set_irqs irq_vector irq\n"
"mig_transition mig_data, or the groups config bar irq mig all.\n"
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
"    vfio-trace -s -i 5              # counts per device and event every 5 s\n"
"    vfio-trace -k -d 0000:01:00.0   # a device under stock vfio-pci\n"
"    vfio-trace -s -H -e config      # config access latency histograms\n";

static const struct argp_option opts[] = {
	{ "device", 'd', "BDF", 0, "Only this device (0000:01:00.0)", 0 },
	{ "events", 'e', "EVENTS", 0, "Only these events (see below)", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per line", 0 },
	{ "stock", 'k', NULL, 0, "Stock-kernel mode: observe every vfio-pci based driver through vfio_pci_core (no module needed)", 0 },
	{ "stats", 's', NULL, 0, "Counts instead of events", 0 },
	{ "histogram", 'H', NULL, 0, "With -s: latency histograms of config, BAR and ioctl accesses", 0 },
	{ "interval", 'i', "SEC", 0, "With -s: print every SEC seconds", 0 },
	{ "duration", 'D', "SEC", 0, "Stop after SEC seconds", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

static int parse_kinds(const char *arg, __u32 *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int err = 0;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int i = 0; i < VFT_NR_KINDS; i++) {
			if (!strcmp(tok, kind_names[i])) {
				*mask |= 1u << i;
				found = true;
			}
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

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd':
		if (vfb_parse_bdf(arg, &env.sbdf)) {
			fprintf(stderr, "vfio-trace: '%s' is not a PCI address like 0000:01:00.0\n",
				arg);
			argp_usage(state);
		}
		env.bdf = arg;
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
	case 'i':
		if (parse_int(arg, "the interval", &env.interval))
			argp_usage(state);
		break;
	case 'D':
		if (parse_int(arg, "the duration", &env.duration))
			argp_usage(state);
		break;
	case 'v':
		vfb_verbose = true;
		break;
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void sig_handler(int sig)
{
	exiting = 1;
}

/* VFIO_BPF_RESET_* (vfio_bpf_hooks.h), as the tracepoint prints them. */
static const char *reset_kind_name(__u64 kind)
{
	static const char *const names[] = { "function", "hot", "flr", "d3hot" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static const char *irq_index(__u64 i)
{
	return i < 5 ? irq_index_names[i] : "?";
}

/* The kind-specific part of an event as JSON members. */
static void detail_json(const struct vft_event *e, char *buf, size_t len)
{
	switch (e->kind) {
	case VFT_CONFIG_READ:
		snprintf(buf, len, "\"offset\":%llu,\"size\":%llu,\"value\":%llu",
			 e->a, e->b, e->c);
		break;
	case VFT_CONFIG_WRITE:
		snprintf(buf, len, "\"offset\":%llu,\"size\":%llu,\"value\":%llu,"
			 "\"old\":%llu,\"new\":%llu",
			 e->a, e->b, e->c, e->d >> 32, e->d & 0xffffffff);
		break;
	case VFT_BAR_READ:
	case VFT_BAR_WRITE:
		snprintf(buf, len, "\"bar\":%llu,\"offset\":%llu,\"size\":%llu,\"value\":%llu",
			 e->d, e->a, e->b, e->c);
		break;
	case VFT_MMAP:
		snprintf(buf, len, "\"index\":%llu,\"offset\":%llu,\"length\":%llu",
			 e->d, e->a, e->b);
		break;
	case VFT_IOCTL:
		snprintf(buf, len, "\"cmd\":%llu,\"nr\":%llu", e->a, e->a & 0xff);
		break;
	case VFT_RESET:
		snprintf(buf, len, "\"kind\":\"%s\"", reset_kind_name(e->a));
		break;
	case VFT_SET_IRQS:
		snprintf(buf, len, "\"index\":\"%s\",\"start\":%llu,\"count\":%llu,\"flags\":%llu",
			 irq_index(e->a), e->b, e->c, e->d);
		break;
	case VFT_IRQ_VECTOR:
		snprintf(buf, len, "\"index\":\"%s\",\"vector\":%lld,\"host_irq\":%lld,\"armed\":%s",
			 irq_index(e->a), (long long)(__s32)e->b, (long long)(__s32)e->c,
			 e->d ? "true" : "false");
		break;
	case VFT_IRQ:
		snprintf(buf, len, "\"index\":\"%s\",\"vector\":%llu,\"host_irq\":%llu",
			 irq_index(e->a), e->b, e->c);
		break;
	case VFT_MIG_TRANSITION:
		snprintf(buf, len, "\"from\":%llu,\"to\":%llu,\"duration_ns\":%llu",
			 e->a, e->b, e->c);
		break;
	case VFT_MIG_DATA:
		snprintf(buf, len, "\"write\":%s,\"offset\":%llu,\"bytes\":%llu",
			 e->a ? "true" : "false", e->b, e->c);
		break;
	default:
		buf[0] = '\0';
	}
}

/*
 * The same, compact, for the text view: a line stays within 80 columns.
 * OFF/SIZE=VALUE for accesses, OLD>NEW for the device's own config bytes.
 */
static void detail_text(const struct vft_event *e, char *buf, size_t len)
{
	switch (e->kind) {
	case VFT_CONFIG_READ:
		snprintf(buf, len, "%#llx/%llu=%#llx", e->a, e->b, e->c);
		break;
	case VFT_CONFIG_WRITE:
		snprintf(buf, len, "%#llx/%llu=%#llx %#llx>%#llx", e->a, e->b, e->c,
			 e->d >> 32, e->d & 0xffffffff);
		break;
	case VFT_BAR_READ:
	case VFT_BAR_WRITE:
		snprintf(buf, len, "b%llu %#llx/%llu=%#llx", e->d, e->a, e->b, e->c);
		break;
	case VFT_MMAP:
		snprintf(buf, len, "r%llu %#llx+%#llx", e->d, e->a, e->b);
		break;
	case VFT_IOCTL:
		snprintf(buf, len, "nr %llu", e->a & 0xff);
		break;
	case VFT_RESET:
		snprintf(buf, len, "%s", reset_kind_name(e->a));
		break;
	case VFT_SET_IRQS:
		snprintf(buf, len, "%s %llu+%llu f=%#llx", irq_index(e->a), e->b, e->c, e->d);
		break;
	case VFT_IRQ_VECTOR:
		if ((__s32)e->b == -1)
			snprintf(buf, len, "%s all off", irq_index(e->a));
		else
			snprintf(buf, len, "%s %llu irq %lld %s", irq_index(e->a), e->b,
				 (long long)(__s32)e->c, e->d ? "on" : "off");
		break;
	case VFT_IRQ:
		snprintf(buf, len, "%s %llu irq %llu", irq_index(e->a), e->b, e->c);
		break;
	case VFT_MIG_TRANSITION:
		snprintf(buf, len, "%llu>%llu %lluus", e->a, e->b, e->c / 1000);
		break;
	case VFT_MIG_DATA:
		snprintf(buf, len, "%s %llu+%llu", e->a ? "in" : "out", e->b, e->c);
		break;
	default:
		buf[0] = '\0';
	}
}

/* 00:04.0 for domain 0, as lspci prints it; the full name otherwise. */
static void bdf_short(__u32 sbdf, char *buf, size_t len)
{
	if (sbdf >> 16)
		vfb_bdf_str(sbdf, buf, len);
	else
		snprintf(buf, len, "%02x:%02x.%u", (sbdf >> 8) & 0xff,
			 (sbdf >> 3) & 0x1f, sbdf & 7);
}

/* comm as a JSON string body: printable ASCII only, quotes escaped. */
static void json_comm(const char *comm, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < VFT_COMM_LEN && comm[i] && o + 7 < len; i++) {
		unsigned char ch = comm[i];

		if (ch == '"' || ch == '\\')
			o += snprintf(out + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			o += snprintf(out + o, len - o, "\\u%04x", ch);
		else
			out[o++] = ch;
	}
	out[o] = '\0';
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct vft_event *e = data;
	char bdf[16], det[160], comm[VFT_COMM_LEN * 6 + 1];
	double t = (e->ts_ns - boot_ns_at_start) / 1e9;

	if (size < sizeof(*e) || e->kind >= VFT_NR_KINDS)
		return 0;
	seen++;
	if (env.json) {
		vfb_bdf_str(e->sbdf, bdf, sizeof(bdf));
		detail_json(e, det, sizeof(det));
		json_comm(e->comm, comm, sizeof(comm));
		printf("{\"ts_ns\":%llu,\"bdf\":\"%s\",\"event\":\"%s\",\"pid\":%u,"
		       "\"comm\":\"%s\",\"ret\":%d%s%s}\n",
		       (unsigned long long)e->ts_ns, bdf, kind_names[e->kind], e->pid,
		       comm, e->ret, det[0] ? "," : "", det);
	} else {
		bdf_short(e->sbdf, bdf, sizeof(bdf));
		detail_text(e, det, sizeof(det));
		printf("%-8.3f %-7s %-12.12s %7u %-12s %5d %s\n", t, bdf,
		       e->comm[0] ? e->comm : "[irq]", e->pid, kind_names[e->kind],
		       e->ret, det);
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Sum per-CPU values of one key. */
static int sum_count(int fd, const struct vft_count_key *key, struct vft_count *out, int ncpu)
{
	struct vft_count vals[ncpu];

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, key, vals))
		return -errno;
	for (int i = 0; i < ncpu; i++) {
		out->events += vals[i].events;
		out->errors += vals[i].errors;
	}
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct vft_count_key *x = a, *y = b;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void print_stats(struct vfio_trace_bpf *skel, int ncpu)
{
	struct vft_count_key keys[VFT_MAX_DEVICES * VFT_NR_KINDS], k, next;
	int fd = bpf_map__fd(skel->maps.counts), n = 0;
	struct vft_vector vk, vnext;
	struct vft_count c;
	char bdf[16];
	__u64 vals[ncpu];
	bool first = true;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err && n < (int)(sizeof(keys) / sizeof(keys[0]));
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		keys[n++] = next;
		k = next;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_key);
	if (env.json) {
		printf("{\"stats\":[");
		for (int i = 0; i < n; i++) {
			if (sum_count(fd, &keys[i], &c, ncpu))
				continue;
			vfb_bdf_str(keys[i].sbdf, bdf, sizeof(bdf));
			printf("%s{\"bdf\":\"%s\",\"event\":\"%s\",\"count\":%llu,\"errors\":%llu}",
			       first ? "" : ",", bdf, kind_names[keys[i].kind],
			       (unsigned long long)c.events, (unsigned long long)c.errors);
			first = false;
		}
		printf("],\"irqs\":[");
	} else {
		printf("%-12s %-14s %12s %8s\n", "BDF", "EVENT", "COUNT", "ERRORS");
		for (int i = 0; i < n; i++) {
			if (sum_count(fd, &keys[i], &c, ncpu))
				continue;
			vfb_bdf_str(keys[i].sbdf, bdf, sizeof(bdf));
			printf("%-12s %-14s %12llu %8llu\n", bdf, kind_names[keys[i].kind],
			       (unsigned long long)c.events, (unsigned long long)c.errors);
		}
	}

	first = true;
	fd = bpf_map__fd(skel->maps.deliveries);
	for (err = bpf_map_get_next_key(fd, NULL, &vnext); !err;
	     err = bpf_map_get_next_key(fd, &vk, &vnext)) {
		__u64 sum = 0;

		vk = vnext;
		if (bpf_map_lookup_elem(fd, &vnext, vals))
			continue;
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
		vfb_bdf_str(vnext.sbdf, bdf, sizeof(bdf));
		if (env.json) {
			printf("%s{\"bdf\":\"%s\",\"index\":\"%s\",\"vector\":%u,\"delivered\":%llu}",
			       first ? "" : ",", bdf, irq_index(vnext.index), vnext.vector,
			       (unsigned long long)sum);
		} else {
			if (first)
				printf("%-12s %-5s %8s %12s\n", "BDF", "INDEX", "VECTOR", "DELIVERED");
			printf("%-12s %-5s %8u %12llu\n", bdf, irq_index(vnext.index),
			       vnext.vector, (unsigned long long)sum);
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

static void print_hists(struct vfio_trace_bpf *skel, int ncpu)
{
	struct vft_count_key keys[VFT_MAX_DEVICES * 8], k, next;
	int fd = bpf_map__fd(skel->maps.hists), n = 0, err;
	struct vft_hist *vals;
	char bdf[16];

	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (err = bpf_map_get_next_key(fd, NULL, &next);
	     !err && n < (int)(sizeof(keys) / sizeof(keys[0]));
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		keys[n++] = next;
		k = next;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_key);
	for (int i = 0; i < n; i++) {
		__u64 sum[VFT_HIST_SLOTS] = { 0 };

		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			for (int s = 0; s < VFT_HIST_SLOTS; s++)
				sum[s] += vals[c].slots[s];
		vfb_bdf_str(keys[i].sbdf, bdf, sizeof(bdf));
		printf("\n%s %s latency through vfio_pci_core:\n", bdf,
		       kind_names[keys[i].kind]);
		print_log2_hist(sum, VFT_HIST_SLOTS, "nsecs");
	}
	free(vals);
	fflush(stdout);
}

/* Say what is wrong with the machine before libbpf says it less clearly. */
static int preflight(void)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (env.stock && vfb_check_btf("vfio-trace", "vfio_pci_core",
				       "  modprobe vfio-pci: stock-kernel mode traces through it\n"))
		return -ENOENT;
	if (!env.stock && vfb_check_btf("vfio-trace", "vfio_pci_bpf", VFB_LOAD_HINT
					"  or use -k to observe devices under stock vfio-pci\n"))
		return -ENOENT;
	if (!env.bdf)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", env.bdf);
	if (stat(path, &st)) {
		fprintf(stderr, "vfio-trace: no PCI device %s (see /sys/bus/pci/devices)\n",
			env.bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", env.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (env.stock ? n <= 0 || strncmp(strrchr(link, '/') + 1, "vfio", 4) :
	    n <= 0 || strcmp(strrchr(link, '/') + 1, "vfio-pci-bpf"))
		fprintf(stderr, "vfio-trace: warning: %s is bound to %s, not %s:\n"
			"  its events appear once it is\n",
			env.bdf, n > 0 ? strrchr(link, '/') + 1 : "no driver",
			env.stock ? "a vfio driver" : "vfio-pci-bpf");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = doc,
	};
	struct ring_buffer *rb = NULL;
	struct vfio_trace_bpf *skel;
	struct bpf_program *prog;
	__u64 start, last_stats, last_lost = 0;
	int err, ncpu;

	/* Bad usage exits 2, as the docs say; argp would say 64. */
	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	if ((env.interval || env.hist) && !env.stats) {
		fprintf(stderr, "vfio-trace: -i and -H go with -s\n");
		return 2;
	}
	if (env.hist && env.json) {
		fprintf(stderr, "vfio-trace: -H prints text histograms; drop -j\n");
		return 2;
	}
	libbpf_set_print(vfb_libbpf_print);
	if (preflight())
		return 1;

	skel = vfio_trace_bpf__open();
	if (!skel) {
		fprintf(stderr, "vfio-trace: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	/*
	 * One set of programs or the other: module tracepoints, or the core.
	 * Histograms time accesses through the core in both modes.
	 */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool core = !strncmp(name, "vft_core_", 9);
		bool timing = strstr(name, "_read_") || strstr(name, "_write_") ||
			      strstr(name, "_ioctl_");

		bpf_program__set_autoload(prog, core == env.stock ||
					  (core && timing && env.hist));
	}
	skel->rodata->latency_only = !env.stock;
	skel->rodata->filter_sbdf = env.sbdf;
	skel->rodata->kind_mask = env.kinds;
	skel->rodata->stream = !env.stats;

	err = vfio_trace_bpf__load(skel);
	if (err) {
		fprintf(stderr, "vfio-trace: cannot load the BPF programs: %s\n"
			"  (run as root; -v shows the verifier log)\n", strerror(-err));
		goto cleanup;
	}
	err = vfio_trace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "vfio-trace: cannot attach to %s: %s\n",
			env.stock ? "vfio_pci_core" : "the vfio_pci_bpf tracepoints",
			strerror(-err));
		goto cleanup;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0) {
		err = ncpu;
		goto cleanup;
	}
	if (!env.stats) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
		if (!rb) {
			err = -errno;
			fprintf(stderr, "vfio-trace: ring buffer: %s\n", strerror(errno));
			goto cleanup;
		}
	}

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	start = last_stats = now_ns();
	boot_ns_at_start = start;
	fprintf(stderr, "vfio-trace: tracing %s%s; Ctrl-C to stop\n",
		env.bdf ? env.bdf : env.stock ? "all vfio-pci based devices" :
		"all vfio-pci-bpf devices", env.stock ? " through vfio_pci_core" : "");
	if (!env.stats && !env.json)
		printf("%-8s %-7s %-12s %7s %-12s %5s %s\n", "TIME(s)", "BDF", "COMM",
		       "PID", "EVENT", "RET", "DETAIL");
	fflush(stdout);

	while (!exiting) {
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
			print_stats(skel, ncpu);
			if (env.hist)
				print_hists(skel, ncpu);
			last_stats = t;
		}
		if (env.duration && t - start >= (__u64)env.duration * 1000000000ULL)
			break;
	}
	err = err < 0 ? err : 0;
	if (rb)
		ring_buffer__consume(rb);
	if (env.stats)
		print_stats(skel, ncpu);
	if (env.hist)
		print_hists(skel, ncpu);
	if (env.stats)
		fprintf(stderr, "vfio-trace: done\n");
	else
		fprintf(stderr, "vfio-trace: %llu events shown, %llu lost\n",
			(unsigned long long)seen, (unsigned long long)skel->bss->lost);

cleanup:
	ring_buffer__free(rb);
	vfio_trace_bpf__destroy(skel);
	return err ? 1 : 0;
}
