// SPDX-License-Identifier: GPL-2.0
/*
 * race-cfgwrite: a double fetch on a config write.  A policy masks a bit of
 * the command register (written as 0 whatever the user asks).  One thread
 * pwrite()s the register from a buffer that another thread keeps flipping
 * between an allowed value and one with the masked bit set: if the policy
 * judges one fetch of the buffer and vfio-pci-core writes another, the
 * masked bit reaches the device.  After every write the device's register
 * is read back through sysfs; every write that left the bit set is a
 * violation.
 *
 * --probe (no policy attached) writes the bit once and checks that sysfs
 * shows it: the bit really reaches the device, so the race can be seen.
 */
#include <argp.h>
#include <pthread.h>
#include <linux/pci_regs.h>

#include "race.h"

static struct env {
	const char *bdf;
	unsigned int reg;
	uint16_t mask;
	long writes;
	bool probe;
} env = {
	.reg = PCI_COMMAND,
	.mask = PCI_COMMAND_MASTER,
	.writes = 100000,
};

/* The buffer both threads share; the flipper stores, the kernel fetches. */
static volatile uint16_t shared_buf __attribute__((aligned(64)));
static uint16_t allowed, forbidden;
static volatile bool done;

static void *flipper(void *arg)
{
	while (!done) {
		shared_buf = forbidden;
		shared_buf = allowed;
	}
	return NULL;
}

static int write_reg(struct race_dev *d, const volatile uint16_t *buf)
{
	ssize_t n = pwrite(d->device, (const void *)buf, 2, d->cfg_off + env.reg);

	return n == 2 ? 0 : -1;
}

static int device_reg(struct race_dev *d, uint16_t *v)
{
	return race_sysfs_config(d, env.reg, v, 2);
}

static int probe(struct race_dev *d)
{
	uint16_t v;

	shared_buf = forbidden;
	if (write_reg(d, &shared_buf) || device_reg(d, &v)) {
		fprintf(stderr, "probe: %s\n", strerror(errno));
		return 2;
	}
	race_fact("probe.wrote", "0x%04x", forbidden);
	race_fact("probe.device", "0x%04x", v);
	race_verdict(v & env.mask,
		     "cfgwrite probe: without a policy, bit 0x%04x written at 0x%x reaches the device (sysfs 0x%04x)",
		     env.mask, env.reg, v);
	shared_buf = allowed;
	write_reg(d, &shared_buf);
	return race_failed ? 1 : 0;
}

static int attack(struct race_dev *d)
{
	long violations = 0, errors = 0, i;
	uint16_t v;
	pthread_t t;
	double t0;

	/* Unraced first: the policy must be in force, or the race proves nothing. */
	shared_buf = forbidden;
	if (write_reg(d, &shared_buf) || device_reg(d, &v)) {
		fprintf(stderr, "single write: %s\n", strerror(errno));
		return 2;
	}
	race_verdict(!(v & env.mask),
		     "cfgwrite: the policy masks bit 0x%04x of a single write (sysfs 0x%04x)",
		     env.mask, v);
	if (v & env.mask)
		return 1;

	shared_buf = allowed;
	if (pthread_create(&t, NULL, flipper, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 2;
	}
	t0 = race_now();
	for (i = 0; i < env.writes && !race_stop; i++) {
		if (write_reg(d, &shared_buf)) {
			errors++;
			continue;
		}
		if (device_reg(d, &v)) {
			fprintf(stderr, "sysfs config: %s\n", strerror(errno));
			break;
		}
		/* Every write that is not a violation clears the bit again. */
		if (v & env.mask)
			violations++;
	}
	done = true;
	pthread_join(t, NULL);

	race_fact("writes", "%ld", i);
	race_fact("write_errors", "%ld", errors);
	race_fact("violations", "%ld", violations);
	race_fact("seconds", "%.1f", race_now() - t0);
	race_verdict(i == env.writes && !errors,
		     "cfgwrite race: %ld of %ld racing writes completed (%ld failed)",
		     i - errors, env.writes, errors);
	race_verdict(!violations,
		     "cfgwrite race: %ld of %ld racing writes set the masked bit 0x%04x (sysfs)",
		     violations, i, env.mask);

	shared_buf = allowed;
	write_reg(d, &shared_buf);
	return race_failed ? 1 : 0;
}

static const struct argp_option options[] = {
	{ "writes", 'n', "N", 0, "racing writes (default 100000)", 0 },
	{ "reg", 'r', "OFF", 0, "16-bit register (default 0x04, command)", 0 },
	{ "mask", 'm', "BITS", 0, "the masked bits (default 0x0004, bus master)", 0 },
	{ "probe", 'p', NULL, 0, "no policy: check that the bits reach the device", 0 },
	{ "verbose", 'v', NULL, 0, "verbose debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n': env.writes = race_number("count", arg); break;
	case 'r': env.reg = race_number("register", arg); break;
	case 'm': env.mask = race_number("mask", arg); break;
	case 'p': env.probe = true; break;
	case 'v': race_verbose = true; break;
	case ARGP_KEY_ARG:
		if (env.bdf)
			argp_usage(state);
		env.bdf = arg;
		break;
	case ARGP_KEY_END:
		if (!env.bdf)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	.options = options,
	.parser = parse_arg,
	.args_doc = "BDF",
	.doc = "Race a config write against a flipping buffer; count the masked\n"
	       "bits the device saw (sysfs).\v"
	       "EXAMPLES:\n"
	       "  race-cfgwrite --probe 0000:00:04.0    # no policy: the bit reaches the device\n"
	       "  race-cfgwrite -n 100000 0000:00:04.0  # policy masks 0x0004 at 0x04\n",
};

int main(int argc, char **argv)
{
	struct race_dev d;
	uint16_t cur;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	race_signals();
	if (race_open(&d, env.bdf)) {
		ret = 2;
		goto out;
	}
	if (device_reg(&d, &cur)) {
		fprintf(stderr, "sysfs config: %s\n", strerror(errno));
		ret = 2;
		goto out;
	}
	allowed = cur & ~env.mask;
	forbidden = cur | env.mask;
	race_fact("register", "0x%x = 0x%04x (sysfs)", env.reg, cur);
	race_debug("allowed 0x%04x forbidden 0x%04x\n", allowed, forbidden);
	ret = env.probe ? probe(&d) : attack(&d);
out:
	race_close(&d);
	return ret;
}
