// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

bool vfb_verbose;

int vfb_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !vfb_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void vfb_bdf_str(__u32 sbdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", sbdf >> 16, (sbdf >> 8) & 0xff,
		 (sbdf >> 3) & 0x1f, sbdf & 7);
}

int vfb_parse_bdf(const char *s, __u32 *sbdf)
{
	unsigned int dom, bus, dev, fn;
	char tail, canon[16];

	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4 ||
	    dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*sbdf = dom << 16 | bus << 8 | dev << 3 | fn;
	/* sysfs names are canonical: anything else (0x prefixes too) is not one */
	vfb_bdf_str(*sbdf, canon, sizeof(canon));
	return strcmp(canon, s) ? -EINVAL : 0;
}

int vfb_check_btf(const char *prog, const char *module, const char *hint)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat("/sys/kernel/btf/vmlinux", &st)) {
		fprintf(stderr, "%s: this kernel has no BTF (/sys/kernel/btf/vmlinux):\n"
			"  it needs CONFIG_DEBUG_INFO_BTF, as Debian's kernels have\n", prog);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (stat(path, &st)) {
		fprintf(stderr, "%s: the %s module is not loaded:\n%s", prog, module, hint);
		return -ENOENT;
	}
	return 0;
}
