/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvfiobpf stock: `vfio-bpf load --stock`, the counters of
 * bpf/vfio_stock.bpf.c for devices under stock vfio-pci (any
 * vfio_pci_core based driver), without vfio_pci_bpf.  They are pinned
 * where the module's counters are (VFB_COUNTERS_DIR), in the same map
 * layout, so that lib/counters.c's readers and vfb_counters_unpin() serve
 * both; one set or the other is loaded at a time.
 */
#ifndef __VFIO_BPF_STOCK_H
#define __VFIO_BPF_STOCK_H

#include <stdbool.h>

/* The link pin that says the pinned counters are the stock-kernel ones. */
#define VFB_STOCK_MARKER	"link_vst_read"

/* Load, attach and pin under VFB_COUNTERS_DIR; -EEXIST if counters are there. */
int vfb_stock_load_pinned(const char *prog);
/* The counters pinned now are the stock-kernel ones (alone, or beside the module's). */
bool vfb_stock_pinned(void);

/*
 * The stock programs loaded (not attached) to count beside the module's
 * counters into their @counts, @deliveries and @cfg_touch maps, skipping the devices
 * bound to vfio-pci-bpf; NULL (said on stderr) when they cannot be.
 */
struct vfio_stock_bpf;
struct vfio_stock_bpf *vfb_stock_load_beside(const char *prog, int counts, int deliveries,
					      int cfg_touch);
struct bpf_object *vfb_stock_obj(struct vfio_stock_bpf *skel);
void vfb_stock_destroy(struct vfio_stock_bpf *skel);

#endif /* __VFIO_BPF_STOCK_H */
