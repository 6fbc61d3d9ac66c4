// SPDX-License-Identifier: GPL-2.0
/* The one place the tracepoints of trace.h are instantiated. */

#include <linux/jump_label.h>

#define CREATE_TRACE_POINTS
#include "trace.h"

/* On while any of our events has a listener (tracefs, perf, BPF). */
DEFINE_STATIC_KEY_FALSE(vfio_pci_bpf_listened_key);

/*
 * Called by the tracepoint core, under its mutex, when an event gets its
 * first listener and when it loses its last one.
 */
int vfio_pci_bpf_trace_reg(void)
{
	static_branch_inc(&vfio_pci_bpf_listened_key);
	return 0;
}

void vfio_pci_bpf_trace_unreg(void)
{
	static_branch_dec(&vfio_pci_bpf_listened_key);
}
