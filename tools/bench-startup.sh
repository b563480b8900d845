#!/usr/bin/env bash
#
# tools/bench-startup.sh APUS_BINARY -- startup latency (run by `make bench`).
#
# Times, with hyperfine (200 runs after 20 warm-ups, no intermediate shell):
#   apus --version, apus features, runc --version, runc features, crun --version,
#   apus --root R state ID  vs  runc --root R2 state ID  (a created busybox
#   container with each runtime, deleted afterwards),
#   apus --root R inspect --format json ID2 (a running apus container),
#   and /bin/true for scale
# and prints median / mean and the ratio to runc (and crun for --version).
#
# Fails (exit 1) if the median of `apus --version` or `apus features` is above
# APUS_BENCH_LIMIT_MS (default 3 ms), the startup requirement for apus, or
# that of `apus inspect` above APUS_INSPECT_LIMIT_MS (default 5 ms): it is a
# read-only query like `state`.
# Environment: RUNS (200), WARMUP (20), RUNC (/usr/sbin/runc), CRUN (crun),
# VERBOSE=1 to see hyperfine's own report.

set -euo pipefail

APUS=${1:-}
RUNS=${RUNS:-200}
WARMUP=${WARMUP:-20}
LIMIT_MS=${APUS_BENCH_LIMIT_MS:-3}
INSPECT_LIMIT_MS=${APUS_INSPECT_LIMIT_MS:-5}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-$(command -v crun || true)}
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "bench: $*" >&2; exit 1; }
[ -n "$APUS" ] || { echo "usage: $0 APUS_BINARY" >&2; exit 2; }
APUS="$(readlink -f "$APUS")"
[ -x "$APUS" ] || die "$APUS is not an executable (run 'make build')"
command -v hyperfine >/dev/null || die "hyperfine is missing (make deps)"
command -v jq >/dev/null || die "jq is missing (make deps)"
[ -x "$RUNC" ] || { echo "bench: no runc at $RUNC, comparing without it" >&2; RUNC=""; }
[ -n "$CRUN" ] && [ -x "$CRUN" ] || { echo "bench: no crun, comparing without it" >&2; CRUN=""; }

# hyperfine >= 1.13 can exec the command directly (-N, --shell=none): no
# shell start-up to subtract, which matters at the millisecond scale.
HF_VERSION="$(hyperfine --version | awk '{print $2}')"
if printf '%s\n1.13.0\n' "$HF_VERSION" | sort -V -C 2>/dev/null && [ "$HF_VERSION" != 1.13.0 ]; then
	SHELL_OPT=()
	echo "bench: hyperfine $HF_VERSION has no -N; timing through a shell (corrected by hyperfine)" >&2
else
	SHELL_OPT=(-N)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/apus-bench.XXXXXX")"
chmod 755 "$WORK"
TAG="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
ID_APUS="apus-bench-$TAG-apus"
ID_RUNC="apus-bench-$TAG-runc"
ID_RUNNING="apus-bench-$TAG-running"
ROOT_APUS="$WORK/root-apus"
ROOT_RUNC="$WORK/root-runc"

