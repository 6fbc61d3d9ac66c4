// SPDX-License-Identifier: GPL-2.0
/*
 * Policy files.  libyaml loads the document as a node tree whose nodes keep
 * their positions, so every complaint names file:line:column.  The tree is
 * compiled into one struct vfp_policy per policy, plus its match.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "policy.h"

struct ctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	char *warn;			/* the file's warnings, appended */
	size_t warnlen;
};

/* A warning at @n: the file is valid, but probably not what was meant. */
__attribute__((format(printf, 3, 4)))
static void warn(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	size_t o = strlen(c->warn);
	va_list ap;

	if (o + 1 >= c->warnlen)
		return;
	o += snprintf(c->warn + o, c->warnlen - o, "%s:%zu:%zu: warning: ", c->name,
		      n->start_mark.line + 1, n->start_mark.column + 1);
	if (o + 1 >= c->warnlen)
		return;
	va_start(ap, fmt);
	o += vsnprintf(c->warn + o, c->warnlen - o, fmt, ap);
	va_end(ap);
	if (o + 1 < c->warnlen)
		strcat(c->warn, "\n");
}

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	size_t o;
	va_list ap;

	o = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name,
		     n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
	if (o < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + o, c->errlen - o, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * A scalar's text, or NULL.  libyaml lets a quoted scalar hold a NUL
 * ("a\0b"); as a C string that would silently stand for its first part.
 */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE ||
	    strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/*
 * Digits only, decimal or 0x hex: strtoull() alone would also take
 * leading blanks, a sign (" -1" wraps to a large number) and a leading 0
 * as octal (010 would be 8, 08 an error).
 */
static int parse_number(const char *s, unsigned long long *out)
{
	const char *digits = "0123456789";
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = "0123456789abcdefABCDEF";
		base = 16;
		s += 2;
	}
	if (!*s || strspn(s, digits) != strlen(s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno || *end ? -1 : 0;
}

/* An integer, decimal or 0x hex, in [0, max]. */
static int get_uint(struct ctx *c, const yaml_node_t *n, const char *what,
		    unsigned long long max, unsigned long long *out)
{
	const char *s = scalar(n);

	if (!s || !*s)
		return fail(c, n, "%s must be a number", what);
	if (parse_number(s, out))
		return fail(c, n, "%s must be a number, not '%s'", what, s);
	if (*out > max)
		return fail(c, n, "%s %s is out of range (at most %#llx)", what, s, max);
	return 0;
}

static int get_choice(struct ctx *c, const yaml_node_t *n, const char *what,
		      const char *const *choices, int nchoices)
{
	const char *s = scalar(n);
	char list[128] = "";

	for (int i = 0; s && i < nchoices; i++)
		if (!strcmp(s, choices[i]))
			return i;
	for (int i = 0; i < nchoices; i++) {
		strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < nchoices)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	if (s)
		return fail(c, n, "%s must be one of %s, not '%s'", what, list, s);
	return fail(c, n, "%s must be one of %s", what, list);
}

/* Exactly DDDD:BB:DD.F, as sysfs names devices (any case). */
static int get_bdf(struct ctx *c, const yaml_node_t *n, const char *what, char *out)
{
	static const char shape[] = "xxxx:xx:xx.x";
	const char *s = scalar(n);
	unsigned int d, b, dev, f;
	bool ok = s && strlen(s) == strlen(shape);

	for (int i = 0; ok && shape[i]; i++)
		ok = shape[i] == 'x' ? isxdigit((unsigned char)s[i]) : s[i] == shape[i];
	if (!ok || sscanf(s, "%x:%x:%x.%x", &d, &b, &dev, &f) != 4 || dev > 0x1f || f > 7)
		return fail(c, n, "%s must be a PCI address like 0000:01:00.0%s%s%s", what,
			    s ? ", not '" : "", s ? s : "", s ? "'" : "");
	snprintf(out, VFP_BDF_LEN, "%04x:%02x:%02x.%x", d, b, dev, f);
	return 0;
}

/* Walk a mapping, refusing keys not in @keys. */
#define for_each_pair(c, map, pair)						\
	for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;		\
	     pair < (map)->data.mapping.pairs.top; pair++)

static int check_keys(struct ctx *c, const yaml_node_t *map, const char *what,
		      const char *const *keys, int nkeys)
{
	char list[160] = "";

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "%s must be a mapping (key: value)", what);
	for (int i = 0; i < nkeys; i++) {
		strncat(list, keys[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < nkeys)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	for_each_pair(c, map, pair) {
		yaml_node_t *k = node(c, pair->key);
		const char *ks = scalar(k);
		bool ok = false;

		for (int i = 0; ks && i < nkeys; i++)
			ok |= !strcmp(ks, keys[i]);
		if (!ok)
			return fail(c, k, "unknown key '%s' in %s (expected %s)",
				    ks ? ks : "?", what, list);
	}
	return 0;
}

static yaml_node_t *get(struct ctx *c, const yaml_node_t *map, const char *key)
{
	for_each_pair(c, map, pair) {
		const char *ks = scalar(node(c, pair->key));

		if (ks && !strcmp(ks, key))
			return node(c, pair->value);
	}
	return NULL;
}

/*
 * A class code, as lspci -n prints it (0x0200: class and subclass) or as
 * sysfs does (0x020000: prog-if too, six hex digits), optionally with a
 * mask of the same form after a slash: 0x0200/0xff00 is every network
 * controller.  Stored as 24 bits.
 */
static int get_class(struct ctx *c, const yaml_node_t *n, struct vfp_match *m)
{
	const char *s = scalar(n), *slash;
	unsigned long long v, mask;
	char val[32], msk[32] = "";
	bool wide;

	if (!s || !*s || strlen(s) >= sizeof(val))
		return fail(c, n, "match.class must be a class code like 0x0200 or 0x0200/0xff00");
	slash = strchr(s, '/');
	snprintf(val, sizeof(val), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (slash)
		snprintf(msk, sizeof(msk), "%s", slash + 1);
	wide = !strncasecmp(val, "0x", 2) && strlen(val) == 8;
	if (parse_number(val, &v) || (slash && parse_number(msk, &mask)))
		return fail(c, n, "match.class must be a class code like 0x0200 or 0x0200/0xff00, not '%s'", s);
	if (!slash)
		mask = wide ? 0xffffff : 0xffff;
	if (slash && wide != (!strncasecmp(msk, "0x", 2) && strlen(msk) == 8))
		return fail(c, n, "match.class '%s': give value and mask in the same form (4 or 6 hex digits)", s);
	if (v > (wide ? 0xffffffULL : 0xffffULL) || mask > (wide ? 0xffffffULL : 0xffffULL))
		return fail(c, n, "match.class '%s' is out of range (at most %s)", s,
			    wide ? "0xffffff" : "0xffff");
	if (v & ~mask)
		return fail(c, n, "match.class '%s' has bits outside its mask: it matches nothing", s);
	if (!mask)
		return fail(c, n, "match.class '%s' has an empty mask: leave class out to match any", s);
	m->class_value = wide ? v : v << 8;
	m->class_mask = wide ? mask : mask << 8;
	return 0;
}

static int parse_match(struct ctx *c, const yaml_node_t *n, struct vfp_match *m)
{
	static const char *const keys[] = {
		"bdf", "vendor", "device", "pf", "vf", "class", "subsystem_vendor",
		"subsystem_device",
	};
	unsigned long long v;
	yaml_node_t *x;

	memset(m, 0, sizeof(*m));
	m->vendor = m->device = m->vf = m->subsystem_vendor = m->subsystem_device = -1;
	if (check_keys(c, n, "match", keys, 8))
		return -1;
	if ((x = get(c, n, "class")) && get_class(c, x, m))
		return -1;
	if ((x = get(c, n, "subsystem_vendor"))) {
		if (get_uint(c, x, "match.subsystem_vendor", 0xffff, &v))
			return -1;
		m->subsystem_vendor = v;
	}
	if ((x = get(c, n, "subsystem_device"))) {
		if (get_uint(c, x, "match.subsystem_device", 0xffff, &v))
			return -1;
		m->subsystem_device = v;
	}
	if ((x = get(c, n, "bdf")) && get_bdf(c, x, "match.bdf", m->bdf))
		return -1;
	if ((x = get(c, n, "pf")) && get_bdf(c, x, "match.pf", m->pf))
		return -1;
	if ((x = get(c, n, "vendor"))) {
		if (get_uint(c, x, "match.vendor", 0xffff, &v))
			return -1;
		m->vendor = v;
	}
	if ((x = get(c, n, "device"))) {
		if (get_uint(c, x, "match.device", 0xffff, &v))
			return -1;
		m->device = v;
	}
	if ((x = get(c, n, "vf"))) {
		if (get_uint(c, x, "match.vf", 0xffff, &v))
			return -1;
		m->vf = v;
	}
	return 0;
}

/* Bits of @size bytes (the whole 4-byte pattern beyond 4). */
static unsigned long long size_bits(unsigned long long size)
{
	return size >= 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
}

/*
 * read: allow | deny | zero | ones | VALUE | { value: VALUE, mask: MASK }.
 * A value is a 4-byte pattern over rules longer than 4 bytes; bits outside
 * MASK keep the device's value.
 */
static int parse_read(struct ctx *c, const yaml_node_t *x, struct vfp_config_rule *r)
{
	static const char *const keys[] = { "value", "mask" };
	unsigned long long v, m = size_bits(r->size), max = size_bits(r->size);
	const char *s = scalar(x);
	yaml_node_t *vn, *mn;

	if (s && !strcmp(s, "allow"))
		return 0;
	if (s && !strcmp(s, "deny")) {
		r->actions |= VFP_CFG_DENY_READ;
		return 0;
	}
	if (s && (!strcmp(s, "zero") || !strcmp(s, "ones"))) {
		v = *s == 'z' ? 0 : max;
	} else if (x->type == YAML_MAPPING_NODE) {
		if (check_keys(c, x, "read", keys, 2))
			return -1;
		vn = get(c, x, "value");
		mn = get(c, x, "mask");
		if (!vn)
			return fail(c, x, "read: { ... } needs a value (and a mask: the bits it sets)");
		if (get_uint(c, vn, "read.value", max, &v))
			return -1;
		if (mn && get_uint(c, mn, "read.mask", max, &m))
			return -1;
		if (!m)
			return fail(c, mn, "read.mask 0 keeps every bit: the rule does nothing");
		if (v & ~m)
			return fail(c, vn, "read.value %#llx has bits outside read.mask %#llx", v, m);
	} else if (get_uint(c, x, r->size > 4 ? "read (allow, deny, zero, ones or a 4-byte pattern)" :
			    "read (allow, deny or a value)", max, &v)) {
		return -1;
	}
	r->actions |= VFP_CFG_SUBST_READ;
	r->value = v;
	r->read_mask = m;
	return 0;
}

static int parse_config_rule(struct ctx *c, const yaml_node_t *n, struct vfp_config_rule *r)
{
	static const char *const keys[] = { "offset", "size", "read", "write", "mask", "keep" };
	static const char *const writes[] = { "allow", "deny", "mask" };
	static const char *const keeps[] = { "zero", "one", "current" };
	unsigned long long off, size = 4, v;
	yaml_node_t *x;
	int w;

	memset(r, 0, sizeof(*r));
	if (check_keys(c, n, "config rule", keys, 6))
		return -1;
	x = get(c, n, "offset");
	if (!x)
		return fail(c, n, "config rule needs an offset (or hide: a capability)");
	if (get_uint(c, x, "offset", 4095, &off))
		return -1;
	if ((x = get(c, n, "size")) && get_uint(c, x, "size", 4096, &size))
		return -1;
	if (!size || off + size > 4096)
		return fail(c, x ? x : n, "size %llu at offset %#llx leaves config space (4096 bytes)",
			    size, off);
	r->offset = off;
	r->size = size;

	if ((x = get(c, n, "read")) && parse_read(c, x, r))
		return -1;
	if ((x = get(c, n, "write"))) {
		w = get_choice(c, x, "write", writes, 3);
		if (w < 0)
			return -1;
		if (w == 1)
			r->actions |= VFP_CFG_DENY_WRITE;
		if (w == 2) {
			yaml_node_t *m = get(c, n, "mask"), *k = get(c, n, "keep");

			if (!m)
				return fail(c, x, "write: mask needs a mask (the bits users may not set)");
			if (size > 4)
				return fail(c, x, "a masked write covers at most 4 bytes");
			if (get_uint(c, m, "mask", size_bits(size), &v))
				return -1;
			r->actions |= VFP_CFG_MASK_WRITE;
			r->mask = v;
			if (k) {
				int kv = get_choice(c, k, "keep", keeps, 3);

				if (kv < 0)
					return -1;
				r->keep = kv == 0 ? VFP_KEEP_ZERO : kv == 1 ? VFP_KEEP_ONE :
					  VFP_KEEP_CURRENT;
			}
		}
	}
	if (get(c, n, "mask") && !(r->actions & VFP_CFG_MASK_WRITE))
		return fail(c, get(c, n, "mask"), "mask goes with write: mask");
	if (get(c, n, "keep") && !(r->actions & VFP_CFG_MASK_WRITE))
		return fail(c, get(c, n, "keep"), "keep goes with write: mask");
	if (!r->actions)
		return fail(c, n, "config rule does nothing: give read or write");
	return 0;
}

/* Capability names: docs/policy.md lists them. */
static const struct cap_name {
	const char *name;
	__u16 id;
	bool ext;
} cap_names[] = {
	{ "pm", 0x01, false }, { "agp", 0x02, false }, { "vpd", 0x03, false }, { "slotid", 0x04, false }, { "msi", 0x05, false },
	{ "chswp", 0x06, false }, { "pcix", 0x07, false }, { "ht", 0x08, false }, { "vndr", 0x09, false }, { "dbg", 0x0a, false },
	{ "ccrc", 0x0b, false }, { "shpc", 0x0c, false }, { "ssvid", 0x0d, false }, { "agp3", 0x0e, false },
	{ "secdev", 0x0f, false }, { "pcie", 0x10, false }, { "msix", 0x11, false }, { "sata", 0x12, false }, { "af", 0x13, false },
	{ "ea", 0x14, false },
	{ "aer", 0x01, true }, { "vc", 0x02, true }, { "dsn", 0x03, true }, { "pwr", 0x04, true },
	{ "mfvc", 0x08, true }, { "vc9", 0x09, true }, { "vsec", 0x0b, true },
	{ "acs", 0x0d, true }, { "ari", 0x0e, true }, { "ats", 0x0f, true },
	{ "sriov", 0x10, true }, { "mriov", 0x11, true }, { "mcast", 0x12, true },
	{ "pri", 0x13, true }, { "rebar", 0x15, true }, { "dpa", 0x16, true },
	{ "tph", 0x17, true }, { "ltr", 0x18, true }, { "pasid", 0x1b, true },
	{ "dpc", 0x1d, true }, { "l1ss", 0x1e, true }, { "ptm", 0x1f, true },
	{ "dvsec", 0x23, true },
};

const char *vfp_cap_name(__u16 id, bool ext)
{
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (cap_names[i].id == id && cap_names[i].ext == ext)
			return cap_names[i].name;
	return NULL;
}

/* { hide: NAME } or { hide: ID [, extended: true] } */
static int parse_hide(struct ctx *c, const yaml_node_t *n, struct vfp_entry *e)
{
	static const char *const keys[] = { "hide", "extended" };
	static const char *const bools[] = { "false", "true" };
	yaml_node_t *x = get(c, n, "hide"), *xe;
	const char *s = scalar(x);
	struct vfp_hide h;
	unsigned long long id;

	/* Padding too: entries are compared whole (tests/fuzz). */
	memset(&h, 0, sizeof(h));
	if (check_keys(c, n, "hide rule", keys, 2))
		return -1;
	if (!s || !*s)
		return fail(c, x, "hide needs a capability: a name (msix, aer, ...) or an id");
	xe = get(c, n, "extended");
	if (isdigit((unsigned char)*s)) {
		int ext = 0;

		if (xe && (ext = get_choice(c, xe, "extended", bools, 2)) < 0)
			return -1;
		if (get_uint(c, x, "hide", ext ? 0xffff : 0xff, &id))
			return -1;
		if (!id)
			return fail(c, x, "hide: 0 is no capability");
		h.id = id;
		h.ext = ext;
		snprintf(h.name, sizeof(h.name), "%s%#x", ext ? "ext " : "", (unsigned int)(id & 0xffff));
	} else {
		size_t i;

		if (xe)
			return fail(c, xe, "extended goes with a capability id; a name says which it is");
		for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
			if (!strcmp(s, cap_names[i].name))
				break;
		if (i == sizeof(cap_names) / sizeof(cap_names[0]))
			return fail(c, x, "unknown capability '%s' (docs/policy.md lists the names; an id works too)", s);
		h.id = cap_names[i].id;
		h.ext = cap_names[i].ext;
		snprintf(h.name, sizeof(h.name), "%s", s);
	}
	h.line = x->start_mark.line + 1;
	h.col = x->start_mark.column + 1;
	for (int i = 0; i < e->n_hide; i++)
		if (e->hide[i].id == h.id && e->hide[i].ext == h.ext)
			return fail(c, x, "hide: %s repeats hide: %s (line %d, column %d)", h.name,
				    e->hide[i].name, e->hide[i].line, e->hide[i].col);
	if (e->n_hide >= VFP_MAX_HIDE)
		return fail(c, x, "too many hidden capabilities (at most %d)", VFP_MAX_HIDE);
	memcpy(&e->hide[e->n_hide++], &h, sizeof(h));
	return 0;
}

static int parse_bar_rule(struct ctx *c, const yaml_node_t *n, struct vfp_policy *p)
{
	static const char *const keys[] = { "bar", "trap", "offset", "size", "deny" };
	static const char *const bools[] = { "false", "true" };
	static const char *const denies[] = { "read", "write", "all" };
	unsigned long long bar, off = 0, size = 0;
	yaml_node_t *x, *d;
	int v;

	if (check_keys(c, n, "bar rule", keys, 5))
		return -1;
	x = get(c, n, "bar");
	if (!x)
		return fail(c, n, "bar rule needs a bar (0-5)");
	if (get_uint(c, x, "bar", 5, &bar))
		return -1;
	if ((x = get(c, n, "trap"))) {
		v = get_choice(c, x, "trap", bools, 2);
		if (v < 0)
			return -1;
		if (v)
			p->trap_bars |= 1u << bar;
	}
	d = get(c, n, "deny");
	if (!d) {
		if (get(c, n, "offset") || get(c, n, "size"))
			return fail(c, n, "offset and size go with deny");
		if (!get(c, n, "trap"))
			return fail(c, n, "bar rule does nothing: give trap or deny");
		return 0;
	}
	if (p->n_bar >= VFP_MAX_BAR_RULES)
		return fail(c, n, "too many bar rules (at most %d)", VFP_MAX_BAR_RULES);
	if ((x = get(c, n, "offset")) && get_uint(c, x, "offset", ULLONG_MAX >> 1, &off))
		return -1;
	if ((x = get(c, n, "size")) && get_uint(c, x, "size", ULLONG_MAX >> 1, &size))
		return -1;
	if (!size)
		size = ULLONG_MAX >> 1;		/* to the end of the BAR */
	v = get_choice(c, d, "deny", denies, 3);
	if (v < 0)
		return -1;
	p->bar[p->n_bar] = (struct vfp_bar_rule) {
		.bar = bar,
		.offset = off,
		.size = size,
		.actions = v == 0 ? VFP_BAR_DENY_READ : v == 1 ? VFP_BAR_DENY_WRITE :
			   VFP_BAR_DENY_READ | VFP_BAR_DENY_WRITE,
	};
	p->n_bar++;
	return 0;
}

static int parse_allow_deny(struct ctx *c, const yaml_node_t *map, const char *key, __u8 *deny)
{
	static const char *const ad[] = { "allow", "deny" };
	yaml_node_t *x = get(c, map, key);
	int v;

	if (!x)
		return 0;
	v = get_choice(c, x, key, ad, 2);
	if (v < 0)
		return -1;
	*deny = v;
	return 0;
}

/*
 * Rules that contradict or shadow each other (docs/policy.md, "Rules that
 * cannot all mean what they say").  The compiled policy would do something
 * definite - deny wins, substitutes and masks combine - but not what the
 * operator wrote, so such a file is refused, naming both rules.  A rule is
 * named by the value of its read/write/deny key: where its action is.
 */
enum kind { K_NONE, K_ALLOW, K_DENY, K_REWRITE };

static bool overlaps(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* [a, a + alen) holds all of [b, b + blen). */
static bool covers(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a <= b && b + blen <= a + alen;
}

/* One direction (read or write) of one config rule. */
struct side {
	const yaml_node_t *at;		/* the value of read: or write: */
	enum kind kind;
	__u16 offset, size;
	const struct vfp_config_rule *rule;
	char what[48];			/* the action as written */
	char text[96];			/* "write: mask on 0x4-0x5" */
};

/* Byte @byte's bits of a rule's pattern @bits (relative to its offset). */
static __u8 pattern_byte(const struct vfp_config_rule *r, __u32 bits, __u32 byte)
{
	return bits >> (8 * ((byte - r->offset) & 3));
}

/* Two read values whose masks share no bit on any common byte combine. */
static bool masks_disjoint(const struct side *a, const struct side *b)
{
	__u32 lo = a->offset > b->offset ? a->offset : b->offset;
	__u32 hi = a->offset + a->size < b->offset + b->size ? a->offset + a->size :
		   b->offset + b->size;

	for (__u32 byte = lo; byte < hi; byte++)
		if (pattern_byte(a->rule, a->rule->read_mask, byte) &
		    pattern_byte(b->rule, b->rule->read_mask, byte))
			return false;
	return true;
}

static void config_side(struct ctx *c, const yaml_node_t *rule, const struct vfp_config_rule *r,
			bool write, struct side *sd)
{
	__u32 deny = write ? VFP_CFG_DENY_WRITE : VFP_CFG_DENY_READ;
	__u32 rewrite = write ? VFP_CFG_MASK_WRITE : VFP_CFG_SUBST_READ;

	sd->at = get(c, rule, write ? "write" : "read");
	sd->kind = !sd->at ? K_NONE : r->actions & deny ? K_DENY :
		   r->actions & rewrite ? K_REWRITE : K_ALLOW;
	sd->offset = r->offset;
	sd->size = r->size;
	sd->rule = r;
	if (sd->at && sd->at->type == YAML_MAPPING_NODE)
		snprintf(sd->what, sizeof(sd->what), "%s/%s",
			 scalar(get(c, sd->at, "value")) ?: "?",
			 scalar(get(c, sd->at, "mask")) ?: "all");
	else
		snprintf(sd->what, sizeof(sd->what), "%s", sd->at ? scalar(sd->at) : "");
	if (r->size == 1)
		snprintf(sd->text, sizeof(sd->text), "%s: %s on 0x%x", write ? "write" : "read",
			 sd->what, r->offset);
	else
		snprintf(sd->text, sizeof(sd->text), "%s: %s on 0x%x-0x%x", write ? "write" : "read",
			 sd->what, r->offset, r->offset + r->size - 1);
}

/* @b comes after @a in the file; the error is reported at @b. */
static int check_sides(struct ctx *c, const struct side *a, const struct side *b, bool write)
{
	size_t al, ac;
	const char *why;

	if (a->kind == K_NONE || b->kind == K_NONE ||
	    !overlaps(a->offset, a->size, b->offset, b->size))
		return 0;
	al = a->at->start_mark.line + 1;
	ac = a->at->start_mark.column + 1;
	if (a->kind == K_DENY && b->kind == K_DENY) {
		/* Denies add up; one inside another only repeats it. */
		if (covers(a->offset, a->size, b->offset, b->size))
			return fail(c, b->at, "%s is shadowed by %s (line %zu, column %zu): those bytes are denied already",
				    b->text, a->text, al, ac);
		if (covers(b->offset, b->size, a->offset, a->size))
			return fail(c, b->at, "%s shadows %s (line %zu, column %zu): that rule changes nothing",
				    b->text, a->text, al, ac);
		return 0;
	}
	if (a->kind == K_ALLOW && b->kind == K_ALLOW)
		return 0;
	/* read: { value, mask } rules on different bits of the same bytes. */
	if (!write && a->kind == K_REWRITE && b->kind == K_REWRITE && masks_disjoint(a, b))
		return 0;
	if (a->kind == K_DENY || b->kind == K_DENY)
		why = a->kind == K_ALLOW || b->kind == K_ALLOW ?
		      "deny wins: an allow makes no exception to it" :
		      write ? "deny wins: the mask never applies" : "deny wins: the value is never read";
	else if (a->kind == K_REWRITE && b->kind == K_REWRITE)
		why = write ? "two masks for the same bytes: give one" :
			      "two values for the same bytes: give one";
	else
		why = write ? "the mask applies: an allow makes no exception to it" :
			      "the value is read instead: an allow makes no exception to it";
	return fail(c, b->at, "%s contradicts %s (line %zu, column %zu): %s",
		    b->text, a->text, al, ac, why);
}

static int check_config(struct ctx *c, const yaml_node_t *seq, const struct vfp_policy *p)
{
	struct side sides[VFP_MAX_USER_CONFIG_RULES][2];
	yaml_node_item_t *it = seq->data.sequence.items.start;

	for (__u32 j = 0; j < p->n_config; j++, it++) {
		const yaml_node_t *rule;

		/* hide: items are no config rules (yet: vfp_resolve()). */
		while (get(c, node(c, *it), "hide"))
			it++;
		rule = node(c, *it);

		for (int w = 0; w < 2; w++) {
			config_side(c, rule, &p->config[j], w, &sides[j][w]);
			for (__u32 i = 0; i < j; i++)
				if (check_sides(c, &sides[i][w], &sides[j][w], w))
					return -1;
		}
	}
	return 0;
}

static void bar_text(const struct vfp_bar_rule *r, const char *deny, char *buf, size_t len)
{
	if (r->size == ULLONG_MAX >> 1)
		snprintf(buf, len, "deny: %s on BAR%u from 0x%llx", deny, r->bar,
			 (unsigned long long)r->offset);
	else
		snprintf(buf, len, "deny: %s on BAR%u 0x%llx-0x%llx", deny, r->bar,
			 (unsigned long long)r->offset,
			 (unsigned long long)(r->offset + r->size - 1));
}

/*
 * Each deny rule of p->bar[] is, in order, a bars item with a deny key.  A
 * deny traps its BAR, so trap: false on that BAR says the opposite; and
 * trap: true and trap: false on one BAR cannot both hold.
 */
static int check_bars(struct ctx *c, const yaml_node_t *seq, const struct vfp_policy *p)
{
	const yaml_node_t *deny[VFP_MAX_BAR_RULES], *trap[6][2] = { { NULL } };
	__u32 k = 0;

	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *rule = node(c, *it), *t = get(c, rule, "trap");
		unsigned long long bar;

		parse_number(scalar(get(c, rule, "bar")), &bar);	/* checked */
		if (t) {
			bool on = !strcmp(scalar(t), "true");

			if (trap[bar][!on])
				return fail(c, t, "trap: %s for BAR%llu contradicts trap: %s (line %zu, column %zu)",
					    on ? "true" : "false", bar, on ? "false" : "true",
					    trap[bar][!on]->start_mark.line + 1,
					    trap[bar][!on]->start_mark.column + 1);
			if (!trap[bar][on])
				trap[bar][on] = t;
		}
		if (get(c, rule, "deny"))
			deny[k++] = get(c, rule, "deny");
	}
	for (__u32 j = 0; j < p->n_bar; j++) {
		const struct vfp_bar_rule *b = &p->bar[j];
		const yaml_node_t *off = trap[b->bar][0];
		char bt[80], at[80];

		bar_text(b, scalar(deny[j]), bt, sizeof(bt));
		if (off)
			return fail(c, deny[j], "%s contradicts trap: false (line %zu, column %zu): a BAR with a deny rule is always trapped",
				    bt, off->start_mark.line + 1, off->start_mark.column + 1);
		for (__u32 i = 0; i < j; i++) {
			const struct vfp_bar_rule *a = &p->bar[i];
			size_t al = deny[i]->start_mark.line + 1, ac = deny[i]->start_mark.column + 1;

			if (a->bar != b->bar)
				continue;
			bar_text(a, scalar(deny[i]), at, sizeof(at));
			if ((a->actions & b->actions) == b->actions &&
			    covers(a->offset, a->size, b->offset, b->size))
				return fail(c, deny[j], "%s is shadowed by %s (line %zu, column %zu): that is denied already",
					    bt, at, al, ac);
			if ((a->actions & b->actions) == a->actions &&
			    covers(b->offset, b->size, a->offset, a->size))
				return fail(c, deny[j], "%s shadows %s (line %zu, column %zu): that rule changes nothing",
					    bt, at, al, ac);
		}
	}
	return 0;
}

static int parse_policy(struct ctx *c, const yaml_node_t *n, struct vfp_entry *e)
{
	static const char *const keys[] = {
		"name", "match", "config", "bars", "interrupts", "reset", "open", "migration",
		"mode",
	};
	static const char *const modes[] = { "enforce", "monitor" };
	static const char *const irq_keys[] = { "intx", "msi", "msix", "err", "req" };
	struct vfp_policy *p = &e->policy;
	const char *name;
	yaml_node_t *x;

	memset(e, 0, sizeof(*e));
	e->line = n->start_mark.line + 1;
	e->match.vendor = e->match.device = e->match.vf = -1;
	e->match.subsystem_vendor = e->match.subsystem_device = -1;
	for (int i = 0; i < 5; i++)
		p->max_vectors[i] = VFP_NO_LIMIT;
	if (check_keys(c, n, "policy", keys, 9))
		return -1;
	x = get(c, n, "name");
	name = scalar(x);
	if (!name || !*name)
		return fail(c, x ? x : n, "policy needs a name");
	if (strlen(name) >= VFP_NAME_LEN)
		return fail(c, x, "name '%s' is longer than %d characters", name, VFP_NAME_LEN - 1);
	strcpy(p->name, name);

	if ((x = get(c, n, "match")) && parse_match(c, x, &e->match))
		return -1;
	if ((x = get(c, n, "config"))) {
		if (x->type != YAML_SEQUENCE_NODE)
			return fail(c, x, "config must be a list of rules");
		for (yaml_node_item_t *it = x->data.sequence.items.start;
		     it < x->data.sequence.items.top; it++) {
			yaml_node_t *rn = node(c, *it);

			if (rn->type == YAML_MAPPING_NODE && get(c, rn, "hide")) {
				if (parse_hide(c, rn, e))
					return -1;
				continue;
			}
			if (p->n_config >= VFP_MAX_USER_CONFIG_RULES)
				return fail(c, rn, "too many config rules (at most %d)",
					    VFP_MAX_USER_CONFIG_RULES);
			if (parse_config_rule(c, rn, &p->config[p->n_config]))
				return -1;
			e->cfg_line[p->n_config] = rn->start_mark.line + 1;
			e->cfg_col[p->n_config] = rn->start_mark.column + 1;
			p->n_config++;
		}
		if (check_config(c, x, p))
			return -1;
	}
	if ((x = get(c, n, "bars"))) {
		if (x->type != YAML_SEQUENCE_NODE)
			return fail(c, x, "bars must be a list of rules");
		for (yaml_node_item_t *it = x->data.sequence.items.start;
		     it < x->data.sequence.items.top; it++)
			if (parse_bar_rule(c, node(c, *it), p))
				return -1;
		if (check_bars(c, x, p))
			return -1;
	}
	if ((x = get(c, n, "interrupts"))) {
		if (check_keys(c, x, "interrupts", irq_keys, 5))
			return -1;
		for (int i = 0; i < 5; i++) {
			yaml_node_t *v = get(c, x, irq_keys[i]);
			unsigned long long max;

			if (!v)
				continue;
			if (get_uint(c, v, "the vector limit", 2048, &max))
				return -1;
			p->max_vectors[i] = max;
			if (i == 2) {
				e->msix_line = v->start_mark.line + 1;
				e->msix_col = v->start_mark.column + 1;
			}
		}
	}
	if (parse_allow_deny(c, n, "reset", &p->deny_reset) ||
	    parse_allow_deny(c, n, "open", &p->deny_open))
		return -1;
	if ((x = get(c, n, "migration"))) {
		static const char *const migs[] = { "allow", "deny", "none" };
		int m = get_choice(c, x, "migration", migs, 3);

		if (m < 0)
			return -1;
		p->deny_migration = m == 1;
		p->no_migration = m == 2;
		/*
		 * QEMU moves a device RUNNING -> RUNNING_P2P -> STOP at every
		 * VM stop and back at start, migrating or not; a denied arc
		 * there makes it fail a reset and abort.
		 */
		if (m == 1)
			warn(c, x, "migration: deny also denies RUNNING <-> RUNNING_P2P, which QEMU takes at every VM stop and start (it aborts then); migration: none makes the device not migratable instead");
	}
	if ((x = get(c, n, "mode"))) {
		int m = get_choice(c, x, "mode", modes, 2);

		if (m < 0)
			return -1;
		p->monitor = m;
	}
	return 0;
}

/* Every device @b matches, @a matches too: each key @a gives, @b gives alike. */
static bool match_covers(const struct vfp_match *a, const struct vfp_match *b)
{
	return (!a->bdf[0] || !strcmp(a->bdf, b->bdf)) &&
	       (!a->pf[0] || !strcmp(a->pf, b->pf)) &&
	       (a->vendor < 0 || a->vendor == b->vendor) &&
	       (a->device < 0 || a->device == b->device) &&
	       (a->vf < 0 || a->vf == b->vf) &&
	       (a->subsystem_vendor < 0 || a->subsystem_vendor == b->subsystem_vendor) &&
	       (a->subsystem_device < 0 || a->subsystem_device == b->subsystem_device) &&
	       (a->class_mask & b->class_mask) == a->class_mask &&
	       (b->class_value & a->class_mask) == a->class_value;
}

/* The first policy that matches wins: one behind a broader one never applies. */
static int check_shadowed(struct ctx *c, const yaml_node_t *pn, const struct vfp_entry *e,
			  const struct vfp_entry *first, int n)
{
	const yaml_node_t *at = get(c, pn, "match");

	for (int i = 0; i < n; i++) {
		const struct vfp_entry *a = &first[i];

		if (!match_covers(&a->match, &e->match))
			continue;
		if (match_covers(&e->match, &a->match))
			return fail(c, at ? at : pn, "policy '%s' has the same match as policy '%s' (line %d), which comes first: '%s' never applies",
				    e->policy.name, a->policy.name, a->line, e->policy.name);
		return fail(c, at ? at : pn, "policy '%s' never applies: policy '%s' (line %d) comes first and matches every device it matches",
			    e->policy.name, a->policy.name, a->line);
	}
	return 0;
}

static int parse_root(struct ctx *c, struct vfp_file *out)
{
	static const char *const keys[] = { "version", "policies" };
	yaml_node_t *root = yaml_document_get_root_node(c->doc), *x;
	unsigned long long version;
	int n = 0;

	if (!root)
		return fail(c, NULL, "empty policy file (expected version: 1 and policies:)");
	if (check_keys(c, root, "the policy file", keys, 2))
		return -1;
	x = get(c, root, "version");
	if (!x)
		return fail(c, root, "missing version: 1");
	if (get_uint(c, x, "version", ULLONG_MAX, &version))
		return -1;
	if (version != 1)
		return fail(c, x, "version %llu is not supported (this vfio-bpf reads version 1)",
			    version);
	x = get(c, root, "policies");
	if (!x || x->type != YAML_SEQUENCE_NODE)
		return fail(c, x ? x : root, "policies must be a list");
	out->entries = calloc(x->data.sequence.items.top - x->data.sequence.items.start + 1,
			      sizeof(*out->entries));
	if (!out->entries)
		return fail(c, x, "out of memory");
	for (yaml_node_item_t *it = x->data.sequence.items.start;
	     it < x->data.sequence.items.top; it++) {
		yaml_node_t *pn = node(c, *it);

		if (parse_policy(c, pn, &out->entries[n]))
			return -1;
		for (int j = 0; j < n; j++)
			if (!strcmp(out->entries[j].policy.name, out->entries[n].policy.name))
				return fail(c, pn, "a second policy named '%s' (the first is at line %d)",
					    out->entries[n].policy.name, out->entries[j].line);
		if (check_shadowed(c, pn, &out->entries[n], out->entries, n))
			return -1;
		n++;
	}
	out->n = n;
	return 0;
}

int vfp_parse_string(const char *name, const char *text, size_t len,
		     struct vfp_file *out, char *err, size_t errlen)
{
	struct ctx c = { .name = name, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", name);
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", name,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "YAML error",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	c.doc = &doc;
	c.warn = out->warnings;
	c.warnlen = sizeof(out->warnings);
	ret = parse_root(&c, out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret)
		vfp_file_free(out);
	return ret;
}

int vfp_parse_file(const char *path, struct vfp_file *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int ret;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	/* A directory opens, then fails to read: not an empty file. */
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	ret = vfp_parse_string(path, buf ? buf : "", len, out, err, errlen);
	free(buf);
	return ret;
}

void vfp_file_free(struct vfp_file *f)
{
	free(f->entries);
	f->entries = NULL;
	f->n = 0;
}

bool vfp_matches(const struct vfp_match *m, const struct vfb_device *d)
{
	if (m->bdf[0] && strcasecmp(m->bdf, d->bdf))
		return false;
	if (m->vendor >= 0 && m->vendor != d->vendor)
		return false;
	if (m->device >= 0 && m->device != d->device)
		return false;
	if (m->pf[0] && strcasecmp(m->pf, d->pf))
		return false;
	if (m->vf >= 0 && m->vf != d->vf)
		return false;
	if (m->subsystem_vendor >= 0 && m->subsystem_vendor != d->subsystem_vendor)
		return false;
	if (m->subsystem_device >= 0 && m->subsystem_device != d->subsystem_device)
		return false;
	if ((d->class & m->class_mask) != m->class_value)
		return false;
	return true;
}

const struct vfp_entry *vfp_lookup(const struct vfp_file *f, const struct vfb_device *d)
{
	for (int i = 0; i < f->n; i++)
		if (vfp_matches(&f->entries[i].match, d))
			return &f->entries[i];
	return NULL;
}

/*
 * Per device: hide: and the MSI-X Table Size of interrupts.msix become
 * concrete config rules once the device's capability lists are known.
 * The lists are walked as the device has them (sysfs), and the result is
 * what the user walks through vfio-pci, which removes some capabilities
 * itself (its length tables say 0): a next pointer is rewritten where the
 * capability vfio-pci would show next is one this policy hides.
 */
#define MAX_CAPS	64

struct cap {
	__u16 pos, id, len;
	bool vfio_hides;		/* vfio-pci leaves it out of the user's list */
	int hide;			/* index in e->hide[], or -1 */
};

/* Where a derived rule comes from, for messages. */
struct origin {
	char what[64];
	int line, col;
};

struct resolve {
	const char *file, *bdf;
	const struct vfp_entry *e;
	const __u8 *cfg;
	size_t len;
	struct vfp_policy *out;
	struct origin origin[VFP_MAX_CONFIG_RULES];
	char *err;
	size_t errlen;
};

static __u32 cfg_get(const struct resolve *r, __u32 pos, int n)
{
	__u32 v = 0;

	for (int i = 0; i < n && pos + i < r->len; i++)
		v |= (__u32)r->cfg[pos + i] << (8 * i);
	return v;
}

/* The capabilities vfio-pci passes to the user (vfio_pci_config.c). */
static bool vfio_shows(__u16 id, bool ext)
{
	static const __u8 std[] = { 0x01, 0x02, 0x03, 0x05, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12,
				    0x13 };
	static const __u8 xt[] = { 0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x0b, 0x0d, 0x0e, 0x0f,
				   0x10, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x23 };

	for (size_t i = 0; i < (ext ? sizeof(xt) : sizeof(std)); i++)
		if ((ext ? xt[i] : std[i]) == id)
			return true;
	return false;
}

/* A capability's length by the spec (0: not known here). */
static __u32 cap_spec_len(const struct resolve *r, __u16 pos, __u16 id, bool ext)
{
	__u32 ctl;

	if (ext) {
		switch (id) {
		case 0x01: return 0x48;		/* AER, root port registers included */
		case 0x03: return 0x0c;		/* DSN */
		case 0x04: return 0x10;		/* power budgeting */
		case 0x0b: case 0x23:		/* vendor-specific, DVSEC: length in header 2 */
			return cfg_get(r, pos + 4, 4) >> 20;
		case 0x0d: case 0x0e: case 0x0f: case 0x18: case 0x1b:
			return 0x08;		/* ACS, ARI, ATS, LTR, PASID */
		case 0x10: return 0x40;		/* SR-IOV */
		case 0x12: return 0x30;		/* multicast */
		case 0x13: case 0x1e: return 0x10;	/* PRI, L1 PM substates */
		case 0x1f: return 0x0c;		/* PTM */
		}
		return 0;
	}
	switch (id) {
	case 0x01: case 0x03: case 0x12: return 8;	/* PM, VPD, SATA */
	case 0x02: return 12;				/* AGP */
	case 0x05:					/* MSI */
		ctl = cfg_get(r, pos + 2, 2);
		return 10 + (ctl & 0x80 ? 4 : 0) + (ctl & 0x100 ? 10 : 0);
	case 0x07: return (cfg_get(r, pos + 2, 2) >> 12) & 3 ? 24 : 8;	/* PCI-X */
	case 0x09: return cfg_get(r, pos + 2, 1);	/* vendor-specific */
	case 0x10: return (cfg_get(r, pos + 2, 2) & 0xf) == 1 ? 0x14 : 0x3c;	/* PCIe v1, v2 */
	case 0x11: return 12;				/* MSI-X */
	case 0x13: return 6;				/* Advanced Features */
	}
	return 0;
}

/*
 * Each capability covers whole dwords (capabilities start dword-aligned)
 * up to its length and never into the next capability; one whose length
 * is not known here runs up to the next (the end of its space if last: at
 * least its header).
 */
static void cap_lengths(const struct resolve *r, struct cap *caps, int n, bool ext)
{
	__u32 end = ext ? r->len : 0x100;

	for (int i = 0; i < n; i++) {
		__u32 len = (cap_spec_len(r, caps[i].pos, caps[i].id, ext) + 3) & ~3u;
		__u32 limit = end;

		for (int j = 0; j < n; j++)
			if (caps[j].pos > caps[i].pos && caps[j].pos < limit)
				limit = caps[j].pos;
		if (!len || caps[i].pos + len > limit)
			len = limit - caps[i].pos;
		if (len < 4)
			len = 4;
		caps[i].len = len;
	}
}

static int walk_std(const struct resolve *r, struct cap *caps)
{
	__u32 pos;
	int n = 0;

	if (r->len < 0x40 || !(cfg_get(r, 0x06, 2) & 0x10))
		return 0;
	pos = r->cfg[0x34] & 0xfc;
	while (pos >= 0x40 && pos < 0x100 && n < 48) {
		caps[n] = (struct cap) { .pos = pos, .id = r->cfg[pos], .hide = -1 };
		caps[n].vfio_hides = !vfio_shows(caps[n].id, false);
		n++;
		pos = r->cfg[pos + 1] & 0xfc;
	}
	return n;
}

static int walk_ext(const struct resolve *r, struct cap *caps)
{
	__u32 pos = 0x100, h;
	int n = 0;

	while (pos >= 0x100 && pos + 4 <= r->len && n < MAX_CAPS) {
		h = cfg_get(r, pos, 4);
		if (!h || h == 0xffffffff)
			break;
		caps[n] = (struct cap) { .pos = pos, .id = h & 0xffff, .hide = -1 };
		caps[n].vfio_hides = !vfio_shows(caps[n].id, true);
		n++;
		pos = (h >> 20) & 0xffc;
	}
	return n;
}

__attribute__((format(printf, 6, 7)))
static int add_rule(struct resolve *r, struct vfp_config_rule rule, const char *what, int line,
		    int col, const char *fmt, ...)
{
	struct vfp_policy *p = r->out;
	struct origin *o;
	va_list ap;

	if (p->n_config >= VFP_MAX_CONFIG_RULES) {
		snprintf(r->err, r->errlen, "%s:%d:%d: %s: %s needs more than %d config rules in all",
			 r->file, line, col, what, r->bdf, VFP_MAX_CONFIG_RULES);
		return -1;
	}
	o = &r->origin[p->n_config];
	va_start(ap, fmt);
	vsnprintf(o->what, sizeof(o->what), fmt, ap);
	va_end(ap);
	o->line = line;
	o->col = col;
	p->config[p->n_config++] = rule;
	return 0;
}

/* The first capability after @i that the user will see (0: none). */
static __u16 next_shown(const struct cap *caps, int n, int i, bool ours_too)
{
	for (int j = i + 1; j < n; j++)
		if (!caps[j].vfio_hides && (!ours_too || caps[j].hide < 0))
			return caps[j].pos;
	return 0;
}

/* The hide that makes @i's next pointer change: the first one after it. */
static int hide_after(const struct cap *caps, int n, int i)
{
	for (int j = i + 1; j < n; j++)
		if (caps[j].hide >= 0)
			return caps[j].hide;
	return 0;
}

static int rules_std(struct resolve *r, struct cap *caps, int n)
{
	const struct vfp_hide *h;
	int hi;

	/* The list's head (0x34), then each capability the user still sees. */
	for (int i = -1; i < n; i++) {
		__u16 want, was;

		if (i >= 0 && (caps[i].vfio_hides || caps[i].hide >= 0))
			continue;
		want = next_shown(caps, n, i, true);
		was = next_shown(caps, n, i, false);
		if (want == was)
			continue;
		h = &r->e->hide[hi = hide_after(caps, n, i)];
		if (add_rule(r, (struct vfp_config_rule) {
				.offset = i < 0 ? 0x34 : caps[i].pos + 1, .size = 1,
				.actions = VFP_CFG_SUBST_READ, .value = want, .read_mask = 0xff,
			     }, h->name, h->line, h->col, "hide: %s (the next pointer before it)",
			     h->name))
			return -1;
		/* No capability left: the status register says there is no list. */
		if (i < 0 && !want) {
			if (add_rule(r, (struct vfp_config_rule) {
					.offset = 0x06, .size = 1, .actions = VFP_CFG_SUBST_READ,
					.value = 0, .read_mask = 0x10,
				     }, h->name, h->line, h->col,
				     "hide: %s (the capability list bit of the status register)",
				     h->name))
				return -1;
		}
	}
	return 0;
}

static int rules_ext(struct resolve *r, struct cap *caps, int n)
{
	const struct vfp_hide *h;

	for (int i = 0; i < n; i++) {
		__u16 want, was;
		bool head_hidden = i == 0 && caps[0].hide >= 0 && !caps[0].vfio_hides;

		/* The first one anchors the list: vfio-pci shows its header always. */
		if (i > 0 && (caps[i].vfio_hides || caps[i].hide >= 0))
			continue;
		want = next_shown(caps, n, i, true);
		was = next_shown(caps, n, i, false);
		if (want == was && !head_hidden)
			continue;
		h = &r->e->hide[head_hidden ? caps[0].hide : hide_after(caps, n, i)];
		/*
		 * A hidden first capability reads as id 0, version 0 and the
		 * next one's offset, as vfio-pci shows one it hides there.
		 */
		if (add_rule(r, (struct vfp_config_rule) {
				.offset = caps[i].pos, .size = 4,
				.actions = VFP_CFG_SUBST_READ | (head_hidden ? VFP_CFG_DROP_WRITE : 0),
				.value = (__u32)want << 20,
				.read_mask = head_hidden ? 0xffffffff : 0xfff00000,
			     }, h->name, h->line, h->col, head_hidden ?
			     "hide: %s (its header, at the head of the list)" :
			     "hide: %s (the next pointer before it)", h->name))
			return -1;
	}
	return 0;
}

/* A derived rule on bytes a rule of the file governs in the same direction. */
static int check_derived(struct resolve *r, __u32 first)
{
	const struct vfp_policy *p = r->out;

	for (__u32 j = first; j < p->n_config; j++) {
		const struct vfp_config_rule *g = &p->config[j];

		for (__u32 i = 0; i < first; i++) {
			const struct vfp_config_rule *u = &p->config[i];
			bool reads = (g->actions & VFP_CFG_SUBST_READ) &&
				     (u->actions & (VFP_CFG_SUBST_READ | VFP_CFG_DENY_READ));
			bool writes = (g->actions & VFP_CFG_DROP_WRITE) &&
				      (u->actions & (VFP_CFG_MASK_WRITE | VFP_CFG_DENY_WRITE));

			if (!overlaps(g->offset, g->size, u->offset, u->size) || (!reads && !writes))
				continue;
			snprintf(r->err, r->errlen,
				 "%s:%d:%d: %s on %s covers 0x%x-0x%x, where the config rule at line %d, column %d %s too: one of them never means what it says",
				 r->file, r->origin[j].line, r->origin[j].col, r->origin[j].what,
				 r->bdf, g->offset, g->offset + g->size - 1,
				 r->e->cfg_line[i], r->e->cfg_col[i], reads ? "decides reads" : "decides writes");
			return -1;
		}
	}
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	if (o + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + o, len - o, fmt, ap);
	va_end(ap);
}

int vfp_resolve(const char *file, const char *bdf, const struct vfp_entry *e,
		const __u8 *cfg, size_t len, struct vfp_policy *out, char *notes, size_t notes_len,
		char *warn, size_t warn_len, char *err, size_t errlen)
{
	struct resolve r = {
		.file = file, .bdf = bdf, .e = e, .cfg = cfg, .len = len, .out = out,
		.err = err, .errlen = errlen,
	};
	struct cap std[48], ext[MAX_CAPS];
	int nstd, next;
	__u32 first = e->policy.n_config, msix = e->policy.max_vectors[2];

	*out = e->policy;
	notes[0] = warn[0] = '\0';
	nstd = walk_std(&r, std);
	next = walk_ext(&r, ext);
	cap_lengths(&r, std, nstd, false);
	cap_lengths(&r, ext, next, true);

	for (int i = 0; i < e->n_hide; i++) {
		const struct vfp_hide *h = &e->hide[i];
		struct cap *caps = h->ext ? ext : std;
		int n = h->ext ? next : nstd, k;

		for (k = 0; k < n && caps[k].id != h->id; k++)
			;
		if (k == n) {
			append(warn, warn_len, "%s:%d:%d: warning: hide: %s: %s has no such capability\n",
			       file, h->line, h->col, h->name, bdf);
			continue;
		}
		caps[k].hide = i;
	}
	if (rules_std(&r, std, nstd) || rules_ext(&r, ext, next))
		return -1;
	/* Each hidden capability's bytes read as zero; writes to them vanish. */
	for (int x = 0; x < 2; x++) {
		struct cap *caps = x ? ext : std;

		for (int k = 0; k < (x ? next : nstd); k++) {
			const struct cap *c = &caps[k];
			const struct vfp_hide *h;
			__u32 start;

			if (c->hide < 0)
				continue;
			h = &e->hide[c->hide];
			/* The head of the extended list has its header rule. */
			start = x && k == 0 ? c->pos + 4 : c->pos;
			if (start < (__u32)c->pos + c->len &&
			    add_rule(&r, (struct vfp_config_rule) {
					.offset = start, .size = c->pos + c->len - start,
					.actions = VFP_CFG_SUBST_READ | VFP_CFG_DROP_WRITE,
					.value = 0, .read_mask = 0xffffffff,
				     }, h->name, h->line, h->col, "hide: %s", h->name))
				return -1;
			append(notes, notes_len, "hide: %s: %s capability %#x at 0x%x-0x%x: %s, reads as zero, writes dropped\n",
			       h->name, x ? "extended" : "standard", c->id, c->pos,
			       c->pos + c->len - 1,
			       c->vfio_hides ? "vfio-pci leaves it out of the list already" :
			       "taken out of the list");
		}
	}
	/* The vectors an MSI-X user may arm, as the Table Size it reads. */
	if (msix != VFP_NO_LIMIT && msix > 0) {
		int k;

		for (k = 0; k < nstd && std[k].id != 0x11; k++)
			;
		if (k < nstd && std[k].hide < 0) {
			__u32 size = (cfg_get(&r, std[k].pos + 2, 2) & 0x7ff) + 1;

			if (size > msix) {
				if (add_rule(&r, (struct vfp_config_rule) {
						.offset = std[k].pos + 2, .size = 2,
						.actions = VFP_CFG_SUBST_READ, .value = msix - 1,
						.read_mask = 0x07ff,
					     }, "interrupts.msix", e->msix_line, e->msix_col,
					     "interrupts.msix %u (the MSI-X Table Size)", msix))
					return -1;
				append(notes, notes_len, "interrupts.msix %u: MSI-X Table Size at 0x%x reads as %u (%u vector%s; the device has %u)\n",
				       msix, std[k].pos + 2, msix - 1, msix, msix == 1 ? "" : "s", size);
			}
		}
	}
	return check_derived(&r, first);
}

int vfp_read_config(const char *bdf, __u8 *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", vfb_sysfs_root, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}
