// SPDX-License-Identifier: GPL-2.0
/*
 * race-cfgread: a policy hides one config register (read: deny) and shows
 * a substitute for another (read: VALUE).  The real bytes, which sysfs
 * shows, must never reach the VFIO user's memory, not even for a moment:
 *
 *  - fault: the read's buffer ends part-way through the register (the next
 *    page is PROT_NONE), so copying the piece to the user faults after
 *    some of its bytes; those bytes must not be the real ones.
 *  - race: a thread keeps copying the buffer while the main thread preads
 *    the config header into it; a judge that lets the real bytes land in
 *    the buffer and overwrites them afterwards shows them to that thread.
 *
 * A byte counts as leaked when it equals the real byte at its position and
 * that byte differs from the canary the buffer was filled with and from
 * what the policy lets the user see there (zero for a denied register,
 * or the substitute).  A denied register reads as zero, never fails and
 * never cuts a read short.
 */
#include <argp.h>
#include <pthread.h>
#include <sys/mman.h>

#include "race.h"

#define CANARY	0xa5

static struct env {
	const char *bdf;
	unsigned int deny_off;
	unsigned int subst_off;
	uint32_t subst;
	long reads;
	int faults;
} env = {
	.deny_off = 0x2c,
	.subst_off = 0x00,
	.subst = 0x5a5a5a5a,
	.reads = 20000,
	.faults = 20,
};

/* A hidden register: its real bytes and what the user may see instead. */
struct target {
	const char *what;
	unsigned int off;
	uint8_t real[4];
	uint8_t legit[4];
	int distinct;		/* bytes that tell a leak apart */
};

static struct target targets[2];

static int leaked_bytes(const struct target *t, const volatile uint8_t *seen,
			unsigned int n)
{
	int leaks = 0;

	for (unsigned int i = 0; i < n && i < 4; i++)
		if (seen[i] == t->real[i] && t->real[i] != CANARY &&
		    t->real[i] != t->legit[i])
			leaks++;
	return leaks;
}

