// SPDX-License-Identifier: GPL-2.0
/*
 * policy-test: attach the configurable test policy (policy_test.bpf.c) to
 * one device bound to vfio-pci-bpf, pin its link, and exit; removing the
 * pin detaches it.  --replace swaps the programs of a pinned link in
 * place (struct_ops link update), as a policy reload does.
 */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vfio_bpf_hooks.h"
#include "policy_test.skel.h"

static struct env {
	bool verbose;
	bool replace;
	const char *bdf;
	const char *pin;
	long deny_config_read, rewrite_config_read, deny_config_write;
	long mask_config_write, deny_bar_offset, drop_config_write, keep_config_write;
	unsigned long long rewrite_value, mask_bits, keep_bits;
	bool deny_mmap, deny_msi, deny_reset, deny_open, deny_mig, no_migration, monitor;
	unsigned int tag;
} env = {
	.deny_config_read = -1, .rewrite_config_read = -1,
	.deny_config_write = -1, .mask_config_write = -1,
	.deny_bar_offset = -1, .drop_config_write = -1, .keep_config_write = -1,
};

enum {
	OPT_DENY_CFG_READ = 256, OPT_REWRITE_CFG_READ, OPT_DENY_CFG_WRITE,
	OPT_MASK_CFG_WRITE, OPT_DENY_BAR, OPT_DENY_MMAP, OPT_DENY_MSI,
	OPT_DENY_RESET, OPT_DENY_OPEN, OPT_DENY_MIG, OPT_TAG,
	OPT_DROP_CFG_WRITE, OPT_KEEP_CFG_WRITE, OPT_NO_MIGRATION, OPT_MONITOR,
};

