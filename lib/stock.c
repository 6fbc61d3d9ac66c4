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
			{ "counts", skel->maps.counts },
		};

		err = vfb_counters_pin_all(skel->obj, &dir, maps,
					   sizeof(maps) / sizeof(maps[0]), prog);
	}
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
