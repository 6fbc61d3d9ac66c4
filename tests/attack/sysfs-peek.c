// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs-peek: one 32-bit register of a device's BAR through an mmap of
 * sysfs resourceN, past vfio and the module (path.h), for shell tests
 * that must read what the device holds.
 *
 *   sysfs-peek BDF BAR OFFSET          prints the register (0x%08x)
 *   sysfs-peek BDF BAR OFFSET VALUE    writes it
 *
 * The device must not be open through vfio (vfio-pci keeps an open
 * device's BARs busy and the strict iomem check refuses the mapping).
 * Exit status: 0, 1 on an error, 2 on bad arguments.
 */
#include "path.h"

int main(int argc, char **argv)
{
	unsigned long bar, off, val = 0;
	uint32_t v;
	int err;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: sysfs-peek BDF BAR OFFSET [VALUE]\n");
		return 2;
	}
	bar = strtoul(argv[2], NULL, 0);
	off = strtoul(argv[3], NULL, 0);
	if (argc == 5)
		val = strtoul(argv[4], NULL, 0);
	if (bar > 5 || off & 3 || val > UINT32_MAX) {
		fprintf(stderr, "sysfs-peek: bad BAR, offset or value\n");
		return 2;
	}
	if (argc == 5) {
		err = sysfs_bar_wr32(argv[1], bar, off, val);
	} else {
		err = sysfs_bar_rd32(argv[1], bar, off, &v);
		if (!err)
			printf("0x%08x\n", v);
	}
	if (err) {
		fprintf(stderr, "sysfs-peek: %s BAR%lu 0x%lx: %s\n", argv[1], bar,
			off, strerror(-err));
		return 1;
	}
	return 0;
}
