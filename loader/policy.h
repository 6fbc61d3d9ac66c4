/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy files: YAML (libyaml) in, compiled struct vfp_policy out, with the
 * device match of each policy.  docs/policy.md describes the format.
 */
#ifndef __VFIO_BPF_POLICY_H
#define __VFIO_BPF_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "vfio_policy.h"

#define VFP_BDF_LEN	VFB_BDF_LEN

/* Which devices a policy is for: every field given must match. */
struct vfp_match {
	char bdf[VFP_BDF_LEN];		/* "" = any */
	int vendor;			/* -1 = any */
	int device;			/* -1 = any */
	char pf[VFP_BDF_LEN];		/* parent PF of a VF; "" = any */
	int vf;				/* VF index; -1 = any */
	int subsystem_vendor;		/* -1 = any */
	int subsystem_device;		/* -1 = any */
	__u32 class_value;		/* 24-bit class code under class_mask */
	__u32 class_mask;		/* 0 = any class */
};

/* A capability to hide, resolved per device at apply time. */
struct vfp_hide {
	__u16 id;
	bool ext;			/* an extended (PCIe, >= 0x100) capability */
	int line, col;			/* of the hide: value */
	char name[24];			/* its name ("msix", "aer", or "0x11") */
};

struct vfp_entry {
	struct vfp_match match;
	struct vfp_policy policy;	/* what the file says; vfp_resolve() adds the rest */
	int line;			/* where it starts in the file */
	int n_hide;
	struct vfp_hide hide[VFP_MAX_HIDE];
	int cfg_line[VFP_MAX_USER_CONFIG_RULES];	/* each config rule's position */
	int cfg_col[VFP_MAX_USER_CONFIG_RULES];
	int msix_line, msix_col;	/* interrupts.msix, 0 when not given */
};

struct vfp_file {
	char path[256];
	int n;
	struct vfp_entry *entries;
	char warnings[2048];		/* "file:line:column: warning: ...\n" each */
};

/*
 * Parse @path.  On error returns -1 with "path:line:column: what" in
 * @err; nothing is half-parsed into @out.
 */
int vfp_parse_file(const char *path, struct vfp_file *out, char *err, size_t errlen);
/* The same, from a buffer (for tests); @name stands for the file name. */
int vfp_parse_string(const char *name, const char *text, size_t len,
		     struct vfp_file *out, char *err, size_t errlen);
void vfp_file_free(struct vfp_file *f);

/*
 * The policy @e becomes on device @bdf whose config space (as sysfs shows
 * it) is @cfg, @len bytes (256, or 4096 with extended capabilities):
 * @e->policy plus the config rules of its hide: list and the MSI-X Table
 * Size of interrupts.msix.  What it resolved to goes to @notes, one line
 * each, and warnings ("FILE:LINE:COLUMN: warning: ...") to @warn.  -1
 * with "FILE:LINE:COLUMN: what" in @err when the result cannot mean what
 * the file says (rules on the same bytes, too many rules).
 */
int vfp_resolve(const char *file, const char *bdf, const struct vfp_entry *e,
		const __u8 *cfg, size_t len,
		struct vfp_policy *out, char *notes, size_t notes_len,
		char *warn, size_t warn_len, char *err, size_t errlen);
/* @bdf's config space from sysfs into @buf: bytes read, or -errno. */
int vfp_read_config(const char *bdf, __u8 *buf, size_t len);
/* A capability's name ("msix"), or NULL. */
const char *vfp_cap_name(__u16 id, bool ext);

/* Devices are lib/device.h's, read from sysfs with vfb_device_read(). */
bool vfp_matches(const struct vfp_match *m, const struct vfb_device *d);
/* The first policy of @f for @d, or NULL. */
const struct vfp_entry *vfp_lookup(const struct vfp_file *f, const struct vfb_device *d);

#endif /* __VFIO_BPF_POLICY_H */
