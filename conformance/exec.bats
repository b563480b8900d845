#!/usr/bin/env bats
# exec: a new process in a running container, as podman (conmon) and the
# containerd shim use it. Same behaviour under runc.

load helpers

start_sleeper() {
	set_args sleep 1000
	create_and_start "$1"
}

@test "exec: runs in the container's namespaces and passes the exit status through" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	runtime exec "$id" sh -c 'for n in mnt pid net ipc uts; do readlink /proc/self/ns/$n; done; exit 7'
	assert_status 7
	for n in mnt pid net ipc uts; do
		assert_output_contains "$(readlink "/proc/$pid/ns/$n")"
	done
}

@test "exec: sees the container's rootfs and hostname, pid > 1 in its pid namespace" {
	id=$(unique_id)
	update_config '.hostname = "exec-host"'
	start_sleeper "$id"
	runtime exec "$id" sh -c 'hostname; echo pid=$$; ls /bin/busybox'
	assert_status 0
	assert_output_contains "exec-host"
	assert_output_contains "/bin/busybox"
	[[ "$output" != *"pid=1"$'\n'* ]]
}

@test "exec: -e adds and overrides environment, --cwd sets the directory" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec -e FOO=bar -e TERM=dumb --cwd /tmp "$id" sh -c 'echo "$FOO $TERM"; pwd'
	assert_status 0
	assert_output_contains "bar dumb"
	assert_output_contains "/tmp"
}

@test "exec: --user uid:gid and --additional-gids" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec --user 1000:1001 --additional-gids 2000 "$id" sh -c 'id -u; id -g; grep ^Groups: /proc/self/status'
	assert_status 0
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	assert_output_contains "2000"
}

@test "exec: the process joins the container's cgroup" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" sh -c 'cat /proc/self/cgroup'
	assert_status 0
	init_cg=$(grep ':pids:' "/proc/$(container_pid "$id")/cgroup" || grep '^0::' "/proc/$(container_pid "$id")/cgroup")
	assert_output_contains "${init_cg#*:*:}"
}

@test "exec -d --pid-file: detached, the pid is in the container" {
	id=$(unique_id)
	start_sleeper "$id"
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" exec -d --pid-file "$TESTDIR/exec.pid" "$id" sleep 1002
	) </dev/null >/dev/null 2>&1
	[ -s "$TESTDIR/exec.pid" ]
	epid=$(cat "$TESTDIR/exec.pid")
	runtime ps --format json "$id"
	assert_status 0
	echo "$output" | jq -e --argjson p "$epid" 'index($p) != null' >/dev/null
	grep -q 'sleep' "/proc/$epid/cmdline"
}

@test "exec --process: a whole process.json" {
	id=$(unique_id)
	start_sleeper "$id"
	jq '.process | .args = ["sh", "-c", "echo from-process-json $X"] | .env = ["PATH=/bin", "X=42"] | .terminal = false' \
		"$BUNDLE/config.json" >"$TESTDIR/process.json"
	runtime exec --process "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_output_contains "from-process-json 42"
}

@test "exec -t: the process gets a terminal (runtime's own pty relay)" {
	id=$(unique_id)
	start_sleeper "$id"
	run script -qec "$RUNTIME --root $ROOT exec -t $id sh -c '[ -t 0 ] && echo has-tty; exit 3'" /dev/null
	[ "$status" -eq 3 ]
	assert_output_contains "has-tty"
}

@test "exec: the container's capabilities apply to the exec'd process" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	want=$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")
	runtime exec "$id" sh -c 'grep ^CapBnd: /proc/self/status'
	assert_status 0
	assert_output_contains "$want"
}

@test "exec: the container's seccomp profile applies to the exec'd process" {
	update_config '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" sh -c 'mkdir /tmp/nope 2>&1; grep ^Seccomp: /proc/self/status'
	assert_output_contains "Operation not permitted"
	assert_output_contains "Seccomp:	2"
}

@test "exec: a missing program -> 255, exec failed" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" /nonexistent
	assert_status 255
	assert_output_contains "exec failed"
	assert_output_contains_i "no such file or directory"
}

@test "exec: in a stopped container -> 255, cannot exec in a stopped container" {
	id=$(unique_id)
	set_args true
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime exec "$id" true
	assert_status 255
	assert_output_contains "cannot exec in a stopped container"
}

@test "exec: in a paused container -> 255, cannot exec in a paused container" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime pause "$id"
	assert_status 0
	runtime exec "$id" true
	assert_status 255
	assert_output_contains "cannot exec in a paused container"
	runtime resume "$id"
}

@test "exec: signals sent to the runtime are forwarded to the process" {
	id=$(unique_id)
	start_sleeper "$id"
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" exec "$id" sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done'
	) </dev/null >"$TESTDIR/exec.out" 2>&1 &
	rt=$!
	wait_until 30 bash -c "\"$RUNTIME\" --root \"$ROOT\" ps --format json \"$id\" </dev/null | jq -e 'length >= 3' >/dev/null"
	kill -TERM "$rt"
	wait "$rt" && st=0 || st=$?
	[ "$st" -eq 9 ]
}

@test "exec: unknown container -> error" {
	runtime exec "$(unique_id)" true
	[ "$status" -ne 0 ]
	assert_output_contains "does not exist"
}

@test "exec: --log FILE is created even when nothing is logged; --debug --log-format json logs the exec as JSON lines" {
	id=$(unique_id)
	start_sleeper "$id"
	local log="$TESTDIR/exec-log.json"
	runtime --log "$log" exec "$id" true
	assert_status 0
	[ -f "$log" ]
	# containerd's shim reads such a file line by line as {"level","msg","time"}.
	runtime --debug --log "$log" --log-format json exec "$id" sh -c 'exit 3'
	assert_status 3
	[[ "$output" != *'"level":"debug"'* ]]
	jq -se 'length > 0 and all(type == "object" and (.level | type == "string")
		and (.msg | type == "string") and (.time | type == "string"))' "$log"
	jq -se 'any(.level == "debug")' "$log"
}

@test "exec: --debug without --log logs debug lines to stderr" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime --debug exec "$id" true
	assert_status 0
	assert_output_contains "level=debug"
}

@test "exec --cgroup: a path out of the container's cgroup or a missing sub-cgroup is refused in runc's words" {
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec --cgroup .. "$id" true
	assert_status 255
	assert_output_contains " .. is not a sub cgroup path"
	runtime exec --cgroup nonexistent "$id" true
	assert_status 255
	assert_output_contains " adding pid "
	assert_output_contains "/nonexistent/cgroup.procs: no such file or directory"
}

@test "exec -p /dev/fd/N: process.json from a pipe (a shell's process substitution) is read" {
	id=$(unique_id)
	start_sleeper "$id"
	local json='{"args":["sh","-c","echo from-pipe"],"env":["PATH=/bin:/usr/bin"],"cwd":"/","user":{"uid":0,"gid":0}}'
	run bash -c '"$1" --root "$2" exec -p <(printf "%s" "$3") "$4"' _ "$RUNTIME" "$ROOT" "$json" "$id"
	assert_status 0
	assert_output_contains "from-pipe"
}
