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
 * BDF's dot an underscore: bpffs refuses dots), so the
 * policy outlives this program; applying again replaces it atomically (a
 * link update), and removing the pins detaches it.
 */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "counters.h"
#include "policy.h"
#include "vfio_policy.skel.h"

#define PIN_ROOT	"/sys/fs/bpf/vfio-bpf"
#define PIN_DEVICES	PIN_ROOT "/devices"
#define LOCK_FILE	"/run/vfio-bpf.lock"
#define DRIVER		"vfio-pci-bpf"

static struct env {
	const char *bdf;
	int argc;
	char *argv[4];
} env;

const char *argp_program_version = "vfio-bpf 0.1";
static const char doc[] =
"Status and BPF policies of devices bound to vfio-pci-bpf.\n"
"\n"
"COMMANDS:\n"
"  status                    the module, its devices and their policies\n"
"  load                      load the counting programs and pin them, so that\n"
"                            counts outlive every reader (vfio_exporter reads them)\n"
"  unload                    remove the pinned counters\n"
"  policy check FILE         parse and compile FILE, apply nothing\n"
"  policy apply FILE         give each device bound to vfio-pci-bpf the\n"
"                            first policy of FILE that matches it\n"
"  policy show               the policy in force on each device\n"
"  policy remove             detach the policies\n"
"  policy watch FILE         apply FILE now, then to every device that binds\n"
"                            to vfio-pci-bpf (for systems without udev)\n"
"\v"
"Policies stay in force after vfio-bpf exits (pinned under " PIN_ROOT ").\n"
"Applying to a device that has a policy replaces it atomically.\n"
"docs/policy.md describes the policy file.\n"
"\n"
"EXAMPLES:\n"
"    vfio-bpf status\n"
"    vfio-bpf load\n"
"    vfio-bpf policy check /etc/vfio-bpf/policy.yaml\n"
"    vfio-bpf policy apply /etc/vfio-bpf/policy.yaml\n"
"    vfio-bpf policy apply -d 0000:01:00.0 policy.yaml   # one device\n"
"    vfio-bpf policy remove -d 0000:01:00.0\n"
"    vfio-bpf policy watch /etc/vfio-bpf/policy.yaml &\n";

static const struct argp_option opts[] = {
	{ "device", 'd', "BDF", 0, "Only this device", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'd':
		env.bdf = arg;
		break;
	case 'v':
		vfb_verbose = true;
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

static __u32 sbdf_of(const char *bdf)
{
	__u32 sbdf;

	return vfb_parse_bdf(bdf, &sbdf) ? 0xffffffff : sbdf;
}

/* Devices bound to vfio-pci-bpf, or just env.bdf. */
static int bound_devices(char (*out)[VFP_BDF_LEN], int max)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir("/sys/bus/pci/drivers/" DRIVER);
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		if (strlen(de->d_name) != 12 || de->d_name[4] != ':')
			continue;
		snprintf(out[n++], VFP_BDF_LEN, "%s", de->d_name);
	}
	closedir(dir);
	return n;
}

/*
 * bpffs refuses names with a dot: a device's pins live in
 * devices/0000:00:04_0/, the BDF with its dot made an underscore.
 */
static void pin_dir(char *buf, size_t len, const char *bdf)
{
	char *dot;

	snprintf(buf, len, "%s/%s", PIN_DEVICES, bdf);
	dot = strrchr(buf, '.');
	if (dot && dot > strrchr(buf, '/'))
		*dot = '_';
}

static void pin_path(char *buf, size_t len, const char *bdf, const char *what)
{
	char dir[96];

	pin_dir(dir, sizeof(dir), bdf);
	snprintf(buf, len, "%s/%s", dir, what);
}

/* One vfio-bpf at a time changes policies. */
static int take_lock(void)
{
	int fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "vfio-bpf: %s: %s\n", LOCK_FILE, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		fprintf(stderr, "vfio-bpf: another vfio-bpf is changing policies (%s is locked);\n"
			"  try again when it is done\n", LOCK_FILE);
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* mkdir -p; existing directories (sysfs ones say EPERM to mkdir) are fine. */
static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX + 2];
	struct stat st;

	snprintf(tmp, sizeof(tmp), "%s/", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (stat(tmp, &st) || !S_ISDIR(st.st_mode)) {
			if (mkdir(tmp, 0700) && errno != EEXIST)
				return -errno;
		}
		*p = '/';
	}
	return 0;
}

