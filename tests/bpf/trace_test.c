// SPDX-License-Identifier: GPL-2.0
/*
 * trace-test: attach trace_test.bpf.c's tp_btf programs for one device,
 * say "ready", wait until standard input closes, then print what was
 * counted: "EVENT COUNT" lines, the last config read, and deliveries
 * per vector.
 */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "trace_test.h"
#include "trace_test.skel.h"

static const char *const names[TT_NR_EVENTS] = {
	"open", "close", "reset", "config_read", "config_write", "bar_read",
	"bar_write", "mmap", "ioctl", "set_irqs", "irq_vector",
	"mig_transition", "mig_data",
};

static bool verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	struct tt_vector key, next;
	struct trace_test_bpf *skel;
	unsigned int dom, bus, dev, fn;
	char buf[64];
	__u64 n;
	int err, fd;

	if (argc < 2 || sscanf(argv[1], "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		fprintf(stderr, "usage: trace-test BDF [-v]\n");
		return 2;
	}
	verbose = argc > 2 && !strcmp(argv[2], "-v");
	libbpf_set_print(print_fn);

	skel = trace_test_bpf__open();
	if (!skel) {
		fprintf(stderr, "trace-test: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_sbdf = dom << 16 | bus << 8 | dev << 3 | fn;
	err = trace_test_bpf__load(skel);
	if (!err)
		err = trace_test_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "trace-test: load/attach: %s (is vfio_pci_bpf loaded?)\n",
			strerror(-err));
		goto out;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;

	for (int i = 0; i < TT_NR_EVENTS; i++)
		printf("%s %llu\n", names[i], (unsigned long long)skel->bss->counts[i]);
	printf("last_config_read off=%#x size=%u value=%#llx ret=%d\n",
	       skel->bss->last_cfg_offset, skel->bss->last_cfg_size,
	       (unsigned long long)skel->bss->last_cfg_value, skel->bss->last_cfg_ret);
	printf("last_open_pid %u\n", skel->bss->last_open_pid);
	printf("sbdf_mismatch %u\n", skel->bss->sbdf_mismatch);
	printf("last_slot %u\n", skel->data->last_slot);

	fd = bpf_map__fd(skel->maps.deliveries);
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &n))
			printf("delivered index=%u vector=%u count=%llu\n", next.index,
			       next.vector, (unsigned long long)n);
		key = next;
	}
	err = 0;
out:
	trace_test_bpf__destroy(skel);
	return err ? 1 : 0;
}
