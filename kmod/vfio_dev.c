// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_device_ops of vfio-pci-bpf.
 *
 * Every operation is vfio_pci_core's.  Around the ones a policy or an
 * operator cares about sit tracepoints (trace.h) and BPF hooks (hooks.c).
 * With no policy attached and no tracepoint enabled, the hot paths (region
 * read and write) cost a few patched-out jumps on top of vfio-pci.
 */

#include <linux/pci.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "hooks.h"
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

/* Is a policy attached to this very device?  Only asked on slow paths. */
static inline bool vfio_pci_bpf_policed(struct vfio_pci_bpf_device *vbdev)
{
	return vfio_pci_bpf_hooks_on() && vfio_pci_bpf_has_policy(vbdev);
}

/* Up to 8 bytes of a user buffer as a little-endian number, for traces. */
static u64 vfio_pci_bpf_peek_user(const char __user *buf, size_t len)
{
	__le64 v = 0;

	if (copy_from_user(&v, buf, min(len, sizeof(v))))
		return 0;
	return le64_to_cpu(v);
}

/* The device's own config bytes (not the virtualized view), for traces. */
static u64 vfio_pci_bpf_peek_config(struct pci_dev *pdev, u64 off, size_t len)
{
	u64 v = 0;
	u8 b;

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

/*
 * A config access under a policy.  The access is cut into the pieces the
 * policy sees, so a 256-byte pread cannot read past a hidden register.
 * A denied piece ends the access: what was done before it is returned as
 * a short count, and a denied first piece fails with -EPERM.
 */
static ssize_t vfio_pci_bpf_config_policed(struct vfio_pci_bpf_device *vbdev,
					   char __user *buf, size_t count,
					   loff_t *ppos, bool write)
{
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	ssize_t ret = 0;
	size_t done = 0;

	while (done < count) {
		size_t n = vfio_pci_bpf_piece(off + done, count - done);
		struct vfio_bpf_access ctx = {
			.sbdf = vbdev->sbdf,
			.region = VFIO_PCI_CONFIG_REGION_INDEX,
			.offset = off + done,
			.size = n,
			.write = write,
		};
		loff_t pos = *ppos + done;
		__le64 raw = 0, orig;
		int verdict;

		if (write) {
			if (copy_from_user(&raw, buf + done, n)) {
				ret = -EFAULT;
				break;
			}
			ctx.value = le64_to_cpu(raw);
			verdict = vfio_pci_bpf_hook_config_write(vbdev, &ctx);
			if (verdict == VFIO_BPF_DENY) {
				ret = -EPERM;
				break;
			}
			if (verdict == VFIO_BPF_REWRITE) {
				/*
				 * The core reads the value from user memory:
				 * put the rewritten value there for the call
				 * and the caller's bytes back afterwards.
				 */
				orig = raw;
				raw = cpu_to_le64(ctx.value);
				/* A read-only buffer fails with -EFAULT, never unmasked. */
				if (copy_to_user(buf + done, &raw, n)) {
					ret = -EFAULT;
					break;
				}
				ret = vfio_pci_core_write(vdev, buf + done, n, &pos);
				if (copy_to_user(buf + done, &orig, n))
					ret = -EFAULT;
			} else {
				ret = vfio_pci_core_write(vdev, buf + done, n, &pos);
			}
		} else {
			ret = vfio_pci_core_read(vdev, buf + done, n, &pos);
			if (ret == n) {
				ctx.value = vfio_pci_bpf_peek_user(buf + done, n);
				verdict = vfio_pci_bpf_hook_config_read(vbdev, &ctx);
				if (verdict != VFIO_BPF_ALLOW) {
					/* Denied: the caller sees no bytes. */
					raw = verdict == VFIO_BPF_DENY ?
					      cpu_to_le64(U64_MAX) :
					      cpu_to_le64(ctx.value);
					if (copy_to_user(buf + done, &raw, n))
						ret = -EFAULT;
					else if (verdict == VFIO_BPF_DENY)
						ret = -EPERM;
				}
			}
		}
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
	u64 value = 0, old = 0;
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
		trace_vfio_pci_bpf_config_write(pdev, off, count, value, old,
						vfio_pci_bpf_peek_config(pdev, off, count),
						ret);
	else if (!write && trace_vfio_pci_bpf_config_read_enabled())
		trace_vfio_pci_bpf_config_read(pdev, off, count,
					       ret > 0 ? vfio_pci_bpf_peek_user(buf, ret) : 0,
					       ret);
	return ret;
}

/* ---- BARs, ROM and VGA through the region path ---------------------- */

static ssize_t vfio_pci_bpf_bar_rw(struct vfio_pci_bpf_device *vbdev,
				   char __user *buf, size_t count,
				   loff_t *ppos, bool write)
{
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	u32 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	u64 value = 0;
	ssize_t ret;

	if (write && (trace_vfio_pci_bpf_bar_write_enabled() ||
		      vfio_pci_bpf_policed(vbdev)))
		value = vfio_pci_bpf_peek_user(buf, count);

	/* Decided before the access: device registers may act on a read. */
	if (vfio_pci_bpf_policed(vbdev)) {
		struct vfio_bpf_access ctx = {
			.sbdf = vbdev->sbdf,
			.region = index,
			.offset = off,
			.size = count,
			.write = write,
			.value = value,
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
		trace_vfio_pci_bpf_bar_write(pdev, index, off, count, value, ret);
	else if (trace_vfio_pci_bpf_bar_read_enabled())
		trace_vfio_pci_bpf_bar_read(pdev, index, off, count,
					    ret > 0 ? vfio_pci_bpf_peek_user(buf, ret) : 0,
					    ret);
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
	if (likely(!vfio_pci_bpf_hooks_on() &&
		   !trace_vfio_pci_bpf_config_read_enabled() &&
		   !trace_vfio_pci_bpf_bar_read_enabled()))
		return vfio_pci_core_read(vdev, buf, count, ppos);
	return vfio_pci_bpf_rw_slow(vdev, buf, count, ppos, false);
}

/*
 * The buffer is the caller's: it is only written to while a policy
 * rewrites a config write, and restored before returning.
 */
static ssize_t vfio_pci_bpf_write(struct vfio_device *vdev,
				  const char __user *buf, size_t count,
				  loff_t *ppos)
{
	if (likely(!vfio_pci_bpf_hooks_on() &&
		   !trace_vfio_pci_bpf_config_write_enabled() &&
		   !trace_vfio_pci_bpf_bar_write_enabled()))
		return vfio_pci_core_write(vdev, buf, count, ppos);
	return vfio_pci_bpf_rw_slow(vdev, (char __user *)buf, count, ppos, true);
}

/* ---- mmap ----------------------------------------------------------- */

static int vfio_pci_bpf_mmap(struct vfio_device *vdev,
			     struct vm_area_struct *vma)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	u32 index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & VFIO_PCI_OFFSET_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	int ret;

	if (vfio_pci_bpf_policed(vbdev)) {
		struct vfio_bpf_mmap ctx = {
			.sbdf = vbdev->sbdf,
			.region = index,
			.offset = off,
			.length = len,
		};

		if (vfio_pci_bpf_hook_mmap(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_trace;
		}
	}
	ret = vfio_pci_core_mmap(vdev, vma);
out_trace:
	trace_vfio_pci_bpf_mmap(to_pdev(vdev), index, off, len, ret);
	return ret;
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

/* After a successful SET_IRQS: which vectors now have an eventfd. */
static void vfio_pci_bpf_trace_vectors(struct pci_dev *pdev,
				       const struct vfio_irq_set *hdr,
				       const s32 __user *fds)
{
	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) && !hdr->count) {
		/* The whole index is torn down. */
		trace_vfio_pci_bpf_irq_vector(pdev, hdr->index, U32_MAX, -1,
					      false);
		return;
	}
	if (!(hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD))
		return;
	for (u32 i = 0; i < hdr->count; i++) {
		u32 vector = hdr->start + i;
		s32 fd;

		if (get_user(fd, fds + i))
			return;
		trace_vfio_pci_bpf_irq_vector(pdev, hdr->index, vector,
					      vfio_pci_bpf_host_irq(pdev, hdr->index, vector),
					      fd >= 0);
	}
}

static noinline long vfio_pci_bpf_set_irqs(struct vfio_pci_bpf_device *vbdev,
				  unsigned int cmd, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	struct vfio_irq_set hdr;
	long ret;

	if (copy_from_user(&hdr, (void __user *)arg, minsz))
		return -EFAULT;

	if (vfio_pci_bpf_policed(vbdev)) {
		struct vfio_bpf_irq ctx = {
			.sbdf = vbdev->sbdf,
			.index = hdr.index,
			.start = hdr.start,
			.count = hdr.count,
			.flags = hdr.flags,
		};

		if (vfio_pci_bpf_hook_set_irqs(vbdev, &ctx) != VFIO_BPF_ALLOW) {
			ret = -EPERM;
			goto out_trace;
		}
	}
	ret = vfio_pci_core_ioctl(&vbdev->core_device.vdev, cmd, arg);
	if (!ret && trace_vfio_pci_bpf_irq_vector_enabled())
		vfio_pci_bpf_trace_vectors(pdev, &hdr,
					   (const s32 __user *)(arg + minsz));
out_trace:
	trace_vfio_pci_bpf_set_irqs(pdev, hdr.index, hdr.start, hdr.count,
				    hdr.flags, ret);
	return ret;
}

static noinline long vfio_pci_bpf_reset(struct vfio_pci_bpf_device *vbdev,
			       unsigned int cmd, unsigned long arg)
{
	u32 kind = cmd == VFIO_DEVICE_RESET ? VFIO_BPF_RESET_FUNCTION :
					      VFIO_BPF_RESET_HOT;
	long ret;

	if (vfio_pci_bpf_policed(vbdev)) {
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
	trace_vfio_pci_bpf_reset(vfio_pci_bpf_to_pdev(vbdev), kind, ret);
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
	if (vfio_pci_bpf_hook_mmap(vbdev, &ctx) == VFIO_BPF_ALLOW)
		return 0;
	info.flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	if (put_user(info.flags, &uinfo->flags))
		return -EFAULT;
	return 0;
}

/*
 * The special cases live out of line, so the common path through here
 * stays a small frame around the core's ioctl.
 */
static long vfio_pci_bpf_ioctl(struct vfio_device *vdev, unsigned int cmd,
			       unsigned long arg)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	long ret;

	switch (cmd) {
	case VFIO_DEVICE_SET_IRQS:
		ret = vfio_pci_bpf_set_irqs(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_RESET:
	case VFIO_DEVICE_PCI_HOT_RESET:
		ret = vfio_pci_bpf_reset(vbdev, cmd, arg);
		break;
	case VFIO_DEVICE_GET_REGION_INFO:
		ret = vfio_pci_bpf_region_info(vbdev, cmd, arg);
		break;
	default:
		ret = vfio_pci_core_ioctl(vdev, cmd, arg);
		break;
	}
	trace_vfio_pci_bpf_ioctl(to_pdev(vdev), cmd, ret);
	return ret;
}

static int vfio_pci_bpf_device_feature(struct vfio_device *vdev, u32 flags,
				       void __user *arg, size_t argsz)
{
	int ret = vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);

	trace_vfio_pci_bpf_ioctl(to_pdev(vdev), VFIO_DEVICE_FEATURE, ret);
	return ret;
}

/* ---- open and close ------------------------------------------------- */

static int vfio_pci_bpf_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_bpf_device *vbdev = to_vbdev(vdev);
	struct vfio_pci_core_device *core_device = &vbdev->core_device;
	int ret;

	if (vfio_pci_bpf_hooks_on() || vfio_pci_bpf_require_policy) {
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
	trace_vfio_pci_bpf_open(vfio_pci_bpf_to_pdev(vbdev), ret);
	return ret;
}

static void vfio_pci_bpf_close_device(struct vfio_device *vdev)
{
	vfio_pci_bpf_lm_close(to_vbdev(vdev));
	vfio_pci_core_close_device(vdev);
	trace_vfio_pci_bpf_close(to_pdev(vdev), 0);
}

static int vfio_pci_bpf_init_dev(struct vfio_device *vdev)
{
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	vfio_pci_bpf_lm_init(to_vbdev(vdev));
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
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
};

const struct vfio_device_ops *vfio_pci_bpf_ops(void)
{
	return &vfio_pci_bpf_dev_ops;
}
