/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#ifndef __TRACE_TEST_H
#define __TRACE_TEST_H

/* Events counted by trace_test.bpf.c, in the order it prints them. */
enum trace_test_event {
	TT_OPEN, TT_CLOSE, TT_RESET, TT_CONFIG_READ, TT_CONFIG_WRITE,
	TT_BAR_READ, TT_BAR_WRITE, TT_MMAP, TT_IOCTL, TT_SET_IRQS,
	TT_IRQ_VECTOR, TT_MIG_TRANSITION, TT_MIG_DATA, TT_NR_EVENTS,
};

/* Which device and vector a host irq is armed for. */
struct tt_vector {
	__u32 sbdf;
	__u32 index;
	__u32 vector;
};

#define TT_MAX_DELIVERY_KEYS 64

#endif /* __TRACE_TEST_H */
