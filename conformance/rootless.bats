#!/usr/bin/env bats
# Rootless containers: an unprivileged user (made here, removed at the end)
# runs the whole lifecycle with the runtime's default state root under its
# own XDG_RUNTIME_DIR, a user namespace mapping its own ids (and more
# through /etc/subuid, /etc/subgid and newuidmap/newgidmap), cgroups only
# where delegated, and clear errors for what such a user may not do.

load helpers

RL_SUBUID_START=3300000
RL_SUBUID_COUNT=65536

setup_file() {
	RL_USER="apusrl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
	useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$RL_USER"
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	# Tagged lines, removed in teardown_file (the files may hold others).
	echo "$RL_USER:$RL_SUBUID_START:$RL_SUBUID_COUNT" >>/etc/subuid
	echo "$RL_USER:$RL_SUBUID_START:$RL_SUBUID_COUNT" >>/etc/subgid
	export RL_USER RL_UID RL_GID
}

teardown_file() {
	local pids
	pids="$(ps -o pid= -u "$RL_UID" 2>/dev/null || true)"
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
	userdel "$RL_USER" 2>/dev/null || true
	getent group "$RL_USER" >/dev/null && groupdel "$RL_USER" 2>/dev/null || true
}

setup() {
	setup_bundle
	RL_XDG="$TESTDIR/xdg"
	install -d -m 0700 -o "$RL_UID" -g "$RL_GID" "$RL_XDG"
	# The runtime's default state root for a user with XDG_RUNTIME_DIR set.
	ROOT="$RL_XDG/$(runtime_name)"
	# The user's own copy of the spec --rootless config.
	chown "$RL_UID:$RL_GID" "$BUNDLE"
	rm -f "$BUNDLE/config.json"
	as_user spec --rootless >/dev/null || {
		echo "spec --rootless failed" >&2
		return 1
	}
	update_config '.process.terminal = false | .process.args = ["sleep", "3600"]'
}

