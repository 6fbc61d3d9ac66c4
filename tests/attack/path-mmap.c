// SPDX-License-Identifier: GPL-2.0
/*
 * path-mmap: BAR mmap as a way around a BAR write rule.
 *
 *   path-mmap nontrap BDF        a policy denies BAR0 writes at edu's
 *                                liveness register (0x4) but does not say
 *                                trap: the BAR must still not be mmap-able
 *                                (no MMAP flag, mmap refused), and a write
 *                                through any mapping must not reach it
 *   path-mmap revoke BDF -x CMD  mmap BAR0 with no policy, run CMD (attach
 *                                a trapping policy), then write through the
 *                                old mapping: it must fault (SIGBUS) and
 *                                the register must not change
 *
 * The register is read back through sysfs resource0 after the device is
 * closed (vfio holds the BAR busy while open).
 */
#include "path.h"
#include <setjmp.h>
#include <signal.h>


#define BASELINE	0x0badf00dU	/* written through sysfs first */
#define BEFORE_ATTACH	0x600df00dU	/* through the mapping, no policy */
#define ATTACK		0x5a5a5a5aU	/* through the mapping, policy on */

static struct {
	const char *mode, *bdf, *cmd;
	bool verbose;
} env;

static const struct argp_option opts[] = {
	{ "exec", 'x', "CMD", 0, "Shell command to run after mmap, before the write", 0 },
	{ "verbose", 'v', NULL, 0, "More output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'x': env.cmd = arg; break;
	case 'v': env.verbose = true; break;
	case ARGP_KEY_ARG:
		if (!env.mode)
			env.mode = arg;
		else if (!env.bdf)
			env.bdf = arg;
		else
			argp_usage(state);
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

static sigjmp_buf fault_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(fault_jmp, 1);
}

/*
 * Write @val at @off through @map; true when the access faulted (SIGBUS or
 * SIGSEGV) instead of completing.
 */
static bool write_faults(void *map, uint64_t off, uint32_t val)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old_bus, old_segv;
	volatile bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		*(volatile uint32_t *)((char *)map + off) = val;
		__sync_synchronize();
	} else {
		faulted = true;
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return faulted;
}

static uint32_t liveness(void)
{
	uint32_t v = 0;
	int err = sysfs_bar_rd32(env.bdf, 0, EDU_REG_LIVENESS, &v);

	if (err)
		die("%s: sysfs resource0: %s", env.bdf, strerror(-err));
	return v;
}

static int cmd_nontrap(struct vdev *d)
{
	bool has_mmap = d->reg[BAR0].flags & VFIO_REGION_INFO_FLAG_MMAP;
	void *map;
	int err;

	CHECK(!has_mmap,
	      "mmap nontrap: BAR0 with a deny rule advertises no mmap (region flags %#x)",
	      d->reg[BAR0].flags);
	err = region_wr(d, BAR0, EDU_REG_LIVENESS, 4, ATTACK);
	CHECK(err == -EPERM, "mmap nontrap: pwrite of the denied register fails with EPERM (got %s)",
	      errname(err));
	map = mmap(NULL, d->reg[BAR0].size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   d->reg[BAR0].offset);
	err = map == MAP_FAILED ? -errno : 0;
	CHECK(err, "mmap nontrap: mmap of BAR0 with a deny rule is refused (got %s)",
	      err ? errname(err) : "a mapping");
	if (!err) {
		bool faulted = write_faults(map, EDU_REG_LIVENESS, ATTACK);

		fact("write %#x through the mapping: %s", ATTACK, faulted ? "faulted" : "done");
		munmap(map, d->reg[BAR0].size);
	}
	return 0;
}

static int cmd_revoke(struct vdev *d)
{
	uint32_t seen;
	void *map;
	bool faulted;

	map = mmap(NULL, d->reg[BAR0].size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   d->reg[BAR0].offset);
	if (map == MAP_FAILED)
		die("%s: mmap BAR0 with no policy: %s", env.bdf, strerror(errno));
	/* The mapping reaches the device before the policy comes. */
	*(volatile uint32_t *)((char *)map + EDU_REG_LIVENESS) = BEFORE_ATTACH;
	seen = *(volatile uint32_t *)((char *)map + EDU_REG_LIVENESS);
	fact("liveness through the mapping with no policy: %#x", seen);
	if (seen != ~BEFORE_ATTACH)
		die("%s: the mapping does not reach the device (%#x)", env.bdf, seen);

	if (run_step("attach", env.cmd))
		return 2;
	faulted = write_faults(map, EDU_REG_LIVENESS, ATTACK);
	CHECK(faulted, "mmap revoke: a write through a mapping made before the trapping policy faults (%s)",
	      faulted ? "SIGBUS" : "the write went through");
	munmap(map, d->reg[BAR0].size);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "nontrap|revoke BDF",
		.doc = "BAR mmap against a BAR write rule.",
	};
	uint32_t before, after, want;
	struct vdev d;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (strcmp(env.mode, "nontrap") && strcmp(env.mode, "revoke"))
		die("unknown mode '%s'", env.mode);
	if (!strcmp(env.mode, "revoke") && !env.cmd)
		die("revoke needs -x CMD");

	if (sysfs_enable_memory(env.bdf) ||
	    sysfs_bar_wr32(env.bdf, 0, EDU_REG_LIVENESS, BASELINE))
		die("%s: cannot set the baseline through sysfs", env.bdf);
	before = liveness();
	if (before != ~BASELINE)
		die("%s: liveness reads %#x after writing %#x", env.bdf, before, BASELINE);

	if (vdev_open(&d, env.bdf))
		return 2;
	if (vdev_enable_memory(&d))
		die("%s: cannot enable memory decoding", env.bdf);
	ret = !strcmp(env.mode, "nontrap") ? cmd_nontrap(&d) : cmd_revoke(&d);
	vdev_close(&d);
	if (ret)
		return ret;

	after = liveness();
	want = !strcmp(env.mode, "nontrap") ? before : ~BEFORE_ATTACH;
	fact("liveness on the device: %#x (%#x if the attack wrote)", after, ~ATTACK);
	CHECK(after == want, "mmap %s: the denied register is unchanged on the device (want %#x, now %#x)",
	      env.mode, want, after);
	return path_exit();
}
