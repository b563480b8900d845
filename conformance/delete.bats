#!/usr/bin/env bats
# `delete`: stopped, created, running (with and without --force), unknown.

load helpers

@test "delete: stopped container -> exit 0, state, cgroups and processes gone" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime delete "$id"
	assert_status 0
	[ -z "$output" ]
	runtime state "$id"
	assert_status 1
	assert_output_contains "does not exist"
	runtime list -q
	[ -z "$output" ]
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "delete: running container without --force -> exit 1, still running" {
	id=$(unique_id)
	create_and_start "$id"
	runtime delete "$id"
	assert_status 1
	assert_output_contains "cannot delete container $id that is not stopped: running"
	assert_equal "$(container_status "$id")" running
	[ -d "$ROOT/$id" ]
}

@test "delete --force: running container -> exit 0, processes, state and cgroups gone" {
	set_args sh -c 'sleep 3600 & echo ready; wait'
	id=$(unique_id)
	create_and_start "$id"
	wait_until 30 grep -q ready "$TESTDIR/$id.out"
	pid=$(container_pid "$id")
	wait_until 30 eval '[ "$(pids_in_pidns "$pid" | wc -l)" -eq 2 ]'
	pids=$(pids_in_pidns "$pid")
	runtime delete --force "$id"
	assert_status 0
	[ -z "$output" ]
	for p in $pids; do wait_until 30 eval "! pid_alive $p"; done
	runtime state "$id"
	assert_status 1
	assert_root_empty
	assert_no_cgroups "$id"
	[ -z "$(procs_in_rootfs)" ]
}

@test "delete -f: short flag works" {
	id=$(unique_id)
	create_and_start "$id"
	runtime delete -f "$id"
	assert_status 0
	assert_root_empty
}

@test "delete: created container without --force -> exit 0, init killed" {
	set_args sh -c 'touch /ran'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	runtime delete "$id"
	assert_status 0
	[ -z "$output" ]
	wait_until 30 eval "! pid_alive $pid"
	[ ! -e "$ROOTFS/ran" ]
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "delete --force: created container -> exit 0" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime delete --force "$id"
	assert_status 0
	assert_root_empty
}

@test "delete: unknown container -> exit 1, does not exist" {
	runtime delete bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "delete --force: unknown container -> exit 0, silent" {
	runtime delete --force bats-no-such-container
	assert_status 0
	[ -z "$output" ]
}

@test "delete: twice -> second fails with does not exist" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime delete "$id"
	assert_status 0
	runtime delete "$id"
	assert_status 1
	assert_output_contains "does not exist"
}

@test "delete: the id can be reused afterwards" {
	id=$(unique_id)
	create_and_start "$id"
	runtime delete --force "$id"
	assert_status 0
	create_and_start "$id"
	assert_equal "$(container_status "$id")" running
}

@test "delete: container whose init was killed behind the runtime's back" {
	id=$(unique_id)
	create_and_start "$id"
	kill -9 "$(container_pid "$id")"
	wait_for_status "$id" stopped
	runtime delete "$id"
	assert_status 0
	assert_root_empty
	assert_no_cgroups "$id"
}
