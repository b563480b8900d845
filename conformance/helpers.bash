# shellcheck shell=bash
#
# Shared helpers for the runtime-agnostic lifecycle conformance suite.
#
#   RUNTIME=/usr/sbin/runc bats conformance/      # check the suite against runc
#   bats conformance/                              # run against .build/release/apus
#
# Every test gets its own temporary directory (TESTDIR) holding a private
# state root (ROOT, passed as `--root`) and an OCI bundle (BUNDLE) whose rootfs
# is built from a static busybox.  `teardown` force-deletes every container
# the test created, kills helper processes, checks that nothing (processes,
# mounts, cgroups) was left behind and removes TESTDIR, even when the test
# failed.

bats_require_minimum_version 1.5.0

RUNTIME="${RUNTIME:-$BATS_TEST_DIRNAME/../.build/release/apus}"
RUNTIME="$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
# A hung runtime must not hang the whole suite.
export BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-120}"

# Commands linked to busybox inside the rootfs.
BUSYBOX_APPLETS=(sh ls cat echo sleep true false hostname id readlink kill
	env printf test mkdir touch rm wc grep sed tr head tail date stat ps
	uname pwd mount)

# --------------------------------------------------------------------------
# Process / fd hygiene
# --------------------------------------------------------------------------

# Close every fd above 2 in the current (sub)shell.  bats keeps fds 3 and 4
# open and waits for them to be closed; a container that inherits them would
# make bats hang forever.
_close_fds() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
	return 0
}

# _rt ARGS...: the runtime with --root, stdin from /dev/null, no extra fds.
_rt() {
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# runtime ARGS...: `run` the runtime; sets $status, $output (stdout+stderr).
# Use only for commands that do not leave a container process holding our
# stdio behind (i.e. not `create` or `run -d`; see create_container).
runtime() {
	run _rt "$@"
}

# _rt_to_files OUT ERR ARGS...: run the runtime with stdout/stderr going to
# files (pass-through mode: the container inherits them).
_rt_to_files() {
	local out=$1 err=$2
	shift 2
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$out" 2>"$err"
}

# io_file ID EXT: file receiving the stdio of container ID ($TESTDIR/ID.EXT;
# odd ids such as "a/b" or "" are hashed).
io_file() {
	local name=$1
	if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._+,-]{0,99}$ ]]; then
		name="odd-$(printf '%s' "$1" | md5sum | cut -c1-16)"
	fi
	echo "$TESTDIR/$name.$2"
}

# create_container ID [CREATE-FLAGS...]: `create --bundle $BUNDLE` with the
# container's stdio redirected to $TESTDIR/ID.out / ID.err.  Sets $status and
# $output (what the runtime itself printed).
create_container() {
	local id=$1 out err
	shift
	out=$(io_file "$id" out)
	err=$(io_file "$id" err)
	: >"$out"
	: >"$err"
	run _rt_to_files "$out" "$err" create --bundle "$BUNDLE" "$@" "$id"
	output="$(cat "$out" "$err")"
}

# run_detached ID [RUN-FLAGS...]: `run -d --bundle $BUNDLE`, like create_container.
run_detached() {
	local id=$1 out err
	shift
	out=$(io_file "$id" out)
	err=$(io_file "$id" err)
	: >"$out"
	: >"$err"
	run _rt_to_files "$out" "$err" run -d --bundle "$BUNDLE" "$@" "$id"
	output="$(cat "$out" "$err")"
}

# create_and_start ID: create + start, asserting success.
create_and_start() {
	create_container "$1"
	assert_status 0
	runtime start "$1"
	assert_status 0
}

# assert_works_from_created ID: the created container ID starts (running)
# and goes with delete --force.
assert_works_from_created() {
	assert_equal "$(container_status "$1")" created
	runtime start "$1"
	assert_status 0
	assert_equal "$(container_status "$1")" running
	runtime delete --force "$1"
	assert_status 0
}

