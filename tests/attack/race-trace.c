// SPDX-License-Identifier: GPL-2.0
/*
 * race-trace: with the vfio_pci_bpf_irq_vector tracepoint enabled, a
 * successful VFIO_DEVICE_SET_IRQS is traced vector by vector.  A trace
 * loop bounded by a count read from the caller's header, not by what the
 * core took, walks as many entries as a racing thread writes there: one
 * thread issues SET_IRQS (DATA_EVENTFD, count 1) while another flips the
 * header's count between 1 and a huge value.  The "eventfds" after the
 * header are a large anonymous mapping, so every entry such a loop reads
 * exists: up to 2^31 of them, each a trace event, in one system call that
 * no signal ends.  (Under PREEMPT_NONE that is a soft lockup; Debian's
 * voluntary preemption reschedules in get_user(), so here the call "only"
 * runs for hours and pins a CPU.)
 *
 * The main thread watches the calls.  Every call must return within a
 * bound (--bound); one that has not after --cut seconds is ended by
 * unmapping the entries behind the header (the walk then faults and
 * stops), and fails the test.
 */
#include <argp.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "race.h"

#define TRACE_ENABLE \
	"/sys/kernel/tracing/events/vfio_pci_bpf/vfio_pci_bpf_irq_vector/enable"

static struct env {
	const char *bdf;
	unsigned int index;
	double seconds;
	double bound;
	double cut;
	unsigned long span_mb;
	uint32_t huge;
} env = {
	.index = VFIO_PCI_MSI_IRQ_INDEX,
	.seconds = 3,
	.bound = 2,
	.cut = 6,
	.span_mb = 1024,
	.huge = 0x7fffffff,
};

static struct vfio_irq_set *hdr;	/* the start of the big mapping */
static size_t span;
static volatile bool done;
static volatile double call_since;	/* 0 when no call is under way */

static struct {
	long calls, ok, einval, other;
	double longest;
} stats;

static void *flipper(void *arg)
{
	volatile uint32_t *count = &hdr->count;

	while (!done) {
		*count = env.huge;
		*count = 1;
	}
	return NULL;
}

static void *issuer(void *arg)
{
	struct race_dev *d = arg;
	double end = race_now() + env.seconds;

	while (!done && !race_stop && race_now() < end) {
		double t0 = race_now(), dt;
		int ret;

		call_since = t0;
		ret = ioctl(d->device, VFIO_DEVICE_SET_IRQS, hdr);
		dt = race_now() - t0;
		call_since = 0;
		stats.calls++;
		if (!ret)
			stats.ok++;
		else if (errno == EINVAL)
			stats.einval++;
		else
			stats.other++;
		if (dt > stats.longest)
			stats.longest = dt;
		if (dt > env.bound)
			race_debug("call %ld took %.1f s\n", stats.calls, dt);
	}
	done = true;
	return NULL;
}

