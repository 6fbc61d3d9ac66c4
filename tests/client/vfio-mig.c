// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-mig: drive VFIO migration v2 (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
 * and the data fd) on edu devices, as a VMM would, and check the result.
 *
 *   vfio-mig migrate SRC DST   save SRC's registers, load them into DST
 *   vfio-mig precopy SRC DST   the same through PRE_COPY
 *   vfio-mig errors BDF        invalid states, corrupt images, closed fds
 *   vfio-mig trace SRC DST     a fixed sequence for the tracepoint checks
 *   vfio-mig stress BDF        save cycles while another process hammers
 *                              the registers through pread/pwrite and mmap
 *   vfio-mig none BDF          a device that must not offer migration
 *
 * Output: facts ("  key: value") and verdicts ("PASS: ..."/"FAIL: ...").
 * Exit status: 0 all passed, 1 a check failed, 2 a device could not be
 * opened.
 *
 * Only the group/container path: migration is a device feature, the way
 * the device is opened does not matter to it (vfio-client covers cdev).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"

/* The kernel's image: 16-byte header, then the edu payload (lm.h). */
#define IMG_HDR_SIZE		16
#define IMG_SIZE		(IMG_HDR_SIZE + 48)
#define IMG_OFF_VERSION		4
#define IMG_OFF_SIZE		12
#define IMG_OFF_LIVENESS	(IMG_HDR_SIZE + 4)
#define IMG_OFF_FACTORIAL	(IMG_HDR_SIZE + 8)

static int failed, passed;
static int container = -1;

static void verdict(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("PASS: %s\n", name);
		return;
	}
	failed++;
	printf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#define CHECK(cond, name, ...)	verdict(!!(cond), name, __VA_ARGS__)

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- device ---------------------------------------------------------- */

struct dev {
	const char *bdf;
	const char *tag;	/* "src"/"dst" in verdicts */
	int group;
	int fd;
	struct vfio_region_info bar0, config;
};

static int open_device_fd(struct dev *d)
{
	d->bar0 = (struct vfio_region_info){ .argsz = sizeof(d->bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX };
	d->config = (struct vfio_region_info){ .argsz = sizeof(d->config),
		.index = VFIO_PCI_CONFIG_REGION_INDEX };
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->fd < 0) {
		fprintf(stderr, "vfio-mig: %s: VFIO_GROUP_GET_DEVICE_FD: %s\n",
			d->bdf, strerror(errno));
		return -1;
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &d->bar0) ||
	    ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &d->config)) {
		fprintf(stderr, "vfio-mig: %s: VFIO_DEVICE_GET_REGION_INFO: %s\n",
			d->bdf, strerror(errno));
		return -1;
	}
	return 0;
}

/* Open BDF's group into the one container, then the device. */
static int dev_open(struct dev *d, const char *bdf, const char *tag)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[PATH_MAX], *p;
	ssize_t n;

	d->bdf = bdf;
	d->tag = tag;
	d->group = d->fd = -1;
	if (container < 0) {
		container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (container < 0) {
			fprintf(stderr, "vfio-mig: /dev/vfio/vfio: %s\n", strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fprintf(stderr, "vfio-mig: %s: no IOMMU group: %s\n", bdf, strerror(errno));
		return -1;
	}
	link[n] = '\0';
	p = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", p + 1);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		fprintf(stderr, "vfio-mig: %s: %s: %s\n", bdf, path, strerror(errno));
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-mig: %s: group not viable\n", bdf);
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &container)) {
		fprintf(stderr, "vfio-mig: %s: VFIO_GROUP_SET_CONTAINER: %s\n", bdf,
			strerror(errno));
		return -1;
	}
	/* The first group sets the IOMMU model; later ones join it. */
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) && errno != EBUSY &&
	    errno != EINVAL) {
		fprintf(stderr, "vfio-mig: VFIO_SET_IOMMU: %s\n", strerror(errno));
		return -1;
	}
	return open_device_fd(d);
}

static void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	d->fd = d->group = -1;
}

static uint32_t reg_rd(struct dev *d, uint64_t off)
{
	uint32_t v = UINT32_MAX;

	if (pread(d->fd, &v, 4, d->bar0.offset + off) != 4)
		fprintf(stderr, "vfio-mig: %s: read BAR0 %#" PRIx64 ": %s\n", d->bdf,
			off, strerror(errno));
	return v;
}

static void reg_wr(struct dev *d, uint64_t off, uint32_t v)
{
	if (pwrite(d->fd, &v, 4, d->bar0.offset + off) != 4)
		fprintf(stderr, "vfio-mig: %s: write BAR0 %#" PRIx64 ": %s\n", d->bdf,
			off, strerror(errno));
}

static bool wait_idle(struct dev *d)
{
	for (int i = 0; i < 5000; i++) {
		if (!(reg_rd(d, EDU_REG_STATUS) & EDU_STATUS_COMPUTING))
			return true;
		sleep_ms(1);
	}
	return false;
}

/*
 * Memory decoding on, INTx off: the raised interrupt status stays a
 * register value and never asserts a line nobody in the guest handles.
 */
