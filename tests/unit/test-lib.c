// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of libvfiobpf's kinds (names from the X-macros, the
 * formatters of each record) and counters (interval differences).  User
 * space only: nothing is loaded.  Prints "PASS: ..." / "FAIL: ..." lines;
 * exits 1 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "kinds.h"

static int failures;

static void verdict(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	failures += !ok;
}

static void expect_str(const char *what, const char *got, const char *want)
{
	verdict(!strcmp(got, want), what);
	if (strcmp(got, want))
		printf("  got:  [%s]\n  want: [%s]\n", got, want);
}

static void names(void)
{
	bool ok = true;

	for (int k = 0; k < VFT_NR_KINDS; k++)
		ok &= vfb_kinds[k].kind == (enum vft_kind)k && vfb_kinds[k].name &&
		      vfb_kinds[k].text && vfb_kinds[k].json &&
		      vfb_kind_by_name(vfb_kinds[k].name) == k;
	verdict(ok, "kinds: every kind has its entry, name and formatters, found by name");
	expect_str("kinds: config_write", vfb_kind_name(VFT_CONFIG_WRITE), "config_write");
	expect_str("kinds: policy is the last of the list", vfb_kind_name(VFT_NR_KINDS - 1),
		   "policy");
	verdict(!(vfb_kinds[VFT_IRQ].flags & VFT_K_OP) &&
		!(vfb_kinds[VFT_IRQ_VECTOR].flags & VFT_K_OP) &&
		!(vfb_kinds[VFT_POLICY].flags & VFT_K_OP) &&
		(vfb_kinds[VFT_IOCTL].flags & VFT_K_OP),
		"kinds: irq, irq_vector and policy are no operations");
	{
		union vft_data d = { .policy = {
			.hook = 1, .verdict = 2, .monitor = 1, .rule = 3, .region = 7,
			.offset = 4, .size = 2, .value = 0x6, .name = "q\"uoted",
		} };
		char b[512];

		vfb_kinds[VFT_POLICY].json(&d, b, sizeof(b));
		expect_str("kinds: a policy decision as JSON members", b,
			   "\"hook\":\"config_write\",\"verdict\":\"rewrite\",\"mode\":\"monitor\","
			   "\"rule\":3,\"policy\":\"q\\\"uoted\",\"region\":7,\"offset\":4,"
			   "\"size\":2,\"value\":6");
		d.policy.rule = ~0u;
		vfb_kinds[VFT_POLICY].text(&d, b, sizeof(b));
		expect_str("kinds: ... and as text, no rule named", b,
			   "rewrite config_write mon r- q\"uoted 0x4/2");
	}
	verdict(vfb_kind_by_name("nosuch") == -1, "kinds: an unknown name is -1");
	expect_str("irq index 2 is MSIX", vfb_irq_index_name(VFT_IRQ_MSIX), "MSIX");
	expect_str("irq index 9 is ?", vfb_irq_index_name(9), "?");
	expect_str("region 7 is CONFIG", vfb_region_name(VFT_REGION_CONFIG), "CONFIG");
	expect_str("reset kind 2 is flr", vfb_reset_name(2), "flr");
	expect_str("migration state 3 is STOP_COPY", vfb_mig_state_name(3), "STOP_COPY");
}

static struct vft_event ev(enum vft_kind kind, int ret)
{
	struct vft_event e = { .ts_ns = 1000, .sbdf = 0x20, .kind = kind, .pid = 4194304,
			       .ret = ret };

	strcpy(e.comm, "vfio-client");
	return e;
}

static void json(void)
{
	struct vft_event e = ev(VFT_CONFIG_WRITE, 4);
	char line[512];

	e.d.config_write.offset = 0x10;
	e.d.config_write.size = 4;
	e.d.config_write.value = 0xffffffff;
	e.d.config_write.old = 0x1122334455667788ULL;
	e.d.config_write.new = 0xfedcba9876543210ULL;
	vfb_event_json(&e, line, sizeof(line));
	expect_str("json: config_write, old and new full 64-bit", line,
		   "{\"ts_ns\":1000,\"bdf\":\"0000:00:04.0\",\"event\":\"config_write\","
		   "\"pid\":4194304,\"comm\":\"vfio-client\",\"ret\":4,\"offset\":16,\"size\":4,"
		   "\"value\":4294967295,\"old\":1234605616436508552,\"new\":18364758544493064720}");

	e = ev(VFT_MIG_DATA, -22);
	e.d.mig_data.offset = 4096;
	vfb_event_json(&e, line, sizeof(line));
	verdict(strstr(line, "\"ret\":-22,\"write\":false,\"offset\":4096,\"bytes\":0}") != NULL,
		"json: a failed mig_data says ret -22 and 0 bytes");

	e = ev(VFT_MIG_TRANSITION, 0);
	e.d.mig_transition.from = 2;
	e.d.mig_transition.to = 3;
	e.d.mig_transition.duration_ns = 1500;
	vfb_event_json(&e, line, sizeof(line));
	verdict(strstr(line, "\"from\":\"RUNNING\",\"to\":\"STOP_COPY\",\"duration_ns\":1500}") != NULL,
		"json: migration states by name");

	e = ev(VFT_IRQ_VECTOR, 0);
	e.d.irq_vector.index = VFT_IRQ_MSI;
	e.d.irq_vector.vector = ~0u;
	e.d.irq_vector.host_irq = -1;
	vfb_event_json(&e, line, sizeof(line));
	verdict(strstr(line, "\"index\":\"MSI\",\"vector\":-1,\"host_irq\":-1,\"armed\":false}") != NULL,
		"json: a whole index torn down is vector -1, host_irq -1");
	e = ev(VFT_OPEN, 0);
	strcpy(e.comm, "a\"b\\c\x01");
	vfb_event_json(&e, line, sizeof(line));
	verdict(strstr(line, "\"comm\":\"a\\\"b\\\\c\\u0001\",\"ret\":0}") != NULL,
		"json: comm escaped, open has no members of its own");
}

