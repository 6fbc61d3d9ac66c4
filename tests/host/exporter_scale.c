// SPDX-License-Identifier: GPL-2.0
/*
 * exporter-scale: vfio_exporter's scrape at N devices, on the build
 * machine.  The exporter's own code (loader/exporter.c, libvfiobpf) serves
 * /metrics on a loopback port; sysfs is a tree this program makes, with N
 * VFs bound to vfio-pci-bpf (64 per PF, as SR-IOV hosts have them), and the
 * counters are synthetic: every device has all twelve operations counted,
 * two MSI-X vectors and a config-read latency histogram, served by a
 * counter source of our own instead of the BPF maps (nothing is loaded).
 * The scrapes are real HTTP requests by curl, end to end.
 *
 * Prints one line: devices, median/min/max scrape time of ROUNDS scrapes
 * after a first one (timed alone: it reads every device from sysfs)
 * (curl's time_total), page bytes, VmRSS/VmHWM of this process (the
 * exporter) after them, the median time of building the page alone (no
 * HTTP), and the exporter's CPU time per scrape (getrusage: every thread,
 * sending included), which other work on the machine does not inflate.  make bench-exporter runs it for 1, 100, 1,000 and
 * 10,000 devices (tests/host/bench-exporter.sh).
 */
#include <arpa/inet.h>
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "exporter.h"

#define VFS_PER_PF	64

static struct {
	int ndevs;
	int rounds;
	const char *root;
	bool verbose;
} opt = { .ndevs = 1000, .rounds = 20, .root = "build/exporter-scale.sysfs" };

static __u32 *sbdfs;

/* Device i: a VF in domain 0, bus 1 + i / 256; its PF in domain 1. */
static __u32 vf_sbdf(int i)
{
	return (1 + i / 256) << 8 | (i % 256);
}

static __u32 pf_sbdf(int i)
{
	int p = i / VFS_PER_PF;

	return 1u << 16 | (p / 256) << 8 | (p % 256);
}

/* A path under the tree, from @fmt...: vsnprintf'ed, never truncated (short names). */
__attribute__((format(printf, 1, 2)))
static const char *P(const char *fmt, ...)
{
	static char bufs[2][PATH_MAX];
	static int which;
	char *b = bufs[which ^= 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, PATH_MAX, fmt, ap);
	va_end(ap);
	return b;
}

static int mkfile(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

/* The tree lib/device.c reads, as the kernel lays it out. */
static int make_sysfs(void)
{
	const char *r = opt.root, *drv = "bus/pci/drivers/" VFB_DRIVER;
	char bdf[VFB_BDF_LEN], pf[VFB_BDF_LEN], cmd[PATH_MAX + 64];
	int err = 0;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/bus/pci/devices' '%s/%s'",
		 r, r, r, drv);
	if (system(cmd))
		return -1;
	err |= mkfile(P("%s/%s/bind", r, drv), "") | mkfile(P("%s/%s/unbind", r, drv), "");
	err |= mkfile(P("%s/%s/new_id", r, drv), "") | mkfile(P("%s/%s/modes", r, drv), "");
	for (int i = 0; i < opt.ndevs && !err; i++) {
		vfb_bdf_str(vf_sbdf(i), bdf, sizeof(bdf));
		vfb_bdf_str(pf_sbdf(i), pf, sizeof(pf));
		if (i % VFS_PER_PF == 0) {
			err |= mkdir(P("%s/bus/pci/devices/%s", r, pf), 0755);
			err |= mkfile(P("%s/bus/pci/devices/%s/vendor", r, pf), "0x8086\n");
			err |= mkfile(P("%s/bus/pci/devices/%s/device", r, pf), "0x1521\n");
			err |= symlink("../../drivers/igb", P("%s/bus/pci/devices/%s/driver", r, pf));
		}
		err |= mkdir(P("%s/bus/pci/devices/%s", r, bdf), 0755);
		err |= mkfile(P("%s/bus/pci/devices/%s/vendor", r, bdf), "0x8086\n");
		err |= mkfile(P("%s/bus/pci/devices/%s/device", r, bdf), "0x1520\n");
		err |= mkfile(P("%s/bus/pci/devices/%s/subsystem_vendor", r, bdf), "0x8086\n");
		err |= mkfile(P("%s/bus/pci/devices/%s/subsystem_device", r, bdf), "0x0001\n");
		err |= mkfile(P("%s/bus/pci/devices/%s/class", r, bdf), "0x020000\n");
		err |= mkfile(P("%s/bus/pci/devices/%s/vfio_bpf_slot", r, bdf), P("%d\n", i));
		err |= symlink(P("../../../kernel/iommu_groups/%d", 100 + i),
			       P("%s/bus/pci/devices/%s/iommu_group", r, bdf));
		err |= symlink(P("../%s", pf), P("%s/bus/pci/devices/%s/physfn", r, bdf));
		err |= symlink(P("../%s", bdf),
			       P("%s/bus/pci/devices/%s/virtfn%d", r, pf, i % VFS_PER_PF));
		err |= symlink("../../drivers/" VFB_DRIVER, P("%s/bus/pci/devices/%s/driver", r, bdf));
		err |= symlink(P("../../devices/%s", bdf), P("%s/%s/%s", r, drv, bdf));
	}
	if (err)
		fprintf(stderr, "exporter-scale: making the sysfs tree under %s: %s\n", r,
			strerror(errno));
	return err ? -1 : 0;
}

