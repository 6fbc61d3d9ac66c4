/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vfio-pci-bpf: what a VFIO user does to a device.
 *
 * Every event starts with the device: sbdf (domain << 16 | bus << 8 |
 * devfn, cheap to filter on) and bdf (its name, "0000:00:04.0"), and ends
 * with slot, the device's index among those bound to vfio-pci-bpf (below
 * VFIO_PCI_BPF_MAX_SLOTS, for BPF array maps).  sbdf and slot are also
 * arguments of every tracepoint, after pdev: BPF programs (tp_btf, raw_tp)
 * read them as scalars and never walk the pci_dev.  The field layout is an
 * ABI for perf, trace-cmd and bpftrace users and is documented in
 * docs/tracepoints.md; add fields at the end only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfio_pci_bpf

#if !defined(_VFIO_PCI_BPF_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _VFIO_PCI_BPF_TRACE_H_

#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

#include "compat.h"
#include "vfio_pci_bpf.h"

/*
 * Every event registers through these (trace.c): they count the events
 * that have a listener, so the hot paths test one static key for "is
 * anything listening" instead of one per event.
 */
int vfio_pci_bpf_trace_reg(void);
void vfio_pci_bpf_trace_unreg(void);

/* The fields sbdf, bdf and slot every event has, filled by this. */
#define VFIO_PCI_BPF_DEV_ASSIGN						\
	do {								\
		__entry->sbdf = sbdf;					\
		vfio_pci_bpf_assign_str(bdf, pci_name(pdev));		\
		__entry->slot = slot;					\
	} while (0)

/* uapi enum vfio_device_mig_state, by name. */
#define VFIO_PCI_BPF_MIG_STATE(state)					\
	__print_symbolic(state, { 0, "ERROR" }, { 1, "STOP" },		\
			 { 2, "RUNNING" }, { 3, "STOP_COPY" },		\
			 { 4, "RESUMING" }, { 5, "RUNNING_P2P" },	\
			 { 6, "PRE_COPY" }, { 7, "PRE_COPY_P2P" })

DECLARE_EVENT_CLASS(vfio_pci_bpf_dev_user,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, int ret),
	TP_ARGS(pdev, sbdf, slot, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->pid = current->tgid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
		__entry->ret = ret;
	),

	TP_printk("%s pid=%d comm=%s ret=%d", __get_str(bdf), __entry->pid,
		  __entry->comm, __entry->ret)
);

/* The first open of the device by a VFIO user (vfio's open_device). */
DEFINE_EVENT_FN(vfio_pci_bpf_dev_user, vfio_pci_bpf_open,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, int ret),
	TP_ARGS(pdev, sbdf, slot, ret),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

/* The last close (vfio's close_device); ret is always 0. */
DEFINE_EVENT_FN(vfio_pci_bpf_dev_user, vfio_pci_bpf_close,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, int ret),
	TP_ARGS(pdev, sbdf, slot, ret),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

TRACE_EVENT_FN(vfio_pci_bpf_reset,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, u32 kind, int ret),
	TP_ARGS(pdev, sbdf, slot, kind, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, kind)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->kind = kind;
		__entry->ret = ret;
	),

	TP_printk("%s kind=%s ret=%d", __get_str(bdf),
		  __print_symbolic(__entry->kind, { 0, "function" }, { 1, "hot" },
				   { 2, "flr" }, { 3, "d3hot" }),
		  __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

TRACE_EVENT_FN(vfio_pci_bpf_config_read,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 offset, u32 size, u64 value, int ret),
	TP_ARGS(pdev, sbdf, slot, offset, size, value, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, offset)
		__field(u32, size)
		__field(u64, value)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->offset = offset;
		__entry->size = size;
		__entry->value = value;
		__entry->ret = ret;
	),

	TP_printk("%s off=%#x size=%u value=%#llx ret=%d", __get_str(bdf),
		  __entry->offset, __entry->size, __entry->value, __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

TRACE_EVENT_FN(vfio_pci_bpf_config_write,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 offset, u32 size, u64 value,
		 u64 old, u64 new, int ret),
	TP_ARGS(pdev, sbdf, slot, offset, size, value, old, new, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, offset)
		__field(u32, size)
		__field(u64, value)
		__field(u64, old)
		__field(u64, new)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->offset = offset;
		__entry->size = size;
		__entry->value = value;
		__entry->old = old;
		__entry->new = new;
		__entry->ret = ret;
	),

	TP_printk("%s off=%#x size=%u value=%#llx old=%#llx new=%#llx ret=%d",
		  __get_str(bdf), __entry->offset, __entry->size,
		  __entry->value, __entry->old, __entry->new, __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

DECLARE_EVENT_CLASS(vfio_pci_bpf_bar_access,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 bar, u64 offset, u32 size,
		 u64 value, int ret),
	TP_ARGS(pdev, sbdf, slot, bar, offset, size, value, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, bar)
		__field(u32, size)
		__field(u64, offset)
		__field(u64, value)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->bar = bar;
		__entry->size = size;
		__entry->offset = offset;
		__entry->value = value;
		__entry->ret = ret;
	),

	TP_printk("%s bar=%u off=%#llx size=%u value=%#llx ret=%d",
		  __get_str(bdf), __entry->bar, __entry->offset, __entry->size,
		  __entry->value, __entry->ret)
);

