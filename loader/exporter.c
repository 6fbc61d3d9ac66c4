// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_exporter's scrape and HTTP server (exporter.h); main() and the
 * arguments are in vfio_exporter.c.  Every scrape reads sysfs and the
 * per-CPU maps afresh (lib/device.c, lib/counters.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "kinds.h"
#include "pins.h"

struct exporter_env env = {
	.listen = DEFAULT_LISTEN,
	.max_conns = 64,
	.per_client = 16,
	.idle_timeout = 10,
};

__u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- the page --------------------------------------------------------------- */

void put(struct page *p, const char *fmt, ...)
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
void put_value(struct page *p, const char *s)
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
void put_series(struct page *p, const char *name, ...)
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

void put_family(struct page *p, const char *name, const char *type, const char *help)
{
	put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- what a scrape reads ----------------------------------------------------- */

/*
 * The collectors of a scrape.  One that fails (logged) drops its families
 * and says so in vfio_exporter_collector_success; the page is served with
 * the rest, as node_exporter does.
 */
static const char *const collector_names[NR_COLLECTORS] = {
	[COL_SYSFS] = "sysfs",
	[COL_COUNTS] = "counts",
	[COL_INTERRUPTS] = "interrupts",
	[COL_LATENCY] = "latency",
	[COL_POLICY] = "policy",
};

struct vfb_counters counters = { .counts = -1, .deliveries = -1, .hists = -1, .decisions = -1 };

struct device *device_of(struct scrape *s, __u32 sbdf)
{
	struct device *d;

	for (int i = 0; i < s->ndevs; i++)
		if (s->devs[i].dev.sbdf == sbdf)
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
	d->dev.sbdf = sbdf;
	d->dev.vf = d->dev.iommu_group = -1;
	vfb_bdf_str(sbdf, d->dev.bdf, sizeof(d->dev.bdf));
	return d;
}

/* Every device bound to vfio-pci-bpf now. */
int read_bound(struct scrape *s)
{
	struct vfb_device *bound;
	struct device *d;
	int n;

	n = vfb_devices_bound(VFB_DRIVER, &bound);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		d = device_of(s, bound[i].sbdf);
		if (!d) {
			free(bound);
			return -ENOMEM;
		}
		d->dev = bound[i];
		d->bound = true;
	}
	free(bound);
	return 0;
}

/* Per device and kind, summed over CPUs. */
static int read_counts(struct scrape *s)
{
	struct vfb_count *c;
	struct device *d;
	int n = vfb_read_counts(&counters, &c);

	for (int i = 0; i < n; i++) {
		if (c[i].key.kind >= VFT_NR_KINDS || !(vfb_kinds[c[i].key.kind].flags & VFT_K_OP))
			continue;
		d = device_of(s, c[i].key.sbdf);
		if (!d) {
			n = -ENOMEM;
			break;
		}
		d->ops[c[i].key.kind] = c[i].n;
	}
	free(c);
	return n < 0 ? n : 0;
}

/*
 * Latency histograms of the devices this scrape knows (bound to
 * vfio-pci-bpf, or counted): the timing programs see every vfio-pci based
 * device, and devices under other drivers are not ours to report.
 */
static int read_latency(struct scrape *s)
{
	struct vfb_latency *l;
	int n = vfb_read_latency(&counters, &l);

	for (int i = 0; i < n; i++) {
		for (int j = 0; j < s->ndevs; j++)
			if (s->devs[j].dev.sbdf == l[i].key.sbdf && l[i].key.kind < VFT_NR_KINDS)
				s->devs[j].lat[l[i].key.kind] = l[i].h;
	}
	free(l);
	return n < 0 ? n : 0;
}

static int read_deliveries(struct scrape *s)
{
	int n = vfb_read_deliveries(&counters, &s->irqs);

	s->nirqs = n < 0 ? 0 : n;
	return n < 0 ? n : 0;
}

/*
 * The policies the kernel has (the module's modes file: "<bdf> <mode>
 * <name>" a line) and the decisions counted, summed over rules: the rule
 * index stays out of the labels (vfio-bpf policy show has it).
 */
static int read_policy(struct scrape *s)
{
	char path[PATH_MAX], line[128], bdf[32], mode[16], name[VFT_POLICY_NAME_LEN + 1];
	struct vfb_decision *dec;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/modes", vfb_driver_sysfs);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			struct policy_info *pi;
			void *grown;

			name[0] = '\0';
			if (sscanf(line, "%31s %15s %32s", bdf, mode, name) < 2)
				continue;
			grown = realloc(s->policies, (s->npolicies + 1) * sizeof(*s->policies));
			if (!grown) {
				fclose(f);
				return -ENOMEM;
			}
			s->policies = grown;
			pi = &s->policies[s->npolicies++];
			memset(pi, 0, sizeof(*pi));
			if (vfb_parse_bdf(bdf, &pi->sbdf))
				s->npolicies--;
			pi->monitor = !strcmp(mode, "monitor");
			snprintf(pi->name, sizeof(pi->name), "%s", name);
		}
		fclose(f);
	} else if (errno != ENOENT) {
		return -errno;
	}
	n = vfb_read_decisions(&counters, &dec);
	if (n < 0)
		return n;
	s->decisions = dec;
	s->ndecisions = n;
	return 0;
}