/*
 * The counter source: what the maps would hold, made afresh per call as
 * lib/counters.c's readers do (a malloc'ed, sorted snapshot).
 */
static int synth_counts(struct vfb_count **out, bool *full)
{
	static const int ops[] = {
		VFT_OPEN, VFT_CLOSE, VFT_RESET, VFT_CONFIG_READ, VFT_CONFIG_WRITE, VFT_BAR_READ,
		VFT_BAR_WRITE, VFT_MMAP, VFT_IOCTL, VFT_SET_IRQS, VFT_MIG_TRANSITION, VFT_MIG_DATA,
	};
	const int nops = sizeof(ops) / sizeof(ops[0]);
	struct vfb_count *c = malloc((size_t)opt.ndevs * nops * sizeof(*c) + 1);

	if (!c)
		return -ENOMEM;
	for (int i = 0; i < opt.ndevs; i++)
		for (int k = 0; k < nops; k++) {
			struct vfb_count *r = &c[i * nops + k];

			r->key.sbdf = sbdfs[i];
			r->key.kind = ops[k];
			r->n.events = 1000003ull * (i + 1) + k;
			r->n.errors = k == VFT_IOCTL ? i : 0;
		}
	*full = false;
	*out = c;
	return opt.ndevs * nops;
}

static int synth_deliveries(struct vfb_delivery **out)
{
	struct vfb_delivery *d = malloc((size_t)opt.ndevs * 2 * sizeof(*d) + 1);

	if (!d)
		return -ENOMEM;
	for (int i = 0; i < 2 * opt.ndevs; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].v.sbdf = sbdfs[i / 2];
		d[i].v.index = VFT_IRQ_MSIX;
		d[i].v.vector = i % 2;
		d[i].n = 12345ull * i;
	}
	*out = d;
	return 2 * opt.ndevs;
}

