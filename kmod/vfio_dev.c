// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_device_ops of vfio-pci-bpf.
 *
 * Every operation is vfio_pci_core's.  Around the ones a policy or an
 * operator cares about sit tracepoints (trace.h) and BPF hooks (hooks.c).
 * With no policy attached and no tracepoint enabled, the hot paths (region
 * read and write) cost a few patched-out jumps on top of vfio-pci.
 *
 * Under a policy the user is the adversary: every request a hook judges
 * is fetched from user memory exactly once, judged on that kernel copy,
 * and handed to the core as that copy (the kernel-copy entry points of
 * compat.h), so no second thread can change it between decision and use,
 * and no byte the policy hides reaches user memory.  docs/hooks.md has
 * the argument path by path.
 */

#include <linux/io-64-nonatomic-lo-hi.h>	/* before vfio_pci_core.h: iowrite64 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "compat.h"
#include "hooks.h"
#include "op.h"
#include "trace.h"
#include "vfio_pci_bpf.h"

static inline struct vfio_pci_bpf_device *to_vbdev(struct vfio_device *vdev)
{
	return vfio_pci_bpf_from_vdev(vdev);
}

static inline struct pci_dev *to_pdev(struct vfio_device *vdev)
{
	return vfio_pci_bpf_to_pdev(to_vbdev(vdev));
}

/* Up to 8 bytes of a user buffer as a little-endian number, for traces. */
static u64 vfio_pci_bpf_peek_user(const char __user *buf, size_t len)
{
	__le64 v = 0;

	if (copy_from_user(&v, buf, min(len, sizeof(v))))
		return 0;
	return le64_to_cpu(v);
}

/*
 * The device's own config bytes (not the virtualized view), for traces;
 * only inside its config space: the core range-checks after we peek.
 */
static u64 vfio_pci_bpf_peek_config(struct pci_dev *pdev, u64 off, size_t len)
{
	u64 v = 0;
	u8 b;

	if (off >= pdev->cfg_size || len > pdev->cfg_size - off)
		return 0;
	for (size_t i = 0; i < min(len, sizeof(v)); i++) {
		if (pci_user_read_config_byte(pdev, off + i, &b))
			return 0;
		v |= (u64)b << (8 * i);
	}
	return v;
}

/* ---- config space --------------------------------------------------- */

/* Largest naturally aligned piece of at most 4 bytes at @pos. */
static size_t vfio_pci_bpf_piece(u64 pos, size_t left)
{
	if (!(pos & 3) && left >= 4)
		return 4;
	if (!(pos & 1) && left >= 2)
		return 2;
	return 1;
}

/* Does byte @byte of config space fall in [off, off + n)? */
static bool vfio_pci_bpf_has_byte(u64 off, size_t n, u32 byte)
{
	return byte >= off && byte < off + n;
}

/* Byte @byte of a piece's little-endian value. */
static u8 vfio_pci_bpf_byte_of(u64 value, u64 off, u32 byte)
{
	return value >> (8 * (byte - off));
}

/*
 * Writes of config space that reset the device, as VFIO_DEVICE_RESET
 * would, so the reset hook judges them too: an FLR started through PCIe
 * Device Control or Advanced Features Control, and a power state change to
 * D3hot (whose way back to D0 resets a device without No_Soft_Reset).
 * Decided on the value being written alone, so no racing write of another
 * thread changes the answer.  Returns a VFIO_BPF_RESET_* kind or -1.
 */
static int vfio_pci_bpf_config_reset_kind(struct vfio_pci_bpf_device *vbdev,
					  u64 off, size_t n, u64 value)
{
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	u32 b;

	if (pdev->pcie_cap) {
		b = pdev->pcie_cap + PCI_EXP_DEVCTL + 1;
		if (vfio_pci_bpf_has_byte(off, n, b) &&
		    (vfio_pci_bpf_byte_of(value, off, b) &
		     (PCI_EXP_DEVCTL_BCR_FLR >> 8)))
			return VFIO_BPF_RESET_FLR;
	}
	if (vbdev->af_cap) {
		b = vbdev->af_cap + PCI_AF_CTRL;
		if (vfio_pci_bpf_has_byte(off, n, b) &&
		    (vfio_pci_bpf_byte_of(value, off, b) & PCI_AF_CTRL_FLR))
			return VFIO_BPF_RESET_FLR;
	}
	if (pdev->pm_cap) {
		b = pdev->pm_cap + PCI_PM_CTRL;
		if (vfio_pci_bpf_has_byte(off, n, b) &&
		    (vfio_pci_bpf_byte_of(value, off, b) &
		     PCI_PM_CTRL_STATE_MASK) == 3)
			return VFIO_BPF_RESET_PM;
	}
	return -1;
}

/* The reset hook about a reset of @kind the caller is about to cause. */
static int vfio_pci_bpf_may_reset(struct vfio_pci_bpf_device *vbdev, u32 kind)
{
	struct vfio_bpf_dev ctx = {
		.sbdf = vbdev->sbdf,
		.pid = current->tgid,
		.kind = kind,
	};
	int ret = 0;

	if (vfio_pci_bpf_hook_reset(vbdev, &ctx) != VFIO_BPF_ALLOW)
		ret = -EPERM;
	if (ret) {
		trace_vfio_pci_bpf_reset(vfio_pci_bpf_to_pdev(vbdev), vbdev->sbdf,
					 vbdev->slot, kind, ret);
		vfio_pci_bpf_op_end(vbdev, VFT_RESET, ret, 0);
	}
	return ret;
}

