// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-trace's kernel side: tp_btf programs on every vfio_pci_bpf
 * tracepoint.  Each event is counted per device and kind and, unless the
 * loader asked for counts only, streamed through a ring buffer.  Interrupt
 * deliveries are vfio_pci_core's own interrupt handlers returning IRQ_HANDLED
 * (fexit) on a host irq that vfio_pci_bpf_irq_vector reported armed.
 *
 * A full ring buffer drops the event and counts it in `lost`, which the
 * loader reports: never silent.
 *
 * Stock-kernel mode (the loader's -k) loads the vft_core_* programs
 * instead: fentry/fexit on vfio_pci_core's exported entry points, which
 * every vfio-pci based driver calls, so devices under plain vfio-pci (or
 * another variant driver) are observed too; observation only.  There the
 * device is known by its PCI name only (the struct device vfio_pci_core
 * passes, or the name of its irq handler), parsed by vfb_parse_sbdf(): one way,
 * the same on every architecture; events carry no slot (VFT_NO_SLOT).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_trace.h"
#include "vfio_names.bpf.h"

const volatile __u32 filter_sbdf = VFT_ALL_DEVICES;
const volatile __u32 kind_mask = (1u << VFT_NR_KINDS) - 1;
const volatile bool stream = true;
/* vfio-trace -H in module mode: vft_op_timed only times, never counts. */
const volatile bool latency_only;
/* Unread bytes in the ring buffer that wake the reader (vfb_trace_load). */
const volatile __u64 wakeup_bytes = 1;

__u64 lost;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	/* Memory as used: preallocated, 4,096 devices cost MiBs per CPU. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VFT_MAX_DEVICES * VFT_NR_KINDS);
	__type(key, struct vft_count_key);
	__type(value, struct vft_count);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VFT_MAX_DEVICES * VFT_NR_KINDS);
	__type(key, __u32);
	__type(value, struct vft_slot_count);
} slot_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, __s32);			/* host irq */
	__type(value, struct vft_vector);
} armed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VFT_MAX_VECTORS);
	__type(key, struct vft_vector);
	__type(value, __u64);
} deliveries SEC(".maps");

static __always_inline bool wanted(__u32 sbdf, __u32 kind)
{
	if (sbdf == VFT_ALL_DEVICES)
		return false;
	if (filter_sbdf != VFT_ALL_DEVICES && sbdf != filter_sbdf)
		return false;
	return kind_mask & (1u << kind);
}

/* A device of the module, by slot: an array lookup, no hashing. */
static __always_inline void count_slot(__u32 sbdf, __u32 slot, __u32 kind, __s64 ret)
{
	__u32 i = slot * VFT_NR_KINDS + kind;
	struct vft_slot_count *c;

	c = bpf_map_lookup_elem(&slot_counts, &i);
	if (!c)
		return;
	if (c->sbdf != sbdf) {
		c->sbdf = sbdf;
		c->events = 0;
		c->errors = 0;
	}
	c->events++;
	if (ret < 0)
		c->errors++;
}

/*
 * Devices without a slot (stock-kernel mode, a module out of slots): by
 * sbdf in a hash.  Out of line, so the slot path sets up none of it.
 */
static __noinline int count_hash(__u32 sbdf, __u32 kind, __s64 ret)
{
	struct vft_count_key key = { .sbdf = sbdf, .kind = kind };
	struct vft_count zero = {}, *c;

	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c)
			return 0;
	}
	c->events++;
	if (ret < 0)
		c->errors++;
	return 0;
}

static __always_inline void count(__u32 sbdf, __u32 slot, __u32 kind, __s64 ret)
{
	if (slot < VFT_MAX_DEVICES && kind < VFT_NR_KINDS)
		count_slot(sbdf, slot, kind, ret);
	else
		count_hash(sbdf, kind, ret);
}

/*
 * Count an event of @sbdf and, when streaming, reserve its record with the
 * common part filled in: the caller fills its kind's member of e->d and
 * submits.  NULL when there is nothing to fill.  @task: it happened in the
 * context of the task that made the VFIO call (pid and comm are theirs);
 * interrupts are not.
 */
