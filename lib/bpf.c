// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bpf.h"
#include "vfio_trace.h"
#include "vfio_trace.skel.h"

bool vfb_verbose;

int vfb_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !vfb_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static const struct argp_option common_opts[] = {
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

static error_t common_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'v':
		vfb_verbose = true;
		return 0;
	case ARGP_KEY_ARG:	/* the tool's parser did not take it */
		argp_usage(state);
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

int vfb_parse_args(const struct argp_option *opts, argp_parser_t parser, const char *args_doc,
		   const char *doc, int argc, char **argv)
{
	static const struct argp common = { .options = common_opts, .parser = common_arg };
	const struct argp_child children[] = { { &common, 0, NULL, 0 }, {} };
	const struct argp argp = {
		.options = opts,
		.parser = parser,
		.args_doc = args_doc,
		.doc = doc,
		.children = children,
	};

	/* Bad usage exits 2, as the docs say; argp would say 64. */
	argp_err_exit_status = 2;
	return argp_parse(&argp, argc, argv, 0, NULL, NULL) ? 2 : 0;
}

volatile sig_atomic_t vfb_exiting;

static void on_signal(int sig)
{
	vfb_exiting = 1;
}

void vfb_catch_signals(void)
{
	const struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

static void set_autoload(struct bpf_program *const *progs, size_t n, bool on)
{
	for (size_t i = 0; i < n; i++)
		bpf_program__set_autoload(progs[i], on);
}

#define SET_AUTOLOAD(progs, on) set_autoload(progs, sizeof(progs) / sizeof(progs[0]), on)

struct vfio_trace_bpf *vfb_trace_load(const struct vfb_trace_opts *o, const char *prog)
{
	struct vfio_trace_bpf *skel;
	int err;

	skel = vfio_trace_bpf__open();
	if (!skel) {
		fprintf(stderr, "%s: cannot open the BPF object: %s\n", prog, strerror(errno));
		return NULL;
	}
	{
		/*
		 * Module mode: streaming, a program per tracepoint (they carry
		 * the values); counting, one program per operation on the
		 * counting event (vft_op, or vft_op_timed for histograms), plus
		 * what interrupts and policy decisions need.  Stock mode: the
		 * core's entry points.
		 */
		struct bpf_program *const module_events[] = {
			skel->progs.vft_open, skel->progs.vft_close, skel->progs.vft_reset,
			skel->progs.vft_config_read, skel->progs.vft_config_write,
			skel->progs.vft_bar_read, skel->progs.vft_bar_write,
			skel->progs.vft_mmap, skel->progs.vft_ioctl, skel->progs.vft_set_irqs,
			skel->progs.vft_mig_transition, skel->progs.vft_mig_data,
		};
		struct bpf_program *const module_always[] = {
			skel->progs.vft_irq_vector, skel->progs.vft_msi_exit,
			skel->progs.vft_intx_exit, skel->progs.vft_policy,
		};
		struct bpf_program *const core[] = {
			skel->progs.vft_core_read_entry, skel->progs.vft_core_read_exit,
			skel->progs.vft_core_write_entry, skel->progs.vft_core_write_exit,
			skel->progs.vft_core_ioctl_entry, skel->progs.vft_core_ioctl_exit,
			skel->progs.vft_core_mmap_exit, skel->progs.vft_core_enable_exit,
			skel->progs.vft_core_close_entry, skel->progs.vft_core_irq_exit,
		};
		/* Migration state, arcs, bytes and downtime: the counters'. */
		struct bpf_program *const module_mig[] = {
			skel->progs.vft_mig_account, skel->progs.vft_mig_bytes,
		};
		/*
		 * Config-space offsets touched, on request: programs on the
		 * per-kind config tracepoints, which the module then feeds by
		 * reading each access's values (a config write's old value is
		 * one more config read): about as much again as the counting
		 * event on every config access.
		 */
		struct bpf_program *const module_cfg[] = {
			skel->progs.vft_cfg_read_touch, skel->progs.vft_cfg_write_touch,
			skel->progs.vft_cfg_open,
		};
		bool stock = o->mode == VFB_TRACE_STOCK;

		SET_AUTOLOAD(module_events, !stock && o->stream);
		SET_AUTOLOAD(module_always, !stock);
		SET_AUTOLOAD(core, stock);
		SET_AUTOLOAD(module_mig, !stock && !o->stream);
		SET_AUTOLOAD(module_cfg, !stock && !o->stream && o->cfg_offsets);
		bpf_program__set_autoload(skel->progs.vft_op, !stock && !o->stream && !o->latency);
		bpf_program__set_autoload(skel->progs.vft_op_timed, !stock && o->latency);
	}
	/* Streaming with -H: the per-tracepoint programs count. */
	skel->rodata->latency_only = o->mode == VFB_TRACE_MODULE && o->stream;
	skel->rodata->filter_sbdf = o->sbdf;
	skel->rodata->kind_mask = o->kinds;
	skel->rodata->stream = o->stream;
	if (!o->stream) {
		/* Counts only: the ring buffer stays unused, keep it to one page. */
		bpf_map__set_max_entries(skel->maps.events, getpagesize());
	} else {
		if (o->ringbuf)
			bpf_map__set_max_entries(skel->maps.events, o->ringbuf);
		/* Wake the reader at an eighth full; its poll timeout does the rest. */
		skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.events) / 8;
	}

	err = vfio_trace_bpf__load(skel);
	if (err) {
		fprintf(stderr, "%s: cannot load the BPF programs: %s\n"
			"  (run as root; -v shows the verifier log)\n", prog, strerror(-err));
		vfio_trace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}
