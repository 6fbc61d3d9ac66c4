// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy compiler (loader/policy.c): what a valid file
 * compiles to, and the file:line:column of each kind of mistake.  Pure user
 * space: no kernel, no BPF.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

static int passed, failed;

static void verdict(int ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "PASS: " : "FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	ok ? passed++ : failed++;
}

static const char good[] =
"version: 1\n"
"policies:\n"
"  - name: edu-lockdown\n"
"    match: { vendor: 0x1234, device: 0x11e8 }\n"
"    config:\n"
"      - { offset: 0x3c, size: 1, write: deny }\n"
"      - { offset: 0x04, size: 2, write: mask, mask: 0x0004 }\n"
"      - { offset: 0x2c, read: 0xabcd1234 }\n"
"      - { offset: 0x40, size: 16, read: deny }\n"
"    bars:\n"
"      - { bar: 0, trap: true }\n"
"      - { bar: 0, offset: 0x80, size: 0x20, deny: write }\n"
"    interrupts: { msi: 1, msix: 0 }\n"
"    reset: deny\n"
"    migration: deny\n"
"  - name: a-vf\n"
"    match: { pf: 0000:00:06.0, vf: 1 }\n"
"    open: deny\n"
"  - name: everything-else\n";

static void test_good(void)
{
	struct vfb_device edu = { .bdf = "0000:00:04.0", .vendor = 0x1234, .device = 0x11e8,
				  .vf = -1 };
	struct vfb_device vf1 = { .bdf = "0000:00:16.2", .vendor = 0x8086, .device = 0x10ca,
				  .pf = "0000:00:06.0", .vf = 1 };
	struct vfb_device vf0 = { .bdf = "0000:00:16.0", .vendor = 0x8086, .device = 0x10ca,
				  .pf = "0000:00:06.0", .vf = 0 };
	const struct vfp_entry *e;
	const struct vfp_policy *p;
	struct vfp_file f;
	char err[256] = "";
	int ret;

	ret = vfp_parse_string("good.yaml", good, strlen(good), &f, err, sizeof(err));
	verdict(ret == 0, "good file parses (%s)", err);
	if (ret)
		return;
	verdict(f.n == 3, "three policies (%d)", f.n);
	p = &f.entries[0].policy;
	verdict(!strcmp(p->name, "edu-lockdown"), "first name");
	verdict(p->n_config == 4, "four config rules (%u)", p->n_config);
	verdict(p->config[0].offset == 0x3c && p->config[0].size == 1 &&
		p->config[0].actions == VFP_CFG_DENY_WRITE, "deny write at 0x3c/1");
	verdict(p->config[1].actions == VFP_CFG_MASK_WRITE && p->config[1].mask == 4,
		"mask write 0x4 at 0x04/2");
	verdict(p->config[2].actions == VFP_CFG_SUBST_READ && p->config[2].size == 4 &&
		p->config[2].value == 0xabcd1234, "substitute 0xabcd1234 at 0x2c, size 4 by default");
	verdict(p->config[3].actions == VFP_CFG_DENY_READ && p->config[3].size == 16,
		"deny reads of 16 bytes at 0x40");
	verdict(p->trap_bars == 1, "BAR0 trapped (%#x)", p->trap_bars);
	verdict(p->n_bar == 1 && p->bar[0].offset == 0x80 && p->bar[0].size == 0x20 &&
		p->bar[0].actions == VFP_BAR_DENY_WRITE, "BAR0 writes to 0x80+0x20 denied");
	verdict(p->max_vectors[1] == 1 && p->max_vectors[2] == 0 &&
		p->max_vectors[0] == VFP_NO_LIMIT, "vector limits: MSI 1, MSI-X 0, INTx none");
	verdict(p->deny_reset && p->deny_migration && !p->deny_open, "reset, migration denied");
	verdict(f.entries[0].line == 3, "first policy starts at line 3 (%d)", f.entries[0].line);

	e = vfp_lookup(&f, &edu);
	verdict(e && !strcmp(e->policy.name, "edu-lockdown"), "edu matches by vendor:device");
	e = vfp_lookup(&f, &vf1);
	verdict(e && !strcmp(e->policy.name, "a-vf") && e->policy.deny_open,
		"VF 1 of the PF matches by pf and vf index");
	e = vfp_lookup(&f, &vf0);
	verdict(e && !strcmp(e->policy.name, "everything-else"),
		"VF 0 falls through to the catch-all");
	vfp_file_free(&f);
}

