// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_exporter: Prometheus metrics of VFIO devices bound to vfio-pci-bpf.
 *
 * Loads bpf/vfio_trace.bpf.c in counts-only mode (no ring buffer) and serves
 * GET /metrics in the Prometheus text exposition format with libmicrohttpd.
 * Every scrape reads sysfs and the per-CPU maps afresh; the BPF counters are
 * never reset, so the exported counters only grow while the exporter runs.
 * docs/metrics.md describes the metric families.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "counters.h"
#include "vfio_trace.h"

#define EXPORTER_VERSION	"0.1"
#define DEFAULT_LISTEN		"127.0.0.1:9466"
#define DRIVER_NAME		"vfio-pci-bpf"
#ifndef SYSFS_PCI		/* tests/host/exporter_unit.c points it elsewhere */
#define SYSFS_PCI		"/sys/bus/pci"
#endif

/* The operations exported, by event kind; NULL for kinds that are not. */
static const char *const op_names[VFT_NR_KINDS] = {
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
	[VFT_MIG_TRANSITION] = "mig_transition",
	[VFT_MIG_DATA] = "mig_data",
};


static const char *const irq_index_names[] = { "INTX", "MSI", "MSIX", "ERR", "REQ" };

static struct env {
	const char *listen;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned int max_conns;		/* MHD_OPTION_CONNECTION_LIMIT */
	unsigned int per_client;	/* MHD_OPTION_PER_IP_CONNECTION_LIMIT */
	unsigned int idle_timeout;	/* MHD_OPTION_CONNECTION_TIMEOUT, seconds */
} env = {
	.listen = DEFAULT_LISTEN,
	.max_conns = 64,
	.per_client = 16,
	.idle_timeout = 10,
};

enum { OPT_MAX_CONNS = 256, OPT_PER_CLIENT, OPT_IDLE_TIMEOUT };

static volatile sig_atomic_t exiting;
static struct vfb_counters counters = { .counts = -1, .deliveries = -1, .hists = -1 };
static int ncpu;

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
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

/* ADDR:PORT into env.addr; ADDR numeric, IPv6 in brackets, empty for any. */
static int parse_listen(const char *arg)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&env.addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&env.addr;
	const char *colon = strrchr(arg, ':');
	char host[INET6_ADDRSTRLEN + 2], *end;
	size_t hlen;
	long port;

	if (!colon || colon[1] == '\0')
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	hlen = colon - arg;
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';

	memset(&env.addr, 0, sizeof(env.addr));
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		env.addrlen = sizeof(*in6);
		return 0;
	}
	if (hlen == 0)
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return -EINVAL;
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	env.addrlen = sizeof(*in4);
	return 0;
}

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

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- the page --------------------------------------------------------------- */

struct page {
	char *buf;
	size_t len, cap;
	bool failed;		/* out of memory: the scrape answers 500 */
};

__attribute__((format(printf, 2, 3)))
static void put(struct page *p, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *b;
	int n;

	if (p->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			p->failed = true;
			return;
		}
		if ((size_t)n < p->cap - p->len) {
			p->len += n;
			return;
		}
		cap = p->cap * 2 > p->len + n + 1 ? p->cap * 2 : p->len + n + 1;
		b = realloc(p->buf, cap);
		if (!b) {
			p->failed = true;
			return;
		}
		p->buf = b;
		p->cap = cap;
	}
}

/* A label value, escaped as the text format wants: \\, \" and \n. */
static void put_value(struct page *p, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(p, "\\\\");
		else if (*s == '"')
			put(p, "\\\"");
		else if (*s == '\n')
			put(p, "\\n");
		else
			put(p, "%c", *s);
	}
}

/* name{k1="v1",k2="v2",...} from NULL-terminated key, value pairs. */
static void put_series(struct page *p, const char *name, ...)
{
	const char *k, *sep = "{";
	va_list ap;

	put(p, "%s", name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		put(p, "%s%s=\"", sep, k);
		put_value(p, va_arg(ap, const char *));
		put(p, "\"");
		sep = ",";
	}
	va_end(ap);
	put(p, "%s", *sep == ',' ? "} " : " ");
}

