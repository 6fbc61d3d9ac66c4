// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_exporter's formatting, sysfs reading, collectors and argument
 * parsing, checked on the build machine: the test links loader/exporter.c
 * and libvfiobpf, with sysfs pointed at a tree it makes.  Nothing is
 * loaded; the only BPF calls are on closed map fds (a failing collector).
 * Prints "PASS: ..." / "FAIL: ..." lines; exits 1 on a failure.  Run from
 * the top of the tree (it writes under build/).  The HTTP server runs too,
 * on a free loopback port, against idle connections: its index page (no
 * BPF behind it) must still be served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "device.h"
#include "exporter.h"

#define SYSFS_ROOT	"build/exporter-unit.sysfs"
#define SYSFS_PCI	SYSFS_ROOT "/bus/pci"
#define DRIVER_NAME	VFB_DRIVER

static int failures;

static void verdict(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	failures += !ok;
}

static void expect_str(const char *what, const char *got, const char *want)
{
	verdict(!strcmp(got, want), what);
	if (strcmp(got, want))
		printf("  got:  [%s]\n  want: [%s]\n", got, want);
}

static void page_reset(struct page *p)
{
	p->len = 0;
	if (p->buf)
		p->buf[0] = '\0';
}

static void formatting(void)
{
	struct page p = {};

	put_series(&p, "vfio_x", "bdf", "0000:00:04.0", "v", "a\\b\"c\nd", "e", "", NULL);
	put(&p, "1\n");
	expect_str("label values: backslash, quote and newline escaped; empty kept", p.buf,
		   "vfio_x{bdf=\"0000:00:04.0\",v=\"a\\\\b\\\"c\\nd\",e=\"\"} 1\n");
	page_reset(&p);
	put_series(&p, "vfio_y", NULL);
	put(&p, "0.5\n");
	expect_str("a series without labels has no braces", p.buf, "vfio_y 0.5\n");
	page_reset(&p);
	put_family(&p, "vfio_z_total", "counter", "Zs.");
	expect_str("HELP then TYPE", p.buf,
		   "# HELP vfio_z_total Zs.\n# TYPE vfio_z_total counter\n");
	{
		char le[32];

		le_seconds(1ULL << 10, le, sizeof(le));
		expect_str("le of the first bucket: 2^10 ns exactly", le, "0.000001024");
		le_seconds(1ULL << 30, le, sizeof(le));
		expect_str("le of the last bucket: 2^30 ns exactly", le, "1.073741824");
	}
	page_reset(&p);
	for (int i = 0; i < 5000; i++)
		put(&p, "%04d\n", i);
	verdict(!p.failed && p.len == 5000 * 5 && !strncmp(p.buf + 4999 * 5, "4999\n", 5),
		"the page grows past its first buffer intact");
	free(p.buf);
}

