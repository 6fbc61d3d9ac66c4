#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-bpf and YAML policies: apply, enforce, show, replace atomically,
# remove; matching by vendor:device, BDF and PF/VF index; and errors that
# name what is wrong and change nothing.

. "$(dirname "$0")/lib.sh"

VB=$BUILD/vfio-bpf

out=$("$VB" status 2>&1); rc=$?
check "no module: status says so and exits 1" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'vfio_pci_bpf: not loaded'"

cat >"$OUT/lockdown.yaml" <<'YAML'
version: 1
policies:
  - name: edu-lockdown
    match: { vendor: 0x1234, device: 0x11e8 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
      - { offset: 0x2c, read: 0xabcd1234 }
    bars:
      - { bar: 0, trap: true }
      - { bar: 0, offset: 0x4, size: 4, deny: write }
    interrupts: { msi: 0 }
    reset: deny
YAML
cat >"$OUT/relaxed.yaml" <<'YAML'
version: 1
policies:
  - name: edu0-relaxed
    match: { bdf: 0000:00:04.0 }
    config:
      - { offset: 0x04, size: 2, write: mask, mask: 0x0004 }
  - name: vf1-closed
    match: { pf: 0000:00:06.0, vf: 1 }
    open: deny
YAML
printf 'version: 1\npolicies:\n  - name: broken\n    config:\n      - { offset: 0x3c, write: nope }\n' \
	>"$OUT/broken.yaml"

out=$("$VB" policy apply "$OUT/lockdown.yaml" 2>&1); rc=$?
check "no module: apply refuses and says so" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'module is not loaded'"

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf

check "check: a valid file" "$VB" policy check "$OUT/lockdown.yaml"
"$VB" policy check "$OUT/broken.yaml" >"$OUT/broken.txt" 2>&1; rc=$?
check "check: a broken file exits 1" test $rc -eq 1
check "check: ... naming file:line:column and what is wrong" grep -qx \
	"$OUT/broken.yaml:5:32: write must be one of allow, deny, mask, not 'nope'" "$OUT/broken.txt"

"$VB" policy apply "$OUT/lockdown.yaml" >"$OUT/apply1.txt" 2>&1
check "apply: both edus get the vendor:device policy" \
	sh -c "grep -qx '$EDU0: applied policy edu-lockdown' '$OUT/apply1.txt' && grep -qx '$EDU1: applied policy edu-lockdown' '$OUT/apply1.txt'"
check "apply: pinned under /sys/fs/bpf/vfio-bpf" test -e "/sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link"

# Enforced, after vfio-bpf has exited.
before=$(op "$EDU0" cfg-read:0x3c:1)
expect "enforced: config write to 0x3c denied" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
expect "enforced: 0x3c unchanged" "$before" "$EDU0" cfg-read:0x3c:1
expect "enforced: 0x2c reads the substituted value" "0xabcd1234" "$EDU0" cfg-read:0x2c:4
expect "enforced: a 2-byte read gets the substituted low half" "0x1234" "$EDU0" cfg-read:0x2c:2
expect "enforced: a byte read of the high half" "0xab" "$EDU0" cfg-read:0x2f:1
expect "enforced: BAR0 trapped, no mmap advertised" "0x3 no-mmap" "$EDU0" region-flags
expect "enforced: BAR0 write to 0x4 denied" "error EPERM" "$EDU0" bar-write:0x4:0x1
expect "enforced: BAR0 read of 0x0 allowed" "0x10000ed" "$EDU0" bar-read:0x0
expect "enforced: MSI limited to 0 vectors" "error EPERM" "$EDU0" msi-on
expect "enforced: reset denied" "error EPERM" "$EDU0" do-reset
expect "enforced on edu1 too" "error EPERM" "$EDU1" cfg-write:0x3c:1:0x5a

"$VB" policy show -d "$EDU0" >"$OUT/show1.txt" 2>&1
check "show: the policy's name" grep -q '^  policy edu-lockdown$' "$OUT/show1.txt"
check "show: its rules" grep -q '^    config 0x03c+1    write:deny$' "$OUT/show1.txt"
check "show: counts 4 denials (config, BAR, MSI, reset) and 3 rewrites" \
	grep -q "^$EDU0: denied 4, rewritten 3$" "$OUT/show1.txt"
"$VB" status >"$OUT/status.txt" 2>&1
check "status: module and require_policy" grep -q '^module vfio_pci_bpf: loaded, require_policy=N$' "$OUT/status.txt"
check "status: each device with its policy, active in the kernel" \
	grep -q "^  $EDU1 1234:11e8 policy: edu-lockdown (active)$" "$OUT/status.txt"
check "status: the core the module runs on" grep -qx 'core: patched vfio-pci-core' "$OUT/status.txt"
check "show: the kernel has it attached" grep -q '^  state: active$' "$OUT/show1.txt"
check "pins: every directory root's, 0700" sh -c \
	"test \"\$(stat -c '%u %a' /sys/fs/bpf/vfio-bpf /sys/fs/bpf/vfio-bpf/devices \
	/sys/fs/bpf/vfio-bpf/devices/0000:00:04_0 | sort -u)\" = '0 700'"

# A broken file changes nothing.
out=$("$VB" policy apply "$OUT/broken.yaml" 2>&1); rc=$?
check "apply broken: exit 1 with file:line:column" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'broken.yaml:5:32:'"
expect "apply broken: the policy in force is untouched" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a

# Replace: atomic link update, new rules in force, the old ones gone.
"$VB" policy apply "$OUT/relaxed.yaml" >"$OUT/apply2.txt" 2>&1
check "replace: edu0 replaced by its BDF policy" grep -qx "$EDU0: replaced by policy edu0-relaxed" "$OUT/apply2.txt"
check "replace: edu1 matches nothing in the new file and keeps its policy" \
	grep -q "^$EDU1: no policy of .* matches (1234:11e8)$" "$OUT/apply2.txt"
expect "replace: 0x3c writable again" "0x5a" "$EDU0" cfg-write:0x3c:1:0x5a
v=$(op "$EDU0" cfg-write:0x4:2:0x0 cfg-write:0x4:2:0x6 cfg-read:0x4:2)
check "replace: the mask keeps bus master off ($v)" test $((v & 6)) -eq 2
expect "replace: edu1 still under lockdown" "error EPERM" "$EDU1" cfg-write:0x3c:1:0x5a

# Errors.
check "edu1 to stock vfio-pci" bind "$EDU1" vfio-pci
"$VB" policy remove -d "$EDU1" >/dev/null 2>&1
out=$("$VB" policy apply -d "$EDU1" "$OUT/lockdown.yaml" 2>&1); rc=$?
check "apply to a device under another driver: exit 1, says bind it first" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'bound to vfio-pci, not vfio-pci-bpf: bind it first'"
flock /run/vfio-bpf.lock sleep 3 &
sleep 0.5
out=$("$VB" policy apply "$OUT/lockdown.yaml" 2>&1); rc=$?
check "a second vfio-bpf at once: refused, says why" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'another vfio-bpf is changing policies'"
wait

# A VF, matched by its PF and index.
modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
echo 2 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf1=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn1")")
check "vf1 bound to vfio-pci-bpf" bind "$vf1" vfio-pci-bpf
"$VB" policy apply -d "$vf1" "$OUT/relaxed.yaml" >"$OUT/apply3.txt" 2>&1
check "VF 1 of the igb gets its policy" grep -qx "$vf1: applied policy vf1-closed" "$OUT/apply3.txt"
out=$(op "$vf1" region-flags)
check "VF 1 cannot be opened ($out)" sh -c "echo '$out' | grep -q 'Operation not permitted'"