static __always_inline struct vft_event *reserve(__u32 sbdf, __u32 slot, __u32 kind,
						 __s64 ret, bool task)
{
	struct vft_event *e;

	if (!wanted(sbdf, kind))
		return NULL;
	count(sbdf, slot, kind, ret);
	if (!stream)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->sbdf = sbdf;
	e->slot = slot;
	e->kind = kind;
	e->ret = ret;
	e->pad = 0;
	__builtin_memset(&e->d, 0, sizeof(e->d));
	if (task) {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	} else {
		e->pid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	return e;
}

/*
 * Wake the reader once a batch has built up, not for every event (as perf
 * and libbpf-tools do): it polls with a short timeout and collects what
 * is left below the mark then.
 */
static __always_inline void submit(struct vft_event *e)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

/* An event whose record is the common part only. */
static __always_inline int emit(__u32 sbdf, __u32 slot, __u32 kind, __s64 ret)
{
	struct vft_event *e = reserve(sbdf, slot, kind, ret, true);

	if (e)
		submit(e);
	return 0;
}

/*
 * Counters (vfio-bpf load): one program per operation, on the module's
 * counting event, which carries scalars only; nothing is peeked for it.
 * vft_op_timed also has the time the module measured (only while this
 * program is attached) for the latency histograms; under vfio-trace, whose
 * per-kind programs count, it only times (latency_only).
 */
SEC("tp_btf/vfio_pci_bpf_op")
int BPF_PROG(vft_op, u32 sbdf, u32 slot, u32 kind, long ret, u64 ns)
{
	if (wanted(sbdf, kind))
		count(sbdf, slot, kind, ret);
	return 0;
}

static __always_inline void account_latency(__u32 sbdf, __u32 kind, __u64 ns);

SEC("tp_btf/vfio_pci_bpf_op_timed")
int BPF_PROG(vft_op_timed, u32 sbdf, u32 slot, u32 kind, long ret, u64 ns)
{
	if (!wanted(sbdf, kind))
		return 0;
	if (!latency_only)
		count(sbdf, slot, kind, ret);
	if (ns)		/* 0: an operation the module does not time */
		account_latency(sbdf, kind, ns);
	return 0;
}

/*
 * The module's tracepoints: every one carries the device's sbdf and slot
 * as arguments after pdev (kmod/trace.h), so no pointer is walked here.
 */
SEC("tp_btf/vfio_pci_bpf_open")
int BPF_PROG(vft_open, struct pci_dev *pdev, u32 sbdf, u32 slot, int ret)
{
	return emit(sbdf, slot, VFT_OPEN, ret);
}

SEC("tp_btf/vfio_pci_bpf_close")
int BPF_PROG(vft_close, struct pci_dev *pdev, u32 sbdf, u32 slot, int ret)
{
	return emit(sbdf, slot, VFT_CLOSE, ret);
}

SEC("tp_btf/vfio_pci_bpf_reset")
int BPF_PROG(vft_reset, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 kind, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_RESET, ret, true);

	if (!e)
		return 0;
	e->d.reset.kind = kind;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_config_read")
int BPF_PROG(vft_config_read, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset,
	     u32 size, u64 value, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_CONFIG_READ, ret, true);

	if (!e)
		return 0;
	e->d.config_read.offset = offset;
	e->d.config_read.size = size;
	e->d.config_read.value = value;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_config_write")
int BPF_PROG(vft_config_write, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset,
	     u32 size, u64 value, u64 old, u64 new, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_CONFIG_WRITE, ret, true);

	if (!e)
		return 0;
	e->d.config_write.offset = offset;
	e->d.config_write.size = size;
	e->d.config_write.value = value;
	e->d.config_write.old = old;
	e->d.config_write.new = new;
	submit(e);
	return 0;
}

static __always_inline int bar_event(__u32 sbdf, __u32 slot, __u32 kind, u32 bar,
				     u64 offset, u32 size, u64 value, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, kind, ret, true);

	if (!e)
		return 0;
	e->d.bar.bar = bar;
	e->d.bar.offset = offset;
	e->d.bar.size = size;
	e->d.bar.value = value;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_bar_read")
int BPF_PROG(vft_bar_read, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 bar,
	     u64 offset, u32 size, u64 value, int ret)
{
	return bar_event(sbdf, slot, VFT_BAR_READ, bar, offset, size, value, ret);
}

