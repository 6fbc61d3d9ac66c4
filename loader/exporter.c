// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_exporter's scrape and HTTP server (exporter.h); main() and the
 * arguments are in vfio_exporter.c.  Every scrape reads the per-CPU maps
 * afresh (lib/counters.c) and lists the devices bound; what sysfs says of
 * each is read once per bind (read_bound).  Lookups are binary searches
 * and the page is appended to without printf where it can be: the scrape
 * is linear in the number of devices (docs/benchmarks.md, exporter at
 * scale).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

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

/* Room for @n more bytes and a NUL; false (p->failed) out of memory. */
static bool reserve(struct page *p, size_t n)
{
	size_t cap;
	char *b;

	if (p->failed)
		return false;
	if (p->len + n < p->cap)
		return true;
	cap = p->cap * 2 > p->len + n + 1 ? p->cap * 2 : p->len + n + 1;
	b = realloc(p->buf, cap);
	if (!b) {
		p->failed = true;
		return false;
	}
	p->buf = b;
	p->cap = cap;
	return true;
}

void put(struct page *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reserve(p, 0))
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
		if (!reserve(p, n))
			return;
	}
}

void put_mem(struct page *p, const char *s, size_t n)
{
	if (!reserve(p, n))
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void put_str(struct page *p, const char *s)
{
	put_mem(p, s, strlen(s));
}

/* @v in decimal and a newline: a sample's value. */
static void put_u64(struct page *p, __u64 v)
{
	char buf[24], *e = buf + sizeof(buf), *b = e;

	*--b = '\n';
	do {
		*--b = '0' + v % 10;
		v /= 10;
	} while (v);
	put_mem(p, b, e - b);
}

/* A label value, escaped as the text format wants: \\, \" and \n. */
void put_value(struct page *p, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "\\\"\n");

		put_mem(p, s, n);
		s += n;
		if (!*s)
			return;
		put_str(p, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n");
		s++;
	}
}

/* name{k1="v1",k2="v2",...} from NULL-terminated key, value pairs. */
void put_series(struct page *p, const char *name, ...)
{
	const char *k, *sep = "{";
	va_list ap;

	put_str(p, name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		put_str(p, sep);
		put_str(p, k);
		put_mem(p, "=\"", 2);
		put_value(p, va_arg(ap, const char *));
		put_mem(p, "\"", 1);
		sep = ",";
	}
	va_end(ap);
	put_str(p, *sep == ',' ? "} " : " ");
}

/*
 * The samples of the hot families (operations, interrupts, histograms:
 * tens per device) are built in place, from pieces whose length is known,
 * into room reserved for a whole line: the label values there are BDFs,
 * kind, index and bucket names, none of which needs escaping.
 */
#define SAMPLE_MAX	256

static char *cat(char *c, const char *s, size_t n)
{
	memcpy(c, s, n);
	return c + n;
}

#define CAT(c, lit)	cat(c, lit, sizeof(lit) - 1)

static char *cat_str(char *c, const char *s)
{
	return cat(c, s, strlen(s));
}

/* @v in decimal. */
static char *cat_dec(char *c, __u64 v)
{
	char buf[24], *e = buf + sizeof(buf), *b = e;

	do {
		*--b = '0' + v % 10;
		v /= 10;
	} while (v);
	return cat(c, b, e - b);
}

/* @v in decimal and a newline: a sample's value. */
static char *cat_u64(char *c, __u64 v)
{
	c = cat_dec(c, v);
	*c++ = '\n';
	return c;
}

/* Room for a line at the end of the page; NULL out of memory. */
static char *line_start(struct page *p)
{
	return reserve(p, SAMPLE_MAX) ? p->buf + p->len : NULL;
}

static void line_end(struct page *p, char *c)
{
	*c = '\0';
	p->len = c - p->buf;
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
	[COL_MIGRATION] = "migration",
};

struct vfb_counters counters = {
	.counts = -1, .deliveries = -1, .hists = -1, .decisions = -1, .slot_counts = -1,
	.mig_devs = -1, .mig_arcs = -1, .mig_downtime = -1, .cfg_touch = -1,
};

static int map_counts(struct vfb_count **out, bool *full)
{
	return vfb_read_counts_full(&counters, out, full);
}

static int map_deliveries(struct vfb_delivery **out)
{
	return vfb_read_deliveries(&counters, out);
}

