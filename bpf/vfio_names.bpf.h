/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names the kernel gives VFIO devices, parsed in BPF: a PCI device's name
 * ("DDDD:BB:DD.F", the same on every architecture, where the domain behind
 * pdev->bus is not) and the names vfio_pci_core gives its irq handlers
 * ("vfio-intx(BDF)", "vfio-msi[N](BDF)", "vfio-msix[N](BDF)").  Stock-kernel
 * mode knows devices and vectors by these alone.  Shared by
 * vfio_trace.bpf.c (vfio-trace -k) and vfio_stock.bpf.c (vfio-bpf load).
 */
#ifndef VFIO_NAMES_BPF_H
#define VFIO_NAMES_BPF_H

#define VFB_NAME_LEN 64		/* a power of two: indexes are masked with it */

static __always_inline int vfb_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The sbdf of the name at @name[@p]; VFT_ALL_DEVICES when it is not one. */
static __always_inline __u32 vfb_parse_sbdf(const char *name, __u32 p)
{
	__u64 x = 0;
	int h;

	for (__u32 i = 0; i < 12; i++) {
		char c = name[(p + i) & (VFB_NAME_LEN - 1)];

		if (i == 4 || i == 7 || i == 10) {
			if (c != (i == 10 ? '.' : ':'))
				return VFT_ALL_DEVICES;
			continue;
		}
		h = vfb_hexval(c);
		if (h < 0)
			return VFT_ALL_DEVICES;
		x = x << 4 | h;
	}
	/* Nine hex digits, DDDD BB dd f: regroup into domain, bus, devfn. */
	return (x >> 20) << 16 |			/* domain */
	       ((x >> 12) & 0xff) << 8 |		/* bus */
	       ((x >> 4) & 0x1f) << 3 |			/* device */
	       (x & 0x7);				/* function */
}

/*
 * The device and vector of an irq handler's @name (VFB_NAME_LEN bytes,
 * NUL-padded): 0 with @v's index, vector and sbdf set, or -1 when it is
 * not one of vfio_pci_core's.
 */
static __always_inline int vfb_parse_irq_name(const char *name, struct vft_vector *v)
{
	__u32 p, vec = 0;
	int h;

	if (name[0] != 'v' || name[1] != 'f' || name[2] != 'i' || name[3] != 'o' ||
	    name[4] != '-')
		return -1;
	if (name[5] == 'i') {
		v->index = VFT_IRQ_INTX;	/* vfio-intx( */
		p = 10;
	} else if (name[5] == 'm' && name[8] == 'x') {
		v->index = VFT_IRQ_MSIX;	/* vfio-msix[ */
		p = 10;
	} else if (name[5] == 'm') {
		v->index = VFT_IRQ_MSI;		/* vfio-msi[ */
		p = 9;
	} else {
		return -1;
	}
	if (v->index != VFT_IRQ_INTX) {
		for (int i = 0; i < 6; i++, p++) {
			h = name[p & (VFB_NAME_LEN - 1)];
			if (h < '0' || h > '9')
				break;
			vec = vec * 10 + (h - '0');
		}
		p += 2;				/* "](" */
	}
	v->vector = vec;
	v->sbdf = vfb_parse_sbdf(name, p);
	return v->sbdf == VFT_ALL_DEVICES ? -1 : 0;
}

#endif /* VFIO_NAMES_BPF_H */
