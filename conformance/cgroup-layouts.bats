#!/usr/bin/env bats
# cgroups on each layout: the host as it is (expected: the v1 "hybrid" layout,
# v1 controllers under /sys/fs/cgroup/<name> plus cgroup2 at
# /sys/fs/cgroup/unified), a pure cgroup v2 view and a plain v1 view.
#
# The v2 and v1 views are built in a private mount namespace for every single
# runtime invocation (`unshare -m --propagation private`, see view.sh below):
#
#   v2: /sys/fs/cgroup is replaced by the host's cgroup2 hierarchy itself (a
#       bind of its mount moved onto /sys/fs/cgroup after `umount -R`; no new
#       cgroup2 mount is made, which in the initial cgroup namespace would
#       reset the host's cgroup2 root options). The v1 controllers stay bound
#       to their v1 hierarchies, so the v2 tree has few or no controllers.
#   v1: the cgroup2 mount(s) are unmounted.
#
# Cgroup mounts outside /sys/fs/cgroup are dropped from the view as well. The
# runtime detects the layout from /proc/self/mountinfo, so it sees only the
# view. Every invocation builds the same view, so create, start, kill and
# delete of one container may run in different invocations. The host's mount
# table is never changed (view.sh refuses to run in a mount namespace that is
# not private, or that is the test's own), and the host keeps seeing all the
# cgroup directories: v2-view directories are under the host's cgroup2 mount.
# The checks below are made from the host.

load helpers
load cgroup-views

# --------------------------------------------------------------------------
# Expected cgroups (host view) and assertions
# --------------------------------------------------------------------------

# expected_proc_cgroup INNER: what /proc/<init>/cgroup must read: the
# container's cgroup in the visible hierarchies, ours in the others.
expected_proc_cgroup() {
	cgroup_table "$1" | awk '
		FNR == NR { if ($2) path[$1] = substr($5, length($3) + 1); next }
		{
			i = index($0, ":"); n = substr($0, 1, i - 1); rest = substr($0, i + 1)
			j = index(rest, ":"); c = substr(rest, 1, j - 1)
			key = (n == "0" && c == "") ? "unified" : c
			if (key in path) print n ":" c ":" path[key]; else print
		}' - /proc/self/cgroup
}

# assert_in_cgroups PID INNER: PID is in the container's cgroups, and only
# there: /proc/PID/cgroup, cgroup.procs of the directories (on the host and in
# the view the runtime used), no directory in the hierarchies it does not see.
assert_in_cgroups() {
	local pid=$1 inner=$2 bad
	assert_equal "$(cat "/proc/$pid/cgroup")" "$(expected_proc_cgroup "$inner")"
	bad="$(cgroup_dirs "$inner" | sed 's|$|/cgroup.procs|' | xargs -r grep -Lx "$pid" 2>&1)" || true
	if [ -n "$bad" ]; then
		echo "$pid missing from: $bad" >&2
		return 1
	fi
	if [ "$LAYOUT" != hybrid ]; then
		# shellcheck disable=SC2016,SC2046
		in_view sh -c 'pid=$1; shift; for d; do grep -qx "$pid" "$d/cgroup.procs" || { echo "in the view: $pid missing from $d" >&2; exit 1; }; done' \
			- "$pid" $(cgroup_table "$inner" | awk '$2 { print $6 }')
	fi
	assert_no_cgroup_dirs "$inner" hidden
}

# assert_no_cgroup_dirs INNER [hidden]: none of `cgroup_dirs INNER [hidden]` exists.
assert_no_cgroup_dirs() {
	local left
	left="$(cgroup_dirs "$@" | xargs -r ls -d 2>/dev/null)" || true
	if [ -n "$left" ]; then
		echo "should not exist: $left" >&2
		return 1
	fi
}

# assert_nothing_left ID: no cgroups named after ID, no state, no processes.
assert_nothing_left() {
	assert_no_cgroups "$1"
	assert_root_empty
	[ -z "$(procs_in_rootfs)" ]
}

# new_parent: a fresh "bats-parent-<hex>" cgroup name, removed by teardown.
new_parent() {
	local p
	p="bats-parent-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	echo "$p" >>"$TESTDIR/parents"
	echo "$p"
}

# --------------------------------------------------------------------------
# setup / teardown
# --------------------------------------------------------------------------

setup_file() {
	_host_cgroup_mounts >"$BATS_FILE_TMPDIR/mounts.before"
	: >"$BATS_FILE_TMPDIR/names"
}

setup() {
	setup_bundle
	: >"$TESTDIR/parents"
	REAL_RUNTIME=$RUNTIME
	LAYOUT=hybrid
}