static void scrape_page(void)
{
	struct scrape s = {};
	struct page p = {};
	struct device *d;
	struct vfb_delivery dl[2] = {
		{ .v = { .sbdf = 0x20, .index = 2, .vector = 3 }, .n = 7 },
		{ .v = { .sbdf = 0x20, .index = 1, .vector = 0 }, .n = 2 },
	};

	/* Added out of order: the page is sorted by device. */
	d = device_of(&s, 0x28);	/* 0000:00:05.0, counted, unbound since */
	d->ops[VFT_CONFIG_READ].events = 3;
	d = device_of(&s, 0x20);	/* 0000:00:04.0, bound */
	d->bound = true;
	d->dev.vendor = 0x1234;
	d->dev.device = 0x11e8;
	strcpy(d->dev.driver, DRIVER_NAME);
	d->ops[VFT_IOCTL].events = 15;
	d->ops[VFT_IOCTL].errors = 2;
	d->ops[VFT_IRQ].events = 9;	/* not an operation: not exported */
	verdict(device_of(&s, 0x20) == d && s.ndevs == 2, "device_of finds a device again");
	s.irqs = dl;
	s.nirqs = 2;
	put_scrape(&p, &s);
	verdict(strstr(p.buf, "vfio_device_info{bdf=\"0000:00:04.0\",vendor=\"1234\","
			"device=\"11e8\",driver=\"vfio-pci-bpf\",pf=\"\",vf=\"\",mode=\"module\"} 1\n") != NULL,
		"device_info of the bound device");
	verdict(!strstr(p.buf, "vfio_device_info{bdf=\"0000:00:05.0\""),
		"no device_info for the unbound device");
	verdict(strstr(p.buf, "vfio_operations_total{bdf=\"0000:00:05.0\",op=\"config_read\"} 3\n") != NULL,
		"the unbound device keeps its counts");
	verdict(strstr(p.buf, "vfio_operations_total{bdf=\"0000:00:04.0\",op=\"ioctl\"} 15\n") &&
		strstr(p.buf, "vfio_operation_errors_total{bdf=\"0000:00:04.0\",op=\"ioctl\"} 2\n") &&
		strstr(p.buf, "vfio_operations_total{bdf=\"0000:00:04.0\",op=\"mig_data\"} 0\n"),
		"operations and errors, zeros included");
	verdict(!strstr(p.buf, "op=\"irq\"") && !strstr(p.buf, "op=\"irq_vector\""),
		"irq and irq_vector are not operations");
	{
		/* Both there, first things first (a missing one fails: no NULL < x). */
		const char *a = strstr(p.buf, "vfio_operations_total{bdf=\"0000:00:04.0\",op=\"open\"}");
		const char *b = strstr(p.buf, "vfio_operations_total{bdf=\"0000:00:05.0\",op=\"open\"}");

		verdict(a && b && a < b, "devices in BDF order");
	}
	verdict(strstr(p.buf, "vfio_interrupts_total{bdf=\"0000:00:04.0\",index=\"MSI\",vector=\"0\"} 2\n") &&
		strstr(p.buf, "vfio_interrupts_total{bdf=\"0000:00:04.0\",index=\"MSIX\",vector=\"3\"} 7\n") &&
		strstr(p.buf, "index=\"MSI\"") < strstr(p.buf, "index=\"MSIX\""),
		"interrupts by index name, in index order");
	verdict(strstr(p.buf, "vfio_exporter_collector_success{collector=\"sysfs\"} 1\n") &&
		strstr(p.buf, "vfio_exporter_collector_success{collector=\"counts\"} 1\n") &&
		strstr(p.buf, "vfio_exporter_collector_success{collector=\"interrupts\"} 1\n") &&
		strstr(p.buf, "vfio_exporter_collector_success{collector=\"latency\"} 1\n"),
		"every collector succeeded: collector_success 1 each");
	{
		int n = 0;

		for (char *l = p.buf; (l = strstr(l, "\nvfio_operations_total{")); l++)
			n++;
		verdict(n == 24, "12 operations for each of 2 devices");
	}
	free(p.buf);
	free(s.devs);
}

