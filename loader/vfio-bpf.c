// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-bpf: status of vfio-pci-bpf devices, and their policies.
 *
 *   vfio-bpf status
 *   vfio-bpf policy check FILE
 *   vfio-bpf policy apply FILE [-d BDF]
 *   vfio-bpf policy show [-d BDF]
 *   vfio-bpf policy remove [-d BDF]
 *
 * A policy applied to a device is a vfio_policy.bpf.c struct_ops instance
 * whose read-only data holds the compiled policy.  Its link, policy and
 * statistics are pinned under /sys/fs/bpf/vfio-bpf/devices/BDF/ (with the
 * BDF's dot an underscore: bpffs refuses dots), so the policy outlives this
 * program; applying again replaces it atomically (a link update), and
 * removing the pins detaches it.  The pin tree is made and checked by
 * pins.c: root's, 0700, no symbolic links.
 *
 * What a pin says is not what the kernel does: the module keeps a policy
 * per device address across unbind and VF re-creation, and drops it when
 * its link is detached.  So status and show compare each pinned link with
 * the module's own list (its sysfs "policies" file), and apply replaces a
 * pin whose link the kernel no longer has instead of failing on it.
 */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <linux/netlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf.h"
#include "counters.h"
#include "device.h"
#include "kinds.h"
#include "pins.h"
#include "stock.h"
#include "vfio_bpf_hooks.h"
#include "policy.h"
#include "vfio_policy.skel.h"

#define LOCK_FILE	"/run/vfio-bpf.lock"
#define DRIVER		VFB_DRIVER

static struct env {
	const char *bdf;
	bool stock;
	bool all_drivers;	/* load: stock-kernel programs beside the module's */
	bool cfg_offsets;	/* load: config-space offsets touched */
	int argc;
	char *argv[4];
	bool latency;
	bool keep;		/* leave a policy alone that is the file's already */
	bool wait_lock;		/* wait for another vfio-bpf's lock (-w, watch) */
} env;

const char *argp_program_version = "vfio-bpf " VFIO_BPF_VERSION;
static const char doc[] =
"Status and BPF policies of devices bound to vfio-pci-bpf.\n"
"\n"
"COMMANDS:\n"
"  status                    the module, its devices and their policies\n"
"  load                      load the counting programs and pin them, so that\n"
"                            counts outlive every reader (vfio_exporter);\n"
"                            -L latency histograms, -C config offsets\n"
"                            touched, -A vfio-pci's devices too\n"
"  load --stock              the same for devices under stock vfio-pci (any\n"
"                            vfio_pci_core driver), without vfio_pci_bpf:\n"
"                            fexit counters on vfio_pci_core's entry points\n"
"  unload                    remove the pinned counters\n"
"  policy check FILE         parse and compile FILE, apply nothing; with -d,\n"
"                            what it becomes on that device (hide: ...)\n"
"  policy apply FILE         give each device bound to vfio-pci-bpf the\n"
"                            first policy of FILE that matches it\n"
"  policy show               the policy in force on each device\n"
"  policy remove             detach the policies\n"
"  policy mode enforce|monitor\n"
"                            switch policies at once between enforcing and\n"
"                            only recording what they would deny (monitor)\n"
"  policy watch FILE         apply FILE now, then to every device that binds\n"
"                            to vfio-pci-bpf (for systems without udev)\n"
"\v"
"Policies stay in force after vfio-bpf exits (pinned under " VFB_PIN_ROOT ").\n"
"Applying to a device that has a policy replaces it atomically.\n"
"docs/policy.md describes the policy file.\n"
"\n"
"EXAMPLES:\n"
"    vfio-bpf status\n"
"    vfio-bpf load\n"
"    vfio-bpf load -L                                   # with latency histograms\n"
"    vfio-bpf load --stock                              # plain vfio-pci\n"
"    vfio-bpf load -A                                   # both drivers on one host\n"
"    vfio-bpf policy check /etc/vfio-bpf/policy.yaml\n"
"    vfio-bpf policy apply /etc/vfio-bpf/policy.yaml\n"
"    vfio-bpf policy apply -d 0000:01:00.0 policy.yaml   # one device\n"
"    vfio-bpf policy remove -d 0000:01:00.0\n"
"    vfio-bpf policy mode monitor -d 0000:01:00.0          # record, do not deny\n"
"    vfio-bpf policy watch /etc/vfio-bpf/policy.yaml &\n"
"    vfio-bpf policy watch --keep /etc/vfio-bpf/policy.yaml   # as vfio-bpf.service\n"
"    vfio-bpf policy apply --keep --wait -d 0000:01:00.0 /etc/vfio-bpf/policy.yaml   # as udev\n";

static const struct argp_option opts[] = {
	{ "device", 'd', "BDF", 0, "Only this device", 0 },
	{ "latency", 'L', NULL, 0, "With load: latency histograms too (the module then times each access)", 0 },
	{ "stock", 'k', NULL, 0, "load: count devices under stock vfio-pci", 0 },
	{ "config-offsets", 'C', NULL, 0,
	  "With load: count the distinct config-space offsets each device's user touches (vfio_config_offsets_touched_total, for the config-scan alert); every config access then costs about twice as much", 0 },
	{ "all-drivers", 'A', NULL, 0,
	  "load, with the module: count devices under vfio-pci and the other vfio_pci_core drivers too (stock-kernel programs beside the module's; each access of the module's devices then also passes their fexit trampoline)", 0 },
	{ "wait", 'w', NULL, 0,
	  "policy apply and remove: wait up to 30 s for another vfio-bpf's lock instead of failing (the udev rule: devices bound at once get their policies one after the other)", 0 },
	{ "keep", 'K', NULL, 0,
	  "policy apply and watch: leave a device's policy alone when it is already the one the file gives it, in the file's mode (no new program, its counts go on; a service restart changes nothing)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'L':
		env.latency = true;
		break;
	case 'd': {
		static char bdf[VFB_BDF_LEN];
		__u32 sbdf;

		/* As sysfs names it, whichever form was given. */
		if (vfb_parse_bdf(arg, &sbdf))
			argp_error(state, "'%s' is not a PCI address like 0000:01:00.0 or 01:00.0",
				   arg);
		vfb_bdf_str(sbdf, bdf, sizeof(bdf));
		env.bdf = bdf;
		break;
	}
	case 'k':
		env.stock = true;
		break;
	case 'A':
		env.all_drivers = true;
		break;
	case 'C':
		env.cfg_offsets = true;
		break;
	case 'K':
		env.keep = true;
		break;
	case 'w':
		env.wait_lock = true;
		break;
	case ARGP_KEY_ARG:
		if (env.argc >= 4)
			argp_usage(state);
		env.argv[env.argc++] = arg;
		break;
	case ARGP_KEY_END:
		if (!env.argc)
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static bool module_loaded(void)
{
	return !access("/sys/module/vfio_pci_bpf", F_OK);
}

static int need_module(void)
{
	return vfb_check_btf("vfio-bpf", "vfio_pci_bpf", VFB_LOAD_HINT);
}

/*
 * The module, with hook points policies can attach to.  A kernel without
 * them (before 6.9) is status 3, not 1: nothing failed that a retry could
 * mend, so vfio-bpf.service stops there instead of restarting
 * (RestartPreventExitStatus=3), with the counters loaded.
 */
#define EXIT_NO_HOOKS 3
static int need_hooks(void)
{
	const char *why;

	if (need_module())
		return 1;
	why = vfb_no_hooks();
	if (!why)
		return 0;
	fprintf(stderr, "vfio-bpf: %s\n", why);
	return EXIT_NO_HOOKS;
}

/* ---- the pins of a device, and what the kernel says of them -------------- */

/* The module's list of attached policies, read afresh by each command. */
static struct kview {
	bool known;		/* false: the module does not report them */
	int n;
	struct vfb_kpolicy k[256];
} kview;

static void load_kview(void)
{
	int n = vfb_kernel_policies(kview.k, 256);

	if (n == -EINVAL)
		fprintf(stderr, "vfio-bpf: warning: cannot read %s/policies: taking it as absent\n",
			vfb_driver_sysfs);
	kview.known = n >= 0;
	kview.n = n > 256 ? 256 : n < 0 ? 0 : n;
}

enum pin_state {
	PIN_NONE,	/* nothing pinned */
	PIN_ACTIVE,	/* the kernel has this link attached, device bound */
	PIN_WAITING,	/* attached, device not bound now: in force when it binds */
	PIN_STALE,	/* the kernel does not have this link: it protects nothing */
	PIN_UNCHECKED,	/* pinned; the module does not say what it has attached */
	PIN_UNSAFE,	/* the pin or its directory cannot be trusted */
};

static const char *state_text(enum pin_state s)
{
	switch (s) {
	case PIN_ACTIVE:
		return "active";
	case PIN_WAITING:
		return "waiting: attached, the device is not bound to " DRIVER ";\n"
		       "    in force again as soon as it binds";
	case PIN_STALE:
		return "stale: the kernel has no such policy attached (detached, or gone);\n"
		       "    this pin protects nothing: vfio-bpf policy apply replaces it,\n"
		       "    vfio-bpf policy remove clears it";
	case PIN_UNCHECKED:
		return "pinned (the module does not report its policies: not checked)";
	default:
		return "none";
	}
}

/* The checked pin directory of @bdf; messages on stderr unless absent. */
static int open_dev_dir(const char *bdf, bool create, struct vfb_dir *dir)
{
	char rel[128], name[32], err[512];
	int e;

	vfb_pin_dev_name(bdf, name, sizeof(name));
	snprintf(rel, sizeof(rel), "%s/%s", VFB_REL_DEVICES, name);
	e = vfb_pins_open(rel, create, dir, err, sizeof(err));
	if (e && (e != -ENOENT || create))
		fprintf(stderr, "vfio-bpf: %s\n", err);
	return e;
}

/*
 * What the link pinned for @bdf is to the kernel; *@link_id its id.  With
 * @dir, the device's pin directory stays open there (fd -1 when absent).
 */
static enum pin_state pin_state(const char *bdf, __u32 *link_id, struct vfb_dir *dir)
{
	const struct vfb_kpolicy *k;
	struct vfb_dir own;
	char err[512];
	int e, fd;

	*link_id = 0;
	if (!dir)
		dir = &own;
	e = open_dev_dir(bdf, false, dir);
	if (e)
		return e == -ENOENT ? PIN_NONE : PIN_UNSAFE;
	fd = vfb_pin_get(dir, "link", err, sizeof(err));
	if (dir == &own)
		vfb_dir_close(dir);
	if (fd == -ENOENT)
		return PIN_NONE;
	if (fd < 0) {
		fprintf(stderr, "vfio-bpf: %s\n", err);
		return PIN_UNSAFE;
	}
	*link_id = vfb_link_id(fd);
	close(fd);
	if (!kview.known)
		return PIN_UNCHECKED;
	k = vfb_kpolicy_find(kview.k, kview.n, bdf);
	/* link=0: the module did not learn the link's id; the address must do. */
	if (!k || !*link_id || (k->link_id && k->link_id != *link_id))
		return PIN_STALE;
	return k->bound ? PIN_ACTIVE : PIN_WAITING;
}

/* Read element 0 of the map pinned as @name in @dir. */
static int read_pinned(const struct vfb_dir *dir, const char *name, void *buf)
{
	__u32 zero = 0;
	char err[512];
	int fd, e;

	if (dir->fd < 0)
		return -ENOENT;
	fd = vfb_pin_get(dir, name, err, sizeof(err));
	if (fd < 0) {
		if (fd != -ENOENT)
			fprintf(stderr, "vfio-bpf: %s\n", err);
		return fd;
	}
	e = bpf_map_lookup_elem(fd, &zero, buf) ? -errno : 0;
	close(fd);
	return e;
}

/* The name of the policy pinned for @bdf, or NULL. */
static const char *pinned_name(const char *bdf, struct vfio_policy_bpf__rodata *ro)
{
	struct vfb_dir dir;
	int e;

	if (open_dev_dir(bdf, false, &dir))
		return NULL;
	e = read_pinned(&dir, "policy", ro);
	vfb_dir_close(&dir);
	return e ? NULL : ((const struct vfp_policy *)&ro->policy)->name;
}

/* One vfio-bpf at a time changes policies. */
static int take_lock(void)
{
	int fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "vfio-bpf: %s: %s\n", LOCK_FILE, strerror(errno));
		return -errno;
	}
	/*
	 * The daemon and -w wait (up to 30 s): udev runs the rule for devices
	 * bound at once in parallel, and the daemon handles the same binds; a
	 * bind given up on would stay unpoliced.
	 */
	for (int i = 0; env.wait_lock && i < 300 && flock(fd, LOCK_EX | LOCK_NB) &&
	     errno == EWOULDBLOCK; i++)
		usleep(100000);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		fprintf(stderr, "vfio-bpf: another vfio-bpf is changing policies (%s is locked);\n"
			"  try again when it is done\n", LOCK_FILE);
		close(fd);
		return -EBUSY;
	}
	return fd;
}


