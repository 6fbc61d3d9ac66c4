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

/*
 * Parse @path.  On error returns -1 with "path:line:column: what" in
 * @err; nothing is half-parsed into @out.
 */
int vfp_parse_file(const char *path, struct vfp_file *out, char *err, size_t errlen);
/* The same, from a buffer (for tests); @name stands for the file name. */
int vfp_parse_string(const char *name, const char *text, size_t len,
		     struct vfp_file *out, char *err, size_t errlen);
void vfp_file_free(struct vfp_file *f);

/* Devices are lib/device.h's, read from sysfs with vfb_device_read(). */
bool vfp_matches(const struct vfp_match *m, const struct vfb_device *d);
/* The first policy of @f for @d, or NULL. */
const struct vfp_entry *vfp_lookup(const struct vfp_file *f, const struct vfb_device *d);

#endif /* __VFIO_BPF_POLICY_H */
