# SPDX-License-Identifier: GPL-2.0
#
# What the build-machine groups (tests/host/t-*.sh) share: sourced after
# r= (the group's results file) is set.  Each verdict goes to the results
# file and to the group's log.

pass() { echo "PASS: $*" | tee -a "$r"; }
fail() { echo "FAIL: $*" | tee -a "$r"; }

# check NAME COMMAND [ARG]...: PASS when COMMAND succeeds; otherwise FAIL
# with the last lines of what it printed.
check() {
	name=$1; shift
	if _o=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name: $(printf '%s' "$_o" | tail -n 5 | tr '\n' ' ')"
	fi
}