static bool tracepoint_on(void)
{
	char c = 0;
	int fd = open(TRACE_ENABLE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == '1';
}

static const struct argp_option options[] = {
	{ "seconds", 's', "S", 0, "how long to race (default 3)", 0 },
	{ "bound", 'b', "S", 0, "longest a call may take (default 2)", 0 },
	{ "cut", 'c', "S", 0, "end a call still running after S seconds (default 6)", 0 },
	{ "span", 'm', "MiB", 0, "readable entries behind the header (default 1024 MiB)", 0 },
	{ "huge", 'H', "N", 0, "the count the racing thread writes (default 0x7fffffff)", 0 },
	{ "msix", 'X', NULL, 0, "MSI-X instead of MSI", 0 },
	{ "verbose", 'v', NULL, 0, "verbose debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's': env.seconds = strtod(arg, NULL); break;
	case 'b': env.bound = strtod(arg, NULL); break;
	case 'c': env.cut = strtod(arg, NULL); break;
	case 'm': env.span_mb = race_number("size", arg); break;
	case 'H': env.huge = race_number("count", arg); break;
	case 'X': env.index = VFIO_PCI_MSIX_IRQ_INDEX; break;
	case 'v': race_verbose = true; break;
	case ARGP_KEY_ARG:
		if (env.bdf)
			argp_usage(state);
		env.bdf = arg;
		break;
	case ARGP_KEY_END:
		if (!env.bdf || env.cut <= env.bound || !env.span_mb)
			argp_error(state, "need a BDF, --cut above --bound, a span");
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
	.doc = "Race SET_IRQS against a flipping count with the irq_vector\n"
	       "tracepoint on; every call must return within a bound.\v"
	       "EXAMPLES:\n"
	       "  echo 1 > /sys/kernel/tracing/events/vfio_pci_bpf/enable\n"
	       "  race-trace -s 3 0000:00:05.0\n",
};

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vfio_irq_set off;
	pthread_t ti, tf;
	bool cut = false;
	struct race_dev d;
	double cut_at = 0;
	int32_t *fds;
	int ret = 2;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	race_signals();
	if (!tracepoint_on()) {
		fprintf(stderr, "%s is not 1: enable the tracepoints first\n", TRACE_ENABLE);
		return 2;
	}
	if (race_open(&d, env.bdf))
		goto out;
	if (!d.irq[env.index].count) {
		fprintf(stderr, "%s: index %u has no vectors\n", env.bdf, env.index);
		goto out;
	}

	/* Never written beyond the first page: the rest maps the zero page. */
	span = env.span_mb << 20;
	hdr = mmap(NULL, span, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hdr == MAP_FAILED) {
		fprintf(stderr, "mmap %lu MiB: %s\n", env.span_mb, strerror(errno));
		goto out;
	}
	fds = (int32_t *)(hdr + 1);
	fds[0] = eventfd(0, EFD_CLOEXEC);
	if (fds[0] < 0) {
		fprintf(stderr, "eventfd: %s\n", strerror(errno));
		goto out;
	}
	*hdr = (struct vfio_irq_set){
		.argsz = sizeof(*hdr) + sizeof(int32_t),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = env.index,
		.start = 0,
		.count = 1,
	};
	race_fact("span", "%lu MiB behind the header (%lu entries)", env.span_mb,
		  (unsigned long)(span / sizeof(int32_t)));

	if (pthread_create(&tf, NULL, flipper, NULL) ||
	    pthread_create(&ti, NULL, issuer, &d)) {
		fprintf(stderr, "pthread_create failed\n");
		goto out;
	}
	while (!done) {
		double since = call_since;

		race_sleep_ms(20);
		if (!cut && since && race_now() - since > env.cut) {
			/* The walk faults on the next entry and returns. */
			munmap((char *)hdr + page, span - page);
			cut = true;
			cut_at = race_now() - since;
			race_fact("cut", "a call still running after %.1f s: entries unmapped",
				  cut_at);
			done = true;
		}
	}
	pthread_join(ti, NULL);
	pthread_join(tf, NULL);

	race_fact("calls", "%ld", stats.calls);
	race_fact("allowed", "%ld", stats.ok);
	race_fact("einval", "%ld", stats.einval);
	race_fact("other_errors", "%ld", stats.other);
	race_fact("longest", "%.3f s", stats.longest);
	/* Both outcomes, or a cut call: the racing thread did reach the kernel. */
	race_verdict(stats.ok > 0 && (stats.einval > 0 || cut) && !stats.other,
		     "trace race: %ld SET_IRQS calls, %ld with count 1 done, %ld with the huge count refused",
		     stats.calls, stats.ok, stats.einval);
	race_verdict(!cut && stats.longest <= env.bound,
		     "trace race: the longest SET_IRQS took %.3f s (bound %.0f s%s)",
		     stats.longest, env.bound,
		     cut ? ", ended by unmapping its entries: the trace walked the racing count" : "");

	off = (struct vfio_irq_set){
		.argsz = sizeof(off),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = env.index,
	};
	ioctl(d.device, VFIO_DEVICE_SET_IRQS, &off);
	ret = race_failed ? 1 : 0;
out:
	race_close(&d);
	return ret;
}
