// SPDX-License-Identifier: GPL-2.0
/*
 * path-resume: migration RESUMING as a way around a BAR write rule.  The
 * edu provider restores the liveness register (0x4) by writing it; a
 * policy on the destination denies BAR0 writes there.
 *
 *   path-resume SRC DST -x CMD
 *
 * Save SRC's state; resume it into DST once with no policy (control: the
 * register is restored), put DST's register back, run CMD (attach the
 * denying policy to DST), resume again: the RESUMING -> STOP arc must fail
 * with EPERM and DST's register, read back through sysfs resource0 after
 * close, must be unchanged.
 */
#include "path.h"


#define SRC_VALUE	0x1234abcdU	/* written into the source */
#define DST_VALUE	0x0badf00dU	/* the destination's own */
#define IMG_MAX		4096

static struct {
	const char *src, *dst, *cmd;
	bool verbose;
} env;

static const struct argp_option opts[] = {
	{ "exec", 'x', "CMD", 0, "Shell command attaching the policy to DST", 0 },
	{ "verbose", 'v', NULL, 0, "More output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'x': env.cmd = arg; break;
	case 'v': env.verbose = true; break;
	case ARGP_KEY_ARG:
		if (!env.src)
			env.src = arg;
		else if (!env.dst)
			env.dst = arg;
		else
			argp_usage(state);
		break;
	case ARGP_KEY_END:
		if (!env.dst || !env.cmd)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* SET the migration state: 0 or -errno; *data_fd the new data fd or -1. */
static int set_state(struct vdev *d, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };
	int err = vdev_feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &mig, sizeof(mig));

	if (data_fd)
		*data_fd = err ? -1 : mig.data_fd;
	else if (!err && mig.data_fd >= 0)
		close(mig.data_fd);
	return err;
}

static ssize_t save(struct vdev *d, uint8_t *img)
{
	size_t len = 0;
	ssize_t n;
	int fd, err;

	err = set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (err)
		die("%s: save: %s", d->bdf, errname(err));
	while ((n = read(fd, img + len, IMG_MAX - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		die("%s: read image: %s", d->bdf, strerror(errno));
	set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	return len;
}

/* STOP -> RESUMING, write, RESUMING -> STOP: the last arc's result. */
static int resume(struct vdev *d, const uint8_t *img, size_t len)
{
	int fd, err;

	err = set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	if (!err)
		err = set_state(d, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (err)
		die("%s: -> RESUMING: %s", d->bdf, errname(err));
	if (write(fd, img, len) != (ssize_t)len)
		die("%s: write image: %s", d->bdf, strerror(errno));
	err = set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
	return err;
}

static void setup(const char *bdf, uint32_t value)
{
	uint32_t v = 0;

	if (sysfs_enable_memory(bdf) || sysfs_bar_wr32(bdf, 0, EDU_REG_LIVENESS, value) ||
	    sysfs_bar_rd32(bdf, 0, EDU_REG_LIVENESS, &v) || v != ~value)
		die("%s: cannot set liveness through sysfs (reads %#x)", bdf, v);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "SRC DST",
		.doc = "Migration RESUMING against a BAR write rule.",
	};
	uint8_t img[IMG_MAX];
	struct vdev src, dst;
	uint32_t v = 0;
	ssize_t len;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	setup(env.src, SRC_VALUE);
	setup(env.dst, DST_VALUE);

	if (vdev_open(&src, env.src) || vdev_open(&dst, env.dst))
		return 2;
	if (vdev_enable_memory(&src) || vdev_enable_memory(&dst))
		die("cannot enable memory decoding");
	len = save(&src, img);
	fact("%s: image %zd bytes", env.src, len);
	vdev_close(&src);

	/* Control: with no policy, the resume writes the register. */
	err = resume(&dst, img, len);
	region_rd(&dst, BAR0, EDU_REG_LIVENESS, 4, &v);
	CHECK(!err && v == ~SRC_VALUE,
	      "resume control: with no policy the resume restores liveness (%s, %#x, want %#x)",
	      errname(err), v, ~SRC_VALUE);
	err = set_state(&dst, VFIO_DEVICE_STATE_RUNNING, NULL);
	if (!err)
		err = region_wr(&dst, BAR0, EDU_REG_LIVENESS, 4, DST_VALUE);
	if (err)
		die("%s: putting liveness back: %s", env.dst, errname(err));

	if (run_step("attach", env.cmd))
		return 2;
	err = resume(&dst, img, len);
	CHECK(err == -EPERM,
	      "resume: RESUMING -> STOP restoring a denied register fails with EPERM (got %s)",
	      errname(err));
	vdev_close(&dst);

	if (sysfs_bar_rd32(env.dst, 0, EDU_REG_LIVENESS, &v))
		die("%s: sysfs resource0 unreadable", env.dst);
	fact("%s: liveness on the device %#x (%#x if the resume wrote it)", env.dst, v, ~SRC_VALUE);
	CHECK(v == ~DST_VALUE,
	      "resume: the denied register is unchanged on the device (%#x, want %#x)", v,
	      ~DST_VALUE);
	return path_exit();
}