static void put_family(struct page *p, const char *name, const char *type, const char *help)
{
	put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- what a scrape reads ----------------------------------------------------- */

struct device {
	__u32 sbdf;
	char bdf[16];
	bool bound;		/* bound to vfio-pci-bpf now */
	char vendor[8], device[8], driver[64], pf[16], vf[12];
	struct vft_count ops[VFT_NR_KINDS];
	struct vft_hist lat[VFT_NR_KINDS];	/* latency, summed over CPUs */
};

struct delivery {
	struct vft_vector v;
	__u64 n;
};

struct scrape {
	struct device *devs;
	int ndevs, devs_cap;
	struct delivery *irqs;
	int nirqs, irqs_cap;
};

static struct device *device_of(struct scrape *s, __u32 sbdf)
{
	struct device *d;

	for (int i = 0; i < s->ndevs; i++)
		if (s->devs[i].sbdf == sbdf)
			return &s->devs[i];
	if (s->ndevs == s->devs_cap) {
		int cap = s->devs_cap ? 2 * s->devs_cap : 16;

		d = realloc(s->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		s->devs = d;
		s->devs_cap = cap;
	}
	d = &s->devs[s->ndevs++];
	memset(d, 0, sizeof(*d));
	d->sbdf = sbdf;
	vfb_bdf_str(sbdf, d->bdf, sizeof(d->bdf));
	return d;
}

/* strlcpy: truncation of sysfs strings is fine (and unexpected). */
static void copy_str(char *out, size_t len, const char *s)
{
	size_t n = strnlen(s, len - 1);

	memcpy(out, s, n);
	out[n] = '\0';
}

/* A sysfs id file ("0x1234\n") as "1234"; "" when unreadable. */
static void read_id(const char *bdf, const char *attr, char *out, size_t len)
{
	char path[PATH_MAX], buf[32];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		copy_str(out, len, strncmp(buf, "0x", 2) ? buf : buf + 2);
	}
	fclose(f);
}

/* The last path component of a symlink; "" when it is none. */
static void link_name(const char *path, char *out, size_t len)
{
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	const char *base;

	out[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	copy_str(out, len, base ? base + 1 : link);
}

/* For a VF: its PF's BDF and its index among the PF's virtfnN links. */
static void read_sriov(struct device *d)
{
	char path[PATH_MAX], name[32];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/physfn", d->bdf);
	link_name(path, d->pf, sizeof(d->pf));
	if (!d->pf[0])
		return;
	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s", d->pf);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "virtfn", 6))
			continue;
		snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/%s", d->pf, de->d_name);
		link_name(path, name, sizeof(name));
		if (!strcmp(name, d->bdf)) {
			snprintf(d->vf, sizeof(d->vf), "%s", de->d_name + 6);
			break;
		}
	}
	closedir(dir);
}

/* Every device bound to vfio-pci-bpf now. */
static int read_bound(struct scrape *s)
{
	char path[PATH_MAX], driver[64];
	struct dirent *de;
	struct device *d;
	DIR *dir;
	__u32 sbdf;

	dir = opendir(SYSFS_PCI "/drivers/" DRIVER_NAME);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (vfb_parse_bdf(de->d_name, &sbdf))
			continue;
		snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/driver", de->d_name);
		link_name(path, driver, sizeof(driver));
		if (strcmp(driver, DRIVER_NAME))	/* unbound meanwhile */
			continue;
		d = device_of(s, sbdf);
		if (!d) {
			closedir(dir);
			return -ENOMEM;
		}
		copy_str(d->driver, sizeof(d->driver), driver);
		d->bound = true;
		read_id(d->bdf, "vendor", d->vendor, sizeof(d->vendor));
		read_id(d->bdf, "device", d->device, sizeof(d->device));
		read_sriov(d);
	}
	closedir(dir);
	return 0;
}

