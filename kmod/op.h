/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The counting events (vfio_pci_bpf_op, vfio_pci_bpf_op_timed of trace.h)
 * around an operation.  Disabled, each is a patched-out jump; the clock is
 * read only while vfio_pci_bpf_op_timed has a listener.
 */
#ifndef _VFIO_PCI_BPF_OP_H_
#define _VFIO_PCI_BPF_OP_H_

#include <linux/jump_label.h>
#include <linux/timekeeping.h>

#include "trace.h"
#include "vfio_pci_bpf.h"
#include "vfio_trace.h"

DECLARE_STATIC_KEY_FALSE(vfio_pci_bpf_listened_key);

/* Has any event of trace.h a listener?  One patched-out jump when not. */
static __always_inline bool vfio_pci_bpf_listened(void)
{
	return static_branch_unlikely(&vfio_pci_bpf_listened_key);
}

/*
 * 0: not timed (a listener that comes in between sees the next one).  The
 * timed event fires for every operation, with ns 0 for those the module
 * does not time (open, close, set_irqs, resets, migration).
 */
static __always_inline u64 vfio_pci_bpf_op_start(void)
{
	return trace_vfio_pci_bpf_op_timed_enabled() ? ktime_get_ns() : 0;
}

static __always_inline void vfio_pci_bpf_op_end(struct vfio_pci_bpf_device *vbdev,
						u32 kind, long ret, u64 t0)
{
	trace_vfio_pci_bpf_op(vbdev->sbdf, vbdev->slot, kind, ret, 0);
	if (trace_vfio_pci_bpf_op_timed_enabled())
		trace_vfio_pci_bpf_op_timed(vbdev->sbdf, vbdev->slot, kind, ret,
					    t0 ? ktime_get_ns() - t0 : 0);
}

#endif /* _VFIO_PCI_BPF_OP_H_ */
