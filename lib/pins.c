// SPDX-License-Identifier: GPL-2.0
/*
 * The pin tree, made and checked one directory at a time (pins.h says
 * why), and the module's own account of the policies it has attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "pins.h"

const char *vfb_pins_base = VFB_BPFFS;
bool vfb_pins_need_bpffs = true;
const char *vfb_driver_sysfs = VFB_DRIVER_SYSFS;

#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Why a directory of the tree cannot be trusted, or 0. */
static int check_dir(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen,
			 "%s is owned by uid %u, not root: whoever made it can remove the pins\n"
			 "  in it and so detach policies; vfio-bpf will not use it.  Check what it\n"
			 "  holds, remove it (rm -r %s) and run vfio-bpf again",
			 path, (unsigned int)st.st_uid, path);
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0700) {
		snprintf(err, errlen,
			 "%s has mode %04o, not 0700: others could reach the pins in it;\n"
			 "  vfio-bpf will not use it.  If you made it, chmod 0700 %s;\n"
			 "  otherwise remove it (rm -r %s), and run vfio-bpf again",
			 path, (unsigned int)(st.st_mode & 07777), path, path);
		return -EPERM;
	}
	return 0;
}

/* The bpffs the tree hangs from: a bpffs, root's, sticky if others may write. */
static int open_base(char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	fd = open(vfb_pins_base, DIR_FLAGS);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s (is bpffs mounted there? mount -t bpf bpf %s)",
			 vfb_pins_base, strerror(errno), vfb_pins_base);
		return -errno;
	}
	if (vfb_pins_need_bpffs && (fstatfs(fd, &sfs) || sfs.f_type != BPF_FS_MAGIC)) {
		snprintf(err, errlen, "%s is not a bpffs: mount one (mount -t bpf bpf %s)",
			 vfb_pins_base, vfb_pins_base);
		close(fd);
		return -ENOTDIR;
	}
	if (fstat(fd, &st) || st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by uid %u, not root: vfio-bpf will not pin there;\n"
			 "  mount a bpffs of root's there (mount -t bpf bpf %s)",
			 vfb_pins_base, (unsigned int)st.st_uid, vfb_pins_base);
		close(fd);
		return -EPERM;
	}
	/* Without the sticky bit, anybody could rename our directory away. */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s has mode %04o: writable by others without the sticky bit,\n"
			 "  so anybody could replace vfio-bpf's directory; chmod 1777 or 0700 it",
			 vfb_pins_base, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Open (or make, with @create) the component @name of @parent, then check it. */
