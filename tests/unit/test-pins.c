// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of lib/pins.c: the pin tree is made root's and 0700 whatever
 * the umask, and a directory or pin that someone else could change (not
 * root's, another mode, a symbolic link, not a directory) is refused with a
 * message naming it, and left as it was; the module's policies and core
 * files are parsed.  Runs as root on the build machine against a temporary
 * directory standing for the bpffs: no BPF call is made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pins.h"

static int passed, failed;
static char base[64], msg[1024];

static void verdict(int ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "PASS: " : "FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	ok ? passed++ : failed++;
	if (!ok && msg[0])
		printf("  last message: %s\n", msg);
}

static const char *at(const char *rel)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", base, rel);
	return p[i];
}

static unsigned int mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 0 : st.st_mode & 07777;
}

static unsigned int uid_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 12345 : st.st_uid;
}

static int try_open(const char *rel, bool create)
{
	struct vfb_dir d;
	int e;

	msg[0] = '\0';
	e = vfb_pins_open(rel, create, &d, msg, sizeof(msg));
	vfb_dir_close(&d);
	return e;
}

static bool has(const char *s)
{
	return strstr(msg, s) != NULL;
}

static void creation(void)
{
	mode_t old = umask(0277);	/* would leave 0500 */
	int e = try_open("vfio-bpf/devices/0000:00:04_0", true);

	umask(old);
	verdict(e == 0, "create: the whole tree is made (%d)", e);
	verdict(mode_of(at("vfio-bpf")) == 0700 && mode_of(at("vfio-bpf/devices")) == 0700 &&
		mode_of(at("vfio-bpf/devices/0000:00:04_0")) == 0700,
		"create: every directory is 0700 despite umask 0277");
	verdict(try_open("vfio-bpf/devices/0000:00:04_0", false) == 0,
		"open: an existing good tree opens without creating");
	verdict(try_open("vfio-bpf/devices/0000:00:05_0", false) == -ENOENT,
		"open: a missing directory is -ENOENT without create");
	verdict(access(at("vfio-bpf/devices/0000:00:05_0"), F_OK),
		"open: ... and is not made");
}

static void refusals(void)
{
	int e;

	/* Another user's directory, as on a 1777 bpffs before root came. */
	mkdir(at("vfio-bpf/devices/0000:00:06_0"), 0700);
	chown(at("vfio-bpf/devices/0000:00:06_0"), 65534, 65534);
	e = try_open("vfio-bpf/devices/0000:00:06_0", true);
	verdict(e == -EPERM, "not root's: refused (%d)", e);
	verdict(has(at("vfio-bpf/devices/0000:00:06_0")) && has("owned by uid 65534, not root") &&
		has("rm -r"), "not root's: the message names the path, the owner and what to do");
	verdict(uid_of(at("vfio-bpf/devices/0000:00:06_0")) == 65534 &&
		mode_of(at("vfio-bpf/devices/0000:00:06_0")) == 0700,
		"not root's: left as it was (not chowned)");

	/* A user-owned top directory: refused before anything beneath. */
	mkdir(at("other"), 0700);
	chown(at("other"), 65534, 65534);
	e = try_open("other/devices/x", true);
	verdict(e == -EPERM && has(at("other")) && access(at("other/devices"), F_OK),
		"not root's at the top: refused, nothing made inside (%d)", e);

	mkdir(at("vfio-bpf/devices/0000:00:07_0"), 0700);
	chmod(at("vfio-bpf/devices/0000:00:07_0"), 0755);
	e = try_open("vfio-bpf/devices/0000:00:07_0", false);
	verdict(e == -EPERM && has("has mode 0755, not 0700"), "mode 0755: refused, says so (%d)", e);
	verdict(mode_of(at("vfio-bpf/devices/0000:00:07_0")) == 0755, "mode 0755: not chmodded");

	mkdir(at("elsewhere"), 0700);
	symlink(at("elsewhere"), at("vfio-bpf/devices/0000:00:08_0"));
	e = try_open("vfio-bpf/devices/0000:00:08_0", true);
	verdict(e == -ELOOP && has("is a symbolic link"), "symlink: refused, not followed (%d)", e);
	verdict(access(at("elsewhere/x"), F_OK) && mode_of(at("elsewhere")) == 0700,
		"symlink: its target untouched");

	close(open(at("vfio-bpf/devices/0000:00:09_0"), O_CREAT | O_WRONLY, 0600));
	e = try_open("vfio-bpf/devices/0000:00:09_0", true);
	verdict(e == -ENOTDIR && has("is not a directory"), "a file in place of a directory: refused (%d)", e);
}