/* Each bad file and the exact error it must give. */
static const struct {
	const char *what, *text, *want;
} bad[] = {
	{ "YAML syntax", "version: 1\npolicies: [\n",
	  "bad.yaml:3:1: did not find expected node content while parsing a flow node" },
	{ "missing version", "policies: []\n", "bad.yaml:1:1: missing version: 1" },
	{ "unsupported version", "version: 2\npolicies: []\n",
	  "bad.yaml:1:10: version 2 is not supported (this vfio-bpf reads version 1)" },
	{ "unknown top-level key", "version: 1\npolicy: []\n",
	  "bad.yaml:2:1: unknown key 'policy' in the policy file (expected version, policies)" },
	{ "typo in a rule",
	  "version: 1\npolicies:\n  - name: p\n    config:\n      - { offset: 0x3c, wirte: deny }\n",
	  "bad.yaml:5:25: unknown key 'wirte' in config rule (expected offset, size, read, write, mask, keep)" },
	{ "bad number",
	  "version: 1\npolicies:\n  - name: p\n    config:\n      - { offset: 0x3g, write: deny }\n",
	  "bad.yaml:5:19: offset must be a number, not '0x3g'" },
	{ "offset out of config space",
	  "version: 1\npolicies:\n  - name: p\n    config:\n      - { offset: 0xffe, size: 4, write: deny }\n",
	  "bad.yaml:5:32: size 4 at offset 0xffe leaves config space (4096 bytes)" },
	{ "bad action",
	  "version: 1\npolicies:\n  - name: p\n    config:\n      - { offset: 4, write: never }\n",
	  "bad.yaml:5:29: write must be one of allow, deny, mask, not 'never'" },
	{ "mask without write: mask",
	  "version: 1\npolicies:\n  - name: p\n    config:\n      - { offset: 4, write: deny, mask: 4 }\n",
	  "bad.yaml:5:41: mask goes with write: mask" },
	{ "missing name", "version: 1\npolicies:\n  - match: { vendor: 0x1234 }\n",
	  "bad.yaml:3:5: policy needs a name" },
	{ "duplicate name", "version: 1\npolicies:\n  - name: p\n  - name: p\n",
	  "bad.yaml:4:5: a second policy named 'p' (the first is at line 3)" },
	{ "bad BDF", "version: 1\npolicies:\n  - name: p\n    match: { bdf: 00:04.0 }\n",
	  "bad.yaml:4:19: match.bdf must be a PCI address like 0000:01:00.0, not '00:04.0'" },
	{ "bar out of range", "version: 1\npolicies:\n  - name: p\n    bars: [ { bar: 6, trap: true } ]\n",
	  "bad.yaml:4:20: bar 6 is out of range (at most 0x5)" },
	{ "empty file", "", "bad.yaml:1:1: empty policy file (expected version: 1 and policies:)" },
	/* Numbers are digits, decimal or 0x hex; strtoull() alone took more. */
	{ "a number with a leading blank",
	  "version: 1\npolicies:\n  - name: p\n    config: [ { offset: \" 16\", write: deny } ]\n",
	  "bad.yaml:4:25: offset must be a number, not ' 16'" },
	{ "a number with a sign",
	  "version: 1\npolicies:\n  - name: p\n    config: [ { offset: +16, write: deny } ]\n",
	  "bad.yaml:4:25: offset must be a number, not '+16'" },
	{ "a negative number that wraps to 1", "version: \" -18446744073709551615\"\npolicies: []\n",
	  "bad.yaml:1:10: version must be a number, not ' -18446744073709551615'" },
	{ "0x twice",
	  "version: 1\npolicies:\n  - name: p\n    config: [ { offset: 0x0x10, write: deny } ]\n",
	  "bad.yaml:4:25: offset must be a number, not '0x0x10'" },
	/* A BDF is exactly DDDD:BB:DD.F; sscanf() alone took 0x and blanks. */
	{ "a BDF with 0x", "version: 1\npolicies:\n  - name: p\n    match: { bdf: 0x00:00:04.0 }\n",
	  "bad.yaml:4:19: match.bdf must be a PCI address like 0000:01:00.0, not '0x00:00:04.0'" },
	{ "a BDF with a blank", "version: 1\npolicies:\n  - name: p\n    match: { pf: \" 000:00:06.0\" }\n",
	  "bad.yaml:4:18: match.pf must be a PCI address like 0000:01:00.0, not ' 000:00:06.0'" },
	{ "a BDF with shifted fields",
	  "version: 1\npolicies:\n  - name: p\n    match: { bdf: 0000:0:004.0 }\n",
	  "bad.yaml:4:19: match.bdf must be a PCI address like 0000:01:00.0, not '0000:0:004.0'" },
	/* A NUL inside a quoted scalar: as a C string it was its first part. */
	{ "a NUL in a name", "version: 1\npolicies:\n  - name: \"a\\0b\"\n",
	  "bad.yaml:3:11: policy needs a name" },
	{ "a NUL in a number",
	  "version: 1\npolicies:\n  - name: p\n    config: [ { offset: 0x10, read: \"0x12\\0junk\" } ]\n",
	  "bad.yaml:4:37: read (allow, deny or a value) must be a number" },
	/* Rules that contradict or shadow each other: both are named. */
#define CFG "version: 1\npolicies:\n  - name: p\n    config:\n"
	{ "write: deny and write: mask on the same byte",
	  CFG "      - { offset: 0x3c, size: 1, write: deny }\n"
	      "      - { offset: 0x3c, size: 1, write: mask, mask: 1 }\n",
	  "bad.yaml:6:41: write: mask on 0x3c contradicts write: deny on 0x3c (line 5, column 41): "
	  "deny wins: the mask never applies" },
	{ "a write: mask, then a deny over it",
	  CFG "      - { offset: 0x04, size: 2, write: mask, mask: 4 }\n"
	      "      - { offset: 0x04, write: deny }\n",
	  "bad.yaml:6:32: write: deny on 0x4-0x7 contradicts write: mask on 0x4-0x5 (line 5, column 41): "
	  "deny wins: the mask never applies" },
	{ "read: deny and a read value on overlapping bytes",
	  CFG "      - { offset: 0x2c, read: deny }\n"
	      "      - { offset: 0x2e, size: 2, read: 0 }\n",
	  "bad.yaml:6:40: read: 0 on 0x2e-0x2f contradicts read: deny on 0x2c-0x2f (line 5, column 31): "
	  "deny wins: the value is never read" },
	{ "two read values for the same bytes",
	  CFG "      - { offset: 0x2c, read: 1 }\n"
	      "      - { offset: 0x2c, read: 2 }\n",
	  "bad.yaml:6:31: read: 2 on 0x2c-0x2f contradicts read: 1 on 0x2c-0x2f (line 5, column 31): "
	  "two values for the same bytes: give one" },
	{ "two masks on one byte",
	  CFG "      - { offset: 0x04, size: 2, write: mask, mask: 4 }\n"
	      "      - { offset: 0x05, size: 1, write: mask, mask: 1 }\n",
	  "bad.yaml:6:41: write: mask on 0x5 contradicts write: mask on 0x4-0x5 (line 5, column 41): "
	  "two masks for the same bytes: give one" },
	{ "a deny inside an earlier deny (shadowed)",
	  CFG "      - { offset: 0x40, size: 16, read: deny }\n"
	      "      - { offset: 0x44, read: deny }\n",
	  "bad.yaml:6:31: read: deny on 0x44-0x47 is shadowed by read: deny on 0x40-0x4f (line 5, column 41): "
	  "those bytes are denied already" },
	{ "a deny over an earlier deny",
	  CFG "      - { offset: 0x44, write: deny }\n"
	      "      - { offset: 0x40, size: 16, write: deny }\n",
	  "bad.yaml:6:42: write: deny on 0x40-0x4f shadows write: deny on 0x44-0x47 (line 5, column 32): "
	  "that rule changes nothing" },
	{ "an allow inside a deny (no exception)",
	  CFG "      - { offset: 0x40, size: 16, read: deny }\n"
	      "      - { offset: 0x44, read: allow, write: deny }\n",
	  "bad.yaml:6:31: read: allow on 0x44-0x47 contradicts read: deny on 0x40-0x4f (line 5, column 41): "
	  "deny wins: an allow makes no exception to it" },
	{ "an allow over a read value",
	  CFG "      - { offset: 0x2c, read: 0x1234 }\n"
	      "      - { offset: 0x2c, size: 2, read: allow, write: deny }\n",
	  "bad.yaml:6:40: read: allow on 0x2c-0x2d contradicts read: 0x1234 on 0x2c-0x2f (line 5, column 31): "
	  "the value is read instead: an allow makes no exception to it" },
#define BARS "version: 1\npolicies:\n  - name: p\n    bars:\n"
	{ "a BAR deny inside an earlier deny: all (shadowed)",
	  BARS "      - { bar: 0, deny: all }\n"
	       "      - { bar: 0, offset: 0x80, size: 4, deny: write }\n",
	  "bad.yaml:6:48: deny: write on BAR0 0x80-0x83 is shadowed by deny: all on BAR0 from 0x0 "
	  "(line 5, column 25): that is denied already" },
	{ "a BAR deny over an earlier one",
	  BARS "      - { bar: 0, offset: 0x80, size: 4, deny: write }\n"
	       "      - { bar: 0, offset: 0x40, deny: write }\n",
	  "bad.yaml:6:39: deny: write on BAR0 from 0x40 shadows deny: write on BAR0 0x80-0x83 "
	  "(line 5, column 48): that rule changes nothing" },
	{ "trap: false on a BAR with a deny rule",
	  BARS "      - { bar: 2, trap: false }\n"
	       "      - { bar: 2, offset: 0x80, size: 4, deny: write }\n",
	  "bad.yaml:6:48: deny: write on BAR2 0x80-0x83 contradicts trap: false (line 5, column 25): "
	  "a BAR with a deny rule is always trapped" },
	{ "trap: true and trap: false on one BAR",
	  BARS "      - { bar: 2, trap: true }\n      - { bar: 2, trap: false }\n",
	  "bad.yaml:6:25: trap: false for BAR2 contradicts trap: true (line 5, column 25)" },
	{ "two policies with the same match",
	  "version: 1\npolicies:\n  - name: a\n    match: { vendor: 0x8086 }\n"
	  "  - name: b\n    match: { vendor: 0x8086 }\n",
	  "bad.yaml:6:12: policy 'b' has the same match as policy 'a' (line 3), which comes first: "
	  "'b' never applies" },
	{ "a policy behind a broader one",
	  "version: 1\npolicies:\n  - name: a\n    match: { vendor: 0x8086 }\n"
	  "  - name: b\n    match: { device: 0x10ca, vendor: 0x8086 }\n",
	  "bad.yaml:6:12: policy 'b' never applies: policy 'a' (line 3) comes first and matches "
	  "every device it matches" },
	{ "a mode that does not exist",
	  "version: 1\npolicies:\n  - name: a\n    mode: permissive\n",
	  "bad.yaml:4:11: mode must be one of enforce, monitor, not 'permissive'" },
	{ "two catch-all policies", "version: 1\npolicies:\n  - name: a\n  - name: b\n",
	  "bad.yaml:4:5: policy 'b' has the same match as policy 'a' (line 3), which comes first: "
	  "'b' never applies" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vfp_file f;
		char err[256] = "";
		int ret;

		ret = vfp_parse_string("bad.yaml", bad[i].text, strlen(bad[i].text), &f,
				       err, sizeof(err));
		verdict(ret == -1 && !strcmp(err, bad[i].want), "%s: '%s'%s%s%s", bad[i].what,
			bad[i].want, strcmp(err, bad[i].want) ? " (got '" : "",
			strcmp(err, bad[i].want) ? err : "", strcmp(err, bad[i].want) ? "')" : "");
		verdict(f.entries == NULL && f.n == 0, "%s: nothing half parsed", bad[i].what);
	}
}

