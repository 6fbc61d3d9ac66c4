// SPDX-License-Identifier: GPL-2.0
/*
 * path-nopolicy: require_policy=1 must fail closed for a device that is
 * already open when its policy goes away.
 *
 *   path-nopolicy BDF -x CMD
 *
 * With require_policy=1 and a policy that allows open, open edu BDF, run
 * CMD (remove the policy), then try every hooked operation: config read
 * and write, BAR read and write, mmap, SET_IRQS, reset, ioeventfd and a
 * migration state change.  Each must fail with EPERM, and what would have
 * changed the device must not have: the cache line size register and MSI
 * enable bit (sysfs config, while open) and the liveness register (sysfs
 * resource0, after close).
 */
#include "path.h"


#define BASELINE	0x0badf00dU
#define VIA_PWRITE	0x11111111U
#define VIA_MMAP	0x22222222U
#define VIA_IOEVENTFD	0x33333333U
#define CLS_ATTACK	0x10		/* cache line size, in dwords */

static struct {
	const char *bdf, *cmd;
	bool verbose;
} env;

static const struct argp_option opts[] = {
	{ "exec", 'x', "CMD", 0, "Shell command removing the policy", 0 },
	{ "verbose", 'v', NULL, 0, "More output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'x': env.cmd = arg; break;
	case 'v': env.verbose = true; break;
	case ARGP_KEY_ARG:
		if (env.bdf)
			argp_usage(state);
		env.bdf = arg;
		break;
	case ARGP_KEY_END:
		if (!env.bdf || !env.cmd)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

#define DENIED(err, what)						\
	CHECK((err) == -EPERM, "nopolicy: %s fails with EPERM (got %s)", what, errname(err))

static int set_msi(struct vdev *d, int efd)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;

	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof(efd));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "BDF",
		.doc = "require_policy=1 and a policy removed from an open device.",
	};
	struct vfio_device_feature_mig_state mig = { .device_state = VFIO_DEVICE_STATE_STOP };
	unsigned int msi;
	uint32_t v, cls_before, cls_after, msi_ctl = 0;
	struct vdev d;
	void *map;
	int err, efd;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	msi = sysfs_find_cap(env.bdf, PCI_CAP_ID_MSI);
	if (!msi)
		die("%s: no MSI capability", env.bdf);
	if (sysfs_enable_memory(env.bdf) ||
	    sysfs_bar_wr32(env.bdf, 0, EDU_REG_LIVENESS, BASELINE) ||
	    sysfs_cfg_wr(env.bdf, PCI_CACHE_LINE_SIZE, 1, 0) ||
	    sysfs_cfg_rd(env.bdf, PCI_CACHE_LINE_SIZE, 1, &cls_before))
		die("%s: cannot set the baseline through sysfs", env.bdf);
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd: %s", strerror(errno));

	err = vdev_open(&d, env.bdf);
	if (err)
		die("%s: open under a policy allowing it: %s", env.bdf, errname(err));
	if (vdev_enable_memory(&d))
		die("%s: cannot enable memory decoding", env.bdf);
	if (run_step("remove", env.cmd))
		return 2;

	DENIED(region_rd(&d, CFG, PCI_VENDOR_ID, 2, &v), "config read");
	err = region_wr(&d, CFG, PCI_CACHE_LINE_SIZE, 1, CLS_ATTACK);
	DENIED(err, "config write");
	sysfs_cfg_rd(env.bdf, PCI_CACHE_LINE_SIZE, 1, &cls_after);
	CHECK(cls_after == cls_before,
	      "nopolicy: config write did not reach the device (cache line size %#x, was %#x)",
	      cls_after, cls_before);
	DENIED(region_rd(&d, BAR0, EDU_REG_IDENT, 4, &v), "BAR read");
	DENIED(region_wr(&d, BAR0, EDU_REG_LIVENESS, 4, VIA_PWRITE), "BAR write");

	map = mmap(NULL, d.reg[BAR0].size, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
		   d.reg[BAR0].offset);
	err = map == MAP_FAILED ? -errno : 0;
	DENIED(err, "mmap of BAR0");
	if (!err) {
		*(volatile uint32_t *)((char *)map + EDU_REG_LIVENESS) = VIA_MMAP;
		munmap(map, d.reg[BAR0].size);
	}

	err = set_msi(&d, efd);
	DENIED(err, "SET_IRQS arming MSI");
	sysfs_cfg_rd(env.bdf, msi + PCI_MSI_FLAGS, 2, &msi_ctl);
	CHECK(!(msi_ctl & PCI_MSI_FLAGS_ENABLE),
	      "nopolicy: MSI stays disabled on the device (MSI control %#x)", msi_ctl);

	DENIED(ioctl(d.fd, VFIO_DEVICE_RESET) ? -errno : 0, "VFIO_DEVICE_RESET");

	err = vdev_ioeventfd(&d, BAR0, EDU_REG_LIVENESS, VIA_IOEVENTFD, efd);
	DENIED(err, "VFIO_DEVICE_IOEVENTFD");
	if (!err)
		signal_eventfd(efd);

	err = vdev_feature(&d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			   &mig, sizeof(mig));
	DENIED(err, "migration RUNNING -> STOP");

	vdev_close(&d);
	close(efd);
	if (sysfs_bar_rd32(env.bdf, 0, EDU_REG_LIVENESS, &v))
		die("%s: sysfs resource0 unreadable", env.bdf);
	CHECK(v == ~BASELINE,
	      "nopolicy: BAR writes did not reach the device (liveness %#x, want %#x; pwrite %#x, mmap %#x, ioeventfd %#x)",
	      v, ~BASELINE, ~VIA_PWRITE, ~VIA_MMAP, ~VIA_IOEVENTFD);
	return path_exit();
}