/* Per device and kind, summed over CPUs. */
static int read_counts(struct scrape *s)
{
	int fd = counters.counts, err;
	struct vft_count_key k, next;
	struct vft_count vals[ncpu];
	struct device *d;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		k = next;
		if (next.kind >= VFT_NR_KINDS || !op_names[next.kind])
			continue;
		if (bpf_map_lookup_elem(fd, &next, vals))
			continue;	/* deleted meanwhile; we never do */
		d = device_of(s, next.sbdf);
		if (!d)
			return -ENOMEM;
		for (int i = 0; i < ncpu; i++) {
			d->ops[next.kind].events += vals[i].events;
			d->ops[next.kind].errors += vals[i].errors;
		}
	}
	return err == -ENOENT ? 0 : err;
}

/*
 * Latency histograms of the devices this scrape knows (bound to
 * vfio-pci-bpf, or counted): the timing programs see every vfio-pci based
 * device, and devices under other drivers are not ours to report.
 */
static int read_latency(struct scrape *s)
{
	int fd = counters.hists, err;
	struct vft_count_key k, next;
	struct vft_hist *vals;

	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		struct device *d = NULL;

		k = next;
		for (int i = 0; i < s->ndevs; i++)
			if (s->devs[i].sbdf == next.sbdf)
				d = &s->devs[i];
		if (!d || next.kind >= VFT_NR_KINDS ||
		    bpf_map_lookup_elem(fd, &next, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			for (int i = 0; i < VFT_HIST_SLOTS; i++)
				d->lat[next.kind].slots[i] += vals[c].slots[i];
			d->lat[next.kind].sum_ns += vals[c].sum_ns;
		}
	}
	free(vals);
	return err == -ENOENT ? 0 : err;
}

static int read_deliveries(struct scrape *s)
{
	int fd = counters.deliveries, err;
	struct vft_vector k, next;
	__u64 vals[ncpu];

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &k, &next)) {
		struct delivery *dl;

		k = next;
		if (bpf_map_lookup_elem(fd, &next, vals))
			continue;
		if (s->nirqs == s->irqs_cap) {
			int cap = s->irqs_cap ? 2 * s->irqs_cap : 16;

			dl = realloc(s->irqs, cap * sizeof(*dl));
			if (!dl)
				return -ENOMEM;
			s->irqs = dl;
			s->irqs_cap = cap;
		}
		dl = &s->irqs[s->nirqs++];
		dl->v = next;
		dl->n = 0;
		for (int i = 0; i < ncpu; i++)
			dl->n += vals[i];
	}
	return err == -ENOENT ? 0 : err;
}

