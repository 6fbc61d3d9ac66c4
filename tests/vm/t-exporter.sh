#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio_exporter against a known workload: exact counter values scraped with
# curl, growing across scrapes; the page passes promtool; a real Prometheus
# scrapes it and answers queries with the same values; device_info follows
# binds and unbinds (an edu device, an igb VF); clear errors without the
# module and on a taken port; 404 and 405.

. "$(dirname "$0")/lib.sh"

EXP=$BUILD/vfio_exporter
URL=http://127.0.0.1:9466
PROM=http://127.0.0.1:9090

# has TEXT PATTERN: TEXT contains PATTERN (a fixed string).
has() { printf '%s' "$1" | grep -qF -e "$2"; }

# exp_start NAME ARGS...: the exporter in the background, until it serves
# (or dies); its pid in EXP_PID.
exp_start() {
	_n=$1; shift
	"$EXP" "$@" >"$OUT/$_n.out" 2>"$OUT/$_n.err" &
	EXP_PID=$!
	_i=0
	while ! grep -q 'serving' "$OUT/$_n.err" 2>/dev/null && [ $_i -lt 600 ] &&
		kill -0 "$EXP_PID" 2>/dev/null; do
		sleep 0.1; _i=$((_i + 1))
	done
	grep -q 'serving' "$OUT/$_n.err"
}

# scrape NAME [URL]: GET /metrics into $OUT/NAME.prom, headers in NAME.hdr.
scrape() {
	curl -sf -D "$OUT/$1.hdr" -o "$OUT/$1.prom" "${2:-$URL}/metrics"
}

# val NAME SERIES: the value of SERIES (name{labels} as on the page).
val() {
	awk -v s="$2 " 'index($0, s) == 1 { print substr($0, length(s) + 1); n++ }
		END { if (!n) print "missing" }' "$OUT/$1.prom"
}

