/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf bpf: libbpf set-up the tools share: the print function, the
 * BTF and module checks, and bpf/vfio_trace.bpf.c's skeleton opened,
 * configured through typed program handles and loaded.
 */
#ifndef __VFB_BPF_H
#define __VFB_BPF_H

#include <argp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

/* -v: libbpf's debug messages (verifier logs) too. */
extern bool vfb_verbose;
/* For libbpf_set_print(): warnings always, debug only with vfb_verbose. */
int vfb_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);
/*
 * argp_parse() of a tool's options with those every tool has (-v); an
 * argument its parser does not take is a usage error.  0, or 2 (bad usage,
 * said on stderr: the exit status the docs promise).
 */
int vfb_parse_args(const struct argp_option *opts, argp_parser_t parser, const char *args_doc,
		   const char *doc, int argc, char **argv);

/*
 * SIGINT and SIGTERM set vfb_exiting, without SA_RESTART: a blocking call
 * (recv, poll, usleep) returns EINTR and the tool's loop ends cleanly.
 */
extern volatile sig_atomic_t vfb_exiting;
void vfb_catch_signals(void);

/*
 * The kernel has BTF, and /sys/kernel/btf/@module exists; otherwise say
 * so, as @prog, with @hint for the missing module, and return -ENOENT.
 */
int vfb_check_btf(const char *prog, const char *module, const char *hint);

#define VFB_LOAD_HINT							\
	"  load it (modprobe vfio-pci; insmod vfio_pci_bpf.ko) and bind\n" \
	"  devices to vfio-pci-bpf through driver_override\n"

/* Which programs of vfio_trace.bpf.c run. */
enum vfb_trace_mode {
	VFB_TRACE_MODULE,	/* the module's tracepoints */
	VFB_TRACE_STOCK,	/* fentry/fexit on vfio_pci_core (vfio-trace -k) */
};

struct vfb_trace_opts {
	enum vfb_trace_mode mode;
	bool latency;		/* latency histograms too (module mode: vft_op_timed) */
	bool stream;		/* events through the ring buffer; else counts only */
	bool cfg_offsets;	/* counts: config offsets touched (vft_cfg_*_touch) */
	__u32 sbdf;		/* VFT_ALL_DEVICES or one device */
	__u32 kinds;		/* 1 << enum vft_kind */
	__u32 ringbuf;		/* ring buffer bytes (a power of 2); 0: the default */
};

struct vfio_trace_bpf;

/* Open, configure and load; NULL, with the reason said as @prog, on failure. */
struct vfio_trace_bpf *vfb_trace_load(const struct vfb_trace_opts *o, const char *prog);

#endif /* __VFB_BPF_H */
