#!/usr/bin/env bats
# `run`: exit status propagation, signal forwarding, --keep, -d, --pid-file,
# --preserve-fds.

load helpers

# run_bg ID [RUN-FLAGS...]: foreground `run` in the background; stdio to
# $TESTDIR/ID.out (stdout+stderr).  Pid of the runtime process in $RUN_PID.
run_bg() {
	local id=$1
	shift
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$@" "$id"
	) </dev/null >"$TESTDIR/$id.out" 2>&1 &
	RUN_PID=$!
}

# _rt_with_fd3 FILE ARGS...: the runtime with only fds 0-2 and 3 (FILE) open.
_rt_with_fd3() {
	local file=$1
	shift
	(
		_close_fds
		exec 3<"$file"
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

@test "run: exits with the container's exit status (42) and passes stdio through" {
	set_args sh -c 'echo hi; echo err >&2; exit 42'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 42
	# runc copies stdout and stderr through separate pipes, so their
	# relative order is not fixed: compare the lines as a set.
	assert_equal "$(sort <<<"$output")" $'err\nhi'
}

@test "run: exit status 0" {
	set_args true
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	[ -z "$output" ]
}

@test "run: exit status 1 from the container" {
	set_args false
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 1
}

@test "run: container killed by SIGKILL -> 137" {
	id=$(unique_id)
	run_bg "$id"
	wait_for_status "$id" running
	runtime kill "$id" KILL
	assert_status 0
	rc=0
	wait "$RUN_PID" || rc=$?
	assert_equal "$rc" 137
}

@test "run: process killed by SIGTERM -> 143 (no pid namespace)" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'kill -TERM $$; sleep 5'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 143
}

@test "run: process killed by SIGUSR1 -> 138 (no pid namespace)" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'kill -USR1 $$; sleep 5'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 138
}

@test "run: forwards SIGTERM to the container (trap exits 7)" {
	set_args sh -c 'trap "exit 7" TERM; echo ready; sleep 3600 & wait'
	id=$(unique_id)
	run_bg "$id"
	wait_until 30 grep -q ready "$TESTDIR/$id.out"
	kill -TERM "$RUN_PID"
	rc=0
	wait "$RUN_PID" || rc=$?
	assert_equal "$rc" 7
	runtime state "$id"
	assert_status 1
}

@test "run: forwards SIGUSR1 and SIGHUP to the container" {
	set_args sh -c 'trap "echo got-USR1" USR1; trap "echo got-HUP; exit 9" HUP; echo ready; while true; do sleep 3600 & wait; done'
	id=$(unique_id)
	run_bg "$id"
	wait_until 30 grep -q ready "$TESTDIR/$id.out"
	kill -USR1 "$RUN_PID"
	wait_until 30 grep -q got-USR1 "$TESTDIR/$id.out"
	kill -HUP "$RUN_PID"
	rc=0
	wait "$RUN_PID" || rc=$?
	assert_equal "$rc" 9
	grep -q got-HUP "$TESTDIR/$id.out"
}

