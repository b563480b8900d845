#!/usr/bin/env bats
# `kill`: default signal, signal spellings, --all, kill of created/stopped.

load helpers

# A container whose init traps TERM, USR1 and HUP and reports them on stdout.
trap_container() {
	set_args sh -c '
		trap "echo got-TERM; exit 0" TERM
		trap "echo got-USR1" USR1
		trap "echo got-HUP" HUP
		echo ready
		while true; do sleep 3600 & wait; done'
}

wait_ready() {
	wait_until 30 grep -q "^${2:-ready}\$" "$TESTDIR/$1.out"
}

@test "kill: default signal is SIGTERM" {
	trap_container
	id=$(unique_id)
	create_and_start "$id"
	wait_ready "$id"
	runtime kill "$id"
	assert_status 0
	[ -z "$output" ]
	wait_for_status "$id" stopped
	grep -qx got-TERM "$TESTDIR/$id.out"
}

@test "kill: KILL stops a container whose init ignores TERM" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
}

@test "kill: SIGKILL" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" SIGKILL
	assert_status 0
	wait_for_status "$id" stopped
}

@test "kill: numeric signal 9" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" 9
	assert_status 0
	wait_for_status "$id" stopped
}

@test "kill: TERM to an init without a handler is not escalated (container keeps running)" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" TERM
	assert_status 0
	sleep 0.3
	assert_equal "$(container_status "$id")" running
}

@test "kill: signal names: USR1, SIGHUP, lower-case usr1, number 10" {
	trap_container
	id=$(unique_id)
	create_and_start "$id"
	wait_ready "$id"
	runtime kill "$id" USR1
	assert_status 0
	wait_until 30 grep -qx got-USR1 "$TESTDIR/$id.out"
	runtime kill "$id" SIGHUP
	assert_status 0
	wait_until 30 grep -qx got-HUP "$TESTDIR/$id.out"
	runtime kill "$id" usr1
	assert_status 0
	wait_until 30 eval '[ "$(grep -cx got-USR1 "$TESTDIR/$id.out")" -ge 2 ]'
	runtime kill "$id" 10 # SIGUSR1 on x86/arm
	assert_status 0
	wait_until 30 eval '[ "$(grep -cx got-USR1 "$TESTDIR/$id.out")" -ge 3 ]'
	assert_equal "$(container_status "$id")" running
}

@test "kill: signal 0 succeeds and does nothing" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" 0
	assert_status 0
	assert_equal "$(container_status "$id")" running
}

@test "kill: unknown signal name -> exit 1" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" BOGUS
	assert_status 1
	assert_output_contains 'unknown signal'
	assert_equal "$(container_status "$id")" running
}

@test "kill: out-of-range signal number -> exit 1" {
	id=$(unique_id)
	create_and_start "$id"
	runtime kill "$id" 99
	assert_status 1
	assert_equal "$(container_status "$id")" running
}

@test "kill: without --all only the init is signalled" {
	set_args sh -c 'sleep 3600 & sleep 3600 & echo ready; wait'
	id=$(unique_id)
	create_and_start "$id"
	wait_ready "$id"
	pid=$(container_pid "$id")
	wait_until 30 eval '[ "$(pids_in_pidns "$pid" | wc -l)" -eq 3 ]'
	# sh as pid 1 has no TERM handler: ignored; the children are not signalled
	runtime kill "$id" TERM
	assert_status 0
	sleep 0.3
	assert_equal "$(pids_in_pidns "$pid" | wc -l)" 3
	assert_equal "$(container_status "$id")" running
}

@test "kill --all: signals every process in the container" {
	set_args sh -c 'sleep 3600 & sleep 3600 & echo ready; wait'
	id=$(unique_id)
	create_and_start "$id"
	wait_ready "$id"
	pid=$(container_pid "$id")
	wait_until 30 eval '[ "$(pids_in_pidns "$pid" | wc -l)" -eq 3 ]'
	pids=$(pids_in_pidns "$pid")
	runtime kill --all "$id" TERM
	assert_status 0
	# children die of TERM, then `wait` returns and the init exits
	wait_for_status "$id" stopped
	for p in $pids; do ! pid_alive "$p"; done
}

@test "kill -a KILL: kills every process in the container" {
	set_args sh -c 'trap "" TERM; sleep 3600 & sleep 3600 & echo ready; wait'
	id=$(unique_id)
	create_and_start "$id"
	wait_ready "$id"
	pid=$(container_pid "$id")
	wait_until 30 eval '[ "$(pids_in_pidns "$pid" | wc -l)" -eq 3 ]'
	pids=$(pids_in_pidns "$pid")
	runtime kill -a "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
	for p in $pids; do wait_until 30 eval "! pid_alive $p"; done
}

@test "kill: TERM kills a created (not started) container" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	runtime kill "$id" TERM
	assert_status 0
	wait_for_status "$id" stopped
	wait_until 30 eval "! pid_alive $pid"
	runtime start "$id"
	assert_status 1
}

@test "kill: KILL kills a created container" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime kill "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
}

@test "kill --all: kills a created container" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime kill --all "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
}

@test "kill: stopped container -> exit 1, container not running" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime kill "$id" KILL
	assert_status 1
	assert_output_contains "container not running"
	runtime kill "$id"
	assert_status 1
	assert_output_contains "container not running"
}

@test "kill --all: stopped container -> exit 0" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime kill --all "$id" KILL
	assert_status 0
}

@test "kill: unknown container -> exit 1, does not exist" {
	runtime kill bats-no-such-container KILL
	assert_status 1
	assert_output_contains "container does not exist"
}
