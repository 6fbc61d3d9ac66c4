// SPDX-License-Identifier: GPL-2.0
/*
 * Policy files.  libyaml loads the document as a node tree whose nodes keep
 * their positions, so every complaint names file:line:column.  The tree is
 * compiled into one struct vfp_policy per policy, plus its match.
 */
#include <ctype.h>
#include <errno.h>
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
};

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

static int parse_match(struct ctx *c, const yaml_node_t *n, struct vfp_match *m)
{
	static const char *const keys[] = { "bdf", "vendor", "device", "pf", "vf" };
	unsigned long long v;
	yaml_node_t *x;

	memset(m, 0, sizeof(*m));
	m->vendor = m->device = m->vf = -1;
	if (check_keys(c, n, "match", keys, 5))
		return -1;
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

static int parse_config_rule(struct ctx *c, const yaml_node_t *n, struct vfp_config_rule *r)
{
	static const char *const keys[] = { "offset", "size", "read", "write", "mask" };
	static const char *const reads[] = { "allow", "deny" };
	static const char *const writes[] = { "allow", "deny", "mask" };
	unsigned long long off, size = 4, v;
	yaml_node_t *x;
	int w;

	memset(r, 0, sizeof(*r));
	if (check_keys(c, n, "config rule", keys, 5))
		return -1;
	x = get(c, n, "offset");
	if (!x)
		return fail(c, n, "config rule needs an offset");
	if (get_uint(c, x, "offset", 4095, &off))
		return -1;
	if ((x = get(c, n, "size")) && get_uint(c, x, "size", 4096, &size))
		return -1;
	if (!size || off + size > 4096)
		return fail(c, x ? x : n, "size %llu at offset %#llx leaves config space (4096 bytes)",
			    size, off);
	r->offset = off;
	r->size = size;

	if ((x = get(c, n, "read"))) {
		const char *s = scalar(x);

		if (s && (!strcmp(s, "allow") || !strcmp(s, "deny"))) {
			if (get_choice(c, x, "read", reads, 2) == 1)
				r->actions |= VFP_CFG_DENY_READ;
		} else {
			/* A number: the value reads return. */
			if (size > 4)
				return fail(c, x, "a substituted read covers at most 4 bytes");
			if (get_uint(c, x, "read (allow, deny or a value)",
				     size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1, &v))
				return -1;
			r->actions |= VFP_CFG_SUBST_READ;
			r->value = v;
		}
	}
	if ((x = get(c, n, "write"))) {
		w = get_choice(c, x, "write", writes, 3);
		if (w < 0)
			return -1;
		if (w == 1)
			r->actions |= VFP_CFG_DENY_WRITE;
		if (w == 2) {
			yaml_node_t *m = get(c, n, "mask");

			if (!m)
				return fail(c, x, "write: mask needs a mask (the bits users may not set)");
			if (size > 4)
				return fail(c, x, "a masked write covers at most 4 bytes");
			if (get_uint(c, m, "mask", size == 4 ? 0xffffffffULL :
				     (1ULL << (8 * size)) - 1, &v))
				return -1;
			r->actions |= VFP_CFG_MASK_WRITE;
			r->mask = v;
		}
	}
	if (get(c, n, "mask") && !(r->actions & VFP_CFG_MASK_WRITE))
		return fail(c, get(c, n, "mask"), "mask goes with write: mask");
	if (!r->actions)
		return fail(c, n, "config rule does nothing: give read or write");
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
	char text[64];			/* "write: mask on 0x4-0x5" */
};

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
	if (r->size == 1)
		snprintf(sd->text, sizeof(sd->text), "%s: %s on 0x%x", write ? "write" : "read",
			 sd->at ? scalar(sd->at) : "", r->offset);
	else
		snprintf(sd->text, sizeof(sd->text), "%s: %s on 0x%x-0x%x", write ? "write" : "read",
			 sd->at ? scalar(sd->at) : "", r->offset, r->offset + r->size - 1);
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
	struct side sides[VFP_MAX_CONFIG_RULES][2];

	for (__u32 j = 0; j < p->n_config; j++) {
		const yaml_node_t *rule = node(c, seq->data.sequence.items.start[j]);

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
			if (p->n_config >= VFP_MAX_CONFIG_RULES)
				return fail(c, node(c, *it), "too many config rules (at most %d)",
					    VFP_MAX_CONFIG_RULES);
			if (parse_config_rule(c, node(c, *it), &p->config[p->n_config]))
				return -1;
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
		}
	}
	if (parse_allow_deny(c, n, "reset", &p->deny_reset) ||
	    parse_allow_deny(c, n, "open", &p->deny_open) ||
	    parse_allow_deny(c, n, "migration", &p->deny_migration))
		return -1;
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
	       (a->vf < 0 || a->vf == b->vf);
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
	return true;
}

const struct vfp_entry *vfp_lookup(const struct vfp_file *f, const struct vfb_device *d)
{
	for (int i = 0; i < f->n; i++)
		if (vfp_matches(&f->entries[i].match, d))
			return &f->entries[i];
	return NULL;
}
