/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf kinds: the names of event kinds, irq indexes, regions, reset
 * kinds and migration states (from the X-macros of include/vfio_trace.h),
 * and the one table of formatters of each kind's record.
 */
#ifndef __VFB_KINDS_H
#define __VFB_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "vfio_trace.h"

struct vfb_kind {
	enum vft_kind kind;
	const char *name;		/* "config_write": -e, JSON "event", op="" */
	unsigned int flags;		/* VFT_K_* */
	/* The record as compact text (vfio-trace's DETAIL column)... */
	void (*text)(const union vft_data *d, char *buf, size_t len);
	/* ...and as JSON members, docs/vfio-trace.md names them. */
	void (*json)(const union vft_data *d, char *buf, size_t len);
};

/* Indexed by enum vft_kind. */
extern const struct vfb_kind vfb_kinds[VFT_NR_KINDS];

/* The name of @kind, or "?" out of range. */
const char *vfb_kind_name(__u32 kind);
/* The kind called @name, or -1. */
int vfb_kind_by_name(const char *name);
const char *vfb_irq_index_name(__u32 index);	/* "MSIX" */
const char *vfb_region_name(__u32 index);	/* "BAR0", "CONFIG" */
const char *vfb_reset_name(__u32 kind);		/* "flr" */
const char *vfb_mig_state_name(__u32 state);	/* "STOP_COPY" */
const char *vfb_hook_name(__u32 hook);		/* "config_write" */
const char *vfb_verdict_name(__u32 verdict);	/* "deny" */

/* Lines of vfio-trace: the header, an event as text, an event as JSON. */
void vfb_event_header(char *buf, size_t len);
void vfb_event_text(const struct vft_event *e, double t, char *buf, size_t len);
void vfb_event_json(const struct vft_event *e, char *buf, size_t len);

#endif /* __VFB_KINDS_H */