/*
 * @file_mode: say the mode the file asks for (policy check); for a policy
 * in force the kernel's mode is the one to print, and show_one() does.
 */
static void print_policy(const struct vfp_policy *p, bool file_mode)
{
	static const char *const keeps[] = { "zero", "one", "current" };

	printf("  policy %s%s\n", p->name, file_mode && p->monitor ?
	       " (mode: monitor, records what it would deny)" : "");
	for (__u32 i = 0; i < p->n_config && i < VFP_MAX_CONFIG_RULES; i++) {
		const struct vfp_config_rule *r = &p->config[i];

		printf("    config %#05x+%-4u%s%s%s%s%s", r->offset, r->size,
		       r->actions & VFP_CFG_DENY_READ ? " read:deny" : "",
		       r->actions & VFP_CFG_DENY_WRITE ? " write:deny" : "",
		       r->actions & VFP_CFG_MASK_WRITE ? " write:mask" : "",
		       r->actions & VFP_CFG_DROP_WRITE ? " write:drop" : "",
		       r->actions & VFP_CFG_SUBST_READ ? " read:value" : "");
		if (r->actions & VFP_CFG_MASK_WRITE)
			printf(" mask=%#x", r->mask);
		if ((r->actions & VFP_CFG_MASK_WRITE) && r->keep && r->keep < 3)
			printf(" keep=%s", keeps[r->keep]);
		if (r->actions & VFP_CFG_SUBST_READ)
			printf(" value=%#x", r->value);
		/* Only a partial mask is news: a plain value sets every bit. */
		if ((r->actions & VFP_CFG_SUBST_READ) && r->read_mask != 0xffffffff &&
		    (r->size >= 4 || r->read_mask != (1u << (8 * r->size)) - 1))
			printf(" under=%#x", r->read_mask);
		putchar('\n');
	}
	for (int b = 0; b < VFT_NR_BARS; b++)
		if (p->trap_bars & (1u << b))
			printf("    bar %d trapped (no mmap)\n", b);
	for (__u32 i = 0; i < p->n_bar && i < VFP_MAX_BAR_RULES; i++)
		printf("    bar %u %#llx+%#llx deny %s\n", p->bar[i].bar,
		       (unsigned long long)p->bar[i].offset, (unsigned long long)p->bar[i].size,
		       p->bar[i].actions == (VFP_BAR_DENY_READ | VFP_BAR_DENY_WRITE) ? "all" :
		       p->bar[i].actions & VFP_BAR_DENY_READ ? "read" : "write");
	for (int i = 0; i < VFT_NR_IRQ_INDEXES; i++)
		if (p->max_vectors[i] != VFP_NO_LIMIT)
			printf("    interrupts %s at most %u vectors\n", vfb_irq_index_name(i),
			       p->max_vectors[i]);
	if (p->deny_reset)
		printf("    reset deny\n");
	if (p->deny_open)
		printf("    open deny\n");
	if (p->deny_migration)
		printf("    migration deny\n");
	if (p->no_migration)
		printf("    migration none (not advertised)\n");
}