static void prepare(struct dev *d)
{
	uint16_t cmd = 0;

	if (pread(d->fd, &cmd, 2, d->config.offset + PCI_COMMAND) != 2)
		return;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE;
	pwrite(d->fd, &cmd, 2, d->config.offset + PCI_COMMAND);
}

/* Leave no interrupt status behind for whoever uses the device next. */
static void cleanup(struct dev *d)
{
	reg_wr(d, EDU_REG_STATUS, 0);
	reg_wr(d, EDU_REG_IRQ_ACK, reg_rd(d, EDU_REG_IRQ_STATUS));
}

struct regs {
	uint32_t ident, liveness, factorial, status, irq_status;
	uint32_t dma_src, dma_dst, dma_count;
};

static void regs_read(struct dev *d, struct regs *r)
{
	r->ident = reg_rd(d, EDU_REG_IDENT);
	r->liveness = reg_rd(d, EDU_REG_LIVENESS);
	r->factorial = reg_rd(d, EDU_REG_FACTORIAL);
	r->status = reg_rd(d, EDU_REG_STATUS);
	r->irq_status = reg_rd(d, EDU_REG_IRQ_STATUS);
	r->dma_src = reg_rd(d, EDU_REG_DMA_SRC);
	r->dma_dst = reg_rd(d, EDU_REG_DMA_DST);
	r->dma_count = reg_rd(d, EDU_REG_DMA_COUNT);
}

static void regs_print(const char *tag, const struct regs *r)
{
	printf("  %s.regs: ident %#x liveness %#x factorial %#x status %#x irq_status %#x dma %#x %#x %#x\n",
	       tag, r->ident, r->liveness, r->factorial, r->status, r->irq_status,
	       r->dma_src, r->dma_dst, r->dma_count);
}

/* Program a recognisable state: liveness, factorial(n), irq bit, DMA. */
static void regs_set(struct dev *d, uint32_t live, uint32_t n, bool irqfact,
		     uint32_t irq, uint32_t dma)
{
	reg_wr(d, EDU_REG_STATUS, 0);
	reg_wr(d, EDU_REG_FACTORIAL, n);
	wait_idle(d);
	reg_wr(d, EDU_REG_STATUS, irqfact ? EDU_STATUS_IRQFACT : 0);
	reg_wr(d, EDU_REG_LIVENESS, live);
	reg_wr(d, EDU_REG_IRQ_ACK, reg_rd(d, EDU_REG_IRQ_STATUS));
	reg_wr(d, EDU_REG_IRQ_RAISE, irq);
	reg_wr(d, EDU_REG_DMA_SRC, dma);
	reg_wr(d, EDU_REG_DMA_DST, 0x40000);
	reg_wr(d, EDU_REG_DMA_COUNT, dma >> 8);
}

/* ---- migration feature ------------------------------------------------ */

static const char *state_name(uint32_t s)
{
	static const char *const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* VFIO_DEVICE_FEATURE with a payload; returns 0 or -errno. */
static int feature(struct dev *d, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (data)
		memcpy(f->data, data, len);
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (data)
		memcpy(data, f->data, len);
	return 0;
}

/*
 * SET the state: 0 or -errno; *data_fd is the session's fd, or -1 when
 * the arc opened none (or the request failed).
 */
static int set_state_fd(struct dev *d, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state,
						     .data_fd = -1 };
	int ret;

	ret = feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		      &mig, sizeof(mig));
	*data_fd = ret ? -1 : mig.data_fd;
	return ret;
}

/* SET a state that opens no session; an fd, had one come, is closed. */
static int set_state(struct dev *d, uint32_t state)
{
	int fd, ret;

	ret = set_state_fd(d, state, &fd);
	if (fd >= 0) {
		close(fd);
		return -EBADFD;
	}
	return ret;
}

static int64_t get_state(struct dev *d)
{
	struct vfio_device_feature_mig_state mig = { 0 };
	int ret;

	ret = feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		      &mig, sizeof(mig));
	return ret ? ret : (int64_t)mig.device_state;
}

/* Go to @state (no fd expected) and check it, naming the step. */
static void step(struct dev *d, uint32_t state)
{
	char name[128];
	int ret;

	snprintf(name, sizeof(name), "%s: -> %s", d->tag, state_name(state));
	ret = set_state(d, state);
	CHECK(ret == 0 && get_state(d) == state, name, "%s, state %s", strerror(-ret),
	      state_name(get_state(d)));
}

/* Go to @state, which must hand out a data fd; returns it or -1. */
static int step_fd(struct dev *d, uint32_t state)
{
	char name[128];
	int fd, ret;

	snprintf(name, sizeof(name), "%s: -> %s returns a data fd", d->tag,
		 state_name(state));
	ret = set_state_fd(d, state, &fd);
	CHECK(ret == 0 && fd >= 0 && get_state(d) == state, name, "%s, fd %d",
	      strerror(-ret), fd);
	return fd;
}

