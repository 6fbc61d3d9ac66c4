// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO migration v2 for vfio-pci-bpf: the state machine, the data fd and
 * the image header.  What a device's state is, and how it gets in and out
 * of the device, is the business of a provider (lm.h); a device without
 * one has no mig_ops and behaves exactly as under vfio-pci.
 *
 * Supported: VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
 * VFIO_MIGRATION_PRE_COPY.  The image is small and fixed in size: its
 * header is all PRE_COPY has to offer, the device state is taken in one go
 * when the device is stopped (entering STOP_COPY) and loaded in one go on
 * the RESUMING -> STOP arc.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "hooks.h"
#include "lm.h"
#include "trace.h"
#include "vfio_trace.h"
#include "vfio_pci_bpf.h"

/* Built only where the kernel has what lm.c needs (compat.h). */
#if VFIO_PCI_BPF_MIGRATION

/* One data transfer session: the fd handed to the user. */
struct vfio_pci_bpf_lm_file {
	struct file *filp;
	/* held so that tracing a late read or write never sees a freed device */
	struct pci_dev *pdev;
	u32 sbdf, slot;		/* the device's, for its tracepoints */
	struct mutex lock;	/* everything below */
	bool disabled;
	bool complete;		/* saving: the device state is in, EOF is final */
	size_t len;		/* valid bytes in buf */
	size_t cap;
	u8 buf[] __counted_by(cap);
};

/* The image header is ABI: docs/migration.md. */
static_assert(sizeof(struct vfio_pci_bpf_lm_header) == 16);

static const struct vfio_pci_bpf_lm_provider *const vfio_pci_bpf_lm_providers[] = {
	&vfio_pci_bpf_lm_edu,
};

static struct vfio_pci_bpf_lm *vfio_pci_bpf_lm_of(struct vfio_pci_bpf_device *vbdev)
{
	return &vbdev->lm;
}

static size_t vfio_pci_bpf_lm_image_size(const struct vfio_pci_bpf_lm_provider *p)
{
	return sizeof(struct vfio_pci_bpf_lm_header) + p->state_size;
}

/*
 * Veto point for migration state changes, asked about each arc of a
 * request's path before any arc is taken (lm_check_path()): the policy's
 * mig_transition hook, when one is attached.
 */
static int vfio_pci_bpf_lm_policy(struct vfio_pci_bpf_device *vbdev, u32 from,
				  u32 to)
{
	struct vfio_bpf_mig ctx = {
		.sbdf = vbdev->sbdf,
		.from = from,
		.to = to,
	};

	if (!vfio_pci_bpf_policed(vbdev))
		return 0;
	return vfio_pci_bpf_hook_mig_transition(vbdev, &ctx) != VFIO_BPF_ALLOW;
}

/* ---- data fd --------------------------------------------------------- */

static void vfio_pci_bpf_lm_file_disable(struct vfio_pci_bpf_lm_file *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	migf->len = 0;
	migf->filp->f_pos = 0;
	mutex_unlock(&migf->lock);
}

static int vfio_pci_bpf_lm_release(struct inode *inode, struct file *filp)
{
	struct vfio_pci_bpf_lm_file *migf = filp->private_data;

	vfio_pci_bpf_lm_file_disable(migf);
	pci_dev_put(migf->pdev);
	mutex_destroy(&migf->lock);
	kvfree(migf);
	return 0;
}

