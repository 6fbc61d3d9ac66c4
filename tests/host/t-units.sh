#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The systemd units, the udev rule and the man pages, on the build machine
# (nothing is installed or started here): systemd-analyze verify and
# security, the pages rendered by man and groff without a warning, and
# every option of each tool's --help in its page and back, so that neither
# can drift.  usage: t-units.sh RESULTS-FILE
set -u

r=$1
TOP=${TOP:?}
cd "$TOP"

. "$TOP/tests/host/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- units ----------------------------------------------------------------

# verify needs the ExecStart= binaries: the build's, through SBINDIR (the
# substitution make install's units go through too), and the man pages
# Documentation= names, through MANPATH.
make -s units SBINDIR="$TOP/build" SYSCONFDIR=/etc BUILD="$tmp/b" >/dev/null 2>&1
u=$tmp/b/systemd
check "units: make units with SBINDIR=build/ substitutes every placeholder" \
	sh -c "test -s $u/vfio-bpf.service && test -s $u/vfio_exporter.service &&
	       test -s $tmp/b/udev/90-vfio-bpf.rules && ! grep -q '@[A-Z]*@' $u/*.service $tmp/b/udev/90-vfio-bpf.rules &&
	       grep -qx 'ExecStart=$TOP/build/vfio_exporter --listen 127.0.0.1:9466' $u/vfio_exporter.service"
for s in 4 5 8; do mkdir -p "$tmp/man/man$s"; done
for f in build/man/*.[458]; do ln -sf "$TOP/$f" "$tmp/man/man${f##*.}/"; done
check "units: systemd-analyze verify clean (both units, man: links resolved)" \
	sh -c "cd $u && out=\$(MANPATH=$tmp/man systemd-analyze verify ./vfio-bpf.service ./vfio_exporter.service 2>&1) &&
	       test -z \"\$out\" || { echo \"\$out\"; exit 1; }"
check "udev: the rule applies --keep -d %k from SBINDIR" \
	grep -q "RUN+=\"$TOP/build/vfio-bpf policy apply --keep --wait -d %k /etc/vfio-bpf/policy.yaml\"" \
	"$tmp/b/udev/90-vfio-bpf.rules"

# Exposure scores: measured here, and the ones docs/operations.md states.
for unit in vfio-bpf vfio_exporter; do
	score=$(systemd-analyze security --offline=yes "$u/$unit.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	echo "# systemd-analyze security $unit.service: $score"
	check "security: $unit.service exposure $score, at most 2.5" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }'
	check "security: docs/operations.md states $unit.service's score ($score)" \
		grep -q "^| \`$unit.service\` | $score |" docs/operations.md
done
check "units: the exporter keeps no capability but CAP_DAC_READ_SEARCH, as a dynamic user" \
	sh -c "grep -qx 'CapabilityBoundingSet=CAP_DAC_READ_SEARCH' $u/vfio_exporter.service &&
	       grep -qx 'AmbientCapabilities=CAP_DAC_READ_SEARCH' $u/vfio_exporter.service &&
	       grep -qx 'DynamicUser=yes' $u/vfio_exporter.service &&
	       grep -qx 'NoNewPrivileges=yes' $u/vfio_exporter.service &&
	       grep -qx 'ProtectSystem=strict' $u/vfio_exporter.service"

# --- man pages --------------------------------------------------------------

for page in vfio-bpf.8 vfio-trace.8 vfio_exporter.8 vfio-bpf-policy.5 vfio_pci_bpf.4; do
	f=build/man/$page
	if [ ! -s "$f" ]; then
		fail "man: $f not built (make man)"
		continue
	fi
	check "man: $page renders with man -l, no warning" \
		sh -c "out=\$(MANWIDTH=80 man -l $f 2>&1 >/dev/null); test -z \"\$out\" || { echo \"\$out\"; exit 1; }
		       MANWIDTH=80 man -l $f | grep -q '^NAME'"
	check "man: $page passes groff -ww -z -man" \
		sh -c "out=\$(groff -ww -z -man $f 2>&1); test -z \"\$out\" || { echo \"\$out\"; exit 1; }"
	for sec in 'SEE ALSO' FILES; do
		check "man: $page has $sec" grep -q "^\\.SH $sec" "$f"
	done
	case $page in *.8)
		for sec in 'EXIT STATUS' EXAMPLES OPTIONS; do
			check "man: $page has $sec" grep -q "^\\.SH $sec" "$f"
		done ;;
	esac
done

# Options: --help's and the page's OPTIONS, both ways.
help_opts() {	# the long options argp lists, one a line
	"$TOP/build/$1" --help | sed -n 's/^ *\(-[^ ,-], \)\{0,1\}--\([a-z-]*\).*/\2/p' | sort -u
}
page_opts() {	# the long options the page's OPTIONS section defines
	sed -n '/^# OPTIONS/,/^# /p' "man/$1.8.scd" | sed -n 's/^\*-[^*]*\*, \*--\([a-z-]*\)\*.*/\1/p; s/^\*--\([a-z-]*\)\*.*/\1/p' | sort -u
}
for tool in vfio-bpf vfio-trace vfio_exporter; do
	help_opts "$tool" >"$tmp/$tool.help"
	page_opts "$tool" >"$tmp/$tool.page"
	check "options: $tool --help lists options ($(wc -l <"$tmp/$tool.help"))" test -s "$tmp/$tool.help"
	check "options: every option of $tool --help is in $tool(8), and no other" \
		diff -u "$tmp/$tool.help" "$tmp/$tool.page"
	# And each short form as argp has it.
	"$TOP/build/$tool" --help | sed -n 's/^ *\(-[^ ,-]\), --\([a-z-]*\).*/\1 \2/p' >"$tmp/$tool.short"
	bad=$(while read -r s l; do
		grep -qF -- "*$s*, *--$l*" "man/$tool.8.scd" || echo "$s/--$l"
	done <"$tmp/$tool.short")
	check "options: $tool(8) gives each short form ($(wc -l <"$tmp/$tool.short"))" test -z "$bad"
done

# The policy the page shows is one vfio-bpf accepts (policy check loads nothing).
sed -n '/^# EXAMPLE/,/^# FILES/p' man/vfio-bpf-policy.5.scd | sed -n '/^```$/,/^```$/p' | sed '/^```$/d' >"$tmp/ex.yaml"
check "man: vfio-bpf-policy(5)'s example passes vfio-bpf policy check" \
	build/vfio-bpf policy check "$tmp/ex.yaml"
