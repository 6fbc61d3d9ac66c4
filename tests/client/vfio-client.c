// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-client: a plain VFIO user of one PCI device, used by the test bed to
 * prove that a device bound to vfio-pci-bpf behaves as under vfio-pci, and
 * handy on its own for poking at a device from user space.
 *
 * It opens the device through its group and a type1 container (or through
 * the device's cdev and iommufd where the kernel has them), then runs the
 * checks named on the command line.  Every line it prints is either a fact
 * about the device ("  key: value"), or a verdict ("PASS: ..." or
 * "FAIL: ..."); the facts are deterministic, so the output of two runs on
 * two drivers can be compared with diff.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"

/* edu's DMA mask is 28 bits: keep IOVAs well below 256 MiB. */
#define CLIENT_IOVA_OUT		0x100000
#define CLIENT_IOVA_IN		0x200000

struct client {
	const char *bdf;
	bool cdev;		/* opened through /dev/vfio/devices + iommufd */
	int container;		/* group path: type1 container */
	int group;
	int iommufd;		/* cdev path */
	uint32_t ioas;
	int device;
	struct vfio_device_info info;
	struct vfio_region_info region[VFIO_PCI_NUM_REGIONS];
	struct vfio_irq_info irq[VFIO_PCI_NUM_IRQS];
	uint16_t vendor, devid;
	int failed, passed;
};

static struct env {
	const char *bdf;
	bool cdev;
	bool verbose;
	char **checks;
	int nchecks;
} env;

static void pass(struct client *c, const char *fmt, ...)
{
	va_list ap;

	c->passed++;
	fputs("PASS: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void fail(struct client *c, const char *fmt, ...)
{
	va_list ap;

	c->failed++;
	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A check: PASS or FAIL with the same name, and the reason on failure. */
#define CHECK(c, cond, name, ...)					\
	do {								\
		if (cond)						\
			pass(c, "%s", name);				\
		else {							\
			char why_[256];					\
			snprintf(why_, sizeof(why_), __VA_ARGS__);	\
			fail(c, "%s: %s", name, why_);			\
		}							\
	} while (0)

static void fact(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("  %s: ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ioctl wrapper that names the call and the errno on failure. */
#define XIOCTL(c, fd, req, arg)	xioctl(c, fd, req, #req, arg)
static int xioctl(struct client *c, int fd, unsigned long req,
		  const char *name, void *arg)
{
	int ret = ioctl(fd, req, arg);

	if (ret < 0)
		fprintf(stderr, "vfio-client: %s: ioctl %s: %s\n",
			c->bdf, name, strerror(errno));
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- region access --------------------------------------------------- */

static int region_rw(struct client *c, int index, uint64_t off, void *buf,
		     size_t len, bool write)
{
	struct vfio_region_info *r = &c->region[index];
	ssize_t n;

	if (write)
		n = pwrite(c->device, buf, len, r->offset + off);
	else
		n = pread(c->device, buf, len, r->offset + off);
	if (n != (ssize_t)len) {
		fprintf(stderr, "vfio-client: %s: %s region %d @%#" PRIx64
			" size %zu: %s\n", c->bdf, write ? "pwrite" : "pread",
			index, off, len, n < 0 ? strerror(errno) : "short");
		return -1;
	}
	return 0;
}

static uint32_t cfg_read(struct client *c, uint64_t off, size_t size)
{
	uint32_t v = 0;

	if (region_rw(c, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size, false))
		return UINT32_MAX;
	return v;
}

static int cfg_write(struct client *c, uint64_t off, size_t size, uint32_t v)
{
	return region_rw(c, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, size, true);
}

static uint32_t bar_read(struct client *c, uint64_t off)
{
	uint32_t v = UINT32_MAX;

	region_rw(c, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4, false);
	return v;
}

static void bar_write(struct client *c, uint64_t off, uint32_t v)
{
	region_rw(c, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4, true);
}

/*
 * edu's registers, either through the region (pread/pwrite) or through an
 * mmap of BAR0, so the same checks run on both paths.
 */
struct bar_io {
	struct client *c;
	volatile uint32_t *map;
};

static uint32_t io_rd(struct bar_io *io, uint64_t off)
{
	return io->map ? io->map[off / 4] : bar_read(io->c, off);
}

static void io_wr(struct bar_io *io, uint64_t off, uint32_t v)
{
	if (io->map)
		io->map[off / 4] = v;
	else
		bar_write(io->c, off, v);
}

/* Wait until (reg & mask) == 0; edu computes and copies asynchronously. */
static bool io_wait_clear(struct bar_io *io, uint64_t off, uint32_t mask)
{
	for (int i = 0; i < 5000; i++) {
		if (!(io_rd(io, off) & mask))
			return true;
		sleep_ms(1);
	}
	return false;
}

static bool is_edu(struct client *c)
{
	return c->vendor == EDU_VENDOR && c->devid == EDU_DEVICE;
}

/* ---- open / close ---------------------------------------------------- */

static int read_sysfs(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int open_group_path(struct client *c)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char link[PATH_MAX], path[PATH_MAX], *p;
	ssize_t n;
	int iommu;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", c->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		fprintf(stderr, "vfio-client: %s: no IOMMU group (%s): %s\n"
			"  is the device present and is an IOMMU enabled?\n",
			c->bdf, path, strerror(errno));
		return -1;
	}
	link[n] = '\0';
	p = strrchr(link, '/');

	c->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c->container < 0) {
		fprintf(stderr, "vfio-client: open /dev/vfio/vfio: %s (is vfio loaded?)\n",
			strerror(errno));
		return -1;
	}
	if (ioctl(c->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-client: unknown VFIO API version\n");
		return -1;
	}
	iommu = ioctl(c->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ?
		VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;

	snprintf(path, sizeof(path), "/dev/vfio/%s", p + 1);
	c->group = open(path, O_RDWR | O_CLOEXEC);
	if (c->group < 0) {
		fprintf(stderr, "vfio-client: %s: open %s: %s%s\n", c->bdf, path,
			strerror(errno), errno == ENOENT ?
			" (is the device bound to a vfio driver?)" :
			errno == EBUSY ? " (the group is open elsewhere)" : "");
		return -1;
	}
	if (XIOCTL(c, c->group, VFIO_GROUP_GET_STATUS, &status))
		return -1;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-client: %s: group %s is not viable: bind every device in it to vfio\n",
			c->bdf, p + 1);
		return -1;
	}
	if (XIOCTL(c, c->group, VFIO_GROUP_SET_CONTAINER, &c->container))
		return -1;
	if (ioctl(c->container, VFIO_SET_IOMMU, iommu) < 0) {
		fprintf(stderr, "vfio-client: %s: ioctl VFIO_SET_IOMMU: %s\n",
			c->bdf, strerror(errno));
		return -1;
	}
	c->device = ioctl(c->group, VFIO_GROUP_GET_DEVICE_FD, c->bdf);
	if (c->device < 0) {
		fprintf(stderr, "vfio-client: %s: ioctl VFIO_GROUP_GET_DEVICE_FD: %s\n",
			c->bdf, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_cdev_path(struct client *c)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .flags = 0 };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX], name[64] = "";
	FILE *ls;

	snprintf(path, sizeof(path), "ls /sys/bus/pci/devices/%s/vfio-dev 2>/dev/null",
		 c->bdf);
	ls = popen(path, "r");
	if (!ls || !fgets(name, sizeof(name), ls) || !name[0]) {
		if (ls)
			pclose(ls);
		fprintf(stderr, "vfio-client: %s: no vfio-dev cdev (kernel without CONFIG_VFIO_DEVICE_CDEV/IOMMUFD?)\n",
			c->bdf);
		return -1;
	}
	pclose(ls);
	name[strcspn(name, "\n")] = '\0';

	c->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (c->iommufd < 0) {
		fprintf(stderr, "vfio-client: open /dev/iommu: %s\n", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	c->device = open(path, O_RDWR | O_CLOEXEC);
	if (c->device < 0) {
		fprintf(stderr, "vfio-client: %s: open %s: %s\n", c->bdf, path,
			strerror(errno));
		return -1;
	}
	bind.iommufd = c->iommufd;
	if (XIOCTL(c, c->device, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -1;
	if (XIOCTL(c, c->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	c->ioas = alloc.out_ioas_id;
	attach.pt_id = c->ioas;
	if (XIOCTL(c, c->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -1;
	return 0;
}

static int client_open(struct client *c)
{
	int ret;

	c->container = c->group = c->iommufd = c->device = -1;
	ret = c->cdev ? open_cdev_path(c) : open_group_path(c);
	if (ret)
		return ret;

	c->info.argsz = sizeof(c->info);
	if (XIOCTL(c, c->device, VFIO_DEVICE_GET_INFO, &c->info))
		return -1;
	if (!(c->info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		fprintf(stderr, "vfio-client: %s: not a vfio-pci device\n", c->bdf);
		return -1;
	}
	for (unsigned int i = 0; i < VFIO_PCI_NUM_REGIONS && i < c->info.num_regions; i++) {
		c->region[i].argsz = sizeof(c->region[i]);
		c->region[i].index = i;
		/* Only VGA devices have the VGA region; the core says EINVAL. */
		if (i == VFIO_PCI_VGA_REGION_INDEX &&
		    ioctl(c->device, VFIO_DEVICE_GET_REGION_INFO, &c->region[i]) < 0 &&
		    errno == EINVAL) {
			c->region[i].size = 0;
			continue;
		}
		if (XIOCTL(c, c->device, VFIO_DEVICE_GET_REGION_INFO, &c->region[i]))
			return -1;
	}
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS && i < c->info.num_irqs; i++) {
		c->irq[i].argsz = sizeof(c->irq[i]);
		c->irq[i].index = i;
		/* The error interrupt exists only on PCI Express devices. */
		if (i == VFIO_PCI_ERR_IRQ_INDEX &&
		    ioctl(c->device, VFIO_DEVICE_GET_IRQ_INFO, &c->irq[i]) < 0 &&
		    errno == EINVAL) {
			c->irq[i].count = 0;
			continue;
		}
		if (XIOCTL(c, c->device, VFIO_DEVICE_GET_IRQ_INFO, &c->irq[i]))
			return -1;
	}
	c->vendor = cfg_read(c, PCI_VENDOR_ID, 2);
	c->devid = cfg_read(c, PCI_DEVICE_ID, 2);
	return 0;
}

static void client_close(struct client *c)
{
	if (c->device >= 0)
		close(c->device);
	if (c->group >= 0)
		close(c->group);
	if (c->container >= 0)
		close(c->container);
	if (c->iommufd >= 0)
		close(c->iommufd);
}

/* ---- checks ---------------------------------------------------------- */

static const char *const region_names[VFIO_PCI_NUM_REGIONS] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG", "VGA",
};
static const char *const irq_names[VFIO_PCI_NUM_IRQS] = {
	"INTX", "MSI", "MSIX", "ERR", "REQ",
};

static void check_info(struct client *c)
{
	char drv[PATH_MAX] = "?";
	char link[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", c->bdf);
	n = readlink(link, drv, sizeof(drv) - 1);
	if (n > 0) {
		drv[n] = '\0';
		fprintf(stderr, "vfio-client: %s: driver %s\n", c->bdf, strrchr(drv, '/') + 1);
	}
	fact("id", "%04x:%04x", c->vendor, c->devid);
	fact("flags", "%#x%s%s", c->info.flags,
	     c->info.flags & VFIO_DEVICE_FLAGS_RESET ? " reset" : "",
	     c->info.flags & VFIO_DEVICE_FLAGS_PCI ? " pci" : "");
	fact("regions", "%u", c->info.num_regions);
	fact("irqs", "%u", c->info.num_irqs);
	for (unsigned int i = 0; i < VFIO_PCI_NUM_REGIONS && i < c->info.num_regions; i++) {
		struct vfio_region_info *r = &c->region[i];

		if (!r->size)
			continue;
		fact(region_names[i], "size %#llx flags%s%s%s%s",
		     (unsigned long long)r->size,
		     r->flags & VFIO_REGION_INFO_FLAG_READ ? " read" : "",
		     r->flags & VFIO_REGION_INFO_FLAG_WRITE ? " write" : "",
		     r->flags & VFIO_REGION_INFO_FLAG_MMAP ? " mmap" : "",
		     r->flags & VFIO_REGION_INFO_FLAG_CAPS ? " caps" : "");
	}
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS && i < c->info.num_irqs; i++)
		fact(irq_names[i], "count %u flags %#x", c->irq[i].count, c->irq[i].flags);

	CHECK(c, c->region[VFIO_PCI_CONFIG_REGION_INDEX].size >= 256,
	      "info: config region is at least 256 bytes",
	      "size %llu", (unsigned long long)c->region[VFIO_PCI_CONFIG_REGION_INDEX].size);
	CHECK(c, c->vendor != 0xffff && c->vendor != 0, "info: config vendor id readable",
	      "vendor %#x", c->vendor);
}

static void check_config(struct client *c)
{
	uint64_t cfg_size = c->region[VFIO_PCI_CONFIG_REGION_INDEX].size;
	uint8_t hdr[64];
	uint32_t v, orig, bar, sz;
	unsigned int pos, n;

	for (unsigned int i = 0; i < sizeof(hdr); i += 4) {
		v = cfg_read(c, i, 4);
		memcpy(&hdr[i], &v, 4);
	}
	fact("config.class", "%02x%02x%02x rev %02x", hdr[PCI_CLASS_PROG + 2],
	     hdr[PCI_CLASS_PROG + 1], hdr[PCI_CLASS_PROG], hdr[PCI_REVISION_ID]);
	fact("config.header_type", "%#x", hdr[PCI_HEADER_TYPE]);
	fact("config.status", "%#x", hdr[PCI_STATUS] | hdr[PCI_STATUS + 1] << 8);
	fact("config.interrupt_pin", "%u", hdr[PCI_INTERRUPT_PIN]);
	for (unsigned int i = 0; i < 6; i++) {
		memcpy(&bar, &hdr[PCI_BASE_ADDRESS_0 + 4 * i], 4);
		fact("config.bar", "%u flags %#x", i, bar & 0xf);
	}

	/* Byte, word and dword reads of the same bytes agree. */
	v = cfg_read(c, PCI_VENDOR_ID, 4);
	CHECK(c, (v & 0xffff) == c->vendor && cfg_read(c, 0, 1) == (c->vendor & 0xff) &&
	      cfg_read(c, 1, 1) == (uint32_t)(c->vendor >> 8),
	      "config: 1/2/4-byte reads agree", "dword %#x", v);

	/* Standard capability list, as the user sees it (virtualized). */
	n = 0;
	if (hdr[PCI_STATUS] & PCI_STATUS_CAP_LIST) {
		pos = cfg_read(c, PCI_CAPABILITY_LIST, 1) & ~3u;
		while (pos >= 0x40 && n < 48) {
			uint32_t id = cfg_read(c, pos, 1);

			fact("config.cap", "%#04x at %#04x", id, pos);
			pos = cfg_read(c, pos + 1, 1) & ~3u;
			n++;
		}
	}
	CHECK(c, n < 48, "config: capability list terminates", "loop in list");

	if (cfg_size > 256) {
		pos = 0x100;
		n = 0;
		while (pos && n < 64) {
			uint32_t h = cfg_read(c, pos, 4);

			if (!h || h == UINT32_MAX)
				break;
			fact("config.ext_cap", "%#06x at %#05x", h & 0xffff, pos);
			pos = h >> 20;
			n++;
		}
	}

	/* Read-only: the vendor id ignores writes. */
	cfg_write(c, PCI_VENDOR_ID, 2, 0xffff ^ c->vendor);
	v = cfg_read(c, PCI_VENDOR_ID, 2);
	CHECK(c, v == c->vendor, "config: vendor id is read-only", "read %#x after write", v);

	/* Writable, virtualized: interrupt line. */
	orig = cfg_read(c, PCI_INTERRUPT_LINE, 1);
	cfg_write(c, PCI_INTERRUPT_LINE, 1, 0x5a);
	v = cfg_read(c, PCI_INTERRUPT_LINE, 1);
	cfg_write(c, PCI_INTERRUPT_LINE, 1, orig);
	CHECK(c, v == 0x5a, "config: interrupt line is writable", "read %#x", v);

	/* Writable bits of the command register stick and can be cleared. */
	orig = cfg_read(c, PCI_COMMAND, 2);
	cfg_write(c, PCI_COMMAND, 2, orig | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	v = cfg_read(c, PCI_COMMAND, 2);
	CHECK(c, (v & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) ==
	      (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
	      "config: command memory+master set", "read %#x", v);
	cfg_write(c, PCI_COMMAND, 2, orig & ~PCI_COMMAND_MASTER);
	v = cfg_read(c, PCI_COMMAND, 2);
	CHECK(c, !(v & PCI_COMMAND_MASTER), "config: command master cleared", "read %#x", v);
	cfg_write(c, PCI_COMMAND, 2, orig);

	/* BAR sizing through the virtualized BAR matches the region size. */
	if (c->region[VFIO_PCI_BAR0_REGION_INDEX].size) {
		orig = cfg_read(c, PCI_BASE_ADDRESS_0, 4);
		cfg_write(c, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
		sz = cfg_read(c, PCI_BASE_ADDRESS_0, 4);
		cfg_write(c, PCI_BASE_ADDRESS_0, 4, orig);
		sz = ~(sz & PCI_BASE_ADDRESS_MEM_MASK) + 1;
		fact("config.bar0_sizing", "%#x", sz);
		CHECK(c, sz == c->region[VFIO_PCI_BAR0_REGION_INDEX].size ||
		      (orig & PCI_BASE_ADDRESS_MEM_TYPE_64),
		      "config: BAR0 sizing matches region size", "sized %#x, region %#llx", sz,
		      (unsigned long long)c->region[VFIO_PCI_BAR0_REGION_INDEX].size);
		v = cfg_read(c, PCI_BASE_ADDRESS_0, 4);
		CHECK(c, v == orig, "config: BAR0 restored", "read %#x, want %#x", v, orig);
	}

	/* Out of range access fails instead of wrapping. */
	v = 0;
	errno = 0;
	CHECK(c, pread(c->device, &v, 4,
		       c->region[VFIO_PCI_CONFIG_REGION_INDEX].offset + cfg_size) <= 0,
	      "config: read past the end fails", "read %#x", v);
}

/* The edu register checks, through whichever path io uses. */
static void edu_bar_checks(struct client *c, struct bar_io *io, const char *path)
{
	uint32_t v, want;
	char name[128];

	v = io_rd(io, EDU_REG_IDENT);
	fact("edu.ident", "%#010x", v);
	snprintf(name, sizeof(name), "%s: ident is 0x??0000ed", path);
	CHECK(c, (v & 0xffff) == 0xed, name, "read %#x", v);

	io_wr(io, EDU_REG_LIVENESS, 0x12345678);
	v = io_rd(io, EDU_REG_LIVENESS);
	snprintf(name, sizeof(name), "%s: liveness returns the inverse", path);
	CHECK(c, v == ~0x12345678u, name, "read %#x", v);

	io_wr(io, EDU_REG_STATUS, 0);
	io_wr(io, EDU_REG_FACTORIAL, 10);
	snprintf(name, sizeof(name), "%s: factorial completes", path);
	CHECK(c, io_wait_clear(io, EDU_REG_STATUS, EDU_STATUS_COMPUTING), name,
	      "status stuck at %#x", io_rd(io, EDU_REG_STATUS));
	v = io_rd(io, EDU_REG_FACTORIAL);
	want = 3628800;
	snprintf(name, sizeof(name), "%s: factorial(10)", path);
	CHECK(c, v == want, name, "read %u, want %u", v, want);
}

static void check_bar(struct client *c)
{
	struct bar_io io = { .c = c };
	uint32_t v;

	if (!c->region[VFIO_PCI_BAR0_REGION_INDEX].size) {
		fact("bar", "no BAR0");
		return;
	}
	if (is_edu(c)) {
		edu_bar_checks(c, &io, "bar");
		return;
	}
	/* Any other device: BAR0 is readable through the region. */
	v = 0;
	CHECK(c, region_rw(c, VFIO_PCI_BAR0_REGION_INDEX, 0, &v, 4, false) == 0,
	      "bar: BAR0 dword read", "pread failed");
}

static void check_mmap(struct client *c)
{
	struct vfio_region_info *r = &c->region[VFIO_PCI_BAR0_REGION_INDEX];
	struct bar_io io = { .c = c };
	void *map;

	if (!r->size || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		fact("mmap", "BAR0 not mmap-able");
		return;
	}
	map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   c->device, r->offset);
	CHECK(c, map != MAP_FAILED, "mmap: BAR0 maps", "mmap: %s", strerror(errno));
	if (map == MAP_FAILED)
		return;
	io.map = map;
	if (is_edu(c))
		edu_bar_checks(c, &io, "mmap");
	else
		fact("mmap.bar0_dword0", "%s", "mapped");
	CHECK(c, munmap(map, r->size) == 0, "mmap: BAR0 unmaps", "%s", strerror(errno));
}

static int dma_map(struct client *c, void *buf, uint64_t iova, size_t len)
{
	if (c->cdev) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = c->ioas,
			.user_va = (uintptr_t)buf,
			.length = len,
			.iova = iova,
		};
		return XIOCTL(c, c->iommufd, IOMMU_IOAS_MAP, &map);
	} else {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf,
			.iova = iova,
			.size = len,
		};
		return XIOCTL(c, c->container, VFIO_IOMMU_MAP_DMA, &map);
	}
}

static int dma_unmap(struct client *c, uint64_t iova, size_t len)
{
	if (c->cdev) {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap), .ioas_id = c->ioas,
			.iova = iova, .length = len,
		};
		return XIOCTL(c, c->iommufd, IOMMU_IOAS_UNMAP, &unmap);
	} else {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = iova, .size = len,
		};
		return XIOCTL(c, c->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	}
}

static bool edu_dma(struct bar_io *io, uint32_t src, uint32_t dst, uint32_t cmd)
{
	io_wr(io, EDU_REG_DMA_SRC, src);
	io_wr(io, EDU_REG_DMA_DST, dst);
	io_wr(io, EDU_REG_DMA_COUNT, EDU_DMA_BUF_SIZE);
	io_wr(io, EDU_REG_DMA_CMD, cmd | EDU_DMA_START);
	return io_wait_clear(io, EDU_REG_DMA_CMD, EDU_DMA_START);
}

static void check_dma(struct client *c)
{
	struct bar_io io = { .c = c };
	uint8_t *out, *in;
	uint32_t cmd;
	bool ok;

	if (!is_edu(c)) {
		fact("dma", "not an edu device");
		return;
	}
	out = mmap(NULL, EDU_DMA_BUF_SIZE * 2, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		fail(c, "dma: buffer: %s", strerror(errno));
		return;
	}
	in = out + EDU_DMA_BUF_SIZE;
	for (int i = 0; i < EDU_DMA_BUF_SIZE; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	memset(in, 0, EDU_DMA_BUF_SIZE);

	CHECK(c, dma_map(c, out, CLIENT_IOVA_OUT, EDU_DMA_BUF_SIZE) == 0 &&
	      dma_map(c, in, CLIENT_IOVA_IN, EDU_DMA_BUF_SIZE) == 0,
	      "dma: map two buffers", "map failed");

	/* Without bus mastering QEMU drops the device's DMA silently. */
	cmd = cfg_read(c, PCI_COMMAND, 2);
	cfg_write(c, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	ok = edu_dma(&io, CLIENT_IOVA_OUT, EDU_DMA_BUF, 0);
	CHECK(c, ok, "dma: RAM to device completes", "command stuck");
	ok = edu_dma(&io, EDU_DMA_BUF, CLIENT_IOVA_IN, EDU_DMA_TO_RAM);
	CHECK(c, ok, "dma: device to RAM completes", "command stuck");
	CHECK(c, memcmp(out, in, EDU_DMA_BUF_SIZE) == 0,
	      "dma: round trip returns the same bytes", "first bytes %02x %02x %02x",
	      in[0], in[1], in[2]);

	cfg_write(c, PCI_COMMAND, 2, cmd);
	CHECK(c, dma_unmap(c, CLIENT_IOVA_OUT, EDU_DMA_BUF_SIZE) == 0 &&
	      dma_unmap(c, CLIENT_IOVA_IN, EDU_DMA_BUF_SIZE) == 0,
	      "dma: unmap", "unmap failed");
	munmap(out, EDU_DMA_BUF_SIZE * 2);
}

static int set_irq_eventfd(struct client *c, unsigned int index, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(int));
	return XIOCTL(c, c->device, VFIO_DEVICE_SET_IRQS, set);
}

static int disable_irq(struct client *c, unsigned int index)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return XIOCTL(c, c->device, VFIO_DEVICE_SET_IRQS, &set);
}

static int unmask_intx(struct client *c)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
	};

	return XIOCTL(c, c->device, VFIO_DEVICE_SET_IRQS, &set);
}

/* Count of interrupts signalled on efd within timeout_ms (0: none). */
static uint64_t wait_eventfd(int efd, int timeout_ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&pfd, 1, timeout_ms) == 1 && read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

/* Raise one edu interrupt on index (MSI or INTx) and see the eventfd fire. */
static void edu_irq_check(struct client *c, unsigned int index, const char *kind)
{
	struct bar_io io = { .c = c };
	uint32_t cmd, st;
	uint64_t n;
	char name[96];
	int efd;

	if (c->irq[index].count == 0) {
		fact(kind, "not supported");
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		fail(c, "%s: eventfd: %s", kind, strerror(errno));
		return;
	}
	cmd = cfg_read(c, PCI_COMMAND, 2);
	/* MSI needs bus mastering; INTx needs it not disabled. */
	cfg_write(c, PCI_COMMAND, 2, (cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) &
		  ~PCI_COMMAND_INTX_DISABLE);

	snprintf(name, sizeof(name), "%s: enable with an eventfd", kind);
	CHECK(c, set_irq_eventfd(c, index, efd) == 0, name, "SET_IRQS failed");

	io_wr(&io, EDU_REG_IRQ_RAISE, 0x1234);
	st = io_rd(&io, EDU_REG_IRQ_STATUS);
	snprintf(name, sizeof(name), "%s: interrupt status latched", kind);
	CHECK(c, st == 0x1234, name, "status %#x", st);
	n = wait_eventfd(efd, 5000);
	snprintf(name, sizeof(name), "%s: eventfd fires once", kind);
	CHECK(c, n == 1, name, "counter %" PRIu64, n);
	io_wr(&io, EDU_REG_IRQ_ACK, 0x1234);
	st = io_rd(&io, EDU_REG_IRQ_STATUS);
	snprintf(name, sizeof(name), "%s: acknowledged", kind);
	CHECK(c, st == 0, name, "status %#x", st);
	if (index == VFIO_PCI_INTX_IRQ_INDEX)
		unmask_intx(c);

	/* A second interrupt, from a finished factorial. */
	io_wr(&io, EDU_REG_STATUS, 0x80);
	io_wr(&io, EDU_REG_FACTORIAL, 5);
	n = wait_eventfd(efd, 5000);
	snprintf(name, sizeof(name), "%s: factorial completion interrupt", kind);
	CHECK(c, n == 1, name, "counter %" PRIu64, n);
	st = io_rd(&io, EDU_REG_IRQ_STATUS);
	io_wr(&io, EDU_REG_IRQ_ACK, st);
	io_wr(&io, EDU_REG_STATUS, 0);
	if (index == VFIO_PCI_INTX_IRQ_INDEX)
		unmask_intx(c);

	snprintf(name, sizeof(name), "%s: disable", kind);
	CHECK(c, disable_irq(c, index) == 0, name, "SET_IRQS failed");
	/* Nothing arrives once disabled. */
	io_wr(&io, EDU_REG_IRQ_RAISE, 0x1);
	n = wait_eventfd(efd, 200);
	io_wr(&io, EDU_REG_IRQ_ACK, 0x1);
	snprintf(name, sizeof(name), "%s: silent after disable", kind);
	CHECK(c, n == 0, name, "counter %" PRIu64, n);

	cfg_write(c, PCI_COMMAND, 2, cmd);
	close(efd);
}

static void check_msi(struct client *c)
{
	if (!is_edu(c)) {
		fact("msi", "not an edu device");
		return;
	}
	edu_irq_check(c, VFIO_PCI_MSI_IRQ_INDEX, "msi");
}

static void check_intx(struct client *c)
{
	if (!is_edu(c)) {
		fact("intx", "not an edu device");
		return;
	}
	edu_irq_check(c, VFIO_PCI_INTX_IRQ_INDEX, "intx");
}

static void check_reset(struct client *c)
{
	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof(hri) };
	int ret, err;

	ret = ioctl(c->device, VFIO_DEVICE_RESET);
	err = errno;
	if (c->info.flags & VFIO_DEVICE_FLAGS_RESET)
		CHECK(c, ret == 0, "reset: VFIO_DEVICE_RESET succeeds", "%s", strerror(err));
	else
		CHECK(c, ret < 0 && err == EINVAL,
		      "reset: VFIO_DEVICE_RESET refused without reset support",
		      "ret %d: %s", ret, strerror(err));

	ret = ioctl(c->device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri);
	fact("reset.hot_reset_info", "%s", ret == 0 || errno == ENOSPC ? "available" :
	     strerror(errno));

	/* The device still answers after a reset. */
	CHECK(c, cfg_read(c, PCI_VENDOR_ID, 2) == c->vendor,
	      "reset: config readable afterwards", "vendor changed");
	if (is_edu(c)) {
		struct bar_io io = { .c = c };

		io_wr(&io, EDU_REG_LIVENESS, 0);
		CHECK(c, io_rd(&io, EDU_REG_LIVENESS) == ~0u,
		      "reset: BAR0 alive afterwards", "liveness wrong");
	}
}

/*
 * Hold the device open until standard input reaches end of file, so that a
 * test can do things (unbind, rmmod) while a user has the device.
 */
static void check_hold(struct client *c)
{
	char buf[64];

	fact("hold", "open; waiting for end of input");
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	fact("hold", "released");
	(void)c;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Cost per access of the hot paths.  Under QEMU's -icount shift=0 the guest
 * clock advances one nanosecond per guest instruction, so these numbers
 * are instructions per access there, and wall-clock nanoseconds elsewhere.
 */
#define BENCH_LOOPS 20000
#define BENCH_IRQS 2000

/*
 * An interrupt round trip: edu raises MSI (a BAR write), the eventfd
 * fires, the handler's work is acknowledged (a BAR write).  The device
 * and the user's part are the same on both drivers; what differs is
 * delivery.
 */
static void bench_msi(struct client *c)
{
	struct pollfd pfd = { .events = POLLIN };
	struct bar_io io = { .c = c };
	uint64_t t0, t1, n;
	uint32_t cmd;
	int got = 0;

	pfd.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pfd.fd < 0)
		return;
	cmd = cfg_read(c, PCI_COMMAND, 2);
	cfg_write(c, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (set_irq_eventfd(c, VFIO_PCI_MSI_IRQ_INDEX, pfd.fd))
		goto out;
	t0 = now_ns();
	for (int i = 0; i < BENCH_IRQS; i++) {
		io_wr(&io, EDU_REG_IRQ_RAISE, 1);
		if (poll(&pfd, 1, 1000) == 1 && read(pfd.fd, &n, sizeof(n)) == sizeof(n))
			got++;
		io_wr(&io, EDU_REG_IRQ_ACK, 1);
	}
	t1 = now_ns();
	if (got == BENCH_IRQS)
		fact("bench.msi_roundtrip", "%.1f", (double)(t1 - t0) / BENCH_IRQS);
	else
		fprintf(stderr, "vfio-client: bench: %d of %d interrupts arrived\n", got, BENCH_IRQS);

	/*
	 * VFIO_DEVICE_SET_IRQS itself, without the cost of allocating
	 * vectors: a loopback trigger of the armed vector, which goes the
	 * whole way (fetch, check, policy, the core's handler).
	 */
	t0 = now_ns();
	for (int i = 0; i < BENCH_IRQS; i++) {
		struct vfio_irq_set trig = {
			.argsz = sizeof(trig),
			.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSI_IRQ_INDEX,
			.count = 1,
		};

		ioctl(c->device, VFIO_DEVICE_SET_IRQS, &trig);
	}
	t1 = now_ns();
	fact("bench.set_irqs_trigger", "%.1f", (double)(t1 - t0) / BENCH_IRQS);
	disable_irq(c, VFIO_PCI_MSI_IRQ_INDEX);
out:
	cfg_write(c, PCI_COMMAND, 2, cmd);
	close(pfd.fd);
}

static void check_bench(struct client *c)
{
	uint64_t t0, t1, off = c->region[VFIO_PCI_CONFIG_REGION_INDEX].offset;
	uint32_t v;

	for (int i = 0; i < 100; i++)		/* warm caches and TLB */
		pread(c->device, &v, 4, off);
	t0 = now_ns();
	for (int i = 0; i < BENCH_LOOPS; i++)
		pread(c->device, &v, 4, off);
	t1 = now_ns();
	fact("bench.config_read_4", "%.1f", (double)(t1 - t0) / BENCH_LOOPS);

	t0 = now_ns();
	for (int i = 0; i < BENCH_LOOPS; i++)
		pwrite(c->device, &v, 1, off + PCI_INTERRUPT_LINE);
	t1 = now_ns();
	fact("bench.config_write_1", "%.1f", (double)(t1 - t0) / BENCH_LOOPS);

	if (c->region[VFIO_PCI_BAR0_REGION_INDEX].size) {
		off = c->region[VFIO_PCI_BAR0_REGION_INDEX].offset;
		t0 = now_ns();
		for (int i = 0; i < BENCH_LOOPS; i++)
			pread(c->device, &v, 4, off);
		t1 = now_ns();
		fact("bench.bar_read_4", "%.1f", (double)(t1 - t0) / BENCH_LOOPS);
	}

	t0 = now_ns();
	for (int i = 0; i < BENCH_LOOPS; i++) {
		struct vfio_device_info info = { .argsz = sizeof(info) };

		ioctl(c->device, VFIO_DEVICE_GET_INFO, &info);
	}
	t1 = now_ns();
	fact("bench.ioctl_get_info", "%.1f", (double)(t1 - t0) / BENCH_LOOPS);

	if (is_edu(c))
		bench_msi(c);
}

static const struct {
	const char *name;
	void (*fn)(struct client *c);
} checks[] = {
	{ "info", check_info },
	{ "config", check_config },
	{ "bar", check_bar },
	{ "mmap", check_mmap },
	{ "dma", check_dma },
	{ "msi", check_msi },
	{ "intx", check_intx },
	{ "reset", check_reset },
	/* not part of "all": */
	{ "hold", check_hold },
	{ "bench", check_bench },
};

/* ---- single operations, for scripts ------------------------------------ */

/*
 * One operation named on the command line, reported as one line: the
 * value it produced, or the errno it failed with.  Tests use these to make
 * exact accesses whose effect they check from outside (traces, policies).
 *
 *   cfg-read:OFF:SIZE  cfg-write:OFF:SIZE:VAL  bar-read:OFF  bar-write:OFF:VAL
 *   sysfs-cfg:OFF:SIZE (the device's own config bytes, read through sysfs)
 *   bar-mmap  region-flags  msi-on  msi-off  do-reset
 */
static bool is_op(const char *arg)
{
	static const char *const ops[] = {
		"cfg-read:", "cfg-write:", "bar-read:", "bar-write:", "sysfs-cfg:",
	};
	static const char *const words[] = {
		"bar-mmap", "region-flags", "msi-on", "msi-off", "do-reset", "mig-flags",
		"msix-count",
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(arg, ops[i], strlen(ops[i])))
			return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(arg, words[i]))
			return true;
	return false;
}

static void op_result(struct client *c, const char *op, int ok, uint64_t v)
{
	if (ok)
		printf("  %s: %#" PRIx64 "\n", op, v);
	else
		printf("  %s: error %s\n", op, strerrorname_np(errno) ?: strerror(errno));
	if (!ok)
		c->failed++;
}

static void do_op(struct client *c, const char *op)
{
	uint64_t off = 0, size = 0, val = 0, v = 0;
	struct vfio_region_info *r;
	ssize_t n;
	void *map;
	int efd;

	if (sscanf(op, "cfg-read:%" SCNi64 ":%" SCNi64, &off, &size) == 2) {
		n = pread(c->device, &v, size, c->region[VFIO_PCI_CONFIG_REGION_INDEX].offset + off);
		op_result(c, op, n == (ssize_t)size, v);
	} else if (sscanf(op, "cfg-write:%" SCNi64 ":%" SCNi64 ":%" SCNi64, &off, &size, &val) == 3) {
		n = pwrite(c->device, &val, size, c->region[VFIO_PCI_CONFIG_REGION_INDEX].offset + off);
		op_result(c, op, n == (ssize_t)size, val);
	} else if (sscanf(op, "sysfs-cfg:%" SCNi64 ":%" SCNi64, &off, &size) == 2) {
		/* What the device holds, past vfio's virtualization, while open. */
		char path[128];
		int fd;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", c->bdf);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 || size > sizeof(v) ? -1 : pread(fd, &v, size, off);
		if (fd >= 0)
			close(fd);
		op_result(c, op, n == (ssize_t)size, v);
	} else if (sscanf(op, "bar-read:%" SCNi64, &off) == 1) {
		n = pread(c->device, &v, 4, c->region[VFIO_PCI_BAR0_REGION_INDEX].offset + off);
		op_result(c, op, n == 4, v);
	} else if (sscanf(op, "bar-write:%" SCNi64 ":%" SCNi64, &off, &val) == 2) {
		n = pwrite(c->device, &val, 4, c->region[VFIO_PCI_BAR0_REGION_INDEX].offset + off);
		op_result(c, op, n == 4, val);
	} else if (!strcmp(op, "bar-mmap")) {
		r = &c->region[VFIO_PCI_BAR0_REGION_INDEX];
		map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->device, r->offset);
		op_result(c, op, map != MAP_FAILED, 0);
		if (map != MAP_FAILED)
			munmap(map, r->size);
	} else if (!strcmp(op, "mig-flags")) {
		/* Does the device advertise migration (VFIO_DEVICE_FEATURE_MIGRATION)? */
		struct {
			struct vfio_device_feature f;
			struct vfio_device_feature_migration m;
		} q = {
			.f = {
				.argsz = sizeof(q),
				.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
			},
		};

		n = ioctl(c->device, VFIO_DEVICE_FEATURE, &q);
		op_result(c, op, n == 0, q.m.flags);
	} else if (!strcmp(op, "msix-count")) {
		/* MSI-X vectors as VFIO_DEVICE_GET_IRQ_INFO reports them. */
		op_result(c, op, 1, c->irq[VFIO_PCI_MSIX_IRQ_INDEX].count);
	} else if (!strcmp(op, "region-flags")) {
		printf("  %s: %#x%s\n", op, c->region[VFIO_PCI_BAR0_REGION_INDEX].flags,
		       c->region[VFIO_PCI_BAR0_REGION_INDEX].flags & VFIO_REGION_INFO_FLAG_MMAP ?
		       " mmap" : " no-mmap");
	} else if (!strcmp(op, "msi-on")) {
		efd = eventfd(0, EFD_CLOEXEC);
		op_result(c, op, set_irq_eventfd(c, VFIO_PCI_MSI_IRQ_INDEX, efd) == 0, 0);
	} else if (!strcmp(op, "msi-off")) {
		op_result(c, op, disable_irq(c, VFIO_PCI_MSI_IRQ_INDEX) == 0, 0);
	} else if (!strcmp(op, "do-reset")) {
		op_result(c, op, ioctl(c->device, VFIO_DEVICE_RESET) == 0, 0);
	} else {
		printf("  %s: error bad operation\n", op);
		c->failed++;
	}
}

/* ---- command line ---------------------------------------------------- */

const char *argp_program_version = "vfio-client 0.1";
static const char doc[] =
"Open a PCI device through VFIO and exercise it.\v"
"CHECKs: info config bar mmap dma msi intx reset, or all (the default);\n"
"hold keeps the device open until standard input closes; bench times\n"
"config, BAR and ioctl paths (ns per access; guest instructions under\n"
"QEMU -icount shift=0).\n"
"Single operations, one result line each (value, or the errno name):\n"
"cfg-read:OFF:SIZE cfg-write:OFF:SIZE:VAL bar-read:OFF bar-write:OFF:VAL\n"
"sysfs-cfg:OFF:SIZE (the device's config through sysfs, while open) mig-flags\n"
"bar-mmap region-flags msi-on msi-off do-reset mig-flags msix-count\n"
"Output: facts indented by two spaces, and one PASS:/FAIL: line per check.\n"
"Exit status: 0 when every check passed, 1 when one failed, 2 when the\n"
"device could not be opened.\n"
"\n"
"EXAMPLES:\n"
"    vfio-client 0000:00:04.0              # every check on an edu device\n"
"    vfio-client 0000:00:04.0 config bar   # config space and BAR0 only\n"
"    vfio-client 0000:00:04.0 cfg-read:0x3c:1 bar-write:4:0x1\n"
"    vfio-client --cdev 0000:00:04.0 dma   # through iommufd and the cdev\n";

static const struct argp_option opts[] = {
	{ "cdev", 'c', NULL, 0, "Open through /dev/vfio/devices and iommufd", 0 },
	{ "verbose", 'v', NULL, 0, "Say more on stderr", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'c':
		env.cdev = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		if (!env.bdf) {
			env.bdf = arg;
			break;
		}
		env.checks = &state->argv[state->next - 1];
		env.nchecks = state->argc - state->next + 1;
		state->next = state->argc;
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

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "BDF [CHECK...]",
		.doc = doc,
	};
	static char *all[] = { "all" };
	struct client c = { 0 };
	char buf[64];
	int err;

	/* Bad usage exits 2, as the docs say; argp would say 64. */
	argp_err_exit_status = 2;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	if (!env.nchecks) {
		env.checks = all;
		env.nchecks = 1;
	}
	for (int i = 0; i < env.nchecks; i++) {
		bool known = !strcmp(env.checks[i], "all");

		for (size_t j = 0; j < sizeof(checks) / sizeof(checks[0]); j++)
			known |= !strcmp(env.checks[i], checks[j].name);
		known |= is_op(env.checks[i]);
		if (!known) {
			fprintf(stderr, "vfio-client: unknown check '%s' (see --help)\n",
				env.checks[i]);
			return 2;
		}
	}
	if (read_sysfs(env.bdf, "vendor", buf, sizeof(buf))) {
		fprintf(stderr, "vfio-client: %s: no such PCI device (see /sys/bus/pci/devices)\n",
			env.bdf);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	c.bdf = env.bdf;
	c.cdev = env.cdev;
	if (client_open(&c)) {
		client_close(&c);
		return 2;
	}
	for (int i = 0; i < env.nchecks; i++) {
		if (is_op(env.checks[i])) {
			do_op(&c, env.checks[i]);
			continue;
		}
		for (size_t j = 0; j < sizeof(checks) / sizeof(checks[0]); j++) {
			bool all = !strcmp(env.checks[i], "all");

			if (all ? checks[j].fn == check_hold || checks[j].fn == check_bench :
			    strcmp(env.checks[i], checks[j].name))
				continue;
			checks[j].fn(&c);
		}
	}
	client_close(&c);
	if (env.verbose)
		fprintf(stderr, "vfio-client: %s: %d passed, %d failed\n", c.bdf,
			c.passed, c.failed);
	return c.failed ? 1 : 0;
}