/* A request the FSM refuses: EINVAL, and the state stays what it was. */
static void step_refused(struct dev *d, uint32_t state, int want, const char *why)
{
	int64_t before = get_state(d);
	char name[160];
	int ret;

	snprintf(name, sizeof(name), "%s: %s -> %u (%s) fails with %s, state unchanged",
		 d->tag, state_name(before), state, why, strerror(want));
	ret = set_state(d, state);
	CHECK(ret == -want && get_state(d) == before, name, "%s, state %s",
	      ret ? strerror(-ret) : "accepted", state_name(get_state(d)));
}

/* Read the data fd to its end in @chunk-byte reads. */
static ssize_t read_image(int fd, uint8_t *img, size_t cap, size_t chunk)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, img + len, cap - len < chunk ? cap - len : chunk);
		if (n < 0)
			return -errno;
		if (n == 0)
			return len;
		len += n;
		if (len == cap) {
			/* One more read must see the end. */
			uint8_t extra;

			n = read(fd, &extra, 1);
			return n == 0 ? (ssize_t)len : -EFBIG;
		}
	}
}

static ssize_t write_image(int fd, const uint8_t *img, size_t len, size_t chunk)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, img + done, len - done < chunk ? len - done : chunk);
		if (n < 0)
			return -errno;
		done += n;
	}
	return done;
}

/* Save @d's state (RUNNING -> STOP -> STOP_COPY -> STOP) into @img. */
static ssize_t save(struct dev *d, uint8_t *img, size_t cap)
{
	struct vfio_device_feature_mig_data_size ds = { 0 };
	ssize_t len;
	char name[128];
	int fd, ret;

	step(d, VFIO_DEVICE_STATE_STOP);
	fd = step_fd(d, VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return -1;
	ret = feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
		      &ds, sizeof(ds));
	len = read_image(fd, img, cap, 4096);
	printf("  %s.image: %zd bytes, data size %llu\n", d->tag, len,
	       (unsigned long long)ds.stop_copy_length);
	snprintf(name, sizeof(name), "%s: image read to end of file", d->tag);
	CHECK(len > 0, name, "%s", len < 0 ? strerror(-len) : "empty");
	snprintf(name, sizeof(name), "%s: MIG_DATA_SIZE agrees with the image", d->tag);
	CHECK(ret == 0 && (ssize_t)ds.stop_copy_length == len, name,
	      "ret %d, data size %llu, image %zd", ret,
	      (unsigned long long)ds.stop_copy_length, len);
	step(d, VFIO_DEVICE_STATE_STOP);
	close(fd);
	return len;
}

