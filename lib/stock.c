// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "pins.h"
#include "stock.h"
#include "vfio_stock.skel.h"

int vfb_stock_load_pinned(const char *prog)
{
	struct vfio_stock_bpf *skel;
	struct bpf_program *p;
	struct vfb_dir dir;
	char msg[512];
	int err, fd;

	/* The same checked tree as the module's counters (pins.h). */
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
	skel = vfio_stock_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "%s: cannot load the stock-kernel counters: %s\n"
			"  (run as root, with vfio-pci loaded; -v shows the verifier log)\n",
			prog, strerror(errno));
		vfb_dir_close(&dir);
		return err;
	}
	/* A pinned link per program: they stay attached once we are gone. */
	bpf_object__for_each_program(p, skel->obj) {
		struct bpf_link *link = bpf_program__attach(p);
		char name[128];

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
	if (!err)
		err = vfb_pin_put(&dir, "decisions", bpf_map__fd(skel->maps.decisions));
	/* counts last: its pin says the set is complete. */
	if (!err)
		err = vfb_pin_put(&dir, "counts", bpf_map__fd(skel->maps.counts));
	if (!err)
		goto out;
out_unpin:
	fprintf(stderr, "%s: pinning the counters failed: %s\n", prog, strerror(-err));
	vfb_counters_unpin();
out:
	vfio_stock_bpf__destroy(skel);
	vfb_dir_close(&dir);
	return err;
}

bool vfb_stock_pinned(void)
{
	struct vfb_dir dir;
	char msg[512];
	bool yes;
	int fd;

	if (vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg)))
		return false;
	fd = vfb_pin_get(&dir, VFB_STOCK_MARKER, msg, sizeof(msg));
	yes = fd >= 0;
	if (yes)
		close(fd);
	vfb_dir_close(&dir);
	return yes;
}
