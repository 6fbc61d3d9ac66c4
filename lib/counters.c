// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf.h"
#include "counters.h"
#include "device.h"
#include "pins.h"
#include "stock.h"
#include "vfio_trace.h"
#include "vfio_trace.skel.h"

/* Everything but irq_vector, whose count tells nothing. */
#define COUNTED_KINDS ((1u << VFT_NR_KINDS) - 1 - (1u << VFT_IRQ_VECTOR))

/*
 * The module's counting event counts, one program per operation; with
 * @latency the timed one, which also fills the histograms.
 */
static struct vfio_trace_bpf *open_and_load(const char *prog, bool latency, bool cfg_offsets)
{
	const struct vfb_trace_opts o = {
		.mode = VFB_TRACE_MODULE,
		.latency = latency,
		.cfg_offsets = cfg_offsets,
		.sbdf = VFT_ALL_DEVICES,
		.kinds = COUNTED_KINDS,
	};

	return vfb_trace_load(&o, prog);
}

void vfb_counters_of(struct vfb_counters *c, struct vfio_trace_bpf *skel)
{
	c->skel = NULL;
	c->counts = bpf_map__fd(skel->maps.counts);
	c->slot_counts = bpf_map__fd(skel->maps.slot_counts);
	c->deliveries = bpf_map__fd(skel->maps.deliveries);
	c->hists = bpf_map__fd(skel->maps.hists);
	c->decisions = bpf_map__fd(skel->maps.decisions);
	c->mig_devs = bpf_map__fd(skel->maps.mig_devs);
	c->mig_arcs = bpf_map__fd(skel->maps.mig_arcs);
	c->mig_downtime = bpf_map__fd(skel->maps.mig_downtime);
	c->cfg_touch = bpf_map__fd(skel->maps.cfg_touch);
}

int vfb_counters_load(struct vfb_counters *c, const char *prog)
{
	struct vfio_trace_bpf *skel;
	int err;

	memset(c, 0, sizeof(*c));
	c->counts = c->slot_counts = c->deliveries = c->hists = c->decisions = -1;
	c->mig_devs = c->mig_arcs = c->mig_downtime = c->cfg_touch = -1;
	/*
	 * A reader of its own (vfio_exporter without pins) shows latency and
	 * config offsets too.
	 */
	skel = open_and_load(prog, true, true);
	if (!skel)
		return -EINVAL;
	err = vfio_trace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "%s: cannot attach to the vfio_pci_bpf tracepoints: %s\n",
			prog, strerror(-err));
		vfio_trace_bpf__destroy(skel);
		return err;
	}
	vfb_counters_of(c, skel);
	c->skel = skel;
	/*
	 * The module's devices only: the stock-kernel programs beside (two
	 * dozen fentry/fexit attachments) are vfio-bpf load's, whose pinned
	 * set every reader shares, not each exporter's.
	 */
	c->module = true;
	return 0;
}

int vfb_counters_pin_begin(const char *prog, struct vfb_dir *dir)
{
	char msg[512];
	int err, fd;

	/* Root's 0700 directories all the way (pins.h): made, or refused. */
	err = vfb_pins_open(VFB_REL_COUNTERS, true, dir, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		return err;
	}
	fd = vfb_pin_get(dir, "counts", msg, sizeof(msg));
	if (fd >= 0 || fd != -ENOENT) {
		if (fd >= 0)
			close(fd);
		else
			fprintf(stderr, "%s: %s\n", prog, msg);
		vfb_dir_close(dir);
		return fd >= 0 ? -EEXIST : fd;
	}
	return 0;
}