/* Load @img into @d (-> RESUMING, write, -> STOP); returns SET's result. */
static int load(struct dev *d, const uint8_t *img, size_t len, size_t chunk)
{
	char name[128];
	ssize_t n;
	int fd, ret;

	fd = step_fd(d, VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return -EBADF;
	n = write_image(fd, img, len, chunk);
	snprintf(name, sizeof(name), "%s: image written to the data fd", d->tag);
	CHECK(n == (ssize_t)len, name, "%s", n < 0 ? strerror(-n) : "short");
	ret = set_state(d, VFIO_DEVICE_STATE_STOP);
	close(fd);
	return ret;
}

static bool regs_equal(const struct regs *a, const struct regs *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- scenarios --------------------------------------------------------- */

static int cmd_migrate(struct dev *src, struct dev *dst)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct regs before, saved, after, dst_before;
	uint8_t img[4096];
	ssize_t len;
	int ret;

	ret = feature(src, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0);
	CHECK(ret == 0, "src: VFIO_DEVICE_FEATURE_MIGRATION probe succeeds", "%s",
	      strerror(-ret));
	ret = feature(src, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
		      &mig, sizeof(mig));
	printf("  src.migration_flags: %#llx\n", (unsigned long long)mig.flags);
	CHECK(ret == 0 && mig.flags == (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
					VFIO_MIGRATION_PRE_COPY),
	      "src: migration flags are STOP_COPY|P2P|PRE_COPY", "ret %d flags %#llx", ret,
	      (unsigned long long)mig.flags);
	CHECK(get_state(src) == VFIO_DEVICE_STATE_RUNNING &&
	      get_state(dst) == VFIO_DEVICE_STATE_RUNNING,
	      "src, dst: RUNNING after open", "src %s, dst %s",
	      state_name(get_state(src)), state_name(get_state(dst)));

	prepare(src);
	prepare(dst);
	/* Two different states, so the copy shows. */
	regs_set(src, 0x12345678, 12, true, 0x00a50005, 0x1000);
	regs_set(dst, 0x0badf00d, 5, false, 0x100, 0x2000);
	regs_read(src, &before);
	regs_read(dst, &dst_before);
	regs_print("src", &before);
	regs_print("dst", &dst_before);
	CHECK(before.liveness == ~0x12345678u && before.factorial == 479001600 &&
	      (before.status & EDU_STATUS_IRQFACT) && before.irq_status == 0x00a50005,
	      "src: registers programmed", "see src.regs");
	CHECK(!regs_equal(&before, &dst_before), "dst: registers differ from src",
	      "identical before migration");

	/* Through RUNNING_P2P, as QEMU does with P2P. */
	step(src, VFIO_DEVICE_STATE_RUNNING_P2P);
	len = save(src, img, sizeof(img));
	if (len <= 0)
		return 1;
	CHECK(len == IMG_SIZE, "src: image is 64 bytes (header + edu state)",
	      "%zd bytes", len);
	regs_read(src, &saved);
	CHECK(regs_equal(&before, &saved), "src: saving leaves the registers alone",
	      "changed");

	step(dst, VFIO_DEVICE_STATE_STOP);
	ret = load(dst, img, len, 4096);
	CHECK(ret == 0 && get_state(dst) == VFIO_DEVICE_STATE_STOP,
	      "dst: RESUMING -> STOP loads the image", "%s", strerror(-ret));
	step(dst, VFIO_DEVICE_STATE_RUNNING_P2P);
	step(dst, VFIO_DEVICE_STATE_RUNNING);
	regs_read(dst, &after);
	regs_print("dst", &after);
	CHECK(after.liveness == before.liveness, "dst: liveness migrated",
	      "%#x, want %#x", after.liveness, before.liveness);
	CHECK(after.factorial == before.factorial, "dst: factorial migrated",
	      "%#x, want %#x", after.factorial, before.factorial);
	CHECK(after.status == before.status, "dst: status (irq on factorial) migrated",
	      "%#x, want %#x", after.status, before.status);
	CHECK(after.irq_status == before.irq_status, "dst: interrupt status migrated",
	      "%#x, want %#x", after.irq_status, before.irq_status);
	CHECK(after.dma_src == before.dma_src && after.dma_dst == before.dma_dst &&
	      after.dma_count == before.dma_count, "dst: DMA registers migrated",
	      "%#x %#x %#x", after.dma_src, after.dma_dst, after.dma_count);
	CHECK(regs_equal(&after, &before), "dst: every register equals src's",
	      "see dst.regs");

	/* The device still works after a load: a new computation. */
	reg_wr(dst, EDU_REG_STATUS, 0);
	reg_wr(dst, EDU_REG_FACTORIAL, 6);
	CHECK(wait_idle(dst) && reg_rd(dst, EDU_REG_FACTORIAL) == 720,
	      "dst: computes factorial(6) after the migration", "%u",
	      reg_rd(dst, EDU_REG_FACTORIAL));

	step(src, VFIO_DEVICE_STATE_RUNNING);
	cleanup(src);
	cleanup(dst);
	return 0;
}

static int precopy_info(int fd, struct vfio_precopy_info *info)
{
	*info = (struct vfio_precopy_info){ .argsz = sizeof(*info) };
	return ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, info) ? -errno : 0;
}

/*
 * PRE_COPY, as QEMU drives it: the header comes while the device runs,
 * the device state with STOP_COPY on the same fd.  A register changed
 * during PRE_COPY must arrive with its new value.
 */