static int cmp_device(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

static int cmp_delivery(const void *a, const void *b)
{
	const struct vft_vector *x = &((const struct delivery *)a)->v;
	const struct vft_vector *y = &((const struct delivery *)b)->v;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->vector < y->vector ? -1 : x->vector > y->vector;
}

static void put_devices(struct page *p, const struct scrape *s)
{
	put_family(p, "vfio_device_info", "gauge",
		   "A PCI device bound to vfio-pci-bpf (from sysfs); always 1.");
	for (int i = 0; i < s->ndevs; i++) {
		const struct device *d = &s->devs[i];

		if (!d->bound)
			continue;
		put_series(p, "vfio_device_info", "bdf", d->bdf, "vendor", d->vendor,
			   "device", d->device, "driver", d->driver, "pf", d->pf,
			   "vf", d->vf, NULL);
		put(p, "1\n");
	}
}

/*
 * Every device bound to vfio-pci-bpf, and every one the maps have counted
 * (since unbound), has a series for each operation, zero until it happens,
 * so that rate() sees the first one.
 */
static void put_operations(struct page *p, const struct scrape *s, bool errors)
{
	const char *name = errors ? "vfio_operation_errors_total" : "vfio_operations_total";

	put_family(p, name, "counter", errors ?
		   "VFIO operations on the device that failed (returned < 0), by operation." :
		   "VFIO operations on the device seen by vfio-pci-bpf's tracepoints, by operation.");
	for (int i = 0; i < s->ndevs; i++) {
		for (int k = 0; k < VFT_NR_KINDS; k++) {
			const struct vft_count *c = &s->devs[i].ops[k];

			if (!op_names[k])
				continue;
			put_series(p, name, "bdf", s->devs[i].bdf, "op", op_names[k], NULL);
			put(p, "%llu\n", (unsigned long long)(errors ? c->errors : c->events));
		}
	}
}

static void put_interrupts(struct page *p, const struct scrape *s)
{
	char bdf[16], idx[12], vec[12];

	put_family(p, "vfio_interrupts_total", "counter",
		   "Interrupts the device delivered, by VFIO irq index and vector.");
	for (int i = 0; i < s->nirqs; i++) {
		const struct delivery *dl = &s->irqs[i];

		vfb_bdf_str(dl->v.sbdf, bdf, sizeof(bdf));
		if (dl->v.index < sizeof(irq_index_names) / sizeof(irq_index_names[0]))
			snprintf(idx, sizeof(idx), "%s", irq_index_names[dl->v.index]);
		else
			snprintf(idx, sizeof(idx), "%u", dl->v.index);
		snprintf(vec, sizeof(vec), "%u", dl->v.vector);
		put_series(p, "vfio_interrupts_total", "bdf", bdf, "index", idx,
			   "vector", vec, NULL);
		put(p, "%llu\n", (unsigned long long)dl->n);
	}
}

/*
 * Bucket bounds: powers of two from 1.024 us to 1.07 s (the log2 slots of
 * struct vft_hist, coarser ones merged into the first and last buckets).
 */
#define LAT_FIRST_SLOT	9
#define LAT_LAST_SLOT	29

static void put_latency(struct page *p, const struct scrape *s)
{
	static const int kinds[] = {
		VFT_CONFIG_READ, VFT_CONFIG_WRITE, VFT_BAR_READ, VFT_BAR_WRITE, VFT_IOCTL,
	};
	const char *name = "vfio_access_duration_seconds";
	char le[32], bucket[64];

	put_family(p, name, "histogram",
		   "Time vfio_pci_core took for a config, BAR or ioctl access, by operation.");
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (int i = 0; i < s->ndevs; i++) {
		for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
			const struct vft_hist *h = &s->devs[i].lat[kinds[j]];
			const char *op = op_names[kinds[j]];
			__u64 cum = 0, total = 0;

			for (int b = 0; b < VFT_HIST_SLOTS; b++)
				total += h->slots[b];
			if (!total)
				continue;
			for (int b = 0; b <= LAT_LAST_SLOT; b++) {
				cum += h->slots[b];
				if (b < LAT_FIRST_SLOT)
					continue;
				/* slot b holds [2^b, 2^(b+1)) ns */
				snprintf(le, sizeof(le), "%g", (double)(1ULL << (b + 1)) / 1e9);
				put_series(p, bucket, "bdf", s->devs[i].bdf, "op", op, "le", le, NULL);
				put(p, "%llu\n", (unsigned long long)cum);
			}
			put_series(p, bucket, "bdf", s->devs[i].bdf, "op", op, "le", "+Inf", NULL);
			put(p, "%llu\n", (unsigned long long)total);
			put_series(p, "vfio_access_duration_seconds_sum", "bdf", s->devs[i].bdf,
				   "op", op, NULL);
			put(p, "%.9f\n", h->sum_ns / 1e9);
			put_series(p, "vfio_access_duration_seconds_count", "bdf", s->devs[i].bdf,
				   "op", op, NULL);
			put(p, "%llu\n", (unsigned long long)total);
		}
	}
}

/* The families of a scrape, in a stable order. */
static void put_scrape(struct page *p, struct scrape *s)
{
	qsort(s->devs, s->ndevs, sizeof(*s->devs), cmp_device);
	qsort(s->irqs, s->nirqs, sizeof(*s->irqs), cmp_delivery);
	put_devices(p, s);
	put_operations(p, s, false);
	put_operations(p, s, true);
	put_interrupts(p, s);
	put_latency(p, s);
}

