#!/usr/bin/env bats
# Faults: what a hostile or unlucky caller does to the runtime. A create
# SIGKILLed half-way, a created container paused, exec into a paused
# container, a cgroup shared with a frozen container, sub-cgroups the
# container made, a hook that never reads its (large) stdin, failing hooks
# among several, start racing the program's exec, exec racing the init's
# death. Every wait is bounded: a hang is a failure, not a stuck suite.

load helpers

setup() {
	setup_bundle
	update_config 'del(.hooks)'

	# block.sh MARKER PIDFILE [RELEASE]: records its pid (as the host sees
	# it: /proc here is the host's, also for createContainer hooks, which run
	# before the container's /proc is mounted), touches MARKER, then waits for
	# RELEASE to appear (forever when none is given). Never reads its stdin.
	cat >"$TESTDIR/block.sh" <<EOF
#!/bin/sh
read -r hostpid _ </proc/self/stat
echo "\$hostpid" >"\$2"
touch "\$1"
if [ -z "\${3:-}" ]; then exec "$BUSYBOX" sleep 3600; fi
while [ ! -e "\$3" ]; do "$BUSYBOX" sleep 0.05; done
EOF
	# fail.sh: reads its stdin, exits 3.
	cat >"$TESTDIR/fail.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "hook-failed-on-purpose" >&2
exit 3
EOF
	# mark.sh FILE TEXT: appends TEXT to FILE.
	cat >"$TESTDIR/mark.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "$2" >>"$1"
EOF
	# pwd.sh FILE: writes its working directory (physical) to FILE.
	cat >"$TESTDIR/pwd.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
pwd -P >"$1"
EOF
	# comm.sh FILE: appends the comm of the container's init (the pid in the
	# state on stdin) to FILE.
	cat >"$TESTDIR/comm.sh" <<'EOF'
#!/bin/sh
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
cat "/proc/$pid/comm" >>"$1" 2>/dev/null || echo "no-such-pid:$pid" >>"$1"
EOF
	chmod 755 "$TESTDIR"/*.sh
}

# add_hook TYPE PATH [ARG...]: append a hook (args[0] = basename of PATH).
add_hook() {
	local type=$1 path=$2
	shift 2
	update_config '.hooks[$t] += [{path: $p, args: $a}]' --arg t "$type" --arg p "$path" \
		--argjson a "$(json_array "${path##*/}" "$@")"
}