teardown() {
	local rc=0 parents="" p d
	if [ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ]; then
		parents="$(cat "$TESTDIR/parents")"
		cat "$TESTDIR/ids" "$TESTDIR/parents" >>"$BATS_FILE_TMPDIR/names"
	fi
	teardown_bundle || rc=1
	# linux.cgroupsPath parents (delete removes only the container's own
	# cgroup) and other cgroups the test made: deepest first
	for p in $parents; do
		find /sys/fs/cgroup -maxdepth 6 -type d -name "$p" 2>/dev/null
	done | sort -ru | while read -r d; do
		rmdir "$d" || {
			echo "teardown: cannot remove $d: $(ls "$d")" >&2
			exit 1
		}
	done || rc=1
	return $rc
}

# --------------------------------------------------------------------------
# The checks, run on each layout
# --------------------------------------------------------------------------

# create: the init is in its cgroup (expected hierarchies only); start; delete
# removes the cgroups.
check_lifecycle() {
	local id pid
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	assert_equal "$(container_status "$id")" created
	pid=$(container_pid "$id")
	assert_in_cgroups "$pid" "$id"

	runtime start "$id"
	assert_status 0
	wait_for_status "$id" running
	assert_in_cgroups "$pid" "$id"

	runtime delete --force "$id"
	assert_status 0
	assert_no_cgroup_dirs "$id"
	assert_nothing_left "$id"
}

# _nprocs_is FILE N: FILE (a cgroup.procs) lists N processes.
_nprocs_is() {
	[ "$(wc -l <"$1")" -eq "$2" ]
}

# kill --all reaches every process of the cgroup. Without a pid namespace
# killing the init would leave the two sleeps running.
check_kill_all() {
	local id dir pids p
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'sleep 1000 & sleep 1000 & wait'
	id=$(unique_id)
	create_and_start "$id"
	dir="$(cgroup_dirs "$id" | head -n 1)"
	wait_until 30 _nprocs_is "$dir/cgroup.procs" 3
	pids="$(cat "$dir/cgroup.procs")"
	assert_in_cgroups "$(container_pid "$id")" "$id"

	runtime kill --all "$id" KILL
	assert_status 0
	for p in $pids; do
		wait_until 30 eval "! pid_alive $p"
	done
	wait_for_status "$id" stopped

	runtime delete "$id"
	assert_status 0
	assert_no_cgroup_dirs "$id"
	assert_nothing_left "$id"
}

# linux.cgroupsPath INNER (absolute or relative) is honoured; delete removes
# the container's cgroup (its parent stays, as with runc).
check_cgroups_path() {
	local id=$1 inner=$2 pid
	# shellcheck disable=SC2016
	update_config '.linux.cgroupsPath = $p' --arg p "$inner"
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	assert_in_cgroups "$pid" "$inner"
	# the default place is not used
	assert_no_cgroup_dirs "$id"

	runtime delete --force "$id"
	assert_status 0
	assert_no_cgroup_dirs "$inner"
	assert_nothing_left "$id"
}

check_absolute_path() {
	local id parent
	id=$(unique_id)
	parent=$(new_parent)
	check_cgroups_path "$id" "/$parent/$id"
}

check_relative_path() {
	local id parent
	id=$(unique_id)
	parent=$(new_parent)
	check_cgroups_path "$id" "$parent/$id"
}

# check_limit RESOURCE-JSON V1-KEY V1-FILE V2-FILE VALUE V2-VALUE ERROR-PATH:
# the limit is written where the controller exists (its v1 hierarchy, else the
# cgroup2 tree if the controller is available there) and the container sees
# it through its cgroup mount; without the controller, create fails naming
# ERROR-PATH and leaves nothing behind.
check_limit() {
	local resource=$1 v1key=$2 v1file=$3 v2file=$4 value=$5 v2value=$6 errpath=$7
	local id file="" dir want
	id=$(unique_id)
	update_config ".linux.resources += $resource"
	if visible "$v1key"; then
		dir="$(cgroup_dir "$id" "$v1key")"
		file=$v1file
		want=$value
		set_args sh -c "cat $(inside_path "$v1key")/$v1file"
	elif visible unified && grep -qw "$v1key" "$(cgroup_table | awk '$1 == "unified" { print $3 }')/cgroup.controllers"; then
		# available in the v2 tree: the runtime must enable it down to the
		# container's cgroup (cgroup.subtree_control), as runc does
		dir="$(cgroup_dir "$id" unified)"
		file=$v2file
		want=$v2value
		set_args sh -c "cat $(inside_path unified)/$v2file"
	fi

	if [ -z "$file" ]; then
		create_container "$id"
		[ "$status" -ne 0 ]
		# (runc fails too, but only with "openat2 .../pids.max: no such file")
		real_runtime_is_runc || assert_output_contains "$errpath"
		assert_nothing_left "$id"
		return 0
	fi
	create_container "$id"
	assert_status 0
	assert_equal "$(cat "$dir/$file")" "$want"
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	assert_equal "$(container_stdout "$id")" "$want"
	runtime delete "$id"
	assert_status 0
	assert_nothing_left "$id"
}