static int cmd_precopy(struct dev *src, struct dev *dst)
{
	struct vfio_device_feature_mig_data_size ds = { 0 };
	struct vfio_precopy_info info;
	struct regs before, after;
	uint8_t img[4096];
	ssize_t n, m, len;
	int fd, fd2, ret;

	prepare(src);
	prepare(dst);
	regs_set(src, 0x11110000, 9, false, 0x40, 0x5000);
	regs_set(dst, 0x22220000, 3, true, 0, 0x6000);

	ret = set_state_fd(src, VFIO_DEVICE_STATE_PRE_COPY, &fd);
	CHECK(ret == 0 && fd >= 0 && get_state(src) == VFIO_DEVICE_STATE_PRE_COPY,
	      "src: RUNNING -> PRE_COPY returns a data fd", "%s", strerror(-ret));
	if (fd < 0)
		return 1;
	ret = precopy_info(fd, &info);
	CHECK(ret == 0 && info.initial_bytes == IMG_HDR_SIZE && info.dirty_bytes == 0,
	      "src: PRECOPY_INFO: 16 initial bytes, 0 dirty", "%s, initial %llu dirty %llu",
	      strerror(-ret), (unsigned long long)info.initial_bytes,
	      (unsigned long long)info.dirty_bytes);
	n = read(fd, img, sizeof(img));
	CHECK(n == IMG_HDR_SIZE, "src: PRE_COPY read gives the 16-byte header",
	      "read %zd", n);
	m = read(fd, img + IMG_HDR_SIZE, sizeof(img) - IMG_HDR_SIZE);
	CHECK(m < 0 && errno == ENOMSG, "src: PRE_COPY read at the end: ENOMSG",
	      "read %zd (%s)", m, strerror(errno));
	ret = precopy_info(fd, &info);
	CHECK(ret == 0 && info.initial_bytes == 0 && info.dirty_bytes == 0,
	      "src: PRECOPY_INFO: nothing left to read", "%s, initial %llu",
	      strerror(-ret), (unsigned long long)info.initial_bytes);

	/* Still running: this change must make it into the image. */
	reg_wr(src, EDU_REG_LIVENESS, 0x33330000);
	regs_read(src, &before);
	regs_print("src", &before);

	step(src, VFIO_DEVICE_STATE_PRE_COPY_P2P);
	ret = set_state_fd(src, VFIO_DEVICE_STATE_STOP_COPY, &fd2);
	CHECK(ret == 0 && fd2 < 0 && get_state(src) == VFIO_DEVICE_STATE_STOP_COPY,
	      "src: PRE_COPY_P2P -> STOP_COPY keeps the session (no new fd)",
	      "%s, fd %d", strerror(-ret), fd2);
	len = read_image(fd, img + IMG_HDR_SIZE, sizeof(img) - IMG_HDR_SIZE, 4096);
	CHECK(len == IMG_SIZE - IMG_HDR_SIZE,
	      "src: STOP_COPY read gives the 48-byte device state, then EOF",
	      "%zd", len);
	ret = precopy_info(fd, &info);
	CHECK(ret == -EINVAL, "src: PRECOPY_INFO in STOP_COPY fails with EINVAL", "%s",
	      strerror(-ret));
	ret = feature(src, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
		      &ds, sizeof(ds));
	CHECK(ret == 0 && ds.stop_copy_length == IMG_SIZE,
	      "src: MIG_DATA_SIZE agrees with header + state", "%llu",
	      (unsigned long long)ds.stop_copy_length);
	step(src, VFIO_DEVICE_STATE_STOP);
	close(fd);

	step(dst, VFIO_DEVICE_STATE_STOP);
	ret = load(dst, img, IMG_SIZE, 4096);
	CHECK(ret == 0, "dst: the PRE_COPY + STOP_COPY stream loads", "%s",
	      strerror(-ret));
	step(dst, VFIO_DEVICE_STATE_RUNNING);
	regs_read(dst, &after);
	regs_print("dst", &after);
	CHECK(after.liveness == ~0x33330000u, "dst: liveness written during PRE_COPY arrived",
	      "%#x", after.liveness);
	CHECK(regs_equal(&after, &before), "dst: every register equals src's",
	      "see dst.regs");

	/* Leaving PRE_COPY for RUNNING ends the session. */
	step(src, VFIO_DEVICE_STATE_RUNNING);
	ret = set_state_fd(src, VFIO_DEVICE_STATE_PRE_COPY, &fd);
	CHECK(ret == 0 && fd >= 0, "src: RUNNING -> PRE_COPY again", "%s", strerror(-ret));
	step(src, VFIO_DEVICE_STATE_RUNNING);
	n = read(fd, img, sizeof(img));
	CHECK(n < 0 && errno == ENODEV, "src: PRE_COPY -> RUNNING disables the fd",
	      "read %zd", n);
	if (fd >= 0)
		close(fd);
	/* And from PRE_COPY_P2P a RUNNING request walks through RUNNING_P2P. */
	ret = set_state_fd(src, VFIO_DEVICE_STATE_PRE_COPY_P2P, &fd);
	CHECK(ret == 0 && fd >= 0 && get_state(src) == VFIO_DEVICE_STATE_PRE_COPY_P2P,
	      "src: RUNNING -> PRE_COPY_P2P returns a data fd", "%s", strerror(-ret));
	step(src, VFIO_DEVICE_STATE_RUNNING);
	if (fd >= 0)
		close(fd);

	cleanup(src);
	cleanup(dst);
	return 0;
}

/* Load @good with @val at @off (and liveness flipped): must be refused. */
static void corrupt_case(struct dev *d, const uint8_t *good, size_t len,
			 const char *what, size_t off, uint32_t val, size_t wlen)
{
	uint8_t img[IMG_SIZE];
	struct regs before, after;
	char name[160];
	int ret;

	memcpy(img, good, len);
	if (off + 4 <= len)
		memcpy(img + off, &val, 4);
	/* Also a different liveness: had anything been loaded, it would show. */
	img[IMG_OFF_LIVENESS] ^= 0xff;
	regs_read(d, &before);
	step(d, VFIO_DEVICE_STATE_STOP);
	ret = load(d, img, wlen, 4096);
	snprintf(name, sizeof(name), "%s: %s: RESUMING -> STOP fails with EINVAL",
		 d->tag, what);
	CHECK(ret == -EINVAL, name, "%s", ret ? strerror(-ret) : "accepted");
	snprintf(name, sizeof(name), "%s: %s: state stays RESUMING", d->tag, what);
	CHECK(get_state(d) == VFIO_DEVICE_STATE_RESUMING, name, "%s",
	      state_name(get_state(d)));
	regs_read(d, &after);
	snprintf(name, sizeof(name), "%s: %s: registers untouched", d->tag, what);
	CHECK(regs_equal(&before, &after), name, "liveness %#x -> %#x",
	      before.liveness, after.liveness);

	/* Only a reset leaves RESUMING without a good image: reopen. */
	close(d->fd);
	open_device_fd(d);
	prepare(d);
	snprintf(name, sizeof(name), "%s: %s: RUNNING again after close and reopen",
		 d->tag, what);
	CHECK(get_state(d) == VFIO_DEVICE_STATE_RUNNING, name, "%s",
	      state_name(get_state(d)));
}

