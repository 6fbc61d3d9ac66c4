// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind's formatters, side by side, so that a field is named once per
 * view.  The text view keeps a line within 80 columns for values of up to
 * 4 bytes, but for a config write the device did not take as written
 * (docs/vfio-trace.md); JSON has every field, full width.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "kinds.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_OF(x) #x,

static const char *const irq_index_names[] = { VFT_IRQ_INDEXES(NAME_OF) };
static const char *const region_names[] = { VFT_REGIONS(NAME_OF) };
static const char *const reset_names[] = { VFT_RESETS(NAME_OF) };
static const char *const mig_state_names[] = { VFT_MIG_STATES(NAME_OF) };
static const char *const hook_names[] = { VFT_HOOKS(NAME_OF) };
static const char *const verdict_names[] = { "allow", VFT_VERDICTS(NAME_OF) };

#define NAMED(table, i) ((i) < ARRAY_SIZE(table) ? table[i] : "?")

const char *vfb_irq_index_name(__u32 index) { return NAMED(irq_index_names, index); }
const char *vfb_region_name(__u32 index) { return NAMED(region_names, index); }
const char *vfb_reset_name(__u32 kind) { return NAMED(reset_names, kind); }
const char *vfb_mig_state_name(__u32 state) { return NAMED(mig_state_names, state); }
const char *vfb_hook_name(__u32 hook) { return NAMED(hook_names, hook); }
const char *vfb_verdict_name(__u32 verdict) { return NAMED(verdict_names, verdict); }

/*
 * A fixed-size string of a record (comm, a policy's name: at most @max
 * bytes) as a JSON string body: printable ASCII only, quotes escaped.
 */
static void json_str(const char *str, size_t max, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < max && str[i] && o + 7 < len; i++) {
		unsigned char ch = str[i];

		if (ch == '"' || ch == '\\')
			o += snprintf(out + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			o += snprintf(out + o, len - o, "\\u%04x", ch);
		else
			out[o++] = ch;
	}
	out[o] = '\0';
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u64(char *p, unsigned long long v)
{
	char t[24];
	int i = 0;

	do {
		t[i++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (i)
		*p++ = t[--i];
	return p;
}

/* "NAME":N for the JSON members of the kinds that come fastest. */
static char *put_member(char *p, const char *name, unsigned long long v)
{
	*p++ = '"';
	p = put_str(p, name);
	*p++ = '"';
	*p++ = ':';
	return put_u64(p, v);
}

static const char *yes(__u32 v)
{
	return v ? "true" : "false";
}

/*
 * One pair per kind.  Text: OFF/SIZE=VALUE for accesses, INDEX VECTOR for
 * interrupts.
 */
static void text_none(const union vft_data *d, char *b, size_t n) { b[0] = '\0'; }
static void json_none(const union vft_data *d, char *b, size_t n) { b[0] = '\0'; }
#define text_open text_none
#define json_open json_none
#define text_close text_none
#define json_close json_none

static void text_reset(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s", vfb_reset_name(d->reset.kind));
}

static void json_reset(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"kind\":\"%s\"", vfb_reset_name(d->reset.kind));
}

static void text_config_read(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%#x/%u=%#llx", d->config_read.offset, d->config_read.size,
		 (unsigned long long)d->config_read.value);
}

/* The fast kinds put their members by hand: @n is 256, ample for them. */
static void json_config_read(const union vft_data *d, char *b, size_t n)
{
	b = put_member(b, "offset", d->config_read.offset);
	*b++ = ',';
	b = put_member(b, "size", d->config_read.size);
	*b++ = ',';
	b = put_member(b, "value", d->config_read.value);
	*b = '\0';
}

/*
 * OFF/SIZE OLD>NEW: the device's bytes before and after; the value written
 * only when the device did not take it as written (w=, masked or sizing).
 */
static void text_config_write(const union vft_data *d, char *b, size_t n)
{
	int k = snprintf(b, n, "%#x/%u %#llx>%#llx", d->config_write.offset,
			 d->config_write.size, (unsigned long long)d->config_write.old,
			 (unsigned long long)d->config_write.new);

	if (d->config_write.value != d->config_write.new && k > 0 && (size_t)k < n)
		snprintf(b + k, n - k, " w=%#llx", (unsigned long long)d->config_write.value);
}

static void json_config_write(const union vft_data *d, char *b, size_t n)
{
	b = put_member(b, "offset", d->config_write.offset);
	*b++ = ',';
	b = put_member(b, "size", d->config_write.size);
	*b++ = ',';
	b = put_member(b, "value", d->config_write.value);
	*b++ = ',';
	b = put_member(b, "old", d->config_write.old);
	*b++ = ',';
	b = put_member(b, "new", d->config_write.new);
	*b = '\0';
}

static void text_bar_read(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "b%u %#llx/%u=%#llx", d->bar.bar, (unsigned long long)d->bar.offset,
		 d->bar.size, (unsigned long long)d->bar.value);
}