static int map_latency(struct vfb_latency **out)
{
	return vfb_read_latency(&counters, out);
}

static int map_decisions(struct vfb_decision **out)
{
	return vfb_read_decisions(&counters, out);
}

static int map_mig_devs(struct vfb_mig_dev **out)
{
	return vfb_read_mig_devs(&counters, out);
}

static int map_mig_arcs(struct vfb_mig_hist **out)
{
	return vfb_read_mig_arcs(&counters, out);
}

static int map_mig_downtime(struct vfb_mig_hist **out)
{
	return vfb_read_mig_downtime(&counters, out);
}

static int map_cfg_touch(struct vfb_cfg_touch **out)
{
	return vfb_read_cfg_touch(&counters, out);
}

static const struct counter_source maps = {
	.counts = map_counts,
	.deliveries = map_deliveries,
	.latency = map_latency,
	.decisions = map_decisions,
	.mig_devs = map_mig_devs,
	.mig_arcs = map_mig_arcs,
	.mig_downtime = map_mig_downtime,
	.cfg_touch = map_cfg_touch,
};

const struct counter_source *counter_source = &maps;

static int cmp_device(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return x->dev.sbdf < y->dev.sbdf ? -1 : x->dev.sbdf > y->dev.sbdf;
}

/* Of the devices in BDF order, devs[0..nsorted). */
static struct device *find_sorted(const struct scrape *s, __u32 sbdf)
{
	int lo = 0, hi = s->nsorted;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		__u32 m = s->devs[mid].dev.sbdf;

		if (m == sbdf)
			return &s->devs[mid];
		if (m < sbdf)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A new entry of @sbdf at the end (out of order until sort_devices()). */
static struct device *add_device(struct scrape *s, __u32 sbdf)
{
	struct device *d;

	if (s->ndevs == s->devs_cap) {
		int cap = s->devs_cap ? 2 * s->devs_cap : 64;

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
	d->dev.slot = -1;
	vfb_bdf_str(sbdf, d->dev.bdf, sizeof(d->dev.bdf));
	return d;
}

/* Every entry in BDF order again, if some were added out of it. */
static void sort_devices(struct scrape *s)
{
	if (s->nsorted == s->ndevs)
		return;
	qsort(s->devs, s->ndevs, sizeof(*s->devs), cmp_device);
	s->nsorted = s->ndevs;
}

struct device *device_of(struct scrape *s, __u32 sbdf)
{
	struct device *d = find_sorted(s, sbdf);

