/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_exporter's parts below main(): the page and its formatting, the
 * collectors of a scrape, the HTTP server.  tests/host/exporter_unit.c
 * links them and checks each.
 */
#ifndef __VFIO_EXPORTER_H
#define __VFIO_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>

#include <microhttpd.h>

#include "counters.h"
#include "device.h"
#include "vfio_trace.h"

#define EXPORTER_VERSION	VFIO_BPF_VERSION
#define DEFAULT_LISTEN		"127.0.0.1:9466"

struct exporter_env {
	const char *listen;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned int max_conns;		/* MHD_OPTION_CONNECTION_LIMIT */
	unsigned int per_client;	/* MHD_OPTION_PER_IP_CONNECTION_LIMIT */
	unsigned int idle_timeout;	/* MHD_OPTION_CONNECTION_TIMEOUT, seconds */
};

extern struct exporter_env env;
/* The maps a scrape reads: pinned by `vfio-bpf load`, or loaded by main(). */
extern struct vfb_counters counters;

/*
 * Where a scrape's counters come from: the maps of `counters` (the
 * default, lib/counters.c's readers), or a test's synthetic ones
 * (tests/host/exporter_scale.c).  Each reader returns how many records it
 * malloc'ed into *out, sorted as lib/counters.c sorts them, or -errno;
 * counts() also says whether the counts hash is full (vfb_read_counts_full).
 */
struct counter_source {
	int (*counts)(struct vfb_count **out, bool *full);
	int (*deliveries)(struct vfb_delivery **out);
	int (*latency)(struct vfb_latency **out);
	int (*decisions)(struct vfb_decision **out);
	/* NULL: no migration maps (a test's source) */
	int (*mig_devs)(struct vfb_mig_dev **out);
	int (*mig_arcs)(struct vfb_mig_hist **out);
	int (*mig_downtime)(struct vfb_mig_hist **out);
	int (*cfg_touch)(struct vfb_cfg_touch **out);	/* NULL: none */
};

extern const struct counter_source *counter_source;

__u64 now_ns(void);

/* ---- the page ---- */

struct page {
	char *buf;
	size_t len, cap;
	bool failed;		/* out of memory: the scrape answers 500 */
};

__attribute__((format(printf, 2, 3)))
void put(struct page *p, const char *fmt, ...);
/* A label value, escaped as the text format wants: \\, \" and \n. */
void put_value(struct page *p, const char *s);
/* name{k1="v1",k2="v2",...} from NULL-terminated key, value pairs. */
void put_series(struct page *p, const char *name, ...);
/* @n bytes of @s, as they are. */
void put_mem(struct page *p, const char *s, size_t n);
void put_family(struct page *p, const char *name, const char *type, const char *help);
/* @ns nanoseconds as exact decimal seconds ("0.000001024"), for le="". */
void le_seconds(__u64 ns, char *buf, size_t len);

/* ---- a scrape ---- */

struct device {
	struct vfb_device dev;
	bool bound;		/* bound to vfio-pci-bpf now */
	bool counted;		/* the counts map has a key of it */
	struct vft_count ops[VFT_NR_KINDS];
	/* latency, summed over CPUs: in the scrape's latency records; NULL */
	const struct vft_hist *lat[VFT_NR_KINDS];
};

/* The collectors of a scrape (exporter.c names them). */
enum { COL_SYSFS, COL_COUNTS, COL_INTERRUPTS, COL_LATENCY, COL_POLICY, COL_MIGRATION,
       NR_COLLECTORS };

/* A policy the kernel has attached (the module's modes file). */
struct policy_info {
	__u32 sbdf;
	bool monitor;
	char name[VFT_POLICY_NAME_LEN + 1];
};

/*
 * Bound devices without a slot (counted in the counts hash instead of the
 * per-slot array), and those of them the full hash cannot count.
 */
enum { DEVS_NO_SLOT, DEVS_UNTRACKED, NR_DEVS_UNTRACKED };

struct scrape {
	struct device *devs;	/* devs[0..nsorted) in BDF order, then any added since */
	int ndevs, devs_cap, nsorted;
	struct vfb_latency *lat;
	int nlat;
	bool counts_full;	/* the counts hash holds as many keys as it can */
	struct vfb_delivery *irqs;
	int nirqs;
	struct policy_info *policies;
	int npolicies;
	struct vfb_decision *decisions;
	int ndecisions;
	struct vfb_mig_dev *mig;
	int nmig;
	struct vfb_mig_hist *arcs, *downtime;
	int narcs, ndowntime;
	struct vfb_cfg_touch *touch;
	int ntouch;
	int require_policy;	/* the module's parameter: 1, 0; -1 unknown */
	bool failed[NR_COLLECTORS];	/* its families are left out */
};

/* The entry of @sbdf, added if new; NULL out of memory. */
struct device *device_of(struct scrape *s, __u32 sbdf);
/*
 * The sysfs collector: every device bound to vfio-pci-bpf now.  What sysfs
 * says of a device is read once per bind and kept (lib/device.h, struct
 * vfb_bound): a scrape lists the driver's directory, one getdents, and
 * reads only the devices whose link is new.
 */
int read_bound(struct scrape *s);
/* Devices read from sysfs since the exporter started (the cache's misses). */
extern unsigned long device_reads;
/* How many bound devices of @s have no slot, and are not counted (DEVS_*). */
void count_untracked(const struct scrape *s, int n[NR_DEVS_UNTRACKED]);
void put_scrape(struct page *p, struct scrape *s);
/* Every collector, then the page; -ENOMEM only: a failed collector is a 0 on the page. */
int build_page(struct page *p);

/* ---- HTTP ---- */

/* ADDR:PORT into env.addr; ADDR numeric, IPv6 in brackets, empty for any. */
int parse_listen(const char *arg);
/* Bind and listen on env.addr; -1, said on stderr, on failure. */
int open_listener(void);
/* The HTTP server on @lfd, with the limits of env (docs/vfio_exporter.md). */
struct MHD_Daemon *start_httpd(int lfd);

/* The server's connections (for the test: how many it holds). */
struct conn {
	bool used, busy, closing;
	int fd;
	struct sockaddr_storage addr;
	__u64 idle_since;
};

extern struct conn *conns;
extern unsigned int nconns;

#endif /* __VFIO_EXPORTER_H */