# run_closed CMD...: no fds above 2 (make's jobserver, ...), stdio to /dev/null:
# a created container keeps what its `create` had.
run_closed() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		exec "$@"
	) </dev/null >/dev/null 2>"$WORK/last.err"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local id
	for id in "$ID_APUS" "$ID_RUNNING"; do
		if [ -d "$ROOT_APUS/$id" ]; then
			timeout -s KILL 20 "$APUS" --root "$ROOT_APUS" delete --force "$id" </dev/null >/dev/null 2>&1 || true
		fi
	done
	if [ -n "$RUNC" ] && [ -d "$ROOT_RUNC/$ID_RUNC" ]; then
		timeout -s KILL 20 "$RUNC" --root "$ROOT_RUNC" delete --force "$ID_RUNC" </dev/null >/dev/null 2>&1 || true
	fi
	local m
	for m in $(grep -F " $WORK" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- containers for `state` ------------------------------------------------
STATE_BENCH=1
if [ "$(id -u)" -ne 0 ] || [ ! -x "$BUSYBOX" ]; then
	echo "bench: not root or no $BUSYBOX: skipping the state benchmark" >&2
	STATE_BENCH=""
else
	mkdir -p "$WORK/bundle/rootfs"/{bin,proc,sys,dev,tmp}
	cp "$BUSYBOX" "$WORK/bundle/rootfs/bin/busybox"
	ln -s busybox "$WORK/bundle/rootfs/bin/sleep"
	(cd "$WORK/bundle" && "$APUS" spec)
	jq '.process.terminal = false | .root.readonly = false | .process.args = ["sleep", "3600"]' \
		"$WORK/bundle/config.json" >"$WORK/config.json"
	mv "$WORK/config.json" "$WORK/bundle/config.json"
	run_closed "$APUS" --root "$ROOT_APUS" create --bundle "$WORK/bundle" "$ID_APUS" ||
		die "apus create failed: $(cat "$WORK/last.err")"
	run_closed "$APUS" --root "$ROOT_APUS" run -d --bundle "$WORK/bundle" "$ID_RUNNING" ||
		die "apus run -d failed: $(cat "$WORK/last.err")"
	if [ -n "$RUNC" ]; then
		run_closed "$RUNC" --root "$ROOT_RUNC" create --bundle "$WORK/bundle" "$ID_RUNC" ||
			die "runc create failed: $(cat "$WORK/last.err")"
	fi
fi

# --- benchmark ---------------------------------------------------------------
# name|command (names are what the table shows and how rows are found)
BENCH=(
	# what merely exec'ing a process costs on this machine, for scale
	"/bin/true|$(type -P true)"
	"apus --version|$APUS --version"
	"apus features|$APUS features"
)
[ -n "$RUNC" ] && BENCH+=("runc --version|$RUNC --version" "runc features|$RUNC features")
[ -n "$CRUN" ] && BENCH+=("crun --version|$CRUN --version")
if [ -n "$STATE_BENCH" ]; then
	BENCH+=("apus state|$APUS --root $ROOT_APUS state $ID_APUS")
	[ -n "$RUNC" ] && BENCH+=("runc state|$RUNC --root $ROOT_RUNC state $ID_RUNC")
	BENCH+=("apus inspect|$APUS --root $ROOT_APUS inspect --format json $ID_RUNNING")
fi

HF_ARGS=("${SHELL_OPT[@]}" --runs "$RUNS" --warmup "$WARMUP" --style basic --export-json "$WORK/results.json")
for b in "${BENCH[@]}"; do
	HF_ARGS+=(--command-name "${b%%|*}" "${b#*|}")
done

echo "hyperfine $HF_VERSION: ${#BENCH[@]} commands x $RUNS runs (+$WARMUP warm-up)${SHELL_OPT[*]:+, ${SHELL_OPT[*]}}"
LOAD="$(cut -d' ' -f1 /proc/loadavg)"
CPUS="$(nproc)"
echo "load average $LOAD on $CPUS CPUs"
if awk -v l="$LOAD" -v c="$CPUS" 'BEGIN { exit !(l > c / 2) }'; then
	echo "bench: warning: the machine is busy; millisecond timings will be inflated" >&2
fi
hyperfine "${HF_ARGS[@]}" </dev/null >"$WORK/hyperfine.out" 2>&1 || {
	cat "$WORK/hyperfine.out" >&2
	die "hyperfine failed"
}
[ -n "${VERBOSE:-}" ] && cat "$WORK/hyperfine.out"
# `state` must have worked all along (hyperfine fails on non-zero exits, but
# also make sure the containers are still what we think they are)
if [ -n "$STATE_BENCH" ]; then
	[ "$("$APUS" --root "$ROOT_APUS" state "$ID_APUS" | jq -r .status)" = created ] || die "apus container is not 'created'"
	[ "$("$APUS" --root "$ROOT_APUS" state "$ID_RUNNING" | jq -r .status)" = running ] || die "apus container is not 'running'"
fi

# --- report --------------------------------------------------------------------
echo
jq -r '.results[] | [.command, .median, .mean, .stddev, .min] | @tsv' "$WORK/results.json" |
	awk -F'\t' '
	{ name[NR] = $1; med[$1] = $2 * 1000; mean[NR] = $3 * 1000; sd[NR] = $4 * 1000; min[NR] = $5 * 1000; n = NR }
	function ratio(a, b) { return (b in med) ? sprintf("%.2fx", med[a] / med[b]) : "-" }
	END {
		hdr = sprintf("%-16s %10s %10s %8s %8s %9s %9s", "command", "median ms", "mean ms", "+- ms", "min ms", "vs runc", "vs crun")
		print hdr
		line = hdr; gsub(/./, "-", line); print line
		for (i = 1; i <= n; i++) {
			c = name[i]; vr = ""; vc = ""
			if (c == "apus --version") { vr = ratio(c, "runc --version"); vc = ratio(c, "crun --version") }
			if (c == "apus features") vr = ratio(c, "runc features")
			if (c == "apus state") vr = ratio(c, "runc state")
			printf "%-16s %10.2f %10.2f %8.2f %8.2f %9s %9s\n", c, med[c], mean[i], sd[i], min[i], vr, vc
		}
	}'
echo "(ratios compare medians; below 1.00x apus is faster)"

# --- requirement ---------------------------------------------------------------
echo
fail=0
LIMITS=("apus --version|$LIMIT_MS" "apus features|$LIMIT_MS")
[ -n "$STATE_BENCH" ] && LIMITS+=("apus inspect|$INSPECT_LIMIT_MS")
for entry in "${LIMITS[@]}"; do
	name=${entry%%|*}
	limit=${entry#*|}
	median_ms="$(jq -r --arg n "$name" '.results[] | select(.command == $n) | .median * 1000' "$WORK/results.json")"
	if awk -v m="$median_ms" -v l="$limit" 'BEGIN { exit !(m <= l) }'; then
		printf 'PASS  %-15s median %.2f ms <= %s ms\n' "$name" "$median_ms" "$limit"
	else
		printf 'FAIL  %-15s median %.2f ms >  %s ms\n' "$name" "$median_ms" "$limit"
		fail=1
	fi
done
exit "$fail"
