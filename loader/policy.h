/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy files: YAML (libyaml) in, compiled struct vfp_policy out, with the
 * device match of each policy.  docs/policy.md describes the format.
 */
#ifndef __VFIO_BPF_POLICY_H
#define __VFIO_BPF_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "vfio_policy.h"

#define VFP_BDF_LEN	16

/* Which devices a policy is for: every field given must match. */
struct vfp_match {
	char bdf[VFP_BDF_LEN];		/* "" = any */
	int vendor;			/* -1 = any */
	int device;			/* -1 = any */
	char pf[VFP_BDF_LEN];		/* parent PF of a VF; "" = any */
	int vf;				/* VF index; -1 = any */
};

struct vfp_entry {
	struct vfp_match match;
	struct vfp_policy policy;
	int line;			/* where it starts in the file */
};

struct vfp_file {
	char path[256];
	int n;
	struct vfp_entry *entries;
};

/* What we know of a device, to match it. */
struct vfp_device {
	char bdf[VFP_BDF_LEN];
	int vendor, device;
	char pf[VFP_BDF_LEN];		/* "" unless a VF */
	int vf;				/* -1 unless a VF */
	char driver[64];
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

bool vfp_matches(const struct vfp_match *m, const struct vfp_device *d);
/* The first policy of @f for @d, or NULL. */
const struct vfp_entry *vfp_lookup(const struct vfp_file *f, const struct vfp_device *d);

/* Fill @d from sysfs; -errno when there is no such device. */
int vfp_device_from_sysfs(const char *bdf, struct vfp_device *d);

#endif /* __VFIO_BPF_POLICY_H */