static void mkfile(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * Collectors fail one by one, the page stays: counters that cannot be read
 * (closed fds) drop the operations, interrupts and latency families and say
 * 0 for them; the sysfs device list is still there.  Then sysfs itself
 * fails (its driver directory is a file).
 */
static void collectors(void)
{
	struct page p = {};
	int err;

	counters.counts = counters.deliveries = counters.hists = counters.decisions = -1;
	counters.mig_devs = counters.mig_arcs = counters.mig_downtime = counters.cfg_touch = -1;
	err = build_page(&p);
	verdict(!err && p.buf, "a scrape with unreadable counters still builds a page");
	if (!p.buf)
		return;
	verdict(strstr(p.buf, "vfio_exporter_collector_success{collector=\"counts\"} 0\n") &&
		strstr(p.buf, "vfio_exporter_collector_success{collector=\"interrupts\"} 0\n") &&
		strstr(p.buf, "vfio_exporter_collector_success{collector=\"latency\"} 0\n"),
		"collectors: the map readers report 0");
	verdict(strstr(p.buf, "vfio_exporter_collector_success{collector=\"sysfs\"} 1\n") &&
		strstr(p.buf, "vfio_device_info{bdf=\"0000:00:04.0\""),
		"collectors: sysfs reports 1 and its devices are on the page");
	verdict(!strstr(p.buf, "vfio_operations_total") && !strstr(p.buf, "vfio_interrupts_total") &&
		!strstr(p.buf, "vfio_access_duration_seconds"),
		"collectors: the failed ones' families are left out");
	verdict(strstr(p.buf, "vfio_exporter_build_info{version=") != NULL,
		"collectors: the exporter's own families are there");
	free(p.buf);

	memset(&p, 0, sizeof(p));
	if (system("rm -rf " SYSFS_PCI "/drivers/" DRIVER_NAME " && touch " SYSFS_PCI "/drivers/"
		   DRIVER_NAME))
		verdict(false, "make the driver directory a file");
	err = build_page(&p);
	verdict(!err && p.buf && strstr(p.buf, "vfio_exporter_collector_success{collector=\"sysfs\"} 0\n") &&
		!strstr(p.buf, "vfio_device_info{"),
		"collectors: an unreadable sysfs reports 0, no device_info series");
	free(p.buf);
}

/* A sysfs of a bound edu device, a bound igb VF 1 of a PF, a stale entry. */
static void sysfs(void)
{
	struct scrape s = {};
	struct device *edu = NULL, *vf = NULL;
	int err;

	if (system("rm -rf " SYSFS_PCI " && mkdir -p " SYSFS_PCI "/drivers/" DRIVER_NAME
		   " " SYSFS_PCI "/drivers/igb"
		   " " SYSFS_PCI "/devices/0000:00:04.0 " SYSFS_PCI "/devices/0000:00:05.0"
		   " " SYSFS_PCI "/devices/0000:00:06.0 " SYSFS_PCI "/devices/0000:00:16.0"
		   " " SYSFS_PCI "/devices/0000:00:16.2")) {
		verdict(false, "make a fake sysfs");
		return;
	}
	mkfile(SYSFS_PCI "/devices/0000:00:04.0/vendor", "0x1234\n");
	mkfile(SYSFS_PCI "/devices/0000:00:04.0/device", "0x11e8\n");
	mkfile(SYSFS_PCI "/devices/0000:00:16.2/vendor", "0x8086\n");
	mkfile(SYSFS_PCI "/devices/0000:00:16.2/device", "0x10ca\n");
	mkfile(SYSFS_PCI "/drivers/" DRIVER_NAME "/bind", "");
	mkfile(SYSFS_PCI "/drivers/" DRIVER_NAME "/new_id", "");
	symlink("../../devices/0000:00:04.0", SYSFS_PCI "/drivers/" DRIVER_NAME "/0000:00:04.0");
	symlink("../../devices/0000:00:05.0", SYSFS_PCI "/drivers/" DRIVER_NAME "/0000:00:05.0");
	symlink("../../devices/0000:00:16.2", SYSFS_PCI "/drivers/" DRIVER_NAME "/0000:00:16.2");
	symlink("../../drivers/" DRIVER_NAME, SYSFS_PCI "/devices/0000:00:04.0/driver");
	/* 0000:00:05.0: listed, but unbound meanwhile (no driver link) */
	symlink("../../drivers/" DRIVER_NAME, SYSFS_PCI "/devices/0000:00:16.2/driver");
	symlink("../0000:00:06.0", SYSFS_PCI "/devices/0000:00:16.2/physfn");
	symlink("../0000:00:16.0", SYSFS_PCI "/devices/0000:00:06.0/virtfn0");
	symlink("../0000:00:16.2", SYSFS_PCI "/devices/0000:00:06.0/virtfn1");
	symlink("../../drivers/igb", SYSFS_PCI "/devices/0000:00:06.0/driver");

	vfb_sysfs_root = SYSFS_ROOT;
	err = read_bound(&s);
	verdict(!err, "read_bound on the fake sysfs");
	for (int i = 0; i < s.ndevs; i++) {
		if (s.devs[i].dev.sbdf == 0x20)
			edu = &s.devs[i];
		if (s.devs[i].dev.sbdf == (0x16 << 3 | 2))
			vf = &s.devs[i];
	}
	verdict(s.ndevs == 2 && edu && vf, "two bound devices: the stale entry and files skipped");
	if (edu) {
		struct page p = {};

		verdict(edu->dev.vendor == 0x1234, "edu: vendor read as a number (0x1234)");
		verdict(edu->dev.device == 0x11e8, "edu: device");
		expect_str("edu: driver", edu->dev.driver, DRIVER_NAME);
		expect_str("edu: no pf", edu->dev.pf, "");
		verdict(edu->dev.vf == -1, "edu: no vf");
		/* The labels, as the page shows them. */
		put_scrape(&p, &s);
		verdict(p.buf && strstr(p.buf, "vfio_device_info{bdf=\"0000:00:04.0\",vendor=\"1234\","
					"device=\"11e8\",driver=\"vfio-pci-bpf\",pf=\"\",vf=\"\",mode=\"module\"} 1\n"),
			"edu: vendor without 0x, device, no pf, no vf on the page");
		verdict(p.buf && strstr(p.buf, "vfio_device_info{bdf=\"0000:00:16.2\",vendor=\"8086\","
					"device=\"10ca\",driver=\"vfio-pci-bpf\",pf=\"0000:00:06.0\","
					"vf=\"1\",mode=\"module\"} 1\n"),
			"VF: vendor, device, pf and vf on the page");
		free(p.buf);
	}
	if (vf) {
		verdict(vf->dev.vendor == 0x8086, "VF: vendor");
		verdict(vf->dev.device == 0x10ca, "VF: device");
		expect_str("VF: pf is the physfn's BDF", vf->dev.pf, "0000:00:06.0");
		verdict(vf->dev.vf == 1, "VF: vf is its virtfn index (1)");
	}
	free(s.devs);
	collectors();
	if (system("rm -rf " SYSFS_PCI))
		verdict(false, "remove the fake sysfs");
}

/* ---- the device cache and the untracked devices ---- */

#define DEVS	SYSFS_PCI "/devices/"
#define DRV	SYSFS_PCI "/drivers/" DRIVER_NAME "/"

static bool sh(const char *cmd)
{
	return system(cmd) == 0;
}

/*
 * Bind @bdf to our driver the way the kernel does it: a new link, made
 * before the old one (if any) goes, so that it has another inode on any
 * file system, as sysfs numbers a new node afresh.
 */
static void link_bound(const char *bdf)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "ln -sfn ../../drivers/" DRIVER_NAME " " DEVS "%s/driver && "
		 "ln -s ../../devices/%s " DRV ".new && mv -T " DRV ".new " DRV "%s", bdf, bdf, bdf);
	if (!sh(cmd))
		verdict(false, "bind in the fake sysfs");
}