SEC("tp_btf/vfio_pci_bpf_bar_write")
int BPF_PROG(vft_bar_write, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 bar,
	     u64 offset, u32 size, u64 value, int ret)
{
	return bar_event(sbdf, slot, VFT_BAR_WRITE, bar, offset, size, value, ret);
}

static __always_inline int mmap_event(__u32 sbdf, __u32 slot, u32 index, u64 offset,
				      u64 length, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_MMAP, ret, true);

	if (!e)
		return 0;
	e->d.mmap.index = index;
	e->d.mmap.offset = offset;
	e->d.mmap.length = length;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mmap")
int BPF_PROG(vft_mmap, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 index,
	     u64 offset, u64 length, int ret)
{
	return mmap_event(sbdf, slot, index, offset, length, ret);
}

static __always_inline int ioctl_event(__u32 sbdf, __u32 slot, u32 cmd, long ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_IOCTL, ret, true);

	if (!e)
		return 0;
	e->d.ioctl.cmd = cmd;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_ioctl")
int BPF_PROG(vft_ioctl, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 cmd, long ret)
{
	return ioctl_event(sbdf, slot, cmd, ret);
}

static __always_inline int set_irqs_event(__u32 sbdf, __u32 slot, u32 index, u32 start,
					  u32 count, u32 flags, int ret)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_SET_IRQS, ret, true);

	if (!e)
		return 0;
	e->d.set_irqs.index = index;
	e->d.set_irqs.start = start;
	e->d.set_irqs.count = count;
	e->d.set_irqs.flags = flags;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_set_irqs")
int BPF_PROG(vft_set_irqs, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 index,
	     u32 start, u32 count, u32 flags, int ret)
{
	return set_irqs_event(sbdf, slot, index, start, count, flags, ret);
}

SEC("tp_btf/vfio_pci_bpf_irq_vector")
int BPF_PROG(vft_irq_vector, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 index,
	     u32 vector, int host_irq, bool is_armed)
{
	/* The armed table's value keeps the slot in pad (delivered() clears it). */
	struct vft_vector v = { .sbdf = sbdf, .index = index, .vector = vector, .pad = slot };
	struct vft_event *e;

	/* The irq table follows every device, whatever the filters. */
	if (host_irq >= 0) {
		if (is_armed)
			bpf_map_update_elem(&armed, &host_irq, &v, BPF_ANY);
		else
			bpf_map_delete_elem(&armed, &host_irq);
	}
	e = reserve(sbdf, slot, VFT_IRQ_VECTOR, 0, true);
	if (!e)
		return 0;
	e->d.irq_vector.index = index;
	e->d.irq_vector.vector = vector;
	e->d.irq_vector.host_irq = host_irq;
	e->d.irq_vector.armed = is_armed;
	submit(e);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mig_transition")
int BPF_PROG(vft_mig_transition, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 from,
	     u32 to, int ret, u64 duration_ns)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_MIG_TRANSITION, ret, true);

	if (!e)
		return 0;
	e->d.mig_transition.from = from;
	e->d.mig_transition.to = to;
	e->d.mig_transition.duration_ns = duration_ns;
	submit(e);
	return 0;
}

/* bytes < 0 is an error: it goes to ret, the record says 0 bytes moved. */
SEC("tp_btf/vfio_pci_bpf_mig_data")
int BPF_PROG(vft_mig_data, struct pci_dev *pdev, u32 sbdf, u32 slot, bool write,
	     u64 offset, long bytes)
{
	struct vft_event *e = reserve(sbdf, slot, VFT_MIG_DATA, bytes < 0 ? bytes : 0, true);

	if (!e)
		return 0;
	e->d.mig_data.write = write;
	e->d.mig_data.offset = offset;
	e->d.mig_data.bytes = bytes < 0 ? 0 : bytes;
	submit(e);
	return 0;
}

/*
 * Migration in the counters (docs/migration.md, "Metrics"): programs of
 * their own on the two migration tracepoints, loaded with the counters
 * (vft_mig_account, vft_mig_bytes), beside the streaming ones above.
 * Transitions of a device are serialised by its state mutex, data moves by
 * the data fd's lock; the byte counts are added atomically all the same (a
 * device can have its old fd and a new one).
 */
