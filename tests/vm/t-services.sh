#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What the services do, in the guest (which has no systemd of its own):
#  - vfio-bpf.service's commands, stopped and started again: `load` keeps
#    the pinned counters, `policy watch --keep` leaves every policy in
#    force alone (same link, same program, its counts go on; the kernel's
#    view read back), and tells systemd READY=1 after its first apply;
#  - the udev rule (build/udev/, as make install installs it) run by a real
#    systemd-udevd, unpacked by make deps: a VF created and bound, and an
#    edu rebound, get their policy from it; with require_policy=1 the VF
#    cannot be opened until udev has applied it;
#  - vfio_exporter as an unprivileged user with exactly the capabilities
#    its unit gives it (read from the unit), scraped; without them it
#    fails and says what is missing.  vfio-bpf's commands under its unit's
#    bounding set;
#  - the system calls strace sees from load, policy watch and the exporter,
#    each within its unit's SystemCallFilter= (systemd-analyze expands it).

. "$(dirname "$0")/lib.sh"
. "$TOP/versions.env"

VB=$BUILD/vfio-bpf
EXP=$BUILD/vfio_exporter
UNIT_DIR=$BUILD/systemd
RULE=$BUILD/udev/90-vfio-bpf.rules
KPOL=/sys/bus/pci/drivers/vfio-pci-bpf/policies
UDEV=$TOP/.cache/udev-$(printf %s "$UDEV_DEB_VERSION" | tr '~' _)

# wait_for SECS COMMAND...: until COMMAND succeeds, at most SECS.
wait_for() {
	_n=$(($1 * 10)); shift
	while ! "$@" >/dev/null 2>&1; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
}
# The kernel's link id of BDF's policy, from the module's own list.
klink() { sed -n "s/^$1 link=\([0-9]*\) .*/\1/p" "$KPOL"; }
# What a link runs: a struct_ops link's map (its programs), or a program.
link_prog() { bpftool -j link show id "$1" 2>/dev/null | jq -r '.map_id // .prog_id // empty'; }
# The value of a unit's KEY= line.
unit_val() { sed -n "s/^$2=//p" "$UNIT_DIR/$1"; }
# CAP_A CAP_B -> +a,+b (setpriv's form)
caps_arg() { for c in $*; do printf '+%s,' "$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done | sed 's/,$//'; }

# Where the time goes (seconds of uptime, on the console).
mark() { note "$1 at $(cut -d' ' -f1 /proc/uptime)s"; }
mark start
# expand_filter @GROUP|NAME...: the system calls a SystemCallFilter= allows,
# one a line (systemd-analyze lists a group's members and its subgroups).
expand_filter() {
	_todo=$*; _seen=
	while [ -n "$_todo" ]; do
		set -- $_todo; _todo=
		for _g in "$@"; do
			case " $_seen " in *" $_g "*) continue ;; esac
			_seen="$_seen $_g"
			case $_g in
			@*) _todo="$_todo $(systemd-analyze syscall-filter "$_g" </dev/null 2>/dev/null |
				sed -n 's/^    \([-@a-z0-9_]*\)$/\1/p' | tr '\n' ' ')" ;;
			*) echo "$_g" ;;
			esac
		done
	done
}
# syscalls_ok UNIT STRACE-C-FILE...: every system call traced is one the
# unit's SystemCallFilter= allows (else it would get EPERM under systemd).
syscalls_ok() {
	_u=$1; shift
	expand_filter $(unit_val "$_u" SystemCallFilter) | sort -u >"$OUT/allowed.$_u"
	cat "$@" | awk '$NF ~ /^[a-z_0-9]+$/ && $NF != "syscall" && $NF != "total" { print $NF }' |
		sort -u >"$OUT/used.$_u"
	_bad=$(comm -23 "$OUT/used.$_u" "$OUT/allowed.$_u" | tr '\n' ' ')
	[ -s "$OUT/used.$_u" ] && [ -z "$_bad" ] || { echo "not allowed: $_bad"; return 1; }
}

