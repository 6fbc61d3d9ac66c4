// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"

const char *vfb_sysfs_root = "/sys";

void vfb_bdf_str(__u32 sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", sbdf >> 16, (sbdf >> 8) & 0xff,
		 (sbdf >> 3) & 0x1f, sbdf & 7);
}

void vfb_bdf_short(__u32 sbdf, char *buf, size_t len)
{
	vfb_bdf_str(sbdf, buf, len);
	if (!(sbdf >> 16))
		memmove(buf, buf + 5, strlen(buf + 5) + 1);
}

int vfb_parse_bdf(const char *s, __u32 *sbdf)
{
	unsigned int dom = 0, bus, dev, fn;
	char canon[VFB_BDF_LEN], full[VFB_BDF_LEN + 5];
	int n = 0;

	/* The short form is the long one with domain 0. */
	if (strlen(s) == 7)
		snprintf(full, sizeof(full), "0000:%s", s);
	else
		snprintf(full, sizeof(full), "%s", s);
	if (sscanf(full, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) != 4 ||
	    full[n] || dev > 0x1f || fn > 7)
		return -EINVAL;
	*sbdf = dom << 16 | bus << 8 | dev << 3 | fn;
	/* Only the names sysfs and lspci print: no 0x, no signs, no spaces. */
	vfb_bdf_str(*sbdf, canon, sizeof(canon));
	return strcasecmp(canon, full) ? -EINVAL : 0;
}

/* The last component of the link at @fmt..., or "" when there is none. */
__attribute__((format(printf, 3, 4)))
static void link_base(char *out, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	/* Truncated if it must (it never is: names are short). */
	n = strnlen(base, len - 1);
	memcpy(out, base, n);
	out[n] = '\0';
}

/* A sysfs number ("0x1234\n"), or -1. */
static long read_num(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", vfb_sysfs_root, bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 16);
	fclose(f);
	return v;
}

/* A sysfs decimal number ("17\n"), or -1. */
static __s64 read_dec(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32], *end;
	__s64 v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", vfb_sysfs_root, bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		v = strtoll(buf, &end, 10);
		if (end == buf || (*end && *end != '\n') || v < 0)
			v = -1;
	}
	fclose(f);
	return v;
}

/* Which virtfnN of its PF @d is: the PF's directory lists them all. */
static void read_vf_index(struct vfb_device *d)
{
	char path[PATH_MAX], name[VFB_BDF_LEN];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", vfb_sysfs_root, d->pf);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "virtfn", 6))
			continue;
		link_base(name, sizeof(name), "%s/%s", path, de->d_name);
		if (!strcmp(name, d->bdf)) {
			d->vf = atoi(de->d_name + 6);
			break;
		}
	}
	closedir(dir);
}

int vfb_device_read(const char *bdf, struct vfb_device *d)
{
	char path[PATH_MAX], group[32];
	long class;

	memset(d, 0, sizeof(*d));
	d->vf = d->iommu_group = -1;
	d->slot = -1;
	if (vfb_parse_bdf(bdf, &d->sbdf))
		return -ENODEV;
	vfb_bdf_str(d->sbdf, d->bdf, sizeof(d->bdf));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", vfb_sysfs_root, d->bdf);
	if (access(path, F_OK))
		return -ENODEV;
	d->vendor = read_num(d->bdf, "vendor");
	d->device = read_num(d->bdf, "device");
	d->subsystem_vendor = read_num(d->bdf, "subsystem_vendor");
	d->subsystem_device = read_num(d->bdf, "subsystem_device");
	class = read_num(d->bdf, "class");
	d->class = class < 0 ? 0 : class;
	link_base(d->driver, sizeof(d->driver), "%s/driver", path);
	link_base(group, sizeof(group), "%s/iommu_group", path);
	if (group[0])
		d->iommu_group = atoi(group);
	link_base(d->pf, sizeof(d->pf), "%s/physfn", path);
	if (d->pf[0])
		read_vf_index(d);
	d->slot = read_dec(d->bdf, "vfio_bpf_slot");
	return 0;
}

void vfb_driver_dir(const char *driver, char *buf, size_t len)
{
	snprintf(buf, len, "%s/bus/pci/drivers/%s", vfb_sysfs_root, driver);
}

static int cmp_bound(const void *a, const void *b)
{
	const struct vfb_bound *x = a, *y = b;

	return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

int vfb_driver_links(const char *driver, struct vfb_bound **out)
{
	struct vfb_bound *links = NULL, *l;
	int n = 0, cap = 0;
	char path[PATH_MAX];
	struct dirent *de;
	__u32 sbdf;
	DIR *dir;

	*out = NULL;
	vfb_driver_dir(driver, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (vfb_parse_bdf(de->d_name, &sbdf) || strlen(de->d_name) != 12)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			l = realloc(links, cap * sizeof(*l));
			if (!l) {
				free(links);
				closedir(dir);
				return -ENOMEM;
			}
			links = l;
		}
		links[n].sbdf = sbdf;
		links[n++].ino = de->d_ino;
	}
	closedir(dir);
	qsort(links, n, sizeof(*links), cmp_bound);
	*out = links;
	return n;
}

/* Every device bound to @driver, read whole, by sbdf (its links' order). */
int vfb_devices_bound(const char *driver, struct vfb_device **out)
{
	struct vfb_device *devs;
	char bdf[VFB_BDF_LEN];
	struct vfb_bound *links;
	int n, m = 0;

	*out = NULL;
	n = vfb_driver_links(driver, &links);
	if (n <= 0)
		return n;
	devs = calloc(n, sizeof(*devs));
	if (!devs) {
		free(links);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		vfb_bdf_str(links[i].sbdf, bdf, sizeof(bdf));
		/* Unbound meanwhile (or gone): not one of them. */
		if (vfb_device_read(bdf, &devs[m]) || strcmp(devs[m].driver, driver))
			continue;
		m++;
	}
	free(links);
	*out = devs;
	return m;
}