# expect_vals NAME WHAT SERIES=VALUE...: each series has exactly that value.
expect_vals() {
	_n=$1 _what=$2; shift 2
	for _sv in "$@"; do
		_s=${_sv%=*} _want=${_sv##*=}
		_got=$(val "$_n" "$_s")
		if [ "$_got" = "$_want" ]; then
			pass "$_what: $_s = $_want"
		else
			fail "$_what: $_s is '$_got', want $_want"
		fi
	done
}

# tmark LABEL: the time a section starts, in $OUT/times.txt (the group's budget).
tmark() { echo "$(cut -d' ' -f1 /proc/uptime) $1" >>"$OUT/times.txt"; }
: >"$OUT/times.txt"

ops() { printf 'vfio_operations_total{bdf="%s",op="%s"}' "$1" "$2"; }
errs() { printf 'vfio_operation_errors_total{bdf="%s",op="%s"}' "$1" "$2"; }
E0=$EDU0
touch_() { printf 'vfio_config_offsets_touched_total{bdf="%s",op="%s"}' "$E0" "$1"; }

# --- no module ----------------------------------------------------------------
out=$("$EXP" 2>&1); rc=$?
check "no module: vfio_exporter exits 1" test $rc -eq 1
check "no module: it says to load vfio_pci_bpf" \
	has "$out" "the vfio_pci_bpf module is not loaded"

check "modules load" load_modules
check "edu0 bound to vfio-pci-bpf" bind "$EDU0" vfio-pci-bpf
unbind "$EDU1"

tmark "start"
# --- start, and a page before any workload -----------------------------------
check "exporter serves on 127.0.0.1:9466 by default" exp_start exp
MAIN_PID=$EXP_PID
check "it says where" grep -q '^vfio_exporter: serving http://127.0.0.1:9466/metrics' "$OUT/exp.err"
check "scrape 0 (idle)" scrape s0
expect_vals s0 "idle" \
	'vfio_device_info{bdf="0000:00:04.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1' \
	"$(ops $E0 open)=0" "$(ops $E0 config_read)=0" "$(errs $E0 ioctl)=0" \
	"vfio_exporter_build_info{version=\"$(sed -n 's/^VFIO_BPF_VERSION=//p' "$TOP/versions.env")\"}=1"
n=$(grep -c "^vfio_operations_total{bdf=\"$E0\",op=\"[a-z_]*\"} " "$OUT/s0.prom")
check "idle: all 12 operations of a bound device are there, at 0 ($n)" test "$n" -eq 12
n=$(grep -c "^vfio_operation_errors_total{bdf=\"$E0\"," "$OUT/s0.prom")
check "idle: all 12 error series too ($n)" test "$n" -eq 12
check "idle: edu1 (not bound) is absent" sh -c "! grep -q '$EDU1' '$OUT/s0.prom'"

# --- exact counts after a known workload, growing across scrapes ---------
# One open with one config read: 2 config reads at open + 1, 15 ioctls
# at open of which 2 fail (absent regions), 1 open, 1 close.
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "scrape 1" scrape s1
expect_vals s1 "one cfg-read open" \
	"$(ops $E0 open)=1" "$(ops $E0 close)=1" "$(ops $E0 config_read)=3" \
	"$(ops $E0 ioctl)=15" "$(errs $E0 ioctl)=2" "$(ops $E0 config_write)=0" \
	"$(ops $E0 bar_read)=0" "$(ops $E0 reset)=0" "$(errs $E0 open)=0" \
	"$(errs $E0 config_read)=0"
# Latency histograms: every access counted once, buckets cumulative.
lat() { printf 'vfio_access_duration_seconds_%s{bdf="%s",op="%s"}' "$1" "$E0" "$2"; }
expect_vals s1 "latency histogram" "$(lat count config_read)=3" "$(lat count ioctl)=15" \
	"vfio_access_duration_seconds_bucket{bdf=\"$E0\",op=\"config_read\",le=\"+Inf\"}=3"
check "latency histogram: buckets never decrease, +Inf last" awk '
	/^vfio_access_duration_seconds_bucket\{bdf="0000:00:04.0",op="ioctl"/ {
		if ($2 < last) bad = 1; last = $2; n++; inf = /le="\+Inf"/ }
	END { exit !(n == 22 && !bad && inf && last == 15) }' "$OUT/s1.prom"
check "latency histogram: _sum is positive seconds" \
	sh -c "test \"\$(awk '/^vfio_access_duration_seconds_sum\\{bdf=\"$E0\",op=\"ioctl\"/ { print (\$2 > 0 && \$2 < 10) }' '$OUT/s1.prom')\" = 1"
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "scrape 2" scrape s2
expect_vals s2 "two opens: counters grew" \
	"$(ops $E0 open)=2" "$(ops $E0 close)=2" "$(ops $E0 config_read)=6" \
	"$(ops $E0 ioctl)=30" "$(errs $E0 ioctl)=4"
check "scrape 3 without a workload" scrape s3
expect_vals s3 "no workload: counters unchanged" \
	"$(ops $E0 open)=2" "$(ops $E0 config_read)=6" "$(ops $E0 ioctl)=30"

# One config write and one BAR read; a reset, which the core refuses
# (EINVAL: an error); then MSI: 2 interrupts on vector 0, armed and
# disarmed (2 set_irqs).
"$CLIENT" "$E0" cfg-write:0x3c:1:0x5a bar-read:0x0 >/dev/null 2>&1
check "scrape 4a" scrape s4a
expect_vals s4a "one config write, one BAR read" \
	"$(ops $E0 open)=3" "$(ops $E0 config_write)=1" "$(errs $E0 config_write)=0" \
	"$(ops $E0 bar_read)=1" "$(errs $E0 bar_read)=0" "$(ops $E0 bar_write)=0"
"$CLIENT" "$E0" do-reset >/dev/null 2>&1
check "scrape 4b" scrape s4b
expect_vals s4b "a refused reset" "$(ops $E0 reset)=1" "$(errs $E0 reset)=1"
"$CLIENT" "$E0" msi >/dev/null 2>&1
check "scrape 4" scrape s4
expect_vals s4 "MSI" \
	"$(ops $E0 open)=5" "$(ops $E0 close)=5" "$(ops $E0 set_irqs)=2" \
	"$(errs $E0 set_irqs)=0" \
	'vfio_interrupts_total{bdf="0000:00:04.0",index="MSI",vector="0"}=2'
check "no interrupt series other than MSI vector 0" \
	test "$(grep -c '^vfio_interrupts_total{' "$OUT/s4.prom")" -eq 1
# Config-space offsets first touched: the one write (0x3c) so far; then two
# opens each reading the 64 dwords of 0x0-0xfc (the client's own reads at
# open are in dword 0): 64 new dwords each, the bits cleared at every open.
expect_vals s4a "offsets touched: the one config write" "$(touch_ config_write)=1"
t0=$(val s4 "$(touch_ config_read)") w0=$(val s4 "$(touch_ config_write)")
scan=""
for o in $(seq 0 4 252); do scan="$scan cfg-read:$(printf '0x%x' "$o"):4"; done
# shellcheck disable=SC2086
"$CLIENT" "$E0" $scan >/dev/null 2>&1
# shellcheck disable=SC2086
"$CLIENT" "$E0" $scan >/dev/null 2>&1
check "scrape 4c (two scans of 64 dwords)" scrape s4c
t1=$(val s4c "$(touch_ config_read)")
check "offsets touched: two scans of 64 dwords add 128 ($t0, then $t1)" \
	test "$((t1 - t0))" -eq 128
expect_vals s4c "offsets touched: scans write nothing" "$(touch_ config_write)=$w0"
# Policy: none attached to edu0, and the module's require_policy as sysfs says.
req=$(cat /sys/module/vfio_pci_bpf/parameters/require_policy)
[ "$req" = Y ] && req=1 || req=0
expect_vals s4c "policy" "vfio_policy_attached{bdf=\"$E0\"}=0" "vfio_policy_required=$req"

tmark "the text format"
# --- the text format -------------------------------------------------------------
check "Content-Type: text/plain; version=0.0.4; charset=utf-8" \
	grep -qix 'content-type: text/plain; version=0.0.4; charset=utf-8.' "$OUT/s4.hdr"
check "HTTP 200" grep -q '^HTTP/1.1 200' "$OUT/s4.hdr"
promtool check metrics <"$OUT/s4.prom" >"$OUT/promtool.out" 2>&1; rc=$?
check "promtool check metrics: exit 0 ($rc)" test $rc -eq 0
check "promtool check metrics: no error, no warning" sh -c "! test -s '$OUT/promtool.out'"
for f in vfio_device_info:gauge vfio_operations_total:counter \
	vfio_operation_errors_total:counter vfio_interrupts_total:counter \
	vfio_exporter_scrape_duration_seconds:gauge vfio_exporter_build_info:gauge \
	vfio_access_duration_seconds:histogram; do
	check "one HELP and one TYPE ${f#*:} for ${f%:*}" sh -c \
		"test \$(grep -c '^# HELP ${f%:*} ' '$OUT/s4.prom') -eq 1 &&
		 test \$(grep -cx '# TYPE ${f%:*} ${f#*:}' '$OUT/s4.prom') -eq 1"
done
check "every family's series together, after its TYPE" awk '
	/^# TYPE / { if ($3 in done) exit 1; fam = $3; type = $4; done[fam] = 1; next }
	/^#/ { next }
	{ n = $0; sub(/[{ ].*/, "", n)
	  if (type == "histogram") sub(/_(bucket|sum|count)$/, "", n)
	  if (n != fam) exit 1 }' "$OUT/s4.prom"
# Every family on the page is documented in docs/metrics.md (a heading, or
# a row of its migration table), and each documented one is on the page.
grep '^# TYPE ' "$OUT/s4.prom" | cut -d' ' -f3 | sort -u >"$OUT/families.page"
{
	sed -n 's/^### `\([a-z_]*\)[{`].*/\1/p' "$TOP/docs/metrics.md"
	sed -n 's/^| `\(vfio_[a-z_]*\)` | [a-z]* |.*/\1/p' "$TOP/docs/metrics.md"
} | sort -u >"$OUT/families.docs"
check "the families served are those docs/metrics.md documents ($(wc -l <"$OUT/families.page"))" \
	diff "$OUT/families.docs" "$OUT/families.page"
check "the page ends with a newline" test "$(tail -c 1 "$OUT/s4.prom" | od -An -c | tr -d ' ')" = '\n'
check "scrape duration is a positive number of seconds" \
	awk '/^vfio_exporter_scrape_duration_seconds / { ok = ($2 > 0 && $2 < 10) } END { exit !ok }' \
	"$OUT/s4.prom"
check "no pid or comm labels" sh -c "! grep -qi 'pid=\\|comm=' '$OUT/s4.prom'"

# --- other paths and methods --------------------------------------------------
code=$(curl -s -o "$OUT/index.html" -w '%{http_code}' "$URL/")
check "/ is 200 and links /metrics" sh -c "test $code = 200 && grep -q 'href=\"/metrics\"' '$OUT/index.html'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/nope")
check "unknown path is 404 ($code)" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics/x")
check "/metrics/x is 404 ($code)" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL/metrics")
check "POST is 405 ($code)" test "$code" = 405
code=$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/metrics")
check "HEAD /metrics is 200 ($code)" test "$code" = 200

tmark "port in use"
# --- port in use, another port -----------------------------------------------
out=$("$EXP" 2>&1); rc=$?
check "port in use: a second exporter exits 1" test $rc -eq 1
check "port in use: it names the address and the error" \
	has "$out" 'cannot listen on 127.0.0.1:9466: Address already in use'
check "port in use: it says to choose another port with -l" has "$out" 'another port with -l'
out=$("$EXP" -l 127.0.0.1 2>&1); rc=$?
check "bad -l: exits 2 ($rc)" test $rc -eq 2
check "bad -l: it names the value" has "$out" "'127.0.0.1' is not ADDR:PORT"
check "the first exporter still serves" scrape s5
# The second exporter stays up for the idle connections below (one start,
# one stop: each loads and detaches its programs, seconds in TCG).
IDLE_PID=""
if exp_start idle -l 127.0.0.1:9469; then
	IDLE_PID=$EXP_PID
	pass "-l 127.0.0.1:9469: a second exporter serves there"
	check "scrape on 9469" scrape p2 http://127.0.0.1:9469
	expect_vals p2 "-l 9469 (own maps, from zero)" \
		'vfio_device_info{bdf="0000:00:04.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1' \
		"$(ops $E0 open)=0"
else
	fail "-l 127.0.0.1:9469: $(cat "$OUT/idle.err")"
fi
if grep -q '00000000000000000000000000000001 01' /proc/net/if_inet6 2>/dev/null; then
	if exp_start exp6 -l '[::1]:9468'; then
		check "-l [::1]:9468: serves over IPv6" curl -sfg -o /dev/null 'http://[::1]:9468/metrics'
		kill -TERM "$EXP_PID"; wait "$EXP_PID"
	else
		fail "-l [::1]:9468: $(cat "$OUT/exp6.err")"
	fi
else
	note "no ::1 in the guest: IPv6 listening not checked"
fi

tmark "device_info follows binds and "
# --- device_info follows binds and unbinds ----------------------------------
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf
scrape b1
expect_vals b1 "edu1 bound" \
	'vfio_device_info{bdf="0000:00:05.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1' \
	"$(ops $EDU1 open)=0"
# The exporter reads what sysfs says of a device once per bind, keyed by
# the inode of the device's link in the driver's directory: the kernel
# must number a link made again afresh.
ino() { ls -id "/sys/bus/pci/drivers/vfio-pci-bpf/$1" 2>/dev/null | cut -d' ' -f1; }
s0=$(cat "/sys/bus/pci/devices/$EDU0/vfio_bpf_slot") s1=$(cat "/sys/bus/pci/devices/$EDU1/vfio_bpf_slot")
check "vfio_bpf_slot: each bound device has its own slot below 4096 ($s0, $s1)" \
	sh -c "test '$s0' -lt 4096 && test '$s1' -lt 4096 && test '$s0' != '$s1'"
# Readers read the slot array only below slots_given: every slot is.
sg=$(cat /sys/bus/pci/drivers/vfio-pci-bpf/slots_given)
check "slots_given is above every slot given ($sg > $s0, $s1) and few (< 16)" \
	sh -c "test '$sg' -gt '$s0' && test '$sg' -gt '$s1' && test '$sg' -lt 16"
expect_vals b1 "every device has a slot, none untracked" 'vfio_exporter_devices_without_slot=0' \
	'vfio_exporter_devices_untracked=0'
i1=$(ino "$EDU1")
unbind "$EDU1"
bind "$EDU1" vfio-pci >/dev/null 2>&1
scrape b1b
# The exporter's own counters are the module's: vfio-pci's devices need
# vfio-bpf load (below, "both drivers").
check "edu1 bound to vfio-pci: no device_info of it (own counters: the module's only)" \
	sh -c "! grep -q '^vfio_device_info{bdf=\"$EDU1\"' '$OUT/b1b.prom'"
unbind "$EDU1"
check "edu1 bound to vfio-pci-bpf again" bind "$EDU1" vfio-pci-bpf
i2=$(ino "$EDU1")
check "rebound: the driver link has a new inode ($i1, then $i2)" \
	sh -c "test -n '$i1' && test -n '$i2' && test '$i1' != '$i2'"
scrape b1c
expect_vals b1c "edu1 bound again" \
	'vfio_device_info{bdf="0000:00:05.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1'
"$CLIENT" "$EDU1" cfg-read:0x0:2 >/dev/null 2>&1
unbind "$EDU1"
scrape b2
check "edu1 unbound: its device_info is gone" sh -c "! grep -q '^vfio_device_info{bdf=\"$EDU1\"' '$OUT/b2.prom'"
expect_vals b2 "edu1 unbound: its counts stay, edu0 is still there" \
	"$(ops $EDU1 open)=1" "$(ops $EDU1 config_read)=3" \
	'vfio_device_info{bdf="0000:00:04.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1'

check "igb: modprobe" modprobe igb
echo 0 >"/sys/bus/pci/devices/$IGB/sriov_drivers_autoprobe"
check "igb: create 2 VFs" sh -c "echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
vf1=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn1")")
check "igb VF 1 ($vf1) bound to vfio-pci-bpf" bind "$vf1" vfio-pci-bpf
scrape v1
expect_vals v1 "VF bound: pf and vf labels" \
	"vfio_device_info{bdf=\"$vf1\",vendor=\"8086\",device=\"10ca\",driver=\"vfio-pci-bpf\",pf=\"$IGB\",vf=\"1\",mode=\"module\"}=1"
# The VF removed and made again at the same BDF, bound again between two
# scrapes: a new link, so read afresh.
i1=$(ino "$vf1")
check "igb: remove and re-create the VFs" \
	sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs && echo 2 >/sys/bus/pci/devices/$IGB/sriov_numvfs"
check "igb VF 1 ($vf1) bound to vfio-pci-bpf again" bind "$vf1" vfio-pci-bpf
i2=$(ino "$vf1")
check "VF re-created: the driver link has a new inode ($i1, then $i2)" \
	sh -c "test -n '$i1' && test -n '$i2' && test '$i1' != '$i2'"
scrape v1b
expect_vals v1b "VF re-created and bound: pf and vf labels" \
	"vfio_device_info{bdf=\"$vf1\",vendor=\"8086\",device=\"10ca\",driver=\"vfio-pci-bpf\",pf=\"$IGB\",vf=\"1\",mode=\"module\"}=1"
unbind "$vf1"
scrape v2
check "VF unbound: its device_info is gone" sh -c "! grep -q '^vfio_device_info{bdf=\"$vf1\"' '$OUT/v2.prom'"
check "igb: remove VFs" sh -c "echo 0 >/sys/bus/pci/devices/$IGB/sriov_numvfs"

tmark "a real Prometheus scrapes it"
# --- a real Prometheus scrapes it ------------------------------------------------
# wait_query QUERY WANT SECONDS: poll Prometheus until QUERY's single
# result is WANT; the last answer in $OUT/query.json.
wait_query() {
	_end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -lt $_end ]; do
		if curl -sfG -o "$OUT/query.json" "$PROM/api/v1/query" \
			--data-urlencode "query=$1" 2>/dev/null &&
			[ "$(jq -r '.data.result | length' "$OUT/query.json")" = 1 ] &&
			[ "$(jq -r '.data.result[0].value[1]' "$OUT/query.json")" = "$2" ]; then
			return 0
		fi
		sleep 0.5
	done
	echo "$1: want $2, last answer: $(cat "$OUT/query.json" 2>/dev/null)"
	return 1
}

