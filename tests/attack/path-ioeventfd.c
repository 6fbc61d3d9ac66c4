// SPDX-License-Identifier: GPL-2.0
/*
 * path-ioeventfd: VFIO_DEVICE_IOEVENTFD as a way around a BAR write rule.
 * An ioeventfd makes the core write fixed data at a BAR offset each time
 * an eventfd is signalled, without a read or write call a hook sees.
 *
 *   path-ioeventfd control BDF       no policy: an ioeventfd at edu's
 *                                    liveness register (0x4) writes it
 *   path-ioeventfd deny BDF          a policy denying BAR0 writes at 0x4 is
 *                                    attached: registering must fail with
 *                                    EPERM and signalling changes nothing
 *   path-ioeventfd attach BDF -x CMD register with no policy, run CMD
 *                                    (attach the denying policy), then
 *                                    signal: the register must not change
 *
 * The register is read back through sysfs resource0 after the device is
 * closed (vfio holds the BAR busy while open, so sysfs cannot map it).
 * edu's liveness register reads back the inverse of what was written.
 */
#include "path.h"


#define BASELINE	0x0badf00dU	/* written through sysfs first */
#define ATTACK		0x5a5a5a5aU	/* the ioeventfd's data */

static struct {
	const char *mode, *bdf, *cmd;
	bool verbose;
} env;

static const struct argp_option opts[] = {
	{ "exec", 'x', "CMD", 0, "Shell command to run between register and signal", 0 },
	{ "verbose", 'v', NULL, 0, "More output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'x': env.cmd = arg; break;
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

/* The liveness register as the device holds it, or die. */
static uint32_t liveness(void)
{
	uint32_t v = 0;
	int err = sysfs_bar_rd32(env.bdf, 0, EDU_REG_LIVENESS, &v);

	if (err)
		die("%s: sysfs resource0: %s", env.bdf, strerror(-err));
	return v;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "control|deny|attach BDF",
		.doc = "VFIO_DEVICE_IOEVENTFD against a BAR write rule.",
	};
	struct vdev d;
	uint32_t before, after;
	int efd, err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (strcmp(env.mode, "control") && strcmp(env.mode, "deny") &&
	    strcmp(env.mode, "attach"))
		die("unknown mode '%s'", env.mode);
	if (!strcmp(env.mode, "attach") && !env.cmd)
		die("attach needs -x CMD");

	if (sysfs_enable_memory(env.bdf) ||
	    sysfs_bar_wr32(env.bdf, 0, EDU_REG_LIVENESS, BASELINE))
		die("%s: cannot set the baseline through sysfs", env.bdf);
	before = liveness();
	fact("liveness before: %#x (baseline %#x written)", before, BASELINE);
	if (before != ~BASELINE)
		die("%s: liveness reads %#x after writing %#x: not an edu?", env.bdf,
		    before, BASELINE);

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd: %s", strerror(errno));
	if (vdev_open(&d, env.bdf))
		return 2;
	if (vdev_enable_memory(&d))
		die("%s: cannot enable memory decoding", env.bdf);

	err = vdev_ioeventfd(&d, BAR0, EDU_REG_LIVENESS, ATTACK, efd);
	fact("ioeventfd at BAR0+%#x data %#x: %s", EDU_REG_LIVENESS, ATTACK, errname(err));
	if (!strcmp(env.mode, "deny"))
		CHECK(err == -EPERM,
		      "ioeventfd: registering at a denied BAR0 offset fails with EPERM (got %s)",
		      errname(err));
	else if (err)
		die("%s: VFIO_DEVICE_IOEVENTFD without a policy: %s", env.bdf, errname(err));

	if (!strcmp(env.mode, "attach") && run_step("attach", env.cmd))
		return 2;
	signal_eventfd(efd);
	vdev_close(&d);
	close(efd);

	after = liveness();
	fact("liveness after: %#x (%#x if the ioeventfd wrote)", after, ~ATTACK);
	if (!strcmp(env.mode, "control"))
		CHECK(after == ~ATTACK,
		      "ioeventfd control: with no policy the signal writes the register (device %#x, want %#x)",
		      after, ~ATTACK);
	else
		CHECK(after == before,
		      "ioeventfd %s: the denied register is unchanged on the device (was %#x, now %#x)",
		      !strcmp(env.mode, "deny") ? "registered under the policy" :
		      "registered before the policy attached", before, after);
	return path_exit();
}
