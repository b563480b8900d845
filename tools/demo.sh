#!/usr/bin/env bash
#
# tools/demo.sh APUS_BINARY -- a guided tour of apus (run by `make demo`).
#
# Builds a throw-away busybox bundle, runs one container in the foreground,
# then walks a second one through create / state / start / state / inspect /
# kill / delete.  Everything (containers, state root, bundle) lives under one temp
# directory and is removed on exit, also when a step fails or on Ctrl-C.
# Needs root, jq and a static busybox (/bin/busybox, Debian: busybox-static).

set -euo pipefail

APUS=${1:-}
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ -z "$APUS" ]; then
	echo "usage: $0 APUS_BINARY" >&2
	exit 2
fi
APUS_SHOWN=$APUS
APUS="$(readlink -f "$APUS")"
[ -x "$APUS" ] || { echo "demo: $APUS is not an executable (run 'make build')" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo: containers need root; run as root (sudo make demo)" >&2; exit 1; }
command -v jq >/dev/null || { echo "demo: jq is missing (make deps)" >&2; exit 1; }
[ -x "$BUSYBOX" ] || { echo "demo: no static busybox at $BUSYBOX (apt-get install busybox-static)" >&2; exit 1; }

# --- presentation ----------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$'\e[1m' D=$'\e[2m' C=$'\e[36m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' D='' C='' G='' R='' N=''
fi
STEP=0
title() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
step() {
	STEP=$((STEP + 1))
	printf '\n%s%d. %s%s\n' "$B" "$STEP" "$1" "$N"
	shift
	local line
	for line in "$@"; do printf '   %s%s%s\n' "$D" "$line" "$N"; done
}
# shorten TEXT: the binary becomes "apus", the scratch directory "$DEMO".
shorten() {
	local s=${1//"$APUS"/apus}
	printf '%s' "${s//"$WORK"/\$DEMO}"
}
# show CMD...: print the command (shortened), run it, indent its output.
# Returns the command's exit status.
show() {
	local shown
	shown="$(shorten "$*")"
	printf '   %s$ %s%s\n' "$C" "$shown" "$N"
	local rc=0
	"$@" 2>&1 | sed 's/^/     /' || rc=${PIPESTATUS[0]}
	return "$rc"
}
ok() { printf '   %s✓ %s%s\n' "$G" "$*" "$N"; }

# --- workspace and cleanup -------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/apus-demo.XXXXXX")"
chmod 755 "$WORK"
ROOT="$WORK/state"
BUNDLE="$WORK/bundle"
TAG="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
ID1="apus-demo-$TAG-run"
ID2="apus-demo-$TAG-life"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local id
	for id in "$ID2" "$ID1"; do
		if [ -d "$ROOT/$id" ]; then
			timeout -s KILL 20 "$APUS" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 || true
		fi
	done
	# last resort: nothing may keep running in (or stay mounted under) $WORK
	local m
	for m in $(grep -F " $WORK" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$WORK"
	if [ "$rc" -ne 0 ]; then
		printf '\n%sdemo failed (exit %d); everything it created has been removed.%s\n' "$R" "$rc" "$N" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# apus ARGS...: the binary with every fd above 2 closed.  A container inherits
# apus's fds, and must not keep make's jobserver pipe (or others) open.
apus() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		exec "$APUS" "$@"
	)
}

# --- the tour --------------------------------------------------------------
title "apus demo"
"$APUS" --version | sed 's/^/   /'
printf '   %sscratch space: %s (removed at the end)%s\n' "$D" "$WORK" "$N"

step "Build an OCI bundle: a root filesystem plus config.json" \
	"The rootfs is a static busybox and a symlink per command we use."
mkdir -p "$BUNDLE/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
for a in sh echo hostname ls readlink cat sleep date id; do
	ln -s busybox "$BUNDLE/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$BUNDLE/rootfs/etc/passwd"
ok "rootfs: $(find "$BUNDLE/rootfs/bin" -mindepth 1 | wc -l) entries in /bin, $(du -sh "$BUNDLE/rootfs" | cut -f1) in total"

step "Generate config.json with 'apus spec', then adjust it with jq" \
	"'apus spec' writes the same default config as 'runc spec' (interactive shell, read-only root)." \
	"We switch off the terminal, make the root writable and set the command."
(cd "$BUNDLE" && "$APUS" spec)
# shellcheck disable=SC2016
SCRIPT='echo "hostname: $(hostname)"
echo "pid $$ (the first process of a new PID namespace is pid 1)"
echo "namespaces of this process:"
for ns in cgroup ipc mnt net pid user uts; do echo "  $(readlink /proc/self/ns/$ns)"; done'
jq --arg script "$SCRIPT" '.process.terminal = false
	| .root.readonly = false
	| .hostname = "apus-demo"
	| .process.args = ["sh", "-c", $script]' "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
printf '   %skey settings:%s\n' "$D" "$N"
jq -r '"     hostname:   \(.hostname)",
	"     root:       \(.root.path) (readonly: \(.root.readonly))",
	"     namespaces: \([.linux.namespaces[].type] | join(", "))",
	"     args:       sh -c <script printing hostname, pid and namespaces>"' "$BUNDLE/config.json"

step "Run it in the foreground: 'apus run' = create + start + wait + delete" \
	"The container's output goes straight to this terminal; apus exits with its status."
show apus --root "$ROOT" run --bundle "$BUNDLE" "$ID1"
ok "exit status 0; the container is already gone ('apus list' is empty):"
show apus --root "$ROOT" list
printf '   %sfor comparison, the same namespaces seen from the host shell:%s\n' "$D" "$N"
for ns in cgroup ipc mnt net pid user uts; do printf '     %s\n' "$(readlink "/proc/$$/ns/$ns")"; done
printf '   %s(all differ except user and cgroup: the default spec does not ask for those two)%s\n' "$D" "$N"

title "The container lifecycle, step by step"
# shellcheck disable=SC2016
jq '.process.args = ["sh", "-c", "echo \"started as pid $$\"; trap \"echo got SIGTERM, exiting; exit 0\" TERM; while :; do sleep 1 & wait; done"]' \
	"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
LOG="$WORK/$ID2.log"
: >"$LOG"

step "create: set up namespaces, mounts and cgroups; do NOT start the program yet" \
	"The container's init waits for 'start'. Its stdout/stderr go to a log file," \
	"because a created container keeps whatever stdio 'create' had."
printf '   %s$ apus --root $DEMO/state create --bundle $DEMO/bundle %s >%s 2>&1%s\n' "$C" "$ID2" "\$DEMO/${LOG##*/}" "$N"
apus --root "$ROOT" create --bundle "$BUNDLE" "$ID2" </dev/null >"$LOG" 2>&1
ok "created (apus printed nothing, like runc)"

step "state: machine-readable JSON (what containerd and friends read)" \
	"status is 'created'; pid is the init process as seen from the host."
show apus --root "$ROOT" state "$ID2"
echo
PID="$("$APUS" --root "$ROOT" state "$ID2" | jq -r .pid)"
printf '   %shost view of pid %s: %s%s\n' "$D" "$PID" "$(shorten "$(tr '\0' ' ' </proc/"$PID"/cmdline)")" "$N"
printf '   %sthe log is still empty: %d bytes%s\n' "$D" "$(wc -c <"$LOG")" "$N"

step "start: run the user program inside the prepared container"
show apus --root "$ROOT" start "$ID2"
for _ in $(seq 50); do [ -s "$LOG" ] && break; sleep 0.1; done
ok "the container says: $(head -n1 "$LOG")"

step "state again: now 'running'"
show apus --root "$ROOT" state "$ID2"
echo
show apus --root "$ROOT" list

step "inspect: what the container really isolates, read from the kernel" \
	"Namespaces, capabilities, seccomp, cgroup limits and mounts as /proc and the cgroup" \
	"files show them, and the risks found there ('apus check' judges a config the same way)."
show apus --root "$ROOT" inspect "$ID2"

step "kill: send a signal to the container's init (default SIGTERM)" \
	"Our shell traps TERM and exits cleanly; a program without a handler would" \
	"ignore it, being PID 1 (then use 'kill $ID2 KILL')."
show apus --root "$ROOT" kill "$ID2" TERM
status=""
for _ in $(seq 50); do
	status="$("$APUS" --root "$ROOT" state "$ID2" 2>/dev/null | jq -r .status)"
	[ "$status" = stopped ] && break
	sleep 0.1
done
[ "$status" = stopped ] || { echo "   container did not stop (status: $status)" >&2; exit 1; }
ok "status is now '$status'; the container's log:"
sed 's/^/     │ /' "$LOG"

step "delete: remove what is left (state directory, cgroups)"
show apus --root "$ROOT" delete "$ID2"
if "$APUS" --root "$ROOT" state "$ID2" >/dev/null 2>&1; then
	echo "   container still exists after delete" >&2
	exit 1
fi
ok "gone: 'state' now fails with:"
show apus --root "$ROOT" state "$ID2" || true

title "Done"
printf '   Try it yourself: %s --help, and docs/runc-behaviour.md for the details.\n' "$APUS_SHOWN"
printf '   %sCleaning up %s ...%s\n' "$D" "$WORK" "$N"