#define VFT_MIG_UNKNOWN		0xffffffffu
#define VFT_MIG_STOP_COPY	3
#define VFT_MIG_RUNNING		2
#define VFT_MIG_RESUMING_STATE	4
#define VFT_MIG_PRE_COPY	6
#define VFT_MIG_PRE_COPY_P2P	7

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_DEVICES);
	__type(key, __u32);			/* sbdf */
	__type(value, struct vft_mig_dev);
} mig_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VFT_MIG_MAX_ARCS);
	__type(key, struct vft_mig_arc);
	__type(value, struct vft_hist);
} mig_arcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VFT_MIG_MAX_ARCS);
	__type(key, struct vft_mig_pair);
	__type(value, struct vft_hist);
} mig_downtime SEC(".maps");

static __always_inline void hist_add(void *map, const void *key, __u64 ns);

static __always_inline struct vft_mig_dev *mig_dev(__u32 sbdf)
{
	struct vft_mig_dev *d = bpf_map_lookup_elem(&mig_devs, &sbdf);
	struct vft_mig_dev zero = { .state = VFT_MIG_UNKNOWN };

	if (d)
		return d;
	bpf_map_update_elem(&mig_devs, &sbdf, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&mig_devs, &sbdf);
}

static __always_inline bool mig_saving(__u32 state)
{
	return state == VFT_MIG_STOP_COPY || state == VFT_MIG_PRE_COPY ||
	       state == VFT_MIG_PRE_COPY_P2P;
}

/* The search for a resumed target's source: see vft_mig_account. */
struct vft_mig_match {
	__u32 target, best;
	__u64 bytes, now, best_ns;
};

static long mig_match_source(struct bpf_map *map, __u32 *key, struct vft_mig_dev *v,
			     struct vft_mig_match *m)
{
	__u64 t = v->stop_copy_ns;

	if (*key != m->target && t && t <= m->now && t > m->best_ns && v->session == m->bytes) {
		m->best_ns = t;
		m->best = *key;
	}
	return 0;
}

/*
 * The stop-copy downtime ends when a target that resumed (RESUMING, then
 * RUNNING, in one request or several) runs.  Its source is the device on
 * this host that entered STOP_COPY, is not paired yet, and read exactly as
 * many bytes from its data fd in its save session as the target wrote into
 * its own in the resume session: the same stream.  Of several, the one
 * that entered STOP_COPY last.  None: the source was elsewhere (another
 * host), or the stream was not the one read here; nothing is recorded.
 */
static __always_inline void mig_pair(__u32 target, __u64 bytes, __u64 now)
{
	struct vft_mig_match m = { .target = target, .bytes = bytes, .now = now };
	struct vft_mig_pair pair;
	struct vft_mig_dev *src;

	if (!bytes)
		return;
	bpf_for_each_map_elem(&mig_devs, mig_match_source, &m, 0);
	if (!m.best_ns)
		return;
	src = bpf_map_lookup_elem(&mig_devs, &m.best);
	/* Claimed once: two targets resumed at once cannot both take it. */
	if (!src || __sync_val_compare_and_swap(&src->stop_copy_ns, m.best_ns, 0) != m.best_ns)
		return;
	pair.source = m.best;
	pair.target = target;
	hist_add(&mig_downtime, &pair, now - m.best_ns);
}