int vfb_counters_pin_all(struct bpf_object *obj, const struct vfb_dir *dir,
			 const struct vfb_named_map *maps, int n, const char *prog)
{
	struct bpf_program *p;
	int err = 0;

	/* A pinned link per program: they stay attached once we are gone. */
	bpf_object__for_each_program(p, obj) {
		char name[128];
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		if (!link) {
			err = -errno;
			fprintf(stderr, "%s: cannot attach %s: %s\n", prog,
				bpf_program__name(p), strerror(errno));
			goto out_unpin;
		}
		snprintf(name, sizeof(name), "link_%s", bpf_program__name(p));
		err = vfb_pin_put(dir, name, bpf_link__fd(link));
		bpf_link__destroy(link);
		if (err)
			goto out_unpin;
	}
	for (int i = 0; i < n && !err; i++)
		err = vfb_pin_put(dir, maps[i].name, bpf_map__fd(maps[i].map));
	if (!err)
		return 0;
out_unpin:
	fprintf(stderr, "%s: pinning the counters failed: %s\n", prog, strerror(-err));
	vfb_counters_unpin();
	return err;
}

int vfb_counters_load_pinned(const char *prog, bool latency, bool cfg_offsets, bool all_drivers)
{
	struct vfio_stock_bpf *stock = NULL;
	struct vfio_trace_bpf *skel;
	struct vfb_dir dir;
	int err;

	err = vfb_counters_pin_begin(prog, &dir);
	if (err)
		return err;
	skel = open_and_load(prog, latency, cfg_offsets);
	if (!skel) {
		vfb_dir_close(&dir);
		return -EINVAL;
	}
	/*
	 * Devices under vfio-pci and the like, on request: beside, into the
	 * same maps.  Not by default: the module's devices reach the core's
	 * entry points too, so every access of theirs would also pass the
	 * stock programs' fexit trampolines (which skip them) - the cost of
	 * stock-kernel counting on top of the counting event.
	 */
	if (all_drivers)
		stock = vfb_stock_load_beside(prog, bpf_map__fd(skel->maps.counts),
					      bpf_map__fd(skel->maps.deliveries),
					      bpf_map__fd(skel->maps.cfg_touch));
	err = stock ? vfb_counters_pin_all(vfb_stock_obj(stock), &dir, NULL, 0, prog) : 0;
	if (stock)
		vfb_stock_destroy(stock);
	if (err) {
		vfio_trace_bpf__destroy(skel);
		vfb_dir_close(&dir);
		return err;
	}
	{
		/* counts last: its pin says the set is complete. */
		const struct vfb_named_map maps[] = {
			{ "slot_counts", skel->maps.slot_counts },
			{ "deliveries", skel->maps.deliveries },
			{ "hists", skel->maps.hists },
			{ "decisions", skel->maps.decisions },
			{ "mig_devs", skel->maps.mig_devs },
			{ "mig_arcs", skel->maps.mig_arcs },
			{ "mig_downtime", skel->maps.mig_downtime },
			{ "cfg_touch", skel->maps.cfg_touch },
			{ "counts", skel->maps.counts },
		};

		err = vfb_counters_pin_all(skel->obj, &dir, maps,
					   sizeof(maps) / sizeof(maps[0]), prog);
	}
	vfio_trace_bpf__destroy(skel);
	vfb_dir_close(&dir);
	return err;
}