cat >/tmp/prometheus.yml <<EOT
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vfio
    static_configs:
      - targets: ['127.0.0.1:9466']
EOT
check "promtool check config" promtool check config /tmp/prometheus.yml
rm -rf /tmp/prometheus-data
prometheus --config.file=/tmp/prometheus.yml --storage.tsdb.path=/tmp/prometheus-data \
	--web.listen-address=127.0.0.1:9090 >"$OUT/prometheus.log" 2>&1 &
prom=$!
t0=$(date +%s)
# Prometheus starts up (tens of seconds in TCG) while the idle connections
# are tested against the second exporter, mostly sleeping.
tmark "idle connections cannot starve"
# --- idle connections cannot starve a scrape ---------------------------------
# An unprivileged user holds 200 connections to a second exporter, sending a
# byte of a header now and then and reopening whatever is closed; scrapes
# must still be served within a few seconds.
ATK=$BUILD/attack/us-idleconn
if [ -n "$IDLE_PID" ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$ATK" -t 127.0.0.1 9469 200 12 >"$OUT/idleconn.txt" 2>&1 &
	atk=$!
	sleep 3
	ok=0
	for n in 1 2 3 4 5; do
		curl -sf -m 3 -o "$OUT/idle$n.prom" http://127.0.0.1:9469/metrics && ok=$((ok + 1))
		sleep 1
	done
	check "idle connections: 5 of 5 scrapes served within 3 s ($ok)" test $ok -eq 5
	check "idle connections: ... with the page" grep -q '^vfio_exporter_build_info' "$OUT/idle5.prom"
	wait $atk
	check "idle connections: the attack held connections ($(cat "$OUT/idleconn.txt"))" \
		sh -c "grep -q '^us-idleconn: [1-9][0-9]* of 200 connections held' '$OUT/idleconn.txt'"
	check "idle connections: the exporter still serves after" scrape idle6 http://127.0.0.1:9469
	kill -TERM "$IDLE_PID"; wait "$IDLE_PID"
	check "idle connections: the exporter exits 0 on SIGTERM" test $? -eq 0
else
	fail "idle connections: no exporter on 9469"
fi

tmark "prometheus queries"
check "prometheus: up{job=\"vfio\"} is 1" wait_query 'up{job="vfio"}' 1 120
note "prometheus scraped the exporter $(( $(date +%s) - t0 )) s after it started"
# What curl sees now is what Prometheus must come to.
scrape before_prom
cr=$(val before_prom "$(ops $E0 config_read)")
check "prometheus: config_read of edu0 is $cr, as the exporter says" \
	wait_query "vfio_operations_total{op=\"config_read\",bdf=\"$E0\"}" "$cr" 30
check "prometheus: MSI interrupts on vector 0 are 2" \
	wait_query 'vfio_interrupts_total{bdf="0000:00:04.0",index="MSI",vector="0"}' 2 30
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "prometheus: after one more open, config_read of edu0 is $((cr + 3))" \
	wait_query "vfio_operations_total{op=\"config_read\",bdf=\"$E0\"}" $((cr + 3)) 30
# The join of docs/metrics.md: only bound devices (edu0) have device_info.
check "prometheus: counters joined with device_info" wait_query \
	'sum(vfio_operations_total{op="config_read"} * on(bdf) group_left(vendor, device) vfio_device_info{vendor="1234"})' \
	$((cr + 3)) 10
# target_healthy: Prometheus's last scrape of the exporter went well.
target_healthy() {
	_end=$(( $(date +%s) + 30 ))
	while [ "$(date +%s)" -lt $_end ]; do
		curl -sf -o "$OUT/targets.json" "$PROM/api/v1/targets" &&
			[ "$(jq -r '.data.activeTargets[] | select(.labels.job == "vfio") |
				.health + "/" + .lastError' "$OUT/targets.json")" = "up/" ] &&
			return 0
		sleep 0.5
	done
	cat "$OUT/targets.json"
	return 1
}
check "prometheus: the target is healthy, no scrape error" target_healthy
kill -TERM "$prom"; wait "$prom"
check "prometheus stops cleanly" test $? -eq 0

tmark "stop"
# --- stop -------------------------------------------------------------------------
kill -TERM "$MAIN_PID"; wait "$MAIN_PID"
check "exits 0 on SIGTERM" test $? -eq 0
check "it logged nothing but where it served" test "$(wc -l <"$OUT/exp.err")" -eq 1
check "its BPF programs are gone" sh -c "! bpftool prog show | grep -q 'vft_'"
check "the port is free again" sh -c "! curl -s $URL/metrics"

tmark "counters pinned by vfio-bpf lo"
# --- counters pinned by vfio-bpf load: they outlive every reader ------------
VB=$BUILD/vfio-bpf
"$VB" load -L >"$OUT/load.txt" 2>&1
check "vfio-bpf load pins the counters" \
	grep -qx 'counters loaded, pinned at /sys/fs/bpf/vfio-bpf/counters' "$OUT/load.txt"
check "a second load says they are there" sh -c "'$VB' load | grep -q 'already loaded'"
check "vfio-bpf status lists them" sh -c "'$VB' status | grep -q '^counters: loaded'"
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "an exporter started after the workload" exp_start pinned1
check "... reads the pinned counters" grep -q 'reading the counters pinned at' "$OUT/pinned1.err"
check "scrape p1" scrape p1
expect_vals p1 "pinned: counted before the exporter ran" \
	"$(ops $E0 open)=1" "$(ops $E0 config_read)=3" "$(lat count config_read)=3"
kill -TERM "$EXP_PID"; wait "$EXP_PID"
check "an exporter restarted" exp_start pinned2
check "scrape p2" scrape p2
expect_vals p2 "pinned: the same counts after a restart" \
	"$(ops $E0 open)=1" "$(ops $E0 config_read)=3"
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "scrape p3" scrape p3
expect_vals p3 "pinned: and growing" "$(ops $E0 open)=2" "$(ops $E0 config_read)=6"
kill -TERM "$EXP_PID"; wait "$EXP_PID"
check "vfio-bpf unload" sh -c "'$VB' unload | grep -qx 'counters unloaded'"
# Links and programs are released after an RCU grace period: wait for it.
gone() {
	_i=0
	while bpftool prog show | grep -q 'vft_' && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	! bpftool prog show | grep -q 'vft_'
}
check "no counting program is left" gone

echo 1 >/proc/sys/kernel/bpf_stats_enabled
vft_runs() {
	bpftool prog show | awk '/ name v[fs]t_/ {
		for (i = 1; i < NF; i++) if ($i == "run_cnt") s += $(i + 1) } END { print s + 0 }'
}
virtio_irqs() { awk '$NF == "virtio0-requests" { print $2 }' /proc/interrupts; }
host_reads() {
	echo 3 >/proc/sys/vm/drop_caches
	find "$TOP/docs" "$TOP/loader" "$TOP/lib" -type f -exec cat {} + >/dev/null
}
irq_cost() {	# irq_cost LABEL: interrupts raised and program runs meanwhile
	_r0=$(vft_runs) _i0=$(virtio_irqs)
	host_reads
	_r1=$(vft_runs) _i1=$(virtio_irqs)
	IRQS=$((_i1 - _i0)) RUNS=$((_r1 - _r0))
	echo "$1: $IRQS virtio interrupts, $RUNS vfio-bpf program runs" >>"$OUT/irq-cost.txt"
}
# vfio-bpf load without -L counts with one program on the counting event
# and times nothing: no histograms, the module reads no clock.  The same
# load, with --all-drivers, serves "both drivers" below (one load, one
# unload: seconds each in TCG).
"$VB" load --all-drivers >"$OUT/load-both.txt" 2>&1
check "load without -L: vft_op counts" sh -c "bpftool prog show | grep -q ' name vft_op '"
check "load without -L: no timed program" sh -c "! bpftool prog show | grep -q 'vft_op_timed'"
"$CLIENT" "$E0" cfg-read:0x0:2 >/dev/null 2>&1
check "an exporter on counts without latency" exp_start pinned3
check "scrape p4" scrape p4
expect_vals p4 "counts only" "$(ops $E0 open)=1" "$(ops $E0 config_read)=3" \
	"$(lat count config_read)=missing"
kill -TERM "$EXP_PID"; wait "$EXP_PID"
# --- interrupts of devices not assigned through VFIO run no program -------------
# The guest's root is a virtio device (virtio0) that interrupts for every
# request: reading files is a non-VFIO device raising interrupts.  With the
# counters loaded (the module's and the stock-kernel ones beside), bpf stats
# say how often any vfio-bpf program ran.
irq_cost "vfio-bpf load"
check "non-VFIO interrupts: virtio0 interrupted $IRQS times" test "$IRQS" -gt 50
check "... and no vfio-bpf program ran for any of them ($RUNS runs)" test "$RUNS" -eq 0
# --- both drivers at once: module counters and stock-kernel ones beside -----
# edu0 on stock vfio-pci, edu1 on vfio-pci-bpf: vfio-bpf load -A counts
# the module's devices with the module's programs and the others with the
# stock-kernel ones (which skip vfio-pci-bpf's), into the same maps: each
# device once, every family, interrupts included.
tmark "both drivers"
check "edu0 bound to stock vfio-pci" bind "$EDU0" vfio-pci
check "edu1 bound to vfio-pci-bpf" bind "$EDU1" vfio-pci-bpf
check "vfio-bpf load with the module: module counters, pinned" \
	grep -qx 'counters loaded, pinned at /sys/fs/bpf/vfio-bpf/counters' "$OUT/load-both.txt"
check "... and it says other drivers' devices are counted too" \
	grep -qx 'devices under other vfio-pci drivers counted too (stock-kernel programs)' \
	"$OUT/load-both.txt"
check "vfio-bpf status says both" sh -c "'$VB' status | grep -q '^counters: loaded.*(module; other vfio-pci drivers'"
check "both program sets are attached (vft_op and vst_read)" \
	sh -c "bpftool prog show | grep -q ' name vft_op ' && bpftool prog show | grep -q ' name vst_read '"
# One open of each with 10 config reads (the client's 2 at open and the
# 10), then MSI on each (3 config reads): 2 interrupts on vector 0, 2
# set_irqs.  The same counts for both, edu0's 1 open and 3 config reads
# of the plain load's check above (under vfio-pci-bpf) besides: neither
# device is counted twice.
reads=""
for i in 1 2 3 4 5 6 7 8 9 10; do reads="$reads cfg-read:0x0:4"; done
for d in "$EDU0" "$EDU1"; do
	# shellcheck disable=SC2086
	"$CLIENT" "$d" $reads >"$OUT/both-reads-$d.txt" 2>&1
	check "$d: the client made its 10 config reads" \
		test "$(grep -c '^  cfg-read:0x0:4: 0x11e81234$' "$OUT/both-reads-$d.txt")" -eq 10
	"$CLIENT" "$d" msi >"$OUT/both-msi-$d.txt" 2>&1
done
check "an exporter on both" exp_start both
check "... it says it counts vfio-pci's devices too" \
	grep -q 'reading the counters pinned at /sys/fs/bpf/vfio-bpf/counters (devices under vfio-pci too)' \
	"$OUT/both.err"
check "scrape m1" scrape m1
irq() { printf 'vfio_interrupts_total{bdf="%s",index="MSI",vector="0"}' "$1"; }
expect_vals m1 "both drivers" \
	'vfio_device_info{bdf="0000:00:04.0",vendor="1234",device="11e8",driver="vfio-pci",pf="",vf="",mode="stock"}=1' \
	'vfio_device_info{bdf="0000:00:05.0",vendor="1234",device="11e8",driver="vfio-pci-bpf",pf="",vf="",mode="module"}=1' \
	"$(ops $EDU0 open)=3" "$(ops $EDU0 close)=3" "$(ops $EDU0 config_read)=18" \
	"$(ops $EDU0 set_irqs)=2" "$(irq $EDU0)=2" \
	"$(ops $EDU1 open)=2" "$(ops $EDU1 close)=2" "$(ops $EDU1 config_read)=15" \
	"$(ops $EDU1 set_irqs)=2" "$(irq $EDU1)=2" \
	"$(errs $EDU0 config_read)=0" "$(errs $EDU1 config_read)=0"
check "both drivers: two interrupt series, no other" \
	test "$(grep -c '^vfio_interrupts_total{' "$OUT/m1.prom")" -eq 2
check "both drivers: device_info of each device once" \
	test "$(grep -c '^vfio_device_info{' "$OUT/m1.prom")" -eq 2
kill -TERM "$EXP_PID"; wait "$EXP_PID"
check "vfio-bpf unload (both)" sh -c "'$VB' unload | grep -qx 'counters unloaded'"
check "no counting program is left after the plain load" gone
unbind "$EDU1"

tmark "interrupts of devices not assi"
# The check can tell: stock-kernel mode still counts on the host-wide
# irq_handler_exit, whose program runs for every one of them.
"$BUILD/vfio-trace" -k -s >/dev/null 2>"$OUT/vt-k.err" &
vt=$!
_i=0
while ! grep -q tracing "$OUT/vt-k.err" && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
irq_cost "vfio-trace -k -s"
kill -INT $vt; wait $vt
# (About one run each: the two counters are read a moment apart.)
check "... while vfio-trace -k's irq_handler_exit program runs for them ($RUNS runs, $IRQS interrupts)" \
	test "$IRQS" -gt 0 -a "$RUNS" -ge $((IRQS * 9 / 10))
echo 0 >/proc/sys/kernel/bpf_stats_enabled


# --- stock-kernel counters: a host without the module ---------------------
# Plain vfio-bpf load without vfio_pci_bpf is stock-kernel mode (it says
# so): fexit programs on vfio_pci_core, the same pinned set, which the
# exporter reads unchanged, without the module.
tmark "stock"
check "rmmod vfio_pci_bpf" rmmod vfio_pci_bpf
"$VB" load >"$OUT/load-stock.txt" 2>&1
check "vfio-bpf load without the module says it takes stock-kernel mode" \
	grep -q '^vfio_pci_bpf is not loaded: counting devices under stock vfio-pci' "$OUT/load-stock.txt"
check "... and pins the stock-kernel counters" \
	grep -qx 'stock-kernel counters loaded, pinned at /sys/fs/bpf/vfio-bpf/counters' \
	"$OUT/load-stock.txt"
check "load --stock then says they are there" sh -c "'$VB' load --stock | grep -q 'already loaded'"
check "its programs are the vst_ ones, without a ring buffer" \
	sh -c "bpftool prog show | grep -q 'name vst_read' && ! bpftool prog show | grep -q ' name vft_' && ! bpftool map show | grep -q 'ringbuf'"
# One open with 10 config reads: the client's 2 at open and the 10.
# shellcheck disable=SC2086
"$CLIENT" "$E0" $reads >"$OUT/stock-reads.txt" 2>&1
check "the client made its 10 config reads" \
	test "$(grep -c '^  cfg-read:0x0:4: 0x11e81234$' "$OUT/stock-reads.txt")" -eq 10
check "an exporter without the module, on the stock-kernel counters" exp_start stock1
check "... it says stock-kernel mode" grep -q '(stock-kernel mode: devices under vfio-pci)' "$OUT/stock1.err"
check "scrape k1" scrape k1
expect_vals k1 "stock: one open, 10 config reads" \
	'vfio_device_info{bdf="0000:00:04.0",vendor="1234",device="11e8",driver="vfio-pci",pf="",vf="",mode="stock"}=1' \
	"$(ops $E0 open)=1" "$(ops $E0 close)=1" "$(ops $E0 config_read)=12" \
	"$(errs $E0 config_read)=0" "$(ops $E0 config_write)=0" "$(ops $E0 bar_read)=0" \
	'vfio_exporter_collector_success{collector="sysfs"}=1' \
	'vfio_exporter_collector_success{collector="policy"}=1' \
	"$(touch_ config_read)=1" "$(touch_ config_write)=0"
"$CLIENT" "$E0" cfg-write:0x3c:1:0x5a bar-read:0x0 bar-read:0x4 >/dev/null 2>&1
check "scrape k2" scrape k2
# Offsets touched: every access so far in dword 0 (reads) and 0x3c (the
# write); the second open cleared the bits, so dword 0 counts again.
expect_vals k2 "stock: one config write, two BAR reads" \
	"$(ops $E0 open)=2" "$(ops $E0 config_read)=14" "$(ops $E0 config_write)=1" \
	"$(ops $E0 bar_read)=2" "$(ops $E0 bar_write)=0" \
	"$(touch_ config_read)=2" "$(touch_ config_write)=1"
"$CLIENT" "$E0" msi >/dev/null 2>&1
check "scrape k3" scrape k3
expect_vals k3 "stock: MSI" "$(ops $E0 open)=3" "$(ops $E0 set_irqs)=2" "$(irq $E0)=2"
kill -TERM "$EXP_PID"; wait "$EXP_PID"
check "vfio-bpf unload (stock)" sh -c "'$VB' unload | grep -qx 'counters unloaded'"
check "the pins are gone" test ! -e /sys/fs/bpf/vfio-bpf/counters
_i=0
while bpftool prog show | grep -q 'name vst_' && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
check "no stock counting program is left" sh -c "! bpftool prog show | grep -q 'name vst_'"
out=$("$EXP" 2>&1); rc=$?
check "no module, no pins: vfio_exporter exits 1 ($rc)" test $rc -eq 1
check "... and points at vfio-bpf load for stock vfio-pci" has "$out" 'vfio-bpf load (stock-kernel mode)'
tmark "end"

unbind "$EDU0"
! grep -q '^FAIL' "$RESULTS"