SEC("tp_btf/vfio_pci_bpf_mig_transition")
int BPF_PROG(vft_mig_account, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 from,
	     u32 to, int ret, u64 duration_ns)
{
	__u64 now = bpf_ktime_get_ns();
	struct vft_mig_dev *d;
	struct vft_mig_arc arc;

	if (!wanted(sbdf, VFT_MIG_TRANSITION))
		return 0;
	d = mig_dev(sbdf);
	if (!d)
		return 0;
	/* Loaded mid-way: the request says where the device was. */
	if (d->state == VFT_MIG_UNKNOWN)
		d->state = from;
	/* A refused or failed request: the count of errors has it. */
	if (ret < 0 || from == to)
		return 0;
	arc.sbdf = sbdf;
	arc.from = from;
	arc.to = to;
	hist_add(&mig_arcs, &arc, duration_ns);
	/* A save session starts with the first saving state, a resume with RESUMING. */
	if (mig_saving(to) && !mig_saving(from))
		d->session = 0;
	if (to == VFT_MIG_STOP_COPY)
		d->stop_copy_ns = now;
	if (to == VFT_MIG_RESUMING_STATE) {
		d->session = 0;
		d->stop_copy_ns = 0;
		d->flags |= VFT_MIG_RESUMING;
	}
	if (to == VFT_MIG_RUNNING && (d->flags & VFT_MIG_RESUMING)) {
		d->flags &= ~VFT_MIG_RESUMING;
		mig_pair(sbdf, d->session, now);
	}
	d->state = to;
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_mig_data")
int BPF_PROG(vft_mig_bytes, struct pci_dev *pdev, u32 sbdf, u32 slot, bool write,
	     u64 offset, long bytes)
{
	struct vft_mig_dev *d;

	if (bytes <= 0 || !wanted(sbdf, VFT_MIG_DATA))
		return 0;
	d = mig_dev(sbdf);
	if (!d)
		return 0;
	__sync_fetch_and_add(&d->bytes[write ? 1 : 0], bytes);
	__sync_fetch_and_add(&d->session, bytes);
	return 0;
}

/*
 * Config-space offsets touched (struct vft_cfg_touch): counting programs
 * of their own on the config tracepoints (their offsets), loaded with the
 * counters.  The bits are set atomically: two threads of one user may
 * touch the same dword at once, and exactly one of them finds it new.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFT_MAX_DEVICES);
	__type(key, __u32);			/* sbdf */
	__type(value, struct vft_cfg_touch);
} cfg_touch SEC(".maps");

static __always_inline int cfg_touched(__u32 sbdf, __u32 offset, int write)
{
	struct vft_cfg_touch *t = bpf_map_lookup_elem(&cfg_touch, &sbdf);
	__u32 dw = offset >> 2;
	__u64 bit, old;

	if (dw >= VFT_CFG_DWORDS || !wanted(sbdf, write ? VFT_CONFIG_WRITE : VFT_CONFIG_READ))
		return 0;
	if (!t) {
		struct vft_cfg_touch zero = {};

		bpf_map_update_elem(&cfg_touch, &sbdf, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&cfg_touch, &sbdf);
		if (!t)
			return 0;
	}
	bit = 1ULL << (dw & 63);
	old = __sync_fetch_and_or(&t->bits[write & 1][(dw >> 6) & (VFT_CFG_WORDS - 1)], bit);
	if (!(old & bit))
		__sync_fetch_and_add(&t->touched[write & 1], 1);
	return 0;
}

SEC("tp_btf/vfio_pci_bpf_config_read")
int BPF_PROG(vft_cfg_read_touch, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset,
	     u32 size, u64 value, int ret)
{
	return cfg_touched(sbdf, offset, 0);
}

SEC("tp_btf/vfio_pci_bpf_config_write")
int BPF_PROG(vft_cfg_write_touch, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 offset,
	     u32 size, u64 value, u64 old, u64 new, int ret)
{
	return cfg_touched(sbdf, offset, 1);
}

/* A first open starts afresh: what this user touches is new to it. */
SEC("tp_btf/vfio_pci_bpf_open")
int BPF_PROG(vft_cfg_open, struct pci_dev *pdev, u32 sbdf, u32 slot, int ret)
{
	struct vft_cfg_touch *t = bpf_map_lookup_elem(&cfg_touch, &sbdf);

	if (t)
		__builtin_memset(t->bits, 0, sizeof(t->bits));
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VFT_MAX_DECISIONS);
	__type(key, struct vft_decision_key);
	__type(value, __u64);
} decisions SEC(".maps");