/* mode: enforce by default, monitor when it says so; it changes no rule. */
static void test_mode(void)
{
	static const char text[] =
		"version: 1\npolicies:\n"
		"  - name: tried\n    match: { bdf: 0000:00:04.0 }\n    mode: monitor\n"
		"    config:\n      - { offset: 0x3c, size: 1, write: deny }\n"
		"  - name: kept\n    mode: enforce\n"
		"    config:\n      - { offset: 0x3c, size: 1, write: deny }\n";
	struct vfp_file f;
	char err[256] = "";

	verdict(!vfp_parse_string("mode.yaml", text, strlen(text), &f, err, sizeof(err)),
		"mode: monitor and enforce parse (%s)", err);
	if (f.n != 2)
		return;
	verdict(f.entries[0].policy.monitor == 1, "mode: monitor compiles to monitor");
	verdict(f.entries[1].policy.monitor == 0, "mode: enforce compiles to enforce");
	verdict(f.entries[0].policy.n_config == 1 &&
		f.entries[0].policy.config[0].actions == VFP_CFG_DENY_WRITE,
		"mode: the rules are the same in monitor mode");
	vfp_file_free(&f);
}

static void test_missing_file(void)
{
	struct vfp_file f;
	char err[256] = "";

	verdict(vfp_parse_file("/nonexistent/p.yaml", &f, err, sizeof(err)) == -1 &&
		!strcmp(err, "/nonexistent/p.yaml: No such file or directory"),
		"missing file named with errno (%s)", err);
	/* fopen() takes a directory; reading it fails, which is no empty file. */
	verdict(vfp_parse_file("/", &f, err, sizeof(err)) == -1 &&
		!strcmp(err, "/: Is a directory") && !f.entries,
		"a directory is refused as one (%s)", err);
}

