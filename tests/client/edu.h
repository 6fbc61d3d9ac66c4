/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu device (hw/misc/edu.c, docs/specs/edu.rst): the registers of
 * BAR0 the test clients drive.
 */
#ifndef __VFIO_BPF_EDU_H
#define __VFIO_BPF_EDU_H

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8

#define EDU_REG_IDENT		0x00	/* 0xRRrr00ed: major, minor */
#define EDU_REG_LIVENESS	0x04	/* reads back the inverse of a write */
#define EDU_REG_FACTORIAL	0x08	/* write n: computes n! (mod 2^32) */
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60	/* bits ORed into the irq status */
#define EDU_REG_IRQ_ACK		0x64	/* bits cleared from it */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQFACT	0x80	/* raise an irq when a factorial is done */

#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_BUF		0x40000	/* the device's 4 KiB buffer, as a DMA address */
#define EDU_DMA_BUF_SIZE	4096

#endif /* __VFIO_BPF_EDU_H */