/* A policy decision other than allow: counted per rule, and an event. */
SEC("tp_btf/vfio_pci_bpf_policy")
int BPF_PROG(vft_policy, struct pci_dev *pdev, u32 sbdf, u32 slot, u32 hook, u32 verdict,
	     bool monitor, u32 rule, const char *policy, u32 region, u64 offset, u64 size,
	     u64 value)
{
	struct vft_decision_key key = {
		.sbdf = sbdf, .hook = hook, .verdict = verdict, .monitor = monitor, .rule = rule,
	};
	struct vft_event *e;
	__u64 one = 1, *n;

	if (!wanted(sbdf, VFT_POLICY))
		return 0;
	n = bpf_map_lookup_elem(&decisions, &key);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&decisions, &key, &one, BPF_NOEXIST);
	e = reserve(sbdf, slot, VFT_POLICY, 0, true);
	if (!e)
		return 0;
	e->d.policy.hook = hook;
	e->d.policy.verdict = verdict;
	e->d.policy.monitor = monitor;
	e->d.policy.rule = rule;
	e->d.policy.region = region;
	e->d.policy.offset = offset;
	e->d.policy.size = size;
	e->d.policy.value = value;
	bpf_probe_read_kernel_str(e->d.policy.name, sizeof(e->d.policy.name), policy);
	submit(e);
	return 0;
}

/* A handled interrupt of @v: counted per vector, and an irq event. */
static __always_inline int delivered(const struct vft_vector *v, int irq, __u32 slot)
{
	struct vft_event *e;
	__u64 one = 1, *n;

	if (!wanted(v->sbdf, VFT_IRQ))
		return 0;
	n = bpf_map_lookup_elem(&deliveries, v);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&deliveries, v, &one, BPF_NOEXIST);
	e = reserve(v->sbdf, slot, VFT_IRQ, 0, false);
	if (!e)
		return 0;
	e->d.irq.index = v->index;
	e->d.irq.vector = v->vector;
	e->d.irq.host_irq = irq;
	submit(e);
	return 0;
}

/*
 * Deliveries, on vfio_pci_core's own handlers only (MSI/MSI-X and INTx):
 * no other interrupt of the host runs a program of ours.  The host irq
 * says which armed vector it was (vfio_pci_bpf_irq_vector).
 */
static __always_inline int handled(int irq, int ret)
{
	struct vft_vector *a, v;

	if (ret != 1)	/* IRQ_HANDLED: the (shared INTx) line was this device's */
		return 0;
	a = bpf_map_lookup_elem(&armed, &irq);
	if (!a)
		return 0;
	v = *a;
	v.pad = 0;	/* the key of deliveries; the slot was in it */
	return delivered(&v, irq, a->pad);
}

SEC("fexit/vfio_msihandler")
int BPF_PROG(vft_msi_exit, int irq, void *arg, int ret)
{
	return handled(irq, ret);
}

SEC("fexit/vfio_intx_handler")
int BPF_PROG(vft_intx_exit, int irq, void *dev_id, int ret)
{
	return handled(irq, ret);
}

/* ---- stock-kernel mode ------------------------------------------------ */

struct vfio_device;
struct vfio_pci_core_device;

/* struct vfio_irq_set's fixed part (uapi linux/vfio.h). */
struct vft_irq_set {
	__u32 argsz, flags, index, start, count;
};

/* Just the members we read, relocated against the modules' BTF (CO-RE). */
struct vfio_device___vft {
	struct device *dev;
} __attribute__((preserve_access_index));

struct vfio_pci_core_device___vft {
	struct pci_dev *pdev;
} __attribute__((preserve_access_index));

#define VFT_OFFSET_SHIFT	40

/* What an fentry saw, for its fexit. */
struct vft_entry {
	__u64 pos;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	/* Memory as used: preallocated, 4,096 devices cost MiBs per CPU. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VFT_MAX_DEVICES * 8);
	__type(key, struct vft_count_key);
	__type(value, struct vft_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);			/* pid_tgid */
	__type(value, struct vft_entry);
} entries SEC(".maps");

/* The sbdf of the PCI device whose struct device is @dev. */
static __always_inline __u32 sbdf_of_dev(__u64 dev)
{
	char name[VFB_NAME_LEN] = {};
	const char *s;

	if (!dev)
		return VFT_ALL_DEVICES;
	s = BPF_CORE_READ((struct device *)dev, kobj.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), s) < 13)
		return VFT_ALL_DEVICES;
	return vfb_parse_sbdf(name, 0);
}

static __always_inline __u32 sbdf_of_vdev(__u64 vdev)
{
	return sbdf_of_dev((__u64)BPF_CORE_READ((struct vfio_device___vft *)vdev, dev));
}

