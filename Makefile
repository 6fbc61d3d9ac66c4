# SPDX-License-Identifier: GPL-2.0
#
# vfio-bpf: eBPF observability and access policy for VFIO PCI devices.
# `make help` lists the targets.  Quiet by default; V=1 shows commands.

include versions.env

TOP       := $(CURDIR)
BUILD     := $(TOP)/build
CACHE     := $(TOP)/.cache
KCACHE    := $(CACHE)/kernel-$(subst ~,_,$(KERNEL_DEB_VERSION))
GUEST_KVER := $(KERNEL_ABI)-$(KERNEL_FLAVOUR)
GUEST_KDIR := $(KCACHE)/usr/src/linux-headers-$(GUEST_KVER)
CHECKPATCH := $(KCACHE)/src/scripts/checkpatch.pl

# Debian bookworm's 6.1 kernel (KERNEL61_* in versions.env): the module is
# built for it too, into build/kmod-<kver>/ (tests/vm/lib.sh loads that
# build in a guest running <kver>), and the k61 group boots it.
K61_KCACHE := $(CACHE)/kernel-$(subst ~,_,$(KERNEL61_DEB_VERSION))
K61_KVER   := $(KERNEL61_ABI)-$(KERNEL_FLAVOUR)
K61_KDIR   := $(K61_KCACHE)/usr/src/linux-headers-$(K61_KVER)
K61_BUILD  := $(BUILD)/kmod-$(K61_KVER)
K61_KO     := $(K61_BUILD)/vfio_pci_bpf.ko
K61_INITRD := $(BUILD)/vm/initramfs-$(K61_KVER).img

# KERNEL=6.1 boots that kernel for the guest groups that run there (see
# tests/run-tests); the default is the 6.12 guest kernel.
KERNEL ?=
ifneq ($(filter-out 6.1,$(KERNEL)),)
$(error KERNEL=$(KERNEL): only KERNEL=6.1 (or nothing, for $(KERNEL_SERIES)) is known)
endif

# The module builds against the running kernel's headers when it has them,
# and otherwise against the test bed's 6.12 headers (the kernel the tests
# run it in).
HOST_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(wildcard $(HOST_KDIR)/Makefile),)
KDIR ?= $(GUEST_KDIR)
else
KDIR ?= $(HOST_KDIR)
endif

# Where `make install` puts things (DESTDIR is prepended to each).
# The Debian package builds with PREFIX=/usr.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share/vfio-bpf
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter -Werror
ACCEL   ?= tcg
export ACCEL
BENCH_RUNS ?= 5

ifeq ($(V),1)
Q :=
SUBMAKE := $(MAKE)
else
Q := @
SUBMAKE := $(MAKE) -s
MAKEFLAGS += --no-print-directory
endif
msg = @printf '  %-8s %s\n' $(1) $(2)

.DEFAULT_GOAL := all