@test "run: container is deleted after it exits (no --keep)" {
	set_args true
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	runtime list -q
	assert_status 0
	[ -z "$output" ]
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "run --keep: container stays, listed as stopped, then deletable" {
	set_args sh -c 'exit 3'
	id=$(unique_id)
	runtime run --keep --bundle "$BUNDLE" "$id"
	assert_status 3
	runtime state "$id"
	assert_status 0
	assert_equal "$(jq -r .status <<<"$output")" stopped
	assert_equal "$(jq -r .pid <<<"$output")" 0
	runtime list -q
	assert_equal "$output" "$id"
	runtime list -f json
	assert_equal "$(jq -r '.[0].status' <<<"$output")" stopped
	# the id is still taken
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 1
	assert_output_contains "container with given ID already exists"
	runtime delete "$id"
	assert_status 0
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "run -d: detaches, container running, runtime silent" {
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	[ -z "$output" ]
	assert_equal "$(container_status "$id")" running
	[ "$(container_pid "$id")" -gt 0 ]
}

@test "run -d: container that exits is stopped and kept until delete" {
	set_args sh -c 'echo done'
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	wait_for_status "$id" stopped
	wait_until 30 grep -q done "$TESTDIR/$id.out"
	runtime delete "$id"
	assert_status 0
}

@test "run -d --pid-file: file content equals state pid" {
	id=$(unique_id)
	run_detached "$id" --pid-file "$TESTDIR/run.pid"
	assert_status 0
	[ -s "$TESTDIR/run.pid" ]
	assert_equal "$(cat "$TESTDIR/run.pid")" "$(container_pid "$id")"
}

@test "run --pid-file (foreground): pid file written while running" {
	set_args sh -c 'echo ready; sleep 3600'
	id=$(unique_id)
	run_bg "$id" --pid-file "$TESTDIR/fg.pid"
	wait_for_status "$id" running
	wait_until 30 test -s "$TESTDIR/fg.pid"
	assert_equal "$(cat "$TESTDIR/fg.pid")" "$(container_pid "$id")"
	runtime kill "$id" KILL
	wait "$RUN_PID" || true
}

@test "run --preserve-fds 1: fd 3 is passed to the container" {
	echo preserved-content >"$TESTDIR/fd3.txt"
	set_args sh -c 'cat <&3'
	id=$(unique_id)
	run _rt_with_fd3 "$TESTDIR/fd3.txt" run --preserve-fds 1 --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" preserved-content
}

@test "run: without --preserve-fds, extra fds are not passed" {
	echo preserved-content >"$TESTDIR/fd3.txt"
	set_args sh -c 'if [ -e /proc/$$/fd/3 ]; then echo leaked; else echo closed; fi'
	id=$(unique_id)
	run _rt_with_fd3 "$TESTDIR/fd3.txt" run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" closed
}

@test "run: duplicate id -> exit 1, existing container unaffected" {
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 1
	assert_output_contains "container with given ID already exists"
	assert_equal "$(container_status "$id")" running
	assert_equal "$(container_pid "$id")" "$pid"
}

@test "run: nonexistent executable -> exit 1, nothing left behind" {
	set_args /no/such/binary
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 1
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "run: terminal container in the foreground gets the runtime's own pty relay" {
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; [ -t 0 ] && echo stdin-is-tty; exit 5"]'
	id=$(unique_id)
	# script(1) gives the runtime a terminal of its own, as a person at a shell has.
	run script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE $id" /dev/null
	[ "$status" -eq 5 ]
	assert_output_contains "/dev/pts/0"
	assert_output_contains "stdin-is-tty"
}

# _close_fds_then CMD...: CMD with stdio on /dev/null and bats's fds closed
# (a detached container must not hold them).
_close_fds_then() {
	(
		_close_fds
		exec "$@"
	) </dev/null >/dev/null 2>&1
}

# Issue #21: run starts its own container through a socketpair, not an exec
# fifo in the state directory (an inode made and removed per container); the
# handshake is the same: run returns, and poststart runs, only once the
# program has been exec'd.
@test "run: the program is exec'd before poststart, and run makes no exec.fifo" {
	cat >"$TESTDIR/poststart.sh" <<EOF
#!/bin/sh
pid=\$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
cat /proc/\$pid/comm >"$TESTDIR/comm"
EOF
	chmod 755 "$TESTDIR/poststart.sh"
	update_config '.hooks.poststart = [{path: $p}]' --arg p "$TESTDIR/poststart.sh"
	set_args sleep 3600
	id=$(unique_id)
	if runtime_is_apus && command -v strace >/dev/null; then
		# not -f: the fifo would be made by run itself, and -f would wait for sleep
		run _close_fds_then strace -o "$TESTDIR/trace" -e trace=mknod,mknodat "$RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" "$id"
		assert_status 0
		! grep -q exec.fifo "$TESTDIR/trace" || { cat "$TESTDIR/trace" >&2; return 1; }
	else
		run_detached "$id"
		assert_status 0
	fi
	# runc 1.1.5 may run poststart before its init has exec'd ("runc:[2:INIT]")
	runtime_is_runc || assert_equal "$(cat "$TESTDIR/comm")" sleep
	assert_equal "$(container_status "$id")" running
}