static ssize_t vfio_pci_bpf_lm_read(struct file *filp, char __user *ubuf,
				    size_t len, loff_t *pos)
{
	struct vfio_pci_bpf_lm_file *migf = filp->private_data;
	loff_t off;
	ssize_t ret;

	/* stream_open(): no pread, the position is the file's */
	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	off = filp->f_pos;
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (off > migf->len) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* Before STOP_COPY the end of the data is only for now (uAPI). */
	if (off == migf->len && !migf->complete) {
		ret = -ENOMSG;
		goto out_unlock;
	}
	len = min_t(size_t, len, migf->len - off);
	if (copy_to_user(ubuf, migf->buf + off, len)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	filp->f_pos += len;
	ret = len;
out_unlock:
	trace_vfio_pci_bpf_mig_data(migf->pdev, migf->sbdf, migf->slot, false,
				    off, ret);
	trace_vfio_pci_bpf_op(migf->sbdf, migf->slot, VFT_MIG_DATA, ret, 0);
	trace_vfio_pci_bpf_op_timed(migf->sbdf, migf->slot, VFT_MIG_DATA, ret, 0);
	mutex_unlock(&migf->lock);
	return ret;
}

static ssize_t vfio_pci_bpf_lm_write(struct file *filp, const char __user *ubuf,
				     size_t len, loff_t *pos)
{
	struct vfio_pci_bpf_lm_file *migf = filp->private_data;
	loff_t off;
	ssize_t ret;

	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	off = filp->f_pos;
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/* An image never outgrows its provider's size: refuse, do not grow. */
	if (off < 0 || off > migf->cap || len > migf->cap - off) {
		ret = -EFBIG;
		goto out_unlock;
	}
	if (copy_from_user(migf->buf + off, ubuf, len)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	filp->f_pos += len;
	migf->len = filp->f_pos;
	ret = len;
out_unlock:
	trace_vfio_pci_bpf_mig_data(migf->pdev, migf->sbdf, migf->slot, true,
				    off, ret);
	trace_vfio_pci_bpf_op(migf->sbdf, migf->slot, VFT_MIG_DATA, ret, 0);
	trace_vfio_pci_bpf_op_timed(migf->sbdf, migf->slot, VFT_MIG_DATA, ret, 0);
	mutex_unlock(&migf->lock);
	return ret;
}

/*
 * VFIO_MIG_GET_PRECOPY_INFO, answered from the session alone: a fd can
 * outlive its device, so it never looks at the device.  The whole PRE_COPY
 * offer is the header (initial_bytes); the device state only comes with
 * STOP_COPY, so nothing is ever dirty.  Once the state is in (STOP_COPY)
 * the session has left PRE_COPY: -EINVAL.
 */
static long vfio_pci_bpf_lm_precopy_ioctl(struct file *filp, unsigned int cmd,
					  unsigned long arg)
{
	struct vfio_pci_bpf_lm_file *migf = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	if (migf->disabled)
		ret = -ENODEV;
	else if (migf->complete)
		ret = -EINVAL;
	else
		info.initial_bytes = migf->len - filp->f_pos;
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;

	info.dirty_bytes = 0;
	info.flags = 0;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static const struct file_operations vfio_pci_bpf_lm_save_fops = {
	.owner		= THIS_MODULE,
	.read		= vfio_pci_bpf_lm_read,
	.unlocked_ioctl	= vfio_pci_bpf_lm_precopy_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= vfio_pci_bpf_lm_release,
};

static const struct file_operations vfio_pci_bpf_lm_resume_fops = {
	.owner		= THIS_MODULE,
	.write		= vfio_pci_bpf_lm_write,
	.release	= vfio_pci_bpf_lm_release,
};

static struct vfio_pci_bpf_lm_file *
vfio_pci_bpf_lm_file_new(struct vfio_pci_bpf_device *vbdev,
			 const struct file_operations *fops, int flags)
{
	size_t cap = vfio_pci_bpf_lm_image_size(vbdev->lm.provider);
	struct vfio_pci_bpf_lm_file *migf;
	int err;

	migf = kvzalloc(struct_size(migf, buf, cap), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	migf->cap = cap;
	mutex_init(&migf->lock);

	migf->filp = anon_inode_getfile("vfio_pci_bpf_mig", fops, migf, flags);
	if (IS_ERR(migf->filp)) {
		err = PTR_ERR(migf->filp);
		goto out_free;
	}
	/* release() owns migf from here on */
	migf->pdev = pci_dev_get(vfio_pci_bpf_to_pdev(vbdev));
	migf->sbdf = vbdev->sbdf;
	migf->slot = vbdev->slot;
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;

out_free:
	mutex_destroy(&migf->lock);
	kvfree(migf);
	return ERR_PTR(err);
}

/* Drop the driver's references; the user's fds keep working, disabled. */
static void vfio_pci_bpf_lm_disable_files(struct vfio_pci_bpf_lm *lm)
{
	if (lm->saving) {
		vfio_pci_bpf_lm_file_disable(lm->saving);
		fput(lm->saving->filp);
		lm->saving = NULL;
	}
	if (lm->resuming) {
		vfio_pci_bpf_lm_file_disable(lm->resuming);
		fput(lm->resuming->filp);
		lm->resuming = NULL;
	}
}

/* ---- device access ---------------------------------------------------- */

/*
 * Provider callbacks run with the core's memory_lock held for write: the
 * user's region reads and writes, BAR mmap faults and changes of the memory
 * enable bit wait until the device state is taken or given.  A VMM may
 * migrate a device whose guest never enabled memory decoding (a VM paused
 * before its firmware ran): decoding is turned on for the duration, as
 * vfio_pci_memory_lock_and_enable() does for the core's own accesses, and
 * the user's command register is put back after.  In D3 the registers
 * cannot be reached at all.
 */
static int vfio_pci_bpf_lm_lock_device(struct vfio_pci_bpf_device *vbdev,
				       u16 *cmd)
{
	struct vfio_pci_core_device *core = &vbdev->core_device;
	struct pci_dev *pdev = core->pdev;

	down_write(&core->memory_lock);
	if (pdev->current_state >= PCI_D3hot) {
		up_write(&core->memory_lock);
		pci_warn(pdev, "migration: device in %s, its state is out of reach\n",
			 pci_power_name(pdev->current_state));
		return -EIO;
	}
	pci_read_config_word(pdev, PCI_COMMAND, cmd);
	if (!(*cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      *cmd | PCI_COMMAND_MEMORY);
	return 0;
}

static void vfio_pci_bpf_lm_unlock_device(struct vfio_pci_bpf_device *vbdev,
					  u16 cmd)
{
	struct vfio_pci_core_device *core = &vbdev->core_device;

	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(core->pdev, PCI_COMMAND, cmd);
	up_write(&core->memory_lock);
}

/* Put the device state behind the header: the session's data is complete. */
static int vfio_pci_bpf_lm_save_state(struct vfio_pci_bpf_device *vbdev,
				      struct vfio_pci_bpf_lm_file *migf)
{
	const struct vfio_pci_bpf_lm_provider *p = vbdev->lm.provider;
	u16 cmd;
	int err;

	mutex_lock(&migf->lock);
	err = vfio_pci_bpf_lm_lock_device(vbdev, &cmd);
	if (err)
		goto out_unlock;
	err = p->save(vbdev, migf->buf + sizeof(struct vfio_pci_bpf_lm_header),
		      p->state_size);
	vfio_pci_bpf_lm_unlock_device(vbdev, cmd);
	if (err)
		goto out_unlock;
	migf->len = migf->cap;
	migf->complete = true;
out_unlock:
	mutex_unlock(&migf->lock);
	return err;
}

/*
 * A new saving session, from STOP -> STOP_COPY (with the device state) or
 * from RUNNING -> PRE_COPY and RUNNING_P2P -> PRE_COPY_P2P (header only,
 * the device is still running).
 */
static struct file *vfio_pci_bpf_lm_save(struct vfio_pci_bpf_device *vbdev,
					 bool stopped)
{
	const struct vfio_pci_bpf_lm_provider *p = vbdev->lm.provider;
	struct vfio_pci_bpf_lm_header *hdr;
	struct vfio_pci_bpf_lm_file *migf;
	int err;

	migf = vfio_pci_bpf_lm_file_new(vbdev, &vfio_pci_bpf_lm_save_fops,
					O_RDONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);

	hdr = (struct vfio_pci_bpf_lm_header *)migf->buf;
	hdr->magic = cpu_to_le32(VFIO_PCI_BPF_LM_MAGIC);
	hdr->version = cpu_to_le16(VFIO_PCI_BPF_LM_VERSION);
	hdr->provider_version = cpu_to_le16(p->version);
	hdr->vendor = cpu_to_le16(p->vendor);
	hdr->device = cpu_to_le16(p->device);
	hdr->size = cpu_to_le32(p->state_size);
	migf->len = sizeof(*hdr);

	if (stopped) {
		err = vfio_pci_bpf_lm_save_state(vbdev, migf);
		if (err)
			goto out_put_file;
	}

	vbdev->lm.saving = migf;
	get_file(migf->filp);
	return migf->filp;

out_put_file:
	fput(migf->filp);
	return ERR_PTR(err);
}

/* STOP -> RESUMING: an empty fd that accumulates what the user writes. */
static struct file *vfio_pci_bpf_lm_resume(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_lm_file *migf;

	migf = vfio_pci_bpf_lm_file_new(vbdev, &vfio_pci_bpf_lm_resume_fops,
					O_WRONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);

	vbdev->lm.resuming = migf;
	get_file(migf->filp);
	return migf->filp;
}

/*
 * RESUMING -> STOP: check the image and load it.  A bad image is -EINVAL
 * and changes nothing: the device stays in RESUMING with its fd, so the
 * user can complete a short image and ask again, or reset.  Any other
 * provider failure may leave the registers half written: ERROR.
 */
static int vfio_pci_bpf_lm_load(struct vfio_pci_bpf_device *vbdev)
{
	const struct vfio_pci_bpf_lm_provider *p = vbdev->lm.provider;
	struct vfio_pci_bpf_lm_file *migf = vbdev->lm.resuming;
	const struct vfio_pci_bpf_lm_header *hdr;
	u16 cmd;
	int err;

	mutex_lock(&migf->lock);
	hdr = (const struct vfio_pci_bpf_lm_header *)migf->buf;
	if (migf->len != migf->cap ||
	    le32_to_cpu(hdr->magic) != VFIO_PCI_BPF_LM_MAGIC ||
	    le16_to_cpu(hdr->version) != VFIO_PCI_BPF_LM_VERSION ||
	    le16_to_cpu(hdr->provider_version) != p->version ||
	    le16_to_cpu(hdr->vendor) != p->vendor ||
	    le16_to_cpu(hdr->device) != p->device ||
	    le32_to_cpu(hdr->size) != p->state_size) {
		err = -EINVAL;
		goto out_unlock;
	}
	err = vfio_pci_bpf_lm_lock_device(vbdev, &cmd);
	if (err)
		goto out_unlock;
	err = p->load(vbdev, migf->buf + sizeof(*hdr), p->state_size);
	vfio_pci_bpf_lm_unlock_device(vbdev, cmd);
	/* Refused images (bad, or denied by the policy) left it untouched. */
	if (err && err != -EINVAL && err != -EPERM)
		vbdev->lm.state = VFIO_DEVICE_STATE_ERROR;
out_unlock:
	mutex_unlock(&migf->lock);
	return err;
}

/* ---- state machine ----------------------------------------------------- */

/*
 * One arc of the FSM, as vfio_mig_get_next_state() hands them out for
 * STOP_COPY | P2P | PRE_COPY.  RUNNING, RUNNING_P2P and STOP (and PRE_COPY
 * and PRE_COPY_P2P) differ only for the user: the providers' devices do no
 * peer to peer DMA, and a provider waits for work the device started on its
 * own (edu: a factorial, a DMA) before it saves.  The uAPI leaves it to the
 * user not to touch the device in STOP; lm_lock_device() keeps the region
 * path out while saving or loading.
 */
static struct file *vfio_pci_bpf_lm_step(struct vfio_pci_bpf_device *vbdev,
					 enum vfio_device_mig_state next)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vbdev);
	enum vfio_device_mig_state cur = lm->state;
	int err;

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_STOP_COPY)
		return vfio_pci_bpf_lm_save(vbdev, true);

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return vfio_pci_bpf_lm_save(vbdev, false);

	/* The session goes on: same fd, now with the device state. */
	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		err = vfio_pci_bpf_lm_save_state(vbdev, lm->saving);
		return err ? ERR_PTR(err) : NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING)
		return vfio_pci_bpf_lm_resume(vbdev);

	if (cur == VFIO_DEVICE_STATE_RESUMING && next == VFIO_DEVICE_STATE_STOP) {
		err = vfio_pci_bpf_lm_load(vbdev);
		if (err)
			return ERR_PTR(err);
		vfio_pci_bpf_lm_disable_files(lm);
		return NULL;
	}

	if ((cur == VFIO_DEVICE_STATE_STOP_COPY &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		vfio_pci_bpf_lm_disable_files(lm);
		return NULL;
	}

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     (next == VFIO_DEVICE_STATE_RUNNING ||
	      next == VFIO_DEVICE_STATE_STOP)) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;

	/* vfio_mig_get_next_state() hands out no other arc for our flags */
	WARN_ON_ONCE(1);
	return ERR_PTR(-EINVAL);
}

/* Back to RUNNING with no session, as after a reset.  state_mutex held. */
static void vfio_pci_bpf_lm_reset_state(struct vfio_pci_bpf_lm *lm)
{
	vfio_pci_bpf_lm_disable_files(lm);
	lm->state = VFIO_DEVICE_STATE_RUNNING;
}

/*
 * Unlock state_mutex, first doing a reset that reset_done() could not do
 * because the mutex was held (see there).
 */
static void vfio_pci_bpf_lm_state_unlock(struct vfio_pci_bpf_lm *lm)
{
again:
	spin_lock(&lm->reset_lock);
	if (lm->deferred_reset) {
		lm->deferred_reset = false;
		spin_unlock(&lm->reset_lock);
		vfio_pci_bpf_lm_reset_state(lm);
		goto again;
	}
	mutex_unlock(&lm->state_mutex);
	spin_unlock(&lm->reset_lock);
}

/*
 * Walk the path from @from to @to without taking it: every arc must be
 * one the FSM allows and the policy accepts, so that a refusal leaves the
 * state as it was.
 */
static int vfio_pci_bpf_lm_check_path(struct vfio_pci_bpf_device *vbdev,
				      enum vfio_device_mig_state from,
				      enum vfio_device_mig_state to)
{
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	enum vfio_device_mig_state cur = from, next;
	int err;

	while (cur != to) {
		err = vfio_mig_get_next_state(vdev, cur, to, &next);
		if (err)
			return err;
		if (vfio_pci_bpf_lm_policy(vbdev, cur, next))
			return -EPERM;
		cur = next;
	}
	return 0;
}

static struct file *
vfio_pci_bpf_lm_set_state(struct vfio_device *vdev,
			  enum vfio_device_mig_state new_state)
{
	struct vfio_pci_bpf_device *vbdev = vfio_pci_bpf_from_vdev(vdev);
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vbdev);
	enum vfio_device_mig_state from, next;
	struct file *res = NULL;
	u64 start = ktime_get_ns();
	int err;

	mutex_lock(&lm->state_mutex);
	from = lm->state;

	/*
	 * Only a reset leaves ERROR; vfio_mig_get_next_state() would warn
	 * on it as a current state.
	 */
	if (from == VFIO_DEVICE_STATE_ERROR) {
		res = ERR_PTR(-EINVAL);
		goto out_trace;
	}
	err = vfio_pci_bpf_lm_check_path(vbdev, from, new_state);
	if (err) {
		res = ERR_PTR(err);
		goto out_trace;
	}
	/*
	 * The provider's set-up (edu: BAR0 mapped) before the first arc of
	 * this open, so that an open which never migrates pays nothing and
	 * a failure fails the arc with the device still RUNNING.
	 */
	if (!lm->prepared && lm->provider->open) {
		err = lm->provider->open(vbdev);
		if (err) {
			pci_err(vfio_pci_bpf_to_pdev(vbdev), "migration provider %s: %pe\n",
				lm->provider->name, ERR_PTR(err));
			res = ERR_PTR(err);
			goto out_trace;
		}
	}
	lm->prepared = true;

	while (lm->state != new_state) {
		err = vfio_mig_get_next_state(vdev, lm->state, new_state, &next);
		if (err) {
			res = ERR_PTR(err);
			break;
		}
		res = vfio_pci_bpf_lm_step(vbdev, next);
		if (IS_ERR(res))
			break;
		lm->state = next;
		/* Only the last arc of a path may open a session. */
		if (WARN_ON_ONCE(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}

out_trace:
	start = ktime_get_ns() - start;
	trace_vfio_pci_bpf_mig_transition(vfio_pci_bpf_to_pdev(vbdev),
					  vbdev->sbdf, vbdev->slot, from, new_state,
					  PTR_ERR_OR_ZERO(res), start);
	trace_vfio_pci_bpf_op(vbdev->sbdf, vbdev->slot, VFT_MIG_TRANSITION,
			      PTR_ERR_OR_ZERO(res), 0);
	trace_vfio_pci_bpf_op_timed(vbdev->sbdf, vbdev->slot, VFT_MIG_TRANSITION,
				    PTR_ERR_OR_ZERO(res), 0);
	vfio_pci_bpf_lm_state_unlock(lm);
	return res;
}

static int vfio_pci_bpf_lm_get_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state *state)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vfio_pci_bpf_from_vdev(vdev));

	mutex_lock(&lm->state_mutex);
	*state = lm->state;
	vfio_pci_bpf_lm_state_unlock(lm);
	return 0;
}