static int open_component(int parent, const char *name, const char *path, bool create,
			  char *err, size_t errlen)
{
	bool made = false;
	int fd, e;

	fd = openat(parent, name, DIR_FLAGS);
	if (fd < 0 && errno == ENOENT && create) {
		if (!mkdirat(parent, name, 0700))
			made = true;
		else if (errno != EEXIST)
			goto fail;
		fd = openat(parent, name, DIR_FLAGS);
	}
	if (fd < 0)
		goto fail;
	/*
	 * Ours, just made, in a parent only root can change (or the sticky
	 * bpffs root): the umask may have taken bits off, so set them.
	 */
	if (made && fchmod(fd, 0700)) {
		e = -errno;
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		close(fd);
		return e;
	}
	e = check_dir(fd, path, err, errlen);
	if (e) {
		close(fd);
		return e;
	}
	return fd;
fail:
	e = -errno;
	/* O_DIRECTORY|O_NOFOLLOW says ENOTDIR of a symbolic link: tell them apart. */
	if (errno == ENOTDIR) {
		struct stat st;

		if (!fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
			errno = ELOOP;
		e = -errno;
	}
	if (errno == ELOOP)
		snprintf(err, errlen, "%s is a symbolic link, not a directory: vfio-bpf will not\n"
			 "  follow it.  Check it, remove it (rm %s) and run vfio-bpf again", path, path);
	else if (errno == ENOTDIR)
		snprintf(err, errlen, "%s is not a directory: check it, remove it and run\n"
			 "  vfio-bpf again", path);
	else if (errno != ENOENT || create)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		snprintf(err, errlen, "%s: no such directory", path);
	return e;
}

int vfb_pins_open(const char *rel, bool create, struct vfb_dir *d, char *err, size_t errlen)
{
	char tmp[sizeof(d->path)], *name, *save = NULL;
	int fd, next;

	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s", vfb_pins_base);
	if (snprintf(tmp, sizeof(tmp), "%s", rel) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s/%s: path too long", vfb_pins_base, rel);
		return -ENAMETOOLONG;
	}
	fd = open_base(err, errlen);
	if (fd < 0)
		return fd;
	for (name = strtok_r(tmp, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		size_t o = strlen(d->path);

		snprintf(d->path + o, sizeof(d->path) - o, "/%s", name);
		next = open_component(fd, name, d->path, create, err, errlen);
		close(fd);
		if (next < 0)
			return next;
		fd = next;
	}
	d->fd = fd;
	return 0;
}

void vfb_dir_close(struct vfb_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/*
 * BPF_F_PATH_FD (a pin's path relative to a directory fd) is 6.5; before,
 * the kernel says EINVAL and the same directory is named through its fd's
 * /proc/self/fd link instead, so that the pin still goes into the directory
 * checked when it was opened.
 */
static void dir_fd_path(const struct vfb_dir *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", d->fd, name);
}

static int pin_get(const struct vfb_dir *d, const char *name, __u32 flags, char *err,
		   size_t errlen)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_PATH_FD | flags, .path_fd = d->fd);
	LIBBPF_OPTS(bpf_obj_get_opts, by_path, .file_flags = flags);
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno != ENOENT)
			snprintf(err, errlen, "%s/%s: %s", d->path, name, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/%s is not a pinned object (%s): vfio-bpf will not\n"
			 "  use it.  Check it, remove it and run vfio-bpf again", d->path, name,
			 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		return -EPERM;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s/%s is owned by uid %u, mode %04o: not root's alone, so\n"
			 "  vfio-bpf will not trust it.  Check it, remove it and run vfio-bpf again",
			 d->path, name, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	/* The directory is root's 0700: nobody can swap the pin since fstatat. */
	fd = bpf_obj_get_opts(name, &opts);
	if (fd == -EINVAL) {
		dir_fd_path(d, name, path, sizeof(path));
		fd = bpf_obj_get_opts(path, &by_path);
	}
	if (fd < 0)
		snprintf(err, errlen, "%s/%s: %s", d->path, name, strerror(-fd));
	return fd;
}

int vfb_pin_get(const struct vfb_dir *d, const char *name, char *err, size_t errlen)
{
	return pin_get(d, name, 0, err, errlen);
}

/*
 * Read-only: BPF_OBJ_GET then asks only for read permission on the pin,
 * which CAP_DAC_READ_SEARCH grants a reader that is not root (the tree is
 * root's 0700); no BPF capability is involved (6.12 checks none there).
 */
int vfb_pin_get_ro(const struct vfb_dir *d, const char *name, char *err, size_t errlen)
{
	return pin_get(d, name, BPF_F_RDONLY, err, errlen);
}

int vfb_pin_put(const struct vfb_dir *d, const char *name, int fd)
{
	LIBBPF_OPTS(bpf_obj_pin_opts, opts, .file_flags = BPF_F_PATH_FD, .path_fd = d->fd);
	char path[PATH_MAX];

	if (!bpf_obj_pin_opts(fd, name, &opts))
		return 0;
	if (errno != EINVAL)
		return -errno;
	dir_fd_path(d, name, path, sizeof(path));
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

int vfb_pin_remove(const struct vfb_dir *d, const char *name)
{
	return unlinkat(d->fd, name, 0) ? -errno : 0;
}

void vfb_pin_dev_name(const char *bdf, char *buf, size_t len)
{
	char *dot;

	snprintf(buf, len, "%s", bdf);
	dot = strrchr(buf, '.');
	if (dot)
		*dot = '_';
}

void vfb_pin_dev_bdf(const char *name, char *buf, size_t len)
{
	char *u;

	snprintf(buf, len, "%s", name);
	u = strrchr(buf, '_');
	if (u)
		*u = '.';
}

__u32 vfb_link_id(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return bpf_link_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int vfb_kernel_policies(struct vfb_kpolicy *out, int max)
{
	char path[PATH_MAX], line[128];
	int n = 0, err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/policies", vfb_driver_sysfs);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char bdf[32], state[16], tail;
		unsigned int id;

		if (line[0] == '\n')
			continue;
		if (sscanf(line, "%31s link=%u state=%15s %c", bdf, &id, state, &tail) != 3 ||
		    strlen(bdf) >= sizeof(out->bdf) ||
		    (strcmp(state, "bound") && strcmp(state, "unbound"))) {
			err = -EINVAL;
			break;
		}
		if (n < max) {
			snprintf(out[n].bdf, sizeof(out[n].bdf), "%s", bdf);
			out[n].link_id = id;
			out[n].bound = !strcmp(state, "bound");
			n++;
		}
	}
	fclose(f);
	return err ? err : n;
}

const struct vfb_kpolicy *vfb_kpolicy_find(const struct vfb_kpolicy *k, int n, const char *bdf)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(k[i].bdf, bdf))
			return &k[i];
	return NULL;
}

/* One line of the driver's sysfs file @name into @buf, without its newline. */
static int driver_file(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", vfb_driver_sysfs, name);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -ENOENT;
}

int vfb_kernel_core(char *buf, size_t len)
{
	return driver_file("core", buf, len);
}

const char *vfb_no_hooks(void)
{
	static char msg[256];
	struct utsname u;
	char hooks[32];
	int major = 0, minor = 0;

	/* A module that does not say has hooks: it predates the file. */
	if (driver_file("hooks", hooks, sizeof(hooks)) || strcmp(hooks, "none"))
		return NULL;
	if (!uname(&u))
		sscanf(u.release, "%d.%d", &major, &minor);
	snprintf(msg, sizeof(msg),
		 "this kernel (%d.%d) has no struct_ops for modules: vfio-pci-bpf observes but cannot enforce; policies need 6.9 or later",
		 major, minor);
	return msg;
}
