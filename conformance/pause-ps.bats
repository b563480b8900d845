#!/usr/bin/env bats
# pause / resume (the freezer) and ps: what podman and containerd call.

load helpers

start_sleeper() {
	set_args sh -c 'sleep 1000 & exec sleep 1001'
	create_and_start "$1"
	# start returns once sh runs; wait until it has forked sleep 1000 and
	# exec'd sleep 1001 (the tests count those two processes)
	local pid
	pid=$(container_pid "$1")
	wait_until 30 eval '[ "$(cat /proc/'"$pid"'/comm 2>/dev/null)" = sleep ] && pgrep -P '"$pid"' -x sleep >/dev/null'
}

@test "pause: running -> paused, tasks frozen; resume -> running" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime pause "$id"
	assert_status 0
	assert_equal "$output" ""
	assert_equal "$(container_status "$id")" paused
	pid=$(container_pid "$id")
	freezer=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")
	if [ -n "$freezer" ]; then
		grep -qx FROZEN "/sys/fs/cgroup/freezer$freezer/freezer.state"
	fi
	runtime list
	assert_output_contains "paused"
	runtime resume "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
}

@test "pause: a paused container is not running (pause again -> 1)" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime pause "$id"
	assert_status 0
	runtime pause "$id"
	assert_status 1
	assert_output_contains "container not running"
	runtime resume "$id"
	assert_status 0
}

@test "resume: a running container -> 1, container not paused" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime resume "$id"
	assert_status 1
	assert_output_contains "container not paused"
}

@test "pause: a stopped container -> 1, container not running" {
	id=$(unique_id)
	set_args true
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime pause "$id"
	assert_status 1
	assert_output_contains "container not running"
}

@test "pause: unknown container -> 1, does not exist" {
	runtime pause "$(unique_id)"
	assert_status 1
	assert_output_contains "does not exist"
}

@test "delete --force of a paused container kills and removes it" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	runtime pause "$id"
	assert_status 0
	runtime delete --force "$id"
	assert_status 0
	wait_until 30 bash -c "! [ -d /proc/$pid ] || grep -q '^State:[[:space:]]*Z' /proc/$pid/status"
	runtime state "$id"
	assert_status 1
}

@test "kill KILL of a paused container stops it" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime pause "$id"
	assert_status 0
	runtime kill "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped
}

@test "ps --format json: the container's pids (host view), init first" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	wait_until 30 bash -c "[ \"\$(\"$RUNTIME\" --root \"$ROOT\" ps --format json \"$id\" </dev/null | jq length)\" = 2 ]"
	runtime ps --format json "$id"
	assert_status 0
	echo "$output" | jq -e --argjson p "$pid" 'index($p) != null' >/dev/null
}

@test "ps: table is ps -ef filtered to the container, with the header" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	runtime ps "$id"
	assert_status 0
	[[ "${lines[0]}" == UID*PID*CMD* ]]
	assert_output_contains "sleep 1001"
	assert_output_contains "sleep 1000"
	[ "${#lines[@]}" -eq 3 ]
}

@test "ps: extra arguments are ps options" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime ps "$id" -o pid,comm
	assert_status 0
	[[ "${lines[0]}" == *PID*COMMAND* ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "ps --format json of a stopped container: null" {
	id=$(unique_id)
	set_args true
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime ps --format json "$id"
	assert_status 0
	assert_equal "$output" "null"
}