static const char *policy_name_of(const struct scrape *s, __u32 sbdf)
{
	for (int i = 0; i < s->npolicies; i++)
		if (s->policies[i].sbdf == sbdf)
			return s->policies[i].name;
	return "";
}

static void put_policy(struct page *p, const struct scrape *s)
{
	char bdf[VFB_BDF_LEN];

	put_family(p, "vfio_policy_info", "gauge",
		   "The policy the kernel has attached to the device, and its mode; always 1.");
	for (int i = 0; i < s->npolicies; i++) {
		vfb_bdf_str(s->policies[i].sbdf, bdf, sizeof(bdf));
		put_series(p, "vfio_policy_info", "bdf", bdf, "policy", s->policies[i].name,
			   "mode", s->policies[i].monitor ? "monitor" : "enforce", NULL);
		put(p, "1\n");
	}
	put_family(p, "vfio_policy_decisions_total", "counter",
		   "Policy decisions other than allow, by hook, verdict and mode (monitor: "
		   "recorded, not enforced); policy is the one attached now.");
	for (int i = 0; i < s->ndecisions; ) {
		const struct vft_decision_key *k = &s->decisions[i].key;
		__u64 sum = 0;
		int j = i;

		/* Sorted with the rule last: one series per run of rules. */
		for (; j < s->ndecisions; j++) {
			const struct vft_decision_key *o = &s->decisions[j].key;

			if (o->sbdf != k->sbdf || o->hook != k->hook || o->verdict != k->verdict ||
			    o->monitor != k->monitor)
				break;
			sum += s->decisions[j].n;
		}
		vfb_bdf_str(k->sbdf, bdf, sizeof(bdf));
		put_series(p, "vfio_policy_decisions_total", "bdf", bdf, "policy",
			   policy_name_of(s, k->sbdf), "hook", vfb_hook_name(k->hook), "verdict",
			   vfb_verdict_name(k->verdict), "mode", k->monitor ? "monitor" : "enforce",
			   NULL);
		put(p, "%llu\n", (unsigned long long)sum);
		i = j;
	}
}

static int cmp_device(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return x->dev.sbdf < y->dev.sbdf ? -1 : x->dev.sbdf > y->dev.sbdf;
}

static void put_devices(struct page *p, const struct scrape *s)
{
	char vendor[8], device[8];

	put_family(p, "vfio_device_info", "gauge",
		   "A PCI device bound to vfio-pci-bpf (from sysfs); always 1.");
	for (int i = 0; i < s->ndevs; i++) {
		const struct vfb_device *d = &s->devs[i].dev;
		char vf[12] = "";

		if (!s->devs[i].bound)
			continue;
		snprintf(vendor, sizeof(vendor), "%04x", d->vendor & 0xffff);
		snprintf(device, sizeof(device), "%04x", d->device & 0xffff);
		if (d->vf >= 0)
			snprintf(vf, sizeof(vf), "%d", d->vf);
		put_series(p, "vfio_device_info", "bdf", d->bdf, "vendor", d->vendor < 0 ? "" : vendor,
			   "device", d->device < 0 ? "" : device, "driver", d->driver, "pf", d->pf,
			   "vf", vf, NULL);
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

			if (!(vfb_kinds[k].flags & VFT_K_OP))
				continue;
			put_series(p, name, "bdf", s->devs[i].dev.bdf, "op", vfb_kinds[k].name, NULL);
			put(p, "%llu\n", (unsigned long long)(errors ? c->errors : c->events));
		}
	}
}