static int synth_latency(struct vfb_latency **out)
{
	struct vfb_latency *l = calloc(opt.ndevs + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (int i = 0; i < opt.ndevs; i++) {
		l[i].key.sbdf = sbdfs[i];
		l[i].key.kind = VFT_CONFIG_READ;
		for (int b = 10; b < 16; b++)
			l[i].h.slots[b] = b * (i + 1);
		l[i].h.sum_ns = 40000ull * (i + 1);
	}
	*out = l;
	return opt.ndevs;
}

static int synth_decisions(struct vfb_decision **out)
{
	*out = NULL;
	return 0;
}

#ifdef SCALE_SEAM
/*
 * Measuring an exporter from before the counter source: define the
 * library's readers instead (link order takes ours).
 */
int vfb_read_counts(const struct vfb_counters *c, struct vfb_count **out)
{
	bool full;

	return synth_counts(out, &full);
}

int vfb_read_deliveries(const struct vfb_counters *c, struct vfb_delivery **out)
{
	return synth_deliveries(out);
}

int vfb_read_latency(const struct vfb_counters *c, struct vfb_latency **out)
{
	return synth_latency(out);
}

int vfb_read_decisions(const struct vfb_counters *c, struct vfb_decision **out)
{
	return synth_decisions(out);
}

int vfb_delivery_cmp(const void *a, const void *b)
{
	const struct vft_vector *x = &((const struct vfb_delivery *)a)->v;
	const struct vft_vector *y = &((const struct vfb_delivery *)b)->v;

	if (x->sbdf != y->sbdf)
		return x->sbdf < y->sbdf ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->vector < y->vector ? -1 : x->vector > y->vector;
}
#else
static const struct counter_source synthetic = {
	.counts = synth_counts,
	.deliveries = synth_deliveries,
	.latency = synth_latency,
	.decisions = synth_decisions,
};
#endif

static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* This process's CPU time (user and system, every thread), in ms. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const struct argp_option opts[] = {
	{ "devices", 'n', "N", 0, "N devices bound (default 1000)", 0 },
	{ "rounds", 'r', "N", 0, "N scrapes (default 20)", 0 },
	{ "root", 's', "DIR", 0, "Make the sysfs tree in DIR (default build/exporter-scale.sysfs)", 0 },
	{ "verbose", 'v', NULL, 0, "Each scrape's time", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'n':
	case 'r':
		v = strtol(arg, &end, 10);
		if (*end || v < 1 || v > (key == 'n' ? 65536 : 1000))
			argp_error(state, "'%s' is not a number from 1 to %d", arg,
				   key == 'n' ? 65536 : 1000);
		*(key == 'n' ? &opt.ndevs : &opt.rounds) = v;
		break;
	case 's':
		opt.root = arg;
		break;
	case 'v':
		opt.verbose = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	opts, parse_arg, NULL,
	"vfio_exporter's scrape time, page size and RSS with N synthetic devices.\v"
	"EXAMPLES:\n"
	"    exporter-scale -n 10000       # 20 scrapes of 10,000 devices\n",
	NULL, NULL, NULL,
};

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct MHD_Daemon *d;
	double *t, bytes = 0, median, t0, tmax;
	struct page page = {};
	double cpu0, cpu, t_first;
	char first[160];
	long rss, hwm;
	char cmd[256];
	int lfd, port;
	FILE *f;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	sbdfs = calloc(opt.ndevs, sizeof(*sbdfs));
	t = calloc(opt.rounds, sizeof(*t));
	if (!sbdfs || !t)
		return 1;
	for (int i = 0; i < opt.ndevs; i++)
		sbdfs[i] = vf_sbdf(i);
	if (make_sysfs())
		return 1;
	vfb_sysfs_root = opt.root;
#ifndef SCALE_SEAM
	counter_source = &synthetic;
#endif
	parse_listen("127.0.0.1:9466");
	((struct sockaddr_in *)&env.addr)->sin_port = 0;	/* any free port */
	lfd = open_listener();
	if (lfd < 0 || getsockname(lfd, (struct sockaddr *)&sa, &len))
		return 1;
	port = ntohs(sa.sin_port);
	d = start_httpd(lfd);
	if (!d) {
		fprintf(stderr, "exporter-scale: cannot start the HTTP server\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "for i in $(seq %d); do curl -sf -o /dev/null "
		 "-w '%%{time_total} %%{size_download}\\n' http://127.0.0.1:%d/metrics || echo fail; done",
		 opt.rounds, port);
	/*
	 * The first scrape reads every device from sysfs (once per bind):
	 * timed alone, then the ROUNDS that count.
	 */
	snprintf(first, sizeof(first), "curl -sf -o /dev/null -w '%%{time_total}' "
		 "http://127.0.0.1:%d/metrics", port);
	f = popen(first, "r");
	if (!f || fscanf(f, "%lf", &t_first) != 1 || pclose(f)) {
		fprintf(stderr, "exporter-scale: the first scrape failed\n");
		return 1;
	}
	cpu0 = cpu_ms();
	f = popen(cmd, "r");
	for (int i = 0; f && i < opt.rounds; i++) {
		if (fscanf(f, "%lf %lf", &t[i], &bytes) != 2) {
			fprintf(stderr, "exporter-scale: scrape %d failed\n", i + 1);
			return 1;
		}
		if (opt.verbose)
			fprintf(stderr, "scrape %d: %.3f ms\n", i + 1, t[i] * 1e3);
	}
	if (!f || pclose(f))
		return 1;
	cpu = (cpu_ms() - cpu0) / opt.rounds;
	rss = status_kb("VmRSS");
	hwm = status_kb("VmHWM");
	qsort(t, opt.rounds, sizeof(*t), cmp_double);
	t0 = t[0];
	tmax = t[opt.rounds - 1];
	median = (t[(opt.rounds - 1) / 2] + t[opt.rounds / 2]) / 2;
	/*
	 * The page alone, without HTTP: what the scrape's own time is made of,
	 * in one buffer used again, as the exporter does.
	 */
	page.cap = (size_t)bytes + 16384;
	page.buf = malloc(page.cap);
	for (int i = 0; i < opt.rounds; i++) {
		__u64 t1 = now_ns();

		page.len = 0;
		if (!page.buf || build_page(&page))
			return 1;
		t[i] = (now_ns() - t1) / 1e9;
	}
	free(page.buf);
	qsort(t, opt.rounds, sizeof(*t), cmp_double);
	printf("devices %d scrapes %d median_ms %.3f min_ms %.3f max_ms %.3f page_bytes %.0f "
	       "rss_kb %ld hwm_kb %ld build_ms %.3f cpu_ms %.3f first_ms %.3f\n", opt.ndevs, opt.rounds,
	       median * 1e3,
	       t0 * 1e3, tmax * 1e3, bytes, rss, hwm,
	       (t[(opt.rounds - 1) / 2] + t[opt.rounds / 2]) / 2 * 1e3, cpu, t_first * 1e3);
	MHD_stop_daemon(d);
	free(conns);
	free(sbdfs);
	free(t);
	return 0;
}