/*
 * One piece of a config write under a policy: fetched once, judged, and
 * the judged bytes (rewritten or not) are what the core writes.
 */
static ssize_t vfio_pci_bpf_config_write_piece(struct vfio_pci_bpf_device *vbdev,
					       const char __user *buf,
					       size_t n, loff_t pos)
{
	struct vfio_bpf_access ctx = {
		.sbdf = vbdev->sbdf,
		.region = VFIO_PCI_CONFIG_REGION_INDEX,
		.offset = pos & VFIO_PCI_OFFSET_MASK,
		.size = n,
		.write = 1,
	};
	__le32 raw = 0, cur = 0;
	int verdict, kind;
	ssize_t ret;
	u32 keep;

	if (copy_from_user(&raw, buf, n))
		return -EFAULT;
	ctx.value = le32_to_cpu(raw);
	verdict = vfio_pci_bpf_hook_config_write(vbdev, &ctx);
	if (verdict == VFIO_BPF_DENY)
		return -EPERM;
	if (verdict == VFIO_BPF_DROP)
		return n;	/* as a write to a read-only register */
	if (verdict == VFIO_BPF_REWRITE) {
		raw = cpu_to_le32(ctx.value);
		keep = ctx.keep & GENMASK(8 * n - 1, 0);
		if (keep) {
			/* Kept bits: what the user would read there now. */
			ret = vfio_pci_bpf_core.config_rw(&vbdev->core_device,
							  &cur, n, &pos, false);
			if (ret != n)
				return ret < 0 ? ret : -EIO;
			pos -= n;
			raw = cpu_to_le32((le32_to_cpu(raw) & ~keep) |
					  (le32_to_cpu(cur) & keep));
		}
	}
	kind = vfio_pci_bpf_config_reset_kind(vbdev, ctx.offset, n,
					      le32_to_cpu(raw));
	if (kind >= 0 && vfio_pci_bpf_may_reset(vbdev, kind))
		return -EPERM;
	return vfio_pci_bpf_core.config_rw(&vbdev->core_device, &raw, n, &pos,
					   true);
}

/*
 * A config read under a policy into a kernel buffer, as the user is to
 * see it.  A denied piece reads as zero, as vfio-pci shows config bytes it
 * does not expose: a client that reads the whole config space at once
 * (QEMU) gets all of it, and never a short count it would refuse the
 * device for.  A device require_policy closes fails with -EPERM.
 */
static ssize_t vfio_pci_bpf_config_read_judged(struct vfio_pci_bpf_device *vbdev,
					       __le32 *raw, size_t n, loff_t pos,
					       bool audit)
{
	struct vfio_bpf_access ctx = {
		.sbdf = vbdev->sbdf,
		.region = VFIO_PCI_CONFIG_REGION_INDEX,
		.offset = pos & VFIO_PCI_OFFSET_MASK,
		.size = n,
	};
	ssize_t ret;
	int verdict;

	*raw = 0;
	ret = vfio_pci_bpf_core.config_rw(&vbdev->core_device, raw, n, &pos,
					  false);
	if (ret != n)
		return ret < 0 ? ret : -EIO;
	ctx.value = le32_to_cpu(*raw);
	verdict = vfio_pci_bpf_hook_config_read(vbdev, &ctx, audit);
	if (verdict == VFIO_BPF_DENY && !vfio_pci_bpf_has_policy(vbdev))
		return -EPERM;
	if (verdict == VFIO_BPF_DENY)
		*raw = 0;
	else if (verdict == VFIO_BPF_REWRITE)
		*raw = cpu_to_le32(ctx.value);
	return n;
}

/*
 * One piece of a config read under a policy: read into a kernel buffer,
 * judged there; only an allowed or substituted value reaches the user.
 */
static ssize_t vfio_pci_bpf_config_read_piece(struct vfio_pci_bpf_device *vbdev,
					      char __user *buf, size_t n,
					      loff_t pos)
{
	__le32 raw;
	ssize_t ret;

	ret = vfio_pci_bpf_config_read_judged(vbdev, &raw, n, pos, true);
	if (ret != n)
		return ret;
	if (copy_to_user(buf, &raw, n))
		return -EFAULT;
	return n;
}

/*
 * A config access under a policy, cut into the pieces the policy sees
 * (naturally aligned, at most 4 bytes), so a 256-byte pread cannot read
 * past a hidden register.  A denied write piece ends the access: what was
 * done before it is returned as a short count, and a denied first piece
 * fails with -EPERM; so does a read of a device require_policy closes.
 * Without the kernel-copy entry points nothing can be
 * judged soundly: policies do not attach then, and require_policy denies.
 */