/* Decimal means decimal: a leading 0 is no octal (010 was 8, 08 an error). */
static void test_numbers(void)
{
	static const char text[] =
		"version: 1\npolicies:\n  - name: p\n    config:\n"
		"      - { offset: 010, size: 02, write: deny }\n"
		"      - { offset: 0X1C, size: 08, read: deny }\n"
		"    match: { bdf: 0000:00:1F.7 }\n";
	struct vfp_file f;
	char err[256] = "";
	const struct vfp_policy *p;

	if (vfp_parse_string("n.yaml", text, strlen(text), &f, err, sizeof(err))) {
		verdict(0, "numbers: parses (%s)", err);
		return;
	}
	p = &f.entries[0].policy;
	verdict(p->config[0].offset == 10 && p->config[0].size == 2,
		"numbers: 010 is ten, 02 two (%u, %u)", p->config[0].offset, p->config[0].size);
	verdict(p->config[1].offset == 0x1c && p->config[1].size == 8,
		"numbers: 0X1C is hex, 08 eight (%#x, %u)", p->config[1].offset, p->config[1].size);
	verdict(!strcmp(f.entries[0].match.bdf, "0000:00:1f.7"),
		"numbers: an upper-case BDF is taken, in sysfs spelling (%s)", f.entries[0].match.bdf);
	vfp_file_free(&f);
}

/* Rules that only look alike: they compile, and to what they say. */
static void test_legit_combinations(void)
{
	static const char text[] =
		"version: 1\npolicies:\n  - name: nic-vf\n    match: { pf: 0000:00:06.0, vf: 1 }\n"
		"    config:\n"
		/* a read value and a write mask on one register */
		"      - { offset: 0x04, size: 2, read: 0x0146, write: mask, mask: 0x0004 }\n"
		/* a read deny and a write mask on the same bytes, in two rules */
		"      - { offset: 0x40, size: 4, read: deny }\n"
		"      - { offset: 0x40, size: 4, write: mask, mask: 0xff }\n"
		/* denies that overlap without one holding the other: they add up */
		"      - { offset: 0x80, size: 8, read: deny }\n"
		"      - { offset: 0x84, size: 8, read: deny }\n"
		/* neighbours in one dword */
		"      - { offset: 0x3c, size: 1, write: deny }\n"
		"      - { offset: 0x3d, size: 1, write: mask, mask: 0x01 }\n"
		/* a read deny and a write deny on the same bytes */
		"      - { offset: 0x10, size: 4, read: deny }\n"
		"      - { offset: 0x10, size: 4, write: deny }\n"
		"    bars:\n"
		"      - { bar: 0, trap: true }\n"
		"      - { bar: 0, offset: 0x80, size: 4, deny: read }\n"
		"      - { bar: 0, offset: 0x80, size: 4, deny: write }\n"
		"      - { bar: 0, offset: 0x82, size: 4, deny: write }\n"
		"      - { bar: 2, deny: write }\n"
		"      - { bar: 3, trap: false }\n"
		"  - name: other-vfs\n    match: { pf: 0000:00:06.0 }\n"
		"  - name: vf1-of-any-pf\n    match: { vf: 1 }\n"
		"  - name: edu\n    match: { vendor: 0x1234, device: 0x11e8 }\n"
		"  - name: intel\n    match: { vendor: 0x8086 }\n"
		"  - name: rest\n";
	const struct vfp_policy *p;
	struct vfp_file f;
	char err[256] = "";

	if (vfp_parse_string("ok.yaml", text, strlen(text), &f, err, sizeof(err))) {
		verdict(0, "legit combinations compile (%s)", err);
		return;
	}
	verdict(f.n == 6, "legit combinations: six policies, each reachable (%d)", f.n);
	p = &f.entries[0].policy;
	verdict(p->n_config == 9 && p->config[0].actions == (VFP_CFG_SUBST_READ | VFP_CFG_MASK_WRITE) &&
		p->config[0].value == 0x0146 && p->config[0].mask == 0x0004,
		"legit combinations: a read value and a write mask on one register");
	verdict(p->config[1].actions == VFP_CFG_DENY_READ && p->config[2].actions == VFP_CFG_MASK_WRITE,
		"legit combinations: a read deny and a write mask on the same bytes");
	verdict(p->n_bar == 4 && p->trap_bars == 1, "legit combinations: four BAR denies, BAR0 trapped (%u, %#x)",
		p->n_bar, p->trap_bars);
	vfp_file_free(&f);
}