/* A device directory with ids (and a PF), its slot; not bound yet. */
static void make_dev(const char *bdf, const char *vendor, const char *device, const char *pf,
		     int vf, const char *slot)
{
	char path[256], cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf " DEVS "%s && mkdir -p " DEVS "%s", bdf, bdf);
	if (!sh(cmd))
		verdict(false, "make a device in the fake sysfs");
	snprintf(path, sizeof(path), DEVS "%s/vendor", bdf);
	mkfile(path, vendor);
	snprintf(path, sizeof(path), DEVS "%s/device", bdf);
	mkfile(path, device);
	snprintf(path, sizeof(path), DEVS "%s/vfio_bpf_slot", bdf);
	mkfile(path, slot);
	if (pf) {
		snprintf(cmd, sizeof(cmd), "ln -s ../%s " DEVS "%s/physfn && ln -sfn ../%s " DEVS
			 "%s/virtfn%d", pf, bdf, bdf, pf, vf);
		if (!sh(cmd))
			verdict(false, "make a VF in the fake sysfs");
	}
}

/* One scrape's page, into @p (reset first). */
static void scrape_into(struct page *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
	if (build_page(p) || !p->buf)
		verdict(false, "build_page");
}

static const char *page_has(const struct page *p, const char *s)
{
	return p->buf ? strstr(p->buf, s) : NULL;
}