static void print_policy(const struct vfp_policy *p)
{
	static const char *const irq[] = { "intx", "msi", "msix", "err", "req" };

	printf("  policy %s\n", p->name);
	for (__u32 i = 0; i < p->n_config && i < VFP_MAX_CONFIG_RULES; i++) {
		const struct vfp_config_rule *r = &p->config[i];

		printf("    config %#05x+%-4u%s%s%s%s", r->offset, r->size,
		       r->actions & VFP_CFG_DENY_READ ? " read:deny" : "",
		       r->actions & VFP_CFG_DENY_WRITE ? " write:deny" : "",
		       r->actions & VFP_CFG_MASK_WRITE ? " write:mask" : "",
		       r->actions & VFP_CFG_SUBST_READ ? " read:value" : "");
		if (r->actions & VFP_CFG_MASK_WRITE)
			printf(" mask=%#x", r->mask);
		if (r->actions & VFP_CFG_SUBST_READ)
			printf(" value=%#x", r->value);
		putchar('\n');
	}
	for (int b = 0; b < 6; b++)
		if (p->trap_bars & (1u << b))
			printf("    bar %d trapped (no mmap)\n", b);
	for (__u32 i = 0; i < p->n_bar && i < VFP_MAX_BAR_RULES; i++)
		printf("    bar %u %#llx+%#llx deny %s\n", p->bar[i].bar,
		       (unsigned long long)p->bar[i].offset, (unsigned long long)p->bar[i].size,
		       p->bar[i].actions == (VFP_BAR_DENY_READ | VFP_BAR_DENY_WRITE) ? "all" :
		       p->bar[i].actions & VFP_BAR_DENY_READ ? "read" : "write");
	for (int i = 0; i < 5; i++)
		if (p->max_vectors[i] != VFP_NO_LIMIT)
			printf("    interrupts %s at most %u vectors\n", irq[i], p->max_vectors[i]);
	if (p->deny_reset)
		printf("    reset deny\n");
	if (p->deny_open)
		printf("    open deny\n");
	if (p->deny_migration)
		printf("    migration deny\n");
}

