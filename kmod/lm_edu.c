// SPDX-License-Identifier: GPL-2.0
/*
 * Migration provider for QEMU's edu device (1234:11e8, docs/specs/edu.rst
 * in QEMU).  Everything goes through BAR0 MMIO, as a user would.
 *
 * Saved: liveness (0x04), factorial (0x08), the interrupt-on-factorial bit
 * of status (0x20), interrupt status (0x24), DMA source, destination and
 * count (0x80, 0x88, 0x90), and the identification register (0x00) to
 * refuse an image from another edu revision.
 *
 * Not saved: the 4 KiB DMA buffer inside edu (not reachable through MMIO),
 * the DMA command register (a restore never starts a DMA), config space
 * and MSI set-up (the VMM migrates those itself).
 */

#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/vfio_pci_core.h>

#include "lm.h"
#include "hooks.h"
#include "vfio_pci_bpf.h"

/* Built only where the kernel has what lm.c needs (compat.h). */
#if VFIO_PCI_BPF_MIGRATION

#define EDU_REG_IDENT		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_FACTORIAL	0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQFACT	0x80
#define EDU_DMA_RUN		0x01

/*
 * 34! is the first factorial divisible by 2^32; every argument from 34 up
 * leaves 0 in the register, so 0..34 reaches every value it can hold.
 */
#define EDU_FACT_MAX_ARG	34

/* edu computes in a thread and DMAs from a 100 ms timer: wait for both. */
#define EDU_IDLE_POLL_US	100
#define EDU_IDLE_TIMEOUT_US	1000000

#define EDU_STATE_VERSION	1

/* The payload of an edu image; little-endian, fixed width. */
struct vfio_pci_bpf_edu_state {
	__le32 ident;
	__le32 liveness;	/* as read: the inverse of what was written */
	__le32 factorial;	/* n! mod 2^32 */
	__le32 status;		/* EDU_STATUS_IRQFACT only */
	__le32 irq_status;
	__le32 reserved;	/* 0 */
	__le64 dma_src;
	__le64 dma_dst;
	__le64 dma_count;
};

static_assert(sizeof(struct vfio_pci_bpf_edu_state) == 48);

static void __iomem *vfio_pci_bpf_edu_bar(struct vfio_pci_bpf_device *vbdev)
{
	return vbdev->core_device.barmap[0];
}

/* Wait until no factorial is being computed and no DMA is pending. */
static int vfio_pci_bpf_edu_wait_idle(void __iomem *bar)
{
	u32 val;
	int err;

	err = read_poll_timeout(ioread32, val, !(val & EDU_STATUS_COMPUTING),
				EDU_IDLE_POLL_US, EDU_IDLE_TIMEOUT_US, false,
				bar + EDU_REG_STATUS);
	if (err)
		return err;
	return read_poll_timeout(ioread32, val, !(val & EDU_DMA_RUN),
				 EDU_IDLE_POLL_US, EDU_IDLE_TIMEOUT_US, false,
				 bar + EDU_REG_DMA_CMD);
}

/* The n for which edu leaves @value in the factorial register, or -EINVAL. */
static int vfio_pci_bpf_edu_fact_arg(u32 value)
{
	u32 fact = 1;
	int n;

	for (n = 0; n <= EDU_FACT_MAX_ARG; n++) {
		if (n)
			fact *= n;
		if (fact == value)
			return n;
	}
	return -EINVAL;
}

/*
 * BAR0 is mapped at the first migration arc of an open (lm.c), so save
 * and load never allocate, and an open that never migrates maps nothing.
 */
static int vfio_pci_bpf_edu_open(struct vfio_pci_bpf_device *vbdev)
{
	return vfio_pci_core_setup_barmap(&vbdev->core_device, 0);
}

static int vfio_pci_bpf_edu_save(struct vfio_pci_bpf_device *vbdev, void *buf,
				 size_t len)
{
	void __iomem *bar = vfio_pci_bpf_edu_bar(vbdev);
	struct vfio_pci_bpf_edu_state *st = buf;
	int err;

	if (len != sizeof(*st) || !bar)
		return -EINVAL;

	/* A computation in flight would change the factorial behind us. */
	err = vfio_pci_bpf_edu_wait_idle(bar);
	if (err)
		return err;

	st->ident = cpu_to_le32(ioread32(bar + EDU_REG_IDENT));
	st->liveness = cpu_to_le32(ioread32(bar + EDU_REG_LIVENESS));
	st->factorial = cpu_to_le32(ioread32(bar + EDU_REG_FACTORIAL));
	st->status = cpu_to_le32(ioread32(bar + EDU_REG_STATUS) &
				 EDU_STATUS_IRQFACT);
	st->irq_status = cpu_to_le32(ioread32(bar + EDU_REG_IRQ_STATUS));
	st->reserved = 0;
	/*
	 * The DMA registers are 64 bits wide and edu answers only whole
	 * accesses at their offsets: 8-byte MMIO (BAR0 is memory, so readq
	 * on the pci_iomap() address is right).
	 */
	st->dma_src = cpu_to_le64(readq(bar + EDU_REG_DMA_SRC));
	st->dma_dst = cpu_to_le64(readq(bar + EDU_REG_DMA_DST));
	st->dma_count = cpu_to_le64(readq(bar + EDU_REG_DMA_COUNT));
	return 0;
}

