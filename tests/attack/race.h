/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the race-*.c attack programs: a hostile VFIO user that opens a
 * device through its group and a type1 container, and the device's own
 * view through sysfs (config space, msi_irqs), which is what the verdicts
 * are about.  vfio's answers are never trusted for a verdict: an attack
 * succeeds when the device saw what the policy forbids.
 *
 * Every program prints facts as "  key: value", verdicts as "PASS: ..." or
 * "FAIL: ...", and exits 0 (all passed), 1 (a verdict failed) or 2 (could
 * not set up: no verdict about the policy).
 */
#ifndef RACE_H
#define RACE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

struct race_dev {
	const char *bdf;
	int container;
	int group;
	int device;
	int sysfs_config;	/* /sys/bus/pci/devices/BDF/config: the device's view */
	uint64_t cfg_off;	/* offset of the config region in the device fd */
	struct vfio_irq_info irq[VFIO_PCI_NUM_IRQS];
};

static bool race_verbose;
static int race_failed;

/* Set by SIGINT/SIGTERM: every loop checks it and winds down cleanly. */
static volatile sig_atomic_t race_stop;

static inline void race_on_signal(int sig)
{
	race_stop = 1;
}

static inline void race_signals(void)
{
	struct sigaction sa = { .sa_handler = race_on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline void race_fact(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("  %s: ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A verdict line; a failed one makes the program exit 1. */
static inline void race_verdict(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		race_failed++;
	fputs(ok ? "PASS: " : "FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline void race_debug(const char *fmt, ...)
{
	va_list ap;

	if (!race_verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static inline double race_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void race_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A number from the command line (0x... hex), or exit 2. */
static inline unsigned long long race_number(const char *what, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static inline int race_open(struct race_dev *d, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	char link[PATH_MAX], path[PATH_MAX], *p;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	d->container = d->group = d->device = d->sysfs_config = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	d->sysfs_config = open(path, O_RDONLY | O_CLOEXEC);
	if (d->sysfs_config < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fprintf(stderr, "%s: no IOMMU group: %s\n", bdf, strerror(errno));
		return -1;
	}
	link[n] = '\0';
	p = strrchr(link, '/');

	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0) {
		fprintf(stderr, "open /dev/vfio/vfio: %s\n", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", p + 1);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		fprintf(stderr, "%s: open %s: %s\n", bdf, path, strerror(errno));
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "%s: group %s not viable\n", bdf, p + 1);
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		fprintf(stderr, "%s: container: %s\n", bdf, strerror(errno));
		return -1;
	}
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->device < 0) {
		fprintf(stderr, "%s: VFIO_GROUP_GET_DEVICE_FD: %s\n", bdf,
			strerror(errno));
		return -1;
	}
	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &cfg)) {
		fprintf(stderr, "%s: config region info: %s\n", bdf, strerror(errno));
		return -1;
	}
	d->cfg_off = cfg.offset;
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		d->irq[i].argsz = sizeof(d->irq[i]);
		d->irq[i].index = i;
		/* ERR exists only on PCI Express: count 0 when the core says no. */
		if (ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, &d->irq[i]))
			d->irq[i].count = 0;
	}
	return 0;
}

static inline void race_close(struct race_dev *d)
{
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	if (d->sysfs_config >= 0)
		close(d->sysfs_config);
}

/* @len bytes of the device's config space at @off, as sysfs reads them. */
static inline int race_sysfs_config(struct race_dev *d, unsigned int off,
				    void *buf, size_t len)
{
	return pread(d->sysfs_config, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* How many MSI/MSI-X vectors the kernel has allocated for the device. */
static inline int race_msi_vectors(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -1;	/* no vectors: no directory */
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

#endif /* RACE_H */
