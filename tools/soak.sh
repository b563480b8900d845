#!/usr/bin/env bash
#
# tools/soak.sh RUNTIME_BINARY   -- soak test (run by `make soak`, not by `make test`)
#
# For SOAK_MINUTES (default 5), SOAK_WORKERS (default 2) workers each run the
# whole container lifecycle in a loop, with the CPU kept busy by SOAK_HOGS
# (default: nproc) `yes > /dev/null` processes. One iteration of a worker:
#
#   create -> state created -> start -> state running -> exec (output checked)
#   -> pause -> state paused -> then, alternately,
#        resume -> state running -> kill KILL -> state stopped -> delete
#     or delete --force of the paused container
#   -> state: gone
#   run (foreground, `sh -c 'exit 3'`) -> exit status 3, state: gone
#   run -d -> state running -> delete --force -> state: gone
#
# Every call is bounded (SOAK_CALL_TIMEOUT, default 60 s: a call killed by it
# counts as a hang) and timed. Every SOAK_CHECK_EVERY (default 10) iterations
# a worker checks that nothing of its finished containers is left: no process
# with its rootfs as root, no cgroup named after its ids, no mount under its
# bundle, no state directory with its ids. The same checks run at the end
# for everything. Prints iterations, operations, failures (the first 20 in
# full), leaks and per-operation timing percentiles; exits 1 on any failure
# or leak.
#
# Everything made (containers, cgroups, mounts, the work dir, the CPU hogs)
# is removed at exit, also on failure or interrupt.
# Environment: SOAK_MINUTES (5), SOAK_WORKERS (2), SOAK_HOGS (nproc),
# SOAK_CHECK_EVERY (10), SOAK_CALL_TIMEOUT (60), BUSYBOX (/bin/busybox).

set -uo pipefail