static int vfio_pci_bpf_lm_get_data_size(struct vfio_device *vdev,
					 unsigned long *stop_copy_length)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vfio_pci_bpf_from_vdev(vdev));

	*stop_copy_length = vfio_pci_bpf_lm_image_size(lm->provider);
	return 0;
}

static const struct vfio_migration_ops vfio_pci_bpf_lm_ops = {
	.migration_set_state		= vfio_pci_bpf_lm_set_state,
	.migration_get_state		= vfio_pci_bpf_lm_get_state,
	.migration_get_data_size	= vfio_pci_bpf_lm_get_data_size,
};

/* ---- device life cycle ---------------------------------------------- */

/* From vfio_device_ops.init, before the device is registered. */
void vfio_pci_bpf_lm_init(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vbdev);
	struct vfio_device *vdev = &vbdev->core_device.vdev;
	struct pci_dev *pdev = vfio_pci_bpf_to_pdev(vbdev);
	unsigned int i;

	mutex_init(&lm->state_mutex);
	spin_lock_init(&lm->reset_lock);
	lm->state = VFIO_DEVICE_STATE_RUNNING;

	for (i = 0; i < ARRAY_SIZE(vfio_pci_bpf_lm_providers); i++) {
		const struct vfio_pci_bpf_lm_provider *p = vfio_pci_bpf_lm_providers[i];

		if (p->vendor == pdev->vendor && p->device == pdev->device) {
			lm->provider = p;
			break;
		}
	}
	if (!lm->provider)
		return;

	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &vfio_pci_bpf_lm_ops;
	pci_dbg(pdev, "migration provider %s\n", lm->provider->name);
}

