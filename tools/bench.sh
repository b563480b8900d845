#!/usr/bin/env bash
#
# tools/bench.sh APUS [APUS_UNPROTECTED] -- `make bench`: apus vs runc vs crun.
#
# Builds one busybox bundle (config from `runc spec`, terminal false, readonly
# false), decides how crun can run here, then hands over to tools/bench.py,
# which measures (interleaved) and prints the table; the JSON goes to
# bench-results/bench-<date>.json and bench-results/latest.json (a quick run:
# quick-<date>.json only).
#
# crun 1.8 refuses the hybrid cgroup layout when cgroup2 (/sys/fs/cgroup/unified)
# holds a controller (hugetlb here). The least invasive change that lets it run:
# the whole measurement (all runtimes alike) runs in a private mount namespace
# where /sys/fs/cgroup/unified/cgroup.controllers reads empty. Nothing on the
# host changes; the alternative the issue names (hugetlb rebound as a v1
# hierarchy) changes the host's cgroup layout under everything else running,
# and is not possible while cgroup2 has child cgroups. apus and runc read that
# file only to enable a controller a config asks for; this one asks for none.
#
# Environment: BENCH_QUICK=1 (a smoke test: few runs, small N), BENCH_OUT (JSON
# path), BENCH_ROUNDS (40), BENCH_FAST_ROUNDS (50: version, state),
# BENCH_POPULATE_SECONDS (900: time bound for filling the state roots),
# BENCH_LOAD_HOGS (nproc: CPU-bound processes beside the "under load" run; 0: none),
# RUNC (/usr/sbin/runc), CRUN (crun), BUSYBOX (/bin/busybox).
# Everything created (containers, cgroups, state roots, bundles, CPU hogs) is removed at
# exit, also on failure or interrupt.

set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/bench-lib.sh"

APUS=${1:-}
APUS_U=${2:-}
[ -n "$APUS" ] || { echo "usage: $0 APUS [APUS_UNPROTECTED]" >&2; exit 2; }
APUS="$(readlink -f "$APUS")"
[ -x "$APUS" ] || die "$APUS is not an executable (run 'make build')"
if [ -n "$APUS_U" ]; then
	APUS_U="$(readlink -f "$APUS_U")"
	[ -x "$APUS_U" ] || die "$APUS_U (unprotected apus) is not an executable"
fi
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-$(command -v crun || true)}
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ "$(id -u)" -eq 0 ] || die "containers need root"
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (make deps: busybox-static)"
for t in jq python3 strace unshare; do command -v $t >/dev/null || die "$t is missing (make deps)"; done
[ -x "$RUNC" ] || { note "no runc at $RUNC, comparing without it"; RUNC=""; }
[ -n "$CRUN" ] && [ -x "$CRUN" ] || { note "no crun, comparing without it"; CRUN=""; }

bench_workdir
RUNTIMES=("apus=$APUS")
[ -n "$APUS_U" ] && RUNTIMES+=("apus-unprotected=$APUS_U")
[ -n "$RUNC" ] && RUNTIMES+=("runc=$RUNC")
[ -n "$CRUN" ] && RUNTIMES+=("crun=$CRUN")
bench_cleanup_on_exit "${RUNTIMES[@]}"

bench_bundles "${RUNC:-$APUS}" 1 10 100

NOTES=()
WRAP=()
if [ -n "$CRUN" ]; then
	if bench_crun_wrap "$CRUN"; then
		WRAP=("${CRUN_WRAP[@]}")
	else
		kept=()
		for r in "${RUNTIMES[@]}"; do [ "${r%%=*}" = crun ] || kept+=("$r"); done
		RUNTIMES=("${kept[@]}")
	fi
	[ -z "$CRUN_NOTE" ] || NOTES+=(--note "$CRUN_NOTE")
fi

KIND=bench
[ -n "${BENCH_QUICK:-}" ] && KIND=quick
OUT=${BENCH_OUT:-$(pwd)/bench-results/$KIND-$(date -u +%Y%m%dT%H%M%SZ).json}
ARGS=(--work "$WORK" --prefix "$PREFIX" --out "$OUT" "${NOTES[@]}")
for r in "${RUNTIMES[@]}"; do ARGS+=(--runtime "$r"); done
[ -n "${BENCH_QUICK:-}" ] && ARGS+=(--quick)
bench_closed "${WRAP[@]}" python3 "$HERE/bench.py" "${ARGS[@]}" </dev/null &
BENCH_PID=$!
wait "$BENCH_PID"
BENCH_PID=""
if [ -z "${BENCH_OUT:-}" ] && [ -z "${BENCH_QUICK:-}" ]; then   # latest.json: the last full run
	cp "$OUT" "$(dirname "$OUT")/latest.json"
fi