static ssize_t vfio_pci_bpf_config_policed(struct vfio_pci_bpf_device *vbdev,
					   char __user *buf, size_t count,
					   loff_t *ppos, bool write)
{
	ssize_t ret = 0;
	size_t done = 0;

	if (!vfio_pci_bpf_core_patched())
		return -EPERM;
	while (done < count) {
		size_t n = vfio_pci_bpf_piece((*ppos + done) & VFIO_PCI_OFFSET_MASK,
					      count - done);

		if (write)
			ret = vfio_pci_bpf_config_write_piece(vbdev, buf + done,
							      n, *ppos + done);
		else
			ret = vfio_pci_bpf_config_read_piece(vbdev, buf + done,
							     n, *ppos + done);
		if (ret <= 0)
			break;
		done += ret;
	}
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

static ssize_t vfio_pci_bpf_config_rw(struct vfio_pci_bpf_device *vbdev,
				      char __user *buf, size_t count,
				      loff_t *ppos, bool write)
{
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	u64 value = 0, old = 0, t0 = vfio_pci_bpf_op_start();
	ssize_t ret;

	if (write && trace_vfio_pci_bpf_config_write_enabled()) {
		value = vfio_pci_bpf_peek_user(buf, count);
		old = vfio_pci_bpf_peek_config(pdev, off, count);
	}

	if (vfio_pci_bpf_policed(vbdev))
		ret = vfio_pci_bpf_config_policed(vbdev, buf, count, ppos, write);
	else if (write)
		ret = vfio_pci_core_write(vdev, buf, count, ppos);
	else
		ret = vfio_pci_core_read(vdev, buf, count, ppos);

	/* The peeks cost user and config accesses: only for a live event. */
	if (write && trace_vfio_pci_bpf_config_write_enabled())
		trace_vfio_pci_bpf_config_write(pdev, vbdev->sbdf, vbdev->slot,
						off, count, value, old,
						vfio_pci_bpf_peek_config(pdev, off, count),
						ret);
	else if (!write && trace_vfio_pci_bpf_config_read_enabled())
		trace_vfio_pci_bpf_config_read(pdev, vbdev->sbdf, vbdev->slot,
					       off, count,
					       ret > 0 ? vfio_pci_bpf_peek_user(buf, ret) : 0,
					       ret);
	vfio_pci_bpf_op_end(vbdev, write ? VFT_CONFIG_WRITE : VFT_CONFIG_READ, ret,
			    t0);
	return ret;
}

/* ---- BARs, ROM and VGA through the region path ---------------------- */

/* Largest naturally aligned piece of at most 8 bytes at @pos. */
static size_t vfio_pci_bpf_bar_piece(u64 pos, size_t left)
{
	if (!(pos & 7) && left >= 8)
		return 8;
	return vfio_pci_bpf_piece(pos, left);
}

/* Write @n bytes of @val at @off of a BAR, as the core's trapped path does. */
static int vfio_pci_bpf_bar_iowrite(struct vfio_pci_core_device *cdev, int bar,
				    u64 off, size_t n, u64 val)
{
	bool test_mem = pci_resource_flags(cdev->pdev, bar) & IORESOURCE_MEM;
	void __iomem *io = cdev->barmap[bar] + off;

	switch (n) {
	case 1:
		return vfio_pci_core_iowrite8(cdev, test_mem, val, io);
	case 2:
		return vfio_pci_core_iowrite16(cdev, test_mem, val, io);
	case 4:
		return vfio_pci_core_iowrite32(cdev, test_mem, val, io);
	default:
		return vfio_pci_core_iowrite64(cdev, test_mem, val, io);
	}
}

/*
 * A write of BAR 0-5 under a policy: each piece is fetched once, judged
 * with its value, and written from that copy through the core's own I/O
 * helpers, so the value judged is the value the device gets.  Writes into
 * the MSI-X table are dropped, as the core drops them.
 */
static ssize_t vfio_pci_bpf_bar_write_policed(struct vfio_pci_bpf_device *vbdev,
					      const char __user *buf,
					      size_t count, loff_t *ppos)
{
	struct vfio_pci_core_device *cdev = &vbdev->core_device;
	struct pci_dev *pdev = cdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK, end, x_start = 0, x_end = 0;
	size_t done = 0;
	ssize_t ret;

	if (!pci_resource_start(pdev, bar))
		return -EINVAL;
	end = pci_resource_len(pdev, bar);
	if (pos >= end)
		return -EINVAL;
	count = min_t(u64, count, end - pos);
	if (bar == cdev->msix_bar) {
		x_start = cdev->msix_offset;
		x_end = cdev->msix_offset + cdev->msix_size;
	}

	ret = pm_runtime_resume_and_get(&pdev->dev);
	if (ret)
		return -EIO;
	ret = vfio_pci_core_setup_barmap(cdev, bar);
	if (ret)
		goto out_put;

	while (done < count) {
		u64 off = pos + done;
		size_t n = vfio_pci_bpf_bar_piece(off, count - done);
		struct vfio_bpf_access ctx = {
			.sbdf = vbdev->sbdf,
			.region = bar,
			.offset = off,
			.size = n,
			.write = 1,
		};
		__le64 raw = 0;

		if (copy_from_user(&raw, buf + done, n)) {
			ret = -EFAULT;
			break;
		}
		ctx.value = le64_to_cpu(raw);
		if (vfio_pci_bpf_hook_bar_access(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			break;
		}
		if (off + n <= x_start || off >= x_end) {
			ret = vfio_pci_bpf_bar_iowrite(cdev, bar, off, n,
						       ctx.value);
			if (ret)
				break;
		}
		done += n;
		cond_resched();
	}
out_put:
	pm_runtime_put(&pdev->dev);
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

static ssize_t vfio_pci_bpf_bar_rw(struct vfio_pci_bpf_device *vbdev,
				   char __user *buf, size_t count,
				   loff_t *ppos, bool write)
{
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	u32 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	bool policed = vfio_pci_bpf_policed(vbdev);
	u64 value = 0, t0 = vfio_pci_bpf_op_start();
	ssize_t ret;

	if (write && trace_vfio_pci_bpf_bar_write_enabled())
		value = vfio_pci_bpf_peek_user(buf, count);

	if (policed && write && index <= VFIO_PCI_BAR5_REGION_INDEX) {
		ret = vfio_pci_bpf_bar_write_policed(vbdev, buf, count, ppos);
		goto out_trace;
	}
	/*
	 * Decided before the access: device registers may act on a read.
	 * Reads, and writes of the VGA region, are judged by where they go;
	 * no user data is judged, so there is none to fetch twice.
	 */
	if (policed) {
		struct vfio_bpf_access ctx = {
			.sbdf = vbdev->sbdf,
			.region = index,
			.offset = off,
			.size = count,
			.write = write,
		};

		if (vfio_pci_bpf_hook_bar_access(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_trace;
		}
	}

	if (write)
		ret = vfio_pci_core_write(vdev, buf, count, ppos);
	else
		ret = vfio_pci_core_read(vdev, buf, count, ppos);

out_trace:
	if (write)
		trace_vfio_pci_bpf_bar_write(pdev, vbdev->sbdf, vbdev->slot,
					     index, off, count, value, ret);
	else if (trace_vfio_pci_bpf_bar_read_enabled())
		trace_vfio_pci_bpf_bar_read(pdev, vbdev->sbdf, vbdev->slot,
					    index, off, count,
					    ret > 0 ? vfio_pci_bpf_peek_user(buf, ret) : 0,
					    ret);
	vfio_pci_bpf_op_end(vbdev, write ? VFT_BAR_WRITE : VFT_BAR_READ, ret, t0);
	return ret;
}

static ssize_t vfio_pci_bpf_rw_slow(struct vfio_device *vdev, char __user *buf,
				    size_t count, loff_t *ppos, bool write)
{
	u32 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);

	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return vfio_pci_bpf_config_rw(to_vbdev(vdev), buf, count, ppos,
					      write);
	if (index <= VFIO_PCI_VGA_REGION_INDEX)
		return vfio_pci_bpf_bar_rw(to_vbdev(vdev), buf, count, ppos,
					   write);
	/* Device specific regions: not ours to judge. */
	return write ? vfio_pci_core_write(vdev, buf, count, ppos) :
		       vfio_pci_core_read(vdev, buf, count, ppos);
}

static ssize_t vfio_pci_bpf_read(struct vfio_device *vdev, char __user *buf,
				 size_t count, loff_t *ppos)
{
	if (likely(!vfio_pci_bpf_hooks_on() && !vfio_pci_bpf_listened()))
		return vfio_pci_core_read(vdev, buf, count, ppos);
	return vfio_pci_bpf_rw_slow(vdev, buf, count, ppos, false);
}

/* The caller's buffer is only read: under a policy, once per piece. */
static ssize_t vfio_pci_bpf_write(struct vfio_device *vdev,
				  const char __user *buf, size_t count,
				  loff_t *ppos)
{
	if (likely(!vfio_pci_bpf_hooks_on() && !vfio_pci_bpf_listened()))
		return vfio_pci_core_write(vdev, buf, count, ppos);
	return vfio_pci_bpf_rw_slow(vdev, (char __user *)buf, count, ppos, true);
}

/* ---- mmap ----------------------------------------------------------- */

/*
 * The core's vm_operations for BAR mappings, which ours wrap; the same
 * for every mapping, recorded by the first.
 */
static const struct vm_operations_struct *vfio_pci_bpf_core_vm_ops;

static int vfio_pci_bpf_vma_region(struct vm_area_struct *vma)
{
	return vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
}

/*
 * May region @index be mapped (and its pages be faulted in) now?  @audit:
 * the user asks (mmap, a fault), not the module (re-judging mappings).
 */
static bool vfio_pci_bpf_may_map(struct vfio_pci_bpf_device *vbdev, u32 index,
				 u64 off, u64 len, bool audit)
{
	struct vfio_bpf_mmap ctx = {
		.sbdf = vbdev->sbdf,
		.region = index,
		.offset = off,
		.length = len,
	};

	if (!vfio_pci_bpf_policed(vbdev))
		return true;
	return vfio_pci_bpf_hook_mmap(vbdev, &ctx, audit) == VFIO_BPF_ALLOW;
}

/*
 * A fault on a BAR mapping: the core inserts the page only while the
 * policy lets the BAR be mapped, so a mapping made before a trapping
 * policy attached gets SIGBUS, not the device.  trap_sem orders this
 * against vfio_pci_bpf_revoke().
 */
static vm_fault_t vfio_pci_bpf_huge_fault(struct vm_fault *vmf,
					  unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *cdev = vma->vm_private_data;
	struct vfio_pci_bpf_device *vbdev =
		container_of(cdev, struct vfio_pci_bpf_device, core_device);
	const struct vm_operations_struct *core = vfio_pci_bpf_core_vm_ops;
	vm_fault_t ret;

	if (order && !core->huge_fault)
		return VM_FAULT_FALLBACK;
	down_read(&vbdev->trap_sem);
	if (!vfio_pci_bpf_may_map(vbdev, vfio_pci_bpf_vma_region(vma), 0,
				  vma->vm_end - vma->vm_start, true))
		ret = VM_FAULT_SIGBUS;
	else if (order)
		ret = core->huge_fault(vmf, order);
	else
		ret = core->fault(vmf);
	up_read(&vbdev->trap_sem);
	return ret;
}

static vm_fault_t vfio_pci_bpf_fault(struct vm_fault *vmf)
{
	return vfio_pci_bpf_huge_fault(vmf, 0);
}

static const struct vm_operations_struct vfio_pci_bpf_vm_ops = {
	.fault		= vfio_pci_bpf_fault,
	.huge_fault	= vfio_pci_bpf_huge_fault,
};

static int vfio_pci_bpf_mmap(struct vfio_device *vdev,
			     struct vm_area_struct *vma)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	u32 index = vfio_pci_bpf_vma_region(vma);
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & VFIO_PCI_OFFSET_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	u64 t0 = vfio_pci_bpf_op_start();
	int ret;

	if (!vfio_pci_bpf_may_map(vbdev, index, off, len, true)) {
		ret = -EPERM;
		goto out_trace;
	}
	ret = vfio_pci_core_mmap(vdev, vma);
	if (!ret && vma->vm_ops && vma->vm_ops->fault) {
		WRITE_ONCE(vfio_pci_bpf_core_vm_ops, vma->vm_ops);
		vma->vm_ops = &vfio_pci_bpf_vm_ops;
	}
out_trace:
	trace_vfio_pci_bpf_mmap(to_pdev(vdev), to_vbdev(vdev)->sbdf,
				to_vbdev(vdev)->slot, index, off, len, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_MMAP, ret, t0);
	return ret;
}

/* ---- taking back what a policy change no longer allows -------------- */

/* An ioeventfd set up through us: the BAR write it does on each signal. */
struct vfio_pci_bpf_ioeventfd {
	struct list_head node;
	struct vfio_device_ioeventfd req;
};

static bool vfio_pci_bpf_ioeventfd_allowed(struct vfio_pci_bpf_device *vbdev,
					   const struct vfio_device_ioeventfd *req)
{
	struct vfio_bpf_access ctx = {
		.sbdf = vbdev->sbdf,
		.region = VFIO_PCI_OFFSET_TO_INDEX(req->offset),
		.offset = req->offset & VFIO_PCI_OFFSET_MASK,
		.size = req->flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK,
		.write = 1,
		.value = req->data,
	};

	return vfio_pci_bpf_hook_bar_access(vbdev, &ctx) == VFIO_BPF_ALLOW;
}

/*
 * Called by a policy change (attach, replace, detach, require_policy)
 * once the new policy is in place: existing mappings of BARs it traps are
 * zapped (the fault handler then refuses them), and ioeventfds it would
 * deny are torn down, so nothing set up under the old policy outlives it.
 */
void vfio_pci_bpf_revoke(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_core_device *cdev = &vbdev->core_device;
	struct vfio_pci_bpf_ioeventfd *e, *tmp;
	struct inode *inode = vfio_pci_bpf_vdev_inode(&cdev->vdev);

	down_write(&vbdev->trap_sem);
	for (int bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		u64 len = pci_resource_len(cdev->pdev, bar);

		if (len && inode &&
		    !vfio_pci_bpf_may_map(vbdev, bar, 0, len, false))
			unmap_mapping_range(inode->i_mapping,
					    VFIO_PCI_INDEX_TO_OFFSET(bar),
					    len, true);
	}
	up_write(&vbdev->trap_sem);

	if (!vfio_pci_bpf_core_patched())
		return;		/* then no ioeventfd was set up through us */
	mutex_lock(&vbdev->ioeventfd_lock);
	list_for_each_entry_safe(e, tmp, &vbdev->ioeventfds, node) {
		if (vfio_pci_bpf_ioeventfd_allowed(vbdev, &e->req))
			continue;
		e->req.fd = -1;
		/* -ENODEV: the core had already dropped it (device closed). */
		vfio_pci_bpf_core.ioeventfd(cdev, &e->req);
		list_del(&e->node);
		kfree(e);
	}
	mutex_unlock(&vbdev->ioeventfd_lock);
}

/* The core drops every ioeventfd on close; so do we. */
static void vfio_pci_bpf_ioeventfds_clear(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_ioeventfd *e, *tmp;

	mutex_lock(&vbdev->ioeventfd_lock);
	list_for_each_entry_safe(e, tmp, &vbdev->ioeventfds, node) {
		list_del(&e->node);
		kfree(e);
	}
	mutex_unlock(&vbdev->ioeventfd_lock);
}

/* ---- ioctls --------------------------------------------------------- */

/* The host irq behind a vector, or -1 where the core signals directly. */
static int vfio_pci_bpf_host_irq(struct pci_dev *pdev, u32 index, u32 vector)
{
	int irq;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return pdev->irq;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		irq = pci_irq_vector(pdev, vector);
		return irq < 0 ? -1 : irq;
	default:
		return -1;
	}
}

/* How many vectors index @index of the device has: a bound for loops. */
static u32 vfio_pci_bpf_irq_limit(struct pci_dev *pdev, u32 index)
{
	int n;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return 1;
	case VFIO_PCI_MSI_IRQ_INDEX:
		n = pci_msi_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		n = pci_msix_vec_count(pdev);
		return n > 0 ? n : 0;
	default:
		return 1;
	}
}