static void json_bar_read(const union vft_data *d, char *b, size_t n)
{
	b = put_member(b, "bar", d->bar.bar);
	*b++ = ',';
	b = put_member(b, "offset", d->bar.offset);
	*b++ = ',';
	b = put_member(b, "size", d->bar.size);
	*b++ = ',';
	b = put_member(b, "value", d->bar.value);
	*b = '\0';
}

#define text_bar_write text_bar_read
#define json_bar_write json_bar_read

static void text_mmap(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s %#llx+%#llx", vfb_region_name(d->mmap.index),
		 (unsigned long long)d->mmap.offset, (unsigned long long)d->mmap.length);
}

static void json_mmap(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"index\":%u,\"region\":\"%s\",\"offset\":%llu,\"length\":%llu",
		 d->mmap.index, vfb_region_name(d->mmap.index),
		 (unsigned long long)d->mmap.offset, (unsigned long long)d->mmap.length);
}

static void text_ioctl(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "nr %u", d->ioctl.cmd & 0xff);
}

static void json_ioctl(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"cmd\":%u,\"nr\":%u", d->ioctl.cmd, d->ioctl.cmd & 0xff);
}

static void text_set_irqs(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s %u+%u f=%#x", vfb_irq_index_name(d->set_irqs.index),
		 d->set_irqs.start, d->set_irqs.count, d->set_irqs.flags);
}

static void json_set_irqs(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"index\":\"%s\",\"start\":%u,\"count\":%u,\"flags\":%u",
		 vfb_irq_index_name(d->set_irqs.index), d->set_irqs.start,
		 d->set_irqs.count, d->set_irqs.flags);
}

static void text_irq_vector(const union vft_data *d, char *b, size_t n)
{
	if (d->irq_vector.vector == ~0u)
		snprintf(b, n, "%s all off", vfb_irq_index_name(d->irq_vector.index));
	else
		snprintf(b, n, "%s %u irq %d %s", vfb_irq_index_name(d->irq_vector.index),
			 d->irq_vector.vector, d->irq_vector.host_irq,
			 d->irq_vector.armed ? "on" : "off");
}

static void json_irq_vector(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"index\":\"%s\",\"vector\":%d,\"host_irq\":%d,\"armed\":%s",
		 vfb_irq_index_name(d->irq_vector.index), (int)d->irq_vector.vector,
		 d->irq_vector.host_irq, yes(d->irq_vector.armed));
}

static void text_irq(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s %u irq %d", vfb_irq_index_name(d->irq.index), d->irq.vector,
		 d->irq.host_irq);
}

static void json_irq(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"index\":\"%s\",\"vector\":%u,\"host_irq\":%d",
		 vfb_irq_index_name(d->irq.index), d->irq.vector, d->irq.host_irq);
}

static void text_mig_transition(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s>%s %lluus", vfb_mig_state_name(d->mig_transition.from),
		 vfb_mig_state_name(d->mig_transition.to),
		 (unsigned long long)d->mig_transition.duration_ns / 1000);
}

static void json_mig_transition(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"from\":\"%s\",\"to\":\"%s\",\"duration_ns\":%llu",
		 vfb_mig_state_name(d->mig_transition.from),
		 vfb_mig_state_name(d->mig_transition.to),
		 (unsigned long long)d->mig_transition.duration_ns);
}

static void text_mig_data(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "%s %llu+%llu", d->mig_data.write ? "in" : "out",
		 (unsigned long long)d->mig_data.offset, (unsigned long long)d->mig_data.bytes);
}

static void json_mig_data(const union vft_data *d, char *b, size_t n)
{
	snprintf(b, n, "\"write\":%s,\"offset\":%llu,\"bytes\":%llu", yes(d->mig_data.write),
		 (unsigned long long)d->mig_data.offset, (unsigned long long)d->mig_data.bytes);
}

/*
 * Text: VERDICT HOOK [monitor] rule N POLICY, then where (OFF/SIZE of a
 * config or BAR access).  JSON: every field.
 */
static void text_policy(const union vft_data *d, char *b, size_t n)
{
	char rule[16] = "-";

	if (d->policy.rule != ~0u)
		snprintf(rule, sizeof(rule), "%u", d->policy.rule);
	snprintf(b, n, "%s %s%s r%s %.12s %#llx/%llu", vfb_verdict_name(d->policy.verdict),
		 vfb_hook_name(d->policy.hook), d->policy.monitor ? " mon" : "", rule,
		 d->policy.name[0] ? d->policy.name : "(none)",
		 (unsigned long long)d->policy.offset, (unsigned long long)d->policy.size);
}