help:
	@echo 'vfio-bpf targets:'
	@echo '  deps       install build and test dependencies (root; idempotent):'
	@echo '             Debian packages, and the guest kernel unpacked in .cache/'
	@echo '  all        build the module (kmod/), the VFIO client (tests/client/)'
	@echo '  kmod       build vfio_pci_bpf.ko against KDIR (now: $(KDIR))'
	@echo '  client     build build/vfio-client'
	@echo '  tools      build build/vfio-trace, build/vfio-bpf, build/vfio_exporter (bpf/ + loader/)'
	@echo '  vm-image   build the test bed initramfs'
	@echo '  units      build/systemd/*.service and build/udev/90-vfio-bpf.rules for'
	@echo '             SBINDIR=$(SBINDIR) SYSCONFDIR=$(SYSCONFDIR)'
	@echo '  man        build/man/*: the man pages, from man/*.scd (scdoc)'
	@echo '  kmod-6.1   build vfio_pci_bpf.ko against Debian bookworm'"'"'s 6.1 headers'
	@echo '             (build/kmod-$(K61_KVER)/); vm-image-6.1 its initramfs'
	@echo '  check      run every test: host checks, then the guest test groups'
	@echo '  demo       boot the test bed, bind an edu device to vfio-pci-bpf and'
	@echo '             drive it with the VFIO client'
	@echo '  bench      cost per operation (guest instructions, QEMU -icount) of stock'
	@echo '             vfio-pci and of vfio-pci-bpf with counters, policy, trace and'
	@echo '             exporter attached, interleaved (docs/benchmarks.md);'
	@echo '             BENCH_RUNS=<rounds> (default 5), BENCH_LOOPS=<accesses>;'
	@echo '             then bench-exporter'
	@echo '  bench-exporter  vfio_exporter scrape time, page size and RSS at 1 to'
	@echo '             10,000 devices (synthetic here, real maps in the guest)'
	@echo '  bench-trace  vfio-trace rate and losses, 1 and 2 vCPUs, two buffer sizes'
	@echo '  install    install tools, units, udev rule, man pages, example policies and'
	@echo '             the module source for DKMS (PREFIX=$(PREFIX), DESTDIR=, SBINDIR=, ...)'
	@echo '  uninstall  remove exactly what install put (PREFIX/share/vfio-bpf/install.manifest)'
	@echo '  debs       build/deb/vfio-bpf_$(VFIO_BPF_VERSION)_amd64.deb and vfio-bpf-dkms_$(VFIO_BPF_VERSION)_all.deb'
	@echo '  dkms-build dkms build of the installed module source for each kernel in .cache/'
	@echo '  vm-shell   run CMD="..." in the test bed guest'
	@echo '  checkpatch run the kernel'"'"'s checkpatch.pl on kmod/'
	@echo '  fuzz       fuzz the policy compiler with libFuzzer for FUZZ_TIME seconds'
	@echo '             (default 60); crashes land in build/fuzz/'
	@echo '  clean      remove build products (keeps .cache/)'
	@echo 'Variables: V=1 (show commands), KDIR=<kernel build dir>,'
	@echo '           ACCEL=kvm (real VT-x/AMD-V hosts), T=<test group>, FUZZ_TIME=<s>,'
	@echo '           KERNEL=6.1 (check: boot bookworm'"'"'s 6.1 for the groups that run there)'

# ---- dependencies -------------------------------------------------------

deps:
	$(Q)$(TOP)/scripts/deps.sh

# `make check` on a machine that never ran `make deps` runs it first.
DEPS_STAMP := $(KCACHE)/.unpacked
K61_STAMP  := $(CACHE)/kernel-$(subst ~,_,$(KERNEL61_DEB_VERSION))/.unpacked
DEPS_TOOLS := qemu-system-x86_64 clang-$(LLVM_VERSION) pahole bpftool bpftrace busybox modprobe patch \
	      curl jq prometheus promtool scdoc groff man systemd-analyze setpriv \
	      dkms dh_dkms dpkg-buildpackage python3
# libFuzzer's runtime for clang-$(LLVM_VERSION) (libclang-rt-$(LLVM_VERSION)-dev), for make fuzz.
LIBFUZZER  := /usr/lib/llvm-$(LLVM_VERSION)/lib/clang/$(LLVM_VERSION)/lib/linux/libclang_rt.fuzzer-x86_64.a
# systemd-udevd for the services group, unpacked (scripts/deps.sh).
UDEV_STAMP := $(CACHE)/udev-$(subst ~,_,$(UDEV_DEB_VERSION))/.unpacked
DEPS_FILES := /usr/include/microhttpd.h $(LIBFUZZER) $(UDEV_STAMP) /usr/lib/python3/dist-packages/yaml/__init__.py
deps-if-needed:
	$(Q)missing=; for t in $(DEPS_TOOLS); do \
		command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	for f in $(DEPS_FILES); do [ -e $$f ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ] || [ ! -f $(DEPS_STAMP) ] || [ ! -f $(K61_STAMP) ]; then \
		echo "  DEPS     missing:$${missing:- guest kernels}; running scripts/deps.sh"; \
		$(TOP)/scripts/deps.sh; \
	fi

# ---- build --------------------------------------------------------------

all: kmod client tools bpf-tests

kmod:
	$(call msg,KMOD,"vfio_pci_bpf.ko (KDIR=$(KDIR))")
	$(Q)$(MAKE) -C kmod KDIR=$(KDIR) $(if $(filter 1,$(V)),,-s)

guest-kmod: core
	$(Q)$(SUBMAKE) kmod KDIR=$(GUEST_KDIR)