# container_stdout ID / container_stderr ID: what the container wrote so far.
container_stdout() { cat "$(io_file "$1" out)"; }
container_stderr() { cat "$(io_file "$1" err)"; }

# spawn_bg CMD...: start a helper process in the background with no extra
# fds; its pid is recorded so teardown kills it.  Prints nothing; the pid is
# in $BG_PID.
spawn_bg() {
	(
		_close_fds
		exec "$@"
	) </dev/null >/dev/null 2>&1 &
	BG_PID=$!
	echo "$BG_PID" >>"$TESTDIR/bg.pids"
}

# --------------------------------------------------------------------------
# Bundle and config
# --------------------------------------------------------------------------

# Fallback configuration (runc 1.1.5 `runc spec`), used when `$RUNTIME spec`
# is not available.
_default_spec() {
	cat <<'EOF'
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {"uid": 0, "gid": 0},
		"args": ["sh"],
		"env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
		"cwd": "/",
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"root": {"path": "rootfs", "readonly": true},
	"hostname": "runc",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
		{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
	],
	"linux": {
		"resources": {"devices": [{"allow": false, "access": "rwm"}]},
		"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
		"maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}
EOF
}

# setup_bundle: create TESTDIR, ROOT, BUNDLE (busybox rootfs + config.json).
# The config runs `sleep 3600` with terminal=false and a writable rootfs.
setup_bundle() {
	TESTDIR="$(mktemp -d "${TMPDIR:-/tmp}/bats-apus.XXXXXX")"
	# traversable by unprivileged (user-namespaced) container roots
	chmod 755 "$TESTDIR"
	ROOT="$TESTDIR/state"
	BUNDLE="$TESTDIR/bundle"
	ROOTFS="$BUNDLE/rootfs"
	export TESTDIR ROOT BUNDLE ROOTFS
	: >"$TESTDIR/ids"
	: >"$TESTDIR/bg.pids"

	[ -x "$RUNTIME" ] || {
		echo "RUNTIME=$RUNTIME is not an executable" >&2
		return 1
	}

	mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp,etc,root,run}
	chmod 1777 "$ROOTFS/tmp"
	cp "$BUSYBOX" "$ROOTFS/bin/busybox"
	local a
	for a in "${BUSYBOX_APPLETS[@]}"; do
		ln -sf busybox "$ROOTFS/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\n' >"$ROOTFS/etc/group"

	# The base config comes from `$RUNTIME spec` (cached per test file), or
	# the built-in copy of runc's if that does not work.
	local base="${BATS_FILE_TMPDIR:-$TESTDIR}/config.base.json"
	if [ ! -s "$base" ]; then
		if (cd "$BUNDLE" && "$RUNTIME" spec </dev/null >/dev/null 2>&1 3>&- 4>&-) &&
			jq -e '.process and .root' "$BUNDLE/config.json" >/dev/null 2>&1; then
			mv "$BUNDLE/config.json" "$base"
		else
			rm -f "$BUNDLE/config.json"
			_default_spec >"$base"
		fi
	fi
	cp "$base" "$BUNDLE/config.json"
	update_config '.process.terminal = false
		| .process.args = ["sleep", "3600"]
		| .root.readonly = false'
}

