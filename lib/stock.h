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
/* The counters pinned now are the stock-kernel ones. */
bool vfb_stock_pinned(void);

#endif /* __VFIO_BPF_STOCK_H */