/* Parse @text, which must be valid; NULL (and a FAIL) otherwise. */
static const struct vfp_entry *parse_ok(const char *what, const char *text, struct vfp_file *f)
{
	char err[512] = "";

	if (vfp_parse_string("a.yaml", text, strlen(text), f, err, sizeof(err))) {
		verdict(0, "%s: parses (%s)", what, err);
		return NULL;
	}
	return &f->entries[0];
}

#define ONE "version: 1\npolicies:\n  - name: p\n"

/* read: zero | ones | VALUE over any length, read: { value, mask }, keep. */
static void test_actions(void)
{
	static const char text[] = ONE "    config:\n"
		"      - { offset: 0x40, size: 16, read: zero }\n"
		"      - { offset: 0x00, size: 8, read: ones }\n"
		"      - { offset: 0x80, size: 12, read: 0x12345678 }\n"
		"      - { offset: 0x2c, size: 4, read: { value: 0xabcd0000, mask: 0xffff0000 } }\n"
		"      - { offset: 0x2c, size: 2, read: { value: 0x0f, mask: 0xff } }\n"
		"      - { offset: 0x04, size: 2, write: mask, mask: 0x0004, keep: current }\n"
		"      - { offset: 0x0c, size: 1, write: mask, mask: 0x01, keep: one }\n"
		"      - { offset: 0x0d, size: 1, write: mask, mask: 0x01, keep: zero }\n"
		"      - { offset: 0x3c, size: 1, write: mask, mask: 0x01 }\n"
		"    migration: none\n";
	const struct vfp_config_rule *r;
	const struct vfp_entry *e;
	struct vfp_file f;

	if (!(e = parse_ok("actions", text, &f)))
		return;
	r = e->policy.config;
	verdict(r[0].actions == VFP_CFG_SUBST_READ && r[0].size == 16 && r[0].value == 0 &&
		r[0].read_mask == 0xffffffff, "read: zero over 16 bytes: value 0, every bit");
	verdict(r[1].value == 0xffffffff && r[1].read_mask == 0xffffffff && r[1].size == 8,
		"read: ones over 8 bytes");
	verdict(r[2].value == 0x12345678 && r[2].size == 12, "read: a 4-byte pattern over 12 bytes");
	verdict(r[3].value == 0xabcd0000 && r[3].read_mask == 0xffff0000,
		"read: { value, mask }: the mask kept (%#x/%#x)", r[3].value, r[3].read_mask);
	verdict(r[4].read_mask == 0xff, "read masks on other bits of the same bytes combine");
	verdict(r[5].keep == VFP_KEEP_CURRENT && r[6].keep == VFP_KEEP_ONE &&
		r[7].keep == VFP_KEEP_ZERO && r[8].keep == VFP_KEEP_ZERO,
		"keep: current, one, zero, and zero by default");
	verdict(e->policy.no_migration && !e->policy.deny_migration,
		"migration: none hides migration, denies no arc");
	verdict(!f.warnings[0], "no warnings for QEMU-safe actions ('%s')", f.warnings);
	vfp_file_free(&f);
}

static void test_warnings(void)
{
	static const char text[] = ONE "    config:\n"
		"      - { offset: 0x40, size: 16, read: deny }\n"
		"    migration: deny\n";
	struct vfp_file f;

	if (!parse_ok("warnings", text, &f))
		return;
	/* A denied read reads as zero: QEMU takes the device, nothing to warn. */
	verdict(!strstr(f.warnings, "a.yaml:5:"),
		"read: deny does not warn: it reads as zero, never short ('%s')", f.warnings);
	verdict(strstr(f.warnings, "a.yaml:6:16: warning: migration: deny also denies RUNNING <-> RUNNING_P2P") &&
		strstr(f.warnings, "migration: none"),
		"migration: deny warns about QEMU's stop/start arcs and suggests migration: none");
	vfp_file_free(&f);
}