/* A counter source: one key, of 0000:00:04.0; the hash full when @hash_full. */
static bool hash_full;

static int one_count(struct vfb_count **out, bool *full)
{
	*full = hash_full;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->key.sbdf = 0x20;
	(*out)->key.kind = VFT_OPEN;
	(*out)->n.events = 1;
	return 1;
}

static int no_records(struct vfb_delivery **out)
{
	*out = NULL;
	return 0;
}

static int no_latency(struct vfb_latency **out)
{
	*out = NULL;
	return 0;
}

static int no_decisions(struct vfb_decision **out)
{
	*out = NULL;
	return 0;
}

static const struct counter_source full_map = {
	.counts = one_count,
	.deliveries = no_records,
	.latency = no_latency,
	.decisions = no_decisions,
};

/* Lines of @f (a file) that contain @s. */
static int lines_with(const char *f, const char *s)
{
	char line[512];
	int n = 0;
	FILE *fp = fopen(f, "r");

	while (fp && fgets(line, sizeof(line), fp))
		n += strstr(line, s) != NULL;
	if (fp)
		fclose(fp);
	return n;
}

static void device_cache(void)
{
	const char *edu_info = "vfio_device_info{bdf=\"0000:00:04.0\",vendor=\"1234\",device=\"11e8\","
			       "driver=\"vfio-pci-bpf\",pf=\"\",vf=\"\",mode=\"module\"} 1\n";
	const char *vf_info = "vfio_device_info{bdf=\"0000:00:16.2\",vendor=\"8086\",device=\"10ca\","
			      "driver=\"vfio-pci-bpf\",pf=\"0000:00:06.0\",vf=\"2\",mode=\"module\"} 1\n";
	const char *err_file = "build/exporter-unit.stderr";
	struct page p = {};
	unsigned long reads;
	int saved, fd;

	if (!sh("rm -rf " SYSFS_PCI " && mkdir -p " SYSFS_PCI "/drivers/" DRIVER_NAME " "
		SYSFS_PCI "/drivers/igb " DEVS "0000:00:06.0 " DEVS "0000:00:07.0")) {
		verdict(false, "make a fake sysfs");
		return;
	}
	vfb_sysfs_root = SYSFS_ROOT;
	counter_source = &full_map;
	make_dev("0000:00:04.0", "0x1234\n", "0x11e8\n", NULL, 0, "0\n");
	make_dev("0000:00:16.2", "0x8086\n", "0x10ca\n", "0000:00:06.0", 2, "1\n");
	link_bound("0000:00:04.0");
	link_bound("0000:00:16.2");

	reads = device_reads;
	scrape_into(&p);
	verdict(page_has(&p, edu_info) && page_has(&p, vf_info), "cache: both devices on the page");
	verdict(device_reads - reads == 2, "cache: the first scrape reads both devices");
	reads = device_reads;
	scrape_into(&p);
	verdict(page_has(&p, edu_info) && page_has(&p, vf_info) && device_reads == reads,
		"cache: the next scrape reads none, same page");

	/* The VF removed and made again at its BDF, of another PF and device id. */
	if (!sh("rm -f " DRV "0000:00:16.2"))
		verdict(false, "unbind the VF");
	make_dev("0000:00:16.2", "0x8086\n", "0x1520\n", "0000:00:07.0", 5, "1\n");
	link_bound("0000:00:16.2");
	reads = device_reads;
	scrape_into(&p);
	verdict(device_reads - reads == 1, "cache: a VF made again is read again, alone");
	verdict(!page_has(&p, vf_info) &&
		page_has(&p, "vfio_device_info{bdf=\"0000:00:16.2\",vendor=\"8086\",device=\"1520\","
			 "driver=\"vfio-pci-bpf\",pf=\"0000:00:07.0\",vf=\"5\",mode=\"module\"} 1\n"),
		"cache: the VF made again has its new device id, PF and VF index");

	/* edu to another driver: gone; then back to us with other ids: read again. */
	if (!sh("rm -f " DRV "0000:00:04.0 && ln -sfn ../../drivers/igb " DEVS "0000:00:04.0/driver"))
		verdict(false, "bind edu to another driver");
	scrape_into(&p);
	verdict(!page_has(&p, "vfio_device_info{bdf=\"0000:00:04.0\""),
		"cache: a device bound to another driver leaves device_info");
	make_dev("0000:00:04.0", "0x1b36\n", "0x0005\n", NULL, 0, "0\n");
	link_bound("0000:00:04.0");
	scrape_into(&p);
	verdict(page_has(&p, "vfio_device_info{bdf=\"0000:00:04.0\",vendor=\"1b36\",device=\"0005\",")
		!= NULL, "cache: bound to us again with other ids, the new ids are on the page");
	/* Rebound between two scrapes, the same ids: read again, nothing stale. */
	reads = device_reads;
	link_bound("0000:00:04.0");
	scrape_into(&p);
	verdict(device_reads - reads == 1, "cache: unbound and bound again between scrapes: read again");
	/*
	 * Caught mid-bind: the kernel links the driver's directory to the
	 * device first, then the device to the driver.  Not ours yet, and
	 * not kept: read again at the next scrape.
	 */
	if (!sh("rm -f " DEVS "0000:00:04.0/driver && ln -s ../../devices/0000:00:04.0 " DRV
		".new && mv -T " DRV ".new " DRV "0000:00:04.0"))
		verdict(false, "a half-made binding");
	reads = device_reads;
	scrape_into(&p);
	verdict(device_reads - reads == 1 && !page_has(&p, "vfio_device_info{bdf=\"0000:00:04.0\""),
		"cache: a device caught mid-bind (no driver link yet) is not on the page");
	if (!sh("ln -s ../../drivers/" DRIVER_NAME " " DEVS "0000:00:04.0/driver"))
		verdict(false, "finish the binding");
	reads = device_reads;
	scrape_into(&p);
	verdict(device_reads - reads == 1 && page_has(&p, "vfio_device_info{bdf=\"0000:00:04.0\""),
		"cache: ... and is read again at the next scrape, bound");

	/* Untracked: slots for both; then the VF without one, the hash full or not. */
	hash_full = true;
	scrape_into(&p);
	verdict(page_has(&p, "vfio_exporter_devices_without_slot 0\n") &&
		page_has(&p, "vfio_exporter_devices_untracked 0\n"),
		"untracked: a device with a slot is counted by slot, hash full or not: 0 and 0");
	verdict(page_has(&p, "# TYPE vfio_exporter_devices_untracked gauge\n") &&
		page_has(&p, "# TYPE vfio_exporter_devices_without_slot gauge\n"),
		"untracked: two gauges");
	make_dev("0000:00:16.2", "0x8086\n", "0x10ca\n", "0000:00:06.0", 2, "4294967295\n");
	link_bound("0000:00:16.2");
	hash_full = false;
	fflush(stderr);
	saved = dup(2);
	fd = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	scrape_into(&p);
	verdict(page_has(&p, "vfio_exporter_devices_without_slot 1\n") &&
		page_has(&p, "vfio_exporter_devices_untracked 0\n"),
		"untracked: no slot, room in the hash: without_slot 1, untracked 0");
	hash_full = true;
	scrape_into(&p);
	verdict(page_has(&p, "vfio_exporter_devices_without_slot 1\n") &&
		page_has(&p, "vfio_exporter_devices_untracked 1\n"),
		"untracked: no slot, the hash full and no key of it: untracked 1");
	scrape_into(&p);
	scrape_into(&p);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	{
		int a = lines_with(err_file, "without a slot"), b = lines_with(err_file, "not counted");
		char what[128];

		snprintf(what, sizeof(what), "untracked: each said on stderr once in four scrapes "
			 "(%d, %d)", a, b);
		verdict(a == 1 && b == 1, what);
	}
	/* edu has a key in the full hash: counted, whatever its slot. */
	make_dev("0000:00:04.0", "0x1234\n", "0x11e8\n", NULL, 0, "4294967295\n");
	link_bound("0000:00:04.0");
	scrape_into(&p);
	verdict(page_has(&p, "vfio_exporter_devices_without_slot 2\n") &&
		page_has(&p, "vfio_exporter_devices_untracked 1\n"),
		"untracked: a device without a slot but with a key in the full hash is counted");
	counter_source = NULL;
	free(p.buf);
	if (!sh("rm -rf " SYSFS_PCI))
		verdict(false, "remove the fake sysfs");
}