/* The whole exposition, from sysfs and the maps as they are now. */
static int build_page(struct page *p)
{
	__u64 start = now_ns();
	struct scrape s = {};
	int err;

	err = read_bound(&s);
	if (!err)
		err = read_counts(&s);
	if (!err)
		err = read_deliveries(&s);
	if (!err)
		err = read_latency(&s);
	if (err) {
		fprintf(stderr, "vfio_exporter: scrape failed: %s\n", strerror(-err));
		goto out;
	}
	put_scrape(p, &s);
	put_family(p, "vfio_exporter_scrape_duration_seconds", "gauge",
		   "Time this scrape took to read sysfs and the BPF maps and format the page.");
	put(p, "vfio_exporter_scrape_duration_seconds %.6f\n", (now_ns() - start) / 1e9);
	put_family(p, "vfio_exporter_build_info", "gauge",
		   "The exporter's version; always 1.");
	put_series(p, "vfio_exporter_build_info", "version", EXPORTER_VERSION, NULL);
	put(p, "1\n");
	if (p->failed)
		err = -ENOMEM;
out:
	free(s.devs);
	free(s.irqs);
	return err;
}

/* ---- HTTP ----------------------------------------------------------------- */

/*
 * Connections, to close idle ones for newcomers.  libmicrohttpd stops
 * accepting at its connection limit and refuses a client past its per-IP
 * limit; alone, that lets anybody who opens that many connections and sends
 * nothing (or a byte now and then) lock Prometheus out, timeout after
 * timeout; and on 127.0.0.1 every local user is the same client.  So a new
 * connection that takes the last place, overall or of its client, makes
 * room: the connection idle the longest (no request under way: it never
 * sent a whole request, or is kept alive after one) is shut down.  A scrape
 * sends its request at once, so it is never the one idle the longest.
 * libmicrohttpd's own limits sit EVICT_SLACK above ours, so that newcomers
 * are still accepted while the shut-down ones close.  All of this runs in
 * libmicrohttpd's one thread (MHD_USE_POLL_INTERNAL_THREAD): no locks.
 */
#define EVICT_SLACK	4

struct conn {
	bool used, busy, closing;
	int fd;
	struct sockaddr_storage addr;
	__u64 idle_since;
};

static struct conn *conns;
static unsigned int nconns;

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
	return false;
}

/* Shut down the connection idle the longest (of @client, if given). */
static void evict_idle(const struct conn *except, const struct sockaddr_storage *client)
{
	struct conn *old = NULL;

	for (unsigned int i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		if (!c->used || c->busy || c->closing || c == except || c->fd < 0 ||
		    (client && !same_client(&c->addr, client)))
			continue;
		if (!old || c->idle_since < old->idle_since)
			old = c;
	}
	/* libmicrohttpd sees the end of the stream and closes it itself. */
	if (old && !shutdown(old->fd, SHUT_RDWR))
		old->closing = true;
}

static void conn_notify(void *cls, struct MHD_Connection *mc, void **ctx,
			enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	unsigned int live = 0, mine = 0;
	struct conn *c = NULL;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*ctx)
			((struct conn *)*ctx)->used = false;
		return;
	}
	for (unsigned int i = 0; i < nconns && !c; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (!c)		/* past libmicrohttpd's own limit: cannot be */
		return;
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->fd = -1;
	c->idle_since = now_ns();
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		c->fd = ci->connect_fd;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr)
		memcpy(&c->addr, ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
		       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	*ctx = c;
	for (unsigned int i = 0; i < nconns; i++) {
		if (!conns[i].used || conns[i].closing)
			continue;
		live++;
		mine += same_client(&conns[i].addr, &c->addr);
	}
	if (live > env.max_conns - 1)
		evict_idle(c, NULL);
	else if (mine > env.per_client - 1)
		evict_idle(c, &c->addr);
}

/* A request is under way from its headers to its completion. */
static void conn_busy(struct MHD_Connection *mc, bool busy)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = ci ? ci->socket_context : NULL;
	if (!c)
		return;
	c->busy = busy;
	if (!busy)
		c->idle_since = now_ns();
}

static void request_done(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	conn_busy(mc, false);
}

static const char index_page[] =
"<!DOCTYPE html>\n"
"<html><head><title>vfio_exporter</title></head>\n"
"<body><h1>vfio_exporter</h1>\n"
"<p>Metrics of VFIO devices bound to vfio-pci-bpf: <a href=\"/metrics\">/metrics</a></p>\n"
"</body></html>\n";

