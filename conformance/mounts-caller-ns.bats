#!/usr/bin/env bats
# A container without a mount namespace of its own: its `mounts` (and a
# read-only root) are made in the caller's mount namespace, as runc does and
# the spec allows. Apus also removes them again — on delete, on a failed
# create, and after a create killed half-way — where runc 1.1.5 leaves them
# behind (runc 1.1.5 also makes the caller's / rslave, so the suite does not
# run it here). The caller's namespace is the test's own; every mount is
# under the test's temp bundle, and teardown fails on any left behind.

load helpers

setup() {
	setup_bundle
	skip_unless_apus "runc 1.1.5 makes the caller's / rslave without a mount namespace: not run in the test's (the host's) namespace"
	# masked and read-only paths need a mount namespace (runc and apus refuse them without one)
	update_config '.linux.namespaces |= map(select(.type != "mount"))
		| del(.linux.maskedPaths, .linux.readonlyPaths)'
}

teardown() {
	[ -n "${HELD_PID:-}" ] && kill -9 "$HELD_PID" 2>/dev/null
	teardown_bundle
}

# mounts_under_rootfs: mount points at or below the bundle's rootfs, as the
# test's (the caller's) mount namespace sees them.
mounts_under_rootfs() {
	awk -v r="$ROOTFS" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo
}

@test "caller-ns mounts: made in the caller's namespace, seen by the container, removed by delete" {
	set_args sh -c 'grep -c " /proc proc " /proc/self/mountinfo; ls /dev/null'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	# the container shares our mount namespace: its mounts are ours to see
	assert_equal "$(readlink "/proc/$(container_pid "$id")/ns/mnt")" "$(readlink /proc/self/ns/mnt)"
	mounts_under_rootfs | grep -qx "$ROOTFS/proc"
	mounts_under_rootfs | grep -qx "$ROOTFS/dev"
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped 20
	[[ "$(container_stdout "$id")" == *"/dev/null"* ]]
	runtime delete "$id"
	assert_status 0
	assert_equal "$(mounts_under_rootfs)" ""
}

@test "caller-ns mounts: run removes them when the container exits" {
	set_args true
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$(mounts_under_rootfs)" ""
}

@test "caller-ns mounts: a read-only root applies to the rootfs bind only" {
	update_config '.root.readonly = true'
	set_args sh -c 'touch /x 2>&1; echo rc=$?'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_output_contains "rc=1"
	# the caller's view of the rootfs directory is still writable
	touch "$ROOTFS/written-by-caller"
	assert_equal "$(mounts_under_rootfs)" ""
}

@test "caller-ns mounts: a create that fails after mounting removes them" {
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]'
	id=$(unique_id)
	create_container "$id"
	[ "$status" -ne 0 ]
	assert_equal "$(mounts_under_rootfs)" ""
	assert_root_empty
}

@test "caller-ns mounts: a create killed half-way leaves nothing delete --force does not remove" {
	# the createContainer hook runs once the mounts are made: it holds the create there
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "touch \"$0\"; exec sleep 3600", $m]}]' \
		--arg m "$TESTDIR/at-hook"
	id=$(unique_id)
	spawn_bg "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	HELD_PID=$BG_PID
	wait_until 30 test -e "$TESTDIR/at-hook"
	mounts_under_rootfs | grep -qx "$ROOTFS/proc"
	kill -9 "$HELD_PID"
	wait_until 30 eval '! pid_alive "$HELD_PID"'
	runtime delete --force "$id"
	assert_status 0
	assert_equal "$(mounts_under_rootfs)" ""
	assert_root_empty
	assert_no_cgroups "$id"
}

@test "caller-ns mounts: the caller's own mount propagation is not changed" {
	before=$(awk '$5 == "/" { print $0 }' /proc/self/mountinfo | cut -d' ' -f7-)
	set_args true
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$(awk '$5 == "/" { print $0 }' /proc/self/mountinfo | cut -d' ' -f7-)" "$before"
	update_config '.linux.rootfsPropagation = "rslave"'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "linux.rootfsPropagation"
	assert_output_contains "needs a mount namespace"
}