/* What a policy's device-dependent parts will do, before any device. */
static void print_unresolved(const struct vfp_entry *e)
{
	for (int i = 0; i < e->n_hide; i++) {
		const char *name = vfp_cap_name(e->hide[i].id, e->hide[i].ext);

		printf("    hide %s (%s capability %#x%s%s): on each device at apply, unlinked from the list,\n"
		       "      its bytes read as zero, writes dropped (policy check -d BDF shows where)\n",
		       e->hide[i].name, e->hide[i].ext ? "extended" : "standard", e->hide[i].id,
		       name && strcmp(name, e->hide[i].name) ? ", " : "",
		       name && strcmp(name, e->hide[i].name) ? name : "");
	}
	if (e->policy.max_vectors[2] != VFP_NO_LIMIT && e->policy.max_vectors[2] > 0)
		printf("    interrupts msix %u: a larger MSI-X Table Size reads as %u at apply\n",
		       e->policy.max_vectors[2], e->policy.max_vectors[2] - 1);
}

/*
 * @e made concrete for @d: its hide: and MSI-X Table Size rules from the
 * device's config space.  Prints warnings on stderr, and with @say what
 * was resolved; -1 when it cannot apply (said on stderr).
 */
static int resolve_for(const struct vfb_device *d, const char *path, const struct vfp_entry *e,
		       struct vfp_entry *out, bool say)
{
	static __u8 cfg[4096];
	char notes[2048], warn[1024], err[512];
	int n;