int vfb_counters_open_pinned(struct vfb_counters *c)
{
	struct vfb_dir dir;
	char msg[512];
	int err;

	memset(c, 0, sizeof(*c));
	c->counts = c->slot_counts = c->deliveries = c->hists = c->decisions = -1;
	c->mig_devs = c->mig_arcs = c->mig_downtime = c->cfg_touch = -1;
	err = vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg));
	if (err) {
		if (err != -ENOENT)
			fprintf(stderr, "warning: not reading the pinned counters: %s\n", msg);
		/* Not allowed to read them is not the same as none pinned. */
		return err == -EACCES ? err : -ENOENT;
	}
	c->counts = vfb_pin_get_ro(&dir, "counts", msg, sizeof(msg));
	{
		char none[512];
		/* A link: read-write only, so EACCES for a reader says it is there (stock.c). */
		int fd = vfb_pin_get(&dir, VFB_STOCK_MARKER, none, sizeof(none));

		c->stock_counts = fd >= 0 || fd == -EACCES;
		if (fd >= 0)
			close(fd);
	}
	if (c->counts >= 0)
		c->deliveries = vfb_pin_get_ro(&dir, "deliveries", msg, sizeof(msg));
	if (c->deliveries >= 0)
		c->hists = vfb_pin_get_ro(&dir, "hists", msg, sizeof(msg));
	if (c->hists >= 0) {
		char none[512];

		/* Optional: counters pinned before policy decisions were counted. */
		c->decisions = vfb_pin_get_ro(&dir, "decisions", none, sizeof(none));
		/* Optional: counters pinned before the module's devices had slots. */
		c->slot_counts = vfb_pin_get_ro(&dir, "slot_counts", none, sizeof(none));
		/* Optional: the stock-kernel set, or one pinned before migration was. */
		c->mig_devs = vfb_pin_get_ro(&dir, "mig_devs", none, sizeof(none));
		c->mig_arcs = vfb_pin_get_ro(&dir, "mig_arcs", none, sizeof(none));
		c->mig_downtime = vfb_pin_get_ro(&dir, "mig_downtime", none, sizeof(none));
		c->cfg_touch = vfb_pin_get_ro(&dir, "cfg_touch", none, sizeof(none));
	}
	vfb_dir_close(&dir);
	c->module = c->slot_counts >= 0;
	if (c->counts < 0 || c->deliveries < 0 || c->hists < 0) {
		err = c->counts < 0 ? c->counts : c->deliveries < 0 ? c->deliveries : c->hists;
		if (c->counts != -ENOENT)
			fprintf(stderr, "warning: not reading the pinned counters: %s\n", msg);
		vfb_counters_close(c);
		return err == -EACCES ? err : -ENOENT;
	}
	return 0;
}

int vfb_counters_unpin(void)
{
	struct vfb_dir root, dir;
	struct dirent *de;
	char msg[512];
	int n = 0;
	DIR *d;

	if (vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg)))
		return 0;
	d = fdopendir(dup(dir.fd));
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			n += !vfb_pin_remove(&dir, de->d_name);
	}
	if (d)
		closedir(d);
	vfb_dir_close(&dir);
	if (!vfb_pins_open(VFB_REL_ROOT, false, &root, msg, sizeof(msg))) {
		unlinkat(root.fd, "counters", AT_REMOVEDIR);
		vfb_dir_close(&root);
	}
	return n;
}

void vfb_counters_close(struct vfb_counters *c)
{
	if (c->skel) {
		vfio_trace_bpf__destroy(c->skel);
	} else {
		if (c->counts >= 0)
			close(c->counts);
		if (c->deliveries >= 0)
			close(c->deliveries);
		if (c->hists >= 0)
			close(c->hists);
		if (c->decisions >= 0)
			close(c->decisions);
		if (c->slot_counts >= 0)
			close(c->slot_counts);
		if (c->mig_devs >= 0)
			close(c->mig_devs);
		if (c->mig_arcs >= 0)
			close(c->mig_arcs);
		if (c->mig_downtime >= 0)
			close(c->mig_downtime);
		if (c->cfg_touch >= 0)
			close(c->cfg_touch);
	}
	memset(c, 0, sizeof(*c));
	c->counts = c->slot_counts = c->deliveries = c->hists = c->decisions = -1;
	c->mig_devs = c->mig_arcs = c->mig_downtime = c->cfg_touch = -1;
}

/* ---- snapshots ---------------------------------------------------------- */

static int ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

/* Room for one more of @size in *@arr (of *@n, *@cap); -ENOMEM. */
static int grow(void **arr, int n, int *cap, size_t size)
{
	void *a;

	if (n < *cap)
		return 0;
	a = realloc(*arr, (*cap ? 2 * *cap : 64) * size);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = *cap ? 2 * *cap : 64;
	return 0;
}

/* A record of @key and the sum over @ncpu CPUs of @vals (@words __u64 each). */
static void sum_into(char *rec, size_t rec_size, const void *key, size_t key_size,
		     const __u64 *vals, int ncpu, size_t words)
{
	__u64 *sum = (__u64 *)(rec + key_size);

	memset(rec, 0, rec_size);
	memcpy(rec, key, key_size);
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < words; w++)
			sum[w] += vals[c * words + w];
}

/*
 * walk() a batch at a time (BPF_MAP_LOOKUP_BATCH): two syscalls a key add
 * up at thousands of devices.  -EOPNOTSUPP when the kernel has no batch
 * lookup for the map (before anything was read): walk() one by one.
 */