static __always_inline void remember_pos(loff_t *ppos)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vft_entry ent = {};

	if (ppos)
		bpf_probe_read_kernel(&ent.pos, sizeof(ent.pos), ppos);
	ent.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&entries, &id, &ent, BPF_ANY);
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	/* Bounded: 32 rounds at most. */
	for (int i = 0; i < VFT_HIST_SLOTS - 1 && v > 1; i++) {
		v >>= 1;
		slot++;
	}
	return slot;
}

static __always_inline void hist_add(void *map, const void *key, __u64 ns)
{
	struct vft_hist *h = bpf_map_lookup_elem(map, key);
	__u32 slot;

	if (!h) {
		struct vft_hist zero = {};

		bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(map, key);
		if (!h)
			return;
	}
	slot = log2_slot(ns);
	if (slot < VFT_HIST_SLOTS)
		h->slots[slot]++;
	h->sum_ns += ns;
}

static __always_inline void account_latency(__u32 sbdf, __u32 kind, __u64 ns)
{
	struct vft_count_key key = { .sbdf = sbdf, .kind = kind };
	struct vft_hist *h;
	__u32 slot;

	if (!wanted(sbdf, kind))
		return;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct vft_hist zero = {};

		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return;
	}
	slot = log2_slot(ns);
	if (slot < VFT_HIST_SLOTS)
		h->slots[slot]++;
	h->sum_ns += ns;
}

static __always_inline int core_rw_exit(__u64 vdev, const char *buf, size_t count,
					ssize_t ret, bool write)
{
	__u64 id = bpf_get_current_pid_tgid(), value = 0;
	struct vft_entry *ent;
	struct vft_event *e;
	__u32 index, kind;
	__u64 pos, lat;
	__u32 sbdf;

	ent = bpf_map_lookup_elem(&entries, &id);
	if (!ent)
		return 0;
	pos = ent->pos;
	lat = bpf_ktime_get_ns() - ent->ts;
	bpf_map_delete_elem(&entries, &id);
	index = pos >> VFT_OFFSET_SHIFT;
	if (index > VFT_REGION_VGA)
		return 0;
	if (ret > 0)
		bpf_probe_read_user(&value, ret < 8 ? ret & 7 : 8, buf);
	if (index == VFT_REGION_CONFIG)
		kind = write ? VFT_CONFIG_WRITE : VFT_CONFIG_READ;
	else
		kind = write ? VFT_BAR_WRITE : VFT_BAR_READ;
	sbdf = sbdf_of_vdev(vdev);
	account_latency(sbdf, kind, lat);
	if (latency_only)
		return 0;
	pos &= (1ULL << VFT_OFFSET_SHIFT) - 1;
	if (index != VFT_REGION_CONFIG)
		return bar_event(sbdf, VFT_NO_SLOT, kind, index, pos, count, value, ret);
	/* The core does not say what the device's bytes were: old, new 0. */
	e = reserve(sbdf, VFT_NO_SLOT, kind, ret, true);
	if (!e)
		return 0;
	if (write) {
		e->d.config_write.offset = pos;
		e->d.config_write.size = count;
		e->d.config_write.value = value;
	} else {
		e->d.config_read.offset = pos;
		e->d.config_read.size = count;
		e->d.config_read.value = value;
	}
	submit(e);
	return 0;
}

SEC("fentry/vfio_pci_core_read")
int BPF_PROG(vft_core_read_entry, struct vfio_device *vdev, char *buf,
	     size_t count, loff_t *ppos)
{
	remember_pos(ppos);
	return 0;
}

SEC("fexit/vfio_pci_core_read")
int BPF_PROG(vft_core_read_exit, struct vfio_device *vdev, char *buf,
	     size_t count, loff_t *ppos, ssize_t ret)
{
	return core_rw_exit((__u64)vdev, buf, count, ret, false);
}

SEC("fentry/vfio_pci_core_write")
int BPF_PROG(vft_core_write_entry, struct vfio_device *vdev, const char *buf,
	     size_t count, loff_t *ppos)
{
	remember_pos(ppos);
	return 0;
}

SEC("fexit/vfio_pci_core_write")
int BPF_PROG(vft_core_write_exit, struct vfio_device *vdev, const char *buf,
	     size_t count, loff_t *ppos, ssize_t ret)
{
	return core_rw_exit((__u64)vdev, buf, count, ret, true);
}