	*out = *e;
	if (!e->n_hide && (e->policy.max_vectors[2] == VFP_NO_LIMIT || !e->policy.max_vectors[2]))
		return 0;
	n = vfp_read_config(d->bdf, cfg, sizeof(cfg));
	if (n < 0x40) {
		fprintf(stderr, "vfio-bpf: %s: cannot read its config space from sysfs%s%s: hide and the MSI-X Table Size need it\n",
			d->bdf, n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
		return -1;
	}
	if (vfp_resolve(path, d->bdf, e, cfg, n, &out->policy, notes, sizeof(notes),
			warn, sizeof(warn), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	fputs(warn, stderr);
	if (say) {
		for (char *l = strtok(notes, "\n"); l; l = strtok(NULL, "\n"))
			printf("%s: %s\n", d->bdf, l);
	}
	return 0;
}

static int cmd_check(const char *path)
{
	struct vfp_file f;
	char err[512];

	if (vfp_parse_file(path, &f, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fputs(f.warnings, stderr);
	printf("%s: %d %s, valid\n", path, f.n, f.n == 1 ? "policy" : "policies");
	if (env.bdf) {
		/* What the policy for that device becomes on it. */
		static struct vfp_entry re;
		struct vfb_device d;
		const struct vfp_entry *e;
		int ret = 1;

		if (vfb_device_read(env.bdf, &d))
			fprintf(stderr, "vfio-bpf: no PCI device %s\n", env.bdf);
		else if (!(e = vfp_lookup(&f, &d)))
			printf("%s: no policy of %s matches (%04x:%04x)\n", d.bdf, path,
			       d.vendor, d.device);
		else if (!resolve_for(&d, path, e, &re, true)) {
			printf("%s:\n", d.bdf);
			print_policy(&re.policy, true);
			ret = 0;
		}
		vfp_file_free(&f);
		return ret;
	}
	for (int i = 0; i < f.n; i++) {
		print_policy(&f.entries[i].policy, true);
		print_unresolved(&f.entries[i]);
	}
	vfp_file_free(&f);
	return 0;
}
/* Unpin what vfio-bpf pinned for a device (its directory stays). */
static void unpin_all(const struct vfb_dir *dir)
{
	vfb_pin_remove(dir, "link");
	vfb_pin_remove(dir, "policy");
	vfb_pin_remove(dir, "stats");
}

static void explain_attach_error(const char *bdf, const char *what, int err)
{
	fprintf(stderr, "vfio-bpf: %s: cannot %s the policy: %s\n", bdf, what, strerror(-err));
	if (err == -EOPNOTSUPP)
		fprintf(stderr, "  the module runs on a stock vfio-pci-core, where a racing caller could\n"
			"  bypass a policy, so it refuses them: load the patched vfio-pci-core\n"
			"  (docs/hooks.md); vfio-bpf status shows which one is loaded\n");
	else if (err == -EBUSY)
		fprintf(stderr, "  another program's policy is attached to it, not the one vfio-bpf\n"
			"  pinned (vfio-bpf status lists it)\n");
	else if (err == -ENODEV)
		fprintf(stderr, "  the device is not bound to " DRIVER " (any more): bind it first\n");
}

static const char *kernel_mode(const char *bdf);

/*
 * With --keep: is the policy in force on @d already @e, in @e's mode?  The
 * pinned policy data is the compiled policy the program enforces, so equal
 * bytes are the same rules; the kernel's modes file says the mode (which
 * `policy mode` may have switched).  Anything else, or anything unknown,
 * is a change.
 */
static bool in_force_already(const struct vfb_device *d, const struct vfp_entry *e)
{
	struct vfio_policy_bpf__rodata ro;
	enum pin_state state;
	struct vfb_dir dir;
	const char *mode;
	bool same;
	__u32 id;

	load_kview();
	state = pin_state(d->bdf, &id, &dir);
	same = (state == PIN_ACTIVE || state == PIN_WAITING) &&
	       !read_pinned(&dir, "policy", &ro) &&
	       !memcmp(&ro.policy, &e->policy, sizeof(e->policy));
	vfb_dir_close(&dir);
	if (!same)
		return false;
	mode = kernel_mode(d->bdf);
	return mode && !strcmp(mode, e->policy.monitor ? "monitor" : "enforce");
}

/*
 * Load the policy program for one device and attach it, or replace the one
 * in force.  A pinned link the kernel still has is updated in place (one
 * atomic switch); a stale one (detached, or dropped by the kernel) is
 * unpinned and a fresh link attached and pinned in its place.
 */
static int apply_one(const struct vfb_device *d, const struct vfp_entry *e)
{
	struct vfio_policy_bpf *skel;
	struct bpf_link *link = NULL;
	enum pin_state state;
	struct vfb_dir dir;
	bool replaced = false;
	int err, link_fd = -1;
	__u32 id;

	if (env.keep && in_force_already(d, e)) {
		printf("%s: policy %s unchanged\n", d->bdf, e->policy.name);
		return 0;
	}
	skel = vfio_policy_bpf__open();
	if (!skel)
		return -errno;
	skel->struct_ops.vfp_ops->sbdf = d->sbdf;
	/*
	 * The module records decisions under this name, and monitors or
	 * enforces.  bpftool's skeleton cannot name a char array member, so
	 * the name goes in by its offset in the (same-layout) struct.
	 */
	_Static_assert(sizeof(*skel->struct_ops.vfp_ops) == sizeof(struct vfio_pci_bpf_ops),
		       "skeleton struct_ops layout");
	snprintf((char *)skel->struct_ops.vfp_ops + offsetof(struct vfio_pci_bpf_ops, name),
		 VFIO_BPF_NAME_LEN, "%s", e->policy.name);
	skel->struct_ops.vfp_ops->flags = (e->policy.monitor ? VFIO_BPF_OPS_MONITOR : 0) |
					  (e->policy.no_migration ? VFIO_BPF_OPS_NO_MIGRATION : 0);
	memcpy((void *)&skel->rodata->policy, &e->policy, sizeof(e->policy));
	err = vfio_policy_bpf__load(skel);
	if (err) {
		fprintf(stderr, "vfio-bpf: %s: cannot load the policy program: %s (-v shows why)\n",
			d->bdf, strerror(-err));
		goto out;
	}
	/* Every directory on the way checked (root's, 0700), made if missing. */
	err = open_dev_dir(d->bdf, true, &dir);
	if (err)
		goto out;

	load_kview();
	state = pin_state(d->bdf, &id, NULL);
	if (state == PIN_UNSAFE) {
		err = -EPERM;
		goto out_dir;
	}
	/*
	 * Attach first: the module refuses (EBUSY) an address that has a
	 * policy, and then the pinned link, if it is the one, is updated in
	 * place.  (The failed attach has set the map's value, which a link
	 * update needs.)  An attach that succeeds with a pin there means the
	 * pinned link was stale.
	 */
	link = bpf_map__attach_struct_ops(skel->maps.vfp_ops);
	if (link) {
		if (state != PIN_NONE) {
			printf("%s: the pinned policy was stale (not attached in the kernel): replacing it\n",
			       d->bdf);
			unpin_all(&dir);
		}
		err = vfb_pin_put(&dir, "link", bpf_link__fd(link));
		if (err) {
			fprintf(stderr, "vfio-bpf: %s: pin %s/link: %s\n", d->bdf, dir.path,
				strerror(-err));
			goto out_dir;
		}
	} else {
		char msg[512];

		err = -errno;
		if (err != -EBUSY || state == PIN_NONE || state == PIN_STALE) {
			explain_attach_error(d->bdf, "attach", err);
			goto out_dir;
		}
		link_fd = vfb_pin_get(&dir, "link", msg, sizeof(msg));
		if (link_fd < 0) {
			err = link_fd;
			fprintf(stderr, "vfio-bpf: %s\n", msg);
			goto out_dir;
		}
		err = bpf_link_update(link_fd, bpf_map__fd(skel->maps.vfp_ops), NULL);
		if (err) {
			explain_attach_error(d->bdf, "replace", err);
			goto out_dir;
		}
		replaced = true;
	}
	/* The policy and counters of the program now in force. */
	vfb_pin_remove(&dir, "policy");
	vfb_pin_remove(&dir, "stats");
	if (vfb_pin_put(&dir, "policy", bpf_map__fd(skel->maps.rodata)) ||
	    vfb_pin_put(&dir, "stats", bpf_map__fd(skel->maps.bss)))
		fprintf(stderr, "vfio-bpf: %s: warning: cannot pin the policy's data; show and status will not see it\n",
			d->bdf);
	printf("%s: %s policy %s\n", d->bdf, replaced ? "replaced by" : "applied", e->policy.name);
out_dir:
	if (link_fd >= 0)
		close(link_fd);
	vfb_dir_close(&dir);
out:
	bpf_link__destroy(link);
	vfio_policy_bpf__destroy(skel);
	return err;
}

static int cmd_apply(const char *path)
{
	struct vfb_device *devs = NULL, one;
	int n, lock, failed = 0, applied = 0;
	static struct vfp_entry re;
	struct vfp_file f;
	char err[512];

	n = need_hooks();
	if (n)
		return n;
	if (vfp_parse_file(path, &f, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fputs(f.warnings, stderr);
	lock = take_lock();
	if (lock < 0) {
		vfp_file_free(&f);
		return 1;
	}
	if (env.bdf) {
		n = 1;
		devs = &one;
		if (vfb_device_read(env.bdf, &one)) {
			fprintf(stderr, "vfio-bpf: no PCI device %s\n", env.bdf);
			n = 0;
			failed++;
		}
	} else {
		n = vfb_devices_bound(DRIVER, &devs);
		if (n < 0) {
			fprintf(stderr, "vfio-bpf: cannot list the devices of " DRIVER ": %s\n",
				strerror(-n));
			n = 0;
			failed++;
		}
	}
	for (int i = 0; i < n; i++) {
		const struct vfb_device d = devs[i];
		const struct vfp_entry *e;

		if (strcmp(d.driver, DRIVER)) {
			fprintf(stderr, "vfio-bpf: %s is bound to %s, not " DRIVER ": bind it first\n",
				d.bdf, d.driver[0] ? d.driver : "no driver");
			failed++;
			continue;
		}
		e = vfp_lookup(&f, &d);
		if (!e) {
			printf("%s: no policy of %s matches (%04x:%04x)\n", d.bdf, path,
			       d.vendor, d.device);
			if (env.bdf)
				failed++;
			continue;
		}
		if (resolve_for(&d, path, e, &re, true) || apply_one(&d, &re))
			failed++;
		else
			applied++;
	}
	if (!n && !failed)
		printf("no device is bound to " DRIVER "\n");
	if (devs != &one)
		free(devs);
	close(lock);
	vfp_file_free(&f);
	return failed ? 1 : 0;
}

/* The devices that have a pin directory, by BDF; -errno if untrusted. */
static int pinned_devices(char (*out)[VFP_BDF_LEN], int max)
{
	struct vfb_dir devs;
	struct dirent *de;
	char err[512];
	int n = 0, e;
	DIR *dir;

	e = vfb_pins_open(VFB_REL_DEVICES, false, &devs, err, sizeof(err));
	if (e == -ENOENT)
		return 0;
	if (e) {
		fprintf(stderr, "vfio-bpf: %s\n", err);
		return e;
	}
	dir = fdopendir(devs.fd);
	if (!dir) {
		vfb_dir_close(&devs);
		return -errno;
	}
	while ((de = readdir(dir)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		vfb_pin_dev_bdf(de->d_name, out[n++], VFP_BDF_LEN);
	}
	closedir(dir);
	return n;
}

/* For each device with a policy (or env.bdf): fn(bdf). */
static int for_each_policed(int (*fn)(const char *bdf))
{
	char bdfs[256][VFP_BDF_LEN];
	int n, ret = 0;

	if (env.bdf)
		return fn(env.bdf);
	n = pinned_devices(bdfs, 256);
	if (n < 0)
		return 1;
	for (int i = 0; i < n; i++)
		ret |= fn(bdfs[i]);
	return ret;
}

/*
 * The mode the kernel enforces @bdf's policy in, from the module's modes
 * file ("<bdf> <enforce|monitor> <name>" a line): "enforce", "monitor",
 * or NULL when the module does not say.
 */
static const char *kernel_mode(const char *bdf)
{
	static char mode[16];
	char path[PATH_MAX], line[128], b[32], m[16];
	const char *ret = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/modes", vfb_driver_sysfs);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %15s", b, m) == 2 && !strcmp(b, bdf)) {
			snprintf(mode, sizeof(mode), "%s", m);
			ret = mode;
			break;
		}
	fclose(f);
	return ret;
}

/* policy mode enforce|monitor [-d BDF]: the module switches at once. */
static int cmd_mode(const char *mode)
{
	char path[PATH_MAX];
	const char *now;
	FILE *f;
	int err = 0;

	if (strcmp(mode, "enforce") && strcmp(mode, "monitor")) {
		fprintf(stderr, "vfio-bpf: policy mode is enforce or monitor, not '%s'\n", mode);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/modes", vfb_driver_sysfs);
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "vfio-bpf: cannot switch modes: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (is vfio_pci_bpf loaded, and new enough for monitor mode?)" : "");
		return 1;
	}
	if (fprintf(f, "%s %s\n", env.bdf ? env.bdf : "all", mode) < 0 || fflush(f))
		err = errno;
	if (fclose(f) && !err)
		err = errno;
	if (err) {
		fprintf(stderr, "vfio-bpf: %s: %s%s\n", env.bdf ? env.bdf : "all", strerror(err),
			err == ENODEV ? " (no policy attached there)" : "");
		return 1;
	}
	if (env.bdf) {
		now = kernel_mode(env.bdf);
		printf("%s: %s\n", env.bdf, now ? now : "mode unknown");
	} else {
		printf("every policy: %s\n", mode);
	}
	return 0;
}

/*
 * How often each rule of @bdf's policy decided, from the pinned counters
 * (vfio-bpf load): a line per hook, verdict, mode and rule.  Silent when
 * no counters are pinned; says so once.
 */
static void show_rule_hits(const char *bdf)
{
	struct vfb_decision *dec = NULL;
	struct vfb_counters c;
	int n, shown = 0;
	__u32 sbdf;

	if (vfb_parse_bdf(bdf, &sbdf) || vfb_counters_open_pinned(&c)) {
		printf("  rule hits: not counted (vfio-bpf load pins the counters)\n");
		return;
	}
	n = vfb_read_decisions(&c, &dec);
	for (int i = 0; i < n; i++) {
		const struct vft_decision_key *k = &dec[i].key;
		char rule[24];

		if (k->sbdf != sbdf)
			continue;
		if (k->rule == VFIO_BPF_NO_RULE)
			snprintf(rule, sizeof(rule), "-");
		else if (k->hook == VFIO_BPF_HOOK_SET_IRQS)
			snprintf(rule, sizeof(rule), "interrupts.%s", vfb_irq_index_name(k->rule));
		else if (k->hook == VFIO_BPF_HOOK_BAR_ACCESS || k->hook == VFIO_BPF_HOOK_MMAP)
			snprintf(rule, sizeof(rule), "bars[%u]", k->rule);
		else
			snprintf(rule, sizeof(rule), "config[%u]", k->rule);
		printf("  %-10s %-14s %-7s %-7s %-14s %llu\n", shown++ ? "" : "rule hits:",
		       vfb_hook_name(k->hook), vfb_verdict_name(k->verdict),
		       k->monitor ? "monitor" : "enforce", rule, (unsigned long long)dec[i].n);
	}
	if (n >= 0 && !shown)
		printf("  rule hits: none yet\n");
	free(dec);
	vfb_counters_close(&c);
}

static int show_one(const char *bdf)
{
	struct vfio_policy_bpf__rodata ro;
	struct vfio_policy_bpf__bss st;
	const struct vfb_kpolicy *k;
	enum pin_state state;
	struct vfb_dir dir;
	__u32 id;
	int e;

	state = pin_state(bdf, &id, &dir);
	k = vfb_kpolicy_find(kview.k, kview.n, bdf);
	if (state == PIN_UNSAFE) {
		printf("%s: its pins are not trusted (see above)\n", bdf);
		vfb_dir_close(&dir);
		return 1;
	}
	if (state == PIN_NONE) {
		if (k)
			printf("%s: no policy of vfio-bpf; the kernel has one attached by another\n"
			       "  program (link %u)\n", bdf, k->link_id);
		else
			printf("%s: no policy\n", bdf);
		vfb_dir_close(&dir);
		return 0;
	}
	e = read_pinned(&dir, "policy", &ro);
	memset(&st, 0, sizeof(st));
	read_pinned(&dir, "stats", &st);
	vfb_dir_close(&dir);
	if (e)
		printf("%s: a policy is pinned (link %u), its data is not readable\n", bdf, id);
	else
		printf("%s: denied %llu, rewritten %llu\n", bdf, (unsigned long long)st.denied,
		       (unsigned long long)st.rewritten);
	printf("  state: %s\n", state_text(state));
	if (state != PIN_STALE && kernel_mode(bdf))
		printf("  mode: %s\n", kernel_mode(bdf));
	if (state == PIN_STALE && k)
		printf("  the kernel has another program's policy attached there (link %u)\n",
		       k->link_id);
	if (!e)
		print_policy((const struct vfp_policy *)&ro.policy, false);
	if (state != PIN_STALE)
		show_rule_hits(bdf);
	return 0;
}

/* Kernel-attached policies that no pin of vfio-bpf holds. */
static void list_unpinned(bool bound_too)
{
	bool first = true;

	for (int i = 0; i < kview.n; i++) {
		const struct vfb_kpolicy *k = &kview.k[i];
		enum pin_state st;
		__u32 id;

		if ((!bound_too && k->bound) || (env.bdf && strcmp(env.bdf, k->bdf)))
			continue;
		st = pin_state(k->bdf, &id, NULL);
		if (st == PIN_ACTIVE || st == PIN_WAITING)
			continue;
		if (first)
			printf("attached in the kernel, not pinned by vfio-bpf:\n");
		first = false;
		printf("  %s link %u (%s): another program's policy; bpftool link show id %u\n",
		       k->bdf, k->link_id, k->bound ? "bound" : "device not bound", k->link_id);
	}
}

static void say_unchecked(void)
{
	if (!kview.known)
		printf("note: this vfio_pci_bpf does not report its policies (no %s/policies):\n"
		       "  what follows is what vfio-bpf pinned, not checked against the kernel\n",
		       vfb_driver_sysfs);
}

static int cmd_show(void)
{
	int ret;

	load_kview();
	say_unchecked();
	ret = for_each_policed(show_one);
	if (!env.bdf)
		list_unpinned(true);
	return ret;
}

static int remove_one(const char *bdf)
{
	char name[32], err[512];
	struct vfb_dir devs, dir;
	bool had;
	int e;

	e = vfb_pins_open(VFB_REL_DEVICES, false, &devs, err, sizeof(err));
	if (e && e != -ENOENT) {
		fprintf(stderr, "vfio-bpf: %s\n", err);
		return 1;
	}
	e = e ? e : open_dev_dir(bdf, false, &dir);
	if (e == -ENOENT) {
		printf("%s: had no policy\n", bdf);
		vfb_dir_close(&devs);
		return 0;
	}
	if (e) {
		vfb_dir_close(&devs);
		return 1;
	}
	had = !vfb_pin_remove(&dir, "link");
	unpin_all(&dir);
	vfb_dir_close(&dir);
	vfb_pin_dev_name(bdf, name, sizeof(name));
	unlinkat(devs.fd, name, AT_REMOVEDIR);
	vfb_dir_close(&devs);
	printf("%s: %s\n", bdf, had ? "policy removed" : "had no policy");
	return 0;
}

static int cmd_status(void)
{
	char pinned[256][VFP_BDF_LEN], buf[16] = "?", core[32];
	struct vfb_device *devs;
	bool require;
	int n, np;
	FILE *f;

	if (!module_loaded()) {
		printf("module vfio_pci_bpf: not loaded\n");
		return 1;
	}
	f = fopen("/sys/module/vfio_pci_bpf/parameters/require_policy", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			strcpy(buf, "?");
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	require = buf[0] == 'Y';
	printf("module vfio_pci_bpf: loaded, require_policy=%s\n", buf);
	if (vfb_no_hooks())
		printf("hooks: none: %s\n", vfb_no_hooks());
	else if (vfb_kernel_core(core, sizeof(core)))
		printf("core: not reported (an older vfio_pci_bpf)\n");
	else if (!strcmp(core, "stock"))
		printf("core: stock vfio-pci-core: policies cannot be attached; load the patched\n"
		       "  vfio-pci-core to enforce them (docs/hooks.md)\n");
	else
		printf("core: %s vfio-pci-core\n", core);
	load_kview();
	say_unchecked();
	printf("counters: %s%s\n", access(VFB_COUNTERS_DIR "/counts", F_OK) ?
	       "not loaded (vfio-bpf load)" : "loaded, pinned at " VFB_COUNTERS_DIR,
	       !vfb_stock_pinned() ? "" :
	       access(VFB_COUNTERS_DIR "/slot_counts", F_OK) ?
	       " (stock-kernel: vfio_pci_core entry points)" :
	       " (module; other vfio-pci drivers' devices: stock-kernel)");
	n = vfb_devices_bound(DRIVER, &devs);
	if (n < 0) {
		fprintf(stderr, "vfio-bpf: cannot list the devices of " DRIVER ": %s\n",
			strerror(-n));
		n = 0;
	}
	printf("%d device%s bound to " DRIVER "\n", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++) {
		const struct vfb_device *d = &devs[i];
		struct vfio_policy_bpf__rodata ro;
		const struct vfb_kpolicy *k;
		enum pin_state state;
		const char *name;
		__u32 id;

		if (env.bdf && strcmp(env.bdf, d->bdf))
			continue;
		printf("  %s %04x:%04x%s%s policy: ", d->bdf, d->vendor & 0xffff,
		       d->device & 0xffff, d->pf[0] ? " vf of " : "", d->pf);
		state = pin_state(d->bdf, &id, NULL);
		k = vfb_kpolicy_find(kview.k, kview.n, d->bdf);
		if (state == PIN_NONE || state == PIN_UNSAFE) {
			printf("none%s%s\n", state == PIN_UNSAFE ? " trusted (see above)" : "",
			       require ? " (require_policy: every operation is denied)" : "");
			if (k)
				printf("    the kernel has another program's policy attached (link %u)\n",
				       k->link_id);
			continue;
		}
		name = pinned_name(d->bdf, &ro);
		printf("%s (%s)\n", name ? name : "?", state_text(state));
	}
	/* Pins of devices that are not bound now: waiting, or stale. */
	np = pinned_devices(pinned, 256);
	for (int i = 0, first = 1; i < np; i++) {
		struct vfio_policy_bpf__rodata ro;
		enum pin_state state;
		const char *name;
		bool bound = false;
		__u32 id;

		for (int j = 0; j < n; j++)
			bound |= !strcmp(devs[j].bdf, pinned[i]);
		if (bound || (env.bdf && strcmp(env.bdf, pinned[i])))
			continue;
		state = pin_state(pinned[i], &id, NULL);
		if (state == PIN_NONE)
			continue;
		if (first)
			printf("policies of devices not bound to " DRIVER ":\n");
		first = 0;
		name = pinned_name(pinned[i], &ro);
		printf("  %s policy: %s (%s)\n", pinned[i], name ? name : "?", state_text(state));
	}
	list_unpinned(false);
	free(devs);
	return 0;
}

/*
 * Tell the service manager (Type=notify) that the devices bound now have
 * their policies and binds are watched: units ordered after vfio-bpf.service
 * (libvirtd) start only then.  The protocol is a datagram "READY=1" to
 * $NOTIFY_SOCKET ('@' for the abstract namespace); no libsystemd needed.
 */
static void notify_ready(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + len) < 0)
		fprintf(stderr, "vfio-bpf: warning: cannot notify %s: %s\n", path, strerror(errno));
	close(fd);
}

/* Room for a burst of uevents (VF creation sends several per VF). */
#define UEVENT_RCVBUF	(4 << 20)

/*
 * The daemon: apply @path to every device bound to vfio-pci-bpf, then to
 * each device the kernel announces binding to it (KOBJ_BIND uevents).  The
 * file is read again for every device, so edits take effect.  With
 * vfio_pci_bpf's require_policy=1, a device cannot be opened between its
 * bind and this apply.  When the socket overflows (ENOBUFS), some uevents
 * are lost: every device is looked at again.  Any other error ends it with
 * status 1, so that a service manager restarts it.
 */
static int cmd_watch(const char *path)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int sock, err, size = UEVENT_RCVBUF, ret = 0;
	const char *env_size = getenv("VFIO_BPF_UEVENT_RCVBUF");
	char buf[8192];

	ret = need_hooks();
	if (ret)
		return ret;
	sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "vfio-bpf: cannot listen to uevents: %s\n", strerror(errno));
		return 1;
	}
	/* Tests make it small, to overflow it on purpose. */
	if (env_size && atoi(env_size) > 0)
		size = atoi(env_size);
	/* Past rmem_max needs root's SO_RCVBUFFORCE; the plain one is capped. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* Listening first, then the devices already bound: none slips by. */
	env.bdf = NULL;
	env.wait_lock = true;
	cmd_apply(path);
	/* No SA_RESTART: a signal must end the blocking recv(). */
	vfb_catch_signals();
	printf("vfio-bpf: watching for devices binding to " DRIVER "\n");
	fflush(stdout);
	notify_ready();
	while (!vfb_exiting) {
		const char *action = "", *driver = "", *slot = "";
		ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			fprintf(stderr, "vfio-bpf: uevents were lost (the socket overflowed): "
				"applying %s to every device again\n", path);
			env.bdf = NULL;
			cmd_apply(path);
			fflush(stdout);
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "vfio-bpf: uevent socket: %s: stopping\n", strerror(errno));
			ret = 1;
			break;
		}
		buf[n] = '\0';
		for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
			if (!strncmp(p, "ACTION=", 7))
				action = p + 7;
			else if (!strncmp(p, "DRIVER=", 7))
				driver = p + 7;
			else if (!strncmp(p, "PCI_SLOT_NAME=", 14))
				slot = p + 14;
		}
		if (strcmp(action, "bind") || strcmp(driver, DRIVER) || !*slot)
			continue;
		env.bdf = slot;
		err = cmd_apply(path);
		env.bdf = NULL;
		if (err)
			fprintf(stderr, "vfio-bpf: %s: policy not applied\n", slot);
		fflush(stdout);
	}
	close(sock);
	return ret;
}