#define WALK_BATCH	1024

static int walk_batch(int fd, size_t key_size, size_t val_size, void **out, size_t rec_size,
		      int ncpu)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t words = val_size / sizeof(__u64);
	__u64 token[8], next[8];	/* opaque: a bucket index for hash maps */
	int n = 0, cap = 0, err = 0;
	bool first = true;
	void *arr = NULL;
	char *keys;
	__u64 *vals;

	keys = malloc(WALK_BATCH * key_size);
	vals = malloc((size_t)WALK_BATCH * ncpu * val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = WALK_BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : token, next, keys, vals, &count,
					   &opts);
		if (err && err != -ENOENT) {
			if (first && (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP ||
				      err == -524 /* ENOTSUPP */))
				err = -EOPNOTSUPP;
			break;
		}
		first = false;
		for (__u32 i = 0; i < count; i++) {
			if (grow(&arr, n, &cap, rec_size)) {
				err = -ENOMEM;
				goto out;
			}
			sum_into((char *)arr + n++ * rec_size, rec_size, keys + i * key_size,
				 key_size, vals + (size_t)i * ncpu * words, ncpu, words);
		}
		if (err == -ENOENT) {	/* the last batch */
			err = 0;
			break;
		}
		memcpy(token, next, sizeof(token));
	}
out:
	free(keys);
	free(vals);
	if (err) {
		free(arr);
		return err;
	}
	*out = arr;
	return n;
}

/*
 * Every key of the per-CPU map @fd with its value summed over CPUs, as
 * records of @rec_size: the key (@key_size, a multiple of 8), then the sum.
 * Every value is an array of __u64 (@val_size bytes), so one sum serves
 * them all.  Returns how many records, or -errno.
 */
static int walk(int fd, size_t key_size, size_t val_size, void **out, size_t rec_size)
{
	int n = 0, cap = 0, err, ncpu = ncpus();
	size_t words = val_size / sizeof(__u64);
	char key[64], next[64];
	void *arr = NULL;
	__u64 *vals;

	*out = NULL;
	if (ncpu < 0)
		return ncpu;
	err = walk_batch(fd, key_size, val_size, out, rec_size, ncpu);
	if (err != -EOPNOTSUPP)
		return err;
	vals = calloc(ncpu, val_size);
	if (!vals)
		return -ENOMEM;
	for (err = bpf_map_get_next_key(fd, NULL, next); !err;
	     err = bpf_map_get_next_key(fd, key, next)) {
		char *rec;

		memcpy(key, next, key_size);
		if (bpf_map_lookup_elem(fd, next, vals))
			continue;	/* deleted meanwhile; we never do */
		if (grow(&arr, n, &cap, rec_size)) {
			err = -ENOMEM;
			break;
		}
		rec = (char *)arr + n++ * rec_size;
		sum_into(rec, rec_size, next, key_size, vals, ncpu, words);
	}
	free(vals);
	if (err && err != -ENOENT) {
		free(arr);
		return err;
	}
	*out = arr;
	return n;
}

