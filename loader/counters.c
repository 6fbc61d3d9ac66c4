// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "vfio_trace.h"
#include "vfio_trace.skel.h"

/* Everything but irq_vector, whose count tells nothing. */
#define COUNTED_KINDS ((1u << VFT_NR_KINDS) - 1 - (1u << VFT_IRQ_VECTOR))

static struct vfio_trace_bpf *open_and_load(const char *prog)
{
	struct vfio_trace_bpf *skel;
	struct bpf_program *p;
	int err;

	skel = vfio_trace_bpf__open();
	if (!skel) {
		fprintf(stderr, "%s: cannot open the BPF object: %s\n", prog, strerror(errno));
		return NULL;
	}
	/*
	 * The module's tracepoints count; of the vft_core_* programs
	 * (vfio-trace's stock-kernel mode) only those that time accesses for
	 * the latency histograms run, with latency_only set.
	 */
	bpf_object__for_each_program(p, skel->obj) {
		const char *name = bpf_program__name(p);
		bool core = !strncmp(name, "vft_core_", 9);
		bool timing = strstr(name, "_read_") || strstr(name, "_write_") ||
			      strstr(name, "_ioctl_");

		bpf_program__set_autoload(p, !core || timing);
	}
	skel->rodata->latency_only = true;
	/* Counts only: the ring buffer stays unused, keep it to one page. */
	skel->rodata->stream = false;
	skel->rodata->kind_mask = COUNTED_KINDS;
	bpf_map__set_max_entries(skel->maps.events, getpagesize());

	err = vfio_trace_bpf__load(skel);
	if (err) {
		fprintf(stderr, "%s: cannot load the BPF programs: %s\n"
			"  (run as root; -v shows the verifier log)\n", prog, strerror(-err));
		vfio_trace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void use_maps(struct vfb_counters *c)
{
	c->counts = bpf_map__fd(c->skel->maps.counts);
	c->deliveries = bpf_map__fd(c->skel->maps.deliveries);
	c->hists = bpf_map__fd(c->skel->maps.hists);
}

int vfb_counters_load(struct vfb_counters *c, const char *prog)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->counts = c->deliveries = c->hists = -1;
	c->skel = open_and_load(prog);
	if (!c->skel)
		return -EINVAL;
	err = vfio_trace_bpf__attach(c->skel);
	if (err) {
		fprintf(stderr, "%s: cannot attach to the vfio_pci_bpf tracepoints: %s\n",
			prog, strerror(-err));
		vfb_counters_close(c);
		return err;
	}
	use_maps(c);
	return 0;
}

static int pin_map(struct bpf_map *m, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", VFB_COUNTERS_DIR, name);
	return bpf_map__pin(m, path);
}

int vfb_counters_load_pinned(const char *prog)
{
	struct vfio_trace_bpf *skel;
	struct bpf_program *p;
	int err = 0;

	if (!access(VFB_COUNTERS_DIR "/counts", F_OK))
		return -EEXIST;
	skel = open_and_load(prog);
	if (!skel)
		return -EINVAL;
	mkdir("/sys/fs/bpf/vfio-bpf", 0700);
	if (mkdir(VFB_COUNTERS_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "%s: %s: %s (is bpffs mounted at /sys/fs/bpf?)\n", prog,
			VFB_COUNTERS_DIR, strerror(errno));
		goto out;
	}
	/* A pinned link per program: they stay attached once we are gone. */
	bpf_object__for_each_program(p, skel->obj) {
		char path[PATH_MAX];
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		if (!link) {
			err = -errno;
			fprintf(stderr, "%s: cannot attach %s: %s\n", prog,
				bpf_program__name(p), strerror(errno));
			goto out_unpin;
		}
		snprintf(path, sizeof(path), "%s/link_%s", VFB_COUNTERS_DIR,
			 bpf_program__name(p));
		err = bpf_link__pin(link, path);
		bpf_link__destroy(link);
		if (err)
			goto out_unpin;
	}
	err = pin_map(skel->maps.deliveries, "deliveries");
	if (!err)
		err = pin_map(skel->maps.hists, "hists");
	/* counts last: its pin says the set is complete. */
	if (!err)
		err = pin_map(skel->maps.counts, "counts");
	if (!err)
		goto out;
out_unpin:
	fprintf(stderr, "%s: pinning the counters failed: %s\n", prog, strerror(-err));
	vfb_counters_unpin();
out:
	vfio_trace_bpf__destroy(skel);
	return err;
}

int vfb_counters_open_pinned(struct vfb_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->counts = bpf_obj_get(VFB_COUNTERS_DIR "/counts");
	c->deliveries = bpf_obj_get(VFB_COUNTERS_DIR "/deliveries");
	c->hists = bpf_obj_get(VFB_COUNTERS_DIR "/hists");
	if (c->counts < 0 || c->deliveries < 0 || c->hists < 0) {
		vfb_counters_close(c);
		return -ENOENT;
	}
	return 0;
}

int vfb_counters_unpin(void)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir(VFB_COUNTERS_DIR);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", VFB_COUNTERS_DIR, de->d_name);
		n += !unlink(path);
	}
	closedir(dir);
	rmdir(VFB_COUNTERS_DIR);
	return n;
}

void vfb_counters_close(struct vfb_counters *c)
{
	if (c->skel) {
		vfio_trace_bpf__destroy(c->skel);
	} else {
		if (c->counts >= 0)
			close(c->counts);
		if (c->deliveries >= 0)
			close(c->deliveries);
		if (c->hists >= 0)
			close(c->hists);
	}
	memset(c, 0, sizeof(*c));
	c->counts = c->deliveries = c->hists = -1;
}
