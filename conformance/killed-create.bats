#!/usr/bin/env bats
# A `create` killed (SIGKILL, e.g. by a caller's timeout) at any point leaves
# nothing that `delete --force` of its id, or the next `create` of that id,
# does not remove. The create is held at a known point with strace's fault
# injection (a delay before one of its own syscalls), killed there, and what
# it left is then cleaned up by the command under test.

load helpers

# The points, each as: strace syscall filter + inject spec, and the event
# that shows apus is held there.
#   claim: before the rename that claims the id (only the private staging
#          directory `<root>/.claim-<pid>` exists)
#   spawn: before telling the shim's child its cgroups are joined (a process
#          of the container exists, in its cgroups, mid-setup; the parent's
#          first send on the sync socket, whether the init is cloned at once
#          or through a first stage)
#   state: before the rename of state.json (the init waits on the exec fifo)
# The hold is far longer than the waits for it: under strace every syscall
# of the create stops for the tracer, which on a machine at load 30+ took
# more than 30 s to reach the claim, and a hold that ran out let the create
# go on past the point the test waits for.
HOLD_US=600000000

setup() {
	setup_bundle
	skip_unless_apus "holds apus at its own syscalls (the claim rename, the wait for the shim, the state.json rename)"
	command -v strace >/dev/null || skip "strace is needed (make deps)"
}

teardown() {
	# the held apus first: once strace is gone it would go on creating
	[ -n "${HELD_PID:-}" ] && kill -9 "$HELD_PID" 2>/dev/null
	teardown_bundle
}

# held_at_claim ID / held_at_spawn ID / held_at_state ID: the event showing
# that create of ID is held at that point.
held_at_claim() { compgen -G "$ROOT/.claim-*/intent.json" >/dev/null; }
held_at_spawn() {
	local cg
	for cg in $(cgroups_of "$1"); do
		[ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && return 0
	done
	return 1
}
held_at_state() { compgen -G "$ROOT/$1/state.json.tmp*" >/dev/null; }

# kill_create_at POINT ID: run `create ID` held at POINT, wait (bounded) for
# it to get there, SIGKILL it (and strace) and wait until it is gone.
kill_create_at() {
	local point=$1 id=$2 inject
	case "$point" in
	claim) inject="renameat2:delay_enter=$HOLD_US" ;;
	spawn) inject="sendto:delay_enter=$HOLD_US:when=1" ;;
	state) inject="rename:delay_enter=$HOLD_US:when=1" ;; # state.json (intent and config are written in the staging directory)
	esac
	spawn_bg strace -o /dev/null -e trace="${inject%%:*}" -e inject="$inject" \
		"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	wait_until 120 pgrep -P "$BG_PID" >/dev/null
	HELD_PID=$(pgrep -P "$BG_PID")
	wait_until 120 "held_at_$point" "$id"
	kill -9 "$HELD_PID"
	# a killed tracee only finishes dying once its tracer lets go
	kill -9 "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	wait_until 30 eval '! pid_alive "$HELD_PID"'
}

# assert_all_gone ID: no state, no cgroups, no process of the container.
assert_all_gone() {
	assert_root_empty
	assert_no_cgroups "$1"
	[ -z "$(procs_in_rootfs)" ]
}

_killed_then_delete() {
	id=$(unique_id)
	kill_create_at "$1" "$id"
	runtime state "$id"
	assert_status 1
	assert_output_contains "does not exist"
	runtime delete --force "$id"
	assert_status 0
	assert_all_gone "$id"
}

_killed_then_create() {
	id=$(unique_id)
	kill_create_at "$1" "$id"
	create_container "$id"
	assert_status 0
	assert_works_from_created "$id"
	assert_all_gone "$id"
}

@test "killed create: held at claim, SIGKILLed -> delete --force removes everything" {
	_killed_then_delete claim
}

@test "killed create: held at claim, SIGKILLed -> the next create of the id works, delete leaves nothing" {
	_killed_then_create claim
}

@test "killed create: held at spawn, SIGKILLed -> delete --force removes everything" {
	_killed_then_delete spawn
}

@test "killed create: held at spawn, SIGKILLed -> the next create of the id works, delete leaves nothing" {
	_killed_then_create spawn
}

@test "killed create: held at state, SIGKILLed -> delete --force removes everything" {
	_killed_then_delete state
}

@test "killed create: held at state, SIGKILLed -> the next create of the id works, delete leaves nothing" {
	_killed_then_create state
}

# Two creates that find one dead create's directory must not both clean it:
# the second would take the first's fresh directory (and cgroups, and init)
# for the dead one's. Eight at once, after a create killed mid-spawn: one
# wins, with a whole container; the rest say the id exists.
@test "killed create: held at spawn, SIGKILLed -> of eight concurrent creates of the id one wins, its container whole" {
	local round t ok winner
	for round in 1 2 3; do
		id=$(unique_id)
		kill_create_at spawn "$id"
		pids=()
		for t in a b c d e f g h; do
			(
				rc=0
				_rt_to_files "$TESTDIR/$id.$t.out" "$TESTDIR/$id.$t.out" create --bundle "$BUNDLE" "$id" || rc=$?
				echo "$rc" >"$TESTDIR/$id.$t.rc"
			) </dev/null >/dev/null 2>&1 3>&- 4>&- &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || true; done
		ok=0
		for t in a b c d e f g h; do
			if [ "$(cat "$TESTDIR/$id.$t.rc")" = 0 ]; then
				ok=$((ok + 1))
				winner=$t
			fi
		done
		if [ "$ok" != 1 ]; then
			echo "round $round: $ok creates succeeded" >&2
			cat "$TESTDIR/$id".?.out >&2
			return 1
		fi
		assert_works_from_created "$id"
		assert_all_gone "$id"
	done
}