# The daemon: a VF bound after it started gets its policy, and with
# require_policy=1 nobody opens a device before that.
"$VB" policy remove >/dev/null 2>&1
unbind "$vf1"
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
cat >"$OUT/vf-open.yaml" <<'YAML'
version: 1
policies:
  - name: vf-guarded
    match: { pf: 0000:00:06.0 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
YAML
"$VB" policy watch "$OUT/vf-open.yaml" >"$OUT/watch.txt" 2>&1 &
w=$!
i=0
while ! grep -q watching "$OUT/watch.txt" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "watch: the daemon starts" grep -q watching "$OUT/watch.txt"
bind "$vf1" vfio-pci-bpf
i=0
while ! grep -q "$vf1: applied" "$OUT/watch.txt" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "watch: the VF got its policy when it bound" grep -qx "$vf1: applied policy vf-guarded" "$OUT/watch.txt"
expect "watch: the policy is enforced" "error EPERM" "$vf1" cfg-write:0x3c:1:0x5a
kill -TERM $w; wait $w
check "watch: exits cleanly on SIGTERM" test $? -eq 0
echo 0 >/sys/module/vfio_pci_bpf/parameters/require_policy

# --- the policy follows the device: unbind/rebind, VF re-creation ---------
# The kernel keeps the policy of a device address (its sysfs "policies"
# file says so); the pins and the tools must agree with it.
KPOL=/sys/bus/pci/drivers/vfio-pci-bpf/policies
# A released link goes after a deferred work item: give it a moment.
kpol_empty() {
	_i=0
	while [ -n "$(cat "$KPOL")" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -z "$(cat "$KPOL")" ] || { cat "$KPOL"; return 1; }
}
check "lifecycle: edu0 back on vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
cat >"$OUT/life.yaml" <<'YAML'
version: 1
policies:
  - name: edu0-life
    match: { bdf: 0000:00:04.0 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
  - name: vf0-life
    match: { pf: 0000:00:06.0, vf: 0 }
    config:
      - { offset: 0x3c, size: 1, write: deny }
YAML
"$VB" policy apply -d "$EDU0" "$OUT/life.yaml" >"$OUT/life1.txt" 2>&1; rc=$?
check "lifecycle: edu0 policy applied ($rc)" grep -qx "$EDU0: applied policy edu0-life" "$OUT/life1.txt"
unbind "$EDU0"
check "unbound: the kernel keeps the policy" grep -q "^$EDU0 link=[0-9]* state=unbound$" "$KPOL"
"$VB" status >"$OUT/life-st1.txt" 2>&1
check "unbound: status says waiting" grep -q "^  $EDU0 policy: edu0-life (waiting: attached, the device is not bound" "$OUT/life-st1.txt"
"$VB" policy show -d "$EDU0" >"$OUT/life-show1.txt" 2>&1
check "unbound: show says waiting" grep -q '^  state: waiting' "$OUT/life-show1.txt"
check "rebind edu0" bind "$EDU0" vfio-pci-bpf
# Nothing applied since the bind: the kernel's own policy is in force.
expect "rebind: denied at the first open, before any apply" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
"$VB" status >"$OUT/life-st2.txt" 2>&1
check "rebind: status says active" grep -q "^  $EDU0 1234:11e8 policy: edu0-life (active)$" "$OUT/life-st2.txt"
"$VB" policy apply -d "$EDU0" "$OUT/life.yaml" >"$OUT/life2.txt" 2>&1; rc=$?
check "rebind: apply again updates it in place, exit 0 ($rc)" \
	sh -c "test $rc -eq 0 && grep -qx '$EDU0: replaced by policy edu0-life' '$OUT/life2.txt'"
echo 1 >/sys/module/vfio_pci_bpf/parameters/require_policy
unbind "$EDU0"
check "require_policy=1: rebind edu0" bind "$EDU0" vfio-pci-bpf
expect "require_policy=1: edu0 with its kept policy opens" "0x1234" "$EDU0" cfg-read:0x0:2
expect "require_policy=1: ... and the policy holds" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a

# A VF destroyed and made again (sriov_numvfs 2 -> 0 -> 2), require_policy=1.
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
check "VF 0 ($vf0) bound to vfio-pci-bpf" bind "$vf0" vfio-pci-bpf
"$VB" policy apply -d "$vf0" "$OUT/life.yaml" >"$OUT/life3.txt" 2>&1
check "VF 0 gets its policy" grep -qx "$vf0: applied policy vf0-life" "$OUT/life3.txt"
expect "VF 0: enforced" "error EPERM" "$vf0" cfg-write:0x3c:1:0x5a
unbind "$vf0"
unbind "$vf1"
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
check "VFs gone: the kernel keeps VF 0's policy" grep -q "^$vf0 link=[0-9]* state=unbound$" "$KPOL"
"$VB" status >"$OUT/life-st3.txt" 2>&1
check "VFs gone: status says waiting" grep -q "^  $vf0 policy: vf0-life (waiting" "$OUT/life-st3.txt"
echo 2 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
check "VF 0 re-created and bound" bind "$vf0" vfio-pci-bpf
check "VF 1 re-created and bound" bind "$vf1" vfio-pci-bpf
expect "re-created VF 0: opens under require_policy=1 (it has its policy)" "0x8086" "$vf0" cfg-read:0x0:2
expect "re-created VF 0: the policy is in force again" "error EPERM" "$vf0" cfg-write:0x3c:1:0x5a
"$VB" status >"$OUT/life-st4.txt" 2>&1
check "re-created VF 0: status says active" grep -q "^  $vf0 8086:10ca vf of $IGB policy: vf0-life (active)$" "$OUT/life-st4.txt"
echo 0 >/sys/module/vfio_pci_bpf/parameters/require_policy

# A link detached behind vfio-bpf's back: the pin is stale, apply replaces it.
check "bpftool link detach of edu0's pinned link" \
	bpftool link detach pinned /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link
check "detached: the kernel no longer lists it" sh -c "! grep -q '^$EDU0 ' $KPOL"
expect "detached: edu0 is unpoliced" "0x5a" "$EDU0" cfg-write:0x3c:1:0x5a
"$VB" status >"$OUT/life-st5.txt" 2>&1
check "detached: status says stale" grep -q "^  $EDU0 1234:11e8 policy: edu0-life (stale: the kernel has no such policy attached" "$OUT/life-st5.txt"
"$VB" policy show -d "$EDU0" >"$OUT/life-show2.txt" 2>&1
check "detached: show says stale, and what to do" sh -c \
	"grep -q '^  state: stale' '$OUT/life-show2.txt' && grep -q 'vfio-bpf policy apply replaces it' '$OUT/life-show2.txt'"
"$VB" policy apply -d "$EDU0" "$OUT/life.yaml" >"$OUT/life4.txt" 2>&1; rc=$?
check "stale: apply exits 0 ($rc)" test $rc -eq 0
check "stale: apply says it replaced the stale pin" grep -q "^$EDU0: the pinned policy was stale" "$OUT/life4.txt"
check "stale: ... and applied a fresh one" grep -qx "$EDU0: applied policy edu0-life" "$OUT/life4.txt"
expect "stale: the fresh policy is in force" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
check "stale: the kernel lists the new link" grep -q "^$EDU0 link=[0-9]* state=bound$" "$KPOL"
check "stale: status says active" sh -c "'$VB' status | grep -q '^  $EDU0 1234:11e8 policy: edu0-life (active)$'"

# policy watch: the uevent socket overflows (ENOBUFS) while it is stopped;
# a device bound meanwhile still gets its policy (a rescan), and it goes on.
"$VB" policy remove -d "$EDU1" >/dev/null 2>&1
unbind "$EDU1"
# A 64 KiB receive buffer (the default is 4 MiB) overflows in a few dozen.
VFIO_BPF_UEVENT_RCVBUF=65536 "$VB" policy watch "$OUT/lockdown.yaml" >"$OUT/watch2.txt" 2>&1 &
w=$!
i=0
while ! grep -q watching "$OUT/watch2.txt" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -STOP $w
i=0
while [ $i -lt 2000 ]; do echo change >"/sys/bus/pci/devices/$IGB/uevent"; i=$((i + 1)); done
bind "$EDU1" vfio-pci-bpf
kill -CONT $w
i=0
while ! grep -q "^$EDU1: applied" "$OUT/watch2.txt" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "watch: the overflow is logged" grep -q 'uevents were lost (the socket overflowed)' "$OUT/watch2.txt"
check "watch: edu1, bound during the overflow, got its policy" grep -qx "$EDU1: applied policy edu-lockdown" "$OUT/watch2.txt"
expect "watch: ... enforced" "error EPERM" "$EDU1" cfg-write:0x3c:1:0x5a
check "watch: still running after the overflow" kill -0 $w
kill -TERM $w; wait $w
check "watch: exits cleanly on SIGTERM after an overflow" test $? -eq 0

# Remove.
"$VB" policy remove >"$OUT/remove.txt" 2>&1
check "remove: every policy detached" sh -c "! ls /sys/fs/bpf/vfio-bpf/devices/*/link 2>/dev/null"
expect "remove: VF 1 opens again" "0x7 mmap" "$vf1" region-flags
check "remove: the kernel has no policy left" kpol_empty
unbind "$vf0"
unbind "$vf1"
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"

# --- pins in a directory an unprivileged user made ------------------------
# bpffs is mounted 1777 (sticky): anybody may make /sys/fs/bpf/vfio-bpf
# before root does.  vfio-bpf must refuse it rather than pin into it.
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
rm -rf /sys/fs/bpf/vfio-bpf
check "bpffs is mounted 1777" test "$(stat -c %a /sys/fs/bpf)" = 1777
check "nobody pre-creates the pin directory of edu0" \
	$NOBODY mkdir -p /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0
$NOBODY chmod 0777 /sys/fs/bpf/vfio-bpf /sys/fs/bpf/vfio-bpf/devices /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0
"$VB" policy apply -d "$EDU0" "$OUT/lockdown.yaml" >"$OUT/squat.txt" 2>&1; rc=$?
check "squatted: apply refuses, exit 1 ($rc)" test $rc -eq 1
check "squatted: ... naming the directory and its owner" \
	grep -q '^vfio-bpf: /sys/fs/bpf/vfio-bpf is owned by uid 65534, not root' "$OUT/squat.txt"
check "squatted: ... and saying what to do" grep -q 'rm -r /sys/fs/bpf/vfio-bpf' "$OUT/squat.txt"
check "squatted: nothing pinned in the user's directory" \
	sh -c "! ls -A /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0 | grep -q ."
check "squatted: nothing attached" sh -c "! grep -q '^$EDU0 ' $KPOL"
check "squatted: the directory left as it was (nobody's)" \
	test "$(stat -c %u /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0)" = 65534
out=$("$VB" policy show 2>&1); rc=$?
check "squatted: show refuses too, exit 1 ($rc)" \
	sh -c "test $rc -eq 1 && printf '%s' '$out' | grep -q 'owned by uid 65534'"
rm -rf /sys/fs/bpf/vfio-bpf
"$VB" policy apply -d "$EDU0" "$OUT/lockdown.yaml" >"$OUT/squat2.txt" 2>&1; rc=$?
check "cleared: apply makes root's own tree, exit 0 ($rc)" test $rc -eq 0
$NOBODY rm -f /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link 2>/dev/null
$NOBODY rm -rf /sys/fs/bpf/vfio-bpf 2>/dev/null
check "cleared: nobody cannot delete root's link" test -e /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link
check "cleared: ... the policy stays attached" grep -q "^$EDU0 link=[0-9]* state=bound$" "$KPOL"
expect "cleared: ... and in force" "error EPERM" "$EDU0" cfg-write:0x3c:1:0x5a
check "cleared: nobody cannot make a directory in the tree" \
	sh -c "! $NOBODY mkdir /sys/fs/bpf/vfio-bpf/devices/0000:00:05_0 2>/dev/null"
# A pin file of another user in root's tree is not trusted either.
"$VB" policy remove >/dev/null 2>&1
"$VB" policy apply -d "$EDU0" "$OUT/lockdown.yaml" >/dev/null 2>&1
chown 65534 /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link
"$VB" policy show -d "$EDU0" >"$OUT/badpin.txt" 2>&1
check "a pin owned by another user: refused" grep -q 'link is owned by uid 65534' "$OUT/badpin.txt"
chown 0 /sys/fs/bpf/vfio-bpf/devices/0000:00:04_0/link
"$VB" policy remove >/dev/null 2>&1
unbind "$EDU0"
unbind "$EDU1"
i=0
while ! rmmod vfio_pci_bpf 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
check "rmmod once the policies are removed" sh -c "! grep -q '^vfio_pci_bpf ' /proc/modules"
! grep -q '^FAIL' "$RESULTS"