check "modules load" load_modules
check "edu0 on vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
mkdir -p /etc/vfio-bpf
cat >/etc/vfio-bpf/policy.yaml <<'YAML'
version: 1
policies:
  - name: edu-svc
    match: { vendor: 0x1234, device: 0x11e8 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
  - name: vf-svc
    match: { pf: 0000:00:06.0 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
YAML
POL=/etc/vfio-bpf/policy.yaml

# --- vfio-bpf.service: ExecStartPre=vfio-bpf load, twice --------------------
# (its ExecStartPre/ExecStart, taken from the unit, under its bounding set)
bset=$(caps_arg $(unit_val vfio-bpf.service CapabilityBoundingSet))
note "vfio-bpf.service bounding set: $bset"
# A command, not a function, so that "$!" of a background one is its pid.
AS_UNIT="setpriv --bounding-set=-all,$bset --inh-caps=-all --"
as_unit() { $AS_UNIT "$@"; }
strace -f -qq -c -o "$OUT/load.strace" $AS_UNIT "$VB" load >"$OUT/load1.txt" 2>&1
check "load: counters pinned (under the unit's capabilities)" grep -q '^counters loaded' "$OUT/load1.txt"
map1=$(bpftool map show pinned /sys/fs/bpf/vfio-bpf/counters/counts | sed -n 's/^\([0-9]*\):.*/\1/p')
"$CLIENT" "$EDU0" cfg-read:0x0:2 >/dev/null 2>&1
as_unit "$VB" load >"$OUT/load2.txt" 2>&1; rc=$?
map2=$(bpftool map show pinned /sys/fs/bpf/vfio-bpf/counters/counts | sed -n 's/^\([0-9]*\):.*/\1/p')
check "load again (a restart): exit 0, says already loaded ($rc)" \
	sh -c "test $rc -eq 0 && grep -q '^counters already loaded' '$OUT/load2.txt'"
check "load again: the same counters map ($map1 = $map2)" test -n "$map1" -a "$map1" = "$map2"

mark "policy watch --keep"
# --- policy watch --keep, as systemd runs it (Type=notify) -----------------
start=$(unit_val vfio-bpf.service ExecStart)
check "the unit runs policy watch --keep on the policy file" \
	test "$start" = "/usr/local/sbin/vfio-bpf policy watch --keep /etc/vfio-bpf/policy.yaml" -o \
	     "${start#* }" = "policy watch --keep /etc/vfio-bpf/policy.yaml"
NS=/run/notify.sock
rm -f "$NS" "$OUT/notify.txt"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(30)
open(sys.argv[2] + ".up", "w").close()
m = s.recv(256)
open(sys.argv[2], "wb").write(m)' "$NS" "$OUT/notify.txt" &
wait_for 10 test -e "$OUT/notify.txt.up"
NOTIFY_SOCKET=$NS strace -f -qq -c -o "$OUT/watch.strace" $AS_UNIT "$VB" policy watch --keep "$POL" \
	>"$OUT/watch1.txt" 2>&1 &
w=$!
wait_for 20 grep -q watching "$OUT/watch1.txt"
wait_for 10 test -s "$OUT/notify.txt"
check "watch: edu0 got its policy at start" grep -qx "$EDU0: applied policy edu-svc" "$OUT/watch1.txt"
check "watch: READY=1 to NOTIFY_SOCKET after the first apply" \
	sh -c "test \"\$(cat '$OUT/notify.txt')\" = READY=1"
expect "watch: the policy is enforced" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
link1=$(klink "$EDU0"); prog1=$(link_prog "$link1")
denied1=$("$VB" policy show -d "$EDU0" | sed -n 's/.*denied \([0-9]*\),.*/\1/p')
# systemctl stop: SIGTERM (to the daemon; $w is the strace around it).
# The policy stays in force meanwhile.
kill -TERM $(pgrep -f '[v]fio-bpf policy watch --keep' | while read -r p; do
	[ "$(cat /proc/$p/comm)" = vfio-bpf ] && echo $p; done); wait $w; rc=$?
check "watch: SIGTERM, exit 0 ($rc)" test $rc -eq 0
expect "service stopped: the policy still enforced" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
denied2=$("$VB" policy show -d "$EDU0" | sed -n 's/.*denied \([0-9]*\),.*/\1/p')
$AS_UNIT "$VB" policy watch --keep "$POL" >"$OUT/watch2.txt" 2>&1 &
w=$!
wait_for 20 grep -q watching "$OUT/watch2.txt"
check "restart: watch --keep says the policy is unchanged" grep -qx "$EDU0: policy edu-svc unchanged" "$OUT/watch2.txt"
link2=$(klink "$EDU0"); prog2=$(link_prog "$link2")
check "restart: the same link in the kernel ($link1 = $link2)" test -n "$link1" -a "$link1" = "$link2"
check "restart: the same program, not a new one ($prog1 = $prog2)" test -n "$prog1" -a "$prog1" = "$prog2"
denied3=$("$VB" policy show -d "$EDU0" | sed -n 's/.*denied \([0-9]*\),.*/\1/p')
check "restart: the policy's counts go on ($denied1 -> $denied2 -> $denied3)" \
	test -n "$denied3" -a "$denied2" -gt "$denied1" -a "$denied3" = "$denied2"
kill -TERM $w; wait $w
# The contrast: --keep is no blanket skip.  A policy switched to monitor
# at run time differs from the file: --keep applies the file's, in place,
# with a new program (what a plain apply does at every restart).
"$VB" policy mode monitor -d "$EDU0" >/dev/null
"$VB" policy apply --keep -d "$EDU0" "$POL" >"$OUT/apply-mode.txt" 2>&1
prog3=$(link_prog "$(klink "$EDU0")")
check "--keep, the mode switched at run time: replaced in place by a new program ($prog2 -> $prog3)" \
	sh -c "grep -qx '$EDU0: replaced by policy edu-svc' '$OUT/apply-mode.txt' && test -n '$prog3' &&
	       test '$prog3' != '$prog2' && test '$(klink "$EDU0")' = '$link2'"
check "--keep: ... and back in the file's mode" grep -q "^$EDU0 enforce " /sys/bus/pci/drivers/vfio-pci-bpf/modes
bset_nosa=$(echo "$bset" | sed 's/+sys_admin,\{0,1\}//; s/,$//')
out=$(setpriv --bounding-set=-all,"$bset_nosa" --inh-caps=-all -- "$VB" policy apply -d "$EDU0" "$POL" 2>&1); rc=$?
check "without CAP_SYS_ADMIN policy apply fails, exit 1 ($rc)" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'cannot load the policy program'"

check "vfio-bpf.service: every system call of load and watch is in its SystemCallFilter=" \
	syscalls_ok vfio-bpf.service "$OUT/load.strace" "$OUT/watch.strace"

mark "vfio_exporter.service"
# --- vfio_exporter.service: the unit's user and capabilities ---------------
ecaps=$(caps_arg $(unit_val vfio_exporter.service AmbientCapabilities))
ebset=$(caps_arg $(unit_val vfio_exporter.service CapabilityBoundingSet))
note "vfio_exporter.service: ambient $ecaps, bounding $ebset"
check "exporter unit: DynamicUser, NoNewPrivileges, one capability" \
	sh -c "test '$(unit_val vfio_exporter.service DynamicUser)' = yes &&
	       test '$(unit_val vfio_exporter.service NoNewPrivileges)' = yes && test '$ecaps' = +dac_read_search"
# As a user that is not root (nobody), as DynamicUser= makes one.
as_exporter() {	# as_exporter CAPS: the setpriv command line
	_c=${1:+,$1}
	echo "setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs" \
		"--inh-caps=-all$_c --ambient-caps=-all$_c --bounding-set=-all$_c --"
}
"$CLIENT" "$EDU0" cfg-read:0x0:2 >/dev/null 2>&1
$(as_exporter "$ecaps") $(unit_val vfio_exporter.service ExecStart | sed "s|^[^ ]*/vfio_exporter|$EXP|") \
	>"$OUT/exp.out" 2>"$OUT/exp.err" &
e=$!
wait_for 20 curl -sf -o "$OUT/exp.prom" http://127.0.0.1:9466/metrics
check "exporter as uid 65534 with $ecaps only: reads the pinned counters" \
	grep -q '^vfio_exporter: reading the counters pinned at' "$OUT/exp.err"
check "exporter: its capabilities are the unit's, nothing else" \
	sh -c "grep -q '^CapEff:.*0000000000000004$' /proc/$e/status && grep -q '^Uid:.65534' /proc/$e/status"
opens=$(sed -n "s/^vfio_operations_total{bdf=\"$EDU0\",op=\"open\"} //p" "$OUT/exp.prom")
check "exporter: scraped, edu0's opens counted ($opens)" test "${opens:-0}" -ge 2
kill -TERM $e; wait $e; rc=$?
check "exporter: SIGTERM, exit 0 ($rc)" test $rc -eq 0
$(as_exporter "") "$EXP" >"$OUT/exp2.out" 2>"$OUT/exp2.err"; rc=$?
check "exporter without CAP_DAC_READ_SEARCH: exit 1 ($rc)" test $rc -eq 1
check "... and says what it lacks" grep -q 'run as root,' "$OUT/exp2.err"
check "... naming the capability" grep -q 'or with CAP_DAC_READ_SEARCH' "$OUT/exp2.err"
note "$(tr '\n' ' ' <"$OUT/exp2.err")"
# The system calls of a start, a scrape and a stop, against its filter.
strace -f -qq -c -o "$OUT/exp.strace" "$EXP" -l 127.0.0.1:9468 2>/dev/null &
st=$!
wait_for 30 curl -sf -o /dev/null http://127.0.0.1:9468/metrics
kill -TERM $(pgrep -f '[v]fio_exporter -l 127.0.0.1:9468' | while read -r p; do
	[ "$(cat /proc/$p/comm)" = vfio_exporter ] && echo $p; done); wait $st
check "vfio_exporter.service: every system call of a run is in its SystemCallFilter=" \
	syscalls_ok vfio_exporter.service "$OUT/exp.strace"
# root with no capability at all reads them too (it owns the pins).
setpriv --bounding-set=-all --inh-caps=-all -- "$EXP" -l 127.0.0.1:9467 >/dev/null 2>"$OUT/exp3.err" &
e=$!
wait_for 20 curl -sf -o /dev/null http://127.0.0.1:9467/metrics; rc=$?
check "exporter as root with no capability: serves the pinned counters ($rc)" \
	sh -c "test $rc -eq 0 && grep -q 'reading the counters pinned' '$OUT/exp3.err'"
kill -TERM $e; wait $e

mark "the udev rule"
# --- the udev rule, run by systemd-udevd ------------------------------------
# udev alone, no daemon of ours that could apply instead.
check "udev: no vfio-bpf or vfio_exporter left running" \
	sh -c "! pgrep -f 'vfio-bpf polic[y] watch|vfio_e[x]porter' >/dev/null"
check "udev: systemd-udevd unpacked by make deps ($UDEV)" test -x "$UDEV/bin/udevadm"
sbindir=$(sed -n 's/.*RUN+="\([^ ]*\)\/vfio-bpf .*/\1/p' "$RULE")
mkdir -p /etc/udev/rules.d "$sbindir"
ln -sf "$VB" "$sbindir/vfio-bpf"
# Only our rule: the host's other rules (if any) masked by name.
for f in /lib/udev/rules.d/*.rules /usr/lib/udev/rules.d/*.rules; do
	[ -e "$f" ] && ln -sf /dev/null "/etc/udev/rules.d/$(basename "$f")"
done
cp "$RULE" /etc/udev/rules.d/
mkdir -p /run/udev-bin
ln -sf "$UDEV/bin/udevadm" /run/udev-bin/systemd-udevd
ln -sf "$UDEV/bin/udevadm" /run/udev-bin/udevadm
export LD_LIBRARY_PATH=$UDEV/usr/lib/x86_64-linux-gnu/systemd
/run/udev-bin/systemd-udevd --debug >"$OUT/udevd.log" 2>&1 &
u=$!
wait_for 20 /run/udev-bin/udevadm control --ping
check "udev: systemd-udevd runs" kill -0 $u
"$VB" policy remove >/dev/null 2>&1
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
# A VF created now and bound, with udev holding its rules back first.
modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
echo 1 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
/run/udev-bin/udevadm settle -t 20
/run/udev-bin/udevadm control --stop-exec-queue
check "udev: VF 0 ($vf0) bound to vfio-pci-bpf" bind "$vf0" vfio-pci-bpf
# The bind's uevent is queued, not run (a rule run would show at once).
wait_for 5 /run/udev-bin/udevadm control --ping
sleep 0.3
check "udev held back: no policy for the VF in the kernel" sh -c "! grep -q '^$vf0 ' $KPOL"
out=$(op "$vf0" cfg-read:0x0:2)
check "require_policy=1: the VF cannot be opened before udev ran ($out)" \
	sh -c "echo '$out' | grep -q 'Operation not permitted'"
/run/udev-bin/udevadm control --start-exec-queue
wait_for 30 grep -q "^$vf0 link=[0-9]* state=bound" "$KPOL"
check "udev: the rule gave the VF its policy (the kernel's list)" grep -q "^$vf0 link=[0-9]* state=bound" "$KPOL"
check "udev: the rule ran vfio-bpf policy apply --keep --wait -d $vf0" \
	grep -q "policy apply --keep --wait -d $vf0" "$OUT/udevd.log"
expect "udev: now the VF opens" "0x8086" "$vf0" cfg-read:0x0:2
expect "udev: ... and its policy holds" "error EPERM" "$vf0" cfg-write:0x3c:1:0x5a
"$VB" status >"$OUT/status.txt" 2>&1
check "status: vf-svc active on the VF" grep -q "^  $vf0 8086:10ca vf of $IGB policy: vf-svc (active)$" "$OUT/status.txt"
# edu1 bound while another vfio-bpf holds the lock (a parallel apply):
# the rule's apply waits for it instead of failing.
flock /run/vfio-bpf.lock sleep 2 &
f=$!
sleep 0.2
check "udev: edu1 bound, the lock held by another vfio-bpf" bind "$EDU1" vfio-pci-bpf
sleep 0.5
check "udev: ... its apply waits while the lock is held" sh -c "! grep -q '^$EDU1 ' $KPOL"
wait $f
wait_for 30 grep -q "^$EDU1 link=" "$KPOL"
check "udev: edu1 got its policy once the lock was free (--wait)" grep -q "^$EDU1 link=" "$KPOL"
l1=$(klink "$EDU1")
# Rebound: the kernel kept its policy, the rule (--keep) leaves it alone.
unbind "$EDU1"
check "udev: edu1 rebound" bind "$EDU1" vfio-pci-bpf
/run/udev-bin/udevadm settle -t 20
check "udev: edu1's rebind kept the same link ($l1 = $(klink "$EDU1"))" test -n "$l1" -a "$l1" = "$(klink "$EDU1")"
check "udev: at the rebind the rule's apply said unchanged" \
	grep -qF "(out) '$EDU1: policy edu-svc unchanged'" "$OUT/udevd.log"
expect "udev: edu1 enforced" "error EPERM" "$EDU1" cfg-write:0x3c:1:0x5a
kill -TERM $u; wait $u

# No clean-up: the guest goes away with everything in it.
mark end