static void listen_args(void)
{
	static const char *const good[] = { "127.0.0.1:9466", "0.0.0.0:1", ":9466",
					    "[::1]:9466", "[::]:65535" };
	static const char *const bad[] = { "", "9466", "127.0.0.1", "127.0.0.1:",
					   "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
					   "127.0.0.1:94x6", "localhost:9466", "::1:9466",
					   "[::1]", "[::1:9466", "[127.0.0.1]:9466",
					   "1.2.3:9466", "1.2.3.4.5:9466" };
	char what[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(what, sizeof(what), "-l '%s' accepted", good[i]);
		verdict(parse_listen(good[i]) == 0, what);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "-l '%s' refused", bad[i]);
		verdict(parse_listen(bad[i]) != 0, what);
	}
	parse_listen("127.0.0.1:9466");
	verdict(env.addr.ss_family == AF_INET && env.addrlen == sizeof(struct sockaddr_in) &&
		((struct sockaddr_in *)&env.addr)->sin_port == htons(9466) &&
		((struct sockaddr_in *)&env.addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
		"127.0.0.1:9466 is the IPv4 loopback, port 9466");
	parse_listen("[::1]:9467");
	verdict(env.addr.ss_family == AF_INET6 &&
		((struct sockaddr_in6 *)&env.addr)->sin6_port == htons(9467) &&
		IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&env.addr)->sin6_addr),
		"[::1]:9467 is the IPv6 loopback, port 9467");
	parse_listen(":9466");
	verdict(env.addr.ss_family == AF_INET &&
		((struct sockaddr_in *)&env.addr)->sin_addr.s_addr == htonl(INADDR_ANY),
		":9466 is every IPv4 address");
}

