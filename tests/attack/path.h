/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the path-*.c attack programs: a hostile VFIO user that
 * opens a device through its group and a type1 container, and the other
 * side of every check, what the device itself holds, read back through
 * sysfs (config and resourceN), never through vfio.
 *
 * Verdicts are "PASS: ..." / "FAIL: ..." lines with the values in them;
 * facts are "  key: value" lines.  Exit status: 0 all passed, 1 a check
 * failed, 2 the test could not be set up.
 */
#ifndef __VFIO_BPF_ATTACK_PATH_H
#define __VFIO_BPF_ATTACK_PATH_H

#define _GNU_SOURCE
#include <argp.h>
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"

/* Not every program uses every helper. */
#define PATH_FN static __attribute__((unused))

static int path_passed, path_failed;

PATH_FN void __attribute__((format(printf, 2, 3)))
path_verdict(bool ok, const char *fmt, ...)
{
	va_list ap;

	fputs(ok ? "PASS: " : "FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		path_passed++;
	else
		path_failed++;
}

#define CHECK(cond, ...)	path_verdict(!!(cond), __VA_ARGS__)

PATH_FN void __attribute__((format(printf, 1, 2))) fact(const char *fmt, ...)
{
	va_list ap;

	fputs("  ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

PATH_FN void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fputs("attack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

PATH_FN int path_exit(void)
{
	fprintf(stderr, "attack: %d passed, %d failed\n", path_passed, path_failed);
	return path_failed ? 1 : 0;
}

/* "EPERM", "ok" for 0: what an operation returned, for verdict lines. */
PATH_FN const char *errname(int err)
{
	const char *n;

	if (!err)
		return "ok";
	n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

PATH_FN void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Run a step of the test script (attach or remove a policy) while this
 * process keeps the device open; its status, 0 on success.
 */
PATH_FN int run_step(const char *what, const char *cmd)
{
	int st;

	fact("step %s: %s", what, cmd);
	fflush(NULL);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "attack: step %s failed (status %d): %s\n", what, st, cmd);
		return -1;
	}
	return 0;
}

/* ---- the VFIO user -------------------------------------------------- */

struct vdev {
	const char *bdf;
	int container, group, fd;
	struct vfio_region_info reg[VFIO_PCI_NUM_REGIONS];
};

/* 0, or -errno of the step that failed (printed). */
PATH_FN int vdev_open(struct vdev *d, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[PATH_MAX], *p;
	ssize_t n;
	int err;

	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	d->container = d->group = d->fd = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		goto fail_errno;
	link[n] = '\0';
	p = strrchr(link, '/');
	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		goto fail_errno;
	snprintf(path, sizeof(path), "/dev/vfio/%s", p + 1);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		goto fail_errno;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st))
		goto fail_errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto fail_errno;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto fail_errno;
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->fd < 0)
		goto fail_errno;
	for (unsigned int i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		d->reg[i].argsz = sizeof(d->reg[i]);
		d->reg[i].index = i;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &d->reg[i]))
			d->reg[i].size = 0;
	}
	return 0;

fail_errno:
	err = -errno;
	fprintf(stderr, "attack: %s: open: %s\n", bdf, strerror(errno));
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->container = d->group = d->fd = -1;
	return err;
}

PATH_FN void vdev_close(struct vdev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->container = d->group = d->fd = -1;
}

/* Region reads and writes of 1, 2 or 4 bytes: 0 or -errno. */
PATH_FN int region_rd(struct vdev *d, unsigned int index, uint64_t off,
		     unsigned int size, uint32_t *val)
{
	uint32_t v = 0;
	ssize_t n = pread(d->fd, &v, size, d->reg[index].offset + off);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)size)
		return -EIO;
	*val = v;
	return 0;
}

PATH_FN int region_wr(struct vdev *d, unsigned int index, uint64_t off,
		     unsigned int size, uint32_t val)
{
	ssize_t n = pwrite(d->fd, &val, size, d->reg[index].offset + off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)size ? 0 : -EIO;
}

#define CFG	VFIO_PCI_CONFIG_REGION_INDEX
#define BAR0	VFIO_PCI_BAR0_REGION_INDEX

