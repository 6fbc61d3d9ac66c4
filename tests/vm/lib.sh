# SPDX-License-Identifier: GPL-2.0
#
# Helpers for test scripts that run inside the test bed guest (sourced).
# Verdict lines ("PASS: ..." / "FAIL: ...") go to stdout and to
# $VFIOBPF_OUT/results, which the host runner counts.

TOP=${VFIOBPF_TOP:?run under tests/vm/run}
OUT=${VFIOBPF_OUT:-/tmp}
BUILD=$TOP/build
CLIENT=$BUILD/vfio-client
KMOD=$TOP/kmod/vfio_pci_bpf.ko
# A guest on another kernel than the default (make check KERNEL=6.1, the
# k61 group) loads the module built for it (make kmod-6.1), on the stock
# core: the patched one of docs/upstream/ is for 6.12 only.
if [ -r "$BUILD/kmod-$(uname -r)/vfio_pci_bpf.ko" ]; then
	KMOD=$BUILD/kmod-$(uname -r)/vfio_pci_bpf.ko
	VFIO_CORE=stock
fi
RESULTS=$OUT/results
: >>"$RESULTS"

EDU0=0000:00:04.0
EDU1=0000:00:05.0
IGB=0000:00:06.0

pass() { echo "PASS: $*" | tee -a "$RESULTS"; }
fail() { echo "FAIL: $*" | tee -a "$RESULTS"; }
note() { echo "# $*"; }

# check NAME COMMAND...: PASS when COMMAND succeeds.
check() {
	name=$1; shift
	if "$@" >"$OUT/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name (exit $?: $(tail -c 300 "$OUT/check.out" | tr '\n' ' '))"
	fi
}

# Who drives the device now ("none" when unbound).
driver_of() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo none
	fi
}

unbind() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
}

# bind BDF DRIVER: through driver_override, as an operator would.
bind() {
	unbind "$1" || return 1
	echo "$2" >"/sys/bus/pci/devices/$1/driver_override" || return 1
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$1")" = "$2" ] || {
		echo "bind $1 to $2: bound to $(driver_of "$1")" >&2
		return 1
	}
}

# vfio-pci-core with the patch series of docs/upstream/ (make core).
CORE_KO=$BUILD/core/tree/drivers/vfio/pci/vfio-pci-core.ko

# Load the VFIO stack and our module (once).  The core is the patched one
# (kernel-copy entry points, which policies need) unless VFIO_CORE=stock;
# Debian's own vfio-pci loads on top of either.
load_modules() {
	if ! grep -q '^vfio_pci_core ' /proc/modules; then
		if [ "${VFIO_CORE:-patched}" = stock ]; then
			modprobe vfio-pci-core || return 1
		else
			modprobe vfio || return 1
			modprobe irqbypass || return 1
			insmod "$CORE_KO" || return 1
		fi
	fi
	modprobe vfio-pci || return 1
	if ! grep -q '^vfio_pci_bpf ' /proc/modules; then
		insmod "$KMOD" || return 1
	fi
}

# client LABEL BDF [CHECK...]: run the VFIO client, keep its transcript in
# $OUT/LABEL.txt and report each of its verdicts prefixed with LABEL.
client() {
	label=$1; shift
	mkdir -p "$OUT/$(dirname "$label")"
	"$CLIENT" "$@" >"$OUT/$label.txt" 2>"$OUT/$label.err"
	rc=$?
	sed -n "s#^\(PASS\|FAIL\): #\1: $label: #p" "$OUT/$label.txt" | tee -a "$RESULTS"
	if [ $rc -eq 2 ]; then
		fail "$label: client could not open the device: $(tr '\n' ' ' <"$OUT/$label.err")"
	fi
	return $rc
}

# same_transcript NAME A B: the two client runs saw the same device.
same_transcript() {
	if ! grep -q '^PASS' "$OUT/$2.txt" || ! grep -q '^PASS' "$OUT/$3.txt"; then
		fail "$1: a transcript has no passing check"
	elif diff -u "$OUT/$2.txt" "$OUT/$3.txt" >"$OUT/$1.diff"; then
		pass "$1"
	else
		fail "$1: transcripts differ:"
		cat "$OUT/$1.diff"
	fi
}

POLICY=$BUILD/policy-test
PIN=/sys/fs/bpf/vfio-bpf-test

# op BDF OPERATION...: run client operations in one open of the device
# and print the result of the last ("0x5a", "error EPERM", or
# "open failed: ...").  The device is closed in between invocations, and
# closing resets some state (bus master), so related steps go together.
op() {
	_bdf=$1; shift
	_r=$("$CLIENT" "$_bdf" "$@" 2>"$OUT/op.err")
	if [ $? -eq 2 ]; then
		echo "open failed: $(tail -n 1 "$OUT/op.err")"
	else
		printf '%s\n' "$_r" | sed -n "s/^  [^ ]*: //p" | tail -n 1
	fi
}

# expect NAME WANT BDF OPERATION...: the last operation's result is WANT.
expect() {
	_name=$1 _want=$2; shift 2
	_got=$(op "$@")
	if [ "$_got" = "$_want" ]; then
		pass "$_name"
	else
		shift
		fail "$_name: $* gave '$_got', want '$_want'"
	fi
}

# attach BDF PIN-NAME [RULES...]: attach the test policy, pinned.
attach() {
	_bdf=$1 _pin=$2; shift 2
	mkdir -p "$PIN"
	"$POLICY" "$@" "$_bdf" "$PIN/$_pin"
}

detach() { rm -f "$PIN/$1"; }
