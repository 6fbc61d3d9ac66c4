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
check "status: each device with its policy" grep -q "^  $EDU1 1234:11e8 policy: edu-lockdown$" "$OUT/status.txt"

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

# Remove.
"$VB" policy remove >"$OUT/remove.txt" 2>&1
check "remove: every policy detached" sh -c "! ls /sys/fs/bpf/vfio-bpf/devices/*/link 2>/dev/null"
expect "remove: VF 1 opens again" "0x7 mmap" "$vf1" region-flags
unbind "$vf1"
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_numvfs"
unbind "$EDU0"
i=0
while ! rmmod vfio_pci_bpf 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
check "rmmod once the policies are removed" sh -c "! grep -q '^vfio_pci_bpf ' /proc/modules"
! grep -q '^FAIL' "$RESULTS"