/* From open_device, between vfio_pci_core_enable() and _finish_enable(). */
int vfio_pci_bpf_lm_open(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vbdev);
	struct vfio_device *vdev = &vbdev->core_device.vdev;

	if (!lm->provider)
		return 0;
	/*
	 * A policy saying the device does not migrate hides it for this
	 * open: the device looks like one without a provider, so a VMM
	 * neither offers to migrate it nor moves it through RUNNING_P2P at
	 * every stop.  Nobody holds the device yet, so nothing reads these
	 * while they change.
	 */
	if (vfio_pci_bpf_hides_migration(vbdev)) {
		vdev->mig_ops = NULL;
		vdev->migration_flags = 0;
		return 0;
	}
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				VFIO_MIGRATION_PRE_COPY;
	vdev->mig_ops = &vfio_pci_bpf_lm_ops;

	mutex_lock(&lm->state_mutex);
	lm->state = VFIO_DEVICE_STATE_RUNNING;
	/* The provider is set up at the first arc: most opens never migrate. */
	lm->prepared = false;
	vfio_pci_bpf_lm_state_unlock(lm);
	return 0;
}

/* From close_device: the sessions end with the user's device fd. */
void vfio_pci_bpf_lm_close(struct vfio_pci_bpf_device *vbdev)
{
	struct vfio_pci_bpf_lm *lm = vfio_pci_bpf_lm_of(vbdev);

	if (!lm->provider)
		return;

	mutex_lock(&lm->state_mutex);
	vfio_pci_bpf_lm_reset_state(lm);
	vfio_pci_bpf_lm_state_unlock(lm);
}

/*
 * pci_error_handlers.reset_done: a reset returns the device to RUNNING.
 * The core resets with its memory_lock held, and state_mutex holders take
 * memory_lock (lm_lock_device), so sleeping on state_mutex here could deadlock:
 * flag the reset instead, and let whoever holds the mutex carry it out
 * when they unlock.
 */
void vfio_pci_bpf_lm_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vfio_pci_bpf_lm *lm;

	if (!core)
		return;
	lm = vfio_pci_bpf_lm_of(container_of(core, struct vfio_pci_bpf_device,
					     core_device));
	if (!lm->provider)
		return;

	spin_lock(&lm->reset_lock);
	lm->deferred_reset = true;
	if (!mutex_trylock(&lm->state_mutex)) {
		spin_unlock(&lm->reset_lock);
		return;
	}
	spin_unlock(&lm->reset_lock);
	vfio_pci_bpf_lm_state_unlock(lm);
}

#endif /* VFIO_PCI_BPF_MIGRATION */