static const char not_found[] = "404 page not found: try /metrics\n";
static const char not_allowed[] = "405 method not allowed: GET or HEAD\n";
static const char server_error[] = "500 the scrape failed; see the exporter's log\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, const char *body, size_t len, bool owned)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       owned ? MHD_RESPMEM_MUST_FREE :
					       MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn,
				      const char *url, const char *method,
				      const char *version, const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	static int seen_headers;
	struct page p = {};

	/* The first call brings the headers only; answer on the next. */
	if (*con_cls != &seen_headers) {
		*con_cls = &seen_headers;
		conn_busy(conn, true);
		return MHD_YES;
	}
	if (*upload_data_size) {	/* a body we do not want */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     not_allowed, sizeof(not_allowed) - 1, false);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
			     index_page, sizeof(index_page) - 1, false);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
			     not_found, sizeof(not_found) - 1, false);

	p.cap = 16384;
	p.buf = malloc(p.cap);
	if (!p.buf || build_page(&p)) {
		free(p.buf);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
			     server_error, sizeof(server_error) - 1, false);
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     p.buf, p.len, true);
}

/* Bind and listen ourselves, so that a taken port gets a clear message. */
static int open_listener(void)
{
	int fd, one = 1, family = env.addr.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "vfio_exporter: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&env.addr, env.addrlen) || listen(fd, 64)) {
		int e = errno;

		fprintf(stderr, "vfio_exporter: cannot listen on %s: %s\n", env.listen, strerror(e));
		if (e == EADDRINUSE)
			fprintf(stderr, "  another program (another vfio_exporter?) has this port:\n"
				"  stop it, or choose another port with -l ADDR:PORT\n");
		else if (e == EADDRNOTAVAIL)
			fprintf(stderr, "  no interface of this machine has that address\n");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * libmicrohttpd's messages, at most one a second: each connection closed
 * for a newcomer is one, and an attack must not flood the log.
 */
static void http_log(void *cls, const char *fmt, va_list ap)
{
	static unsigned long dropped;
	static __u64 last;
	__u64 t = now_ns();

	if (last && t - last < 1000000000ull) {
		dropped++;
		return;
	}
	last = t;
	fprintf(stderr, "vfio_exporter: http: ");
	vfprintf(stderr, fmt, ap);
	if (dropped)
		fprintf(stderr, "vfio_exporter: http: (and %lu more messages not shown)\n", dropped);
	dropped = 0;
}

/* The HTTP server on @lfd, with the limits of env (docs/vfio_exporter.md). */
static struct MHD_Daemon *start_httpd(int lfd)
{
	nconns = env.max_conns + EVICT_SLACK;
	conns = calloc(nconns, sizeof(*conns));
	if (!conns)
		return NULL;
	return MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
				(env.addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, handle_request, NULL,
				MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, lfd,
				MHD_OPTION_CONNECTION_LIMIT, nconns,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, env.per_client + EVICT_SLACK,
				MHD_OPTION_CONNECTION_TIMEOUT, env.idle_timeout,
				MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = doc,
	};
	struct MHD_Daemon *httpd = NULL;
	sigset_t sigs, old;
	int err, lfd = -1;

	argp_err_exit_status = 2;
	parse_listen(DEFAULT_LISTEN);
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	libbpf_set_print(vfb_libbpf_print);
	if (vfb_check_btf("vfio_exporter", "vfio_pci_bpf", VFB_LOAD_HINT))
		return 1;
	lfd = open_listener();
	if (lfd < 0)
		return 1;

	/* The counters `vfio-bpf load` pinned, or our own. */
	if (!vfb_counters_open_pinned(&counters)) {
		fprintf(stderr, "vfio_exporter: reading the counters pinned at %s\n",
			VFB_COUNTERS_DIR);
	} else if (vfb_counters_load(&counters, "vfio_exporter")) {
		err = -EINVAL;
		goto cleanup;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0) {
		err = ncpu;
		fprintf(stderr, "vfio_exporter: cannot count the CPUs: %s\n", strerror(-err));
		goto cleanup;
	}

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
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
	while (!exiting)
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