RUNTIME=${1:-}
MINUTES=${SOAK_MINUTES:-5}
WORKERS=${SOAK_WORKERS:-2}
HOGS=${SOAK_HOGS:-$(nproc)}
CHECK_EVERY=${SOAK_CHECK_EVERY:-10}
CALL_TIMEOUT=${SOAK_CALL_TIMEOUT:-60}
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "soak: $*" >&2; exit 2; }
[ -n "$RUNTIME" ] || { echo "usage: $0 RUNTIME_BINARY" >&2; exit 2; }
RUNTIME="$(readlink -f "$RUNTIME")"
[ -x "$RUNTIME" ] || die "$RUNTIME is not an executable (run 'make build')"
[ "$(id -u)" -eq 0 ] || die "containers need root"
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (make deps: busybox-static)"
command -v jq >/dev/null || die "jq is missing (make deps)"
[[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SOAK_MINUTES must be a number"
for v in WORKERS HOGS CHECK_EVERY CALL_TIMEOUT; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || die "SOAK_$v must be a whole number"
done
if [ "$WORKERS" -lt 1 ] || [ "$CHECK_EVERY" -lt 1 ] || [ "$CALL_TIMEOUT" -lt 1 ]; then
	die "SOAK_WORKERS, SOAK_CHECK_EVERY and SOAK_CALL_TIMEOUT must be at least 1"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/apus-soak.XXXXXX")"
chmod 755 "$WORK"
ROOT="$WORK/state"
TAG="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
PREFIX="soak-$TAG"   # every container id (and so every cgroup) starts with it
HOG_PIDS=()
WORKER_PIDS=()

# --- cleanup ---------------------------------------------------------------------

cgroups_with() { find /sys/fs/cgroup -maxdepth 6 -type d -name "$1*" 2>/dev/null; }

# cgroup_names PREFIX: one line, the distinct names of the cgroups left
# (one per container, whichever hierarchies hold it).
cgroup_names() { cgroups_with "$1" | awk -F/ '!seen[$NF]++ { printf "%s ", $NF }'; }

# procs_rooted_at DIR: live processes whose root directory is DIR.
procs_rooted_at() {
	local p
	for p in $(find -L /proc -mindepth 2 -maxdepth 2 -name root -samefile "$1" 2>/dev/null); do
		p=${p#/proc/}
		p=${p%/root}
		grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null || echo "$p"
	done
}

cleanup() {
	local rc=$? pid id cg m d n
	trap - EXIT INT TERM
	touch "$WORK/stop" 2>/dev/null
	for pid in "${HOG_PIDS[@]}" "${WORKER_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	for pid in "${HOG_PIDS[@]}" "${WORKER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for id in $(ls -A "$ROOT" 2>/dev/null); do
		timeout -s KILL 30 "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1
	done
	# leftovers: kill every process first, then remove the cgroups once
	# their processes are gone (rmdir fails while one is dying)
	for cg in $(cgroups_with "$PREFIX"); do
		# shellcheck disable=SC2046
		kill -9 $(cat "$cg/cgroup.procs" 2>/dev/null) 2>/dev/null
	done
	for d in "$WORK"/w*/rootfs; do
		# shellcheck disable=SC2046
		[ -d "$d" ] && kill -9 $(procs_rooted_at "$d") 2>/dev/null
	done
	for ((n = 0; n < 100; n++)); do
		for cg in $(cgroups_with "$PREFIX" | sort -r); do rmdir "$cg" 2>/dev/null; done
		[ -z "$(cgroups_with "$PREFIX")" ] && break
		sleep 0.05
	done
	for m in $(grep -F "$WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bundles -----------------------------------------------------------------------

# A config from `RUNTIME spec`: no terminal, a writable root, and ARGS.
base_config() {
	(cd "$WORK" && "$RUNTIME" spec </dev/null >/dev/null 2>&1) || die "$RUNTIME spec failed"
	mv "$WORK/config.json" "$WORK/config.base.json"
}

# make_worker_bundles W: $WORK/wW/{rootfs,sleep,exit3}.
make_worker_bundles() {
	local d="$WORK/w$1" a
	mkdir -p "$d/rootfs"/{bin,proc,sys,dev,tmp,etc,root} "$d/sleep" "$d/exit3"
	chmod 1777 "$d/rootfs/tmp"
	cp "$BUSYBOX" "$d/rootfs/bin/busybox"
	for a in sh sleep true echo; do ln -s busybox "$d/rootfs/bin/$a"; done
	jq --arg r "$d/rootfs" '.process.terminal = false | .root = {path: $r, readonly: false}
		| .process.args = ["sleep", "3600"]' "$WORK/config.base.json" >"$d/sleep/config.json"
	jq --arg r "$d/rootfs" '.process.terminal = false | .root = {path: $r, readonly: false}
		| .process.args = ["sh", "-c", "exit 3"]' "$WORK/config.base.json" >"$d/exit3/config.json"
}

# --- one worker ------------------------------------------------------------------------

# Each worker appends "OP MS RC" to wW/ops, failures to wW/failures, leaks to
# wW/leaks, and its iteration count to wW/iterations.
worker() {
	local w=$1 d="$WORK/w$1" i=0 deadline=$2
	local log="$d/call" ops="$d/ops" failures="$d/failures" leaks="$d/leaks"
	: >"$ops"
	: >"$failures"
	: >"$leaks"

	# call OP ARGS...: the runtime, bounded and timed; its output in $log
	# (after create and run -d the container holds it as its stdio too:
	# `sleep` writes nothing there).
	call() {
		local op=$1 t0 t1 rc=0
		shift
		t0=$EPOCHREALTIME
		timeout -s KILL "$CALL_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@" </dev/null >"$log" 2>&1 || rc=$?
		t1=$EPOCHREALTIME
		echo "$op $(((${t1/./} - ${t0/./}) / 1000)) $rc" >>"$ops"
		return "$rc"
	}
	fail() {
		local what=$1 rc=${2:-}
		echo "w$w iteration $i: $what${rc:+ (exit $rc)}: $(tail -c 300 "$log" 2>/dev/null | tr '\n' ' ')" >>"$failures"
		return 1
	}
	status_of() {
		local out rc=0
		out=$(timeout -s KILL "$CALL_TIMEOUT" "$RUNTIME" --root "$ROOT" state "$1" </dev/null 2>&1) || rc=$?
		if [ "$rc" -ne 0 ]; then
			[[ "$out" == *"does not exist"* ]] && echo gone || echo "error($rc): $out"
			return 0
		fi
		jq -r .status <<<"$out" 2>/dev/null || echo "error: $out"
	}
	expect_status() {
		local st
		st=$(status_of "$1")
		[ "$st" = "$2" ] || { echo "state $1: $st" >"$log"; fail "status '$st', wanted '$2' after $3"; }
	}
	# await_status ID WANT: poll `state` (bounded: 30 s).
	await_status() {
		local st n
		for ((n = 0; n < 600; n++)); do
			st=$(status_of "$1")
			[ "$st" = "$2" ] && return 0
			sleep 0.05
		done
		echo "state $1: $st" >"$log"
		fail "status '$st' after 30 s, wanted '$2'"
	}
	# leak_check: nothing of this worker's finished containers is left.
	leak_check() {
		local left
		left=$(procs_rooted_at "$d/rootfs" | tr '\n' ' ')
		[ -z "$left" ] || echo "w$w after iteration $i: processes in the rootfs: $left" >>"$leaks"
		left=$(cgroup_names "$PREFIX-w$w-")
		[ -z "$left" ] || echo "w$w after iteration $i: cgroups: $left" >>"$leaks"
		left=$(grep -F "$d/" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')
		[ -z "$left" ] || echo "w$w after iteration $i: mounts: $left" >>"$leaks"
		left=$(find "$ROOT" -mindepth 1 -maxdepth 1 -name "*$PREFIX-w$w-*" -printf '%f ' 2>/dev/null)
		[ -z "$left" ] || echo "w$w after iteration $i: state directories: $left" >>"$leaks"
		echo check >>"$d/checks"
	}
	# one iteration; returns 1 at the first failure (the caller cleans up).
	iteration() {
		local id="$PREFIX-w$w-$i" rc
		call create create --bundle "$d/sleep" "$id" || { fail create $?; return 1; }
		expect_status "$id" created create || return 1
		call start start "$id" || { fail start $?; return 1; }
		expect_status "$id" running start || return 1
		call exec exec "$id" echo soak-exec || { fail exec $?; return 1; }
		[ "$(cat "$log")" = soak-exec ] || { fail "exec printed something else"; return 1; }
		call pause pause "$id" || { fail pause $?; return 1; }
		expect_status "$id" paused pause || return 1
		if ((i % 2 == 0)); then
			call resume resume "$id" || { fail resume $?; return 1; }
			expect_status "$id" running resume || return 1
			call kill kill "$id" KILL || { fail kill $?; return 1; }
			await_status "$id" stopped || return 1
			call delete delete "$id" || { fail delete $?; return 1; }
		else
			call delete-paused delete --force "$id" || { fail "delete --force (paused)" $?; return 1; }
		fi
		expect_status "$id" gone delete || return 1

		rc=0
		call run run --bundle "$d/exit3" "$id-run" || rc=$?
		[ "$rc" = 3 ] || { fail "run: exit $rc, wanted 3"; return 1; }
		expect_status "$id-run" gone run || return 1

		call run-d run -d --bundle "$d/sleep" "$id-d" || { fail "run -d" $?; return 1; }
		expect_status "$id-d" running "run -d" || return 1
		call delete-force delete --force "$id-d" || { fail "delete --force" $?; return 1; }
		expect_status "$id-d" gone "delete --force" || return 1
	}

	while [ ! -e "$WORK/stop" ] && [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do
		i=$((i + 1))
		if ! iteration; then
			for id in "$PREFIX-w$w-$i" "$PREFIX-w$w-$i-run" "$PREFIX-w$w-$i-d"; do
				timeout -s KILL "$CALL_TIMEOUT" "$RUNTIME" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1
			done
		fi
		echo "$i" >"$d/iterations"
		if ((i % CHECK_EVERY == 0)); then
			leak_check
			if [ "$w" = 1 ]; then
				echo "soak: w1: $i iterations, $(cat "$WORK"/w*/failures | wc -l) failures, $(cat "$WORK"/w*/leaks | wc -l) leaks so far" >&2
			fi
		fi
	done
	leak_check
}

# --- main --------------------------------------------------------------------------------

base_config
for ((w = 1; w <= WORKERS; w++)); do make_worker_bundles "$w"; done

echo "soak: $RUNTIME ($("$RUNTIME" --version </dev/null 2>/dev/null | head -n1)), $MINUTES min, $WORKERS workers, $HOGS CPU hogs, leak check every $CHECK_EVERY iterations" >&2
for ((h = 0; h < HOGS; h++)); do
	yes >/dev/null &
	HOG_PIDS+=($!)
done

start=${EPOCHREALTIME/./}
deadline=$((start + $(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 * 1000000 }')))
for ((w = 1; w <= WORKERS; w++)); do
	worker "$w" "$deadline" &
	WORKER_PIDS+=($!)
done
for pid in "${WORKER_PIDS[@]}"; do wait "$pid"; done
WORKER_PIDS=()
for pid in "${HOG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
for pid in "${HOG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
HOG_PIDS=()
elapsed_s=$(((${EPOCHREALTIME/./} - start) / 1000000))

# Final leak check over everything the soak made.
final_leaks="$WORK/final-leaks"
: >"$final_leaks"
for ((w = 1; w <= WORKERS; w++)); do
	left=$(procs_rooted_at "$WORK/w$w/rootfs" | tr '\n' ' ')
	[ -z "$left" ] || echo "end: processes in w$w's rootfs: $left" >>"$final_leaks"
done
left=$(cgroup_names "$PREFIX")
[ -z "$left" ] || echo "end: cgroups: $left" >>"$final_leaks"
left=$(grep -F "$WORK" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')
[ -z "$left" ] || echo "end: mounts: $left" >>"$final_leaks"
left=$(ls -A "$ROOT" 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] || echo "end: state directories: $left" >>"$final_leaks"

iterations=0
for ((w = 1; w <= WORKERS; w++)); do
	iterations=$((iterations + $(cat "$WORK/w$w/iterations" 2>/dev/null || echo 0)))
done
cat "$WORK"/w*/ops >"$WORK/ops"
cat "$WORK"/w*/failures >"$WORK/failures"
cat "$WORK"/w*/leaks "$final_leaks" >"$WORK/leaks"
n_ops=$(wc -l <"$WORK/ops")
n_fail=$(wc -l <"$WORK/failures")
n_leak=$(wc -l <"$WORK/leaks")
n_checks=$(cat "$WORK"/w*/checks 2>/dev/null | wc -l)
n_hung=$(awk '$3 == 124 || $3 == 137' "$WORK/ops" | wc -l)

echo
echo "soak: $(basename "$RUNTIME"), ${elapsed_s} s, $WORKERS workers under $HOGS CPU hogs"
echo "iterations: $iterations; runtime calls timed: $n_ops (hung: $n_hung); failures: $n_fail; leak checks: $((n_checks + 1)), leaks: $n_leak"
echo
printf '%-14s %7s %8s %8s %8s %8s   (ms)\n' operation count p50 p90 p99 max
for op in create start exec pause resume kill delete delete-paused run run-d delete-force; do
	awk -v op="$op" '$1 == op { print $2 }' "$WORK/ops" | sort -n | awk -v op="$op" '
		{ a[NR] = $1 }
		function pct(p,  i) { i = int(NR * p + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return a[i] }
		END { if (NR > 0) printf "%-14s %7d %8d %8d %8d %8d\n", op, NR, pct(0.5), pct(0.9), pct(0.99), a[NR] }'
done
if [ "$n_fail" -gt 0 ]; then
	echo
	echo "failures (first 20):"
	head -n 20 "$WORK/failures"
fi
if [ "$n_leak" -gt 0 ]; then
	echo
	echo "leaks (first 20):"
	head -n 20 "$WORK/leaks"
fi
[ "$n_fail" -eq 0 ] && [ "$n_leak" -eq 0 ] && [ "$iterations" -gt 0 ] || exit 1
exit 0