static int cmp_key(const struct vft_count_key *x, const struct vft_count_key *y)
{
	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Records of counts and latency: their key comes first. */
static int cmp_keyed(const void *a, const void *b)
{
	return cmp_key(a, b);
}

/* walk() writes the sum right after the key: the records must say so. */
_Static_assert(offsetof(struct vfb_count, n) == sizeof(struct vft_count_key), "vfb_count");
_Static_assert(offsetof(struct vfb_delivery, n) == sizeof(struct vft_vector), "vfb_delivery");
_Static_assert(offsetof(struct vfb_latency, h) == sizeof(struct vft_count_key), "vfb_latency");

int vfb_delivery_cmp(const void *a, const void *b)
{
	const struct vft_vector *x = &((const struct vfb_delivery *)a)->v;
	const struct vft_vector *y = &((const struct vfb_delivery *)b)->v;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->vector < y->vector ? -1 : x->vector > y->vector;
}

static int cmp_decision(const void *a, const void *b)
{
	const struct vft_decision_key *x = a, *y = b;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->hook != y->hook)
		return x->hook < y->hook ? -1 : 1;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1;
	if (x->monitor != y->monitor)
		return x->monitor < y->monitor ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

_Static_assert(offsetof(struct vfb_decision, n) == sizeof(struct vft_decision_key),
	       "vfb_decision");

/* One map: its layout, the record that holds it, the records' order. */
struct reader {
	size_t key, val, rec;
	int (*cmp)(const void *, const void *);
};

static const struct reader delivery_reader = {
	sizeof(struct vft_vector), sizeof(__u64), sizeof(struct vfb_delivery), vfb_delivery_cmp,
};
static const struct reader latency_reader = {
	sizeof(struct vft_count_key), sizeof(struct vft_hist), sizeof(struct vfb_latency), cmp_keyed,
};

static const struct reader decision_reader = {
	sizeof(struct vft_decision_key), sizeof(__u64), sizeof(struct vfb_decision), cmp_decision,
};

static int read_map(int fd, const struct reader *r, void **out)
{
	int n = walk(fd, r->key, r->val, out, r->rec);

	if (n > 0)
		qsort(*out, n, r->rec, r->cmp);
	return n;
}

/*
 * The slots the module has ever given (its slots_given file): only those
 * can hold counts, and a host that had a few devices reads a few slots,
 * not VFT_MAX_DEVICES.  All of them when the file is not there.
 */
static __u32 slots_given(void)
{
	char path[PATH_MAX], buf[32], *end;
	unsigned long v = VFT_MAX_DEVICES;
	FILE *f;

	vfb_driver_dir(VFB_DRIVER, path, sizeof(path) - 16);
	strcat(path, "/slots_given");
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			v = strtoul(buf, &end, 10);
			if (end == buf)
				v = VFT_MAX_DEVICES;
		}
		fclose(f);
	}
	return v < VFT_MAX_DEVICES ? v : VFT_MAX_DEVICES;
}

/*
 * The slot array: every CPU's entry with counts in it, by the device its
 * tag names, appended to *@arr (@n records of @cap).  Batch lookups of
 * WALK_BATCH entries at a time: a few system calls, and a buffer of
 * WALK_BATCH entries of every CPU, whatever the array's size (4,096 devices
 * of 15 kinds on 64 CPUs would be 90 MiB at once).
 */
static int read_slots(int fd, struct vfb_count **arr, int n, int *cap)
{
	const __u32 nkeys = slots_given() * VFT_NR_KINDS;
	int ncpu = ncpus(), err = 0;
	struct vft_slot_count *vals;
	__u32 *keys, batch = 0, done = 0;
	bool first = true;

	if (ncpu < 0)
		return ncpu;
	keys = calloc(WALK_BATCH, sizeof(*keys));
	vals = calloc((size_t)WALK_BATCH * ncpu, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	while (!err && done < nkeys) {
		__u32 count = nkeys - done < WALK_BATCH ? nkeys - done : WALK_BATCH;
		bool last;

		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count,
					   NULL);
		first = false;
		done += count;
		last = err != 0;
		err = err && errno != ENOENT ? -errno : 0;
		for (__u32 i = 0; !err && i < count; i++) {
			for (int cpu = 0; cpu < ncpu; cpu++) {
				const struct vft_slot_count *v = &vals[(size_t)i * ncpu + cpu];
				struct vfb_count *r;

				if (!v->events && !v->errors)
					continue;
				if (grow((void **)arr, n, cap, sizeof(**arr))) {
					err = -ENOMEM;
					break;
				}
				r = &(*arr)[n++];
				r->key.sbdf = v->sbdf;
				r->key.kind = keys[i] % VFT_NR_KINDS;
				r->n.events = v->events;
				r->n.errors = v->errors;
			}
		}
		if (last)
			break;
	}
	free(keys);
	free(vals);
	return err ? err : n;
}