#define VFT_IOCTL_SET_IRQS	0x3b6e
#define VFT_IOCTL_RESET		0x3b6f
#define VFT_IOCTL_HOT_RESET	0x3b71

SEC("fentry/vfio_pci_core_ioctl")
int BPF_PROG(vft_core_ioctl_entry, struct vfio_device *vdev, unsigned int cmd,
	     unsigned long arg)
{
	remember_pos(NULL);
	return 0;
}

SEC("fexit/vfio_pci_core_ioctl")
int BPF_PROG(vft_core_ioctl_exit, struct vfio_device *vdev, unsigned int cmd,
	     unsigned long arg, long ret)
{
	__u32 sbdf = sbdf_of_vdev((__u64)vdev);
	__u64 id = bpf_get_current_pid_tgid();
	struct vft_irq_set hdr = {};
	struct vft_entry *ent;

	ent = bpf_map_lookup_elem(&entries, &id);
	if (ent) {
		account_latency(sbdf, VFT_IOCTL, bpf_ktime_get_ns() - ent->ts);
		bpf_map_delete_elem(&entries, &id);
	}
	if (latency_only)
		return 0;

	ioctl_event(sbdf, VFT_NO_SLOT, cmd, ret);
	if (cmd == VFT_IOCTL_RESET || cmd == VFT_IOCTL_HOT_RESET) {
		struct vft_event *e = reserve(sbdf, VFT_NO_SLOT, VFT_RESET, ret, true);

		if (e) {
			e->d.reset.kind = cmd == VFT_IOCTL_HOT_RESET;	/* function, hot */
			submit(e);
		}
	}
	if (cmd == VFT_IOCTL_SET_IRQS) {
		bpf_probe_read_user(&hdr, sizeof(hdr), (void *)arg);
		set_irqs_event(sbdf, VFT_NO_SLOT, hdr.index, hdr.start, hdr.count, hdr.flags,
			       ret);
	}
	return 0;
}

SEC("fexit/vfio_pci_core_mmap")
int BPF_PROG(vft_core_mmap_exit, struct vfio_device *vdev,
	     struct vm_area_struct *vma, int ret)
{
	__u64 pgoff = vma->vm_pgoff, len = vma->vm_end - vma->vm_start;
	__u32 index = pgoff >> (VFT_OFFSET_SHIFT - 12);

	return mmap_event(sbdf_of_vdev((__u64)vdev), VFT_NO_SLOT, index,
			  (pgoff << 12) & ((1ULL << VFT_OFFSET_SHIFT) - 1), len, ret);
}

/* The first open: every vfio-pci based driver enables through the core. */
SEC("fexit/vfio_pci_core_enable")
int BPF_PROG(vft_core_enable_exit, struct vfio_pci_core_device *cdev, int ret)
{
	struct pci_dev *pdev = BPF_CORE_READ((struct vfio_pci_core_device___vft *)cdev, pdev);

	return emit(sbdf_of_dev((__u64)pdev + bpf_core_field_offset(struct pci_dev, dev)),
		    VFT_NO_SLOT, VFT_OPEN, ret);
}

SEC("fentry/vfio_pci_core_close_device")
int BPF_PROG(vft_core_close_entry, struct vfio_device *vdev)
{
	return emit(sbdf_of_vdev((__u64)vdev), VFT_NO_SLOT, VFT_CLOSE, 0);
}

/*
 * Interrupts in stock mode: the core names its handlers
 * "vfio-intx(BDF)", "vfio-msi[N](BDF)" and "vfio-msix[N](BDF)"; the name
 * says which device and vector a handled irq belongs to.
 */
SEC("tp_btf/irq_handler_exit")
int BPF_PROG(vft_core_irq_exit, int irq, struct irqaction *action, int ret)
{
	char name[VFB_NAME_LEN] = {};
	struct vft_vector v = {};

	if (ret != 1 || !action)
		return 0;
	if (bpf_probe_read_kernel_str(name, sizeof(name), action->name) < 10)
		return 0;
	if (vfb_parse_irq_name(name, &v))
		return 0;
	return delivered(&v, irq, VFT_NO_SLOT);
}

char LICENSE[] SEC("license") = "GPL";
