/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counting programs of bpf/vfio_trace.bpf.c (counts, deliveries,
 * latency histograms; no event stream), loaded by vfio_exporter for itself
 * or by `vfio-bpf load` pinned under VFB_COUNTERS_DIR, where they outlive
 * it and every reader finds the same counts.
 */
#ifndef __VFIO_BPF_COUNTERS_H
#define __VFIO_BPF_COUNTERS_H

#include <stdbool.h>

#include "pins.h"

#define VFB_COUNTERS_DIR VFB_PIN_COUNTERS

struct vfio_trace_bpf;

struct vfb_counters {
	struct vfio_trace_bpf *skel;	/* loaded by us; NULL when pinned */
	int counts, deliveries, hists;	/* the maps a reader reads */
};

/* Load and attach for this process; messages name @prog. */
int vfb_counters_load(struct vfb_counters *c, const char *prog);
/* Load, attach and pin everything under VFB_COUNTERS_DIR; -EEXIST if there. */
int vfb_counters_load_pinned(const char *prog);
/* Open the maps of pinned counters; -ENOENT when none are pinned. */
int vfb_counters_open_pinned(struct vfb_counters *c);
/* Remove the pins: the programs detach when no reader holds them. */
int vfb_counters_unpin(void);
void vfb_counters_close(struct vfb_counters *c);

#endif /* __VFIO_BPF_COUNTERS_H */