static void put_interrupts(struct page *p, const struct scrape *s)
{
	char bdf[VFB_BDF_LEN], vec[12];

	put_family(p, "vfio_interrupts_total", "counter",
		   "Interrupts the device delivered, by VFIO irq index and vector.");
	for (int i = 0; i < s->nirqs; i++) {
		const struct vfb_delivery *dl = &s->irqs[i];

		vfb_bdf_str(dl->v.sbdf, bdf, sizeof(bdf));
		snprintf(vec, sizeof(vec), "%u", dl->v.vector);
		put_series(p, "vfio_interrupts_total", "bdf", bdf, "index",
			   vfb_irq_index_name(dl->v.index), "vector", vec, NULL);
		put(p, "%llu\n", (unsigned long long)dl->n);
	}
}

/*
 * Bucket bounds: powers of two from 1.024 us to 1.07 s (the log2 slots of
 * struct vft_hist, coarser ones merged into the first and last buckets),
 * written exactly: 2^n ns is a whole number of nanoseconds.
 */
#define LAT_FIRST_SLOT	9
#define LAT_LAST_SLOT	29

void le_seconds(__u64 ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
		 (unsigned long long)(ns % 1000000000ULL));
}

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
		const char *bdf = s->devs[i].dev.bdf;

		for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
			const struct vft_hist *h = &s->devs[i].lat[kinds[j]];
			const char *op = vfb_kind_name(kinds[j]);
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
				le_seconds(1ULL << (b + 1), le, sizeof(le));
				put_series(p, bucket, "bdf", bdf, "op", op, "le", le, NULL);
				put(p, "%llu\n", (unsigned long long)cum);
			}
			put_series(p, bucket, "bdf", bdf, "op", op, "le", "+Inf", NULL);
			put(p, "%llu\n", (unsigned long long)total);
			put_series(p, "vfio_access_duration_seconds_sum", "bdf", bdf, "op", op, NULL);
			put(p, "%.9f\n", h->sum_ns / 1e9);
			put_series(p, "vfio_access_duration_seconds_count", "bdf", bdf, "op", op, NULL);
			put(p, "%llu\n", (unsigned long long)total);
		}
	}
}

/* The families of a scrape, in a stable order; those of failed collectors left out. */
void put_scrape(struct page *p, struct scrape *s)
{
	qsort(s->devs, s->ndevs, sizeof(*s->devs), cmp_device);
	qsort(s->irqs, s->nirqs, sizeof(*s->irqs), vfb_delivery_cmp);
	if (!s->failed[COL_SYSFS])
		put_devices(p, s);
	if (!s->failed[COL_COUNTS]) {
		put_operations(p, s, false);
		put_operations(p, s, true);
	}
	if (!s->failed[COL_INTERRUPTS])
		put_interrupts(p, s);
	if (!s->failed[COL_LATENCY])
		put_latency(p, s);
	if (!s->failed[COL_POLICY])
		put_policy(p, s);
	put_family(p, "vfio_exporter_collector_success", "gauge",
		   "1 when the collector read its source in this scrape, 0 when it failed "
		   "(its families are left out).");
	for (int c = 0; c < NR_COLLECTORS; c++) {
		put_series(p, "vfio_exporter_collector_success", "collector", collector_names[c],
			   NULL);
		put(p, "%d\n", !s->failed[c]);
	}
}

/* The whole exposition, from sysfs and the maps as they are now. */
int build_page(struct page *p)
{
	int (*const collect[NR_COLLECTORS])(struct scrape *) = {
		/* latency after the others: it reports the devices they found */
		[COL_SYSFS] = read_bound,
		[COL_COUNTS] = read_counts,
		[COL_INTERRUPTS] = read_deliveries,
		[COL_LATENCY] = read_latency,
		[COL_POLICY] = read_policy,
	};
	__u64 start = now_ns();
	struct scrape s = {};
	int err = 0;

	for (int c = 0; c < NR_COLLECTORS; c++) {
		int e = collect[c](&s);

		if (e == -ENOMEM)
			err = e;
		if (e) {
			s.failed[c] = true;
			fprintf(stderr, "vfio_exporter: collector %s failed: %s\n",
				collector_names[c], strerror(-e));
		}
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
	free(s.devs);
	free(s.irqs);
	free(s.policies);
	free(s.decisions);
	return err;
}

/* ---- HTTP ----------------------------------------------------------------- */

/* ADDR:PORT into env.addr; ADDR numeric, IPv6 in brackets, empty for any. */
int parse_listen(const char *arg)
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

struct conn *conns;
unsigned int nconns;

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
int open_listener(void)
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
struct MHD_Daemon *start_httpd(int lfd)
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
