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
	struct vfb_dir dir;
	int err;

	/* The same checked tree as the module's counters (pins.h). */
	err = vfb_counters_pin_begin(prog, &dir);
	if (err)
		return err;
	skel = vfio_stock_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "%s: cannot load the stock-kernel counters: %s\n"
			"  (run as root, with vfio-pci loaded; -v shows the verifier log)\n",
			prog, strerror(errno));
		vfb_dir_close(&dir);
		return err;
	}
	{
		/* counts last: its pin says the set is complete. */
		const struct vfb_named_map maps[] = {
			{ "deliveries", skel->maps.deliveries },
			{ "hists", skel->maps.hists },
			{ "decisions", skel->maps.decisions },
			{ "cfg_touch", skel->maps.cfg_touch },
			{ "counts", skel->maps.counts },
		};

		err = vfb_counters_pin_all(skel->obj, &dir, maps,
					   sizeof(maps) / sizeof(maps[0]), prog);
	}
	vfio_stock_bpf__destroy(skel);
	vfb_dir_close(&dir);
	return err;
}

struct vfio_stock_bpf *vfb_stock_load_beside(const char *prog, int counts, int deliveries,
					      int cfg_touch)
{
	struct vfio_stock_bpf *skel = vfio_stock_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "%s: cannot open the stock-kernel counters: %s\n", prog,
			strerror(errno));
		return NULL;
	}
	skel->rodata->skip_module = true;
	err = bpf_map__reuse_fd(skel->maps.counts, counts);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.deliveries, deliveries);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.cfg_touch, cfg_touch);
	if (!err)
		err = vfio_stock_bpf__load(skel);
	if (err) {
		fprintf(stderr, "%s: warning: devices under other vfio-pci drivers are not counted: "
			"cannot load the stock-kernel counters: %s\n", prog, strerror(-err));
		vfio_stock_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct bpf_object *vfb_stock_obj(struct vfio_stock_bpf *skel)
{
	return skel->obj;
}

void vfb_stock_destroy(struct vfio_stock_bpf *skel)
{
	vfio_stock_bpf__destroy(skel);
}

bool vfb_stock_pinned(void)
{
	struct vfb_dir dir;
	char msg[512];
	bool yes;
	int fd;

	if (vfb_pins_open(VFB_REL_COUNTERS, false, &dir, msg, sizeof(msg)))
		return false;
	/*
	 * The marker is a link, which BPF_OBJ_GET opens read-write only: a
	 * reader allowed to read the pins but not write them (the exporter's
	 * CAP_DAC_READ_SEARCH) gets EACCES, and a trusted pin there is enough.
	 */
	fd = vfb_pin_get(&dir, VFB_STOCK_MARKER, msg, sizeof(msg));
	yes = fd >= 0 || fd == -EACCES;
	if (yes)
		close(fd);
	vfb_dir_close(&dir);
	return yes;
}
