// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the policy compiler (loader/policy.c): any bytes
 * go through the whole of vfp_parse_string() - libyaml, the compiler and
 * its validation - and what comes out must hold the promises policy.h
 * makes: an error names file:line:column and leaves nothing allocated; a
 * compiled policy stays inside the limits vfio_policy.h gives the BPF
 * program, which trusts them.  A broken promise aborts, so the fuzzer
 * records the input as a crash.  `make fuzz` runs it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define NAME "fuzz.yaml"

#define require(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz-policy: broken promise: %s\n", #cond);	\
			abort();						\
		}								\
	} while (0)

static void check_error(const char *err, const struct vfp_file *f)
{
	unsigned int line, col;
	int n = 0;

	require(f->entries == NULL && f->n == 0);
	require(memchr(err, '\0', 512) != NULL);
	require(sscanf(err, NAME ":%u:%u: %n", &line, &col, &n) == 2 && n > 0);
	require(line >= 1 && col >= 1 && err[n] != '\0');
}

static void check_policy(const struct vfp_entry *e)
{
	const struct vfp_policy *p = &e->policy;

	require(e->line >= 1);
	require(p->name[0] && memchr(p->name, '\0', VFP_NAME_LEN));
	require(p->n_config <= VFP_MAX_USER_CONFIG_RULES && p->n_bar <= VFP_MAX_BAR_RULES);
	require(e->n_hide >= 0 && e->n_hide <= VFP_MAX_HIDE);
	for (__u32 i = 0; i < p->n_config; i++) {
		const struct vfp_config_rule *r = &p->config[i];

		require(r->size > 0 && r->offset + r->size <= 4096);
		/* DROP_WRITE only comes from hide:, at apply time. */
		require(r->actions && !(r->actions & ~0xfu));
		if (r->actions & VFP_CFG_MASK_WRITE)
			require(r->size <= 4 && r->keep <= VFP_KEEP_CURRENT);
		if (r->size < 4)
			require(!(r->mask >> (8 * r->size)) && !(r->value >> (8 * r->size)) &&
				!(r->read_mask >> (8 * r->size)));
		require((r->actions & VFP_CFG_MASK_WRITE) || (!r->mask && !r->keep));
		require((r->actions & VFP_CFG_SUBST_READ) || (!r->value && !r->read_mask));
		require(!(r->actions & VFP_CFG_SUBST_READ) || (r->read_mask && !(r->value & ~r->read_mask)));
	}
	for (__u32 i = 0; i < p->n_bar; i++) {
		const struct vfp_bar_rule *r = &p->bar[i];

		require(r->bar <= 5 && r->size > 0);
		require(r->actions && !(r->actions & ~3u));
		require(r->offset + r->size >= r->offset);	/* no wrap */
	}
	require(!(p->trap_bars & ~0x3fu));
	for (int i = 0; i < 5; i++)
		require(p->max_vectors[i] <= 2048 || p->max_vectors[i] == VFP_NO_LIMIT);
	require(p->deny_reset <= 1 && p->deny_open <= 1 && p->deny_migration <= 1);
	require(p->no_migration <= 1 && !(p->no_migration && p->deny_migration));
	require(e->match.vendor >= -1 && e->match.vendor <= 0xffff);
	require(e->match.device >= -1 && e->match.device <= 0xffff);
	require(e->match.vf >= -1 && e->match.vf <= 0xffff);
	require(memchr(e->match.bdf, '\0', VFP_BDF_LEN) && memchr(e->match.pf, '\0', VFP_BDF_LEN));
}

/* An igb VF's capabilities: MSI-X, PCIe; ARI and ATS. */
static const __u8 *fake_cfg(void)
{
	static __u8 c[4096];

	if (!c[0]) {
		c[0x00] = 0x86; c[0x01] = 0x80; c[0x06] = 0x10; c[0x34] = 0x70;
		c[0x70] = 0x11; c[0x71] = 0xa0; c[0x72] = 0x02;
		c[0xa0] = 0x10; c[0xa2] = 0x02;
		c[0x100] = 0x0e; c[0x102] = 0x01; c[0x103] = 0x15;	/* ARI -> 0x150 */
		c[0x150] = 0x0f; c[0x152] = 0x01;			/* ATS */
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vfb_device devs[] = {
		{ .bdf = "0000:00:04.0", .sbdf = 0x20, .vendor = 0x1234, .device = 0x11e8,
		  .vf = -1, .iommu_group = -1 },
		{ .bdf = "0000:00:06.0", .sbdf = 0x30, .vendor = 0x8086, .device = 0x10c9,
		  .vf = -1, .iommu_group = -1 },
		{ .bdf = "0000:00:10.1", .sbdf = 0x81, .vendor = 0x8086, .device = 0x10ca,
		  .pf = "0000:00:06.0", .vf = 1, .iommu_group = -1 },
	};
	struct vfp_file f;
	char err[512];

	memset(err, 0xa5, sizeof(err));
	if (vfp_parse_string(NAME, (const char *)data, size, &f, err, sizeof(err))) {
		check_error(err, &f);
		return 0;
	}
	require(f.n >= 0 && (f.n == 0 || f.entries));
	/* The same bytes compile to the same policies: no state between runs. */
	{
		struct vfp_file g;

		require(!vfp_parse_string(NAME, (const char *)data, size, &g, err, sizeof(err)));
		require(g.n == f.n && !memcmp(g.entries, f.entries, f.n * sizeof(*f.entries)));
		vfp_file_free(&g);
	}
	for (int i = 0; i < f.n; i++)
		check_policy(&f.entries[i]);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		const struct vfp_entry *e = vfp_lookup(&f, &devs[i]);

		require(!e || (e >= f.entries && e < f.entries + f.n));
	}
	/* hide: and the MSI-X Table Size on a device with both lists. */
	for (int i = 0; i < f.n; i++) {
		static struct vfp_policy p;
		char notes[2048], warn[1024];

		memset(err, 0xa5, sizeof(err));
		if (vfp_resolve(NAME, "0000:00:10.1", &f.entries[i], fake_cfg(), 4096, &p,
				notes, sizeof(notes), warn, sizeof(warn), err, sizeof(err))) {
			unsigned int line, col;

			require(sscanf(err, NAME ":%u:%u: ", &line, &col) == 2);
			continue;
		}
		require(p.n_config >= f.entries[i].policy.n_config &&
			p.n_config <= VFP_MAX_CONFIG_RULES);
		for (__u32 k = 0; k < p.n_config; k++)
			require(p.config[k].size > 0 && p.config[k].offset + p.config[k].size <= 4096);
	}
	vfp_file_free(&f);
	return 0;
}
