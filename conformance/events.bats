#!/usr/bin/env bats
# `events`: runc's JSON event stream (one object per line): "stats" every
# --interval, "oom" when the OOM killer acts in the container's memory cgroup,
# the end of the stream when the container goes; `events --stats` prints one
# stats object (runc's types.Stats) and exits. Checked against the cgroup
# files on this host's layout and on plain v1 and pure cgroup v2 views
# (cgroup-views.bash). Every wait is on an event (a line, an exit), bounded.

load helpers
load cgroup-views

setup() {
	setup_bundle
	REAL_RUNTIME=$RUNTIME
	LAYOUT=hybrid
}

teardown() {
	cleanup_ref_runc
	teardown_bundle
}

# start_events OUT ARGS...: `events ARGS` in the background, stdout to OUT,
# stderr to OUT.err; its pid in EV_PID (killed by teardown if still there).
# A background job of a non-interactive shell starts with SIGINT ignored
# (runc's Go runtime then keeps ignoring it): the default is restored.
start_events() {
	local out=$1
	shift
	(
		_close_fds
		exec env --default-signal=INT "$RUNTIME" --root "$ROOT" events "$@"
	) </dev/null >"$out" 2>"$out.err" &
	EV_PID=$!
	echo "$EV_PID" >>"$TESTDIR/bg.pids"
}

# lines_of TYPE FILE: how many events of TYPE FILE holds.
lines_of() {
	jq -c --arg t "$1" 'select(.type == $t)' "$2" 2>/dev/null | wc -l
}

has_events() { [ "$(lines_of "$1" "$3")" -ge "$2" ]; }

# wait_events_exit [TIMEOUT=30]: the events process ended; its status in EV_STATUS.
wait_events_exit() {
	wait_until "${1:-30}" eval '! pid_alive "$EV_PID"' || return 1
	EV_STATUS=0
	wait "$EV_PID" || EV_STATUS=$?
}

# assert_complete_json FILE: every line is one whole JSON object with a type and our id.
assert_complete_json() {
	local bad
	bad="$(jq -c --arg id "$id" 'select((.type | type) != "string" or .id != $id)' "$1" 2>&1)" || {
		echo "not JSON lines: $(cat "$1")" >&2
		return 1
	}
	[ -z "$bad" ] || {
		echo "unexpected events: $bad" >&2
		return 1
	}
}

# stats_field FILTER: FILTER on the data of `events --stats $id` ($output).
stats_field() { jq -r ".data | $1" <<<"$output"; }

# gated_container [CMD]: a running container ($id) whose init waits for
# /tmp/go, then runs CMD (or exits).
gated_container() {
	set_args sh -c "while [ ! -e /tmp/go ]; do sleep 0.05; done; ${1:-true}"
	id=$(unique_id)
	create_and_start "$id"
}

# stream_then_go: `events --interval 100ms $id` into $TESTDIR/ev; once it
# has printed (its watches are in place), the gated init goes on.
stream_then_go() {
	start_events "$TESTDIR/ev" --interval 100ms "$id"
	wait_until 30 has_events stats 1 "$TESTDIR/ev"
	touch "$ROOTFS/tmp/go"
}

# --------------------------------------------------------------------------
# events --stats
# --------------------------------------------------------------------------

# check_stats_fields: `events --stats` of a running container against its
# cgroup files (memory and pids limited, some CPU used).
check_stats_fields() {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	set_args sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 3600'
	id=$(unique_id)
	create_and_start "$id"
	# the busy loop is over once sh has become sleep
	wait_until 30 grep -q '^Name:[[:space:]]*sleep' "/proc/$(container_pid "$id")/status"

	runtime events --stats "$id"
	assert_status 0
	assert_equal "$(wc -l <<<"$output")" 1
	assert_equal "$(jq -r '.type + " " + .id' <<<"$output")" "stats $id"
	local limit_file=memory.max
	v1_has memory && limit_file=memory.limit_in_bytes
	assert_equal "$(stats_field .memory.usage.limit)" "$(cat "$(cg_file memory $limit_file)")"
	[ "$(stats_field .memory.usage.usage)" -gt 0 ]
	[ "$(stats_field .memory.usage.usage)" -le 67108864 ]
	[ "$(stats_field .memory.raw | jq length)" -gt 5 ]
	assert_equal "$(stats_field .pids.current)" "$(cat "$(cg_file pids pids.current)")"
	assert_equal "$(stats_field .pids.limit)" 50
	[ "$(stats_field .cpu.usage.total)" -gt 0 ]
	[ "$(stats_field '.cpu.usage.percpu | length')" -ge 1 ]
	# present even when empty, as runc prints them
	assert_equal "$(stats_field 'has("cpuset") and has("blkio") and has("hugetlb") and has("intel_rdt") and has("network_interfaces")')" true
}

@test "events --stats: one stats object whose memory, pids and cpu fields are the cgroup files'" {
	check_stats_fields
}