# The 6.1 build, out of the tree of the 6.12 one (kbuild builds in M=):
# the sources are linked into its own directory.  kbuild runs only when a
# source changed, so make check stays quick.
kmod-6.1: $(K61_KO)
# Not kbuild's own kmod/*.mod.c: linked, it would be the same file for both
# builds, each modpost writing the other's vermagic into it.
K61_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) kmod/Kbuild kmod/Makefile \
	    $(wildcard include/*.h)
$(K61_KO): $(K61_SRCS) $(K61_STAMP)
	$(call msg,KMOD,"$@ (KDIR=$(K61_KDIR))")
	$(Q)mkdir -p $(K61_BUILD)
	$(Q)find $(K61_BUILD) -maxdepth 1 -type l -name '*.mod.c' -delete
	$(Q)for f in $(filter kmod/%,$(K61_SRCS)); do ln -sfn $(TOP)/$$f $(K61_BUILD)/; done
	$(Q)$(MAKE) -C $(K61_BUILD) KDIR=$(K61_KDIR) VFIO_BPF_INCLUDE=$(TOP)/include \
		$(if $(filter 1,$(V)),,-s)
	$(Q)touch $@

# vfio-pci-core of the guest kernel with our patch series (docs/upstream/,
# the cover letter excepted) applied to Debian's unmodified source: the
# kernel-copy entry points vfio_pci_bpf.ko enforces policies through.
CORE_DIR     := $(BUILD)/core
CORE_TREE    := $(CORE_DIR)/tree
CORE_PATCHES := $(sort $(filter-out %/0000-cover-letter.patch,$(wildcard docs/upstream/*.patch)))
CORE_KO      := $(CORE_TREE)/drivers/vfio/pci/vfio-pci-core.ko
core: $(CORE_KO)

$(CORE_KO): $(CORE_PATCHES) kmod/core/Kbuild $(DEPS_STAMP)
	$(call msg,PATCH,"vfio-pci-core: $(notdir $(CORE_PATCHES))")
	$(Q)rm -rf $(CORE_TREE)
	$(Q)mkdir -p $(CORE_TREE)/drivers/vfio/pci $(CORE_TREE)/include/linux
	$(Q)cp $(KCACHE)/src/drivers/vfio/pci/*.[ch] $(CORE_TREE)/drivers/vfio/pci/
	$(Q)cp $(KCACHE)/src/include/linux/vfio_pci_core.h $(CORE_TREE)/include/linux/
	$(Q)for p in $(CORE_PATCHES); do \
		patch -d $(CORE_TREE) -p1 -s --no-backup-if-mismatch <$$p || exit 1; done
	$(Q)cp kmod/core/Kbuild $(CORE_TREE)/drivers/vfio/pci/Kbuild
	$(call msg,KMOD,$@)
	$(Q)$(MAKE) -C $(GUEST_KDIR) M=$(CORE_TREE)/drivers/vfio/pci modules $(if $(filter 1,$(V)),,-s)

client: $(BUILD)/vfio-client $(BUILD)/vfio-mig

$(BUILD)/vfio-mig: tests/client/vfio-mig.c tests/client/edu.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/vfio-client: tests/client/vfio-client.c tests/client/edu.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -o $@ $<

# ---- BPF ------------------------------------------------------------------

CLANG      := clang-$(LLVM_VERSION)
BPFTOOL    ?= bpftool
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(BUILD)/bpf -Iinclude \
	      -Wall -Werror
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
MHD_LIBS    := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

# CO-RE type information of the guest kernel (the BTF vmlinux Debian's
# headers ship).  Module types come from include/, not from here.
# VMLINUX_BTF=/sys/kernel/btf/vmlinux builds without the test bed's headers
# (debian/rules' default).
VMLINUX_BTF ?= $(GUEST_KDIR)/vmlinux
$(BUILD)/bpf/vmlinux.h: | $(BUILD)/bpf
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c include/vfio_bpf_hooks.h $(BUILD)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itests/bpf -c $< -o $@

# bpftool 7.5 (backports) writes skeletons for libbpf 1.5, which fill in
# bpf_map_skeleton.link; backports' libbpf-dev is 1.4, which has no such
# member.  We attach struct_ops links ourselves, so drop that line.
$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< | sed '/map->link = /d' >$@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/vfio_names.bpf.h include/vfio_trace.h include/vfio_policy.h \
		include/vfio_bpf_hooks.h $(BUILD)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# ---- user space ------------------------------------------------------------

# Every user-space object is compiled by one rule with these flags, and
# -MMD records the headers it read: touching one rebuilds its users.
# CPPFLAGS and LDFLAGS: empty here; dpkg-buildpackage's hardening flags.
USER_CFLAGS := $(CFLAGS) $(CPPFLAGS) $(WARN) -MMD -MP -I$(BUILD)/bpf -Iinclude -Ilib -Iloader \
	       -DVFIO_BPF_VERSION='"$(VFIO_BPF_VERSION)"'
SKELS := $(BUILD)/bpf/vfio_trace.skel.h $(BUILD)/bpf/vfio_policy.skel.h $(BUILD)/bpf/vfio_stock.skel.h
# Made by a chain of pattern rules and needed order-only: not intermediate.
.SECONDARY: $(SKELS) $(SKELS:.skel.h=.bpf.o)

# libvfiobpf: the one home of what the tools share (lib/*.h say what).
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libvfiobpf.a

$(BUILD)/lib/%.o: lib/%.c | $(SKELS) $(BUILD)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/loader/%.o: loader/%.c | $(SKELS) $(BUILD)/loader
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(SKELS) $(BUILD)/tests/unit $(BUILD)/tests/host
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

# The version is on their command line (--version, vfio_exporter_build_info).
$(addprefix $(BUILD)/loader/,vfio-bpf.o vfio-trace.o vfio_exporter.o exporter.o): versions.env

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

-include $(wildcard $(BUILD)/lib/*.d $(BUILD)/loader/*.d $(BUILD)/tests/*/*.d)

