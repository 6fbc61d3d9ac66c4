// SPDX-License-Identifier: GPL-2.0
/*
 * path-flr: ways to reset a device around `reset: deny`.
 *
 *   path-flr control BDF    no policy: the config-space FLR resets the
 *                           device (proves the marker below shows a reset)
 *   path-flr flr BDF        write BCR_FLR into PCIe Device Control through
 *                           the vfio config region
 *   path-flr pm BDF         PM control PowerState D0 -> D3hot (-> D0)
 *   path-flr pm-control BDF no policy: the same write puts the device in
 *                           D3hot (proves the check below sees it)
 *   path-flr lowpower BDF   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
 *   path-flr ioctl BDF      VFIO_DEVICE_RESET and VFIO_DEVICE_PCI_HOT_RESET
 *
 * All but the controls run with a `reset: deny` policy attached: each must fail
 * with EPERM and the device must not be reset.
 *
 * The reset marker: the Function Mask bit of the MSI-X Message Control
 * register, set through sysfs (past vfio, which virtualizes MSI-X).  A
 * function reset clears it on the device, and the kernel's state restore
 * after a reset leaves MSI-X alone while no MSI-X vector is enabled, so
 * the bit read back through sysfs says whether the device was reset.
 * (This test bed's VF BARs do not decode, so no BAR register can serve.)
 */
#include "path.h"


static struct {
	const char *mode, *bdf;
	bool verbose;
} env;