/* Sorted records, the same key summed into one. */
static int merge_counts(struct vfb_count *arr, int n)
{
	int m = 0;

	qsort(arr, n, sizeof(*arr), cmp_keyed);
	for (int i = 0; i < n; i++) {
		if (m && !cmp_key(&arr[m - 1].key, &arr[i].key)) {
			arr[m - 1].n.events += arr[i].n.events;
			arr[m - 1].n.errors += arr[i].n.errors;
		} else {
			arr[m++] = arr[i];
		}
	}
	return m;
}

int vfb_read_counts_full(const struct vfb_counters *c, struct vfb_count **out, bool *full)
{
	int n = walk(c->counts, sizeof(struct vft_count_key), sizeof(struct vft_count),
		     (void **)out, sizeof(struct vfb_count));
	int cap = n;

	if (full) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		*full = n >= 0 && !bpf_map_get_info_by_fd(c->counts, &info, &len) &&
			info.max_entries && (__u32)n >= info.max_entries;
	}

	if (n < 0 || c->slot_counts < 0)
		return n < 0 ? n : merge_counts(*out, n);
	n = read_slots(c->slot_counts, out, n, &cap);
	if (n < 0) {
		free(*out);
		*out = NULL;
		return n;
	}
	return merge_counts(*out, n);
}

int vfb_read_counts(const struct vfb_counters *c, struct vfb_count **out)
{
	return vfb_read_counts_full(c, out, NULL);
}

int vfb_read_deliveries(const struct vfb_counters *c, struct vfb_delivery **out)
{
	return read_map(c->deliveries, &delivery_reader, (void **)out);
}

int vfb_read_latency(const struct vfb_counters *c, struct vfb_latency **out)
{
	return read_map(c->hists, &latency_reader, (void **)out);
}

int vfb_read_decisions(const struct vfb_counters *c, struct vfb_decision **out)
{
	if (c->decisions < 0) {
		*out = NULL;
		return 0;
	}
	return read_map(c->decisions, &decision_reader, (void **)out);
}

static int cmp_cfg_touch(const void *a, const void *b)
{
	const struct vfb_cfg_touch *x = a, *y = b;

	return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

int vfb_read_cfg_touch(const struct vfb_counters *c, struct vfb_cfg_touch **out)
{
	struct vfb_cfg_touch *arr = NULL;
	int n = 0, cap = 0, err;
	struct vft_cfg_touch t;
	__u32 key, next;

	*out = NULL;
	if (c->cfg_touch < 0)
		return 0;
	for (err = bpf_map_get_next_key(c->cfg_touch, NULL, &next); !err;
	     err = bpf_map_get_next_key(c->cfg_touch, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(c->cfg_touch, &next, &t))
			continue;
		if (grow((void **)&arr, n, &cap, sizeof(*arr))) {
			free(arr);
			return -ENOMEM;
		}
		arr[n].sbdf = next;
		arr[n].touched[0] = t.touched[0];
		arr[n].touched[1] = t.touched[1];
		n++;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), cmp_cfg_touch);
	*out = arr;
	return n;
}

static int cmp_mig_dev(const void *a, const void *b)
{
	const struct vfb_mig_dev *x = a, *y = b;

	return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

int vfb_read_mig_devs(const struct vfb_counters *c, struct vfb_mig_dev **out)
{
	__u32 key, next;
	int n = 0, cap = 0, err;
	struct vfb_mig_dev *arr = NULL;

	*out = NULL;
	if (c->mig_devs < 0)
		return 0;
	/* Not per-CPU, a few keys: one by one. */
	for (err = bpf_map_get_next_key(c->mig_devs, NULL, &next); !err;
	     err = bpf_map_get_next_key(c->mig_devs, &key, &next)) {
		key = next;
		if (grow((void **)&arr, n, &cap, sizeof(*arr))) {
			free(arr);
			return -ENOMEM;
		}
		arr[n].sbdf = next;
		if (bpf_map_lookup_elem(c->mig_devs, &next, &arr[n].d))
			continue;	/* deleted meanwhile; we never do */
		n++;
	}
	if (err && errno != ENOENT && err != -ENOENT) {
		free(arr);
		return -errno;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), cmp_mig_dev);
	*out = arr;
	return n;
}