TOOLS := $(BUILD)/vfio-trace $(BUILD)/vfio-bpf $(BUILD)/vfio_exporter
tools: $(TOOLS)

# name: objects, then libraries; each links with libvfiobpf.
$(BUILD)/vfio-bpf: $(BUILD)/loader/vfio-bpf.o $(BUILD)/loader/policy.o $(LIB)
$(BUILD)/vfio-bpf: LIBS := $(LIBBPF_LIBS) -lyaml
$(BUILD)/vfio-trace: $(BUILD)/loader/vfio-trace.o $(LIB)
$(BUILD)/vfio-trace: LIBS := $(LIBBPF_LIBS)
$(BUILD)/vfio_exporter: $(BUILD)/loader/vfio_exporter.o $(BUILD)/loader/exporter.o $(LIB)
$(BUILD)/vfio_exporter: LIBS := $(MHD_LIBS) $(LIBBPF_LIBS) -lpthread

# Unit tests: user space only, run on the build machine.
UNIT_TESTS := $(BUILD)/test-policy $(BUILD)/test-pins $(BUILD)/test-lib
unit-tests: $(UNIT_TESTS)
$(BUILD)/test-policy: $(BUILD)/tests/unit/test-policy.o $(BUILD)/loader/policy.o $(LIB)
$(BUILD)/test-policy: LIBS := -lyaml $(LIBBPF_LIBS)
$(BUILD)/test-pins: $(BUILD)/tests/unit/test-pins.o $(LIB)
$(BUILD)/test-pins: LIBS := $(LIBBPF_LIBS)
$(BUILD)/test-lib: $(BUILD)/tests/unit/test-lib.o $(LIB)
$(BUILD)/test-lib: LIBS := $(LIBBPF_LIBS)

# The policy compiler under libFuzzer, ASan and UBSan (any UB aborts); the
# compiler's sources are built instrumented, the library as it is.
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=all
$(BUILD)/fuzz-policy: tests/fuzz/fuzz-policy.c loader/policy.c loader/policy.h include/vfio_policy.h \
		$(LIB) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(WARN) -Iinclude -Iloader -Ilib -o $@ tests/fuzz/fuzz-policy.c \
		loader/policy.c $(LIB) -lyaml $(LIBBPF_LIBS)

# The exporter's page, collectors and HTTP server, with sysfs pointed at a
# tree the test makes.
host-tests: $(BUILD)/exporter-unit $(BUILD)/fuzz-policy $(BUILD)/exporter-scale
$(BUILD)/exporter-unit: $(BUILD)/tests/host/exporter_unit.o $(BUILD)/loader/exporter.o $(LIB)
$(BUILD)/exporter-unit: LIBS := $(MHD_LIBS) $(LIBBPF_LIBS) -lpthread
# The exporter's scrape at N synthetic devices (make bench-exporter).
$(BUILD)/exporter-scale: $(BUILD)/tests/host/exporter_scale.o $(BUILD)/loader/exporter.o $(LIB)
$(BUILD)/exporter-scale: LIBS := $(MHD_LIBS) $(LIBBPF_LIBS) -lpthread

