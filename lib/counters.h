/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf counters: the counting programs of bpf/vfio_trace.bpf.c (counts, deliveries,
 * latency histograms; no event stream), loaded by vfio_exporter for itself
 * or by `vfio-bpf load` pinned under VFB_COUNTERS_DIR, where they outlive
 * it and every reader finds the same counts.
 */
#ifndef __VFIO_BPF_COUNTERS_H
#define __VFIO_BPF_COUNTERS_H

#include <stdbool.h>

#include "pins.h"
#include "vfio_trace.h"

#define VFB_COUNTERS_DIR VFB_PIN_COUNTERS

struct vfio_trace_bpf;

struct vfb_counters {
	struct vfio_trace_bpf *skel;	/* loaded by us; NULL when pinned */
	int counts, deliveries, hists;	/* the maps a reader reads */
	int slot_counts;		/* the module's devices, by slot */
	int decisions;			/* -1: pinned by a vfio-bpf without it */
	int mig_devs, mig_arcs, mig_downtime;	/* migration; -1: not pinned (stock) */
	int cfg_touch;			/* config offsets touched; -1: not pinned */
	bool module, stock_counts;	/* the module's devices counted; those of vfio-pci */
};

/* Load and attach for this process; messages name @prog. */
int vfb_counters_load(struct vfb_counters *c, const char *prog);
/* Load, attach and pin everything under VFB_COUNTERS_DIR; -EEXIST if there. */
int vfb_counters_load_pinned(const char *prog, bool latency, bool cfg_offsets,
			     bool all_drivers);
/*
 * The two halves of pinning a counter set, for each loader of one (this
 * file, stock.c): the directory made and opened, -EEXIST if a set is
 * there; then a link per loaded program of @obj and @maps in order (the
 * last one's pin says the set is complete), all unpinned on a failure.
 */
struct vfb_dir;
struct bpf_object;
struct bpf_map;
struct vfb_named_map {
	const char *name;
	struct bpf_map *map;
};
int vfb_counters_pin_begin(const char *prog, struct vfb_dir *dir);
int vfb_counters_pin_all(struct bpf_object *obj, const struct vfb_dir *dir,
			 const struct vfb_named_map *maps, int n, const char *prog);
/*
 * Open the maps of pinned counters, read-only; -ENOENT when none are
 * pinned (or they cannot be trusted: said on stderr), -EACCES when they
 * are but this process may not read them.
 */
int vfb_counters_open_pinned(struct vfb_counters *c);
/* Remove the pins: the programs detach when no reader holds them. */
int vfb_counters_unpin(void);
void vfb_counters_close(struct vfb_counters *c);
/* The maps of @skel, loaded by the caller (vfio-trace -s), which keeps it. */
void vfb_counters_of(struct vfb_counters *c, struct vfio_trace_bpf *skel);

/*
 * Snapshots: each map read whole, per-CPU values summed, sorted by device
 * (then kind, or irq index and vector).  Each reader returns how many
 * records it malloc'ed into *out (free() them), or -errno.
 */
struct vfb_count {
	struct vft_count_key key;
	struct vft_count n;
};

struct vfb_delivery {
	struct vft_vector v;
	__u64 n;
};

struct vfb_latency {
	struct vft_count_key key;
	struct vft_hist h;
};

struct vfb_decision {
	struct vft_decision_key key;
	__u64 n;
};

/* A device's migration state and bytes (struct vft_mig_dev). */
struct vfb_mig_dev {
	__u32 sbdf;
	struct vft_mig_dev d;
};

/* A histogram of an arc, or of a source and target pair (8-byte keys). */
struct vfb_mig_hist {
	union {
		struct vft_mig_arc arc;
		struct vft_mig_pair pair;
		__u64 raw;
	} key;
	struct vft_hist h;
};

/* qsort() order of deliveries: device, irq index, vector. */
int vfb_delivery_cmp(const void *a, const void *b);

int vfb_read_counts(const struct vfb_counters *c, struct vfb_count **out);
/*
 * The same, and *@full: the counts hash, where devices without a slot
 * (and stock-kernel mode's) are counted, holds as many keys as it can, so
 * such a device without a key there will not get one.
 */
int vfb_read_counts_full(const struct vfb_counters *c, struct vfb_count **out, bool *full);
int vfb_read_deliveries(const struct vfb_counters *c, struct vfb_delivery **out);
int vfb_read_latency(const struct vfb_counters *c, struct vfb_latency **out);
/* Sorted by device, hook, verdict, mode, rule; 0 records without the map. */
int vfb_read_decisions(const struct vfb_counters *c, struct vfb_decision **out);

/* Config-space offsets first touched, by device (struct vft_cfg_touch's touched). */
struct vfb_cfg_touch {
	__u32 sbdf;
	__u64 touched[2];	/* read, write */
};

/* Sorted by device; 0 records without the map. */
int vfb_read_cfg_touch(const struct vfb_counters *c, struct vfb_cfg_touch **out);

/* Sorted by device; 0 records without the maps. */
int vfb_read_mig_devs(const struct vfb_counters *c, struct vfb_mig_dev **out);
/* Sorted by device, from, to (arcs) or source, target (downtime). */
int vfb_read_mig_arcs(const struct vfb_counters *c, struct vfb_mig_hist **out);
int vfb_read_mig_downtime(const struct vfb_counters *c, struct vfb_mig_hist **out);

struct vfb_snapshot {
	struct vfb_count *counts;
	struct vfb_delivery *irqs;
	struct vfb_latency *lat;
	int ncounts, nirqs, nlat;
};

/* All three; 0 or -errno (then nothing is held). */
int vfb_snapshot_read(const struct vfb_counters *c, struct vfb_snapshot *s);
/* @s less @prev (an earlier snapshot of the same maps): one interval's worth. */
void vfb_snapshot_since(struct vfb_snapshot *s, const struct vfb_snapshot *prev);
int vfb_snapshot_copy(struct vfb_snapshot *to, const struct vfb_snapshot *from);
void vfb_snapshot_free(struct vfb_snapshot *s);

#endif /* __VFIO_BPF_COUNTERS_H */
