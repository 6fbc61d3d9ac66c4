/* SPDX-License-Identifier: GPL-2.0 */
/* What vfio-trace, vfio-bpf and vfio_exporter share. */
#ifndef __VFIO_BPF_COMMON_H
#define __VFIO_BPF_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

/* -v: libbpf's debug messages (verifier logs) too. */
extern bool vfb_verbose;
/* For libbpf_set_print(): warnings always, debug only with vfb_verbose. */
int vfb_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);

/* domain << 16 | bus << 8 | devfn <-> "0000:00:04.0" */
void vfb_bdf_str(__u32 sbdf, char *buf, size_t len);
/* Only canonical names, as sysfs spells them; -EINVAL otherwise. */
int vfb_parse_bdf(const char *s, __u32 *sbdf);

/*
 * The kernel has BTF, and /sys/kernel/btf/@module exists; otherwise say
 * so, as @prog, with @hint for the missing module, and return -ENOENT.
 */
int vfb_check_btf(const char *prog, const char *module, const char *hint);

#define VFB_LOAD_HINT							\
	"  load it (modprobe vfio-pci; insmod vfio_pci_bpf.ko) and bind\n" \
	"  devices to vfio-pci-bpf through driver_override\n"

#endif /* __VFIO_BPF_COMMON_H */
