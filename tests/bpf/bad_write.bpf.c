// SPDX-License-Identifier: GPL-2.0
/*
 * A policy that writes a context field other than vfio_bpf_access.value:
 * the verifier must refuse to load it (t-hooks.sh checks that it does, and
 * with the module's message).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_bpf_hooks.h"

SEC("struct_ops/config_write")
int BPF_PROG(move_the_write, struct vfio_bpf_access *a)
{
	a->offset = 0x04;	/* redirect the write to the command register */
	return VFIO_BPF_ALLOW;
}

SEC(".struct_ops.link")
struct vfio_pci_bpf_ops bad = {
	.config_write = (void *)move_the_write,
};

char LICENSE[] SEC("license") = "GPL";