/* Trapped BAR (and ROM, VGA) access through the region read/write path. */
DEFINE_EVENT_FN(vfio_pci_bpf_bar_access, vfio_pci_bpf_bar_read,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 bar, u64 offset, u32 size,
		 u64 value, int ret),
	TP_ARGS(pdev, sbdf, slot, bar, offset, size, value, ret),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

DEFINE_EVENT_FN(vfio_pci_bpf_bar_access, vfio_pci_bpf_bar_write,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 bar, u64 offset, u32 size,
		 u64 value, int ret),
	TP_ARGS(pdev, sbdf, slot, bar, offset, size, value, ret),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

TRACE_EVENT_FN(vfio_pci_bpf_mmap,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 index, u64 offset, u64 length, int ret),
	TP_ARGS(pdev, sbdf, slot, index, offset, length, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, index)
		__field(u64, offset)
		__field(u64, length)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->index = index;
		__entry->offset = offset;
		__entry->length = length;
		__entry->ret = ret;
	),

	TP_printk("%s index=%u off=%#llx len=%#llx ret=%d", __get_str(bdf),
		  __entry->index, __entry->offset, __entry->length, __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

TRACE_EVENT_FN(vfio_pci_bpf_ioctl,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, u32 cmd, long ret),
	TP_ARGS(pdev, sbdf, slot, cmd, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, cmd)
		__field(long, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->cmd = cmd;
		__entry->ret = ret;
	),

	TP_printk("%s cmd=%#x nr=%u ret=%ld", __get_str(bdf), __entry->cmd,
		  _IOC_NR(__entry->cmd), __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

TRACE_EVENT_FN(vfio_pci_bpf_set_irqs,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 index, u32 start, u32 count,
		 u32 flags, int ret),
	TP_ARGS(pdev, sbdf, slot, index, start, count, flags, ret),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, index)
		__field(u32, start)
		__field(u32, count)
		__field(u32, flags)
		__field(int, ret)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->index = index;
		__entry->start = start;
		__entry->count = count;
		__entry->flags = flags;
		__entry->ret = ret;
	),

	TP_printk("%s index=%s start=%u count=%u action=%s data=%s ret=%d",
		  __get_str(bdf),
		  __print_symbolic(__entry->index, { 0, "INTX" }, { 1, "MSI" },
				   { 2, "MSIX" }, { 3, "ERR" }, { 4, "REQ" }),
		  __entry->start, __entry->count,
		  __print_flags(__entry->flags & 0x38, "|", { 0x08, "MASK" },
				{ 0x10, "UNMASK" }, { 0x20, "TRIGGER" }),
		  __print_flags(__entry->flags & 0x07, "|", { 0x01, "NONE" },
				{ 0x02, "BOOL" }, { 0x04, "EVENTFD" }),
		  __entry->ret),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

/*
 * A vector armed (eventfd attached) or disarmed by a successful
 * SET_IRQS, with the host irq behind it.  Deliveries are the host's
 * irq:irq_handler_exit events with ret=1 (handled) for that irq: see
 * docs/tracepoints.md.
 */
TRACE_EVENT_FN(vfio_pci_bpf_irq_vector,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 index, u32 vector, int host_irq,
		 bool armed),
	TP_ARGS(pdev, sbdf, slot, index, vector, host_irq, armed),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, index)
		__field(u32, vector)
		__field(int, host_irq)
		__field(bool, armed)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->index = index;
		__entry->vector = vector;
		__entry->host_irq = host_irq;
		__entry->armed = armed;
	),

	TP_printk("%s index=%u vector=%u host_irq=%d %s", __get_str(bdf),
		  __entry->index, __entry->vector, __entry->host_irq,
		  __entry->armed ? "armed" : "disarmed"),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

/* A migration state transition (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE). */
TRACE_EVENT_FN(vfio_pci_bpf_mig_transition,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 u32 from, u32 to, int ret, u64 duration_ns),
	TP_ARGS(pdev, sbdf, slot, from, to, ret, duration_ns),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, from)
		__field(u32, to)
		__field(int, ret)
		__field(u64, duration_ns)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->from = from;
		__entry->to = to;
		__entry->ret = ret;
		__entry->duration_ns = duration_ns;
	),

	TP_printk("%s from=%s to=%s ret=%d duration_ns=%llu", __get_str(bdf),
		  VFIO_PCI_BPF_MIG_STATE(__entry->from),
		  VFIO_PCI_BPF_MIG_STATE(__entry->to), __entry->ret,
		  __entry->duration_ns),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

/* Bytes moved through the migration data fd (read in STOP_COPY/PRE_COPY,
 * write in RESUMING).
 */