	for (int i = s->ndevs - 1; !d && i >= s->nsorted; i--)
		if (s->devs[i].dev.sbdf == sbdf)
			d = &s->devs[i];
	return d ? d : add_device(s, sbdf);
}

/*
 * What sysfs said of each device bound, by link (struct vfb_bound), in BDF
 * order: a scrape reads only the devices whose link it has not seen, and
 * forgets those whose link is gone.  So a device unbound (gone from the
 * list) or bound again, to us or after another driver, or made again at the
 * same BDF (a VF removed and created: a new link), is read afresh; one
 * whose link stayed is the same device under the same binding, and nothing
 * read here can have changed.  Scrapes run in libmicrohttpd's one thread;
 * the lock is for callers besides (the unit test).
 */
struct cached {
	struct vfb_bound link;
	struct vfb_device dev;
};

/*
 * The drivers whose devices a scrape lists: the module's, and stock
 * vfio-pci's while stock-kernel programs count (counters.stock_counts),
 * each with its cache.
 */
#define STOCK_DRIVER	"vfio-pci"

static struct driver_cache {
	const char *driver;
	struct cached *cache;
	int ncache;
} caches[] = {
	{ VFB_DRIVER, NULL, 0 },
	{ STOCK_DRIVER, NULL, 0 },
};

#define NR_CACHES	(int)(sizeof(caches) / sizeof(caches[0]))

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned long device_reads;

static const struct cached *cache_find(const struct driver_cache *dc, __u32 sbdf)
{
	int lo = 0, hi = dc->ncache;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (dc->cache[mid].link.sbdf == sbdf)
			return &dc->cache[mid];
		if (dc->cache[mid].link.sbdf < sbdf)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The cache for the links of now: kept, read or dropped. */
static int refresh_cache(struct driver_cache *dc)
{
	struct cached *fresh = NULL;
	struct vfb_bound *links;
	int n, m = 0;

	n = vfb_driver_links(dc->driver, &links);
	if (n == -ENOENT && dc->driver != caches[0].driver)
		n = 0;	/* vfio-pci not loaded: none of its devices */
	if (n < 0)
		return n;
	if (n) {
		fresh = malloc(n * sizeof(*fresh));
		if (!fresh) {
			free(links);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < n; i++) {
		const struct cached *c = cache_find(dc, links[i].sbdf);
		char bdf[VFB_BDF_LEN];

		if (c && c->link.ino == links[i].ino && links[i].ino) {
			fresh[m++] = *c;
			continue;
		}
		/*
		 * Unbound meanwhile (or gone): not one of ours, and not kept,
		 * so that the next scrape looks again.
		 */
		device_reads++;
		vfb_bdf_str(links[i].sbdf, bdf, sizeof(bdf));
		if (vfb_device_read(bdf, &fresh[m].dev) || strcmp(fresh[m].dev.driver, dc->driver))
			continue;
		fresh[m++].link = links[i];
	}
	free(links);
	free(dc->cache);
	dc->cache = fresh;
	dc->ncache = m;
	return 0;
}

/* Every device bound to vfio-pci-bpf now (and to vfio-pci, when counted). */
int read_bound(struct scrape *s)
{
	bool fresh = !s->ndevs;
	int err = 0;

	pthread_mutex_lock(&cache_lock);
	for (int c = 0; !err && c < NR_CACHES; c++) {
		struct driver_cache *dc = &caches[c];

		if (c && !counters.stock_counts) {
			free(dc->cache);
			dc->cache = NULL;
			dc->ncache = 0;
			continue;
		}
		err = refresh_cache(dc);
		for (int i = 0; !err && i < dc->ncache; i++) {
			/* The first collector, as a rule: appended, sorted below. */
			struct device *d = fresh ? add_device(s, dc->cache[i].link.sbdf) :
				device_of(s, dc->cache[i].link.sbdf);

			if (!d) {
				err = -ENOMEM;
				break;
			}
			d->dev = dc->cache[i].dev;
			d->bound = true;
		}
		/* One driver's cache is in BDF order: it alone needs no sort. */
		if (fresh && !c)
			s->nsorted = s->ndevs;
	}
	pthread_mutex_unlock(&cache_lock);
	sort_devices(s);
	return err;
}

/* Per device and kind, summed over CPUs. */
static int read_counts(struct scrape *s)
{
	struct device *d = NULL;
	struct vfb_count *c;
	/* A full hash takes no new key: a device without a slot not counted yet will not be. */
	int n = counter_source->counts(&c, &s->counts_full);

	for (int i = 0; i < n; i++) {
		__u32 sbdf = c[i].key.sbdf;

		/* Sorted by device: a device not found is new, once. */
		if (!d || d->dev.sbdf != sbdf) {
			d = find_sorted(s, sbdf);
			if (!d)
				d = add_device(s, sbdf);
			if (!d) {
				n = -ENOMEM;
				break;
			}
			d->counted = true;
		}
		if (c[i].key.kind >= VFT_NR_KINDS || !(vfb_kinds[c[i].key.kind].flags & VFT_K_OP))
			continue;
		d->ops[c[i].key.kind] = c[i].n;
	}
	free(c);
	sort_devices(s);
	if (n >= 0 && counter_source->cfg_touch) {
		int m = counter_source->cfg_touch(&s->touch);

		if (m < 0)
			return m;
		s->ntouch = m;
	}
	return n < 0 ? n : 0;
}

/*
 * Latency histograms of the devices this scrape knows (bound to
 * vfio-pci-bpf, or counted): the timing programs see every vfio-pci based
 * device, and devices under other drivers are not ours to report.  The
 * histograms stay in s->lat, which the devices point into.
 */
static int read_latency(struct scrape *s)
{
	int n = counter_source->latency(&s->lat);

	if (n < 0)
		return n;
	s->nlat = n;
	for (int i = 0; i < n; i++) {
		struct device *d = find_sorted(s, s->lat[i].key.sbdf);

		if (d && s->lat[i].key.kind < VFT_NR_KINDS)
			d->lat[s->lat[i].key.kind] = &s->lat[i].h;
	}
	return 0;
}

static int read_deliveries(struct scrape *s)
{
	int n = counter_source->deliveries(&s->irqs);

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
	n = counter_source->decisions(&dec);
	if (n < 0)
		return n;
	s->decisions = dec;
	s->ndecisions = n;
	s->require_policy = -1;
	f = fopen("/sys/module/vfio_pci_bpf/parameters/require_policy", "re");
	if (f) {
		if (fgets(line, sizeof(line), f))
			s->require_policy = line[0] == 'Y' || line[0] == '1';
		fclose(f);
	}
	return 0;
}

/* Migration: states and bytes by device, histograms by arc and by pair. */
static int read_migration(struct scrape *s)
{
	int n;

	if (!counter_source->mig_devs)
		return 0;
	n = counter_source->mig_devs(&s->mig);
	if (n < 0)
		return n;
	s->nmig = n;
	n = counter_source->mig_arcs(&s->arcs);
	if (n < 0)
		return n;
	s->narcs = n;
	n = counter_source->mig_downtime(&s->downtime);
	if (n < 0)
		return n;
	s->ndowntime = n;
	return 0;
}

static const char *const mig_state_names[] = {
#define MIG_NAME(x) #x,
	VFT_MIG_STATES(MIG_NAME)
#undef MIG_NAME
};

#define NR_MIG_STATES	(sizeof(mig_state_names) / sizeof(mig_state_names[0]))

static void mig_state_name(__u32 state, char *buf, size_t len)
{
	if (state < NR_MIG_STATES)
		snprintf(buf, len, "%s", mig_state_names[state]);
	else
		snprintf(buf, len, "%u", state);
}

/*
 * A histogram of log2 nanosecond slots (struct vft_hist) as seconds, with
 * @labels ("bdf=\"...\",...") before le; buckets up to slot @last, the rest
 * in +Inf.
 */
static void put_hist(struct page *p, const char *name, const char *labels,
		     const struct vft_hist *h, int first, int last)
{
	__u64 cum = 0, total = 0;
	char le[24];

	for (int b = 0; b < VFT_HIST_SLOTS; b++)
		total += h->slots[b];
	for (int b = 0; b <= last; b++) {
		cum += h->slots[b];
		if (b < first)
			continue;
		le_seconds(1ULL << (b + 1), le, sizeof(le));
		put(p, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, le,
		    (unsigned long long)cum);
	}
	put(p, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)total);
	le_seconds(h->sum_ns, le, sizeof(le));
	put(p, "%s_sum{%s} %s\n", name, labels, le);
	put(p, "%s_count{%s} %llu\n", name, labels, (unsigned long long)total);
}

/* Migration buckets: 1.024 us to 2.147 s (slot 30), the rest in +Inf. */
#define MIG_FIRST_SLOT	9
#define MIG_LAST_SLOT	30

static void put_migration(struct page *p, const struct scrape *s)
{
	char bdf[VFB_BDF_LEN], bdf2[VFB_BDF_LEN], from[16], to[16], labels[128];

	put_family(p, "vfio_migration_state", "gauge",
		   "The device's VFIO migration state (uapi enum vfio_device_mig_state: "
		   "0 ERROR, 1 STOP, 2 RUNNING, 3 STOP_COPY, 4 RESUMING, 5 RUNNING_P2P, "
		   "6 PRE_COPY, 7 PRE_COPY_P2P).");
	for (int i = 0; i < s->nmig; i++) {
		if (s->mig[i].d.state == 0xffffffffu)
			continue;
		vfb_bdf_str(s->mig[i].sbdf, bdf, sizeof(bdf));
		put(p, "vfio_migration_state{bdf=\"%s\"} %u\n", bdf, s->mig[i].d.state);
	}
	put_family(p, "vfio_migration_state_info", "gauge",
		   "The device's VFIO migration state by name; always 1.");
	for (int i = 0; i < s->nmig; i++) {
		if (s->mig[i].d.state == 0xffffffffu)
			continue;
		vfb_bdf_str(s->mig[i].sbdf, bdf, sizeof(bdf));
		mig_state_name(s->mig[i].d.state, to, sizeof(to));
		put(p, "vfio_migration_state_info{bdf=\"%s\",state=\"%s\"} 1\n", bdf, to);
	}
	put_family(p, "vfio_migration_bytes_total", "counter",
		   "Bytes moved through the device's migration data fd: read (saved, the "
		   "source) or write (loaded, the target).");
	for (int i = 0; i < s->nmig; i++) {
		vfb_bdf_str(s->mig[i].sbdf, bdf, sizeof(bdf));
		put(p, "vfio_migration_bytes_total{bdf=\"%s\",direction=\"read\"} %llu\n", bdf,
		    (unsigned long long)s->mig[i].d.bytes[0]);
		put(p, "vfio_migration_bytes_total{bdf=\"%s\",direction=\"write\"} %llu\n", bdf,
		    (unsigned long long)s->mig[i].d.bytes[1]);
	}
	put_family(p, "vfio_migration_transition_duration_seconds", "histogram",
		   "Time a successful migration state request took, by arc (from the state "
		   "the device was in to the one asked for).");
	for (int i = 0; i < s->narcs; i++) {
		const struct vft_mig_arc *a = &s->arcs[i].key.arc;

		vfb_bdf_str(a->sbdf, bdf, sizeof(bdf));
		mig_state_name(a->from, from, sizeof(from));
		mig_state_name(a->to, to, sizeof(to));
		snprintf(labels, sizeof(labels), "bdf=\"%s\",from=\"%s\",to=\"%s\"", bdf, from, to);
		put_hist(p, "vfio_migration_transition_duration_seconds", labels, &s->arcs[i].h,
			 MIG_FIRST_SLOT, MIG_LAST_SLOT);
	}
	put_family(p, "vfio_migration_downtime_seconds", "histogram",
		   "Stop-copy downtime of a migration between two devices of this host: from "
		   "the source entering STOP_COPY to the target running after RESUMING.");
	for (int i = 0; i < s->ndowntime; i++) {
		const struct vft_mig_pair *pr = &s->downtime[i].key.pair;

		vfb_bdf_str(pr->source, bdf, sizeof(bdf));
		vfb_bdf_str(pr->target, bdf2, sizeof(bdf2));
		snprintf(labels, sizeof(labels), "bdf=\"%s\",target=\"%s\"", bdf, bdf2);
		put_hist(p, "vfio_migration_downtime_seconds", labels, &s->downtime[i].h,
			 MIG_FIRST_SLOT, MIG_LAST_SLOT);
	}
}

static const struct policy_info *policy_of(const struct scrape *s, __u32 sbdf)
{
	for (int i = 0; i < s->npolicies; i++)
		if (s->policies[i].sbdf == sbdf)
			return &s->policies[i];
	return NULL;
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
	/*
	 * Whether each device of the module has a policy now: an alert on a
	 * device that lost its policy (or never got the one require_policy
	 * wants) needs the 0, which vfio_policy_info, absent then, cannot give.
	 */
	put_family(p, "vfio_policy_attached", "gauge",
		   "1 when the kernel has a policy attached to the device bound to vfio-pci-bpf, "
		   "0 when it has none.");
	for (int i = 0; i < s->ndevs; i++) {
		const struct device *d = &s->devs[i];

		if (!d->bound || strcmp(d->dev.driver, VFB_DRIVER))
			continue;
		put_series(p, "vfio_policy_attached", "bdf", d->dev.bdf, NULL);
		put_u64(p, policy_of(s, d->dev.sbdf) != NULL);
	}
	if (s->require_policy >= 0) {
		put_family(p, "vfio_policy_required", "gauge",
			   "1 when vfio_pci_bpf's require_policy is set: a device without a policy "
			   "is refused to VFIO users.");
		put(p, "vfio_policy_required %d\n", s->require_policy);
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

static void put_devices(struct page *p, const struct scrape *s)
{
	char vendor[8], device[8];

	put_family(p, "vfio_device_info", "gauge",
		   "A PCI device bound to vfio-pci-bpf, or to vfio-pci under stock-kernel "
		   "counters (from sysfs), and which mode observes it; always 1.");
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
			   "vf", vf, "mode", strcmp(d->driver, VFB_DRIVER) ? "stock" : "module",
			   NULL);
		put_u64(p, 1);
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
	size_t klen[VFT_NR_KINDS];
	char pre[96];

	put_family(p, name, "counter", errors ?
		   "VFIO operations on the device that failed (returned < 0), by operation." :
		   "VFIO operations on the device seen by vfio-pci-bpf's tracepoints, by operation.");
	for (int k = 0; k < VFT_NR_KINDS; k++)
		klen[k] = strlen(vfb_kinds[k].name);
	for (int i = 0; i < s->ndevs; i++) {
		char *e = cat_str(pre, name);
		size_t npre;

		e = CAT(e, "{bdf=\"");
		e = cat_str(e, s->devs[i].dev.bdf);
		e = CAT(e, "\",op=\"");
		npre = e - pre;

		for (int k = 0; k < VFT_NR_KINDS; k++) {
			const struct vft_count *c = &s->devs[i].ops[k];
			char *l;

			if (!(vfb_kinds[k].flags & VFT_K_OP))
				continue;
			l = line_start(p);
			if (!l)
				return;
			l = cat(l, pre, npre);
			l = cat(l, vfb_kinds[k].name, klen[k]);
			l = CAT(l, "\"} ");
			line_end(p, cat_u64(l, errors ? c->errors : c->events));
		}
	}
}

/* Config-space offsets first touched since the device's last first open. */
static void put_cfg_touch(struct page *p, const struct scrape *s)
{
	char bdf[VFB_BDF_LEN];

	put_family(p, "vfio_config_offsets_touched_total", "counter",
		   "Config-space dwords a VFIO user read or wrote for the first time since the "
		   "device was opened, by the offset an access starts at; a scan grows it fast.");
	for (int i = 0; i < s->ntouch; i++) {
		vfb_bdf_str(s->touch[i].sbdf, bdf, sizeof(bdf));
		put(p, "vfio_config_offsets_touched_total{bdf=\"%s\",op=\"config_read\"} %llu\n",
		    bdf, (unsigned long long)s->touch[i].touched[0]);
		put(p, "vfio_config_offsets_touched_total{bdf=\"%s\",op=\"config_write\"} %llu\n",
		    bdf, (unsigned long long)s->touch[i].touched[1]);
	}
}

static void put_interrupts(struct page *p, const struct scrape *s)
{
	char bdf[VFB_BDF_LEN];

	put_family(p, "vfio_interrupts_total", "counter",
		   "Interrupts the device delivered, by VFIO irq index and vector.");
	bdf[0] = '\0';
	for (int i = 0; i < s->nirqs; i++) {
		const struct vfb_delivery *dl = &s->irqs[i];
		const char *index = vfb_irq_index_name(dl->v.index);
		char *l;

		/* Sorted by device: its name once. */
		if (!i || dl->v.sbdf != s->irqs[i - 1].v.sbdf)
			vfb_bdf_str(dl->v.sbdf, bdf, sizeof(bdf));
		l = line_start(p);
		if (!l)
			return;
		l = CAT(l, "vfio_interrupts_total{bdf=\"");
		l = cat_str(l, bdf);
		l = CAT(l, "\",index=\"");
		l = cat_str(l, index);
		l = CAT(l, "\",vector=\"");
		l = cat_dec(l, dl->v.vector);
		l = CAT(l, "\"} ");
		line_end(p, cat_u64(l, dl->n));
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
	char le[LAT_LAST_SLOT + 1][24], labels[64];
	size_t nle[LAT_LAST_SLOT + 1];

	put_family(p, name, "histogram",
		   "Time vfio_pci_core took for a config, BAR or ioctl access, by operation.");
	for (int b = LAT_FIRST_SLOT; b <= LAT_LAST_SLOT; b++) {
		/* slot b holds [2^b, 2^(b+1)) ns */
		le_seconds(1ULL << (b + 1), le[b], sizeof(le[b]));
		nle[b] = strlen(le[b]);
	}
	for (int i = 0; i < s->ndevs; i++) {
		const char *bdf = s->devs[i].dev.bdf;

		for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
			const struct vft_hist *h = s->devs[i].lat[kinds[j]];
			__u64 cum = 0, total = 0;
			int nlabels;
			char *l;

			for (int b = 0; h && b < VFT_HIST_SLOTS; b++)
				total += h->slots[b];
			if (!total)
				continue;
			/* {bdf="...",op="..." then le="..."} or } */
			l = CAT(labels, "{bdf=\"");
			l = cat_str(l, bdf);
			l = CAT(l, "\",op=\"");
			l = cat_str(l, vfb_kind_name(kinds[j]));
			l = CAT(l, "\"");
			nlabels = l - labels;
			for (int b = 0; b <= LAT_LAST_SLOT; b++) {
				cum += h->slots[b];
				if (b < LAT_FIRST_SLOT)
					continue;
				l = line_start(p);
				if (!l)
					return;
				l = CAT(l, "vfio_access_duration_seconds_bucket");
				l = cat(l, labels, nlabels);
				l = CAT(l, ",le=\"");
				l = cat(l, le[b], nle[b]);
				l = CAT(l, "\"} ");
				line_end(p, cat_u64(l, cum));
			}
			l = line_start(p);
			if (!l)
				return;
			l = CAT(l, "vfio_access_duration_seconds_bucket");
			l = cat(l, labels, nlabels);
			l = CAT(l, ",le=\"+Inf\"} ");
			l = cat_u64(l, total);
			l = CAT(l, "vfio_access_duration_seconds_sum");
			l = cat(l, labels, nlabels);
			/* Exact decimal seconds, as le is written. */
			l = CAT(l, "} ");
			le_seconds(h->sum_ns, l, 24);
			l += strlen(l);
			*l++ = '\n';
			line_end(p, l);
			l = line_start(p);
			if (!l)
				return;
			l = CAT(l, "vfio_access_duration_seconds_count");
			l = cat(l, labels, nlabels);
			l = CAT(l, "} ");
			line_end(p, cat_u64(l, total));
		}
	}
}

/*
 * A device the module had no slot for (more than VFT_MAX_DEVICES bound) is
 * counted in the counts hash instead of the per-slot array; when that is
 * full too, one without a key in it is not counted at all.  A device whose
 * slot is unknown (a module without vfio_bpf_slot) is taken for one without.
 */
void count_untracked(const struct scrape *s, int n[NR_DEVS_UNTRACKED])
{
	memset(n, 0, NR_DEVS_UNTRACKED * sizeof(*n));
	for (int i = 0; i < s->ndevs; i++) {
		const struct device *d = &s->devs[i];

		/* vfio-pci's devices (stock-kernel counters) have no slot to have. */
		if (!d->bound || (d->dev.slot >= 0 && d->dev.slot != VFB_NO_SLOT) ||
		    strcmp(d->dev.driver, VFB_DRIVER))
			continue;
		n[DEVS_NO_SLOT] += d->dev.slot == VFB_NO_SLOT;
		n[DEVS_UNTRACKED] += s->counts_full && !d->counted;
	}
}

static void put_untracked(struct page *p, const struct scrape *s)
{
	int n[NR_DEVS_UNTRACKED];

	count_untracked(s, n);
	put_family(p, "vfio_exporter_devices_without_slot", "gauge",
		   "Devices bound to vfio-pci-bpf that the module had no slot for: counted in "
		   "the counts hash, not the per-slot array.");
	put(p, "vfio_exporter_devices_without_slot %d\n", n[DEVS_NO_SLOT]);
	put_family(p, "vfio_exporter_devices_untracked", "gauge",
		   "Devices bound to vfio-pci-bpf whose operations are not counted: without a "
		   "slot, and the counts hash is full with no key of theirs.");
	put(p, "vfio_exporter_devices_untracked %d\n", n[DEVS_UNTRACKED]);
}

/* The families of a scrape, in a stable order; those of failed collectors left out. */
void put_scrape(struct page *p, struct scrape *s)
{
	sort_devices(s);
	qsort(s->irqs, s->nirqs, sizeof(*s->irqs), vfb_delivery_cmp);
	if (!s->failed[COL_SYSFS])
		put_devices(p, s);
	if (!s->failed[COL_COUNTS]) {
		put_operations(p, s, false);
		put_operations(p, s, true);
		put_cfg_touch(p, s);
	}
	if (!s->failed[COL_INTERRUPTS])
		put_interrupts(p, s);
	if (!s->failed[COL_LATENCY])
		put_latency(p, s);
	if (!s->failed[COL_POLICY])
		put_policy(p, s);
	if (!s->failed[COL_MIGRATION])
		put_migration(p, s);
	if (!s->failed[COL_SYSFS])
		put_untracked(p, s);
	put_family(p, "vfio_exporter_collector_success", "gauge",
		   "1 when the collector read its source in this scrape, 0 when it failed "
		   "(its families are left out).");
	for (int c = 0; c < NR_COLLECTORS; c++) {
		put_series(p, "vfio_exporter_collector_success", "collector", collector_names[c],
			   NULL);
		put_u64(p, !s->failed[c]);
	}
}

/*
 * Untracked devices said on stderr when they appear, not at every scrape;
 * said again after they were all tracked once more.
 */
static void warn_untracked(const struct scrape *s)
{
	static bool warned[NR_DEVS_UNTRACKED];
	int n[NR_DEVS_UNTRACKED];

	if (s->failed[COL_SYSFS])
		return;
	count_untracked(s, n);
	if (n[DEVS_NO_SLOT] && !warned[DEVS_NO_SLOT])
		fprintf(stderr, "vfio_exporter: %d device%s bound to vfio-pci-bpf without a slot "
			"(the module has %d): counted in the counts hash while it has room "
			"(vfio_exporter_devices_without_slot)\n", n[DEVS_NO_SLOT],
			n[DEVS_NO_SLOT] == 1 ? "" : "s", VFT_MAX_DEVICES);
	if (n[DEVS_UNTRACKED] && !warned[DEVS_UNTRACKED])
		fprintf(stderr, "vfio_exporter: %d device%s bound to vfio-pci-bpf not counted: no "
			"slot, and the counts hash is full (vfio_exporter_devices_untracked)\n",
			n[DEVS_UNTRACKED], n[DEVS_UNTRACKED] == 1 ? "" : "s");
	for (int r = 0; r < NR_DEVS_UNTRACKED; r++)
		warned[r] = n[r] > 0;
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
		[COL_MIGRATION] = read_migration,
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
	warn_untracked(&s);
	put_scrape(p, &s);
	put_family(p, "vfio_exporter_scrape_duration_seconds", "gauge",
		   "Time this scrape took to read sysfs and the BPF maps and format the page.");
	put(p, "vfio_exporter_scrape_duration_seconds %.6f\n", (now_ns() - start) / 1e9);
	put_family(p, "vfio_exporter_build_info", "gauge",
		   "The exporter's version; always 1.");
	put_series(p, "vfio_exporter_build_info", "version", EXPORTER_VERSION, NULL);
	put_u64(p, 1);
	if (p->failed)
		err = -ENOMEM;
	free(s.devs);
	free(s.lat);
	free(s.irqs);
	free(s.policies);
	free(s.decisions);
	free(s.mig);
	free(s.arcs);
	free(s.downtime);
	free(s.touch);
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

/*
 * @body is static (@done NULL), or handed to @done once libmicrohttpd has
 * sent it.
 */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, const char *body, size_t len,
			     void (*done)(void *))
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = done ? MHD_create_response_from_buffer_with_free_callback(len, (void *)body, done) :
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (done)
			done((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * The buffer of the last page sent, kept for the next scrape: at thousands
 * of devices a page is tens of MB, past malloc's mmap threshold, and
 * faulting it in afresh every scrape costs half as much as building it
 * (docs/benchmarks.md, exporter at scale).  What a scrape needs anyway, held
 * between scrapes; dropped when pages shrink to less than half of it.
 * Scrapes and libmicrohttpd's free callbacks run in its one thread.
 */
static char *spare;

static void page_sent(void *buf)
{
	if (spare)
		free(buf);
	else
		spare = buf;
}

static char *page_buffer(size_t want, size_t *cap)
{
	char *b = spare;

	spare = NULL;
	if (b && malloc_usable_size(b) >= want && malloc_usable_size(b) / 2 <= want) {
		*cap = malloc_usable_size(b);
		return b;
	}
	free(b);
	*cap = want;
	return malloc(want);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn,
				      const char *url, const char *method,
				      const char *version, const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	static int seen_headers;
	static size_t last_len;
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
			     not_allowed, sizeof(not_allowed) - 1, NULL);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
			     index_page, sizeof(index_page) - 1, NULL);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
			     not_found, sizeof(not_found) - 1, NULL);

	/* The size of the last page and some: one allocation, not a dozen reallocs. */
	p.buf = page_buffer(last_len + last_len / 8 + 16384, &p.cap);
	if (!p.buf || build_page(&p)) {
		free(p.buf);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
			     server_error, sizeof(server_error) - 1, NULL);
	}
	last_len = p.len;
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     p.buf, p.len, page_sent);
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
