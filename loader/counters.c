// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "pins.h"
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

int vfb_counters_load_pinned(const char *prog)
{
	struct vfio_trace_bpf *skel;
	struct bpf_program *p;
	struct vfb_dir dir;
	char msg[512];
	int err = 0, fd;

	/* Root's 0700 directories all the way (pins.h): made, or refused. */
	err = vfb_pins_open(VFB_REL_COUNTERS, true, &dir, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, msg);
		return err;
	}
	fd = vfb_pin_get(&dir, "counts", msg, sizeof(msg));
	if (fd >= 0 || fd != -ENOENT) {
		if (fd >= 0)
			close(fd);
		else
			fprintf(stderr, "%s: %s\n", prog, msg);
		vfb_dir_close(&dir);
		return fd >= 0 ? -EEXIST : fd;
	}
	skel = open_and_load(prog);
	if (!skel) {
		vfb_dir_close(&dir);
		return -EINVAL;
	}
	/* A pinned link per program: they stay attached once we are gone. */
	bpf_object__for_each_program(p, skel->obj) {
		char name[128];
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
		snprintf(name, sizeof(name), "link_%s", bpf_program__name(p));
		err = vfb_pin_put(&dir, name, bpf_link__fd(link));
		bpf_link__destroy(link);
		if (err)
			goto out_unpin;
	}
	err = vfb_pin_put(&dir, "deliveries", bpf_map__fd(skel->maps.deliveries));
	if (!err)
		err = vfb_pin_put(&dir, "hists", bpf_map__fd(skel->maps.hists));
	/* counts last: its pin says the set is complete. */
	if (!err)
		err = vfb_pin_put(&dir, "counts", bpf_map__fd(skel->maps.counts));
	if (!err)
		goto out;
out_unpin:
	fprintf(stderr, "%s: pinning the counters failed: %s\n", prog, strerror(-err));
	vfb_counters_unpin();
out:
	vfio_trace_bpf__destroy(skel);
	vfb_dir_close(&dir);
	return err;
}

int vfb_counters_open_pinned(struct vfb_counters *c)
{
	struct vfb_dir dir;
	char msg[512];
	int err;

	memset(c, 0, sizeof(*c));
	c->counts = c->deliveries = c->hists = -1;
	err = vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg));
	if (err) {
		if (err != -ENOENT)
			fprintf(stderr, "warning: not reading the pinned counters: %s\n", msg);
		return -ENOENT;
	}
	c->counts = vfb_pin_get(&dir, "counts", msg, sizeof(msg));
	if (c->counts >= 0)
		c->deliveries = vfb_pin_get(&dir, "deliveries", msg, sizeof(msg));
	if (c->deliveries >= 0)
		c->hists = vfb_pin_get(&dir, "hists", msg, sizeof(msg));
	vfb_dir_close(&dir);
	if (c->counts < 0 || c->deliveries < 0 || c->hists < 0) {
		if (c->counts != -ENOENT)
			fprintf(stderr, "warning: not reading the pinned counters: %s\n", msg);
		vfb_counters_close(c);
		return -ENOENT;
	}
	return 0;
}

int vfb_counters_unpin(void)
{
	struct vfb_dir root, dir;
	struct dirent *de;
	char msg[512];
	int n = 0;
	DIR *d;

	if (vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg)))
		return 0;
	d = fdopendir(dup(dir.fd));
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			n += !vfb_pin_remove(&dir, de->d_name);
	}
	if (d)
		closedir(d);
	vfb_dir_close(&dir);
	if (!vfb_pins_open(VFB_REL_ROOT, false, &root, msg, sizeof(msg))) {
		unlinkat(root.fd, "counters", AT_REMOVEDIR);
		vfb_dir_close(&root);
	}
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
