# SPDX-License-Identifier: GPL-2.0
#
# Nested QEMU inside the test bed guest (sourced by t-qemu.sh after lib.sh).
# The host's qemu-system-x86_64 and its firmware are visible through the 9p
# root.  Each nested QEMU is TCG, 64 MiB, no NIC but the assigned devices,
# paused (-S) with QMP on stdio: its stdin is a FIFO kept open by a sleeping
# writer, so one-shot writes of commands never give it EOF.  Writers open
# the FIFO read-write, which never blocks, so a QEMU that died cannot hang
# the test.
#
#   nq_start NAME ARGS...   start; ARGS are extra QEMU arguments
#   nq_hmp NAME COMMAND     an HMP command through QMP; prints its output
#   nq_qmp NAME JSON        a QMP command (no id); prints the reply line
#   nq_quit NAME            quit and reap; returns QEMU's exit status
#   nq_bios_wait NAME TEXT  wait (at most 30 s) for SeaBIOS to print TEXT
#
# Files: $NQ/NAME.qmp (QMP output), NAME.err (stderr), NAME.bios (SeaBIOS
# debug console, port 0x402); the FIFOs and sockets live in $NQRUN (the
# host's 9p share takes no FIFOs).

NQ=${NQ:-/tmp/nq}
NQRUN=${NQRUN:-/tmp/nq-run}
mkdir -p "$NQ" "$NQRUN"

nq_start() {
	_n=$1; shift
	rm -f "$NQRUN/$_n.in"
	mkfifo "$NQRUN/$_n.in"
	: >"$NQ/$_n.qmp"
	sleep 3600 1<>"$NQRUN/$_n.in" &
	echo $! >"$NQ/$_n.holder"
	# shellcheck disable=SC2086
	qemu-system-x86_64 -nodefaults -no-user-config -display none \
		-M q35,accel=tcg -cpu max -m 64M -S -no-reboot \
		-chardev file,id=dbg,path="$NQ/$_n.bios" \
		-device isa-debugcon,iobase=0x402,chardev=dbg \
		-qmp stdio "$@" <"$NQRUN/$_n.in" >"$NQ/$_n.qmp" 2>"$NQ/$_n.err" &
	echo $! >"$NQ/$_n.pid"
	echo 0 >"$NQ/$_n.id"
	_nq_wait "$_n" '"QMP"' 300 || return 1
	nq_qmp "$_n" '"execute": "qmp_capabilities"' >/dev/null
}

# _nq_wait NAME PATTERN TENTHS: PATTERN shows in NAME's QMP output.
_nq_wait() {
	_i=0
	while ! grep -qF "$2" "$NQ/$1.qmp"; do
		kill -0 "$(cat "$NQ/$1.pid")" 2>/dev/null || return 1
		[ $_i -ge "$3" ] && return 1
		sleep 0.1; _i=$((_i + 1))
	done
}

nq_qmp() {
	_id=$(($(cat "$NQ/$1.id") + 1))
	echo $_id >"$NQ/$1.id"
	printf '{%s, "id": %d}\n' "$2" "$_id" 1<>"$NQRUN/$1.in"
	_nq_wait "$1" "\"id\": $_id}" 600 || {
		echo "nq: $1: no reply to $2: $(tail -c 300 "$NQ/$1.err")" >&2
		return 1
	}
	grep -F "\"id\": $_id}" "$NQ/$1.qmp"
}

nq_hmp() {
	nq_qmp "$1" "\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"$2\"}" |
		jq -r '.return // .error.desc' | tr -d '\r'
}

nq_quit() {
	_pid=$(cat "$NQ/$1.pid")
	nq_qmp "$1" '"execute": "quit"' >/dev/null
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 200 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill -9 "$_pid" 2>/dev/null
	wait "$_pid"
	_rc=$?
	kill "$(cat "$NQ/$1.holder")" 2>/dev/null
	wait "$(cat "$NQ/$1.holder")" 2>/dev/null
	rm -f "$NQRUN/$1.in"
	return $_rc
}

nq_bios_wait() {
	_i=0
	while ! grep -qF "$2" "$NQ/$1.bios" 2>/dev/null; do
		[ $_i -ge 300 ] && return 1
		sleep 0.1; _i=$((_i + 1))
	done
}

# nq_bar NAME ID BAR: the guest-physical address QEMU's guest gave BAR of
# the device with qdev id ID (from query-pci), empty when unmapped.
nq_bar() {
	nq_qmp "$1" '"execute": "query-pci"' |
		jq -r --arg id "$2" --argjson bar "$3" \
		'.return[].devices[] | select(.qdev_id == $id) | .regions[] |
		 select(.bar == $bar) | .address | select(. != null and . != -1)'
}