$(TOOLS) $(UNIT_TESTS) $(BUILD)/exporter-unit $(BUILD)/exporter-scale:
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# `make build/vfio-bpf` (relative) is the same file as $(BUILD)/vfio-bpf.
REL_BINS := $(patsubst $(BUILD)/%,build/%,$(TOOLS) $(UNIT_TESTS) $(BUILD)/exporter-unit \
	      $(BUILD)/exporter-scale)
$(REL_BINS): build/%: $(BUILD)/%
.PHONY: $(REL_BINS)

# Attack programs of the adversarial groups: one tests/attack/NAME.c each,
# a hostile VFIO user (threads, odd buffers, races); path.h and race.h
# hold the set-up each family shares.
ATTACKS := $(patsubst tests/attack/%.c,$(BUILD)/attack/%,$(wildcard tests/attack/*.c))
attack-tools: $(ATTACKS)

$(BUILD)/attack/%: tests/attack/%.c $(wildcard tests/attack/*.h) tests/client/edu.h | $(BUILD)/attack
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -Itests/client -Itests/attack -o $@ $< -lpthread

bpf-tests: $(BUILD)/policy-test $(BUILD)/trace-test $(BUILD)/bpf/bad_write.bpf.o

$(BUILD)/bpf/trace_test.bpf.o: tests/bpf/trace_test.h
$(BUILD)/trace-test: tests/bpf/trace_test.c tests/bpf/trace_test.h $(BUILD)/bpf/trace_test.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -I$(BUILD)/bpf -Iinclude -Itests/bpf -o $@ $< $(LIBBPF_LIBS)

$(BUILD)/policy-test: tests/bpf/policy_test.c $(BUILD)/bpf/policy_test.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -I$(BUILD)/bpf -Iinclude -o $@ $< $(LIBBPF_LIBS)

$(BUILD) $(BUILD)/vm $(BUILD)/bpf $(BUILD)/attack $(BUILD)/lib $(BUILD)/loader \
		$(BUILD)/tests/unit $(BUILD)/tests/host $(BUILD)/systemd $(BUILD)/udev $(BUILD)/man:
	$(Q)mkdir -p $@

vm-image: $(BUILD)/vm/initramfs.img

$(BUILD)/vm/initramfs.img: tests/vm/mkinitramfs.sh tests/vm/initramfs-init $(DEPS_STAMP) | $(BUILD)/vm
	$(call msg,GEN,$@)
	$(Q)tests/vm/mkinitramfs.sh $(KCACHE) $(GUEST_KVER) $@

# ---- units, udev rule, man pages -----------------------------------------

# The systemd units and the udev rule with this install's paths; make
# install (DESTDIR) copies them from build/systemd and build/udev.
UNIT_INS   := $(wildcard etc/systemd/*.service.in)
UNITS      := $(patsubst etc/systemd/%.in,$(BUILD)/systemd/%,$(UNIT_INS))
UDEV_RULES := $(BUILD)/udev/90-vfio-bpf.rules
SUBST      := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
units: $(UNITS) $(UDEV_RULES)

# The paths are in the products: a different SBINDIR makes them again.
$(BUILD)/systemd/.paths $(BUILD)/udev/.paths: FORCE | $(BUILD)/systemd $(BUILD)/udev
	$(Q)echo '$(SBINDIR) $(SYSCONFDIR)' | cmp -s - $@ || echo '$(SBINDIR) $(SYSCONFDIR)' >$@

$(BUILD)/systemd/%: etc/systemd/%.in $(BUILD)/systemd/.paths
	$(call msg,GEN,$@)
	$(Q)$(SUBST) $< >$@.tmp && mv $@.tmp $@

$(BUILD)/udev/%: etc/%.in $(BUILD)/udev/.paths
	$(call msg,GEN,$@)
	$(Q)$(SUBST) $< >$@.tmp && mv $@.tmp $@

# Man pages: one scdoc source each (man/NAME.SECTION.scd).
SCDOC    ?= scdoc
MAN_SRCS := $(wildcard man/*.scd)
MANS     := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
man: $(MANS)

$(BUILD)/man/%: man/%.scd | $(BUILD)/man
	$(call msg,SCDOC,$@)
	$(Q)$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

FORCE:
# Each kernel's own 9p and overlay modules.
vm-image-6.1: $(K61_INITRD)
$(K61_INITRD): tests/vm/mkinitramfs.sh tests/vm/initramfs-init $(K61_STAMP) | $(BUILD)/vm
	$(call msg,GEN,$@)
	$(Q)tests/vm/mkinitramfs.sh $(K61_KCACHE) $(K61_KVER) $@

# ---- install ------------------------------------------------------------

# make install [DESTDIR=...] [PREFIX=/usr]: the tools into SBINDIR, example
# policies into SYSCONFDIR/vfio-bpf/ (never policy.yaml itself), units, the
# udev rule, man pages, and the module's source with its dkms.conf into
# PREFIX/src/vfio-pci-bpf-VERSION/ (scripts/install.sh; it lists what it
# put in DATADIR/install.manifest, which make uninstall removes).
DKMS_NAME   := vfio-pci-bpf
DKMSSRCDIR  ?= $(PREFIX)/src/$(DKMS_NAME)-$(VFIO_BPF_VERSION)
INSTALL_ENV := DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SBINDIR='$(SBINDIR)' MANDIR='$(MANDIR)' \
	DATADIR='$(DATADIR)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' \
	UDEVRULESDIR='$(UDEVRULESDIR)' DKMSSRCDIR='$(DKMSSRCDIR)' \
	MANIFEST='$(DATADIR)/install.manifest' BUILD='$(BUILD)' VERSION='$(VFIO_BPF_VERSION)'

# Units, rule and man pages with this install's paths are made in their
# own build directory, so that an install never changes build/systemd and
# build/udev under a test reading them.
INSTALL_GEN := $(BUILD)/install-gen
install: tools
	$(Q)$(SUBMAKE) man units PREFIX='$(PREFIX)' SBINDIR='$(SBINDIR)' SYSCONFDIR='$(SYSCONFDIR)' \
		BUILD='$(INSTALL_GEN)'
	$(Q)$(INSTALL_ENV) GEN='$(INSTALL_GEN)' sh scripts/install.sh install

uninstall:
	$(Q)$(INSTALL_ENV) sh scripts/install.sh uninstall

# A real dkms build of the installed module source for each kernel whose
# headers are in .cache (scripts/dkms-build.sh; t-install.sh checks what
# came out, t-packages.sh loads the 6.12 one into the guest's dkms).
# One KVER=HEADERS-DIR word per kernel: 6.1 joins when versions.env names
# it and make deps unpacked it.
DKMS_OUT     := $(BUILD)/dkms-test
DKMS_KERNELS := $(GUEST_KVER)=$(GUEST_KDIR)
DKMS_KERNELS += $(if $(wildcard $(K61_KDIR)/Makefile),$(K61_KVER)=$(K61_KDIR))
dkms-build: $(DKMS_OUT)/.built
$(DKMS_OUT)/.built: $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) kmod/Kbuild kmod/Makefile \
		kmod/dkms.conf.in $(wildcard include/*.h) versions.env scripts/dkms-build.sh \
		scripts/install.sh $(TOOLS) $(DEPS_STAMP)
	$(call msg,DKMS,"build for $(foreach k,$(DKMS_KERNELS),$(firstword $(subst =, ,$(k))))")
	$(Q)scripts/dkms-build.sh $(DKMS_OUT) $(DKMS_KERNELS)
	$(Q)touch $@

# The Debian packages, built from the tracked files (git archive of HEAD and
# of the work tree's changes) in build/deb/src, so that nothing outside the
# tree is written: build/deb/vfio-bpf_*.deb, build/deb/vfio-bpf-dkms_*.deb.
# VMLINUX_BTF: the BTF the BPF programs' vmlinux.h is made from (here the
# test bed kernel's; debian/rules defaults to the build machine's).
# Rebuilt when a tracked file changed.
DEB_DIR := $(BUILD)/deb
DEBS    := $(DEB_DIR)/vfio-bpf_$(VFIO_BPF_VERSION)_amd64.deb $(DEB_DIR)/vfio-bpf-dkms_$(VFIO_BPF_VERSION)_all.deb
debs: $(DEB_DIR)/.built
$(DEB_DIR)/.built: $(wildcard $(shell git ls-files 2>/dev/null)) $(DEPS_STAMP)
	$(call msg,DEB,"$(DEBS)")
	$(Q)scripts/build-debs.sh $(DEB_DIR) $(GUEST_KDIR)/vmlinux >/dev/null
	$(Q)touch $@

# ---- tests --------------------------------------------------------------

# New inputs go to build/fuzz/corpus; the committed seeds stay as they are.
FUZZ_TIME ?= 60
fuzz: deps-if-needed
	$(Q)$(SUBMAKE) $(BUILD)/fuzz-policy
	$(call msg,FUZZ,"policy compiler for $(FUZZ_TIME) s")
	$(Q)mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$(BUILD)/fuzz-policy -max_total_time=$(FUZZ_TIME) -timeout=10 -print_final_stats=1 \
		-dict=tests/fuzz/policy.dict -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus

# --strict, less the checks that the TRACE_EVENT() layout and a macro taking
# a struct member name always trip.
CHECKPATCH_IGNORE := OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT,MACRO_ARG_REUSE,MACRO_ARG_PRECEDENCE
# compat.h is where the version tests live (the one place), and its
# __assign_str() wrapper drops an argument for 6.10 and later.
CHECKPATCH_COMPAT_IGNORE := $(CHECKPATCH_IGNORE),LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED
checkpatch:
	$(Q)perl $(CHECKPATCH) --no-tree --strict --terse --show-types -q \
		--ignore $(CHECKPATCH_IGNORE) \
		-f $(filter-out %.mod.c kmod/compat.h,$(wildcard kmod/*.c kmod/*.h))
	$(Q)perl $(CHECKPATCH) --no-tree --strict --terse --show-types -q \
		--ignore $(CHECKPATCH_COMPAT_IGNORE) -f kmod/compat.h

check: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod kmod-6.1 client tools bpf-tests attack-tools unit-tests host-tests \
		vm-image vm-image-6.1 units man debs dkms-build
	$(Q)TOP=$(TOP) CHECKPATCH=$(CHECKPATCH) VM_KERNEL=$(KERNEL) tests/run-tests $(T)

demo: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod client tools bpf-tests unit-tests vm-image
	$(Q)tests/vm/run -n demo -t 900 -- sh tests/vm/demo.sh

bench: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod client tools bpf-tests unit-tests vm-image
	$(Q)VM_ICOUNT=1 tests/vm/run -n bench -t 2700 -e BENCH_RUNS=$(BENCH_RUNS) \
		$(if $(BENCH_LOOPS),-e BENCH_LOOPS=$(BENCH_LOOPS)) -- sh tests/vm/bench.sh
	$(Q)$(SUBMAKE) bench-exporter

# vfio_exporter at scale: synthetic devices on this machine (nothing
# loaded), then the real binary and maps in the guest (docs/benchmarks.md).
bench-exporter: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod client tools unit-tests vm-image $(BUILD)/exporter-scale
	$(Q)TOP=$(TOP) tests/host/bench-exporter.sh
	$(Q)VM_ICOUNT=1 tests/vm/run -n bench-exporter -t 1800 -- sh tests/vm/bench-exporter.sh

# vfio-trace's rate and losses: a 2-vCPU guest (the consumer on a CPU of its
# own) and a 1-vCPU one (sharing it), each with two ring buffer sizes.
bench-trace: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod client tools vm-image
	$(Q)VM_SMP=2 tests/vm/run -n bench-trace-smp2 -t 300 -- sh tests/vm/bench-trace.sh
	$(Q)tests/vm/run -n bench-trace-smp1 -t 300 -- sh tests/vm/bench-trace.sh
	$(Q)cat tests/vm/out/bench-trace-smp2/trace-rate.txt tests/vm/out/bench-trace-smp1/trace-rate.txt

vm-shell: deps-if-needed
	$(Q)$(SUBMAKE) guest-kmod client tools bpf-tests unit-tests vm-image
	$(Q)tests/vm/run -n shell -t 900 -- sh -c '$(CMD)'

clean:
	$(Q)-$(MAKE) -C kmod KDIR=$(KDIR) clean >/dev/null 2>&1
	$(Q)rm -rf $(BUILD) tests/vm/out

.PHONY: units man FORCE kmod-6.1 vm-image-6.1 fuzz core tools unit-tests bpf-tests attack-tools host-tests help deps deps-if-needed all kmod guest-kmod client vm-image checkpatch \
	check demo bench bench-exporter bench-trace vm-shell clean