static int cmd_load(void)
{
	bool both = false;
	int err;

	/*
	 * Without the module, stock-kernel mode is all there is: say so and
	 * take it (the services load the counters on every host).
	 */
	if (!env.stock && access("/sys/kernel/btf/vfio_pci_bpf", F_OK) &&
	    !access("/sys/kernel/btf/vmlinux", F_OK)) {
		printf("vfio_pci_bpf is not loaded: counting devices under stock vfio-pci "
		       "(stock-kernel mode, as load --stock)\n");
		env.stock = true;
	}
	if (env.stock) {
		/* Stock vfio-pci: the core's BTF, not the module's. */
		if (vfb_check_btf("vfio-bpf", "vfio_pci_core",
				  "  load it (modprobe vfio-pci) and bind devices to vfio-pci\n"))
			return 1;
		err = vfb_stock_load_pinned("vfio-bpf");
	} else {
		if (need_module())
			return 1;
		err = vfb_counters_load_pinned("vfio-bpf", env.latency, env.cfg_offsets,
					       env.all_drivers);
		both = !err && vfb_stock_pinned();
	}
	if (err == -EEXIST) {
		printf("counters already loaded (%s)\n", VFB_COUNTERS_DIR);
		return 0;
	}
	if (err)
		return 1;
	printf("%scounters loaded, pinned at %s\n", env.stock ? "stock-kernel " : "",
	       VFB_COUNTERS_DIR);
	if (both)
		printf("devices under other vfio-pci drivers counted too (stock-kernel programs)\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd, *sub;

	if (vfb_parse_args(opts, parse_arg, "COMMAND [ARG...]", doc, argc, argv))
		return 2;
	libbpf_set_print(vfb_libbpf_print);
	cmd = env.argv[0];
	sub = env.argc > 1 ? env.argv[1] : "";

	if (!strcmp(cmd, "status") && env.argc == 1)
		return cmd_status();
	if (!strcmp(cmd, "load") && env.argc == 1)
		return cmd_load();
	if (!strcmp(cmd, "unload") && env.argc == 1) {
		printf("%s\n", vfb_counters_unpin() ? "counters unloaded" : "no counters were loaded");
		return 0;
	}
	if (strcmp(cmd, "policy")) {
		fprintf(stderr, "vfio-bpf: unknown command '%s' (see --help)\n", cmd);
		return 2;
	}
	if (!strcmp(sub, "check") && env.argc == 3)
		return cmd_check(env.argv[2]);
	if (!strcmp(sub, "apply") && env.argc == 3)
		return cmd_apply(env.argv[2]);
	if (!strcmp(sub, "watch") && env.argc == 3)
		return cmd_watch(env.argv[2]);
	if (!strcmp(sub, "show") && env.argc == 2)
		return cmd_show();
	if (!strcmp(sub, "mode") && env.argc == 3)
		return cmd_mode(env.argv[2]);
	if (!strcmp(sub, "remove") && env.argc == 2) {
		int lock = take_lock(), ret;

		if (lock < 0)
			return 1;
		ret = for_each_policed(remove_one);
		close(lock);
		return ret;
	}
	fprintf(stderr, "vfio-bpf: usage: vfio-bpf policy check|apply|watch FILE, policy show|remove [-d BDF],\n"
		"  policy mode enforce|monitor [-d BDF]\n");
	return 2;
}