/* The lines MSI set-up and the demo print: each within 80 columns. */
static void text(void)
{
	struct vft_event e;
	char line[512], what[160];
	struct {
		enum vft_kind kind;
		union vft_data d;
		const char *detail;
	} cases[] = {
		{ VFT_CONFIG_WRITE, { .config_write = { 0x54, 4, 0xfee00000, 0, 0xfee00000 } },
		  "0x54/4 0>0xfee00000" },
		{ VFT_CONFIG_WRITE, { .config_write = { 0x52, 2, 0x81, 0x80, 0x81 } },
		  "0x52/2 0x80>0x81" },
		{ VFT_CONFIG_WRITE, { .config_write = { 0x4, 2, 0x6, 0x7, 0x2 } },
		  "0x4/2 0x7>0x2 w=0x6" },
		{ VFT_CONFIG_READ, { .config_read = { 0x40, 4, 0xfee00000 } }, "0x40/4=0xfee00000" },
		{ VFT_BAR_WRITE, { .bar = { 0, 4, 0x80, 0xfffff000 } }, "b0 0x80/4=0xfffff000" },
		{ VFT_MMAP, { .mmap = { 0, 0, 0, 0x100000 } }, "BAR0 0+0x100000" },
		{ VFT_SET_IRQS, { .set_irqs = { 2, 0, 16, 0x24 } }, "MSIX 0+16 f=0x24" },
		{ VFT_IRQ_VECTOR, { .irq_vector = { 2, 15, 1023, 1 } }, "MSIX 15 irq 1023 on" },
		{ VFT_MIG_TRANSITION, { .mig_transition = { 2, 3, 1234567 } },
		  "RUNNING>STOP_COPY 1234us" },
	};

	vfb_event_header(line, sizeof(line));
	expect_str("text: the header", line,
		   "TIME(s)  BDF     COMM           PID EVENT           RET DETAIL");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = ev(cases[i].kind, -22);
		e.pid = 123456;		/* six digits: the PID column's width */
		e.d = cases[i].d;
		vfb_event_text(&e, 1234.567, line, sizeof(line));
		snprintf(what, sizeof(what), "text: %s detail '%s' within 80 columns (%zu)",
			 vfb_kind_name(e.kind), cases[i].detail, strlen(line));
		verdict(strlen(line) <= 80 && strlen(line) > strlen(cases[i].detail) &&
			!strcmp(line + strlen(line) - strlen(cases[i].detail), cases[i].detail),
			what);
	}
	e = ev(VFT_IRQ, 0);
	e.comm[0] = '\0';
	e.pid = 0;
	e.d.irq.index = VFT_IRQ_INTX;
	e.d.irq.host_irq = 11;
	vfb_event_text(&e, 1.5, line, sizeof(line));
	expect_str("text: an interrupt, of no task", line,
		   "1.500    00:04.0 [irq]            0 irq               0 INTX 0 irq 11");
	e.sbdf = 1u << 16 | 0x20;
	vfb_event_text(&e, 1.5, line, sizeof(line));
	verdict(strstr(line, " 0001:00:04.0 ") != NULL, "text: a device of domain 1 by its full name");
}

static void intervals(void)
{
	struct vfb_count c0[] = { { { 0x20, VFT_OPEN }, { 1, 0 } },
				  { { 0x20, VFT_IOCTL }, { 10, 2 } } };
	struct vfb_count c1[] = { { { 0x20, VFT_OPEN }, { 1, 0 } },
				  { { 0x20, VFT_IOCTL }, { 25, 3 } },
				  { { 0x28, VFT_OPEN }, { 4, 1 } } };
	struct vfb_delivery d0[] = { { { 0x20, 1, 0, 0 }, 5 } };
	struct vfb_delivery d1[] = { { { 0x20, 1, 0, 0 }, 7 } };
	struct vfb_snapshot prev = { .counts = c0, .ncounts = 2, .irqs = d0, .nirqs = 1 };
	struct vfb_snapshot now = { .counts = c1, .ncounts = 3, .irqs = d1, .nirqs = 1 }, s;

	verdict(!vfb_snapshot_copy(&s, &now), "intervals: a snapshot copies");
	vfb_snapshot_since(&s, &prev);
	verdict(s.counts[0].n.events == 0 && s.counts[1].n.events == 15 &&
		s.counts[1].n.errors == 1 && s.counts[2].n.events == 4 && s.counts[2].n.errors == 1,
		"intervals: counts since the last snapshot; a new key counts whole");
	verdict(s.irqs[0].n == 2, "intervals: deliveries since the last snapshot");
	verdict(c1[1].n.events == 25, "intervals: the totals kept are untouched");
	vfb_snapshot_free(&s);
}

int main(void)
{
	names();
	json();
	text();
	intervals();
	return failures ? 1 : 0;
}