static int cmd_errors(struct dev *d)
{
	uint8_t good[4096], big[IMG_SIZE + 1] = { 0 };
	int64_t st;
	ssize_t len, n;
	int fd, ret;

	prepare(d);
	regs_set(d, 0xcafe0001, 7, false, 0, 0x3000);

	/* Values the FSM does not know or the device did not advertise. */
	step_refused(d, 99, EINVAL, "no such state");
	step_refused(d, VFIO_DEVICE_STATE_ERROR, EINVAL, "ERROR cannot be requested");
	step(d, VFIO_DEVICE_STATE_STOP);
	step_refused(d, 8, EINVAL, "past the last state");
	step_refused(d, VFIO_DEVICE_STATE_ERROR, EINVAL, "ERROR cannot be requested");
	fd = step_fd(d, VFIO_DEVICE_STATE_STOP_COPY);
	step_refused(d, VFIO_DEVICE_STATE_PRE_COPY, EINVAL, "blocked arc");
	step_refused(d, VFIO_DEVICE_STATE_PRE_COPY_P2P, EINVAL, "blocked arc");
	len = read_image(fd, good, sizeof(good), 4096);
	CHECK(len == IMG_SIZE, "errors: image saved", "%zd", len);
	/* The same state again is no change and no new fd. */
	ret = set_state(d, VFIO_DEVICE_STATE_STOP_COPY);
	CHECK(ret == 0, "errors: STOP_COPY -> STOP_COPY is a no-op without a new fd",
	      "%s", strerror(-ret));
	step(d, VFIO_DEVICE_STATE_STOP);
	n = read(fd, good + IMG_SIZE, 1);
	CHECK(n < 0 && errno == ENODEV, "errors: data fd disabled after STOP_COPY -> STOP",
	      "read returned %zd", n);
	close(fd);
	step(d, VFIO_DEVICE_STATE_RUNNING);
	if (len != IMG_SIZE)
		return 1;

	corrupt_case(d, good, len, "bad magic", 0, 0xdeadbeef, len);
	corrupt_case(d, good, len, "bad version", IMG_OFF_VERSION, 0x00010007, len);
	corrupt_case(d, good, len, "bad payload size", IMG_OFF_SIZE, 47, len);
	corrupt_case(d, good, len, "truncated image", len, 0, len - 1);
	corrupt_case(d, good, len, "factorial no n! can give", IMG_OFF_FACTORIAL, 7, len);

	/* A short image fails, and loads once the rest of it is written. */
	step(d, VFIO_DEVICE_STATE_STOP);
	fd = step_fd(d, VFIO_DEVICE_STATE_RESUMING);
	memcpy(big, good, len);
	big[IMG_OFF_LIVENESS] ^= 0x0f;
	n = write(fd, big, len - 1);
	ret = set_state(d, VFIO_DEVICE_STATE_STOP);
	CHECK(n == len - 1 && ret == -EINVAL, "errors: a short image fails with EINVAL",
	      "write %zd, %s", n, strerror(-ret));
	n = write(fd, big + len - 1, 1);
	ret = set_state(d, VFIO_DEVICE_STATE_STOP);
	CHECK(n == 1 && ret == 0, "errors: the completed image then loads", "write %zd, %s",
	      n, strerror(-ret));
	CHECK(reg_rd(d, EDU_REG_LIVENESS) == (uint32_t)(big[IMG_OFF_LIVENESS] |
							 big[IMG_OFF_LIVENESS + 1] << 8 |
							 big[IMG_OFF_LIVENESS + 2] << 16 |
							 (uint32_t)big[IMG_OFF_LIVENESS + 3] << 24),
	      "errors: and its liveness is the device's", "%#x",
	      reg_rd(d, EDU_REG_LIVENESS));
	close(fd);
	step(d, VFIO_DEVICE_STATE_RUNNING);

	/* One byte too many: refused by the write itself. */
	step(d, VFIO_DEVICE_STATE_STOP);
	fd = step_fd(d, VFIO_DEVICE_STATE_RESUMING);
	memcpy(big, good, len);
	n = write(fd, big, sizeof(big));
	CHECK(n < 0 && errno == EFBIG, "errors: an over-long image is refused (EFBIG)",
	      "write returned %zd", n);
	n = write(fd, good, len);
	CHECK(n == len, "errors: the right image still fits", "write returned %zd", n);
	step(d, VFIO_DEVICE_STATE_STOP);
	n = write(fd, good, 1);
	CHECK(n < 0 && errno == ENODEV, "errors: data fd disabled after RESUMING -> STOP",
	      "write returned %zd", n);
	close(fd);
	step(d, VFIO_DEVICE_STATE_RUNNING);

	/* A session ends with the device fd: close_device disables the fd. */
	ret = set_state_fd(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	CHECK(ret == 0 && fd >= 0, "errors: RUNNING -> STOP_COPY in one request", "%s",
	      strerror(-ret));
	close(d->fd);
	n = read(fd, good, sizeof(good));
	CHECK(n < 0 && errno == ENODEV, "errors: data fd disabled by close_device",
	      "read returned %zd", n);
	close(fd);
	open_device_fd(d);
	prepare(d);
	st = get_state(d);
	CHECK(st == VFIO_DEVICE_STATE_RUNNING, "errors: RUNNING after reopen", "%s",
	      state_name(st));
	cleanup(d);
	return 0;
}

/*
 * A fixed sequence for t-migration.sh to match against the tracepoints:
 * src RUNNING->STOP_COPY, three reads (40, 24, 0 bytes), ->RUNNING, ->99
 * (EINVAL); dst RUNNING->RESUMING, writes of 40 and 24, ->RUNNING.
 */
/*
 * $VFIO_MIG_EACH, when set: a shell command run after every SET request of
 * the trace scenario, with $VFIO_MIG_ARC naming it (1, 2, ...), so that a
 * test can look at the device between arcs (t-migration.sh scrapes the
 * exporter).
 */
static void after_arc(void)
{
	static int arc;
	const char *cmd = getenv("VFIO_MIG_EACH");
	char n[16];

	if (!cmd)
		return;
	snprintf(n, sizeof(n), "%d", ++arc);
	setenv("VFIO_MIG_ARC", n, 1);
	fflush(stdout);
	if (system(cmd))
		fprintf(stderr, "vfio-mig: VFIO_MIG_EACH failed after arc %s\n", n);
}

static int cmd_trace(struct dev *src, struct dev *dst)
{
	uint8_t img[IMG_SIZE + 8];
	ssize_t n1, n2, n3;
	int fd, ret;

	prepare(src);
	prepare(dst);
	ret = set_state_fd(src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	after_arc();
	CHECK(ret == 0 && fd >= 0, "trace: src RUNNING -> STOP_COPY", "%s",
	      strerror(-ret));
	n1 = read(fd, img, 40);
	n2 = read(fd, img + 40, sizeof(img) - 40);
	n3 = read(fd, img + 64, sizeof(img) - 64);
	CHECK(n1 == 40 && n2 == 24 && n3 == 0, "trace: src reads 40, 24, 0 bytes",
	      "%zd %zd %zd", n1, n2, n3);
	close(fd);
	ret = set_state(src, VFIO_DEVICE_STATE_RUNNING);
	after_arc();
	CHECK(ret == 0, "trace: src STOP_COPY -> RUNNING", "%s", strerror(-ret));
	ret = set_state(src, 99);
	after_arc();
	CHECK(ret == -EINVAL, "trace: src RUNNING -> 99 refused", "%s", strerror(-ret));

	ret = set_state_fd(dst, VFIO_DEVICE_STATE_RESUMING, &fd);
	after_arc();
	CHECK(ret == 0 && fd >= 0, "trace: dst RUNNING -> RESUMING", "%s",
	      strerror(-ret));
	n1 = write(fd, img, 40);
	n2 = write(fd, img + 40, 24);
	CHECK(n1 == 40 && n2 == 24, "trace: dst writes 40, 24 bytes", "%zd %zd", n1, n2);
	ret = set_state(dst, VFIO_DEVICE_STATE_RUNNING);
	after_arc();
	CHECK(ret == 0, "trace: dst RESUMING -> RUNNING", "%s", strerror(-ret));
	close(fd);
	return 0;
}

/*
 * Save cycles (STOP_COPY and PRE_COPY paths) while a child process reads
 * and writes the registers through the region and through an mmap of
 * BAR0: the kernel must serialize the save against the region path and
 * mmap faults (memory_lock) without deadlock or splat, and every image
 * must be whole.
 */
#define STRESS_CYCLES	300
static int cmd_stress(struct dev *d)
{
	volatile uint64_t *hammered;
	volatile uint32_t *map;
	uint8_t img[4096];
	int bad = 0, fd, ret, status;
	ssize_t len;
	pid_t child;

	prepare(d);
	map = mmap(NULL, d->bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   d->bar0.offset);
	CHECK(map != MAP_FAILED, "stress: mmap BAR0", "%s", strerror(errno));
	if (map == MAP_FAILED)
		return 1;

	/* The child counts its rounds here, to show it ran alongside. */
	hammered = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	if (hammered == MAP_FAILED)
		return 1;
	*hammered = 0;

	child = fork();
	if (child == 0) {
		for (uint32_t i = 0;; i++) {
			*hammered = i;
			uint32_t v;

			reg_wr(d, EDU_REG_LIVENESS, i);
			v = reg_rd(d, EDU_REG_IDENT);
			map[EDU_REG_LIVENESS / 4] = ~i;
			v ^= map[EDU_REG_LIVENESS / 4];
			(void)v;
		}
	}
	CHECK(child > 0, "stress: fork the register hammer", "%s", strerror(errno));
	if (child < 0)
		return 1;

	for (int i = 0; i < STRESS_CYCLES; i++) {
		bool pre = i & 1;
		int fd2 = -1;

		ret = set_state_fd(d, pre ? VFIO_DEVICE_STATE_PRE_COPY :
				   VFIO_DEVICE_STATE_STOP_COPY, &fd);
		if (ret || fd < 0) {
			bad++;
			fprintf(stderr, "cycle %d: SET: %s\n", i, strerror(-ret));
			continue;
		}
		if (pre && set_state_fd(d, VFIO_DEVICE_STATE_STOP_COPY, &fd2))
			bad++;
		len = read_image(fd, img, sizeof(img), 4096);
		if (len != IMG_SIZE) {
			bad++;
			fprintf(stderr, "cycle %d: image %zd\n", i, len);
		}
		if (set_state(d, VFIO_DEVICE_STATE_RUNNING))
			bad++;
		close(fd);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	printf("  stress.hammer_rounds: %llu\n", (unsigned long long)*hammered);
	CHECK(*hammered > 0, "stress: the hammer ran alongside", "no rounds");
	munmap((void *)hammered, 4096);
	CHECK(!bad, "stress: 300 save cycles under concurrent register access",
	      "%d failures", bad);
	CHECK(get_state(d) == VFIO_DEVICE_STATE_RUNNING, "stress: RUNNING at the end",
	      "%s", state_name(get_state(d)));
	munmap((void *)map, d->bar0.size);
	cleanup(d);
	return 0;
}

/* A device without a provider: no migration feature at all. */
static int cmd_none(struct dev *d)
{
	struct vfio_device_feature_mig_data_size ds = { 0 };
	int ret;

	ret = feature(d, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0);
	CHECK(ret == -ENOTTY, "none: VFIO_DEVICE_FEATURE_MIGRATION probe fails with ENOTTY",
	      "ret %d (%s)", ret, strerror(-ret));
	ret = feature(d, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, NULL, 0);
	CHECK(ret == -ENOTTY, "none: MIG_DEVICE_STATE probe fails with ENOTTY",
	      "ret %d (%s)", ret, strerror(-ret));
	ret = feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
		      &ds, sizeof(ds));
	CHECK(ret == -ENOTTY, "none: MIG_DATA_SIZE fails with ENOTTY", "ret %d (%s)",
	      ret, strerror(-ret));
	return 0;
}

/*
 * Under a policy whose mig_transition hook denies every arc: requests fail
 * with EPERM before any arc is taken, so the device stays RUNNING, while
 * migration is still advertised.
 */
static int cmd_veto(struct dev *d)
{
	struct vfio_device_feature_migration mf = { 0 };

	CHECK(!feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
		       &mf, sizeof(mf)) && mf.flags,
	      "veto: migration still advertised", "flags %#llx",
	      (unsigned long long)mf.flags);
	step_refused(d, VFIO_DEVICE_STATE_STOP, EPERM, "policy");
	step_refused(d, VFIO_DEVICE_STATE_STOP_COPY, EPERM, "policy, two arcs");
	step_refused(d, VFIO_DEVICE_STATE_RUNNING_P2P, EPERM, "policy");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vfio-mig migrate SRC DST | precopy SRC DST | errors BDF |\n"
		"       trace SRC DST | stress BDF | none BDF | veto BDF\n"
		"Drive VFIO migration v2 on devices bound to a VFIO driver.\n"
		"\n"
		"EXAMPLES:\n"
		"    vfio-mig migrate 0000:00:04.0 0000:00:05.0\n"
		"    vfio-mig none 0000:00:04.0\n");
}

