#!/usr/bin/env bats
# Concurrency: many containers at once, racing creates of one id, concurrent
# readers.

load helpers

N=50

# _create_start ID: create + start; writes the two exit codes to ID.rc.
_create_start() {
	local id=$1 rc1=0 rc2=-
	_rt_to_files "$TESTDIR/$id.out" "$TESTDIR/$id.err" create --bundle "$BUNDLE" "$id" || rc1=$?
	if [ "$rc1" -eq 0 ]; then
		rc2=0
		_rt start "$id" >>"$TESTDIR/$id.start" 2>&1 || rc2=$?
	fi
	echo "$rc1 $rc2" >"$TESTDIR/$id.rc"
}

# _create_only ID TAG: create; writes the exit code to ID.TAG.rc.
_create_only() {
	local id=$1 tag=$2 rc=0
	_rt_to_files "$TESTDIR/$id.$tag.out" "$TESTDIR/$id.$tag.out" create --bundle "$BUNDLE" "$id" || rc=$?
	echo "$rc" >"$TESTDIR/$id.$tag.rc"
}

@test "concurrency: $N containers created and started concurrently, then deleted" {
	ids=()
	for ((i = 0; i < N; i++)); do
		ids+=("$(unique_id)")
	done

	pids=()
	for id in "${ids[@]}"; do
		_create_start "$id" </dev/null >/dev/null 2>&1 3>&- 4>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done

	failed=0
	for id in "${ids[@]}"; do
		if [ "$(cat "$TESTDIR/$id.rc" 2>/dev/null)" != "0 0" ]; then
			echo "$id: rc=$(cat "$TESTDIR/$id.rc" 2>/dev/null) $(cat "$TESTDIR/$id.err" "$TESTDIR/$id.start" 2>/dev/null)" >&2
			failed=1
		fi
	done
	[ "$failed" -eq 0 ]

	runtime list -f json
	assert_status 0
	assert_equal "$(jq length <<<"$output")" "$N"
	assert_equal "$(jq '[.[] | select(.status == "running")] | length' <<<"$output")" "$N"
	assert_equal "$(jq -r '[.[].pid] | unique | length' <<<"$output")" "$N"

	pids=()
	for id in "${ids[@]}"; do
		(
			rc=0
			_rt delete --force "$id" >"$TESTDIR/$id.del" 2>&1 || rc=$?
			echo "$rc" >"$TESTDIR/$id.delrc"
		) </dev/null >/dev/null 2>&1 3>&- 4>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	for id in "${ids[@]}"; do
		assert_equal "$(cat "$TESTDIR/$id.delrc")" 0
	done

	runtime list -q
	assert_equal "$output" ""
	assert_root_empty
	[ -z "$(procs_in_rootfs)" ]
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name 'bats-*' 2>/dev/null | grep -F -f <(printf '%s\n' "${ids[@]}") || true)
	[ -z "$left" ] || {
		echo "cgroups left: $left" >&2
		return 1
	}
	! grep -qF "$TESTDIR" /proc/self/mountinfo
}

skip_if_racy_runc() {
	if is_runc_before_1_2; then
		skip "runc 1.1.x races on concurrent creates of one id (stat-then-MkdirAll): in ~40% of rounds both fail, or the loser's cleanup removes the winner's state dir and leaks its init process and cgroups"
	fi
}

@test "concurrency: two concurrent creates of the same id -> exactly one succeeds" {
	skip_if_racy_runc
	for round in 1 2 3 4 5; do
		id=$(unique_id)
		_create_only "$id" a </dev/null >/dev/null 2>&1 3>&- 4>&- &
		p1=$!
		_create_only "$id" b </dev/null >/dev/null 2>&1 3>&- 4>&- &
		p2=$!
		wait "$p1" || true
		wait "$p2" || true
		rca=$(cat "$TESTDIR/$id.a.rc")
		rcb=$(cat "$TESTDIR/$id.b.rc")
		if ! { [ "$rca" = 0 ] && [ "$rcb" = 1 ]; } && ! { [ "$rca" = 1 ] && [ "$rcb" = 0 ]; }; then
			echo "round $round: exit codes $rca and $rcb" >&2
			cat "$TESTDIR/$id.a.out" "$TESTDIR/$id.b.out" >&2
			return 1
		fi
		[ "$rca" = 1 ] && loser=a || loser=b
		grep -q "container with given ID already exists" "$TESTDIR/$id.$loser.out" || {
			echo "loser said: $(cat "$TESTDIR/$id.$loser.out")" >&2
			return 1
		}
		assert_equal "$(container_status "$id")" created
		pid=$(container_pid "$id")
		pid_alive "$pid"
		runtime delete --force "$id"
		assert_status 0
	done
	assert_root_empty
}

@test "concurrency: several concurrent creates of the same id -> exactly one succeeds" {
	skip_if_racy_runc
	id=$(unique_id)
	pids=()
	for t in a b c d e f g h; do
		_create_only "$id" "$t" </dev/null >/dev/null 2>&1 3>&- 4>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	ok=0
	for t in a b c d e f g h; do
		rc=$(cat "$TESTDIR/$id.$t.rc")
		if [ "$rc" = 0 ]; then
			ok=$((ok + 1))
		else
			assert_equal "$rc" 1
		fi
	done
	assert_equal "$ok" 1
	runtime list -q
	assert_equal "$output" "$id"
	assert_equal "$(container_status "$id")" created
}

@test "concurrency: concurrent state/list during start all succeed" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pids=()
	for i in $(seq 20); do
		(
			rc=0
			_rt state "$id" >"$TESTDIR/state.$i" 2>&1 || rc=$?
			echo "$rc" >"$TESTDIR/state.$i.rc"
			rc=0
			_rt list -f json >"$TESTDIR/list.$i" 2>&1 || rc=$?
			echo "$rc" >"$TESTDIR/list.$i.rc"
		) </dev/null >/dev/null 2>&1 3>&- 4>&- &
		pids+=($!)
	done
	runtime start "$id"
	assert_status 0
	for p in "${pids[@]}"; do wait "$p" || true; done
	for i in $(seq 20); do
		assert_equal "$(cat "$TESTDIR/state.$i.rc")" 0
		assert_equal "$(cat "$TESTDIR/list.$i.rc")" 0
		jq -e --arg id "$id" '.id == $id and (.status == "created" or .status == "running")' "$TESTDIR/state.$i" >/dev/null
		jq -e 'length == 1' "$TESTDIR/list.$i" >/dev/null
	done
}

@test "concurrency: concurrent delete --force of one container -> all exit 0, gone" {
	id=$(unique_id)
	create_and_start "$id"
	pids=()
	for i in 1 2 3 4; do
		(
			rc=0
			_rt delete --force "$id" >"$TESTDIR/del.$i" 2>&1 || rc=$?
			echo "$rc" >"$TESTDIR/del.$i.rc"
		) </dev/null >/dev/null 2>&1 3>&- 4>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	for i in 1 2 3 4; do
		rc=$(cat "$TESTDIR/del.$i.rc")
		[ "$rc" = 0 ] || {
			echo "delete $i: rc=$rc $(cat "$TESTDIR/del.$i")" >&2
			return 1
		}
	done
	assert_root_empty
	assert_no_cgroups "$id"
}