static int setup_target(struct race_dev *d, struct target *t, const char *what,
			unsigned int off, bool deny)
{
	t->what = what;
	t->off = off;
	if (race_sysfs_config(d, off, t->real, 4)) {
		fprintf(stderr, "sysfs config 0x%x: %s\n", off, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		t->legit[i] = deny ? 0 : (env.subst >> (8 * i)) & 0xff;
		if (t->real[i] != CANARY && t->real[i] != t->legit[i])
			t->distinct++;
	}
	race_fact(what, "0x%x real %02x %02x %02x %02x (sysfs), %d telling bytes",
		  off, t->real[0], t->real[1], t->real[2], t->real[3], t->distinct);
	if (t->distinct < 3) {
		fprintf(stderr, "0x%x: its real bytes look like the canary or the allowed view\n",
			off);
		return -1;
	}
	return 0;
}

/* Unraced: is the policy in force at all? */
static bool policy_in_force(struct race_dev *d)
{
	uint32_t v = 0xa5a5a5a5, w = 0;
	ssize_t n, m;

	n = pread(d->device, &v, 4, d->cfg_off + env.deny_off);
	race_verdict(n == 4 && v == 0,
		     "cfgread: a read of 0x%x is denied: it reads as zero (%zd bytes, 0x%08x)",
		     env.deny_off, n, v);
	m = pread(d->device, &w, 4, d->cfg_off + env.subst_off);
	race_verdict(m == 4 && w == env.subst,
		     "cfgread: a read of 0x%x shows the substitute (0x%08x)",
		     env.subst_off, w);
	return n == 4 && v == 0 && m == 4 && w == env.subst;
}

/*
 * Reads whose buffer ends @k bytes into the target (k = 1..3): the piece
 * faults part-way.  With @before, the read starts at the aligned piece
 * before the target, so the target piece is not the first.
 */
static void fault_reads(struct race_dev *d, uint8_t *pages, long page,
			const struct target *t, bool before)
{
	unsigned int lead = before ? 4 : 0;
	long leaks = 0, reads = 0, partial = 0;

	if (before && t->off < 4)
		return;
	for (int round = 0; round < env.faults; round++) {
		for (unsigned int k = 1; k <= 3; k++) {
			uint8_t *buf = pages + page - lead - k;
			ssize_t n;
			int l;

			memset(pages, CANARY, page);
			n = pread(d->device, buf, lead + 4, d->cfg_off + t->off - lead);
			reads++;
			if (n > 0 && n < (ssize_t)(lead + 4))
				partial++;
			l = leaked_bytes(t, buf + lead, k);
			if (l)
				race_debug("%s k=%u: pread %zd, %d real bytes\n", t->what, k, n, l);
			leaks += l;
		}
	}
	race_verdict(!leaks,
		     "cfgread fault: %ld real bytes of 0x%x (%s) reached a buffer that faults part-way (%ld reads%s)",
		     leaks, t->off, t->what, reads,
		     before ? ", after an allowed piece" : "");
	race_debug("%s: %ld short reads\n", t->what, partial);
}

/* The race: the main thread preads the span, a thread watches the buffer. */
static uint8_t span_buf[256] __attribute__((aligned(64)));
static volatile long seq;
static volatile bool done;
static unsigned int span_start;
static long leak_obs[2], leak_reads[2], observations;

static void *watcher(void *arg)
{
	long last[2] = { -1, -1 };

	while (!done) {
		for (int i = 0; i < 2; i++) {
			const struct target *t = &targets[i];
			const volatile uint8_t *p = span_buf + t->off - span_start;
			/* A 4-byte copy, as a caller reading its own buffer would. */
			uint32_t v = *(const volatile uint32_t *)p;
			long s = seq;

			if (leaked_bytes(t, (const uint8_t *)&v, 4)) {
				leak_obs[i]++;
				if (s != last[i]) {
					leak_reads[i]++;
					last[i] = s;
				}
			}
		}
		observations++;
	}
	return NULL;
}

static int race_reads(struct race_dev *d)
{
	unsigned int lo = targets[0].off < targets[1].off ? targets[0].off : targets[1].off;
	unsigned int hi = targets[0].off > targets[1].off ? targets[0].off : targets[1].off;
	unsigned int len = hi + 4 - lo;
	long i, errors = 0, shorts = 0;
	ssize_t n;
	pthread_t t;
	double t0;

	span_start = lo;
	memset(span_buf, CANARY, sizeof(span_buf));
	if (pthread_create(&t, NULL, watcher, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 2;
	}
	t0 = race_now();
	for (i = 0; i < env.reads && !race_stop; i++) {
		seq = i;
		n = pread(d->device, span_buf, len, d->cfg_off + lo);
		if (n < 0)
			errors++;
		else if (n != (ssize_t)len)
			shorts++;
	}
	done = true;
	pthread_join(t, NULL);

	race_fact("race.reads", "%ld of 0x%x bytes at 0x%x", i, len, lo);
	race_fact("race.errors", "%ld", errors);
	race_fact("race.observations", "%ld", observations);
	race_fact("race.seconds", "%.1f", race_now() - t0);
	race_verdict(i == env.reads && !errors && !shorts,
		     "cfgread race: %ld of %ld preads ran whole (%ld failed, %ld short)",
		     i, env.reads, errors, shorts);
	for (int k = 0; k < 2; k++)
		race_verdict(!leak_reads[k],
			     "cfgread race: the real bytes of 0x%x (%s) showed during %ld of %ld preads (%ld sightings in %ld looks)",
			     targets[k].off, targets[k].what, leak_reads[k], i,
			     leak_obs[k], observations);
	return 0;
}

static const struct argp_option options[] = {
	{ "deny", 'd', "OFF", 0, "the register the policy denies (default 0x2c)", 0 },
	{ "subst", 's', "OFF", 0, "the register the policy substitutes (default 0x00)", 0 },
	{ "value", 'V', "VALUE", 0, "its substitute (default 0x5a5a5a5a)", 0 },
	{ "reads", 'n', "N", 0, "racing preads (default 20000)", 0 },
	{ "faults", 'f', "N", 0, "rounds of faulting reads (default 20)", 0 },
	{ "verbose", 'v', NULL, 0, "verbose debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd': env.deny_off = race_number("offset", arg); break;
	case 's': env.subst_off = race_number("offset", arg); break;
	case 'V': env.subst = race_number("value", arg); break;
	case 'n': env.reads = race_number("count", arg); break;
	case 'f': env.faults = race_number("count", arg); break;
	case 'v': race_verbose = true; break;
	case ARGP_KEY_ARG:
		if (env.bdf)
			argp_usage(state);
		env.bdf = arg;
		break;
	case ARGP_KEY_END:
		if (!env.bdf || (env.deny_off | env.subst_off) & 3 ||
		    env.deny_off == env.subst_off ||
		    env.deny_off > 252 || env.subst_off > 252)
			argp_error(state, "need a BDF and two different aligned offsets below 0x100");
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
	.doc = "Try to see the real bytes of config registers a policy hides:\n"
	       "buffers that fault part-way, and a thread watching the buffer.\v"
	       "EXAMPLES:\n"
	       "  race-cfgread 0000:00:04.0   # policy: 0x2c read: deny, 0x00 read: 0x5a5a5a5a\n",
};

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	struct race_dev d;
	uint8_t *pages;
	int ret = 2;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	race_signals();
	if (race_open(&d, env.bdf))
		goto out;
	if (setup_target(&d, &targets[0], "deny", env.deny_off, true) ||
	    setup_target(&d, &targets[1], "subst", env.subst_off, false))
		goto out;
	if (!policy_in_force(&d)) {
		ret = 1;	/* no policy in force: the rest would prove nothing */
		goto out;
	}

	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED || mprotect(pages + page, page, PROT_NONE)) {
		fprintf(stderr, "mmap: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		fault_reads(&d, pages, page, &targets[i], false);
		fault_reads(&d, pages, page, &targets[i], true);
	}
	munmap(pages, 2 * page);

	if (race_reads(&d))
		goto out;
	ret = race_failed ? 1 : 0;
out:
	race_close(&d);
	return ret;
}