@test "v1: events --stats: the same fields from the v1 hierarchies alone" {
	use_layout v1
	check_stats_fields
}

@test "events --stats: network_interfaces are the container's own network namespace's, loopback left out" {
	skip_unless_apus "runc 1.1 prints null unless libcontainer made a veth"
	id=$(unique_id)
	create_and_start "$id"
	local pid
	pid=$(container_pid "$id")
	runtime events --stats "$id"
	assert_status 0
	assert_equal "$(stats_field .network_interfaces)" null
	# interfaces of its own (they go with the namespace): a veth pair, one
	# datagram from v0 to v1
	# shellcheck disable=SC2016
	nsenter -t "$pid" -n bash -c 'ip link add bats-v0 type veth peer name bats-v1 &&
		ip link set bats-v0 up && ip link set bats-v1 up && ip addr add 10.199.0.1/24 dev bats-v0 &&
		ip neigh add 10.199.0.2 lladdr "$(ip -br link show bats-v1 | awk "{ print \$3 }")" dev bats-v0 &&
		printf x >/dev/udp/10.199.0.2/9' </dev/null 3>&- 4>&-
	runtime events --stats "$id"
	assert_status 0
	assert_equal "$(stats_field '.network_interfaces | map(.Name) | sort | join(" ")')" "bats-v0 bats-v1"
	[ "$(stats_field '.network_interfaces[] | select(.Name == "bats-v0") | .TxPackets')" -ge 1 ]
	[ "$(stats_field '.network_interfaces[] | select(.Name == "bats-v0") | .TxBytes')" -gt 0 ]
	[ "$(stats_field '.network_interfaces[] | select(.Name == "bats-v1") | .RxPackets')" -ge 1 ]
	assert_equal "$(stats_field '.network_interfaces[0] | keys_unsorted | join(",")')" \
		Name,RxBytes,RxPackets,RxErrors,RxDropped,TxBytes,TxPackets,TxErrors,TxDropped
	runtime delete --force "$id"

	# on the host's network: not the container's traffic to report
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	id=$(unique_id)
	create_and_start "$id"
	runtime events --stats "$id"
	assert_status 0
	assert_equal "$(stats_field .network_interfaces)" null
}

# runc's types.Stats: the members Go always prints (no omitempty), and their
# nesting; the values and the omitempty members are left out of the compare.
_stats_shape() {
	jq -S '.data
		| del(.memory.cache, .memory.raw, .pids, .blkio, .hugetlb, .network_interfaces, .cpu.throttling,
			.cpu.usage.total, .cpu.usage.percpu, .cpu.usage.percpu_kernel, .cpu.usage.percpu_user,
			.cpuset.cpus, .cpuset.mems)
		| .memory |= map_values(del(.usage, .max))
		| walk(if type == "number" then 0 else . end)'
}

@test "events --stats: the same members as the reference runc's on the same bundle" {
	require_reference_runc
	update_config '.linux.resources.memory = {"limit": 67108864}'
	id=$(unique_id)
	create_and_start "$id"
	runtime events --stats "$id"
	assert_status 0
	local ours="$output"

	local rid
	rid=$(unique_id)
	_ref_runc run -d --bundle "$BUNDLE" "$rid" >"$TESTDIR/ref.out" 2>&1
	run _ref_runc events --stats "$rid"
	cleanup_ref_runc
	assert_status 0
	assert_equal "$(_stats_shape <<<"$ours")" "$(_stats_shape <<<"$output")"
	assert_equal "$(jq -c '.data.memory.raw | keys' <<<"$ours")" "$(jq -c '.data.memory.raw | keys' <<<"$output")"
}

# --------------------------------------------------------------------------
# The stream
# --------------------------------------------------------------------------

@test "events --interval: a stats object every interval; the stream ends when the container is deleted" {
	id=$(unique_id)
	create_and_start "$id"
	start_events "$TESTDIR/ev" --interval 200ms "$id"
	wait_until 30 has_events stats 3 "$TESTDIR/ev"
	runtime kill "$id" KILL
	assert_status 0
	wait_for_status "$id" stopped 30
	runtime delete "$id"
	assert_status 0
	wait_events_exit 30
	assert_equal "$EV_STATUS" 0
	assert_complete_json "$TESTDIR/ev"
	assert_equal "$(jq -r '.type' "$TESTDIR/ev" | sort -u)" stats
}

@test "events: the stream ends as soon as the container's init exits (before delete)" {
	skip_unless_apus "runc 1.1 on cgroup v1 streams until the cgroup is removed by delete"
	gated_container
	stream_then_go
	wait_events_exit 30
	assert_equal "$EV_STATUS" 0
	assert_equal "$(container_status "$id")" stopped
	assert_complete_json "$TESTDIR/ev"
}