static void json_policy(const union vft_data *d, char *b, size_t n)
{
	char name[VFT_POLICY_NAME_LEN * 6 + 1];

	json_str(d->policy.name, VFT_POLICY_NAME_LEN, name, sizeof(name));
	snprintf(b, n, "\"hook\":\"%s\",\"verdict\":\"%s\",\"mode\":\"%s\",\"rule\":%d,"
		 "\"policy\":\"%s\",\"region\":%u,\"offset\":%llu,\"size\":%llu,\"value\":%llu",
		 vfb_hook_name(d->policy.hook), vfb_verdict_name(d->policy.verdict),
		 d->policy.monitor ? "monitor" : "enforce", (int)d->policy.rule, name,
		 d->policy.region, (unsigned long long)d->policy.offset,
		 (unsigned long long)d->policy.size, (unsigned long long)d->policy.value);
}

#define KIND_ENTRY(NAME, name, fl) \
	[VFT_##NAME] = { VFT_##NAME, #name, fl, text_##name, json_##name },
const struct vfb_kind vfb_kinds[VFT_NR_KINDS] = { VFT_KINDS(KIND_ENTRY) };

const char *vfb_kind_name(__u32 kind)
{
	return kind < VFT_NR_KINDS ? vfb_kinds[kind].name : "?";
}

int vfb_kind_by_name(const char *name)
{
	for (int i = 0; i < VFT_NR_KINDS; i++)
		if (!strcmp(name, vfb_kinds[i].name))
			return i;
	return -1;
}

#define TEXT_COLUMNS "%-8s %-7s %-11.11s %6s %-14s %4s %s"

void vfb_event_header(char *buf, size_t len)
{
	snprintf(buf, len, TEXT_COLUMNS, "TIME(s)", "BDF", "COMM", "PID", "EVENT", "RET",
		 "DETAIL");
}

void vfb_event_text(const struct vft_event *e, double t, char *buf, size_t len)
{
	char bdf[VFB_BDF_LEN], det[128], time[24], pid[16], ret[16];

	vfb_bdf_short(e->sbdf, bdf, sizeof(bdf));
	det[0] = '\0';
	if (e->kind < VFT_NR_KINDS)
		vfb_kinds[e->kind].text(&e->d, det, sizeof(det));
	snprintf(time, sizeof(time), "%.3f", t);
	snprintf(pid, sizeof(pid), "%u", e->pid);
	snprintf(ret, sizeof(ret), "%d", e->ret);
	snprintf(buf, len, TEXT_COLUMNS, time, bdf, e->comm[0] ? e->comm : "[irq]", pid,
		 vfb_kind_name(e->kind), ret, det);
}

/*
 * vfio-trace -j prints every event this way, tens of thousands a second:
 * the common members are put by hand (snprintf was half of the consumer's
 * time), and the device's name is kept from the event before.
 */
void vfb_event_json(const struct vft_event *e, char *buf, size_t len)
{
	static __thread char bdf[VFB_BDF_LEN];
	static __thread __u32 bdf_of = VFT_ALL_DEVICES;
	char det[256], comm[VFT_COMM_LEN * 6 + 1];
	char *p = buf;

	if (e->sbdf != bdf_of || !bdf[0]) {
		vfb_bdf_str(e->sbdf, bdf, sizeof(bdf));
		bdf_of = e->sbdf;
	}
	det[0] = '\0';
	if (e->kind < VFT_NR_KINDS)
		vfb_kinds[e->kind].json(&e->d, det, sizeof(det));
	json_str(e->comm, VFT_COMM_LEN, comm, sizeof(comm));
	/* Bounded: the parts are at most 13 + 16 + 97 + 255 bytes, and 80 more. */
	if (len < 512) {
		snprintf(buf, len, "{\"ts_ns\":%llu,\"bdf\":\"%s\",\"event\":\"%s\",\"pid\":%u,"
			 "\"comm\":\"%s\",\"ret\":%d%s%s}", (unsigned long long)e->ts_ns, bdf,
			 vfb_kind_name(e->kind), e->pid, comm, e->ret, det[0] ? "," : "", det);
		return;
	}
	p = put_str(p, "{\"ts_ns\":");
	p = put_u64(p, e->ts_ns);
	p = put_str(p, ",\"bdf\":\"");
	p = put_str(p, bdf);
	p = put_str(p, "\",\"event\":\"");
	p = put_str(p, vfb_kind_name(e->kind));
	p = put_str(p, "\",\"pid\":");
	p = put_u64(p, e->pid);
	p = put_str(p, ",\"comm\":\"");
	p = put_str(p, comm);
	p = put_str(p, "\",\"ret\":");
	if (e->ret < 0) {
		*p++ = '-';
		p = put_u64(p, -(long long)e->ret);
	} else {
		p = put_u64(p, e->ret);
	}
	if (det[0]) {
		*p++ = ',';
		p = put_str(p, det);
	}
	*p++ = '}';
	*p = '\0';
}
