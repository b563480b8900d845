#!/usr/bin/env bats
# Hostile input: garbage wherever a user or a tool can put it (config.json,
# a state directory, exec's process.json, a full state root, few fds).
# Each case fails with status 1 (exec: 255, runc's exec failure status) and
# a clear `apus: ...` line, never by a signal, and leaves nothing behind.
# Every runtime call is bounded by a timeout, so a runtime that blocks
# (on a FIFO, say) fails the test instead of hanging the suite.

load helpers

# The mounts some tests make in TESTDIR go before the usual teardown.
teardown() {
	local m
	for m in "$TESTDIR/full" "$TESTDIR/cgroup-view"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	teardown_bundle
}

# _bounded_to_files OUT ERR ARGS...: the runtime, killed after 30 s.
_bounded_to_files() {
	local out=$1 err=$2
	shift 2
	(
		_close_fds
		exec timeout -s KILL 30 "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$out" 2>"$err"
}

# hrun ARGS...: the bounded runtime; $status, $output (stdout+stderr), and
# $stderr_text. Output goes to files, so a container that unexpectedly
# starts cannot hold bats's pipes.
hrun() {
	local out="$TESTDIR/h.out" err="$TESTDIR/h.err"
	run _bounded_to_files "$out" "$err" "$@"
	stderr_text="$(cat "$err")"
	output="$(cat "$out" "$err")"
}

# assert_refused [STATUS=1] [CONTEXT]: failed with STATUS, not by a signal;
# apus says why on one `apus: ` line.
assert_refused() {
	local want=${1:-1} what=${2:-}
	if [ "$status" -ne "$want" ]; then
		echo "$what: status $status (want $want), output: $output" >&2
		return 1
	fi
	if runtime_is_apus && ! grep -q '^apus: .' <<<"$stderr_text"; then
		echo "$what: no 'apus: ' message on stderr: $stderr_text" >&2
		return 1
	fi
}

# assert_nothing_left ID: no state, no cgroups, no processes in the rootfs.
assert_nothing_left() {
	local procs
	assert_root_empty
	procs="$(procs_in_rootfs)"
	if [ -n "$procs" ]; then
		echo "processes in the rootfs: $procs" >&2
		ps -o pid,ppid,stat,cmd -p "$(echo $procs | tr ' ' ,)" >&2 || true
		return 1
	fi
	assert_no_cgroups "$1"
}

pid_gone() { ! pid_alive "$1"; }

# config_is TEXT: the bundle's config.json becomes TEXT, byte for byte.
config_is() {
	rm -rf "$BUNDLE/config.json"
	printf '%s' "$1" >"$BUNDLE/config.json"
}

# create_refused CONTEXT: create and run must fail cleanly on the bundle.
create_refused() {
	local id
	id=$(unique_id)
	hrun create --bundle "$BUNDLE" "$id"
	assert_refused 1 "create: $1"
	assert_nothing_left "$id"
	hrun run --bundle "$BUNDLE" "$id"
	assert_refused 1 "run: $1"
	assert_nothing_left "$id"
}

# --------------------------------------------------------------- config.json

@test "hostile: config.json [], \"\", 0, true, {}, blank, NUL -> 1, nothing left" {
	local text
	for text in '[]' '""' '0' 'true' '{}' ' ' $'\x00'; do
		config_is "$text"
		create_refused "config.json = '$text'"
	done
}

@test "hostile: config.json null -> 1, nothing left" {
	if is_runc_before_1_2; then
		skip "runc 1.1.5 panics on a null config.json (nil dereference in loadSpec, exit 2)"
	fi
	config_is null
	create_refused "config.json = null"
	if runtime_is_apus; then assert_output_contains "config.json: expected object, got null"; fi
}

@test "hostile: config.json of 100 MB -> 1, nothing left" {
	# Sparse: apus refuses it by its size; a reader must not need 100 MB.
	rm "$BUNDLE/config.json"
	truncate -s 100M "$BUNDLE/config.json"
	create_refused "100 MB of NULs"
	head -c 16 /dev/zero | tr '\0' ' ' >"$BUNDLE/config.json"
	printf '{"annotations": {"a": "' >>"$BUNDLE/config.json"
	truncate -s 100M "$BUNDLE/config.json"
	create_refused "100 MB string"
}

@test "hostile: config.json nested 100000 deep -> 1, nothing left" {
	local deep
	deep="$(printf '[%.0s' $(seq 100000))"
	config_is "{\"ociVersion\": \"1.0.2\", \"annotations\": $deep"
	create_refused "100000 x ["
	deep="$(printf '{"a":%.0s' $(seq 100000))"
	config_is "$deep"
	create_refused "100000 x {\"a\":"
	if runtime_is_apus; then assert_output_contains "nesting deeper than 512 levels"; fi
}

@test "hostile: config.json with invalid UTF-8 -> 1, nothing left" {
	if is_runc_before_1_2; then
		skip "runc 1.1.5 (Go) replaces invalid UTF-8 with U+FFFD and creates the container"
	fi
	update_config '.hostname = "@@"'
	sed -i 's/@@/\xff\xfe/' "$BUNDLE/config.json"
	create_refused "invalid UTF-8 (runc: replaced, then the hostname needs a uts namespace)"
	if runtime_is_apus; then assert_output_contains "invalid UTF-8 in a string"; fi
}

@test "hostile: config.json with duplicate keys: the last one counts -> 1, nothing left" {
	if is_runc_before_1_2; then
		skip "runc 1.1.5 (Go's encoding/json) merges a repeated object into the first, so its args survive"
	fi
	local text
	text="$(cat "$BUNDLE/config.json")"
	# The second "process" has no args: whoever reads the first one would succeed.
	config_is "${text%\}*}, \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}}"
	create_refused "duplicate process"
	if runtime_is_apus; then assert_output_contains "config.json: process.args: "; fi
}

@test "hostile: numbers out of range (uid 2^40, -1, -0, 1e400, 1.5) -> 1, nothing left" {
	local n
	update_config '.process.user.uid = "@N@"'
	cp "$BUNDLE/config.json" "$TESTDIR/template.json"
	for n in 1099511627776 -1 -0 1e400 1.5 18446744073709551616; do
		sed "s/\"@N@\"/$n/" "$TESTDIR/template.json" >"$BUNDLE/config.json"
		create_refused "uid $n"
		if runtime_is_apus; then assert_output_contains "process.user.uid: "; fi
	done
}

@test "hostile: config.json is a FIFO -> 1 at once, does not block" {
	if is_runc_before_1_2; then
		skip "runc 1.1.5 blocks opening a FIFO config.json (killed by the timeout)"
	fi
	rm "$BUNDLE/config.json"
	mkfifo "$BUNDLE/config.json"
	create_refused "FIFO"
	if runtime_is_apus; then assert_output_contains "is not a regular file"; fi
}

@test "hostile: config.json is a directory, or a symlink to /dev/zero or /dev/null -> 1" {
	rm "$BUNDLE/config.json"
	mkdir "$BUNDLE/config.json"
	create_refused "directory"
	rmdir "$BUNDLE/config.json"
	ln -s /dev/zero "$BUNDLE/config.json"
	create_refused "/dev/zero"
	if runtime_is_apus; then assert_output_contains "is not a regular file"; fi
	ln -sf /dev/null "$BUNDLE/config.json"
	create_refused "/dev/null"
}

# --------------------------------------------------------- state directory

# garbage_states REAL: state.json contents to try, each as KIND:TEXT (the
# real one cut in half; not JSON; JSON of the wrong shape).
garbage_states() {
	local real=$1
	printf '%s\n' "TRUNC:$(head -c $(($(stat -c %s "$real") / 2)) "$real")"
	printf '%s\n' 'RAW:' 'RAW:[]' 'RAW:{}' 'RAW:"x"' 'RAW:{"id": 1}'
}

@test "hostile: truncated or garbage state.json: state/kill/delete/start/exec -> 1, list warns, nothing touched" {
	local id pid state real variant text cmd
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	state="$ROOT/$id/state.json"
	real="$TESTDIR/state.json.real"
	cp "$state" "$real"
	while IFS= read -r variant; do
		text=${variant#*:}
		printf '%s' "$text" >"$state"
		for cmd in "state $id" "kill $id KILL" "delete $id" "start $id" "pause $id" "ps $id"; do
			# shellcheck disable=SC2086
			hrun $cmd
			assert_refused 1 "$cmd with state.json '${text:0:40}'"
		done
		hrun exec "$id" true
		assert_refused 255 "exec with state.json '${text:0:40}'"
		hrun list
		assert_refused 0 "list with state.json '${text:0:40}'"
		if runtime_is_apus; then assert_output_contains "apus: load container $id: corrupt container state"; fi
		pid_alive "$pid"
	done < <(garbage_states "$real")
	pid_alive "$pid"
	cp "$real" "$state"
	hrun delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "hostile: state.json null, a FIFO or a directory -> 1 at once" {
	if is_runc_before_1_2; then
		skip "runc 1.1.5 panics on a null state.json (nil dereference in LinuxFactory.Load, exit 2) and blocks on a FIFO one"
	fi
	local id pid state real cmd
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	state="$ROOT/$id/state.json"
	real="$TESTDIR/state.json.real"
	cp "$state" "$real"
	echo null >"$state"
	for cmd in "state $id" "kill $id KILL" "delete $id" "start $id"; do
		# shellcheck disable=SC2086
		hrun $cmd
		assert_refused 1 "$cmd with a null state.json"
	done
	rm "$state"
	mkfifo "$state"
	for cmd in "state $id" "kill $id KILL" "delete $id" "list"; do
		# shellcheck disable=SC2086
		hrun $cmd
		[ "$cmd" = list ] || assert_refused 1 "$cmd with a FIFO state.json"
	done
	assert_refused 0 "list with a FIFO state.json"
	rm "$state"
	mkdir "$state"
	hrun state "$id"
	assert_refused 1 "state with a directory state.json"
	rmdir "$state"
	pid_alive "$pid"
	cp "$real" "$state"
	hrun delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "hostile: delete --force of a container with a corrupt state.json removes it (intent.json says what)" {
	skip_unless_apus "runc 1.1.5 cannot delete a container whose state.json is corrupt (exit 1, left behind)"
	local id pid
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	printf '{"id": "%s", "pid": ' "$id" >"$ROOT/$id/state.json"
	hrun delete "$id"
	assert_refused 1 "delete"
	hrun delete --force "$id"
	assert_status 0
	assert_output_contains "corrupt"
	wait_until 10 pid_gone "$pid"
	assert_nothing_left "$id"
}

@test "hostile: state.json naming pid 0 or -1, another id, or relative paths -> corrupt, nothing signalled" {
	skip_unless_apus "apus's state.json format"
	local id pid real field
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	real="$TESTDIR/state.json.real"
	cp "$ROOT/$id/state.json" "$real"
	for field in '.pid = 0' '.pid = -1' '.id = "other"' '.cgroupPaths.pids = "relative"' \
		'.cgroupPaths.pids = "/sys/fs/cgroup/pids/../pids"' '.namespacePaths.mnt = "proc/1/ns/mnt"'; do
		jq -c "$field" "$real" >"$ROOT/$id/state.json"
		hrun kill --all "$id" KILL
		assert_refused 1 "kill --all, $field"
		hrun delete "$id"
		assert_refused 1 "delete, $field"
		assert_output_contains "corrupt container state"
		pid_alive "$pid"
	done
	cp "$real" "$ROOT/$id/state.json"
	hrun delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "hostile: state.json cgroup paths outside cgroupfs or at a hierarchy's root: no process killed, no directory removed" {
	skip_unless_apus "apus's state.json format"
	local id real fake view cg helper
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	real="$TESTDIR/state.json.real"
	cp "$ROOT/$id/state.json" "$real"
	# A directory that looks like a cgroup and names a helper process.
	spawn_bg sleep 600
	helper=$BG_PID
	fake="$TESTDIR/fake-cgroup"
	mkdir -p "$fake/child"
	echo "$helper" >"$fake/cgroup.procs"
	# The root of a cgroup mount: a bind of our own test cgroup holding the helper.
	cg="/sys/fs/cgroup/pids/$(unique_id)"
	mkdir "$cg"
	echo "$helper" >"$cg/cgroup.procs"
	view="$TESTDIR/cgroup-view"
	mkdir "$view"
	mount --bind "$cg" "$view"
	for path in "$fake" "$view"; do
		jq -c --arg p "$path" '.pid = 999999999 | .cgroupPaths = {pids: $p}' "$real" >"$ROOT/$id/state.json"
		hrun kill --all "$id" KILL
		pid_alive "$helper"
		hrun delete "$id"
		assert_refused 1 "delete with cgroup path $path"
		assert_output_contains "is not a cgroup below a hierarchy's root"
		pid_alive "$helper"
		[ -d "$fake/child" ]
	done
	umount "$view"
	echo "$helper" >/sys/fs/cgroup/pids/cgroup.procs
	rmdir "$cg"
	cp "$real" "$ROOT/$id/state.json"
	hrun delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "hostile: linux.cgroupsPath \"/\" or with . -> 1 before anything is made" {
	# Not tried with runc: a container in a hierarchy's root cgroup (or in
	# the runtime's own) cannot be removed safely on a shared host.
	skip_unless_apus "refused by apus before anything is made"
	local p
	for p in / // /./ ./ a/./b; do
		update_config --arg p "$p" '.linux.cgroupsPath = $p'
		create_refused "cgroupsPath $p"
		assert_output_contains "linux.cgroupsPath"
	done
}

# ------------------------------------------------------- exec's process.json

@test "hostile: exec -p with garbage process.json -> 255, nothing started" {
	local id pid p n
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	p="$TESTDIR/process.json"
	for text in 'null' '[]' '""' '{}' '{"args": ["true"], "cwd": "/", "user": {"uid": 1099511627776, "gid": 0}}' \
		'{"args": ["true"], "cwd": "/", "user": {"uid": -0, "gid": 0}}' \
		'{"args": ["true"], "cwd": "/", "user": {"uid": 1e400, "gid": 0}}' \
		'{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "args": []}'; do
		rm -rf "$p"
		printf '%s' "$text" >"$p"
		hrun exec -p "$p" "$id"
		assert_refused 255 "process.json '$text'"
	done
	rm -f "$p"
	printf '%s' "$(printf '[%.0s' $(seq 100000))" >"$p"
	hrun exec -p "$p" "$id"
	assert_refused 255 "process.json nested 100000 deep"
	truncate -s 100M "$p"
	hrun exec -p "$p" "$id"
	assert_refused 255 "process.json of 100 MB"
	printf '{"args": ["true"], "cwd": "/\xff", "user": {"uid": 0, "gid": 0}}' >"$p"
	hrun exec -p "$p" "$id"
	assert_refused 255 "process.json with invalid UTF-8"
	rm "$p"
	mkdir "$p"
	hrun exec -p "$p" "$id"
	assert_refused 255 "process.json is a directory"
	rmdir "$p"
	ln -s /dev/zero "$p"
	hrun exec -p "$p" "$id"
	assert_refused 255 "process.json -> /dev/zero"
	rm "$p"
	# runc 1.1.5 blocks on a FIFO process.json until killed: apus only.
	if ! is_runc_before_1_2; then
		mkfifo "$p"
		hrun exec -p "$p" "$id"
		assert_refused 255 "process.json is a FIFO"
	fi
	# Only the init runs: no exec'd process was left behind.
	[ "$(pids_in_pidns "$pid" | wc -l)" -eq 1 ]
	hrun delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

# -------------------------------------------------------------- resources

@test "hostile: --root on a full tmpfs -> ENOSPC, a clear message, nothing half-written" {
	local full="$TESTDIR/full" id
	mkdir "$full"
	mount -t tmpfs -o size=64k,nr_inodes=64 tmpfs "$full"
	dd if=/dev/zero of="$full/filler" bs=4k count=64 2>/dev/null || true
	id=$(unique_id)
	run _bounded_to_files "$TESTDIR/h.out" "$TESTDIR/h.err" --root "$full/state" create --bundle "$BUNDLE" "$id"
	stderr_text="$(cat "$TESTDIR/h.err")"
	output="$(cat "$TESTDIR/h.out" "$TESTDIR/h.err")"
	assert_refused 1 "create on a full --root"
	if runtime_is_apus; then assert_output_contains_i "no space left on device"; fi
	[ -z "$(ls -A "$full/state" 2>/dev/null)" ] || { ls -lA "$full/state" >&2; false; }
	[ -z "$(procs_in_rootfs)" ]
	assert_no_cgroups "$id"
	umount "$full"
}

# hrun_limited LIMIT ARGS...: hrun under `ulimit LIMIT` (e.g. "-Sn 16").
_limited_to_files() {
	local limit=$1 out=$2 err=$3
	shift 3
	(
		_close_fds
		# shellcheck disable=SC2086
		ulimit $limit && exec timeout -s KILL 30 "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$out" 2>"$err"
}

hrun_limited() {
	local limit=$1 out="$TESTDIR/h.out" err="$TESTDIR/h.err"
	shift
	run _limited_to_files "$limit" "$out" "$err" "$@"
	stderr_text="$(cat "$err")"
	output="$(cat "$out" "$err")"
}

# A soft limit of 64 or 16 fds is enough for create, exec and run; with
# fewer, or a hard limit below the config's RLIMIT_NOFILE (which the init
# cannot raise then), they fail cleanly. (runc raises its own soft limit at
# start, as every Go program does, so it works with fewer.)
@test "hostile: ulimit -n 64 and 16 (soft), 16 (hard), 8 (soft) for create, run and exec" {
	local limit id must
	for limit in "-Sn 64" "-Sn 16" "-n 16" "-Sn 8"; do
		must=false
		case $limit in -Sn\ 64 | -Sn\ 16) must=true ;; esac
		id=$(unique_id)
		hrun_limited "$limit" create --bundle "$BUNDLE" "$id"
		if [ "$status" -eq 0 ]; then
			hrun start "$id"
			assert_status 0
			hrun_limited "$limit" exec "$id" true
			if $must; then assert_status 0; elif [ "$status" -ne 0 ]; then assert_refused 255 "exec, ulimit $limit"; fi
			hrun delete --force "$id"
			assert_status 0
		else
			! $must || { echo "create, ulimit $limit: $output" >&2; false; }
			assert_refused 1 "create, ulimit $limit"
		fi
		assert_nothing_left "$id"

		id=$(unique_id)
		set_args true
		hrun_limited "$limit" run --bundle "$BUNDLE" "$id"
		if $must; then assert_status 0; elif [ "$status" -ne 0 ]; then assert_refused 1 "run, ulimit $limit"; fi
		assert_nothing_left "$id"
		set_args sleep 3600
	done
}
