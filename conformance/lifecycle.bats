#!/usr/bin/env bats
# create / start / stop / delete lifecycle.

load helpers

@test "create: state is 'created', pid > 0, init exists but has not run args" {
	set_args sh -c 'echo started > /started; echo hello-from-container; exec sleep 3600'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	[ -z "$output" ]

	runtime state "$id"
	assert_status 0
	[ "$(jq -r .status <<<"$output")" = created ]
	pid=$(jq -r .pid <<<"$output")
	[ "$pid" -gt 0 ]
	pid_alive "$pid"
	# the user process has not been executed
	sleep 0.2
	[ ! -e "$ROOTFS/started" ]
	[ -z "$(container_stdout "$id")" ]
	# the init is not (yet) the user process
	! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'echo started'
}

@test "create: the state directory exists in ROOT while the container exists" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	[ -d "$ROOT/$id" ]
	runtime delete "$id"
	assert_status 0
	[ ! -e "$ROOT/$id" ]
}

@test "start: created -> running, same pid, args executed" {
	set_args sh -c 'echo started > /started; echo hello-from-container; exec sleep 3600'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")

	runtime start "$id"
	assert_status 0
	[ -z "$output" ]
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	wait_until 30 test -e "$ROOTFS/started"
	wait_until 30 grep -q hello-from-container "$TESTDIR/$id.out"
}

@test "start twice: second start fails with exit 1" {
	id=$(unique_id)
	create_and_start "$id"
	runtime start "$id"
	assert_status 1
	assert_output_contains "cannot start an already running container"
	[ "$(container_status "$id")" = running ]
}

@test "start a stopped container: exit 1" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime start "$id"
	assert_status 1
	assert_output_contains "cannot start a container that has stopped"
}

@test "container process exit -> stopped with pid 0, then delete" {
	set_args sh -c 'exit 3'
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	[ "$(container_pid "$id")" = 0 ]
	runtime delete "$id"
	assert_status 0
	[ -z "$output" ]
	runtime state "$id"
	assert_status 1
	assert_output_contains "does not exist"
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "full lifecycle: create, start, kill, delete leaves nothing behind" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime start "$id"
	assert_status 0
	pid=$(container_pid "$id")
	runtime kill "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
	! pid_alive "$pid"
	runtime delete "$id"
	assert_status 0
	runtime list -q
	assert_status 0
	[ -z "$output" ]
	assert_root_empty
	assert_no_cgroups "$id"
	[ -z "$(procs_in_rootfs)" ]
}

@test "create --pid-file: file holds the init pid (no trailing newline)" {
	id=$(unique_id)
	create_container "$id" --pid-file "$TESTDIR/pidfile"
	assert_status 0
	[ -s "$TESTDIR/pidfile" ]
	[ "$(cat "$TESTDIR/pidfile")" = "$(container_pid "$id")" ]
	[ "$(tail -c1 "$TESTDIR/pidfile" | od -An -c | tr -d ' ')" != '\n' ]
}

@test "create: the container's stdio is the caller's (pass-through)" {
	set_args sh -c 'echo to-stdout; echo to-stderr >&2'
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	[ "$(container_stdout "$id")" = to-stdout ]
	[ "$(container_stderr "$id")" = to-stderr ]
}

@test "create: relative --bundle is resolved against the cwd" {
	id=$(unique_id)
	cd "$TESTDIR"
	: >"$TESTDIR/$id.out"
	run _rt_to_files "$TESTDIR/$id.out" "$TESTDIR/$id.out" create --bundle bundle "$id"
	assert_status 0
	[ "$(state_field "$id" bundle)" = "$BUNDLE" ]
}

@test "create: bundle defaults to the current directory" {
	id=$(unique_id)
	cd "$BUNDLE"
	: >"$TESTDIR/$id.out"
	run _rt_to_files "$TESTDIR/$id.out" "$TESTDIR/$id.out" create "$id"
	assert_status 0
	[ "$(state_field "$id" bundle)" = "$BUNDLE" ]
}

@test "exit status of the container process does not affect start/delete" {
	set_args sh -c 'exit 42'
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime delete "$id"
	assert_status 0
}

@test "--debug: create, start and delete log their steps (debug level)" {
	skip_unless_apus "runc's debug lines differ"
	id=$(unique_id)
	run _rt_to_files "$TESTDIR/dbg.out" "$TESTDIR/dbg.err" --debug --log "$TESTDIR/debug.log" --log-format json create --bundle "$BUNDLE" "$id"
	assert_status 0
	runtime --debug --log "$TESTDIR/debug.log" --log-format json start "$id"
	assert_status 0
	runtime --debug --log "$TESTDIR/debug.log" --log-format json delete --force "$id"
	assert_status 0
	jq -e 'select(.level == "debug")' "$TESTDIR/debug.log" >/dev/null
	grep -q "create $id: init [0-9]* ready" "$TESTDIR/debug.log"
	grep -q "start $id: released init" "$TESTDIR/debug.log"
	grep -q "delete $id: was running" "$TESTDIR/debug.log"
}