/*
 * Restoring writes device registers, as a user's BAR writes would: under
 * a policy each register the load is about to write (with the value it
 * writes) must pass the BAR rules first, or nothing is written.  Resuming
 * is not a way around a rule that keeps the user off a register.
 */
static int vfio_pci_bpf_edu_may_load(struct vfio_pci_bpf_device *vbdev,
				     const struct vfio_pci_bpf_edu_state *st,
				     int n)
{
	const struct {
		u32 reg, size;
		u64 value;
	} writes[] = {
		{ EDU_REG_STATUS, 4, 0 },
		{ EDU_REG_FACTORIAL, 4, n },
		{ EDU_REG_STATUS, 4, le32_to_cpu(st->status) },
		{ EDU_REG_LIVENESS, 4, ~le32_to_cpu(st->liveness) },
		{ EDU_REG_IRQ_ACK, 4, U32_MAX },
		{ EDU_REG_IRQ_RAISE, 4, le32_to_cpu(st->irq_status) },
		{ EDU_REG_DMA_SRC, 8, le64_to_cpu(st->dma_src) },
		{ EDU_REG_DMA_DST, 8, le64_to_cpu(st->dma_dst) },
		{ EDU_REG_DMA_COUNT, 8, le64_to_cpu(st->dma_count) },
	};

	if (!vfio_pci_bpf_policed(vbdev))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
		struct vfio_bpf_access ctx = {
			.sbdf = vbdev->sbdf,
			.region = VFIO_PCI_BAR0_REGION_INDEX,
			.offset = writes[i].reg,
			.size = writes[i].size,
			.write = 1,
			.value = writes[i].value,
		};

		if (vfio_pci_bpf_hook_bar_access(vbdev, &ctx) != VFIO_BPF_ALLOW)
			return -EPERM;
	}
	return 0;
}

static int vfio_pci_bpf_edu_load(struct vfio_pci_bpf_device *vbdev,
				 const void *buf, size_t len)
{
	void __iomem *bar = vfio_pci_bpf_edu_bar(vbdev);
	const struct vfio_pci_bpf_edu_state *st = buf;
	u32 status, irq_status;
	int n, err;

	if (len != sizeof(*st) || !bar)
		return -EINVAL;

	/* Check everything first: a bad image must not touch the device. */
	status = le32_to_cpu(st->status);
	n = vfio_pci_bpf_edu_fact_arg(le32_to_cpu(st->factorial));
	if (n < 0 || (status & ~EDU_STATUS_IRQFACT) || st->reserved ||
	    le32_to_cpu(st->ident) != ioread32(bar + EDU_REG_IDENT))
		return -EINVAL;
	err = vfio_pci_bpf_edu_may_load(vbdev, st, n);
	if (err)
		return err;

	err = vfio_pci_bpf_edu_wait_idle(bar);
	if (err)
		return err;

	/*
	 * The factorial register can only be set by computing: disable the
	 * completion interrupt first so the restore itself raises none, then
	 * compute n! again.
	 */
	iowrite32(0, bar + EDU_REG_STATUS);
	iowrite32(n, bar + EDU_REG_FACTORIAL);
	err = vfio_pci_bpf_edu_wait_idle(bar);
	if (err)
		return err;
	iowrite32(status, bar + EDU_REG_STATUS);

	/* A write stores the inverse. */
	iowrite32(~le32_to_cpu(st->liveness), bar + EDU_REG_LIVENESS);

	/*
	 * Interrupt status can only be set by raising: clear what this
	 * device had, then raise the saved bits.  This asserts the interrupt
	 * while still in STOP; the destination VMM has set up its interrupts
	 * before it resumes, and the source had it pending as well.
	 */
	iowrite32(ioread32(bar + EDU_REG_IRQ_STATUS), bar + EDU_REG_IRQ_ACK);
	irq_status = le32_to_cpu(st->irq_status);
	if (irq_status)
		iowrite32(irq_status, bar + EDU_REG_IRQ_RAISE);

	/* Registers only: the command register is not written, no DMA starts. */
	writeq(le64_to_cpu(st->dma_src), bar + EDU_REG_DMA_SRC);
	writeq(le64_to_cpu(st->dma_dst), bar + EDU_REG_DMA_DST);
	writeq(le64_to_cpu(st->dma_count), bar + EDU_REG_DMA_COUNT);
	return 0;
}

const struct vfio_pci_bpf_lm_provider vfio_pci_bpf_lm_edu = {
	.name		= "edu",
	.vendor		= 0x1234,
	.device		= 0x11e8,
	.version	= EDU_STATE_VERSION,
	.state_size	= sizeof(struct vfio_pci_bpf_edu_state),
	.open		= vfio_pci_bpf_edu_open,
	.save		= vfio_pci_bpf_edu_save,
	.load		= vfio_pci_bpf_edu_load,
};

#endif /* VFIO_PCI_BPF_MIGRATION */