/* A PCIe device's config space with known capabilities. */
static void fake_config(__u8 *c)
{
	memset(c, 0, 4096);
	c[0x00] = 0x86; c[0x01] = 0x80; c[0x02] = 0xca; c[0x03] = 0x10;
	c[0x06] = 0x10;				/* capability list */
	c[0x34] = 0x40;
	c[0x40] = 0x01; c[0x41] = 0x50;		/* PM */
	c[0x50] = 0x05; c[0x51] = 0x70; c[0x52] = 0x80;	/* MSI, 64-bit: 14 bytes */
	c[0x70] = 0x11; c[0x71] = 0xa0; c[0x72] = 0x02;	/* MSI-X, 3 vectors */
	c[0xa0] = 0x10; c[0xa1] = 0x00; c[0xa2] = 0x02;	/* PCIe v2 */
	/* AER at 0x100 -> ARI at 0x148 -> ATS at 0x150 */
	c[0x100] = 0x01; c[0x102] = 0x81; c[0x103] = 0x14;	/* id 1, v1, next 0x148 */
	c[0x148] = 0x0e; c[0x14a] = 0x01; c[0x14b] = 0x15;	/* id 0xe, v1, next 0x150 */
	c[0x150] = 0x0f; c[0x152] = 0x01;			/* id 0xf, v1, last */
	c[0x154] = 0xaa;
}

/* What a user reads at @off under @p's substitutions (the BPF program's rule). */
static __u32 user_read(const struct vfp_policy *p, const __u8 *cfg, __u32 off, int size)
{
	__u32 v = 0;

	for (int i = 0; i < size; i++) {
		__u32 byte = off + i;
		__u8 b = cfg[byte];

		for (__u32 k = 0; k < p->n_config; k++) {
			const struct vfp_config_rule *r = &p->config[k];
			__u8 m, val;

			if (!(r->actions & VFP_CFG_SUBST_READ) || byte < r->offset ||
			    byte >= r->offset + r->size)
				continue;
			m = r->read_mask >> (8 * ((byte - r->offset) & 3));
			val = r->value >> (8 * ((byte - r->offset) & 3));
			b = (b & ~m) | (val & m);
		}
		v |= (__u32)b << (8 * i);
	}
	return v;
}

/* The capability ids the user walks, "01 05 | 01 0e" (standard | extended). */
static void user_walk(const struct vfp_policy *p, const __u8 *cfg, char *out, size_t len)
{
	__u32 pos, h;
	int n = 0;

	out[0] = '\0';
	if (user_read(p, cfg, 0x06, 2) & 0x10)
		for (pos = user_read(p, cfg, 0x34, 1); pos && n++ < 48;
		     pos = user_read(p, cfg, pos + 1, 1) & 0xfc)
			snprintf(out + strlen(out), len - strlen(out), "%02x ",
				 user_read(p, cfg, pos, 1));
	snprintf(out + strlen(out), len - strlen(out), "|");
	for (pos = 0x100; pos && n++ < 100; pos = (h >> 20) & 0xffc) {
		h = user_read(p, cfg, pos, 4);
		snprintf(out + strlen(out), len - strlen(out), " %02x", h & 0xffff);
	}
}

static int resolve(const char *yaml, const __u8 *cfg, struct vfp_policy *out, char *notes,
		   char *warn, char *err)
{
	struct vfp_file f;
	int ret;

	if (!parse_ok("hide", yaml, &f))
		return -2;
	ret = vfp_resolve("a.yaml", "0000:00:10.0", &f.entries[0], cfg, 4096, out, notes, 2048,
			  warn, 1024, err, 512);
	vfp_file_free(&f);
	return ret;
}

