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
	  "bad.yaml:5:25: unknown key 'wirte' in config rule (expected offset, size, read, write, mask)" },
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

static void test_missing_file(void)
{
	struct vfp_file f;
	char err[256] = "";

	verdict(vfp_parse_file("/nonexistent/p.yaml", &f, err, sizeof(err)) == -1 &&
		!strcmp(err, "/nonexistent/p.yaml: No such file or directory"),
		"missing file named with errno (%s)", err);
}

int main(void)
{
	test_good();
	test_bad();
	test_missing_file();
	printf("test-policy: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