# now_ms: monotonic-enough wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# _rt_env MARK ARGS...: the runtime (output to $TESTDIR/rt.out, no extra
# fds) with FAULT_MARK=MARK in its environment: every process it forks
# inherits it, so leftovers of a killed create are findable even before they
# joined a cgroup or entered the rootfs.
_rt_env() {
	local mark=$1
	shift
	(
		_close_fds
		exec env FAULT_MARK="$mark" "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$TESTDIR/rt.out" 2>&1
}

# marked_procs MARK: live processes carrying FAULT_MARK=MARK.
marked_procs() {
	local f p
	for f in $(grep -lszx "FAULT_MARK=$1" /proc/[0-9]*/environ 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/environ}
		[ "$p" != "$BASHPID" ] && pid_alive "$p" && echo "$p"
	done
	return 0
}

# _leftovers ID: print what is left of container ID (processes in the
# rootfs or carrying its mark, cgroups named after it) and anything in the
# state root.
_leftovers() {
	local p c r
	p="$(procs_in_rootfs) $(marked_procs "$1")"
	c="$(cgroups_of "$1")"
	r="$(ls -A "$ROOT" 2>/dev/null || true)"
	p=$(echo $p)
	[ -z "$p" ] && [ -z "$c" ] && [ -z "$r" ] && return 0
	echo "processes: [$p] cgroups: [$(echo $c)] state root: [$(echo $r)]"
}

# assert_nothing_left ID: nothing of ID remains (processes get 30 s to die:
# a loaded machine).
assert_nothing_left() {
	local left end=$(($(now_ms) + 30000))
	while true; do
		left="$(_leftovers "$1")"
		[ -z "$left" ] && return 0
		(($(now_ms) < end)) || break
		sleep 0.05
	done
	echo "left behind by $1: $left" >&2
	return 1
}

# kill_marked MARK: last-resort cleanup of a mark's processes (so teardown
# does not trip over them after the assertion already failed).
kill_marked() {
	local p
	for p in $(marked_procs "$1"); do kill -9 "$p" 2>/dev/null; done
	return 0
}

# forget ID: last-resort cleanup after a failed check (ID's processes, the
# whole state root), so that a loop can go on and report every kill point
# that leaks (teardown still flags the cgroups).
forget() {
	kill_marked "$1"
	kill_marked "$1-2"
	_rt_bounded delete --force "$1" >/dev/null 2>&1
	local e
	for e in $(ls -A "$ROOT" 2>/dev/null); do rm -rf "${ROOT:?}/$e"; done
	return 0
}

# bg_create ID [FLAGS...]: start `create` of ID in the background (marked
# with ID); its pid is in $BG_PID.
bg_create() {
	local id=$1
	shift
	spawn_bg env FAULT_MARK="$id" "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$@" "$id"
}

# kill_create: SIGKILL the background create and reap it.
kill_create() {
	{
		kill -9 "$BG_PID" || true
		wait "$BG_PID" || true
	} 2>/dev/null
}

# remember_pid FILE: have teardown kill the pid in FILE (a hook's).
remember_pid() {
	[ -s "$1" ] && cat "$1" >>"$TESTDIR/bg.pids"
	return 0
}

# ---------------------------------------------------------------------------
# 1. create killed with SIGKILL
# ---------------------------------------------------------------------------

# _kill_in_hook TYPE: create blocks in a TYPE hook, gets SIGKILLed there.
_kill_in_hook() {
	add_hook "$1" "$TESTDIR/block.sh" "$TESTDIR/in-hook" "$TESTDIR/hook.pid"
	id=$(unique_id)
	bg_create "$id"
	wait_until 30 test -s "$TESTDIR/hook.pid"
	wait_until 30 test -e "$TESTDIR/in-hook"
	remember_pid "$TESTDIR/hook.pid"
	kill_create
}

@test "faults: create SIGKILLed in a blocking createRuntime hook: delete --force removes everything" {
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves the cgroups of a create killed in a hook (delete --force only removes the state dir)"
	fi
	_kill_in_hook createRuntime
	runtime delete --force "$id"
	assert_status 0
	# the hook runs in the runtime's namespaces, as a child of the killed
	# create: not the runtime's to kill
	kill -9 "$(cat "$TESTDIR/hook.pid")" 2>/dev/null || true
	assert_nothing_left "$id" || {
		kill_marked "$id"
		return 1
	}
	runtime state "$id"
	assert_status 1
}

@test "faults: create SIGKILLed in a blocking prestart hook: delete --force removes everything" {
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves the cgroups of a create killed in a hook (delete --force only removes the state dir)"
	fi
	_kill_in_hook prestart
	runtime delete --force "$id"
	assert_status 0
	kill -9 "$(cat "$TESTDIR/hook.pid")" 2>/dev/null || true
	assert_nothing_left "$id" || {
		kill_marked "$id"
		return 1
	}
}

@test "faults: create SIGKILLed in a blocking createContainer hook: delete --force kills the init and the hook" {
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves the init (runc init) and the cgroups of a create killed in a createContainer hook"
	fi
	_kill_in_hook createContainer
	hookpid=$(cat "$TESTDIR/hook.pid")
	pid_alive "$hookpid"
	runtime delete --force "$id"
	assert_status 0
	# the hook runs in the container (its cgroups): it is the container's
	wait_until 30 eval "! pid_alive $hookpid"
	assert_nothing_left "$id" || {
		kill_marked "$id"
		return 1
	}
}

@test "faults: after a create SIGKILLed half-way, create of the same id cleans up (warning) and works" {
	if is_runc_before_1_2; then
		skip "runc 1.1: the killed create's directory makes the next create fail (container with given ID already exists)"
	fi
	_kill_in_hook createContainer
	hookpid=$(cat "$TESTDIR/hook.pid")
	update_config 'del(.hooks)'
	create_container "$id"
	assert_status 0
	assert_output_contains_i "warn"
	# the half-made container's processes (its init, its hook) are gone
	wait_until 30 eval "! pid_alive $hookpid"
	assert_equal "$(container_status "$id")" created
	runtime start "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
	runtime exec "$id" true
	assert_status 0
	runtime delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "faults: delete --force of a create still in progress refuses and leaves it alone" {
	if is_runc_before_1_2; then
		skip "runc 1.1 removes the directory of a create in progress (delete --force returns 0, that create then fails)"
	fi
	add_hook createRuntime "$TESTDIR/block.sh" "$TESTDIR/in-hook" "$TESTDIR/hook.pid" "$TESTDIR/release"
	id=$(unique_id)
	out=$(io_file "$id" out)
	(
		_close_fds
		rc=0
		timeout -k 5 60 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id" >"$out" 2>&1 || rc=$?
		echo "$rc" >"$TESTDIR/create.rc"
	) </dev/null >/dev/null 2>&1 &
	echo $! >>"$TESTDIR/bg.pids"
	wait_until 30 test -e "$TESTDIR/in-hook"
	remember_pid "$TESTDIR/hook.pid"

	runtime delete --force "$id"
	[ "$status" -ne 0 ] || {
		echo "delete --force of a create in progress succeeded: $output" >&2
		return 1
	}
	[ -n "$output" ]
	# the create goes on once its hook returns, and made a working container
	touch "$TESTDIR/release"
	wait_until 30 test -s "$TESTDIR/create.rc"
	assert_equal "$(cat "$TESTDIR/create.rc")" 0
	assert_equal "$(container_status "$id")" created
	runtime start "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
}

# _leftover_check_after_kill ID MODE: after a create of ID was killed, clean
# up with `delete --force` (MODE=delete) or a new `create` of the same id
# (MODE=recreate; the container must then work), and assert nothing is left.
_leftover_check_after_kill() {
	local id=$1 mode=$2 st
	if [ "$mode" = recreate ]; then
		if _rt state "$id" >/dev/null 2>&1; then
			# killed after the container was made: it exists
			st=0
			_rt_env "$id-2" create --bundle "$BUNDLE" "$id" || st=$?
			[ "$st" -ne 0 ] || {
				echo "create over an existing container succeeded" >&2
				return 1
			}
		else
			st=0
			_rt_env "$id-2" create --bundle "$BUNDLE" "$id" || st=$?
			[ "$st" -eq 0 ] || {
				echo "create of $id after a killed create failed ($st): $(cat "$TESTDIR/rt.out")" >&2
				return 1
			}
			[ "$(container_status "$id")" = created ] || {
				echo "re-created $id: status $(container_status "$id")" >&2
				return 1
			}
		fi
	fi
	st=0
	_rt delete --force "$id" >"$TESTDIR/delete.out" 2>&1 || st=$?
	[ "$st" -eq 0 ] || {
		echo "delete --force $id: $st $(cat "$TESTDIR/delete.out")" >&2
		return 1
	}
	# (called after ||: errexit is off in here, every check returns)
	assert_nothing_left "$id" || return 1
	assert_nothing_left "$id-2" || return 1
}

@test "faults: create SIGKILLed at random moments: delete --force or a new create leaves nothing" {
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves cgroups and processes of a create killed half-way"
	fi
	failed=0
	for ((i = 0; i < 20; i++)); do
		id=$(unique_id)
		bg_create "$id"
		# a deliberate random delay: the point is to kill at any moment
		delay="0.0$(printf '%02d' $((RANDOM % 40)))"
		sleep "$delay"
		kill_create
		mode=delete
		((i % 2)) && mode=recreate
		_leftover_check_after_kill "$id" "$mode" || {
			echo "^ create killed after ${delay}s, then $mode" >&2
			forget "$id"
			failed=$((failed + 1))
		}
		((failed < 5)) || break
	done
	[ "$failed" -eq 0 ]
}

@test "faults: create SIGKILLed at each of its steps (strace): delete --force or a new create leaves nothing" {
	command -v strace >/dev/null || skip "strace not installed"
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves cgroups and processes of a create killed half-way"
	fi
	# The create's syscalls, in order, as (name, nth call of that name).
	id=$(unique_id)
	(
		_close_fds
		exec strace -o "$TESTDIR/trace" -e trace=all "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	) </dev/null >/dev/null 2>&1
	runtime delete --force "$id"
	assert_status 0
	# Kill points: every call that changes something (makes or writes a
	# file or cgroup, forks, talks to or reaps a child), and the exit.
	awk -F'(' '/^[a-z_0-9]+\(/ { n[$1]++; print $1, n[$1] }' "$TESTDIR/trace" >"$TESTDIR/points"
	grep -E '^(mkdir|mkdirat|mknod|mknodat|rename|renameat|renameat2|write|writev|pwrite64|clone|clone3|fork|vfork|unlink|unlinkat|rmdir|sendto|sendmsg|wait4|waitid|kill|chmod|fchmod|fchmodat|exit_group) ' \
		"$TESTDIR/points" >"$TESTDIR/kill-points"
	[ "$(wc -l <"$TESTDIR/kill-points")" -ge 10 ]
	i=0
	failed=0
	while read -r name nth; do
		i=$((i + 1))
		id=$(unique_id)
		# ({} 2>/dev/null: no "Killed" job report)
		{
			(
				_close_fds
				exec env FAULT_MARK="$id" strace -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$nth" \
					"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
			) </dev/null >/dev/null 2>&1 || true
		} 2>/dev/null
		mode=delete
		((i % 2)) && mode=recreate
		_leftover_check_after_kill "$id" "$mode" || {
			echo "^ create killed at $name #$nth, then $mode" >&2
			forget "$id"
			failed=$((failed + 1))
		}
		((failed < 5)) || break
	done <"$TESTDIR/kill-points"
	echo "$failed of the $i kill points tried (of $(wc -l <"$TESTDIR/kill-points")) left something behind" >&2
	[ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------------------
# 2. a created container, paused
# ---------------------------------------------------------------------------

@test "faults: a created container paused reads paused; start refused (no hang); resume -> created; start works" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime pause "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" paused
	run _rt_timeout 10 start "$id"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && [ "$status" -ne 137 ] || {
		echo "start of a paused container: status $status (124/137: hung): $output" >&2
		return 1
	}
	assert_output_contains "paused"
	assert_equal "$(container_status "$id")" paused
	runtime resume "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" created
	run _rt_timeout 10 start "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
}

# _rt_timeout SECONDS ARGS...: the runtime, TERM after SECONDS, KILL 5s later.
_rt_timeout() {
	local t=$1
	shift
	(
		_close_fds
		exec timeout -k 5 "$t" "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# ---------------------------------------------------------------------------
# 3. exec into a paused container
# ---------------------------------------------------------------------------

start_and_pause() {
	create_and_start "$1"
	runtime pause "$1"
	assert_status 0
	assert_equal "$(container_status "$1")" paused
}

@test "faults: exec --ignore-paused -d into a paused container returns at once; the process runs after resume" {
	if is_runc_before_1_2; then
		skip "runc 1.1 hangs in exec -d into a paused container (its init is frozen before it reports)"
	fi
	id=$(unique_id)
	start_and_pause "$id"
	start=$(now_ms)
	# (to a file: the detached process inherits the runtime's stdio)
	st=0
	_rt_timeout 10 exec --ignore-paused -d "$id" sh -c 'echo ran >/tmp/exec-marker' >"$TESTDIR/exec.out" 2>&1 || st=$?
	output=$(cat "$TESTDIR/exec.out")
	status=$st
	assert_status 0
	elapsed=$(($(now_ms) - start))
	[ "$elapsed" -lt 10000 ]
	# frozen: it has not run yet
	[ ! -e "$ROOTFS/tmp/exec-marker" ]
	runtime resume "$id"
	assert_status 0
	wait_until 10 test -s "$ROOTFS/tmp/exec-marker"
	assert_equal "$(cat "$ROOTFS/tmp/exec-marker")" ran
	assert_equal "$(container_status "$id")" running
}

@test "faults: foreground exec --ignore-paused into a paused container ends on SIGTERM" {
	if is_runc_before_1_2; then
		skip "runc 1.1 hangs in exec into a paused container and does not act on SIGTERM"
	fi
	id=$(unique_id)
	start_and_pause "$id"
	start=$(now_ms)
	# TERM after 3s; KILL (exit 137) only if TERM was not enough within 7s more
	st=0
	_rt_timeout_term 3 7 exec --ignore-paused "$id" true >"$TESTDIR/exec.out" 2>&1 || st=$?
	output=$(cat "$TESTDIR/exec.out")
	status=$st
	elapsed=$(($(now_ms) - start))
	[ "$status" -ne 137 ] && [ "$elapsed" -lt 10500 ] || {
		echo "exec ignored SIGTERM: status $status after ${elapsed}ms: $output" >&2
		return 1
	}
	runtime resume "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
	runtime exec "$id" true
	assert_status 0
}

# _rt_timeout_term T K ARGS...: the runtime, TERM after T s, KILL K s later.
_rt_timeout_term() {
	local t=$1 k=$2
	shift 2
	(
		_close_fds
		exec timeout -k "$k" -s TERM "$t" "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# ---------------------------------------------------------------------------
# 4. a cgroup shared with another container
# ---------------------------------------------------------------------------

@test "faults: create in the cgroup of a paused container fails fast, leaves nothing of the new one" {
	id1=$(unique_id)
	id2=$(unique_id)
	update_config '.linux.cgroupsPath = $p' --arg p "/$id1"
	run_detached "$id1"
	assert_status 0
	pid1=$(container_pid "$id1")
	runtime pause "$id1"
	assert_status 0
	freezer=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid1/cgroup")
	procs_before=$(sort "/sys/fs/cgroup/freezer$freezer/cgroup.procs")

	start=$(now_ms)
	st=0
	(
		_close_fds
		exec timeout -k 5 10 env FAULT_MARK="$id2" "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id2"
	) </dev/null >"$TESTDIR/create2.out" 2>&1 || st=$?
	elapsed=$(($(now_ms) - start))
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ "$st" -ne 137 ] && [ "$elapsed" -lt 10000 ] || {
		echo "create in a frozen cgroup: status $st after ${elapsed}ms: $(cat "$TESTDIR/create2.out")" >&2
		kill_marked "$id2"
		return 1
	}
	output=$(cat "$TESTDIR/create2.out")
	assert_output_contains "frozen"

	# nothing of the new container: no state, no process, cgroup unchanged
	runtime state "$id2"
	assert_status 1
	assert_equal "$(ls -A "$ROOT")" "$id1"
	wait_until 30 eval '[ -z "$(marked_procs '"$id2"')" ]'
	assert_equal "$(sort "/sys/fs/cgroup/freezer$freezer/cgroup.procs")" "$procs_before"
	assert_equal "$(container_status "$id1")" paused
	runtime resume "$id1"
	assert_status 0
	assert_equal "$(container_status "$id1")" running
}

@test "faults: create in the cgroup of a running container works, with a warning" {
	id1=$(unique_id)
	id2=$(unique_id)
	update_config '.linux.cgroupsPath = $p' --arg p "/$id1"
	run_detached "$id1"
	assert_status 0
	# the warning on stderr or in the --log file
	run _rt_to_files "$TESTDIR/run2.out" "$TESTDIR/run2.err" --log "$TESTDIR/run2.log" run -d --bundle "$BUNDLE" "$id2"
	assert_status 0
	output="$(cat "$TESTDIR/run2.out" "$TESTDIR/run2.err" "$TESTDIR/run2.log" 2>/dev/null || true)"
	assert_output_contains "container's cgroup is not empty"
	assert_equal "$(container_status "$id2")" running
	assert_equal "$(container_status "$id1")" running
	# Deleting one (each has its own pid namespace) leaves the other running (runc: the same).
	runtime delete --force "$id2"
	assert_status 0
	assert_equal "$(container_status "$id1")" running
	runtime exec "$id1" true
	assert_status 0
}

@test "faults: a create failing in the cgroup of a running container leaves that container alone" {
	id1=$(unique_id)
	id2=$(unique_id)
	update_config '.linux.cgroupsPath = $p' --arg p "/$id1"
	run_detached "$id1"
	assert_status 0
	pid1=$(container_pid "$id1")
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]'
	create_container "$id2"
	[ "$status" -ne 0 ]
	pid_alive "$pid1"
	assert_equal "$(container_status "$id1")" running
	runtime exec "$id1" true
	assert_status 0
}

@test "faults: a create SIGKILLed in the cgroup of a running container: delete --force kills only its own" {
	if is_runc_before_1_2; then
		skip "runc 1.1 leaves the init of a create killed in a createContainer hook"
	fi
	id1=$(unique_id)
	update_config '.linux.cgroupsPath = $p' --arg p "/$id1"
	run_detached "$id1"
	assert_status 0
	pid1=$(container_pid "$id1")
	_kill_in_hook createContainer
	hookpid=$(cat "$TESTDIR/hook.pid")
	runtime delete --force "$id"
	assert_status 0
	# the killed create's init and its hook are gone, the other container is not
	wait_until 10 eval "! pid_alive $hookpid"
	pid_alive "$pid1"
	assert_equal "$(container_status "$id1")" running
	runtime exec "$id1" true
	assert_status 0
	runtime delete --force "$id1"
	assert_status 0
	assert_nothing_left "$id"
}

# ---------------------------------------------------------------------------
# 5. sub-cgroups made in the container's cgroup
# ---------------------------------------------------------------------------

@test "faults: delete --force removes the sub-cgroups the container's processes were moved into" {
	set_args sh -c 'sleep 1000 & exec sleep 1001'
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	wait_until 10 eval '[ -n "$(pgrep -P '"$pid"' sleep)" ]'
	child=$(pgrep -P "$pid" sleep | head -n1)
	dirs=$(cgroups_of "$id")
	[ -n "$dirs" ]
	moved=0
	for d in $dirs; do
		mkdir -p "$d/sub/deeper"
		for f in cpuset.cpus cpuset.mems; do
			if [ -e "$d/$f" ]; then
				cat "$d/$f" >"$d/sub/$f"
				cat "$d/$f" >"$d/sub/deeper/$f"
			fi
		done
		echo "$child" >"$d/sub/deeper/cgroup.procs" 2>/dev/null && moved=$((moved + 1))
		echo "$pid" >"$d/sub/cgroup.procs" 2>/dev/null || true
	done
	[ "$moved" -gt 0 ]
	runtime delete --force "$id"
	assert_status 0
	runtime state "$id"
	assert_status 1
	assert_nothing_left "$id"
}

# ---------------------------------------------------------------------------
# 6. a hook that never reads a large state
# ---------------------------------------------------------------------------

@test "faults: hook that never reads 200 KiB of state is killed at its timeout, create fails, nothing left" {
	head -c 204800 /dev/zero | tr '\0' x >"$TESTDIR/big"
	update_config '.annotations["org.example.big"] = $v' --rawfile v "$TESTDIR/big"
	update_config '.hooks.createRuntime = [{path: $p, args: ["block.sh", $m, $f], timeout: 2}]' \
		--arg p "$TESTDIR/block.sh" --arg m "$TESTDIR/in-hook" --arg f "$TESTDIR/hook.pid"
	id=$(unique_id)
	start=$(now_ms)
	st=0
	(
		_close_fds
		exec timeout -k 5 30 env FAULT_MARK="$id" "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	) </dev/null >"$TESTDIR/create.out" 2>&1 || st=$?
	elapsed=$(($(now_ms) - start))
	remember_pid "$TESTDIR/hook.pid"
	[ -s "$TESTDIR/hook.pid" ]
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ "$st" -ne 137 ] && [ "$elapsed" -lt 12000 ] || {
		echo "create: status $st after ${elapsed}ms: $(cat "$TESTDIR/create.out")" >&2
		kill_marked "$id"
		return 1
	}
	hookpid=$(cat "$TESTDIR/hook.pid")
	wait_until 30 eval "! pid_alive $hookpid"
	assert_nothing_left "$id"
}

# ---------------------------------------------------------------------------
# 7. several hooks, the first one failing; createContainer's cwd
# ---------------------------------------------------------------------------

@test "faults: a failing poststart hook does not stop the next one; start succeeds" {
	if is_runc_before_1_2; then
		skip "runc 1.1 runs poststart in create, stops at the first failing hook and fails create"
	fi
	add_hook poststart "$TESTDIR/fail.sh"
	add_hook poststart "$TESTDIR/mark.sh" "$TESTDIR/marks" second-poststart
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime start "$id"
	assert_status 0
	assert_output_contains "hook-failed-on-purpose"
	assert_equal "$(cat "$TESTDIR/marks")" second-poststart
	assert_equal "$(container_status "$id")" running
}

@test "faults: a failing poststop hook does not stop the next one; delete succeeds" {
	if is_runc_before_1_2; then
		skip "runc 1.1 stops at the first failing poststop hook"
	fi
	add_hook poststop "$TESTDIR/fail.sh"
	add_hook poststop "$TESTDIR/mark.sh" "$TESTDIR/marks" second-poststop
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	runtime delete "$id"
	assert_status 0
	assert_equal "$(cat "$TESTDIR/marks")" second-poststop
	runtime state "$id"
	assert_status 1
	assert_nothing_left "$id"
}

@test "faults: createContainer hooks run with the container's rootfs as their cwd" {
	add_hook createContainer "$TESTDIR/pwd.sh" "$TESTDIR/cwd"
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	assert_equal "$(cat "$TESTDIR/cwd")" "$(readlink -f "$ROOTFS")"
}

# ---------------------------------------------------------------------------
# 8. start returns once the program runs
# ---------------------------------------------------------------------------

@test "faults: poststart hooks see the container's program, not the runtime's init (20 starts)" {
	if is_runc_before_1_2; then
		skip "runc 1.1 runs poststart hooks in create, before the program starts"
	fi
	add_hook poststart "$TESTDIR/comm.sh" "$TESTDIR/comms"
	for ((i = 0; i < 20; i++)); do
		# every other time a startContainer hook (in the container, between
		# the start signal and the program's exec) widens the window
		update_config 'del(.hooks.startContainer)'
		if ((i % 2)); then
			update_config '.hooks.startContainer = [{path: "/bin/sleep", args: ["sleep", "0.1"]}]'
		fi
		id=$(unique_id)
		create_container "$id"
		assert_status 0
		: >"$TESTDIR/comms"
		runtime start "$id"
		assert_status 0
		[ "$(cat "$TESTDIR/comms")" = sleep ] || {
			echo "iteration $i: poststart saw the init as '$(cat "$TESTDIR/comms")'" >&2
			return 1
		}
		runtime delete --force "$id"
		assert_status 0
	done
}

# ---------------------------------------------------------------------------
# 9. exec after the init died
# ---------------------------------------------------------------------------

@test "faults: exec right after the init was SIGKILLed never runs anywhere but in the container" {
	for ((i = 0; i < 10; i++)); do
		id=$(unique_id)
		run_detached "$id"
		assert_status 0
		pid=$(container_pid "$id")
		pidns=$(readlink "/proc/$pid/ns/pid")
		kill -9 "$pid"
		if ((i % 2)); then
			# gone (a zombie or reaped): the exec must say the container stopped
			wait_until 10 eval "! pid_alive $pid"
			runtime exec "$id" sh -c 'readlink /proc/self/ns/pid'
			[ "$status" -ne 0 ] || {
				echo "iteration $i: exec after the init died ran: $output" >&2
				return 1
			}
			assert_output_contains "stopped"
		else
			# dying, at once: it fails, or (the init not dead yet) ran in the
			# container's own pid namespace, never in another
			runtime exec "$id" sh -c 'readlink /proc/self/ns/pid'
			if [ "$status" -eq 0 ]; then
				assert_equal "$output" "$pidns"
			fi
		fi
		runtime delete --force "$id"
		assert_status 0
	done
}

@test "faults: exec whose join is overtaken by delete --force says the container stopped (no raw errno)" {
	skip_unless_apus "holds apus's own setns with strace; runc 1.1.5 reports its nsexec errors"
	command -v strace >/dev/null || skip "strace not installed"
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	# the exec'd process is held (3 s) just before it joins the init's namespaces
	(
		_close_fds
		exec strace -f -o /dev/null -e trace=setns -e inject=setns:delay_enter=3000000:when=1 \
			"$RUNTIME" --root "$ROOT" exec "$id" true
	) </dev/null >"$TESTDIR/exec.out" 2>&1 &
	exec_pid=$!
	echo "$exec_pid" >>"$TESTDIR/bg.pids"
	# held once apus has forked the joining process
	wait_until 30 eval 'apus=$(pgrep -P $exec_pid) && pgrep -P "$apus" >/dev/null'
	runtime delete --force "$id"
	assert_status 0
	rc=0
	wait "$exec_pid" || rc=$?
	output=$(grep -v '^$' "$TESTDIR/exec.out" || true)
	[ "$rc" -ne 0 ] || { echo "exec into the deleted container succeeded: $output" >&2; return 1; }
	assert_output_contains "cannot exec in a stopped container"
	[[ "$output" != *"No such process"* ]] || { echo "raw errno: $output" >&2; return 1; }
}
