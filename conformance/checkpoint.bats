#!/usr/bin/env bats
# checkpoint/restore through CRIU: a counting process continues after
# restore (also twice, with --leave-running, from a --pre-dump parent, under
# a new id). Needs a working CRIU (`make deps` builds one): CRIU_BIN, else
# `tools/criu.sh --find`; skipped with the reason otherwise.

load helpers

setup_file() {
	CRIU_BIN="${CRIU_BIN:-$("$BATS_TEST_DIRNAME/../tools/criu.sh" --find 2>/dev/null || true)}"
	export CRIU_BIN
}

setup() {
	# runc writes runc-criu-*.conf into TMPDIR and leaves them: keep them in TESTDIR.
	export TMPDIR="${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}"
	case $BATS_TEST_DESCRIPTION in
	*"(before CRIU)"*) ;;
	*) [ -n "$CRIU_BIN" ] || skip "no working CRIU (Debian 12's 3.17 fails on this kernel): run make deps, or set CRIU_BIN" ;;
	esac
	setup_bundle
	# The count goes to a file in the rootfs; stdio is the container's own
	# /dev/null (CRIU cannot dump fds of host files).
	update_config '.process.args = ["sh", "-c", "exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done"]
		| del(.linux.resources)'
	IMAGES="$TESTDIR/images"
}

teardown() {
	teardown_bundle
}

_criu_rt() {
	(
		_close_fds
		cd "$TESTDIR" || exit 1 # (runc leaves runc-criu-log-*.log in its cwd)
		exec "$RUNTIME" --root "$ROOT" --criu "$CRIU_BIN" "$@"
	) </dev/null
}

count() { cat "$ROOTFS/tmp/count" 2>/dev/null || echo 0; }
count_above() { [ "$(count)" -gt "$1" ]; }

# start_counter ID: a running container whose count has started.
start_counter() {
	run_detached "$1"
	assert_status 0
	wait_until 20 count_above 2
}

# checkpoint ID [FLAGS...]: with CRIU's log shown on failure.
checkpoint() {
	local id=$1
	shift
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$@" "$id"
	if [ "$status" -ne 0 ]; then
		echo "checkpoint failed: $output" >&2
		tail -n 20 "$TESTDIR/work/"*dump.log >&2 2>/dev/null
		return 1
	fi
}

restore() {
	local id=$1
	shift
	run _criu_rt restore -d --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$@" "$id"
	if [ "$status" -ne 0 ]; then
		echo "restore failed: $output" >&2
		tail -n 20 "$TESTDIR/work/restore.log" >&2 2>/dev/null
		return 1
	fi
}

@test "checkpoint: a counting process continues after restore" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	# Without --leave-running the container is gone.
	runtime state "$id"
	[ "$status" -ne 0 ]
	before=$(count)
	sleep 0.5
	assert_equal "$(count)" "$before"
	restore "$id"
	assert_equal "$(container_status "$id")" running
	wait_until 20 count_above $((before + 2))
	# It continued from where it was, not from 1.
	[ "$(count)" -gt "$before" ]
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: twice in a row" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	restore "$id"
	wait_until 20 count_above $(($(count) + 2))
	rm -rf "$IMAGES" "$TESTDIR/work"
	checkpoint "$id"
	before=$(count)
	restore "$id"
	wait_until 20 count_above $((before + 2))
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --leave-running keeps the container running" {
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id" --leave-running
	assert_equal "$(container_status "$id")" running
	wait_until 20 count_above $(($(count) + 2))
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --pre-dump, then a dump with --parent-path, restores" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --pre-dump --image-path "$TESTDIR/parent" --work-path "$TESTDIR/work" "$id"
	if ! "$CRIU_BIN" check --no-default-config --feature mem_dirty_track >/dev/null 2>&1; then
		# This kernel has no soft-dirty tracking: refused up front, the container untouched.
		[ "$status" -ne 0 ]
		assert_output_contains "CRIU is missing features"
		assert_equal "$(container_status "$id")" running
		runtime delete --force "$id"
		skip "pre-dump refused as it must be: CRIU reports no memory dirty tracking on this kernel (CONFIG_MEM_SOFT_DIRTY)"
	fi
	assert_status 0
	assert_equal "$(container_status "$id")" running
	checkpoint "$id" --parent-path ../parent
	before=$(count)
	restore "$id"
	wait_until 20 count_above $((before + 2))
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: restored under a new id" {
	local id new before
	id=$(unique_id)
	new=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	before=$(count)
	restore "$new"
	assert_equal "$(container_status "$new")" running
	runtime state "$id"
	[ "$status" -ne 0 ]
	wait_until 20 count_above $((before + 2))
	runtime delete --force "$new"
	assert_status 0
}

