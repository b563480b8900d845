#!/usr/bin/env bats
# `state` output: keys, values, format, status transitions, pid-reuse detection.

load helpers

# raw_state ID FILE: write the exact bytes `state ID` prints to FILE.
raw_state() {
	_rt state "$1" >"$2"
}

@test "state: exactly the runc keys, in runc order (no annotations)" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime state "$id"
	assert_status 0
	keys=$(jq -c 'keys_unsorted' <<<"$output")
	assert_equal "$keys" '["ociVersion","id","pid","status","bundle","rootfs","created","owner"]'
}

@test "state: values are right for a created container" {
	id=$(unique_id)
	before=$(date -u +%s)
	create_container "$id"
	assert_status 0
	after=$(date -u +%s)
	runtime state "$id"
	assert_status 0
	s=$output

	[ -n "$(jq -r '.ociVersion | strings' <<<"$s")" ]
	assert_equal "$(jq -r .id <<<"$s")" "$id"
	assert_equal "$(jq -r .status <<<"$s")" created
	assert_equal "$(jq -r '.pid | type' <<<"$s")" number
	pid=$(jq -r .pid <<<"$s")
	[ "$pid" -gt 0 ]
	pid_alive "$pid"
	assert_equal "$(jq -r .bundle <<<"$s")" "$BUNDLE"
	assert_equal "$(jq -r .rootfs <<<"$s")" "$ROOTFS"
	assert_equal "$(jq -r .owner <<<"$s")" ""
	[ "$(jq 'has("annotations")' <<<"$s")" = false ]

	created=$(jq -r .created <<<"$s")
	# RFC 3339 in UTC, nanoseconds with trailing zeros trimmed (Go RFC3339Nano)
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z$ ]]
	t=$(date -u -d "$created" +%s)
	[ "$t" -ge "$((before - 1))" ] && [ "$t" -le "$((after + 1))" ]
}

@test "state: pretty-printed with 2-space indent and no trailing newline" {
	update_config '.annotations = {"org.example.key": "value", "a": "b"}'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	raw_state "$id" "$TESTDIR/state.raw"
	# the exact bytes equal jq's 2-space pretty printing minus the final newline
	jq . "$TESTDIR/state.raw" | head -c -1 >"$TESTDIR/state.expected"
	cmp "$TESTDIR/state.raw" "$TESTDIR/state.expected"
	assert_equal "$(tail -c1 "$TESTDIR/state.raw")" "}"
	assert_equal "$(head -c5 "$TESTDIR/state.raw")" $'{\n  "'
}

@test "state: annotations appear between created and owner, sorted" {
	update_config '.annotations = {"org.example.z": "last", "b": "two", "org.example.a": "1"}'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime state "$id"
	assert_status 0
	assert_equal "$(jq -c 'keys_unsorted' <<<"$output")" \
		'["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]'
	assert_equal "$(jq -c '.annotations' <<<"$output")" '{"b":"two","org.example.a":"1","org.example.z":"last"}'
	# nested object printed with 4-space indent, keys sorted
	assert_output_contains $'"annotations": {\n    "b": "two",\n    "org.example.a": "1",\n    "org.example.z": "last"\n  },\n  "owner": ""'
}

@test "state: created -> running -> stopped, pid 0 when stopped" {
	set_args sleep 1
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	assert_equal "$(container_status "$id")" created
	runtime start "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" running
	assert_equal "$(container_pid "$id")" "$pid"
	wait_for_status "$id" stopped
	runtime state "$id"
	assert_status 0
	assert_equal "$(jq -r .pid <<<"$output")" 0
	assert_equal "$(jq -c 'keys_unsorted' <<<"$output")" '["ociVersion","id","pid","status","bundle","rootfs","created","owner"]'
}

@test "state: 'created' timestamp is stable across calls and states" {
	set_args sh -c 'sleep 0.2'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	c1=$(state_field "$id" created)
	sleep 0.1
	runtime start "$id"
	assert_status 0
	c2=$(state_field "$id" created)
	wait_for_status "$id" stopped
	c3=$(state_field "$id" created)
	assert_equal "$c2" "$c1"
	assert_equal "$c3" "$c1"
}

@test "state: init killed behind the runtime's back (created) -> stopped" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	kill -9 "$pid"
	wait_for_status "$id" stopped
	assert_equal "$(container_pid "$id")" 0
}

@test "state: init killed behind the runtime's back (running) -> stopped" {
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	kill -9 "$pid"
	wait_for_status "$id" stopped
	assert_equal "$(container_pid "$id")" 0
	runtime delete "$id"
	assert_status 0
}

@test "state: unknown container -> exit 1, does not exist" {
	runtime state bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "state: a live pid that is not our init (start time differs) -> stopped, pid 0" {
	skip_unless_apus "edits apus's own state.json to simulate pid reuse"
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	# Point the record at a live process that is not the container's init
	# (this test's shell), as if the init had died and its pid been reused.
	jq -c --argjson p $$ '.pid = $p' "$ROOT/$id/state.json" >"$TESTDIR/state.json"
	cp "$TESTDIR/state.json" "$ROOT/$id/state.json"
	assert_equal "$(container_status "$id")" stopped
	assert_equal "$(container_pid "$id")" 0
	runtime kill "$id" TERM
	assert_status 1
	assert_output_contains "container not running"
	kill -0 $$
}