static int cmd_check(const char *path)
{
	struct vfp_file f;
	char err[512];

	if (vfp_parse_file(path, &f, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: %d %s, valid\n", path, f.n, f.n == 1 ? "policy" : "policies");
	for (int i = 0; i < f.n; i++)
		print_policy(&f.entries[i].policy);
	vfp_file_free(&f);
	return 0;
}

/* Load the policy program for one device and attach or replace it. */
static int apply_one(const struct vfp_device *d, const struct vfp_entry *e)
{
	char dir[PATH_MAX], link_pin[PATH_MAX], pol_pin[PATH_MAX], stats_pin[PATH_MAX];
	struct vfio_policy_bpf *skel;
	struct bpf_link *link = NULL;
	bool replace;
	int err;

	pin_dir(dir, sizeof(dir), d->bdf);
	pin_path(link_pin, sizeof(link_pin), d->bdf, "link");
	pin_path(pol_pin, sizeof(pol_pin), d->bdf, "policy");
	pin_path(stats_pin, sizeof(stats_pin), d->bdf, "stats");

	skel = vfio_policy_bpf__open();
	if (!skel)
		return -errno;
	skel->struct_ops.vfp_ops->sbdf = sbdf_of(d->bdf);
	memcpy((void *)&skel->rodata->policy, &e->policy, sizeof(e->policy));
	err = vfio_policy_bpf__load(skel);
	if (err) {
		fprintf(stderr, "vfio-bpf: %s: cannot load the policy program: %s (-v shows why)\n",
			d->bdf, strerror(-err));
		goto out;
	}
	err = mkdir_p(dir);
	if (err) {
		fprintf(stderr, "vfio-bpf: %s: %s (is bpffs mounted at /sys/fs/bpf?)\n", dir,
			strerror(-err));
		goto out;
	}

	replace = !access(link_pin, F_OK);
	if (replace) {
		link = bpf_link__open(link_pin);
		err = link ? bpf_link__update_map(link, skel->maps.vfp_ops) : -errno;
		if (err) {
			fprintf(stderr, "vfio-bpf: %s: cannot replace the policy: %s\n",
				d->bdf, strerror(-err));
			goto out;
		}
	} else {
		link = bpf_map__attach_struct_ops(skel->maps.vfp_ops);
		if (!link) {
			err = -errno;
			fprintf(stderr, "vfio-bpf: %s: cannot attach the policy: %s%s\n", d->bdf,
				strerror(-err), err == -EBUSY ?
				" (another program's policy is attached)" : "");
			goto out;
		}
		err = bpf_link__pin(link, link_pin);
		if (err) {
			fprintf(stderr, "vfio-bpf: %s: pin %s: %s\n", d->bdf, link_pin,
				strerror(-err));
			goto out;
		}
	}
	/* The policy and counters of the program now in force. */
	unlink(pol_pin);
	unlink(stats_pin);
	if (bpf_map__pin(skel->maps.rodata, pol_pin) || bpf_map__pin(skel->maps.bss, stats_pin))
		fprintf(stderr, "vfio-bpf: %s: warning: cannot pin the policy's data; show and status will not see it\n",
			d->bdf);
	printf("%s: %s policy %s\n", d->bdf, replace ? "replaced by" : "applied", e->policy.name);
out:
	bpf_link__destroy(link);
	vfio_policy_bpf__destroy(skel);
	return err;
}

static int cmd_apply(const char *path)
{
	char bdfs[256][VFP_BDF_LEN], err[512];
	int n, lock, failed = 0, applied = 0;
	struct vfp_file f;

	if (need_module())
		return 1;
	if (vfp_parse_file(path, &f, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	lock = take_lock();
	if (lock < 0) {
		vfp_file_free(&f);
		return 1;
	}
	if (env.bdf) {
		n = 1;
		snprintf(bdfs[0], VFP_BDF_LEN, "%s", env.bdf);
	} else {
		n = bound_devices(bdfs, 256);
	}
	for (int i = 0; i < n; i++) {
		const struct vfp_entry *e;
		struct vfp_device d;

		if (vfp_device_from_sysfs(bdfs[i], &d)) {
			fprintf(stderr, "vfio-bpf: no PCI device %s\n", bdfs[i]);
			failed++;
			continue;
		}
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
		if (apply_one(&d, e))
			failed++;
		else
			applied++;
	}
	if (!n)
		printf("no device is bound to " DRIVER "\n");
	close(lock);
	vfp_file_free(&f);
	return failed ? 1 : 0;
}

static int read_pinned(const char *path, void *buf, size_t len)
{
	__u32 zero = 0;
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_map_lookup_elem(fd, &zero, buf) ? -errno : 0;
	close(fd);
	(void)len;
	return err;
}

/* For each device with a policy (or env.bdf): fn(bdf). */
static int for_each_policed(int (*fn)(const char *bdf))
{
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	if (env.bdf)
		return fn(env.bdf);
	dir = opendir(PIN_DEVICES);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char bdf[VFP_BDF_LEN], *u;

		if (de->d_name[0] == '.')
			continue;
		snprintf(bdf, sizeof(bdf), "%.15s", de->d_name);
		u = strrchr(bdf, '_');
		if (u)
			*u = '.';
		ret |= fn(bdf);
	}
	closedir(dir);
	return ret;
}

static int show_one(const char *bdf)
{
	struct vfio_policy_bpf__rodata ro;
	struct vfio_policy_bpf__bss st;
	char path[PATH_MAX];

	pin_path(path, sizeof(path), bdf, "link");
	if (access(path, F_OK)) {
		printf("%s: no policy\n", bdf);
		return 0;
	}
	pin_path(path, sizeof(path), bdf, "policy");
	if (read_pinned(path, &ro, sizeof(ro))) {
		printf("%s: a policy is attached, its data is not readable\n", bdf);
		return 0;
	}
	pin_path(path, sizeof(path), bdf, "stats");
	memset(&st, 0, sizeof(st));
	read_pinned(path, &st, sizeof(st));
	printf("%s: denied %llu, rewritten %llu\n", bdf, (unsigned long long)st.denied,
	       (unsigned long long)st.rewritten);
	print_policy((const struct vfp_policy *)&ro.policy);
	return 0;
}

static int remove_one(const char *bdf)
{
	char path[PATH_MAX], dir[PATH_MAX];
	bool had;

	pin_path(path, sizeof(path), bdf, "link");
	had = !unlink(path);
	pin_path(path, sizeof(path), bdf, "policy");
	unlink(path);
	pin_path(path, sizeof(path), bdf, "stats");
	unlink(path);
	pin_dir(dir, sizeof(dir), bdf);
	rmdir(dir);
	printf("%s: %s\n", bdf, had ? "policy removed" : "had no policy");
	return 0;
}

static int cmd_status(void)
{
	char bdfs[256][VFP_BDF_LEN], path[PATH_MAX], buf[16] = "?";
	int n;
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
	printf("module vfio_pci_bpf: loaded, require_policy=%s\n", buf);
	printf("counters: %s\n", access(VFB_COUNTERS_DIR "/counts", F_OK) ?
	       "not loaded (vfio-bpf load)" : "loaded, pinned at " VFB_COUNTERS_DIR);
	n = bound_devices(bdfs, 256);
	printf("%d device%s bound to " DRIVER "\n", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++) {
		struct vfio_policy_bpf__rodata ro;
		struct vfp_device d;

		if (env.bdf && strcmp(env.bdf, bdfs[i]))
			continue;
		vfp_device_from_sysfs(bdfs[i], &d);
		pin_path(path, sizeof(path), bdfs[i], "policy");
		printf("  %s %04x:%04x%s%s%s policy: %s\n", d.bdf, d.vendor, d.device,
		       d.pf[0] ? " vf of " : "", d.pf, d.pf[0] ? "" : "",
		       read_pinned(path, &ro, sizeof(ro)) ? "none" :
		       ((const struct vfp_policy *)&ro.policy)->name);
	}
	return 0;
}

static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	exiting = 1;
}

/*
 * The daemon: apply @path to every device bound to vfio-pci-bpf, then to
 * each device the kernel announces binding to it (KOBJ_BIND uevents).  The
 * file is read again for every device, so edits take effect.  With
 * vfio_pci_bpf's require_policy=1, a device cannot be opened between its
 * bind and this apply.
 */
static int cmd_watch(const char *path)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char buf[8192];
	int sock, err;

	if (need_module())
		return 1;
	sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "vfio-bpf: cannot listen to uevents: %s\n", strerror(errno));
		return 1;
	}
	/* Listening first, then the devices already bound: none slips by. */
	env.bdf = NULL;
	cmd_apply(path);
	/* No SA_RESTART: a signal must end the blocking recv(). */
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = sig_handler }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = sig_handler }, NULL);
	printf("vfio-bpf: watching for devices binding to " DRIVER "\n");
	fflush(stdout);
	while (!exiting) {
		const char *action = "", *driver = "", *slot = "";
		ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "vfio-bpf: uevent socket: %s\n", strerror(errno));
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
	return 0;
}

static int cmd_load(void)
{
	int err;

	if (need_module())
		return 1;
	err = vfb_counters_load_pinned("vfio-bpf");
	if (err == -EEXIST) {
		printf("counters already loaded (%s)\n", VFB_COUNTERS_DIR);
		return 0;
	}
	if (err)
		return 1;
	printf("counters loaded, pinned at %s\n", VFB_COUNTERS_DIR);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.args_doc = "COMMAND [ARG...]",
		.doc = doc,
	};
	const char *cmd, *sub;

	/* Bad usage exits 2, as the docs say; argp would say 64. */
	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
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
		return for_each_policed(show_one);
	if (!strcmp(sub, "remove") && env.argc == 2) {
		int lock = take_lock(), ret;

		if (lock < 0)
			return 1;
		ret = for_each_policed(remove_one);
		close(lock);
		return ret;
	}
	fprintf(stderr, "vfio-bpf: usage: vfio-bpf policy check|apply|watch FILE, policy show|remove [-d BDF]\n");
	return 2;
}