static void pin_files(void)
{
	struct vfb_dir d;
	int e;

	vfb_pins_open("vfio-bpf/devices/0000:00:04_0", false, &d, msg, sizeof(msg));
	close(open(at("vfio-bpf/devices/0000:00:04_0/link"), O_CREAT | O_WRONLY, 0600));
	chown(at("vfio-bpf/devices/0000:00:04_0/link"), 65534, 65534);
	msg[0] = '\0';
	e = vfb_pin_get(&d, "link", msg, sizeof(msg));
	verdict(e == -EPERM && has("link is owned by uid 65534"), "a pin of another user: refused (%d)", e);
	symlink("/etc/passwd", at("vfio-bpf/devices/0000:00:04_0/policy"));
	e = vfb_pin_get(&d, "policy", msg, sizeof(msg));
	verdict(e == -EPERM && has("a symbolic link"), "a pin that is a symlink: refused (%d)", e);
	close(open(at("vfio-bpf/devices/0000:00:04_0/stats"), O_CREAT | O_WRONLY, 0600));
	chmod(at("vfio-bpf/devices/0000:00:04_0/stats"), 0622);
	e = vfb_pin_get(&d, "stats", msg, sizeof(msg));
	verdict(e == -EPERM && has("mode 0622"), "a pin others may write: refused (%d)", e);
	e = vfb_pin_get(&d, "nothing", msg, sizeof(msg));
	verdict(e == -ENOENT, "no such pin: -ENOENT (%d)", e);
	verdict(vfb_pin_remove(&d, "link") == 0 && access(at("vfio-bpf/devices/0000:00:04_0/link"), F_OK),
		"remove: relative to the checked directory");
	vfb_dir_close(&d);
}

static void mount_root(void)
{
	const char *saved = vfb_pins_base;
	char sub[128];
	int e;

	snprintf(sub, sizeof(sub), "%s/root", base);
	mkdir(sub, 0700);
	vfb_pins_base = sub;
	chmod(sub, 01777);
	e = try_open("vfio-bpf", true);
	verdict(e == 0 && mode_of(at("root/vfio-bpf")) == 0700, "bpffs root 1777 (sticky): accepted (%d)", e);
	chmod(sub, 0777);
	e = try_open("vfio-bpf", false);
	verdict(e == -EPERM && has("without the sticky bit"), "bpffs root 0777, not sticky: refused (%d)", e);
	chmod(sub, 01777);
	chown(sub, 65534, 65534);
	e = try_open("vfio-bpf", false);
	verdict(e == -EPERM && has("owned by uid 65534"), "bpffs root not root's: refused (%d)", e);
	vfb_pins_base = saved;
	vfb_pins_need_bpffs = true;
	e = try_open("vfio-bpf", false);
	verdict(e == -ENOTDIR && has("is not a bpffs"), "a tmpfs where a bpffs should be: refused (%d)", e);
	vfb_pins_need_bpffs = false;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void kernel_view(void)
{
	struct vfb_kpolicy k[4];
	char drv[128], buf[32];
	int n;

	snprintf(drv, sizeof(drv), "%s/driver", base);
	mkdir(drv, 0755);
	vfb_driver_sysfs = drv;
	verdict(vfb_kernel_policies(k, 4) == -ENOENT, "policies: absent file is -ENOENT (old module)");
	verdict(vfb_kernel_core(buf, sizeof(buf)) == -ENOENT, "core: absent file is -ENOENT");
	write_file(at("driver/policies"), "");
	verdict(vfb_kernel_policies(k, 4) == 0, "policies: an empty file is none attached");
	write_file(at("driver/policies"),
		   "0000:00:04.0 link=12 state=bound\n0000:00:06.1 link=7 state=unbound\n");
	n = vfb_kernel_policies(k, 4);
	verdict(n == 2 && !strcmp(k[0].bdf, "0000:00:04.0") && k[0].link_id == 12 && k[0].bound &&
		!strcmp(k[1].bdf, "0000:00:06.1") && k[1].link_id == 7 && !k[1].bound,
		"policies: two lines parsed (%d)", n);
	verdict(vfb_kpolicy_find(k, n, "0000:00:06.1") == &k[1] &&
		!vfb_kpolicy_find(k, n, "0000:00:05.0"), "policies: looked up by BDF");
	write_file(at("driver/policies"), "0000:00:04.0 link=12 state=sleeping\n");
	verdict(vfb_kernel_policies(k, 4) == -EINVAL, "policies: an unknown state is -EINVAL");
	write_file(at("driver/policies"), "0000:00:04.0 link=x state=bound\n");
	verdict(vfb_kernel_policies(k, 4) == -EINVAL, "policies: a bad link id is -EINVAL");
	write_file(at("driver/core"), "patched\n");
	verdict(!vfb_kernel_core(buf, sizeof(buf)) && !strcmp(buf, "patched"), "core: patched");
	write_file(at("driver/core"), "stock\n");
	verdict(!vfb_kernel_core(buf, sizeof(buf)) && !strcmp(buf, "stock"), "core: stock");
}

static void names(void)
{
	char b[32];

	vfb_pin_dev_name("0000:00:04.0", b, sizeof(b));
	verdict(!strcmp(b, "0000:00:04_0"), "pin name of 0000:00:04.0 is 0000:00:04_0");
	vfb_pin_dev_bdf("0000:00:06_1", b, sizeof(b));
	verdict(!strcmp(b, "0000:00:06.1"), "BDF of 0000:00:06_1 is 0000:00:06.1");
}

int main(void)
{
	char cmd[128];

	if (geteuid()) {
		printf("FAIL: pins: run as root (the checks are about root's ownership)\n");
		return 1;
	}
	snprintf(base, sizeof(base), "/tmp/vfb-pins.XXXXXX");
	if (!mkdtemp(base)) {
		printf("FAIL: pins: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	vfb_pins_base = base;
	vfb_pins_need_bpffs = false;
	creation();
	refusals();
	pin_files();
	mount_root();
	kernel_view();
	names();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd))
		printf("# could not remove %s\n", base);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