static void bdfs(void)
{
	char buf[16];
	__u32 sbdf = 0;

	verdict(!vfb_parse_bdf("0000:00:04.0", &sbdf) && sbdf == 0x20, "parse 0000:00:04.0");
	sbdf = 0;
	verdict(!vfb_parse_bdf("00:04.0", &sbdf) && sbdf == 0x20, "parse 00:04.0 (lspci's form)");
	verdict(vfb_parse_bdf("0:04.0", &sbdf) != 0, "0:04.0 refused");
	verdict(vfb_parse_bdf("0000:00:04.0 ", &sbdf) != 0, "a trailing space refused");
	verdict(vfb_parse_bdf("0x00:00:04.0", &sbdf) != 0, "0x00:00:04.0 refused");
	verdict(!vfb_parse_bdf("0001:3a:1f.7", &sbdf) && sbdf == (0x1u << 16 | 0x3a << 8 | 0x1f << 3 | 7),
		"parse 0001:3a:1f.7");
	verdict(vfb_parse_bdf("0000:00:20.0", &sbdf) != 0, "device 0x20 refused");
	verdict(vfb_parse_bdf("0000:00:04.8", &sbdf) != 0, "function 8 refused");
	verdict(vfb_parse_bdf("0000:00:04.0x", &sbdf) != 0, "trailing text refused");
	verdict(vfb_parse_bdf("bind", &sbdf) != 0, "a sysfs file name refused");
	vfb_bdf_str(0x1u << 16 | 0x3a << 8 | 0x1f << 3 | 7, buf, sizeof(buf));
	expect_str("format 0001:3a:1f.7", buf, "0001:3a:1f.7");
}