static const struct argp_option opts[] = {
	{ "verbose", 'v', NULL, 0, "More output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'v': env.verbose = true; break;
	case ARGP_KEY_ARG:
		if (!env.mode)
			env.mode = arg;
		else if (!env.bdf)
			env.bdf = arg;
		else
			argp_usage(state);
		break;
	case ARGP_KEY_END:
		if (!env.bdf)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static unsigned int msix_cap;

static void marker_set(void)
{
	uint32_t ctl = 0;

	if (sysfs_cfg_rd(env.bdf, msix_cap + PCI_MSIX_FLAGS, 2, &ctl) ||
	    sysfs_cfg_wr(env.bdf, msix_cap + PCI_MSIX_FLAGS, 2, ctl | PCI_MSIX_FLAGS_MASKALL) ||
	    sysfs_cfg_rd(env.bdf, msix_cap + PCI_MSIX_FLAGS, 2, &ctl) ||
	    !(ctl & PCI_MSIX_FLAGS_MASKALL))
		die("%s: cannot set the MSI-X function mask through sysfs (%#x)", env.bdf, ctl);
	fact("marker: MSI-X control %#x (function mask set)", ctl);
}

/* Is the marker still set on the device? */
static bool marker_kept(uint32_t *ctl)
{
	if (sysfs_cfg_rd(env.bdf, msix_cap + PCI_MSIX_FLAGS, 2, ctl))
		die("%s: sysfs config unreadable", env.bdf);
	return *ctl & PCI_MSIX_FLAGS_MASKALL;
}

/* Write BCR_FLR into PCIe Device Control through vfio: 0 or -errno. */
static int write_flr(struct vdev *d)
{
	unsigned int exp = sysfs_find_cap(env.bdf, PCI_CAP_ID_EXP);
	uint32_t cap = 0, ctl = 0;
	int err;

	if (!exp || sysfs_cfg_rd(env.bdf, exp + PCI_EXP_DEVCAP, 4, &cap) ||
	    !(cap & PCI_EXP_DEVCAP_FLR))
		die("%s: no PCIe FLR (devcap %#x)", env.bdf, cap);
	err = region_rd(d, CFG, exp + PCI_EXP_DEVCTL, 2, &ctl);
	if (err)
		die("%s: read Device Control: %s", env.bdf, errname(err));
	err = region_wr(d, CFG, exp + PCI_EXP_DEVCTL, 2, ctl | PCI_EXP_DEVCTL_BCR_FLR);
	fact("write Device Control %#x | BCR_FLR at %#x: %s", ctl,
	     exp + PCI_EXP_DEVCTL, errname(err));
	/* The core waits for the FLR itself; a little more for the device. */
	sleep_ms(50);
	return err;
}

static void check_marker(const char *what)
{
	uint32_t ctl = 0;
	bool kept = marker_kept(&ctl);

	CHECK(kept, "%s: the device was not reset (MSI-X control on the device %#x, function mask %s)",
	      what, ctl, kept ? "kept" : "cleared by a reset");
}

static void cmd_flr(struct vdev *d)
{
	int err = write_flr(d);

	CHECK(err == -EPERM, "flr: writing BCR_FLR under reset: deny fails with EPERM (got %s)",
	      errname(err));
	check_marker("flr");
}

static void cmd_control(struct vdev *d)
{
	uint32_t ctl = 0;
	int err = write_flr(d);
	bool kept = marker_kept(&ctl);

	CHECK(!err && !kept,
	      "flr control: with no policy the BCR_FLR write resets the device (%s, MSI-X control %#x)",
	      errname(err), ctl);
}

static void do_pm(struct vdev *d, bool control)
{
	unsigned int pm = sysfs_find_cap(env.bdf, PCI_CAP_ID_PM);
	uint32_t csr = 0, dev_csr = 0;
	int err;

	if (!pm)
		die("%s: no PM capability", env.bdf);
	err = region_rd(d, CFG, pm + PCI_PM_CTRL, 2, &csr);
	if (err)
		die("%s: read PMCSR: %s", env.bdf, errname(err));
	err = region_wr(d, CFG, pm + PCI_PM_CTRL, 2,
			(csr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	sleep_ms(20);
	if (sysfs_cfg_rd(env.bdf, pm + PCI_PM_CTRL, 2, &dev_csr))
		die("%s: sysfs config unreadable", env.bdf);
	fact("PMCSR %#x -> D3hot: %s, device PMCSR %#x", csr, errname(err), dev_csr);
	if (control) {
		CHECK(!err && (dev_csr & PCI_PM_CTRL_STATE_MASK) == 3,
		      "pm control: with no policy the device goes to D3hot (%s, device PMCSR %#x)",
		      errname(err), dev_csr);
		region_wr(d, CFG, pm + PCI_PM_CTRL, 2, csr & ~PCI_PM_CTRL_STATE_MASK);
		sleep_ms(20);
		return;
	}
	CHECK(err == -EPERM, "pm: PowerState D0 -> D3hot under reset: deny fails with EPERM (got %s)",
	      errname(err));
	CHECK((dev_csr & PCI_PM_CTRL_STATE_MASK) == 0,
	      "pm: the device stays in D0 (device PMCSR %#x, power state D%u)", dev_csr,
	      dev_csr & PCI_PM_CTRL_STATE_MASK);
	/* Back to D0 either way: a device left in D3hot breaks what follows. */
	err = region_wr(d, CFG, pm + PCI_PM_CTRL, 2, csr & ~PCI_PM_CTRL_STATE_MASK);
	sleep_ms(20);
	fact("PMCSR -> D0: %s", errname(err));
	check_marker("pm");
}

static void cmd_pm(struct vdev *d)
{
	do_pm(d, false);
}

static void cmd_pm_control(struct vdev *d)
{
	do_pm(d, true);
}

static void cmd_lowpower(struct vdev *d)
{
	char rt[64], ps[64];
	int err;

	err = vdev_feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
			   NULL, 0);
	sleep_ms(200);
	sysfs_attr(env.bdf, "power/runtime_status", rt, sizeof(rt));
	sysfs_attr(env.bdf, "power_state", ps, sizeof(ps));
	fact("LOW_POWER_ENTRY: %s, runtime_status %s, power_state %s", errname(err), rt, ps);
	CHECK(err == -EPERM, "lowpower: LOW_POWER_ENTRY under reset: deny fails with EPERM (got %s)",
	      errname(err));
	CHECK(!strcmp(rt, "active") && !strcmp(ps, "D0"),
	      "lowpower: the device stays active in D0 (runtime_status %s, power_state %s)", rt, ps);
	err = vdev_feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
			   NULL, 0);
	fact("LOW_POWER_EXIT: %s", errname(err));
	check_marker("lowpower");
}

static void cmd_ioctl(struct vdev *d)
{
	struct vfio_pci_hot_reset hot = { .argsz = sizeof(hot) };
	int err;

	err = ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
	CHECK(err == -EPERM, "ioctl: VFIO_DEVICE_RESET under reset: deny fails with EPERM (got %s)",
	      errname(err));
	err = ioctl(d->fd, VFIO_DEVICE_PCI_HOT_RESET, &hot) ? -errno : 0;
	CHECK(err == -EPERM,
	      "ioctl: VFIO_DEVICE_PCI_HOT_RESET under reset: deny fails with EPERM (got %s)",
	      errname(err));
	check_marker("ioctl");
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "control|flr|pm|pm-control|lowpower|ioctl BDF",
		.doc = "Reset paths around a reset: deny policy.",
	};
	static const struct {
		const char *name;
		void (*fn)(struct vdev *d);
	} modes[] = {
		{ "control", cmd_control }, { "flr", cmd_flr }, { "pm", cmd_pm },
		{ "lowpower", cmd_lowpower }, { "ioctl", cmd_ioctl },
		{ "pm-control", cmd_pm_control },
	};
	void (*fn)(struct vdev *d) = NULL;
	struct vdev d;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(env.mode, modes[i].name))
			fn = modes[i].fn;
	if (!fn)
		die("unknown mode '%s'", env.mode);
	msix_cap = sysfs_find_cap(env.bdf, PCI_CAP_ID_MSIX);
	if (!msix_cap)
		die("%s: no MSI-X capability for the reset marker", env.bdf);

	if (vdev_open(&d, env.bdf))
		return 2;
	/* After open: opening a device resets it. */
	marker_set();
	fn(&d);
	vdev_close(&d);
	return path_exit();
}