# update_config FILTER [JQ-ARGS...]: rewrite $BUNDLE/config.json through jq.
update_config() {
	local filter=$1
	shift
	jq "$filter" "$@" <"$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# json_array STRING...: print a JSON array of the given strings (safe for
# strings that look like options, contain quotes, newlines, ...).
json_array() {
	local i=0 a jqargs=() names=()
	for a in "$@"; do
		jqargs+=(--arg "a$i" "$a")
		names+=("\$a$i")
		i=$((i + 1))
	done
	local IFS=,
	jq -nc "${jqargs[@]}" "[${names[*]}]"
}

# set_args ARG...: set process.args.
set_args() {
	update_config '.process.args = $a' --argjson a "$(json_array "$@")"
}

# unique_id: a fresh container id ("bats-" prefix, so leaks are findable with
# `find /sys/fs/cgroup -name 'bats*'`).  Recorded for teardown.
unique_id() {
	local id
	id="bats-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	echo "$id" >>"$TESTDIR/ids"
	echo "$id"
}

# --------------------------------------------------------------------------
# State helpers and assertions
# --------------------------------------------------------------------------

# state_field ID FIELD: print one field of `state ID` (empty on error).
state_field() {
	_rt state "$1" 2>/dev/null | jq -r ".$2" 2>/dev/null
}

container_pid() { state_field "$1" pid; }
container_status() { state_field "$1" status; }

# wait_for_status ID STATUS [TIMEOUT-SECONDS=30] (a bound for a loaded machine)
wait_for_status() {
	local id=$1 want=$2 timeout=${3:-30} cur i
	for ((i = 0; i < timeout * 20; i++)); do
		cur="$(container_status "$id")"
		[ "$cur" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id: status '$cur', wanted '$want' after ${timeout}s" >&2
	return 1
}

# wait_until TIMEOUT CMD...: poll CMD every 50ms. CMD's arguments are
# expanded once, at the call: to poll a "$(...)", quote it for eval
# (wait_until 30 eval '[ "$(grep -c x "$f")" -ge 2 ]').
wait_until() {
	local timeout=$1 i
	shift
	for ((i = 0; i < timeout * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out after ${timeout}s waiting for: $*" >&2
	return 1
}

pid_alive() {
	[ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit status $1, got $status; output:" >&2
		echo "$output" >&2
		# (run --separate-stderr keeps stderr apart)
		[ -z "${stderr:-}" ] || echo "stderr: $stderr" >&2
		return 1
	fi
}

assert_output_contains() {
	if [[ "$output" != *"$1"* ]]; then
		echo "expected output to contain: $1" >&2
		echo "actual output: $output" >&2
		return 1
	fi
}

# Case-insensitive: Go prints errno texts in lower case, C's strerror capitalised.
assert_output_contains_i() {
	if [[ "${output,,}" != *"${1,,}"* ]]; then
		echo "expected output to contain (any case): $1" >&2
		echo "actual output: $output" >&2
		return 1
	fi
}

assert_equal() {
	if [ "$1" != "$2" ]; then
		echo "expected: '$2'" >&2
		echo "actual:   '$1'" >&2
		return 1
	fi
}

# assert_root_empty: the state root has no entries (it may not exist).
assert_root_empty() {
	local left
	left="$(ls -A "$ROOT" 2>/dev/null || true)"
	if [ -n "$left" ]; then
		echo "state root not empty: $left" >&2
		return 1
	fi
}

# cgroups_of ID: cgroup directories whose name starts with ID. find fails
# when a directory it is walking goes away (other containers' cgroups being
# removed meanwhile); what it found is still the answer.
cgroups_of() {
	find /sys/fs/cgroup -maxdepth 6 -type d -name "$1*" 2>/dev/null || true
}

assert_no_cgroups() {
	local left
	left="$(cgroups_of "$1")"
	[ -z "$left" ] && return 0
	# shellcheck disable=SC2086
	runc_left_empty_cgroups $left && return 0
	echo "cgroups left for $1: $left" >&2
	return 1
}

# runc_left_empty_cgroups DIR...: true when RUNTIME is runc 1.1, no process
# is in these cgroups (or below), and they could be removed (here, within
# 20 s). runc 1.1's delete gives up on a cgroup after five rmdir tries 10,
# 20, 40, 80 ms apart (cgroups.RemovePaths): on a loaded machine, with the
# killed processes not yet gone, it leaves it (seen in cgroups-update's pod
# test). Not counted against runc; apus's delete must remove its own.
runc_left_empty_cgroups() {
	local d
	runtime_is_apus && return 1
	is_runc_before_1_2 || return 1
	for d in $(find "$@" -type d 2>/dev/null); do
		[ -z "$(cat "$d/cgroup.procs" 2>/dev/null)" ] || return 1
	done
	wait_until 20 _rmdir_cgroups "$@" 2>/dev/null || return 1
	echo "(runc 1.1 left empty cgroups, removed: $*)" >&2
}

# procs_in_rootfs: host pids of processes whose root directory is our bundle
# rootfs (same inode: the rootfs bind mount keeps st_dev/st_ino).
# (Only /proc/*/root is looked at: `find -L /proc` stat'ed every entry of
# every process, slow on a loaded machine, and a teardown timed out in it.)
procs_in_rootfs() {
	local r p
	for r in /proc/[0-9]*/root; do
		[ "$r" -ef "$ROOTFS" ] || continue
		p=${r#/proc/}
		p=${p%/root}
		pid_alive "$p" && echo "$p"
	done
	return 0
}

# pids_in_pidns PID: host pids sharing PID's pid namespace.
pids_in_pidns() {
	local ns p
	ns="$(readlink "/proc/$1/ns/pid" 2>/dev/null)" || return 0
	ns=${ns//[/\\[}
	ns=${ns//]/\\]}
	for p in $(find /proc -mindepth 3 -maxdepth 3 -path '/proc/*/ns/pid' -lname "$ns" 2>/dev/null); do
		p=${p#/proc/}
		p=${p%/ns/pid}
		pid_alive "$p" && echo "$p"
	done
	return 0
}

# runtime_supports_ns TYPE: false only when `$RUNTIME features` reports the
# supported namespaces and TYPE is not among them.
runtime_supports_ns() {
	local f
	f="$("$RUNTIME" features 2>/dev/null </dev/null 3>&- 4>&-)" || return 0
	jq -e '.linux.namespaces' <<<"$f" >/dev/null 2>&1 || return 0
	jq -e --arg t "$1" '.linux.namespaces | index($t)' <<<"$f" >/dev/null 2>&1
}

# is_runc_before_1_2: true if RUNTIME is runc 1.0/1.1 (known spec deviations).
is_runc_before_1_2() {
	"$RUNTIME" --version 2>/dev/null </dev/null 3>&- 4>&- | grep -qE '^runc version 1\.[01]\.'
}

# --------------------------------------------------------------------------
# cgroups of a container (resources.bats, inspect.bats)
# --------------------------------------------------------------------------

# cg_file CONTROLLER FILE: the container init's cgroup file for a v1
# controller, or the v2 one when the host has no such v1 hierarchy.
cg_file() {
	local pid line
	pid=$(container_pid "$id")
	line=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
	if [ -n "$line" ]; then
		local mp
		mp=$(awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -1)
		echo "$mp$line/$2"
	else
		echo "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")/$2"
	fi
}

v1_has() { awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) f = 1 } END { exit !f }' /proc/self/mountinfo; }

# --------------------------------------------------------------------------
# setup / teardown
# --------------------------------------------------------------------------

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

# _rt_bounded ARGS...: like _rt but killed after 20s (teardown must not hang
# on a broken runtime).
_rt_bounded() {
	(
		_close_fds
		exec timeout -s KILL 20 "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# host_mount ARGS...: mount(8) on the host, recorded for undo_host_mounts.
host_mount() {
	mount "$@" || return 1
	echo "${!#}" >>"$TESTDIR/host.mounts"
}

# undo_host_mounts: for a teardown, before teardown_bundle: deletes the
# containers first (their mount namespaces hold copies of the host's
# mounts), then lazily unmounts what host_mount mounted, newest first.
undo_host_mounts() {
	local m i
	[ -n "${TESTDIR:-}" ] && [ -s "$TESTDIR/host.mounts" ] || return 0
	for i in $(_rt_bounded list -q 2>/dev/null; ls -A "$ROOT" 2>/dev/null); do
		_rt_bounded delete --force "$i" >/dev/null 2>&1
	done
	for m in $(tac "$TESTDIR/host.mounts"); do
		umount -l "$m" 2>/dev/null
	done
	return 0
}

# _rmdir_cgroups DIR...: rmdir each and the cgroups below, deepest first;
# true once none is left.
_rmdir_cgroups() {
	find "$@" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -z "$(_existing "$@")" ]
}

# _existing PATH...: those of the paths that exist.
_existing() {
	local p
	for p in "$@"; do
		[ -e "$p" ] && echo "$p"
	done
	return 0
}

teardown_bundle() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ] || return 0
	local rc=0 id live ids pid left cg m

	# 1. force-delete every container the runtime knows about
	live="$(
		{
			_rt_bounded list -q 2>/dev/null
			ls -A "$ROOT" 2>/dev/null
		} | sort -u
	)"
	for id in $live; do
		_rt_bounded delete --force "$id" >/dev/null 2>&1 || {
			_rt_bounded kill "$id" KILL >/dev/null 2>&1
			_rt_bounded delete --force "$id" >/dev/null 2>&1
		}
	done

	# 2. helper processes started by the test
	while read -r pid; do
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	done <"$TESTDIR/bg.pids"
	while read -r pid; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null
	done <"$TESTDIR/bg.pids"

	# 3. leak checks (a leak fails the test) + last-resort cleanup
	left="$(procs_in_rootfs)"
	if [ -n "$left" ]; then
		echo "teardown: processes left in the container rootfs: $left" >&2
		kill -9 $left 2>/dev/null
		rc=1
	fi
	# (only our own "bats-" ids: never touch unrelated cgroups)
	ids="$(printf '%s\n' $live | cat - "$TESTDIR/ids" | grep '^bats-.' | sort -u || true)"
	if [ -n "$ids" ]; then
		left="$(find /sys/fs/cgroup -maxdepth 6 -type d 2>/dev/null |
			awk -F/ 'NR == FNR { want[$0] = 1; next } { for (w in want) if (index($NF, w) == 1) { print; next } }' \
				<(echo "$ids") - || true)"
		# shellcheck disable=SC2086
		if [ -n "$left" ] && ! runc_left_empty_cgroups $left; then
			echo "teardown: cgroups left behind: $left" >&2
			for cg in $left; do
				# shellcheck disable=SC2046
				kill -9 $(cat "$cg/cgroup.procs" 2>/dev/null) 2>/dev/null
			done
			wait_until 20 _rmdir_cgroups $left 2>/dev/null
			rc=1
		fi
	fi
	left="$(grep -F "$TESTDIR" /proc/self/mountinfo | awk '{print $5}' || true)"
	if [ -n "$left" ]; then
		echo "teardown: mounts left behind: $left" >&2
		for m in $(printf '%s\n' $left | sort -r); do
			umount -l "$m" 2>/dev/null
		done
		rc=1
	fi

	rm -rf --one-file-system "$TESTDIR"
	return $rc
}

# --------------------------------------------------------------------------
# CLI / binary checks (cli.bats, binary.bats)
# --------------------------------------------------------------------------

# The runc used for cross-runtime checks (tests needing it skip if absent).
REFERENCE_RUNC="${REFERENCE_RUNC:-/usr/sbin/runc}"

# _rt_bare ARGS...: the runtime WITHOUT the implicit --root (to test how the
# global flags may be spelled); stdin from /dev/null, no extra fds.
_rt_bare() {
	(
		_close_fds
		exec "$RUNTIME" "$@"
	) </dev/null
}

# runtime_name: first word of `--version` ("apus", "runc", ...).
runtime_name() {
	"$RUNTIME" --version 2>/dev/null </dev/null 3>&- 4>&- | head -n1 | cut -d' ' -f1
}

runtime_is_apus() { [ "$(runtime_name)" = apus ]; }
runtime_is_runc() { [ "$(runtime_name)" = runc ]; }

# skip_unless_apus REASON: for checks of apus-only behaviour.
skip_unless_apus() {
	runtime_is_apus || skip "apus-specific: $1"
}

# skip_on_apus_bug REASON: a known apus deviation (see the report in the
# test's comment). Skipped against apus only, so the test keeps running (and
# must pass) against runc; remove the call once apus is fixed.
skip_on_apus_bug() {
	if runtime_is_apus; then
		skip "known apus bug: $1"
	fi
	return 0
}

# require_reference_runc: skip unless $REFERENCE_RUNC is there.
require_reference_runc() {
	[ -x "$REFERENCE_RUNC" ] || skip "no reference runc at $REFERENCE_RUNC"
}

# _ref_runc ARGS...: the reference runc with its own state root
# ($TESTDIR/runc-root); stdin from /dev/null, no extra fds.
_ref_runc() {
	(
		_close_fds
		exec "$REFERENCE_RUNC" --root "$TESTDIR/runc-root" "$@"
	) </dev/null
}

# cleanup_ref_runc: force-delete whatever the reference runc still has in
# $TESTDIR/runc-root.  Call before teardown_bundle (whose leak checks would
# otherwise flag runc's containers).
cleanup_ref_runc() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR/runc-root" ] && [ -x "$REFERENCE_RUNC" ] || return 0
	local dir
	for dir in "$TESTDIR/runc-root"/*; do
		[ -d "$dir" ] || continue
		(
			_close_fds
			exec timeout -s KILL 20 "$REFERENCE_RUNC" --root "$TESTDIR/runc-root" delete --force "${dir##*/}"
		) </dev/null >/dev/null 2>&1
	done
	return 0
}

# assert_stderr_contains TEXT: for `run --separate-stderr`.
assert_stderr_contains() {
	if [[ "$stderr" != *"$1"* ]]; then
		echo "expected stderr to contain: $1" >&2
		echo "actual stderr: $stderr" >&2
		echo "actual stdout: $output" >&2
		return 1
	fi
}

# assert_match REGEX [STRING=$output]: bash ERE match.
assert_match() {
	local s=${2-$output}
	if ! [[ "$s" =~ $1 ]]; then
		echo "expected a match for: $1" >&2
		echo "actual: $s" >&2
		return 1
	fi
}

# in_dir DIR CMD...: run CMD (a function is fine) with DIR as the cwd.
in_dir() {
	local dir=$1
	shift
	(cd "$dir" && "$@")
}

# assert_stderr_msg TEXT: stderr has TEXT either raw (apus: "apus: TEXT") or
# Go %q-quoted inside a logrus msg="..." (runc: quotes become \").
assert_stderr_msg() {
	local quoted=${1//\\/\\\\}
	quoted=${quoted//\"/\\\"}
	if [[ "$stderr" != *"$1"* && "$stderr" != *"$quoted"* ]]; then
		echo "expected stderr to contain: $1 (or: $quoted)" >&2
		echo "actual stderr: $stderr" >&2
		echo "actual stdout: $output" >&2
		return 1
	fi
}

# console_receiver SOCKET OUT: background python3 that listens on SOCKET,
# receives the pty master (SCM_RIGHTS) and copies everything read from it
# to OUT (written as OUT.part, renamed to OUT at EOF/EIO).  OUT.meta gets
# the number of fds received.
console_receiver() {
	cat >"$TESTDIR/recv.py" <<'EOF'
import array, errno, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp")
s.listen(1)
os.rename(path + ".tmp", path)
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
c.close()
s.close()
with open(out + ".meta", "w") as m:
    m.write("fds=%d\n" % len(fds))
with open(out + ".part", "wb") as f:
    while True:
        try:
            b = os.read(fds[0], 4096)
        except OSError as e:
            if e.errno == errno.EIO:
                break
            raise
        if not b:
            break
        f.write(b)
        f.flush()
os.rename(out + ".part", out)
EOF
	spawn_bg python3 "$TESTDIR/recv.py" "$1" "$2"
	wait_until 10 test -S "$1"
}
