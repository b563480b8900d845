#!/usr/bin/env bash
#
# tools/bench-lifecycle.sh APUS_BINARY [APUS_UNPROTECTED_BINARY]
#   -- container lifecycle latency, apus vs runc vs crun (run by `make bench`).
#
# One busybox bundle (busybox-static at /bin/busybox in the rootfs; config from
# `runc spec` with terminal false, readonly false) and, with hyperfine -N (no
# shell), RUNS_LIFECYCLE timed runs (default 30) after 3 warm-ups of:
#   create   RT create --bundle B ID            (process `true`)
#   start    RT start ID                        (of a container just created)
#   delete   RT delete ID                       (of a container whose `true` has exited)
#   run      RT run --bundle B ID               (foreground, process `true`)
#   exec     RT exec ID true                    (into a running `sleep 3600` container)
# for apus, runc and crun (and the unprotected apus when given), each with its
# own temporary --root. Every timed run has the same id per runtime and
# operation: hyperfine's --prepare, which is not timed, deletes what the
# previous run left and, for start and delete, creates (and starts, and waits
# for `true` to exit) the container the timed command needs.
# Prints median and mean per runtime per operation, create+start+delete as the
# sum of those medians, the ratios apus/runc and apus/crun, and with a second
# binary what the CVE-2019-5736 protection costs (protected - unprotected).
#
# crun 1.8 refuses to create a container when the cgroup layout is hybrid and
# the cgroup2 hierarchy at /sys/fs/cgroup/unified has any controller (it checks
# /sys/fs/cgroup/unified/cgroup.controllers). Then crun's runs happen in a
# private mount namespace where only that file is hidden behind an empty one:
# crun still does its ordinary cgroupfs work (a /<id> cgroup in every v1
# hierarchy and in cgroup2, the spec's device rules), as apus and runc do in the
# host's namespace, with the same config.json. If even that fails, crun is
# skipped and the report says so.
#
# Everything created (containers, state roots, bundle, cgroups) is removed at
# exit, also on failure or interrupt.
# Environment: RUNS_LIFECYCLE (30), WARMUP_LIFECYCLE (3), RUNC (/usr/sbin/runc),
# CRUN (crun), BUSYBOX (/bin/busybox), VERBOSE=1 for hyperfine's own reports.

set -euo pipefail

APUS=${1:-}
APUS_U=${2:-}
RUNS=${RUNS_LIFECYCLE:-30}
WARMUP=${WARMUP_LIFECYCLE:-3}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-$(command -v crun || true)}
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "bench-lifecycle: $*" >&2; exit 1; }
note() { echo "bench-lifecycle: $*" >&2; }
[ -n "$APUS" ] || { echo "usage: $0 APUS_BINARY [APUS_UNPROTECTED_BINARY]" >&2; exit 2; }
APUS="$(readlink -f "$APUS")"
[ -x "$APUS" ] || die "$APUS is not an executable (run 'make build')"
if [ -n "$APUS_U" ]; then
	APUS_U="$(readlink -f "$APUS_U")"
	[ -x "$APUS_U" ] || die "$APUS_U (unprotected apus) is not an executable"
fi
[ "$(id -u)" -eq 0 ] || die "containers need root"
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (make deps: busybox-static)"
command -v hyperfine >/dev/null || die "hyperfine is missing (make deps)"
command -v jq >/dev/null || die "jq is missing (make deps)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$WARMUP" =~ ^[0-9]+$ ]] || die "RUNS_LIFECYCLE / WARMUP_LIFECYCLE must be numbers"
[ -x "$RUNC" ] || { note "no runc at $RUNC, comparing without it"; RUNC=""; }
[ -n "$CRUN" ] && [ -x "$CRUN" ] || { note "no crun, comparing without it"; CRUN=""; }