static void test_hide(void)
{
	static __u8 cfg[4096];
	static struct vfp_policy p;
	char notes[2048], warn[1024], err[512] = "", walk[256];
	static const struct {
		const char *what, *yaml, *walk;
	} cases[] = {
		{ "nothing hidden", ONE "    config: [ { hide: sriov } ]\n", "01 05 11 10 | 01 0e 0f" },
		{ "hide: msi (in the middle)", ONE "    config: [ { hide: msi } ]\n", "01 11 10 | 01 0e 0f" },
		{ "hide: pm (the first)", ONE "    config: [ { hide: pm } ]\n", "05 11 10 | 01 0e 0f" },
		{ "hide: pcie (the last)", ONE "    config: [ { hide: pcie } ]\n", "01 05 11 | 01 0e 0f" },
		{ "hide: msi and msix (two in a row)",
		  ONE "    config: [ { hide: msix }, { hide: 5 } ]\n", "01 10 | 01 0e 0f" },
		{ "hide: aer (the head of the extended list: id 0)",
		  ONE "    config: [ { hide: aer } ]\n", "01 05 11 10 | 00 0e 0f" },
		{ "hide: ari (in the middle)", ONE "    config: [ { hide: ari } ]\n", "01 05 11 10 | 01 0f" },
		{ "hide: ats (the last, by id)",
		  ONE "    config: [ { hide: 0xf, extended: true } ]\n", "01 05 11 10 | 01 0e" },
		{ "every standard one hidden",
		  ONE "    config: [ { hide: pm }, { hide: msi }, { hide: msix }, { hide: pcie } ]\n",
		  "| 01 0e 0f" },
	};
	int ret;

	fake_config(cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ret = resolve(cases[i].yaml, cfg, &p, notes, warn, err);
		if (ret) {
			verdict(0, "%s: resolves (%s)", cases[i].what, err);
			continue;
		}
		user_walk(&p, cfg, walk, sizeof(walk));
		verdict(!strcmp(walk, cases[i].walk), "%s: the user walks '%s' (got '%s')",
			cases[i].what, cases[i].walk, walk);
	}
	ret = resolve(ONE "    config: [ { hide: msi } ]\n", cfg, &p, notes, warn, err);
	verdict(!ret && user_read(&p, cfg, 0x50, 4) == 0 && user_read(&p, cfg, 0x5c, 4) == 0 &&
		user_read(&p, cfg, 0x70, 1) == 0x11,
		"hide: msi: its 14 bytes (16 with padding) read as zero, the next capability does not");
	verdict(!ret && p.n_config == 2 && (p.config[1].actions & VFP_CFG_DROP_WRITE) &&
		p.config[1].offset == 0x50 && p.config[1].size == 16 &&
		!(p.config[0].actions & VFP_CFG_DROP_WRITE),
		"hide: msi: two rules, writes to the capability dropped (%u rules)", p.n_config);
	verdict(strstr(notes, "hide: msi: standard capability 0x5 at 0x50-0x5f: taken out of the list") != NULL,
		"hide: msi: says where ('%s')", notes);
	ret = resolve(ONE "    config: [ { hide: aer } ]\n", cfg, &p, notes, warn, err);
	verdict(!ret && user_read(&p, cfg, 0x100, 4) == 0x14800000 && user_read(&p, cfg, 0x104, 4) == 0 &&
		user_read(&p, cfg, 0x144, 4) == 0 && user_read(&p, cfg, 0x148, 2) == 0x0e &&
		(p.config[0].actions & VFP_CFG_DROP_WRITE),
		"hide: aer at 0x100: header id 0, version 0, next 0x148; body zero; header writes dropped (%#x)",
		user_read(&p, cfg, 0x100, 4));
	ret = resolve(ONE "    config: [ { hide: ats } ]\n", cfg, &p, notes, warn, err);
	verdict(!ret && user_read(&p, cfg, 0x148, 4) == 0x0001000e && user_read(&p, cfg, 0x154, 1) == 0,
		"hide: ats: ARI's next pointer 0, its id and version kept; ATS reads zero");
	ret = resolve(ONE "    config: [ { hide: sriov }, { hide: vpd } ]\n", cfg, &p, notes, warn, err);
	verdict(!ret && p.n_config == 0 &&
		strstr(warn, "a.yaml:4:23: warning: hide: sriov: 0000:00:10.0 has no such capability") &&
		strstr(warn, "a.yaml:4:40: warning: hide: vpd: 0000:00:10.0 has no such capability"),
		"a capability the device lacks: a warning each, no rule ('%s')", warn);
	ret = resolve(ONE "    config:\n      - { offset: 0x54, size: 2, read: 0 }\n      - { hide: msi }\n",
		      cfg, &p, notes, warn, err);
	verdict(ret == -1 && !strcmp(err, "a.yaml:6:17: hide: msi on 0000:00:10.0 covers 0x50-0x5f, where the config rule at line 5, column 9 decides reads too: one of them never means what it says"),
		"a rule on bytes a hide takes is refused, naming both ('%s')", err);
	ret = resolve(ONE "    config:\n      - { offset: 0x54, size: 2, read: deny }\n      - { offset: 0x58, write: deny }\n      - { hide: pm }\n",
		      cfg, &p, notes, warn, err);
	verdict(ret == 0, "rules next to a hidden capability are fine (%s)", err);

	/* The MSI-X Table Size */
	ret = resolve(ONE "    interrupts: { msix: 1 }\n", cfg, &p, notes, warn, err);
	verdict(!ret && user_read(&p, cfg, 0x72, 2) == 0 && p.n_config == 1 &&
		p.config[0].read_mask == 0x7ff,
		"interrupts.msix 1: Table Size reads 0 (one vector), bits 15:11 the device's");
	cfg[0x73] = 0xc0;
	verdict(user_read(&p, cfg, 0x72, 2) == 0xc000, "... enable and function mask bits pass (%#x)",
		user_read(&p, cfg, 0x72, 2));
	cfg[0x73] = 0;
	ret = resolve(ONE "    interrupts: { msix: 3 }\n", cfg, &p, notes, warn, err);
	verdict(!ret && p.n_config == 0, "interrupts.msix 3 on a 3-vector device: no rule");
	ret = resolve(ONE "    interrupts: { msix: 2 }\n    config: [ { hide: msix } ]\n", cfg, &p, notes,
		      warn, err);
	verdict(!ret && user_read(&p, cfg, 0x72, 2) == 0, "a hidden MSI-X capability gets no Table Size rule");
}

static void test_match_more(void)
{
	static const char text[] = "version: 1\npolicies:\n"
		"  - name: nic\n    match: { class: 0x0200/0xff00 }\n"
		"  - name: sub\n    match: { subsystem_vendor: 0x1af4, subsystem_device: 0x1100 }\n"
		"  - name: exact\n    match: { class: 0x00ff00 }\n";
	struct vfb_device vf = { .vendor = 0x8086, .device = 0x10ca, .class = 0x020000, .vf = -1 };
	struct vfb_device edu = { .vendor = 0x1234, .device = 0x11e8, .class = 0x00ff00, .vf = -1,
				  .subsystem_vendor = 0x1af4, .subsystem_device = 0x1100 };
	struct vfb_device other = { .vendor = 0x1234, .device = 0x11e8, .class = 0x00ff01, .vf = -1,
				    .subsystem_vendor = 0x1af4, .subsystem_device = 0x1101 };
	const struct vfp_entry *e;
	struct vfp_file f;

	if (!parse_ok("match", text, &f))
		return;
	verdict(f.entries[0].match.class_value == 0x020000 && f.entries[0].match.class_mask == 0xff0000,
		"class 0x0200/0xff00 is lspci's form: 24 bits 0x020000/0xff0000");
	e = vfp_lookup(&f, &vf);
	verdict(e && !strcmp(e->policy.name, "nic"), "a network VF matches class 0x0200/0xff00");
	e = vfp_lookup(&f, &edu);
	verdict(e && !strcmp(e->policy.name, "sub"), "edu matches by subsystem ids");
	e = vfp_lookup(&f, &other);
	verdict(!e, "another subsystem device and prog-if match nothing");
	vfp_file_free(&f);
}