teardown() {
	teardown_bundle
	local d
	for d in "${RL_CGROUP_DIRS[@]}"; do rmdir "$d"/*/ "$d" 2>/dev/null || true; done
}

# _as_user ARGS...: the runtime as the test user, in the bundle, with its
# own XDG_RUNTIME_DIR and no --root (the default state root); no extra fds.
_as_user() {
	(
		_close_fds
		cd "$BUNDLE" || exit 1
		exec setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups \
			env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent USER="$RL_USER" \
			XDG_RUNTIME_DIR="$RL_XDG" ${RL_CGROUP_WRAP:+"${RL_CGROUP_WRAP[@]}"} "$RUNTIME" "$@"
	) </dev/null
}

as_user() { _as_user "$@"; }

# user_create ID: create as the user, the container's stdio in files.
user_create() {
	local id=$1 out err
	out=$(io_file "$id" out)
	err=$(io_file "$id" err)
	: >"$out"
	: >"$err"
	chown "$RL_UID" "$out" "$err"
	run _as_user_to_files "$out" "$err" create "$id"
	output="$(cat "$out" "$err")"
}

_as_user_to_files() {
	local out=$1 err=$2
	shift 2
	_as_user "$@" >"$out" 2>"$err"
}

user_state() { _as_user state "$1" 2>/dev/null | jq -r ".$2"; }
user_status_is() { [ "$(user_state "$1" status)" = "$2" ]; }

# The whole user-namespace config, written from JSON.
set_mappings() {
	update_config '.linux.uidMappings = $u | .linux.gidMappings = $g' --argjson u "$1" --argjson g "$2"
}

@test "rootless: spec --rootless config runs create/start/state/exec/kill/delete as an unprivileged user" {
	local id pid
	id=$(unique_id)
	user_create "$id"
	assert_status 0
	[ "$(user_state "$id" status)" = created ]
	run _as_user start "$id"
	assert_status 0
	[ "$(user_state "$id" status)" = running ]
	pid=$(user_state "$id" pid)
	# The init runs as the user on the host.
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$RL_UID" ]
	run _as_user exec "$id" id -u
	assert_status 0
	assert_equal "$output" 0
	run _as_user exec "$id" sh -c 'echo hi >/dev/shm/f && cat /dev/shm/f'
	assert_status 0
	assert_equal "$output" hi
	run _as_user kill "$id" KILL
	assert_status 0
	wait_until 10 user_status_is "$id" stopped
	run _as_user delete "$id"
	assert_status 0
	run _as_user state "$id"
	[ "$status" -ne 0 ]
	! pid_alive "$pid"
}

@test "rootless: a terminal container (spec --rootless as it is) runs in the foreground with a pty" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; id -u; exit 3"]'
	local id
	id=$(unique_id)
	run timeout 60 script -qec "cd $BUNDLE && setpriv --reuid=$RL_UID --regid=$RL_GID --init-groups env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR=$RL_XDG $RUNTIME run $id" /dev/null
	assert_status 3
	assert_output_contains "/dev/pts/0"
	[ ! -e "$ROOT/$id" ]
}

@test "rootless: the default state root is \$XDG_RUNTIME_DIR/<runtime>, the user's own" {
	local id
	id=$(unique_id)
	user_create "$id"
	assert_status 0
	[ -f "$ROOT/$id/state.json" ]
	assert_equal "$(stat -c %u "$ROOT")" "$RL_UID"
	# Only the user may enter it.
	[ $(($(stat -c '0%a' "$ROOT") & 077)) -eq 0 ]
	run _as_user list -q
	assert_output_contains "$id"
	run _as_user delete --force "$id"
	assert_status 0
	[ ! -e "$ROOT/$id" ]
}

@test "rootless: the user's own id mapped, seen from inside and outside" {
	local id pid
	id=$(unique_id)
	user_create "$id"
	assert_status 0
	pid=$(user_state "$id" pid)
	read -r a b c < <(cat "/proc/$pid/uid_map")
	assert_equal "$a $b $c" "0 $RL_UID 1"
	read -r a b c < <(cat "/proc/$pid/gid_map")
	assert_equal "$a $b $c" "0 $RL_GID 1"
	run _as_user start "$id"
	assert_status 0
	run _as_user exec "$id" cat /proc/self/uid_map /proc/self/gid_map
	assert_status 0
	assert_equal "$(echo "$output" | awk '{print $1, $2, $3}' | tr '\n' ';')" "0 $RL_UID 1;0 $RL_GID 1;"
	# setgroups was denied (no newgidmap was needed).
	assert_equal "$(cat "/proc/$pid/setgroups")" deny
	run _as_user delete --force "$id"
	assert_status 0
}

@test "rootless: more ids through /etc/subuid and /etc/subgid (newuidmap, newgidmap)" {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (Debian package uidmap)"
	local id pid
	set_mappings "[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1},{\"containerID\":1,\"hostID\":$RL_SUBUID_START,\"size\":$RL_SUBUID_COUNT}]" \
		"[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1},{\"containerID\":1,\"hostID\":$RL_SUBUID_START,\"size\":$RL_SUBUID_COUNT}]"
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	id=$(unique_id)
	user_create "$id"
	assert_status 0
	pid=$(user_state "$id" pid)
	assert_equal "$(awk '{print $1, $2, $3}' "/proc/$pid/uid_map" | tr '\n' ';')" "0 $RL_UID 1;1 $RL_SUBUID_START $RL_SUBUID_COUNT;"
	assert_equal "$(awk '{print $1, $2, $3}' "/proc/$pid/gid_map" | tr '\n' ';')" "0 $RL_GID 1;1 $RL_SUBUID_START $RL_SUBUID_COUNT;"
	run _as_user start "$id"
	assert_status 0
	# uid 1000 in the container is subordinate id START+999 on the host.
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = $((RL_SUBUID_START + 999)) ]
	run _as_user exec "$id" id -u
	assert_status 0
	assert_equal "$output" 1000
	run _as_user delete --force "$id"
	assert_status 0
}

@test "rootless: no user namespace is a clear error, before anything is created" {
	update_config '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
	local id
	id=$(unique_id)
	user_create "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "rootless container requires user namespace"
	[ ! -e "$ROOT/$id" ]
}

@test "rootless: ids neither the user's nor granted in /etc/subuid are refused with their JSON path" {
	skip_unless_apus "runc leaves this to newuidmap's own error"
	set_mappings "[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1},{\"containerID\":1,\"hostID\":1,\"size\":10}]" \
		"[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1}]"
	local id
	id=$(unique_id)
	user_create "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "linux.uidMappings[1]"
	assert_output_contains "/etc/subuid"
	[ ! -e "$ROOT/$id" ]
}

@test "rootless: a mount only root may make is refused before anything is created" {
	skip_unless_apus "runc fails later, at mount(2): operation not permitted"
	# sysfs needs a network namespace owned by the container's user namespace.
	update_config '.mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "sysfs", source: "sysfs", options: ["ro"]} else . end)'
	local id
	id=$(unique_id)
	user_create "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "mounts["
	assert_output_contains "network namespace"
	[ ! -e "$ROOT/$id" ]
}

@test "rootless: a cgroupsPath the user cannot write is refused" {
	update_config '.linux.cgroupsPath = "/bats-rootless-denied"'
	local id
	id=$(unique_id)
	user_create "$id"
	[ "$status" -ne 0 ]
	if runtime_is_apus; then
		assert_output_contains "linux.cgroupsPath"
		assert_output_contains "not delegated"
	else
		assert_output_contains_i "permission denied"
	fi
	[ ! -e "$ROOT/$id" ]
	[ -z "$(find /sys/fs/cgroup -maxdepth 2 -name bats-rootless-denied)" ]
}

@test "rootless: a resource limit no delegated cgroup can hold is a clear error, not a silent skip" {
	update_config '.linux.resources = {"memory": {"limit": 67108864}}'
	local id
	id=$(unique_id)
	user_create "$id"
	[ "$status" -ne 0 ]
	if runtime_is_apus; then
		assert_output_contains "linux.resources.memory"
	fi
	assert_output_contains "memory limit"
	[ ! -e "$ROOT/$id/state.json" ]
}

@test "rootless: pause without a usable freezer gets runc's error" {
	local id
	id=$(unique_id)
	user_create "$id"
	assert_status 0
	run _as_user pause "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "cannot toggle freezer: cgroups not configured for container"
	run _as_user delete --force "$id"
	assert_status 0
}

@test "rootless: a v1 cgroup directory the user owns is used, with its limits" {
	[ -d /sys/fs/cgroup/pids ] && [ -f /sys/fs/cgroup/pids/cgroup.procs ] || skip "no cgroup v1 pids hierarchy"
	local id pid dir
	id=$(unique_id)
	dir="/sys/fs/cgroup/pids/rl-deleg-$id"
	mkdir "$dir"
	RL_CGROUP_DIRS=("$dir")
	chown -R "$RL_UID:$RL_GID" "$dir"
	# The user's processes start in the delegated cgroup (as a login
	# session's do in systemd's delegated subtree).
	RL_CGROUP_WRAP=(sh -c "echo \$\$ >$dir/cgroup.procs && exec \"\$@\"" sh)
	update_config '.linux.resources = {"pids": {"limit": 42}}'
	user_create "$id"
	assert_status 0
	pid=$(user_state "$id" pid)
	grep -q ":pids:/rl-deleg-$id/$id\$" "/proc/$pid/cgroup"
	assert_equal "$(cat "$dir/$id/pids.max")" 42
	run _as_user delete --force "$id"
	assert_status 0
	[ ! -d "$dir/$id" ]
}

@test "rootless: checkpoint warns that it is untested and passes CRIU's own refusal on (as runc)" {
	local id criu
	criu=$("$BATS_TEST_DIRNAME/../tools/criu.sh" --find 2>/dev/null) || skip "no working CRIU (make deps)"
	id=$(unique_id)
	update_config '.process.args = ["sh", "-c", "exec </dev/null >/dev/null 2>&1; sleep 3600"]'
	user_create "$id"
	assert_status 0
	run as_user start "$id"
	assert_status 0
	install -d -m 0700 -o "$RL_UID" -g "$RL_GID" "$RL_XDG/images"
	run --separate-stderr as_user --criu "$criu" checkpoint --image-path "$RL_XDG/images" --work-path "$RL_XDG/work" "$id"
	[ "$status" -ne 0 ]
	assert_stderr_msg "checkpoint is untested with rootless containers"
	# CRIU itself refuses (it lacks CAP_CHECKPOINT_RESTORE / CAP_SYS_ADMIN); its log says so.
	assert_stderr_msg "criu failed: type DUMP"
	grep -q "capability .* missing" "$RL_XDG/work/dump.log"
	# The container is left as it was.
	user_status_is "$id" running
	run as_user delete --force "$id"
	assert_status 0
}