HF_VERSION="$(hyperfine --version | awk '{print $2}')"
if printf '%s\n1.13.0\n' "$HF_VERSION" | sort -V -C 2>/dev/null && [ "$HF_VERSION" != 1.13.0 ]; then
	SHELL_OPT=()
	note "hyperfine $HF_VERSION has no -N; timing through a shell (corrected by hyperfine)"
else
	SHELL_OPT=(-N)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/apus-bench-lifecycle.XXXXXX")"
chmod 755 "$WORK"
TAG="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
PREFIX="apus-bench-$TAG"   # every container id (and so every cgroup) starts with it
HF_PID=""

# Runtimes: name, binary, state root; crun may need the namespace wrapper.
NAMES=(apus)
declare -A BIN=([apus]="$APUS") ROOT=()
[ -n "$APUS_U" ] && { NAMES+=(apus-unprotected); BIN[apus-unprotected]="$APUS_U"; }
[ -n "$RUNC" ] && { NAMES+=(runc); BIN[runc]="$RUNC"; }
[ -n "$CRUN" ] && { NAMES+=(crun); BIN[crun]="$CRUN"; }
for n in "${NAMES[@]}"; do ROOT[$n]="$WORK/root-$n"; done
ALL_NAMES=("${NAMES[@]}")   # what cleanup looks at, even if crun is dropped later
CRUN_WRAP=()   # prefix that runs a command where crun accepts the cgroup layout
CRUN_NOTE=""

# closed CMD...: CMD without fds above 2 (make's jobserver, ...): a container
# keeps whatever its `create` had.
closed() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
	done
	exec "$@"
}
# quiet CMD...: closed, stdio on /dev/null, stderr kept in $WORK/last.err
quiet() { (closed "$@") </dev/null >/dev/null 2>"$WORK/last.err"; }