@test "checkpoint: restore in the foreground waits for the container, exits with its status and deletes it" {
	local id before restorer rc=0
	cd "$TESTDIR" # (runc leaves runc-criu-log-*.log in its cwd)
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	before=$(count)
	spawn_bg "$RUNTIME" --root "$ROOT" --criu "$CRIU_BIN" restore --bundle "$BUNDLE" \
		--image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	restorer=$BG_PID
	wait_until 20 count_above $((before + 2))
	assert_equal "$(container_status "$id")" running
	runtime kill "$id" KILL
	assert_status 0
	wait "$restorer" || rc=$?
	assert_equal "$rc" 137
	runtime state "$id"
	[ "$status" -ne 0 ]
}

@test "checkpoint: stdout on a pipe is reconnected to restore's own stdout (inherit_fd)" {
	local id before
	cd "$TESTDIR" # (runc leaves runc-criu-log-*.log in its cwd)
	id=$(unique_id)
	update_config '.process.args = ["sh", "-c", "exec </dev/null 2>/dev/null; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; echo line$i; sleep 0.1; done"]'
	spawn_bg sh -c '"$0" --root "$1" run -d --bundle "$2" "$3" | cat >"$4"' "$RUNTIME" "$ROOT" "$BUNDLE" "$id" "$TESTDIR/before.out"
	wait_until 20 count_above 2
	grep -q '^line1$' "$TESTDIR/before.out"
	checkpoint "$id"
	before=$(count)
	spawn_bg sh -c '"$0" --root "$1" --criu "$2" restore -d --bundle "$3" --image-path "$4" --work-path "$5" "$6" | cat >"$7"' \
		"$RUNTIME" "$ROOT" "$CRIU_BIN" "$BUNDLE" "$IMAGES" "$TESTDIR/work" "$id" "$TESTDIR/after.out"
	wait_until 20 count_above $((before + 2))
	# The restored process writes into restore's pipe, continuing its count.
	wait_until 20 grep -q "^line$((before + 2))\$" "$TESTDIR/after.out"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: a network namespace joined by path is joined again on restore" {
	local holder id before
	spawn_bg unshare -n sleep 3600
	holder=$BG_PID
	wait_until 10 sh -c "[ \"\$(readlink /proc/$holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
	update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/proc/$holder/ns/net"
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	before=$(count)
	restore "$id"
	wait_until 20 count_above $((before + 2))
	assert_equal "$(readlink "/proc/$(container_pid "$id")/ns/net")" "$(readlink "/proc/$holder/ns/net")"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: CRIU's own error reaches the user, with its log" {
	local id
	id=$(unique_id)
	# The host's stdio files cannot be dumped: CRIU fails.
	set_args sleep 3600
	run_detached "$id"
	assert_status 0
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "criu failed"
	assert_output_contains "$TESTDIR/work/dump.log"
	[ -s "$TESTDIR/work/dump.log" ]
	runtime delete --force "$id"
	assert_status 0
}

# _rt_in_testdir ARGS: the runtime in TESTDIR, without --criu (none may be installed).
_rt_in_testdir() {
	(
		_close_fds
		cd "$TESTDIR" || exit 1
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

@test "checkpoint: a bad --parent-path is refused in runc's words before CRIU is asked, with --pre-dump too (before CRIU)" {
	local id
	id=$(unique_id)
	set_args sleep 3600
	run_detached "$id"
	assert_status 0
	mkdir -p "$IMAGES"
	touch "$IMAGES/file"
	local flags
	for flags in "" --pre-dump; do
		run _rt_in_testdir checkpoint $flags --parent-path "$TESTDIR/parent" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "--parent-path must be relative"
		run _rt_in_testdir checkpoint $flags --parent-path ../missing --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "invalid --parent-path: stat "
		assert_output_contains "missing: no such file or directory"
		run _rt_in_testdir checkpoint $flags --parent-path file --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "invalid --parent-path"
		assert_output_contains "not a directory"
	done
	# nothing was dumped: the container still runs
	assert_equal "$(container_status "$id")" running
	[ ! -e "$TESTDIR/work/dump.log" ]
	runtime delete --force "$id"
	assert_status 0
}