/* Memory decoding on and INTx off, as a driver would before using BARs. */
PATH_FN int vdev_enable_memory(struct vdev *d)
{
	uint32_t cmd = 0;
	int err = region_rd(d, CFG, PCI_COMMAND, 2, &cmd);

	if (err)
		return err;
	return region_wr(d, CFG, PCI_COMMAND, 2,
			 cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
}

/* ---- what the device holds, through sysfs --------------------------- */

/* A config register of @bdf as the PCI core reads it: 0 or -errno. */
PATH_FN int sysfs_cfg_rd(const char *bdf, unsigned int off, unsigned int size,
			uint32_t *val)
{
	char path[PATH_MAX];
	uint32_t v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &v, size, off);
	close(fd);
	if (n != (ssize_t)size)
		return n < 0 ? -errno : -EIO;
	*val = v;
	return 0;
}

/*
 * One 32-bit register of BAR @bar, through an mmap of sysfs resourceN:
 * the device's register, past vfio and the module.  The mapping is made
 * for each access, so it never outlives a revocation.  0 or -errno.
 */
PATH_FN int sysfs_bar_rw32(const char *bdf, unsigned int bar, uint64_t off,
			  uint32_t *val, bool write)
{
	char path[PATH_MAX];
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base = off & ~(uint64_t)(pg - 1);
	volatile uint32_t *p;
	void *map;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u", bdf, bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	p = (volatile uint32_t *)((char *)map + (off - base));
	if (write)
		*p = *val;
	else
		*val = *p;
	munmap(map, pg);
	return 0;
}

PATH_FN int sysfs_bar_rd32(const char *bdf, unsigned int bar, uint64_t off, uint32_t *val)
{
	return sysfs_bar_rw32(bdf, bar, off, val, false);
}

PATH_FN int sysfs_bar_wr32(const char *bdf, unsigned int bar, uint64_t off, uint32_t val)
{
	return sysfs_bar_rw32(bdf, bar, off, &val, true);
}

/* A capability's offset in @bdf's config space (sysfs), or 0. */
PATH_FN unsigned int sysfs_find_cap(const char *bdf, unsigned int id)
{
	uint32_t pos = 0, hdr = 0;

	if (sysfs_cfg_rd(bdf, PCI_CAPABILITY_LIST, 1, &pos))
		return 0;
	for (int i = 0; i < 48 && pos >= 0x40; i++) {
		if (sysfs_cfg_rd(bdf, pos & ~3u, 2, &hdr))
			return 0;
		if ((hdr & 0xff) == id)
			return pos & ~3u;
		pos = hdr >> 8;
	}
	return 0;
}

/* Write a config register of @bdf as root would, past vfio: 0 or -errno. */
PATH_FN int sysfs_cfg_wr(const char *bdf, unsigned int off, unsigned int size,
			 uint32_t val)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, &val, size, off);
	close(fd);
	if (n != (ssize_t)size)
		return n < 0 ? -errno : -EIO;
	return 0;
}

/*
 * Memory decoding on, so that sysfs resourceN reaches the registers while
 * no one holds the BAR (vfio closes the device with the command register
 * it found at open).
 */
PATH_FN int sysfs_enable_memory(const char *bdf)
{
	uint32_t cmd = 0;
	int err = sysfs_cfg_rd(bdf, PCI_COMMAND, 2, &cmd);

	if (err || (cmd & PCI_COMMAND_MEMORY))
		return err;
	return sysfs_cfg_wr(bdf, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
}

/* The first line of a sysfs attribute of @bdf ("" when unreadable). */
PATH_FN const char *sysfs_attr(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/*
 * VFIO_DEVICE_IOEVENTFD: a 4-byte write of @data at @off of BAR @bar each
 * time @efd is signalled (@efd -1 removes it).  0 or -errno.
 */
PATH_FN int vdev_ioeventfd(struct vdev *d, unsigned int bar, uint64_t off,
			   uint32_t data, int efd)
{
	struct vfio_device_ioeventfd io = {
		.argsz = sizeof(io),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = d->reg[bar].offset + off,
		.data = data,
		.fd = efd,
	};

	return ioctl(d->fd, VFIO_DEVICE_IOEVENTFD, &io) ? -errno : 0;
}

/* Signal an eventfd and give the core's handler time to run. */
PATH_FN void signal_eventfd(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "attack: eventfd write: %s\n", strerror(errno));
	sleep_ms(100);
}

/* VFIO_DEVICE_FEATURE with up to 64 bytes of payload: 0 or -errno. */
PATH_FN int vdev_feature(struct vdev *d, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	if (len > 64)
		return -EINVAL;
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

#endif /* __VFIO_BPF_ATTACK_PATH_H */