/*
 * After a successful SET_IRQS: which vectors now have an eventfd.  @fds
 * is the kernel copy the core used, or (unpatched core, tracing only) the
 * user's memory, where the loop is still bounded by the device's vectors.
 */
static void vfio_pci_bpf_trace_vectors(struct vfio_pci_bpf_device *vbdev,
				       const struct vfio_irq_set *hdr,
				       const s32 *kfds, const s32 __user *ufds)
{
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	u32 n;

	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) && !hdr->count) {
		/* The whole index is torn down. */
		trace_vfio_pci_bpf_irq_vector(pdev, vbdev->sbdf, vbdev->slot,
					      hdr->index, U32_MAX, -1, false);
		return;
	}
	if (!(hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return;
	n = min(hdr->count, vfio_pci_bpf_irq_limit(pdev, hdr->index));
	for (u32 i = 0; i < n; i++) {
		u32 vector = hdr->start + i;
		s32 fd;

		if (kfds)
			fd = kfds[i];
		else if (get_user(fd, ufds + i))
			return;
		trace_vfio_pci_bpf_irq_vector(pdev, vbdev->sbdf, vbdev->slot,
					      hdr->index, vector,
					      vfio_pci_bpf_host_irq(pdev, hdr->index, vector),
					      fd >= 0);
		if (!(i & 63))
			cond_resched();
	}
}

/*
 * The vectors a request needs enabled: the core enables start + count of
 * them for an eventfd request (count 0 included), whatever the fds say.
 * Loopback triggers (DATA_NONE, DATA_BOOL) and masks enable none.
 */
static u32 vfio_pci_bpf_irq_nvec(const struct vfio_irq_set *hdr)
{
	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER) ||
	    !(hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return 0;
	return hdr->start + hdr->count;
}

/*
 * SET_IRQS under a policy: the core fetches and checks header and data
 * once (vfio_pci_core_copy_irq_set), the hook judges that copy, and the
 * core carries out exactly that copy.  Without a policy, and with no
 * tracepoint on, this is the core's ioctl.
 */
static noinline long vfio_pci_bpf_set_irqs(struct vfio_pci_bpf_device *vbdev,
				  unsigned int cmd, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set __user *uarg = (void __user *)arg;
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	struct vfio_irq_set hdr = {};
	void *data = NULL;
	long ret;

	if (!vfio_pci_bpf_core_patched()) {
		if (vfio_pci_bpf_policed(vbdev)) {
			ret = -EPERM;
			goto out_trace;
		}
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		ret = vfio_pci_core_ioctl(&vbdev->core_device.vdev, cmd, arg);
		if (!ret && trace_vfio_pci_bpf_irq_vector_enabled())
			vfio_pci_bpf_trace_vectors(vbdev, &hdr, NULL,
						   (const s32 __user *)(arg + minsz));
		goto out_trace;
	}

	ret = vfio_pci_bpf_core.copy_irq_set(&vbdev->core_device, uarg, &hdr,
					     &data);
	if (ret)
		goto out_trace;
	if (vfio_pci_bpf_policed(vbdev)) {
		struct vfio_bpf_irq ctx = {
			.sbdf = vbdev->sbdf,
			.index = hdr.index,
			.start = hdr.start,
			.count = hdr.count,
			.flags = hdr.flags,
			.nvec = vfio_pci_bpf_irq_nvec(&hdr),
		};

		if (vfio_pci_bpf_hook_set_irqs(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_free;
		}
	}
	ret = vfio_pci_bpf_core.set_irqs(&vbdev->core_device, &hdr, data);
	if (!ret && trace_vfio_pci_bpf_irq_vector_enabled())
		vfio_pci_bpf_trace_vectors(vbdev, &hdr, data, NULL);
out_free:
	kfree(data);
out_trace:
	trace_vfio_pci_bpf_set_irqs(pdev, vbdev->sbdf, vbdev->slot, hdr.index,
				    hdr.start, hdr.count, hdr.flags, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_SET_IRQS, ret, 0);
	return ret;
}

/*
 * VFIO_DEVICE_IOEVENTFD: a BAR write the core repeats on every signal of
 * the eventfd, judged like a trapped BAR write of that offset, size and
 * data, on the copy the core then uses.  Set-ups are remembered so that a
 * later policy that denies them tears them down (vfio_pci_bpf_revoke()).
 */
static noinline long vfio_pci_bpf_ioeventfd(struct vfio_pci_bpf_device *vbdev,
				   unsigned int cmd, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_pci_core_device *cdev = &vbdev->core_device;
	struct vfio_pci_bpf_ioeventfd *e = NULL, *old;
	struct vfio_device_ioeventfd req;
	long ret;

	if (!vfio_pci_bpf_core_patched()) {
		if (vfio_pci_bpf_policed(vbdev))
			return -EPERM;
		return vfio_pci_core_ioctl(&cdev->vdev, cmd, arg);
	}
	if (copy_from_user(&req, (void __user *)arg, minsz))
		return -EFAULT;
	if (req.fd >= 0) {
		e = kzalloc(sizeof(*e), GFP_KERNEL);
		if (!e)
			return -ENOMEM;
		e->req = req;
	}

	/* Held across decision and set-up: a policy change waits for both. */
	mutex_lock(&vbdev->ioeventfd_lock);
	if (req.fd >= 0 && vfio_pci_bpf_policed(vbdev) &&
	    !vfio_pci_bpf_ioeventfd_allowed(vbdev, &req)) {
		ret = -EPERM;
		goto out_unlock;
	}
	ret = vfio_pci_bpf_core.ioeventfd(cdev, &req);
	if (ret)
		goto out_unlock;
	if (e) {
		list_add_tail(&e->node, &vbdev->ioeventfds);
		e = NULL;
	} else {
		list_for_each_entry(old, &vbdev->ioeventfds, node) {
			if (old->req.offset == req.offset &&
			    old->req.data == req.data &&
			    old->req.flags == req.flags) {
				list_del(&old->node);
				kfree(old);
				break;
			}
		}
	}
out_unlock:
	mutex_unlock(&vbdev->ioeventfd_lock);
	kfree(e);
	return ret;
}

static const struct vfio_device_ops vfio_pci_bpf_dev_ops;

/*
 * A hot reset resets every device of the reset domain (the vfio dev_set):
 * the policy of each one of ours in it has a say, not only the caller's.
 * A device of another vfio driver in the same domain is not ours to ask:
 * docs/hooks.md says to assign whole reset domains to vfio-pci-bpf.
 */
static bool vfio_pci_bpf_hot_reset_allowed(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_device_set *set = vbdev->core_device.vdev.dev_set;
	struct vfio_device *cur;
	bool ok = true;

	mutex_lock(&set->lock);
	list_for_each_entry(cur, &set->device_list, dev_set_list) {
		struct vfio_pci_bpf_device *o = to_vbdev(cur);

		if (cur->ops != &vfio_pci_bpf_dev_ops || !vfio_pci_bpf_policed(o))
			continue;
		if (vfio_pci_bpf_may_reset(o, VFIO_BPF_RESET_HOT)) {
			ok = false;
			break;
		}
	}
	mutex_unlock(&set->lock);
	return ok;
}

static noinline long vfio_pci_bpf_reset(struct vfio_pci_bpf_device *vbdev,
			       unsigned int cmd, unsigned long arg)
{
	u32 kind = cmd == VFIO_DEVICE_RESET ? VFIO_BPF_RESET_FUNCTION :
					      VFIO_BPF_RESET_HOT;
	long ret;

	if (kind == VFIO_BPF_RESET_HOT && !vfio_pci_bpf_hot_reset_allowed(vbdev)) {
		ret = -EPERM;
		goto out_trace;
	}
	if (kind == VFIO_BPF_RESET_FUNCTION && vfio_pci_bpf_policed(vbdev)) {
		struct vfio_bpf_dev ctx = {
			.sbdf = vbdev->sbdf,
			.pid = current->tgid,
			.kind = kind,
		};

		if (vfio_pci_bpf_hook_reset(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_trace;
		}
	}
	ret = vfio_pci_core_ioctl(&vbdev->core_device.vdev, cmd, arg);
out_trace:
	trace_vfio_pci_bpf_reset(vfio_pci_bpf_to_pdev(vbdev), vbdev->sbdf,
				 vbdev->slot, kind, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_RESET, ret, 0);
	return ret;
}

/*
 * A BAR the policy will not let be mapped stops advertising mmap, so a
 * client (QEMU, DPDK) falls back to trapped access instead of failing.
 */
static noinline long vfio_pci_bpf_region_info(struct vfio_pci_bpf_device *vbdev,
				     unsigned int cmd, unsigned long arg)
{
	struct vfio_region_info __user *uinfo = (void __user *)arg;
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	struct vfio_bpf_mmap ctx;
	long ret;

	ret = vfio_pci_core_ioctl(&vbdev->core_device.vdev, cmd, arg);
	if (ret || !vfio_pci_bpf_policed(vbdev))
		return ret;
	if (copy_from_user(&info, uinfo, minsz))
		return -EFAULT;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return 0;

	ctx = (struct vfio_bpf_mmap) {
		.sbdf = vbdev->sbdf,
		.region = info.index,
		.offset = 0,
		.length = info.size,
	};
	if (vfio_pci_bpf_hook_mmap(vbdev, &ctx, false) == VFIO_BPF_ALLOW)
		return 0;
	info.flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	if (put_user(info.flags, &uinfo->flags))
		return -EFAULT;
	return 0;
}

/*
 * MSI-X vectors as the user sees them: a policy can cap the Table Size of
 * the capability (interrupts.msix), and VFIO_DEVICE_GET_IRQ_INFO must not
 * report more vectors than that, or a client sizes its table from the
 * ioctl and asks for vectors the policy refuses.
 */
static noinline long vfio_pci_bpf_irq_info(struct vfio_pci_bpf_device *vbdev,
					   unsigned int cmd, unsigned long arg)
{
	struct vfio_irq_info __user *uinfo = (void __user *)arg;
	struct pci_dev *pdev = vbdev->core_device.pdev;
	loff_t pos = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) +
		     pdev->msix_cap + PCI_MSIX_FLAGS;
	struct vfio_irq_info info;
	__le32 flags;
	u32 count;
	long ret;

	ret = vfio_pci_core_ioctl(&vbdev->core_device.vdev, cmd, arg);
	if (ret || !pdev->msix_cap || !vfio_pci_bpf_policed(vbdev) ||
	    !vfio_pci_bpf_core_patched())
		return ret;
	if (copy_from_user(&info, uinfo, offsetofend(struct vfio_irq_info, count)))
		return -EFAULT;
	if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !info.count)
		return 0;
	ret = vfio_pci_bpf_config_read_judged(vbdev, &flags, 2, pos, false);
	if (ret < 0)
		return ret;
	count = (le32_to_cpu(flags) & PCI_MSIX_FLAGS_QSIZE) + 1;
	if (count < info.count && put_user(count, &uinfo->count))
		return -EFAULT;
	return 0;
}

/*
 * Nothing to judge and nothing listening: the core's ioctl, as under
 * vfio-pci.  Not for VFIO_DEVICE_IOEVENTFD, whose set-ups the module
 * remembers whatever the policy, for a policy that comes later.
 */
static __always_inline bool vfio_pci_bpf_ioctl_idle(unsigned int cmd)
{
	return !vfio_pci_bpf_hooks_on() && !vfio_pci_bpf_listened() &&
	       cmd != VFIO_DEVICE_IOEVENTFD;
}

/*
 * The special cases live out of line, so the common path through here
 * stays a small frame around the core's ioctl.
 */
static noinline long vfio_pci_bpf_ioctl_slow(struct vfio_device *vdev,
					     unsigned int cmd, unsigned long arg)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	u64 t0 = vfio_pci_bpf_op_start();
	long ret;

	switch (cmd) {
	case VFIO_DEVICE_SET_IRQS:
		ret = vfio_pci_bpf_set_irqs(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_IOEVENTFD:
		ret = vfio_pci_bpf_ioeventfd(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_RESET:
	case VFIO_DEVICE_PCI_HOT_RESET:
		ret = vfio_pci_bpf_reset(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_GET_REGION_INFO:
		ret = vfio_pci_bpf_region_info(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_GET_IRQ_INFO:
		ret = vfio_pci_bpf_irq_info(vbdev, cmd, arg);
		break;
	default:
		ret = vfio_pci_core_ioctl(vdev, cmd, arg);
		break;
	}
	trace_vfio_pci_bpf_ioctl(to_pdev(vdev), to_vbdev(vdev)->sbdf,
				 to_vbdev(vdev)->slot, cmd, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_IOCTL, ret, t0);
	return ret;
}

static long vfio_pci_bpf_ioctl(struct vfio_device *vdev, unsigned int cmd,
			       unsigned long arg)
{
	if (likely(vfio_pci_bpf_ioctl_idle(cmd)))
		return vfio_pci_core_ioctl(vdev, cmd, arg);
	return vfio_pci_bpf_ioctl_slow(vdev, cmd, arg);
}

/*
 * Low-power entry puts the device in D3hot, and leaving it resets a
 * device without No_Soft_Reset: the reset hook judges it.
 */
static int vfio_pci_bpf_device_feature(struct vfio_device *vdev, u32 flags,
				       void __user *arg, size_t argsz)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	u32 feature = flags & VFIO_DEVICE_FEATURE_MASK;
	int ret;

	if ((flags & VFIO_DEVICE_FEATURE_SET) &&
	    (feature == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY ||
	     feature == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP) &&
	    vfio_pci_bpf_policed(vbdev)) {
		ret = vfio_pci_bpf_may_reset(vbdev, VFIO_BPF_RESET_PM);
		if (ret)
			goto out_trace;
	}
	ret = vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);
out_trace:
	trace_vfio_pci_bpf_ioctl(to_pdev(vdev), vbdev->sbdf, vbdev->slot,
				 VFIO_DEVICE_FEATURE, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_IOCTL, ret, 0);
	return ret;
}

/* ---- open and close ------------------------------------------------- */

static int vfio_pci_bpf_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	struct vfio_pci_core_device *core_device = &vbdev->core_device;
	int ret;

	if (vfio_pci_bpf_hooks_on()) {
		struct vfio_bpf_dev ctx = {
			.sbdf = vbdev->sbdf,
			.pid = current->tgid,
		};

		if (vfio_pci_bpf_hook_open(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_trace;
		}
	}

	ret = vfio_pci_core_enable(core_device);
	if (ret)
		goto out_trace;
	ret = vfio_pci_bpf_lm_open(vbdev);
	if (ret)
		goto out_disable;
	vfio_pci_core_finish_enable(core_device);
	goto out_trace;

out_disable:
	vfio_pci_core_disable(core_device);
out_trace:
	trace_vfio_pci_bpf_open(vfio_pci_bpf_to_pdev(vbdev), vbdev->sbdf,
				vbdev->slot, ret);
	vfio_pci_bpf_op_end(vbdev, VFT_OPEN, ret, 0);
	return ret;
}

static void vfio_pci_bpf_close_device(struct vfio_device *vdev)
{
	vfio_pci_bpf_lm_close(to_vbdev(vdev));
	vfio_pci_core_close_device(vdev);
	vfio_pci_bpf_ioeventfds_clear(to_vbdev(vdev));
	trace_vfio_pci_bpf_close(to_pdev(vdev), to_vbdev(vdev)->sbdf,
				 to_vbdev(vdev)->slot, 0);
	vfio_pci_bpf_op_end(to_vbdev(vdev), VFT_CLOSE, 0, 0);
}

static int vfio_pci_bpf_init_dev(struct vfio_device *vdev)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	init_rwsem(&vbdev->trap_sem);
	mutex_init(&vbdev->ioeventfd_lock);
	INIT_LIST_HEAD(&vbdev->ioeventfds);
	vbdev->af_cap = pci_find_capability(vfio_pci_bpf_to_pdev(vbdev),
					    PCI_CAP_ID_AF);
	vfio_pci_bpf_lm_init(vbdev);
	return 0;
}

static const struct vfio_device_ops vfio_pci_bpf_dev_ops = {
	.name		= "vfio-pci-bpf",
	.init		= vfio_pci_bpf_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= vfio_pci_bpf_open_device,
	.close_device	= vfio_pci_bpf_close_device,
	.ioctl		= vfio_pci_bpf_ioctl,
	.device_feature	= vfio_pci_bpf_device_feature,
	.read		= vfio_pci_bpf_read,
	.write		= vfio_pci_bpf_write,
	.mmap		= vfio_pci_bpf_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	VFIO_PCI_BPF_IOMMUFD_OPS
};

const struct vfio_device_ops *vfio_pci_bpf_ops(void)
{
	return &vfio_pci_bpf_dev_ops;
}