@test "events: SIGTERM and SIGINT end the stream, every line whole" {
	id=$(unique_id)
	create_and_start "$id"
	local sig
	for sig in TERM INT; do
		start_events "$TESTDIR/ev-$sig" --interval 100ms "$id"
		wait_until 30 has_events stats 2 "$TESTDIR/ev-$sig"
		kill -"$sig" "$EV_PID"
		wait_events_exit 30
		# apus ends cleanly; runc dies of the signal
		runtime_is_apus && assert_equal "$EV_STATUS" 0
		assert_complete_json "$TESTDIR/ev-$sig"
	done
	assert_equal "$(container_status "$id")" running
}

@test "events: the stream ends when its reader goes, even with SIGPIPE ignored" {
	skip_unless_apus "runc keeps streaming into the closed pipe when SIGPIPE is ignored"
	id=$(unique_id)
	create_and_start "$id"
	# shellcheck disable=SC2016
	run timeout 30 bash -c 'set -o pipefail; trap "" PIPE; "$1" --root "$2" events --interval 100ms "$3" | head -n 2' \
		- "$RUNTIME" "$ROOT" "$id" </dev/null 3>&- 4>&-
	assert_status 0
	assert_equal "$(wc -l <<<"$output")" 2
	assert_equal "$(container_status "$id")" running
}

# check_oom_event: a process of the container killed by the OOM killer gives
# one "oom" event in the stream; the stream goes on (the init lives).
# `tail /dev/zero` grows until the OOM killer takes it (memory + swap limited
# alike where v1 accounts swap).
check_oom_event() {
	local swap=""
	[ "$LAYOUT" = hybrid ] && [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] && swap=', "swap": 33554432'
	update_config ".linux.resources.memory = {\"limit\": 33554432$swap}"
	gated_container 'tail /dev/zero; exec sleep 3600'
	stream_then_go
	wait_until 60 has_events oom 1 "$TESTDIR/ev"
	assert_equal "$(jq -c 'select(.type == "oom")' "$TESTDIR/ev" | head -1)" "{\"type\":\"oom\",\"id\":\"$id\"}"
	local n
	n=$(lines_of stats "$TESTDIR/ev")
	wait_until 30 has_events stats $((n + 2)) "$TESTDIR/ev"
	assert_equal "$(container_status "$id")" running
	runtime delete --force "$id"
	wait_events_exit 30
	assert_complete_json "$TESTDIR/ev"
}

@test "events: an OOM kill in the container gives an oom event" {
	check_oom_event
}

# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

@test "events: a missing container, a stopped one, a bad interval: runc's errors, status 1" {
	runtime events --stats bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
	runtime events bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
	runtime events
	assert_status 1

	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped 30
	runtime events --stats "$id"
	assert_status 1
	assert_output_contains "container with id $id is not running"
	runtime events --interval 1s "$id"
	assert_status 1
	assert_output_contains "container with id $id is not running"
	runtime events --interval 0s "$id"
	assert_status 1
	assert_output_contains "duration interval must be greater than 0"
	runtime events --interval 1 "$id"
	assert_status 1
	assert_output_contains 'invalid value "1" for flag -interval: parse error'
}

# --------------------------------------------------------------------------
# A pure cgroup v2 view
# --------------------------------------------------------------------------

@test "v2: events --stats reads cgroup2 (pids from cgroup.procs without the pids controller, cpu.stat)" {
	use_layout v2
	id=$(unique_id)
	create_and_start "$id"
	local dir
	dir="$(cgroup_table | awk '$1 == "unified" { print $3 }')$(awk -F: '$1 == "0" { print $3 }' "/proc/$(container_pid "$id")/cgroup")"
	runtime events --stats "$id"
	assert_status 0
	assert_equal "$(jq -r '.type + " " + .id' <<<"$output")" "stats $id"
	if [ -e "$dir/pids.current" ]; then
		assert_equal "$(stats_field .pids.current)" "$(cat "$dir/pids.current")"
	else
		assert_equal "$(stats_field .pids.current)" "$(wc -l <"$dir/cgroup.procs")"
	fi
	[ "$(stats_field .cpu.usage.total)" -gt 0 ]
	if [ -e "$dir/memory.current" ]; then
		[ "$(stats_field .memory.usage.usage)" -gt 0 ]
	fi
	runtime events --stats bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "v2: the stream gives stats and ends when the container's init exits" {
	use_layout v2
	real_runtime_is_runc && skip "runc 1.1 needs the memory controller on cgroup2 to stream (inotify on memory.events)"
	gated_container
	stream_then_go
	wait_events_exit 30
	assert_equal "$EV_STATUS" 0
	assert_complete_json "$TESTDIR/ev"
}

@test "v2: an OOM kill gives an oom event (memory.events)" {
	use_layout v2
	grep -qw memory "$(cgroup_table | awk '$1 == "unified" { print $3 }')/cgroup.controllers" ||
		skip "this host's cgroup2 has no memory controller"
	check_oom_event
}