cleanup() {
	local rc=$? n id d pid
	trap - EXIT INT TERM
	set +e
	# a hyperfine still running (interrupted): stop it and what it is timing
	if [ -n "$HF_PID" ] && kill -0 "$HF_PID" 2>/dev/null; then
		for pid in $(pgrep -P "$HF_PID"); do kill -KILL "$pid" 2>/dev/null; done
		kill -KILL "$HF_PID" 2>/dev/null
		wait "$HF_PID" 2>/dev/null
	fi
	for n in "${ALL_NAMES[@]}"; do
		[ -d "${ROOT[$n]}" ] || continue
		for d in "${ROOT[$n]}"/"$PREFIX"-*; do
			[ -e "$d" ] || continue
			id=${d##*/}
			timeout -s KILL 20 "${BIN[$n]}" --root "${ROOT[$n]}" delete --force "$id" </dev/null >/dev/null 2>&1
		done
	done
	# cgroups a failed delete left behind: kill what is in them, then remove them
	local cgs
	cgs="$(find /sys/fs/cgroup -type d -name "$PREFIX-*" -prune 2>/dev/null)"
	if [ -n "$cgs" ]; then
		note "removing leftover cgroups: $(echo "$cgs" | tr '\n' ' ')"
		for d in $cgs; do
			for pid in $(cat "$d"/cgroup.procs 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		done
		sleep 0.2
		for d in $cgs; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	fi
	local m
	for m in $(grep -F " $WORK" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bundle --------------------------------------------------------------------
mkdir -p "$WORK/rootfs"/{bin,proc,sys,dev,tmp} "$WORK/bundle-true" "$WORK/bundle-sleep"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in true sleep sh; do ln -s busybox "$WORK/rootfs/bin/$a"; done
SPEC_TOOL="${RUNC:-$APUS}"   # `runc spec` when there is a runc
(cd "$WORK" && "$SPEC_TOOL" spec && mv config.json spec.json)
for b in true sleep; do
	args='["true"]'
	[ "$b" = sleep ] && args='["sleep", "3600"]'
	jq --arg root "$WORK/rootfs" --argjson args "$args" \
		'.process.terminal = false | .root.readonly = false | .root.path = $root | .process.args = $args' \
		"$WORK/spec.json" >"$WORK/bundle-$b/config.json"
done
BUNDLE="$WORK/bundle-true"

# --- helper for hyperfine's --prepare / --cleanup (not timed) --------------------
#   lc gone    BIN ROOT ID          no container ID (delete -f what is there)
#   lc created BIN ROOT ID BUNDLE   a fresh created container ID
#   lc stopped BIN ROOT ID BUNDLE   a fresh container ID whose process has exited
cat >"$WORK/lc" <<'EOF'
#!/bin/sh
mode=$1 bin=$2 root=$3 id=$4 bundle=$5
if [ -e "$root/$id" ]; then
	"$bin" --root "$root" delete --force "$id" >/dev/null 2>"$root.err" || { cat "$root.err" >&2; exit 1; }
	[ ! -e "$root/$id" ] || { echo "lc: $id still exists after delete" >&2; exit 1; }
fi
[ "$mode" = gone ] && exit 0
"$bin" --root "$root" create --bundle "$bundle" "$id" </dev/null >/dev/null 2>"$root.err" || { cat "$root.err" >&2; exit 1; }
[ "$mode" = created ] && exit 0
"$bin" --root "$root" start "$id" </dev/null >/dev/null 2>"$root.err" || { cat "$root.err" >&2; exit 1; }
i=0
while [ $i -lt 500 ]; do
	[ "$("$bin" --root "$root" state "$id" 2>/dev/null | jq -r .status)" = stopped ] && exit 0
	i=$((i + 1))
	sleep 0.01
done
echo "lc: $id did not stop" >&2
exit 1
EOF
chmod 755 "$WORK/lc"

# --- crun: can it run here, and how --------------------------------------------
if [ -n "$CRUN" ]; then
	probe="$PREFIX-crun-probe"
	probe_rc=0
	quiet "$CRUN" --root "${ROOT[crun]}" run --bundle "$BUNDLE" "$probe" || probe_rc=$?
	if [ "$probe_rc" -eq 0 ]; then
		:
	elif grep -q 'hybrid mode' "$WORK/last.err"; then
		first_err="$(cat "$WORK/last.err")"
		: >"$WORK/empty"
		CRUN_WRAP=(unshare --mount --propagation private sh -c
			'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec "$@"' "$WORK/empty")
		"${BIN[crun]}" --root "${ROOT[crun]}" delete --force "$probe" </dev/null >/dev/null 2>&1 || true
		if quiet "${CRUN_WRAP[@]}" "$CRUN" --root "${ROOT[crun]}" run --bundle "$BUNDLE" "$probe"; then
			CRUN_NOTE="crun: '$first_err' (hybrid cgroups; cgroup2 has: $(paste -sd" " /sys/fs/cgroup/unified/cgroup.controllers)).
  Timed in a private mount namespace where /sys/fs/cgroup/unified/cgroup.controllers reads empty; crun then
  does its usual cgroupfs setup (a /<id> cgroup in each v1 hierarchy and cgroup2, the device rules), like
  apus and runc, which run in the host's mount namespace; same config.json for all (the namespace is set up
  once per hyperfine, outside the timed runs)."
		else
			CRUN_NOTE="crun: cannot run containers here, skipped: $first_err / with the namespace workaround: $(cat "$WORK/last.err")"
			CRUN=""
		fi
	else
		CRUN_NOTE="crun: cannot run containers here, skipped: \`crun run\` of \`true\` exited with $probe_rc: $(cat "$WORK/last.err")"
		CRUN=""
	fi
	"${BIN[crun]}" --root "${ROOT[crun]}" delete --force "$probe" </dev/null >/dev/null 2>&1 || true
	if [ -z "$CRUN" ]; then
		kept=()
		for n in "${NAMES[@]}"; do [ "$n" = crun ] || kept+=("$n"); done
		NAMES=("${kept[@]}")
	fi
fi

# wrap NAME: the command prefix for runtime NAME's hyperfine (and setup)
wrap() { if [ "$1" = crun ] && ((${#CRUN_WRAP[@]})); then printf '%s\0' "${CRUN_WRAP[@]}"; fi; }

# --- running containers for exec ------------------------------------------------
for n in "${NAMES[@]}"; do
	mapfile -d '' w < <(wrap "$n")
	id="$PREFIX-$n-sleep"
	quiet "${w[@]}" "${BIN[$n]}" --root "${ROOT[$n]}" create --bundle "$WORK/bundle-sleep" "$id" ||
		die "$n create (sleep container) failed: $(cat "$WORK/last.err")"
	quiet "${BIN[$n]}" --root "${ROOT[$n]}" start "$id" ||
		die "$n start (sleep container) failed: $(cat "$WORK/last.err")"
done

# --- benchmark -------------------------------------------------------------------
OPS=(create start delete run exec)
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
CPUS="$(nproc)"
# how busy the CPUs are right now (the load average also remembers the last
# minute: a build or the startup benchmark just before)
cpu_times() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r busy0 idle0 < <(cpu_times)
sleep 1
read -r busy1 idle1 < <(cpu_times)
BUSY=$(((busy1 - busy0) * 100 / (busy1 - busy0 + idle1 - idle0 + 1)))
echo "lifecycle: ${NAMES[*]} x ${#OPS[@]} operations x $RUNS runs (+$WARMUP warm-up), hyperfine $HF_VERSION${SHELL_OPT[*]:+ ${SHELL_OPT[*]}}"
echo "load average $LOAD on $CPUS CPUs; CPUs $BUSY% busy over the last second"
if ((BUSY >= 25)) || awk -v l="${LOAD%% *}" -v c="$CPUS" -v b="$BUSY" 'BEGIN { exit !(l > c && b >= 10) }'; then
	note "warning: the machine is busy; the timings will be inflated and noisy"
fi

# hf OUT NAME... : one hyperfine for OP (global) over the runtimes NAME...
hf() {
	local out=$1 n id
	local args=("${SHELL_OPT[@]}" --runs "$RUNS" --warmup "$WARMUP" --style basic --export-json "$out")
	shift
	for n in "$@"; do
		local b="${BIN[$n]}" r="${ROOT[$n]}"
		id="$PREFIX-$n-$OP"
		case $OP in
		create) args+=(--prepare "$WORK/lc gone $b $r $id" --command-name "$n create" "$b --root $r create --bundle $BUNDLE $id") ;;
		start) args+=(--prepare "$WORK/lc created $b $r $id $BUNDLE" --command-name "$n start" "$b --root $r start $id") ;;
		delete) args+=(--prepare "$WORK/lc stopped $b $r $id $BUNDLE" --command-name "$n delete" "$b --root $r delete $id") ;;
		run) args+=(--prepare "$WORK/lc gone $b $r $id" --command-name "$n run" "$b --root $r run --bundle $BUNDLE $id") ;;
		exec) args+=(--command-name "$n exec" "$b --root $r exec $PREFIX-$n-sleep true") ;;
		esac
	done
	mapfile -d '' w < <(wrap "$1")
	(closed "${w[@]}" hyperfine "${args[@]}") </dev/null >"$out.log" 2>&1 &
	HF_PID=$!
	if ! wait "$HF_PID"; then
		HF_PID=""
		cat "$out.log" >&2
		die "hyperfine failed ($OP: $*)"
	fi
	HF_PID=""
	[ -n "${VERBOSE:-}" ] && cat "$out.log"
	# nothing stays behind between operations
	for n in "$@"; do
		"$WORK/lc" gone "${BIN[$n]}" "${ROOT[$n]}" "$PREFIX-$n-$OP" || die "cannot delete $PREFIX-$n-$OP"
	done
}

HOST=()
for n in "${NAMES[@]}"; do [ "$n" = crun ] || HOST+=("$n"); done
for OP in "${OPS[@]}"; do
	hf "$WORK/res-$OP-host.json" "${HOST[@]}"
	if [ -n "$CRUN" ]; then hf "$WORK/res-$OP-crun.json" crun; fi
done
# the exec containers must still be running (exec really ran in them)
for n in "${NAMES[@]}"; do
	st="$("${BIN[$n]}" --root "${ROOT[$n]}" state "$PREFIX-$n-sleep" | jq -r .status)"
	[ "$st" = running ] || die "$n: the exec container is '$st', not running"
done

# --- report ----------------------------------------------------------------------
echo
jq -r -s '[.[].results[]] | .[] | [.command, .median, .mean] | @tsv' "$WORK"/res-*.json |
	awk -F'\t' -v ops="${OPS[*]}" '
	{ med[$1] = $2 * 1000; mean[$1] = $3 * 1000 }
	function cell(k) { return (k in med) ? sprintf("%7.2f %7.2f", med[k], mean[k]) : sprintf("%7s %7s", "-", "-") }
	function ratio(a, b) { return (a in med && b in med) ? sprintf("%.2fx", med[a] / med[b]) : "-" }
	END {
		nn = split("apus runc crun", rt, " ")
		no = split(ops, op, " ")
		hdr = sprintf("%-20s", "operation (ms)")
		for (i = 1; i <= nn; i++) hdr = hdr sprintf(" %15s", rt[i] " med  mean")
		hdr = hdr sprintf(" %10s %10s", "apus/runc", "apus/crun")
		print hdr; line = hdr; gsub(/./, "-", line); print line
		for (j = 1; j <= no; j++) {
			s = sprintf("%-20s", op[j])
			for (i = 1; i <= nn; i++) s = s " " cell(rt[i] " " op[j])
			printf "%s %10s %10s\n", s, ratio("apus " op[j], "runc " op[j]), ratio("apus " op[j], "crun " op[j])
			if (op[j] == "delete") {
				# create + start + delete: the sum of the three medians
				s = sprintf("%-20s", "create+start+delete")
				for (i = 1; i <= nn; i++) {
					ok = 1; sum = 0
					for (k = 1; k <= 3; k++) { key = rt[i] " " op[k]; if (key in med) sum += med[key]; else ok = 0 }
					if (ok) { med[rt[i] " csd"] = sum; s = s sprintf(" %7.2f %7s", sum, "") } else s = s sprintf(" %7s %7s", "-", "")
				}
				printf "%s %10s %10s\n", s, ratio("apus csd", "runc csd"), ratio("apus csd", "crun csd")
			}
		}
	}'
echo "(med = median, mean in ms over $RUNS runs; create+start+delete = sum of the 3 medians; ratios compare"
echo " medians, below 1.00x apus is faster; process \`true\`, exec into \`sleep 3600\`, busybox rootfs, runc-spec config)"
[ -n "$CRUN_NOTE" ] && echo "$CRUN_NOTE"

if [ -n "$APUS_U" ]; then
	echo
	echo "CVE-2019-5736 protection: apus vs the same sources built with -DAPUS_BENCH_UNPROTECTED"
	if cmp -s "$APUS" "$APUS_U"; then
		echo "  (the two binaries are identical: the flag changed nothing, expect no difference)"
	fi
	jq -r -s '[.[].results[]] | .[] | [.command, .median] | @tsv' "$WORK"/res-*.json |
		awk -F'\t' '
		{ med[$1] = $2 * 1000 }
		END {
			printf "%-10s %14s %14s %10s %8s\n", "operation", "protected ms", "unprotected ms", "cost ms", "ratio"
			n = split("create run exec", op, " ")
			for (j = 1; j <= n; j++) {
				p = med["apus " op[j]]; u = med["apus-unprotected " op[j]]
				printf "%-10s %14.2f %14.2f %+10.2f %7.2fx\n", op[j], p, u, p - u, p / u
			}
		}'
	echo "(medians; cost = protected - unprotected)"
fi