static const struct argp_option opts[] = {
	{ "replace", 'r', NULL, 0, "Replace the programs of the link pinned at PIN", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{ "deny-config-read", OPT_DENY_CFG_READ, "OFF", 0, "Deny config reads touching OFF", 0 },
	{ "rewrite-config-read", OPT_REWRITE_CFG_READ, "OFF=VAL", 0, "Config reads at OFF return VAL", 0 },
	{ "deny-config-write", OPT_DENY_CFG_WRITE, "OFF", 0, "Deny config writes touching OFF", 0 },
	{ "mask-config-write", OPT_MASK_CFG_WRITE, "OFF=BITS", 0, "Clear BITS in config writes at OFF", 0 },
	{ "deny-bar", OPT_DENY_BAR, "OFF", 0, "Deny BAR0 accesses touching OFF", 0 },
	{ "deny-mmap", OPT_DENY_MMAP, NULL, 0, "Deny mmap of BAR0 (forces trapped access)", 0 },
	{ "deny-msi", OPT_DENY_MSI, NULL, 0, "Deny arming MSI vectors", 0 },
	{ "deny-reset", OPT_DENY_RESET, NULL, 0, "Deny resets", 0 },
	{ "deny-open", OPT_DENY_OPEN, NULL, 0, "Deny opening the device", 0 },
	{ "deny-mig", OPT_DENY_MIG, NULL, 0, "Deny migration state changes", 0 },
	{ "tag", OPT_TAG, "N", 0, "A number to tell programs apart", 0 },
	{ "drop-config-write", OPT_DROP_CFG_WRITE, "OFF", 0, "Config writes touching OFF write nothing (DROP)", 0 },
	{ "keep-config-write", OPT_KEEP_CFG_WRITE, "OFF=BITS", 0, "Config writes at OFF keep BITS at their current value", 0 },
	{ "no-migration", OPT_NO_MIGRATION, NULL, 0, "The device does not advertise migration", 0 },
	{ "monitor", OPT_MONITOR, NULL, 0, "Record decisions, enforce none", 0 },
	{},
};

static int parse_pair(const char *arg, long *off, unsigned long long *val)
{
	char *end;

	*off = strtol(arg, &end, 0);
	if (*end != '=')
		return -1;
	*val = strtoull(end + 1, &end, 0);
	return *end ? -1 : 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'r': env.replace = true; break;
	case 'v': env.verbose = true; break;
	case OPT_DENY_CFG_READ: env.deny_config_read = strtol(arg, NULL, 0); break;
	case OPT_REWRITE_CFG_READ:
		if (parse_pair(arg, &env.rewrite_config_read, &env.rewrite_value))
			argp_error(state, "--rewrite-config-read takes OFF=VAL");
		break;
	case OPT_DENY_CFG_WRITE: env.deny_config_write = strtol(arg, NULL, 0); break;
	case OPT_MASK_CFG_WRITE:
		if (parse_pair(arg, &env.mask_config_write, &env.mask_bits))
			argp_error(state, "--mask-config-write takes OFF=BITS");
		break;
	case OPT_DENY_BAR: env.deny_bar_offset = strtol(arg, NULL, 0); break;
	case OPT_DENY_MMAP: env.deny_mmap = true; break;
	case OPT_DENY_MSI: env.deny_msi = true; break;
	case OPT_DENY_RESET: env.deny_reset = true; break;
	case OPT_DENY_OPEN: env.deny_open = true; break;
	case OPT_DENY_MIG: env.deny_mig = true; break;
	case OPT_TAG: env.tag = strtoul(arg, NULL, 0); break;
	case OPT_DROP_CFG_WRITE: env.drop_config_write = strtol(arg, NULL, 0); break;
	case OPT_KEEP_CFG_WRITE:
		if (parse_pair(arg, &env.keep_config_write, &env.keep_bits))
			argp_error(state, "--keep-config-write takes OFF=BITS");
		break;
	case OPT_NO_MIGRATION: env.no_migration = true; break;
	case OPT_MONITOR: env.monitor = true; break;
	case ARGP_KEY_ARG:
		if (!env.bdf)
			env.bdf = arg;
		else if (!env.pin)
			env.pin = arg;
		else
			argp_usage(state);
		break;
	case ARGP_KEY_END:
		if (!env.pin)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "BDF PIN",
		.doc = "Attach the hook test policy to BDF and pin its link at PIN.",
	};
	struct policy_test_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	unsigned int dom, bus, dev, fn;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	if (sscanf(env.bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		fprintf(stderr, "policy-test: '%s' is not a PCI address (DDDD:BB:DD.F)\n", env.bdf);
		return 2;
	}
	libbpf_set_print(libbpf_print_fn);

	skel = policy_test_bpf__open();
	if (!skel) {
		fprintf(stderr, "policy-test: open: %s\n", strerror(errno));
		return 1;
	}
	skel->struct_ops.policy->sbdf = dom << 16 | bus << 8 | dev << 3 | fn;
	skel->rodata->deny_config_read = env.deny_config_read;
	skel->rodata->rewrite_config_read = env.rewrite_config_read;
	skel->rodata->rewrite_config_value = env.rewrite_value;
	skel->rodata->deny_config_write = env.deny_config_write;
	skel->rodata->mask_config_write = env.mask_config_write;
	skel->rodata->mask_config_bits = env.mask_bits;
	skel->rodata->deny_bar_offset = env.deny_bar_offset;
	skel->rodata->deny_mmap = env.deny_mmap;
	skel->rodata->deny_msi = env.deny_msi;
	skel->rodata->deny_reset = env.deny_reset;
	skel->rodata->deny_open = env.deny_open;
	skel->rodata->deny_mig = env.deny_mig;
	skel->rodata->tag = env.tag;
	skel->rodata->drop_config_write = env.drop_config_write;
	skel->rodata->keep_config_write = env.keep_config_write;
	skel->rodata->keep_config_bits = env.keep_bits;
	skel->struct_ops.policy->flags = (env.no_migration ? VFIO_BPF_OPS_NO_MIGRATION : 0) |
					 (env.monitor ? VFIO_BPF_OPS_MONITOR : 0);

	err = policy_test_bpf__load(skel);
	if (err) {
		fprintf(stderr, "policy-test: load: %s (is vfio_pci_bpf loaded?)\n", strerror(-err));
		goto out;
	}

	if (env.replace) {
		link = bpf_link__open(env.pin);
		if (!link) {
			err = -errno;
			fprintf(stderr, "policy-test: open link %s: %s\n", env.pin, strerror(errno));
			goto out;
		}
		err = bpf_link__update_map(link, skel->maps.policy);
		if (err)
			fprintf(stderr, "policy-test: replace: %s\n", strerror(-err));
		goto out;
	}

	link = bpf_map__attach_struct_ops(skel->maps.policy);
	if (!link) {
		err = -errno;
		fprintf(stderr, "policy-test: attach to %s: %s%s\n", env.bdf, strerror(errno),
			errno == ENODEV ? " (not bound to vfio-pci-bpf)" :
			errno == EBUSY ? " (a policy is attached already)" : "");
		goto out;
	}
	err = bpf_link__pin(link, env.pin);
	if (err)
		fprintf(stderr, "policy-test: pin %s: %s\n", env.pin, strerror(-err));
out:
	bpf_link__destroy(link);
	policy_test_bpf__destroy(skel);
	return err ? 1 : 0;
}
