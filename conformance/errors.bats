#!/usr/bin/env bats
# Error handling: unknown containers, duplicate and invalid ids, bad bundles,
# bad command lines.  Every error exits 1 (unknown command: 3) and leaves
# nothing behind.

load helpers

# assert_nothing_left ID: no state, no cgroups, no processes, nothing stray.
assert_nothing_left() {
	assert_root_empty
	[ -z "$(procs_in_rootfs)" ]
	if [ -n "${1:-}" ]; then assert_no_cgroups "$1"; fi
}

# ------------------------------------------------------- unknown container

@test "errors: state of unknown container -> 1, does not exist" {
	runtime state bats-nope
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "errors: start of unknown container -> 1, does not exist" {
	runtime start bats-nope
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "errors: kill of unknown container -> 1, does not exist" {
	runtime kill bats-nope
	assert_status 1
	assert_output_contains "container does not exist"
	runtime kill bats-nope KILL
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "errors: delete of unknown container -> 1, does not exist" {
	runtime delete bats-nope
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "errors: error messages go to stderr, stdout stays empty" {
	run --separate-stderr _rt state bats-nope
	assert_status 1
	assert_equal "$output" ""
	[[ "$stderr" == *"container does not exist"* ]]
}

# ------------------------------------------------------------ duplicate id

@test "errors: create with an existing id -> 1, original untouched" {
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	create_container "$id"
	assert_status 1
	assert_output_contains "container with given ID already exists"
	assert_equal "$(container_status "$id")" running
	assert_equal "$(container_pid "$id")" "$pid"
	runtime list -q
	assert_equal "$output" "$id"
}

@test "errors: create with the id of a stopped container -> 1" {
	set_args true
	id=$(unique_id)
	create_and_start "$id"
	wait_for_status "$id" stopped
	create_container "$id"
	assert_status 1
	assert_output_contains "container with given ID already exists"
}

# ------------------------------------------------------------- invalid ids

@test "errors: id '../x' -> 1, nothing created inside or outside ROOT" {
	create_container "../x"
	assert_status 1
	assert_output_contains "invalid container ID format"
	assert_nothing_left
	[ ! -e "$TESTDIR/x" ]
	[ ! -e "$ROOT/../x" ]
}

@test "errors: id 'a/b' -> 1" {
	create_container "a/b"
	assert_status 1
	assert_output_contains "invalid container ID format"
	assert_nothing_left
}

@test "errors: ids '.', '..', 'a b', 'a:b' -> 1" {
	for bad in . .. "a b" "a:b"; do
		create_container "$bad"
		assert_status 1
		assert_output_contains "invalid container ID format"
	done
	assert_nothing_left
}

@test "errors: empty id -> 1" {
	create_container ""
	assert_status 1
	assert_output_contains "container id cannot be empty"
	assert_nothing_left
}

@test "errors: very long id (300 chars) -> 1" {
	long=$(printf 'a%.0s' $(seq 300))
	create_container "$long"
	assert_status 1
	assert_nothing_left
	find /sys/fs/cgroup -maxdepth 3 -name "aaaaaaaaaa*" | grep -q . && return 1
	true
}

@test "errors: invalid id for state/start/kill/delete -> 1" {
	for cmd in state start kill delete; do
		runtime "$cmd" ../x
		assert_status 1
		assert_output_contains "invalid container ID format"
	done
	runtime delete --force ../x
	assert_status 1
}

@test "errors: ids with . _ + - , and 255 chars are valid" {
	set_args true
	for good in "bats-a.b_c+d-e" "bats-a,b" "bats-$(printf 'x%.0s' $(seq 250))"; do
		echo "$good" >>"$TESTDIR/ids"
		create_container "$good"
		assert_status 0
		runtime delete --force "$good"
		assert_status 0
	done
	assert_root_empty
}

# ------------------------------------------------------------- bad bundles

@test "errors: bundle directory missing -> 1, nothing left" {
	id=$(unique_id)
	run _rt_to_files "$TESTDIR/o" "$TESTDIR/o" create --bundle "$TESTDIR/missing" "$id"
	assert_status 1
	output=$(cat "$TESTDIR/o")
	assert_output_contains_i "no such file or directory"
	assert_nothing_left "$id"
}

@test "errors: bundle is a file -> 1, nothing left" {
	id=$(unique_id)
	run _rt_to_files "$TESTDIR/o" "$TESTDIR/o" create --bundle "$BUNDLE/config.json" "$id"
	assert_status 1
	assert_nothing_left "$id"
}

@test "errors: config.json missing -> 1, nothing left" {
	rm "$BUNDLE/config.json"
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "config.json"
	assert_nothing_left "$id"
}

@test "errors: config.json invalid JSON -> 1, nothing left" {
	echo '{not json' >"$BUNDLE/config.json"
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_nothing_left "$id"
}

@test "errors: config.json empty -> 1, nothing left" {
	: >"$BUNDLE/config.json"
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_nothing_left "$id"
}

@test "errors: rootfs missing -> 1, nothing left" {
	update_config '.root.path = "no-such-rootfs"'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "no-such-rootfs"
	assert_nothing_left "$id"
}

@test "errors: empty process.args -> 1, nothing left" {
	update_config '.process.args = []'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_nothing_left "$id"
}

@test "errors: nonexistent executable -> create fails 1, nothing left" {
	set_args /no/such/binary
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "/no/such/binary"
	assert_nothing_left "$id"
}

@test "errors: a failed create does not affect other containers" {
	id1=$(unique_id)
	create_and_start "$id1"
	cp "$BUNDLE/config.json" "$TESTDIR/good.json"
	echo '{' >"$BUNDLE/config.json"
	id2=$(unique_id)
	create_container "$id2"
	assert_status 1
	runtime list -q
	assert_equal "$output" "$id1"
	assert_equal "$(container_status "$id1")" running
}

# ------------------------------------------------------- bad command lines

@test "errors: missing container id -> 1 for state/start/kill/delete/create/run" {
	for cmd in state start kill delete; do
		runtime "$cmd"
		assert_status 1
	done
	cd "$BUNDLE"
	run _rt_to_files "$TESTDIR/o" "$TESTDIR/o" create
	assert_status 1
	run _rt_to_files "$TESTDIR/o" "$TESTDIR/o" run
	assert_status 1
	assert_root_empty
}

@test "errors: too many arguments -> 1" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	runtime state "$id" extra
	assert_status 1
	runtime kill "$id" KILL extra
	assert_status 1
	runtime delete "$id" extra
	assert_status 1
	assert_equal "$(container_status "$id")" created
}

@test "errors: unknown flag -> 1 (global and per command)" {
	runtime --bogus-flag list
	assert_status 1
	assert_output_contains "flag provided but not defined: -bogus-flag"
	for cmd in state start kill delete list create run; do
		runtime "$cmd" --bogus-flag bats-x
		assert_status 1
		assert_output_contains "flag provided but not defined: -bogus-flag"
	done
	assert_root_empty
}

@test "errors: unknown command -> 3" {
	runtime bogus-command
	assert_status 3
	assert_output_contains "No help topic for 'bogus-command'"
}
