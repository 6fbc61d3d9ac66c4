#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# contrib/ on the build machine: the alert rules pass promtool check rules
# and their unit tests (and the tests fail when a rule is broken); the
# Grafana dashboard is valid JSON with a Prometheus data-source variable,
# and every metric its queries name is a family docs/metrics.md documents
# (t-exporter.sh checks in the guest that those are the ones served); the
# Kubernetes files parse as YAML and have the expected shape.
# usage: t-contrib.sh RESULTS-FILE
set -u

r=$1
TOP=${TOP:?}
cd "$TOP"
P=contrib/prometheus
G=contrib/grafana/vfio-bpf.json
K=contrib/kubernetes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$TOP/tests/host/lib.sh"

# --- alert rules -------------------------------------------------------------
check "rules: promtool check rules" promtool check rules "$P/vfio-bpf.rules.yml"
check "rules: promtool test rules (each alert fires on one series, not on another)" \
	sh -c "cd $P && promtool test rules vfio-bpf.rules.test.yml"
for a in VfioInterruptFlood VfioConfigSpaceScan VfioPolicyDenialBurst VfioDeviceLostPolicy \
	VfioPolicyMissing VfioExporterDown VfioExporterCollectorFailing VfioDevicesUntracked; do
	check "rules: $a is defined and unit-tested" sh -c \
		"grep -q '^      - alert: $a\$' $P/vfio-bpf.rules.yml &&
		 grep -q 'alertname: $a\$' $P/vfio-bpf.rules.test.yml"
done
# The tests can fail: a flood threshold above the test's rate, a lost
# policy alert that fires on every device without one.
cp "$P/vfio-bpf.rules.test.yml" "$tmp/"
sed 's/rate(vfio_interrupts_total\[1m\]) > 50000/rate(vfio_interrupts_total[1m]) > 500000/' \
	"$P/vfio-bpf.rules.yml" >"$tmp/vfio-bpf.rules.yml"
check "rules: the unit tests fail on a broken flood rule" \
	sh -c "cd $tmp && ! promtool test rules vfio-bpf.rules.test.yml >/dev/null 2>&1"
sed 's/vfio_policy_attached == 0 and max_over_time(vfio_policy_attached\[1h\]) == 1/vfio_policy_attached == 0/' \
	"$P/vfio-bpf.rules.yml" >"$tmp/vfio-bpf.rules.yml"
check "rules: the unit tests fail on a lost-policy rule that ignores the past" \
	sh -c "cd $tmp && ! promtool test rules vfio-bpf.rules.test.yml >/dev/null 2>&1"

# The families docs/metrics.md documents (its "### `name`" headings, and
# the rows of its migration table).
{
	sed -n 's/^### `\([a-z_]*\)[{`].*/\1/p' docs/metrics.md
	sed -n 's/^| `\(vfio_[a-z_]*\)` | [a-z]* |.*/\1/p' docs/metrics.md
} | sort -u >"$tmp/families"
check "docs/metrics.md lists families ($(wc -l <"$tmp/families"))" test -s "$tmp/families"
# known NAME...: every vfio_* NAME is a family, or a histogram's series of one.
known() {
	for n in "$@"; do
		case $n in vfio_*) ;; *) continue ;; esac
		b=$(printf '%s' "$n" | sed 's/_\(bucket\|sum\|count\)$//')
		grep -qx "$n" "$tmp/families" || grep -qx "$b" "$tmp/families" ||
			{ echo "unknown metric $n"; return 1; }
	done
}
# shellcheck disable=SC2046
check "rules: every metric the rules name is a family of docs/metrics.md" \
	known $(grep '^ *expr:' "$P/vfio-bpf.rules.yml" | grep -o 'vfio_[a-z_]*' | sort -u)

# --- the dashboard -----------------------------------------------------------
check "dashboard: valid JSON" jq -e . "$G"
check "dashboard: a Prometheus data-source variable" \
	jq -e '[.templating.list[] | select(.type == "datasource" and .query == "prometheus" and .name == "datasource")] | length == 1' "$G"
check "dashboard: every panel queries through that variable" \
	jq -e '[.panels[] | select(.type != "row") | .datasource.uid] | all(. == "${datasource}")' "$G"
check "dashboard: unique panel ids, uid and title set" \
	jq -e '([.panels[].id] | length) == ([.panels[].id] | unique | length) and .uid != null and .title != null and .schemaVersion >= 30' "$G"
jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$G" >"$tmp/exprs"
jq -r '.templating.list[] | select(.type == "query") | .definition' "$G" >"$tmp/vars"
check "dashboard: panels have queries ($(wc -l <"$tmp/exprs"))" test "$(wc -l <"$tmp/exprs")" -ge 15
# shellcheck disable=SC2046
check "dashboard: every metric the queries name is a family of docs/metrics.md" \
	known $(cat "$tmp/exprs" "$tmp/vars" | grep -o 'vfio_[a-z_]*' | sort -u)
for what in vfio_operations_total vfio_operation_errors_total vfio_access_duration_seconds_bucket \
	vfio_interrupts_total vfio_policy_decisions_total vfio_migration_state \
	vfio_migration_downtime_seconds vfio_migration_transition_duration_seconds_bucket; do
	check "dashboard: a panel on $what" grep -q "$what" "$tmp/exprs"
done
check "dashboard: latency quantiles from the histograms" \
	grep -q 'histogram_quantile(0.99, sum by (bdf, op, le) (rate(vfio_access_duration_seconds_bucket' "$tmp/exprs"
# Every query parses as PromQL: promtool checks the rules it is given.
{
	echo "groups:"
	echo "  - name: dashboard"
	echo "    rules:"
	i=0
	sed 's/\$__rate_interval/5m/g; s/\$__range/1h/g; s/\$bdf/.*/g; s/\$job/.*/g' "$tmp/exprs" |
	while IFS= read -r e; do
		i=$((i + 1))
		printf '      - record: dashboard:q%d\n        expr: %s\n' "$i" "$(printf '%s' "$e" | jq -Rs .)"
	done
} >"$tmp/dash.rules.yml"
check "dashboard: every query is valid PromQL (promtool check rules)" promtool check rules "$tmp/dash.rules.yml"

# --- Kubernetes --------------------------------------------------------------
check "kubernetes: YAML of the DaemonSet parses: Namespace, ServiceAccount, DaemonSet" \
	/usr/bin/python3 -c '
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
kinds = [d["kind"] for d in docs]
assert kinds == ["Namespace", "ServiceAccount", "DaemonSet"], kinds
ds = docs[2]
c = ds["spec"]["template"]["spec"]["containers"][0]
assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
assert c["command"][0] == "/usr/sbin/vfio_exporter", c["command"]
assert any(p["containerPort"] == 9466 for p in c["ports"])
assert "SYS_ADMIN" not in c["securityContext"]["capabilities"]["add"]
' "$K/vfio-exporter-daemonset.yaml"
check "kubernetes: the scrape config parses, keeps the exporter pods, loads the rules" \
	/usr/bin/python3 -c '
import sys, yaml, os
cfg = yaml.safe_load(open(sys.argv[1]))
job = cfg["scrape_configs"][0]
assert job["job_name"] == "vfio"
assert job["kubernetes_sd_configs"][0]["role"] == "pod"
assert any(r.get("regex") == "vfio-exporter" and r["action"] == "keep" for r in job["relabel_configs"])
for f in cfg["rule_files"]:
    assert os.path.exists(os.path.join(os.path.dirname(sys.argv[1]), f)), f
' "$K/prometheus-scrape.yaml"