TRACE_EVENT_FN(vfio_pci_bpf_mig_data,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot,
		 bool write, u64 offset, long bytes),
	TP_ARGS(pdev, sbdf, slot, write, offset, bytes),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(bool, write)
		__field(u64, offset)
		__field(long, bytes)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->write = write;
		__entry->offset = offset;
		__entry->bytes = bytes;
	),

	TP_printk("%s %s off=%llu bytes=%ld", __get_str(bdf),
		  __entry->write ? "write" : "read", __entry->offset,
		  __entry->bytes),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

/*
 * A policy decision other than allow: the audit trail.  @hook is a
 * VFIO_BPF_HOOK_*, @verdict VFIO_BPF_DENY or VFIO_BPF_REWRITE, @monitor
 * set when the policy only records (the operation went on as under
 * vfio-pci), @rule the index the program named (VFIO_BPF_NO_RULE if
 * none), @policy its name ("" for require_policy without a policy).
 * @region, @offset, @size and @value describe the operation as its hook's
 * context does (docs/tracepoints.md has the table).
 */
TRACE_EVENT_FN(vfio_pci_bpf_policy,
	TP_PROTO(struct pci_dev *pdev, u32 sbdf, u32 slot, u32 hook, u32 verdict,
		 bool monitor, u32 rule, const char *policy, u32 region,
		 u64 offset, u64 size, u64 value),
	TP_ARGS(pdev, sbdf, slot, hook, verdict, monitor, rule, policy, region,
		offset, size, value),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__string(bdf, pci_name(pdev))
		__field(u32, hook)
		__field(u32, verdict)
		__field(bool, monitor)
		__field(u32, rule)
		__string(policy, policy)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
		__field(u32, region)
		__field(u64, offset)
		__field(u64, size)
		__field(u64, value)
		__field(u32, slot)
	),

	TP_fast_assign(
		VFIO_PCI_BPF_DEV_ASSIGN;
		__entry->hook = hook;
		__entry->verdict = verdict;
		__entry->monitor = monitor;
		__entry->rule = rule;
		vfio_pci_bpf_assign_str(policy, policy);
		__entry->pid = current->tgid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
		__entry->region = region;
		__entry->offset = offset;
		__entry->size = size;
		__entry->value = value;
	),

	TP_printk("%s %s %s %s rule=%d policy=%s pid=%d comm=%s region=%u off=0x%llx size=%llu value=0x%llx",
		  __get_str(bdf),
		  __print_symbolic(__entry->hook, { 0, "config_read" },
				   { 1, "config_write" }, { 2, "bar_access" },
				   { 3, "mmap" }, { 4, "set_irqs" }, { 5, "reset" },
				   { 6, "open" }, { 7, "mig_transition" }),
		  __print_symbolic(__entry->verdict, { 1, "deny" },
				   { 2, "rewrite" }, { 3, "drop" }),
		  __entry->monitor ? "monitor" : "enforce",
		  (int)__entry->rule, __get_str(policy), __entry->pid,
		  __entry->comm, __entry->region, __entry->offset,
		  __entry->size, __entry->value),

	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg
);

/*
 * One event per operation a VFIO user asked for, for counters: scalars
 * only (no pci_dev, no name, no values), so the module peeks at nothing for
 * it and a BPF program indexes a per-CPU array by @slot.  @kind is a
 * VFT_* kind of include/vfio_trace.h (open, config_read, ...), @ret the
 * operation's result.  vfio_pci_bpf_op_timed is the same event with @ns,
 * the time the operation took in the module: the module reads the clock
 * only while a program or tracefs listens to it.
 */
DECLARE_EVENT_CLASS(vfio_pci_bpf_op_class,
	TP_PROTO(u32 sbdf, u32 slot, u32 kind, long ret, u64 ns),
	TP_ARGS(sbdf, slot, kind, ret, ns),

	TP_STRUCT__entry(
		__field(u32, sbdf)
		__field(u32, slot)
		__field(u32, kind)
		__field(long, ret)
		__field(u64, ns)
	),

	TP_fast_assign(
		__entry->sbdf = sbdf;
		__entry->slot = slot;
		__entry->kind = kind;
		__entry->ret = ret;
		__entry->ns = ns;
	),

	TP_printk("%04x:%02x:%02x.%x slot=%u kind=%u ret=%ld ns=%llu",
		  __entry->sbdf >> 16, (__entry->sbdf >> 8) & 0xff,
		  (__entry->sbdf >> 3) & 0x1f, __entry->sbdf & 7, __entry->slot,
		  __entry->kind, __entry->ret, __entry->ns)
);

DEFINE_EVENT_FN(vfio_pci_bpf_op_class, vfio_pci_bpf_op,
	TP_PROTO(u32 sbdf, u32 slot, u32 kind, long ret, u64 ns),
	TP_ARGS(sbdf, slot, kind, ret, ns),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

DEFINE_EVENT_FN(vfio_pci_bpf_op_class, vfio_pci_bpf_op_timed,
	TP_PROTO(u32 sbdf, u32 slot, u32 kind, long ret, u64 ns),
	TP_ARGS(sbdf, slot, kind, ret, ns),
	vfio_pci_bpf_trace_reg, vfio_pci_bpf_trace_unreg);

#endif /* _VFIO_PCI_BPF_TRACE_H_ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