check_pids_limit() {
	check_limit '{"pids": {"limit": 42}}' pids pids.max pids.max 42 42 linux.resources.pids
}

check_memory_limit() {
	check_limit '{"memory": {"limit": 67108864}}' memory memory.limit_in_bytes memory.max \
		67108864 67108864 linux.resources.memory
}

# The default device rule of `spec` (deny all, plus runc's default allow
# list): /dev/null still works, a device outside the list cannot be opened.
# Without a devices controller (pure v2) an eBPF device program enforces it
# (cgroups-devices.bats has the rest).
check_devices() {
	local id dir
	id=$(unique_id)
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"}]'
	# /dev/loop-control (c 10:237) is not in the default list; opening it
	# needs no capability, only the device cgroup's permission.
	update_config '.mounts += [{"destination": "/dev/loop-control", "type": "bind", "source": "/dev/loop-control", "options": ["bind"]}]'
	set_args sh -c 'echo x >/dev/null && echo null-ok; if (: </dev/loop-control) 2>/dev/null; then echo loop-control-ok; else echo loop-control-denied; fi'
	create_container "$id"
	assert_status 0
	if visible devices; then
		dir="$(cgroup_dir "$id" devices)"
		! grep -qx 'a \*:\* rwm' "$dir/devices.list"
		grep -qx 'c 1:3 rwm' "$dir/devices.list"
	fi
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	assert_equal "$(container_stdout "$id")" "null-ok
loop-control-denied"
	runtime delete "$id"
	assert_status 0
	assert_nothing_left "$id"
}

# The cgroup mount at /sys/fs/cgroup (read-only, from `spec`) shows the
# container's own cgroups: same directories (device and inode) as the
# container's cgroups on the host, and it cannot be written. WITH_NS=1: in a
# new cgroup namespace, where /proc/self/cgroup must show "/" everywhere.
check_cgroup_mount() {
	local with_ns=${1:-0} id script="" want expected
	if real_runtime_is_runc; then
		if [ "$LAYOUT" = hybrid ]; then
			skip "runc shows only the v1 hierarchies at /sys/fs/cgroup, not /sys/fs/cgroup/unified"
		elif [ "$LAYOUT" = v2 ] && [ "$with_ns" = 0 ]; then
			skip "runc mounts the whole cgroup2 hierarchy when there is no cgroup namespace"
		fi
	fi
	id=$(unique_id)
	if [ "$with_ns" = 1 ]; then
		update_config '.linux.namespaces += [{"type": "cgroup"}]'
		script='cat /proc/self/cgroup; echo ---; '
	fi
	script+="$(cgroup_table | awk '$2 { printf "echo \"%s $(stat -c %%d:%%i %s)\"; ", $4, $4 }')"
	script+="mkdir $(cgroup_table | awk '$2 { print $4; exit }')/$id-probe 2>/dev/null && echo MKDIR-WORKED; true"
	set_args sh -c "$script"

	create_container "$id"
	assert_status 0
	# the container's cgroups, as the host sees them
	want="$(cgroup_table "$id" | awk '$2 { cmd = "stat -c %d:%i " $5; s = ""; cmd | getline s; close(cmd); print $4, s }')"
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped

	expected=$want
	if [ "$with_ns" = 1 ]; then
		expected="$(sed 's#:[^:]*$#:/#' /proc/self/cgroup)"$'\n'"---"$'\n'"$expected"
	fi
	assert_equal "$(container_stdout "$id")" "$expected"
	if [ "$with_ns" = 1 ] && [ "$LAYOUT" = v2 ]; then
		grep -qx '0::/' "$(io_file "$id" out)"
	fi
	runtime delete "$id"
	assert_status 0
	assert_nothing_left "$id"
}

# --------------------------------------------------------------------------
# hybrid: the host as it is
# --------------------------------------------------------------------------

@test "hybrid: create puts the init in its cgroup in every hierarchy; start; delete removes them" {
	use_layout hybrid
	check_lifecycle
}

@test "hybrid: kill --all reaches every process in the cgroup" {
	use_layout hybrid
	check_kill_all
}

@test "hybrid: absolute linux.cgroupsPath" {
	use_layout hybrid
	check_absolute_path
}

@test "hybrid: relative linux.cgroupsPath" {
	use_layout hybrid
	check_relative_path
}

@test "hybrid: linux.resources.pids.limit -> pids.max" {
	use_layout hybrid
	check_pids_limit
}