int main(int argc, char **argv)
{
	struct dev a = { .fd = -1, .group = -1 }, b = { .fd = -1, .group = -1 };
	bool two;
	int rc;

	if (argc < 3) {
		usage();
		return 2;
	}
	two = !strcmp(argv[1], "migrate") || !strcmp(argv[1], "trace") ||
	      !strcmp(argv[1], "precopy");
	if ((two && argc != 4) || (!two && (argc != 3 || (strcmp(argv[1], "errors") &&
							  strcmp(argv[1], "none") &&
							  strcmp(argv[1], "veto") &&
							  strcmp(argv[1], "stress"))))) {
		usage();
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dev_open(&a, argv[2], two ? "src" : "dev") ||
	    (two && dev_open(&b, argv[3], "dst"))) {
		dev_close(&a);
		dev_close(&b);
		return 2;
	}
	if (!strcmp(argv[1], "migrate"))
		rc = cmd_migrate(&a, &b);
	else if (!strcmp(argv[1], "trace"))
		rc = cmd_trace(&a, &b);
	else if (!strcmp(argv[1], "precopy"))
		rc = cmd_precopy(&a, &b);
	else if (!strcmp(argv[1], "errors"))
		rc = cmd_errors(&a);
	else if (!strcmp(argv[1], "stress"))
		rc = cmd_stress(&a);
	else if (!strcmp(argv[1], "veto"))
		rc = cmd_veto(&a);
	else
		rc = cmd_none(&a);
	dev_close(&a);
	dev_close(&b);
	if (container >= 0)
		close(container);
	return rc || failed ? 1 : 0;
}