/* GET / on 127.0.0.1:@port; 1 when "200" came back within @ms. */
static int get_index(int port, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct pollfd pf;
	char buf[64] = "";
	int fd, ok = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, sizeof(req) - 1) != sizeof(req) - 1)
		goto out;
	pf = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pf, 1, ms) == 1 && read(fd, buf, sizeof(buf) - 1) > 12)
		ok = !strncmp(buf, "HTTP/1.1 200", 12);
out:
	close(fd);
	return ok;
}

/*
 * @n connections to @port, nonblocking; with @trickle, half a request on
 * each; with @spread, from 40 loopback addresses (127.0.0.2...), as many
 * clients.
 */
static void dial_idle(int port, int *fds, int n, bool trickle, bool spread)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (int i = 0; i < n; i++) {
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(0x7f000002 + i % 40) };

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (spread)
			bind(fds[i], (struct sockaddr *)&src, sizeof(src));
		connect(fds[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(300000);
	for (int i = 0; trickle && i < n; i++)
		if (write(fds[i], "GET / HTTP/1.1\r\nX: ", 20) < 0)
			continue;
}

static void idle_connections(void)
{
	struct rlimit rl = { 2048, 2048 };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct MHD_Daemon *d;
	static int fds[600];
	int lfd, port, n = 300, ok, k;
	char what[160];

	setrlimit(RLIMIT_NOFILE, &rl);
	parse_listen("127.0.0.1:9466");
	((struct sockaddr_in *)&env.addr)->sin_port = 0;	/* any free port */
	lfd = open_listener();
	getsockname(lfd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	d = start_httpd(lfd);
	verdict(d != NULL, "http: the server starts on a free port");
	if (!d)
		return;
	verdict(get_index(port, 3000), "http: GET / answered");

	dial_idle(port, fds, n, false, false);
	snprintf(what, sizeof(what), "http: GET / answered within 3 s with %d idle connections open "
		 "(limit %u, %u per client)", n, env.max_conns, env.per_client);
	verdict(get_index(port, 3000), what);
	/* The server's own count (a client may think connected what sits in the backlog). */
	usleep(500000);
	k = 0;
	for (unsigned int i = 0; i < nconns; i++)
		k += conns[i].used && !conns[i].closing;
	snprintf(what, sizeof(what), "http: the server holds no more than %u of them, one client's (%d)",
		 env.per_client, k);
	verdict(k <= (int)env.per_client, what);
	for (int i = 0; i < n; i++)
		close(fds[i]);

	/* Half a request each: they reset the idle timer, never finish. */
	dial_idle(port, fds, n, true, false);
	ok = get_index(port, 3000);
	verdict(ok, "http: GET / answered within 3 s among half-sent requests (slowloris)");
	for (int i = 0; i < n; i++)
		close(fds[i]);

	/* Many clients, all of the places taken. */
	dial_idle(port, fds, n, true, true);
	verdict(get_index(port, 3000), "http: GET / answered within 3 s with 300 idle connections "
		"from 40 clients");
	usleep(500000);
	k = 0;
	for (unsigned int i = 0; i < nconns; i++)
		k += conns[i].used && !conns[i].closing;
	snprintf(what, sizeof(what), "http: ... the server holds no more than %u (%d)",
		 env.max_conns, k);
	verdict(k <= (int)env.max_conns, what);
	ok = 1;
	for (int i = 0; i < 5; i++)
		ok &= get_index(port, 3000);
	verdict(ok, "http: and 5 scrapes more in a row");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	MHD_stop_daemon(d);
	free(conns);
	conns = NULL;
}

int main(void)
{
	formatting();
	scrape_page();
	sysfs();
	{
		const struct counter_source *maps = counter_source;

		device_cache();
		counter_source = maps;
	}
	listen_args();
	bdfs();
	idle_connections();
	return failures ? 1 : 0;
}
