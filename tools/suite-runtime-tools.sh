#!/usr/bin/env bash
#
# tools/suite-runtime-tools.sh CHECKOUT [RESULTS_DIR]
#
# Runs the OCI runtime-tools validation programs (validation/*/*.go of a local
# checkout of opencontainers/runtime-tools; Go 1.19 builds it up to commit
# 260e151, later ones need Go 1.21) against RUNTIME (default: .build/release/apus).
#
# Built offline with Debian's golang and the checkout's vendored modules:
# runtimetest (static) and one binary per validation program, rebuilt only
# when the checkout changes. The programs use the checkout's own busybox
# rootfs (rootfs-amd64.tar.gz) and call the runtime through a wrapper that adds
# a private --root. Everything runs in a private pid + mount namespace; each
# program has SUITE_TIMEOUT seconds (300), and after each one the containers,
# processes, cgroups (relative paths land below the run's own cgroup;
# /cgrouptest) and mounts it left are removed.
#
# RESULTS_DIR (default $SUITE_CACHE/results/runtime-tools-<runtime>-<time>) gets
# tap/<program>.tap (raw TAP), tap/<program>.err (stderr), summary.txt (one
# line per program: passed failed skipped and its exit: ok, ok-silent (exit 0,
# no TAP: what a *_fail program does when the runtime refused as it should),
# exit N, crashed (no complete TAP), timeout) and totals.txt. SUITE_ONLY=REGEX runs the
# programs whose name matches. Exit status 0 when it ran (failures are in the
# summary), 2 when it could not.

set -uo pipefail
SUITE_NAME=suite-runtime-tools
# shellcheck source=tools/suite-lib.sh
. "$(dirname "$(readlink -f "$0")")/suite-lib.sh"
suite_args runtime-tools "$@"

build() {
	[ -f "$CHECKOUT/validation/util/test.go" ] || suite_die "$CHECKOUT is not a runtime-tools checkout"
	suite_go_env
	suite_go_build "$CHECKOUT" runtimetest ./cmd/runtimetest -tags "netgo osusergo" -ldflags "-extldflags -static"
	local src
	for src in "$CHECKOUT"/validation/*/*.go; do
		case $src in */util/*) continue ;; esac
		suite_go_build "$CHECKOUT" "${src%.go}.t" "./${src#"$CHECKOUT"/}"
	done
}

run_program() {
	local t=$1 name tap err rc status counts
	name=$(basename "$t" .t)
	tap="$RESULTS/tap/$name.tap"
	err="$RESULTS/tap/$name.err"
	(cd "$CHECKOUT" && suite_run_bounded "$err" env RUNTIME="$WORK/bin/runtime" TMPDIR="$WORK/tmp" "$t" >"$tap")
	rc=$?
	counts=$(suite_tap_counts "$tap")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		status=timeout
	elif ! grep -q '^1\.\.[0-9]' "$tap"; then
		# The *_fail programs print nothing when the runtime refused the
		# config as they want, and exit 1 (util.Fatal) when it did not.
		[ $rc -eq 0 ] && status=ok-silent || status=crashed
	elif [ $rc -ne 0 ]; then
		status="exit $rc"
	else
		status=ok
	fi
	printf '%-45s %5s %5s %5s  %s\n' "$name" $counts "$status" >>"$RESULTS/summary.txt"
	"$WORK/bin/runtime" list -q 2>/dev/null | while read -r id; do "$WORK/bin/runtime" delete -f "$id" >/dev/null 2>&1; done
	suite_cleanup_after_test "$WORK"
	rm -rf "${WORK:?}/tmp" "$WORK/state" && mkdir -p "$WORK/tmp" "$WORK/state" && chmod a+x "$WORK/tmp"
}

main() {
	suite_enter_namespace "$@"
	[ -x "$RUNTIME" ] || suite_die "RUNTIME $RUNTIME is not executable"
	build
	rm -rf "$RESULTS/tap" && mkdir -p "$RESULTS/tap"
	WORK=$(mktemp -d /var/tmp/apus-suite-rt.XXXXXX)
	mkdir -p "$WORK/tmp" "$WORK/state"
	chmod a+x "$WORK" # bundles below it are entered by mapped users (user namespaces)
	suite_runtime_wrapper "$WORK/bin" "$RUNTIME" --root "$WORK/state"
	suite_cgroups_enter cgrouptest
	trap 'suite_cleanup_after_test "$WORK"; suite_cgroups_leave; rm -rf "$WORK"' EXIT
	printf '# runtime-tools %s against %s (%s)\n' "$(suite_revision "$CHECKOUT")" \
		"$RUNTIME" "$("$RUNTIME" --version 2>/dev/null | head -1)" >"$RESULTS/summary.txt"
	printf '%-45s %5s %5s %5s  %s\n' program pass fail skip exit >>"$RESULTS/summary.txt"
	local t
	for t in "$CHECKOUT"/validation/*/*.t; do
		[[ $(basename "$t" .t) =~ ${SUITE_ONLY:-.} ]] || continue
		suite_log "$(basename "$t" .t)"
		run_program "$t"
	done
	awk 'NR > 2 { p += $2; f += $3; s += $4; if ($5 != "ok" && $5 != "ok-silent") bad++ }
		END { printf "passed %d failed %d skipped %d programs-not-ok %d\n", p, f, s, bad }' \
		"$RESULTS/summary.txt" | tee "$RESULTS/totals.txt"
	suite_log "results in $RESULTS"
}

main "$@"