@test "hybrid: linux.resources.memory.limit -> memory.limit_in_bytes" {
	use_layout hybrid
	check_memory_limit
}

@test "hybrid: default device rule (deny all + defaults) is enforced" {
	use_layout hybrid
	check_devices
}

@test "hybrid: cgroup mount shows the container's own cgroups, read-only" {
	use_layout hybrid
	check_cgroup_mount
}

@test "hybrid: cgroup namespace: /proc/self/cgroup shows / and the cgroup mount is the container's" {
	use_layout hybrid
	check_cgroup_mount 1
}

# --------------------------------------------------------------------------
# v2: pure cgroup v2 view
# --------------------------------------------------------------------------

@test "v2: create puts the init in its cgroup (0::/<id>), no v1 cgroups; start; delete removes it" {
	use_layout v2
	check_lifecycle
}

@test "v2: kill --all reaches every process in the cgroup" {
	use_layout v2
	check_kill_all
}

@test "v2: absolute linux.cgroupsPath" {
	use_layout v2
	check_absolute_path
}

@test "v2: relative linux.cgroupsPath" {
	use_layout v2
	check_relative_path
}

@test "v2: linux.resources.pids.limit -> pids.max, or a clear error without a pids controller" {
	use_layout v2
	check_pids_limit
}

@test "v2: linux.resources.memory.limit -> memory.max, or a clear error without a memory controller" {
	use_layout v2
	check_memory_limit
}

@test "v2: default device rule (deny all + defaults) is enforced by a device program" {
	use_layout v2
	check_devices
}

@test "v2: cgroup mount shows the container's own cgroup, read-only" {
	use_layout v2
	check_cgroup_mount
}

@test "v2: cgroup namespace: /proc/self/cgroup is 0::/ and the cgroup2 mount is rooted at the container's cgroup" {
	use_layout v2
	check_cgroup_mount 1
}

# On a real v2 host the runtime runs in a cgroup that has processes (a login
# session, a service), where controllers cannot be enabled for children. runc
# (fs2 driver) therefore takes a relative cgroupsPath, and the default (the
# id), from the PARENT of its own cgroup.
@test "v2: runtime in a non-root cgroup: the default cgroup (relative: the id) goes under the parent of the runtime's cgroup, like runc" {
	use_layout v2
	local mp parent leaf id pid
	mp="$(cgroup_table | awk '$1 == "unified" { print $3 }')"
	parent=$(new_parent)
	leaf="$parent-leaf"
	echo "$leaf" >>"$TESTDIR/parents"
	mkdir -p "$mp/$parent/$leaf"
	export VIEW_JOIN="/$parent/$leaf"

	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	assert_equal "$(grep '^0::' "/proc/$pid/cgroup")" "0::/$parent/$id"
	grep -qx "$pid" "$mp/$parent/$id/cgroup.procs"
	[ ! -e "$mp/$parent/$leaf/$id" ]
	runtime delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

# --------------------------------------------------------------------------
# v1: plain cgroup v1 view (no cgroup2 mount)
# --------------------------------------------------------------------------

@test "v1: create puts the init in its v1 cgroups only (stays in the v2 root); start; delete removes them" {
	use_layout v1
	check_lifecycle
}

@test "v1: kill --all reaches every process in the cgroup" {
	use_layout v1
	check_kill_all
}

@test "v1: absolute linux.cgroupsPath" {
	use_layout v1
	check_absolute_path
}

@test "v1: relative linux.cgroupsPath" {
	use_layout v1
	check_relative_path
}

@test "v1: linux.resources.pids.limit -> pids.max" {
	use_layout v1
	check_pids_limit
}

@test "v1: linux.resources.memory.limit -> memory.limit_in_bytes" {
	use_layout v1
	check_memory_limit
}

@test "v1: default device rule (deny all + defaults) is enforced" {
	use_layout v1
	check_devices
}

@test "v1: cgroup mount shows the container's own cgroups, read-only" {
	use_layout v1
	check_cgroup_mount
}

@test "v1: cgroup namespace: /proc/self/cgroup shows / and the cgroup mount is the container's" {
	use_layout v1
	check_cgroup_mount 1
}

# --------------------------------------------------------------------------

@test "host: cgroup mounts unchanged, no cgroup left by this file" {
	assert_equal "$(_host_cgroup_mounts)" "$(cat "$BATS_FILE_TMPDIR/mounts.before")"
	local names left
	names="$(grep . "$BATS_FILE_TMPDIR/names" || true)"
	[ -n "$names" ] || skip "no earlier test ran"
	left="$(find /sys/fs/cgroup -maxdepth 6 -type d -name 'bats-*' 2>/dev/null | grep -F -f <(echo "$names") || true)"
	if [ -n "$left" ]; then
		echo "cgroups left: $left" >&2
		return 1
	fi
}