static int cmp_mig_arc(const void *a, const void *b)
{
	const struct vft_mig_arc *x = &((const struct vfb_mig_hist *)a)->key.arc;
	const struct vft_mig_arc *y = &((const struct vfb_mig_hist *)b)->key.arc;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

static int cmp_mig_pair(const void *a, const void *b)
{
	const struct vft_mig_pair *x = &((const struct vfb_mig_hist *)a)->key.pair;
	const struct vft_mig_pair *y = &((const struct vfb_mig_hist *)b)->key.pair;

	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->target < y->target ? -1 : x->target > y->target;
}

_Static_assert(offsetof(struct vfb_mig_hist, h) == sizeof(__u64), "vfb_mig_hist");

static const struct reader mig_arc_reader = {
	sizeof(__u64), sizeof(struct vft_hist), sizeof(struct vfb_mig_hist), cmp_mig_arc,
};
static const struct reader mig_pair_reader = {
	sizeof(__u64), sizeof(struct vft_hist), sizeof(struct vfb_mig_hist), cmp_mig_pair,
};

int vfb_read_mig_arcs(const struct vfb_counters *c, struct vfb_mig_hist **out)
{
	*out = NULL;
	return c->mig_arcs < 0 ? 0 : read_map(c->mig_arcs, &mig_arc_reader, (void **)out);
}

int vfb_read_mig_downtime(const struct vfb_counters *c, struct vfb_mig_hist **out)
{
	*out = NULL;
	return c->mig_downtime < 0 ? 0 :
		read_map(c->mig_downtime, &mig_pair_reader, (void **)out);
}

int vfb_snapshot_read(const struct vfb_counters *c, struct vfb_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->ncounts = vfb_read_counts(c, &s->counts);
	if (s->ncounts >= 0)
		s->nirqs = vfb_read_deliveries(c, &s->irqs);
	if (s->ncounts >= 0 && s->nirqs >= 0)
		s->nlat = vfb_read_latency(c, &s->lat);
	if (s->ncounts < 0 || s->nirqs < 0 || s->nlat < 0) {
		int err = s->ncounts < 0 ? s->ncounts : s->nirqs < 0 ? s->nirqs : s->nlat;

		vfb_snapshot_free(s);
		return err;
	}
	return 0;
}

/* Counters only grow: what came since @prev is a difference of each. */
void vfb_snapshot_since(struct vfb_snapshot *s, const struct vfb_snapshot *prev)
{
	for (int i = 0; i < s->ncounts; i++) {
		const struct vfb_count *p = bsearch(&s->counts[i], prev->counts, prev->ncounts,
						    sizeof(*p), cmp_keyed);

		if (p) {
			s->counts[i].n.events -= p->n.events;
			s->counts[i].n.errors -= p->n.errors;
		}
	}
	for (int i = 0; i < s->nirqs; i++) {
		const struct vfb_delivery *p = bsearch(&s->irqs[i], prev->irqs, prev->nirqs,
						       sizeof(*p), vfb_delivery_cmp);

		if (p)
			s->irqs[i].n -= p->n;
	}
	for (int i = 0; i < s->nlat; i++) {
		const struct vfb_latency *p = bsearch(&s->lat[i], prev->lat, prev->nlat,
						      sizeof(*p), cmp_keyed);

		for (int b = 0; p && b < VFT_HIST_SLOTS; b++)
			s->lat[i].h.slots[b] -= p->h.slots[b];
		if (p)
			s->lat[i].h.sum_ns -= p->h.sum_ns;
	}
}

static void *memdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

int vfb_snapshot_copy(struct vfb_snapshot *to, const struct vfb_snapshot *from)
{
	*to = *from;
	to->counts = memdup(from->counts, from->ncounts * sizeof(*from->counts));
	to->irqs = memdup(from->irqs, from->nirqs * sizeof(*from->irqs));
	to->lat = memdup(from->lat, from->nlat * sizeof(*from->lat));
	if (!to->counts || !to->irqs || !to->lat) {
		vfb_snapshot_free(to);
		return -ENOMEM;
	}
	return 0;
}

void vfb_snapshot_free(struct vfb_snapshot *s)
{
	free(s->counts);
	free(s->irqs);
	free(s->lat);
	memset(s, 0, sizeof(*s));
}