/* What the new actions refuse, with their positions. */
static const struct {
	const char *what, *text, *want;
} bad2[] = {
	{ "a read value too wide for its size", ONE "    config: [ { offset: 0x10, size: 1, read: 0x1ff } ]\n",
	  "a.yaml:4:46: read (allow, deny or a value) 0x1ff is out of range (at most 0xff)" },
	{ "a read value with bits outside its mask",
	  ONE "    config: [ { offset: 0x10, read: { value: 0x1ff, mask: 0xff } } ]\n",
	  "a.yaml:4:46: read.value 0x1ff has bits outside read.mask 0xff" },
	{ "a read mapping without a value", ONE "    config: [ { offset: 0x10, read: { mask: 0xff } } ]\n",
	  "a.yaml:4:37: read: { ... } needs a value (and a mask: the bits it sets)" },
	{ "keep without write: mask", ONE "    config: [ { offset: 0x10, write: deny, keep: one } ]\n",
	  "a.yaml:4:50: keep goes with write: mask" },
	{ "a bad keep", ONE "    config: [ { offset: 0x10, write: mask, mask: 1, keep: some } ]\n",
	  "a.yaml:4:59: keep must be one of zero, one, current, not 'some'" },
	{ "two read masks on the same bits",
	  ONE "    config:\n      - { offset: 0x2c, read: { value: 0x10, mask: 0xf0 } }\n"
	  "      - { offset: 0x2c, size: 1, read: { value: 0x20, mask: 0x30 } }\n",
	  "a.yaml:6:40: read: 0x20/0x30 on 0x2c contradicts read: 0x10/0xf0 on 0x2c-0x2f (line 5, column 31): "
	  "two values for the same bytes: give one" },
	{ "read: zero then a deny over it",
	  ONE "    config:\n      - { offset: 0x40, size: 64, read: zero }\n      - { offset: 0x44, read: deny }\n",
	  "a.yaml:6:31: read: deny on 0x44-0x47 contradicts read: zero on 0x40-0x7f (line 5, column 41): "
	  "deny wins: the value is never read" },
	{ "an unknown capability", ONE "    config: [ { hide: msx } ]\n",
	  "a.yaml:4:23: unknown capability 'msx' (docs/policy.md lists the names; an id works too)" },
	{ "the same capability twice, by name and id", ONE "    config: [ { hide: msix }, { hide: 0x11 } ]\n",
	  "a.yaml:4:39: hide: 0x11 repeats hide: msix (line 4, column 23)" },
	{ "extended with a name", ONE "    config: [ { hide: aer, extended: true } ]\n",
	  "a.yaml:4:38: extended goes with a capability id; a name says which it is" },
	{ "a hide with an offset", ONE "    config: [ { hide: aer, offset: 4 } ]\n",
	  "a.yaml:4:28: unknown key 'offset' in hide rule (expected hide, extended)" },
	{ "migration: something else", ONE "    migration: maybe\n",
	  "a.yaml:4:16: migration must be one of allow, deny, none, not 'maybe'" },
	{ "a class without its mask's form", ONE "    match: { class: 0x0200/0xff0000 }\n",
	  "a.yaml:4:21: match.class '0x0200/0xff0000': give value and mask in the same form (4 or 6 hex digits)" },
	{ "a class outside its mask", ONE "    match: { class: 0x0201/0xff00 }\n",
	  "a.yaml:4:21: match.class '0x0201/0xff00' has bits outside its mask: it matches nothing" },
	{ "a policy behind a broader class",
	  "version: 1\npolicies:\n  - name: a\n    match: { class: 0x0200/0xff00 }\n"
	  "  - name: b\n    match: { class: 0x0200, vendor: 0x8086 }\n",
	  "a.yaml:6:12: policy 'b' never applies: policy 'a' (line 3) comes first and matches every device it matches" },
};

static void test_bad2(void)
{
	for (size_t i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++) {
		struct vfp_file f;
		char err[512] = "";
		int ret;

		ret = vfp_parse_string("a.yaml", bad2[i].text, strlen(bad2[i].text), &f, err, sizeof(err));
		verdict(ret == -1 && !strcmp(err, bad2[i].want), "%s: '%s'%s%s%s", bad2[i].what,
			bad2[i].want, strcmp(err, bad2[i].want) ? " (got '" : "",
			strcmp(err, bad2[i].want) ? err : "", strcmp(err, bad2[i].want) ? "')" : "");
	}
}

int main(void)
{
	test_good();
	test_bad();
	test_mode();
	test_missing_file();
	test_numbers();
	test_legit_combinations();
	test_actions();
	test_warnings();
	test_hide();
	test_match_more();
	test_bad2();
	printf("test-policy: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
