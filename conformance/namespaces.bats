#!/usr/bin/env bats
# Namespaces: each type created fresh, joined by path, user namespace
# mappings, time namespace offsets, hostname/domainname.

load helpers

# ns_file TYPE: /proc/PID/ns/<file> name for an OCI namespace type.
ns_file() {
	case $1 in
	network) echo net ;;
	mount) echo mnt ;;
	*) echo "$1" ;;
	esac
}

# ns_of PID TYPE: namespace identity ("net:[4026531840]").
ns_of() {
	readlink "/proc/$1/ns/$(ns_file "$2")"
}

# ensure_ns TYPE: make sure config.json asks for a new namespace of TYPE.
ensure_ns() {
	update_config '.linux.namespaces |= (map(select(.type != $t)) + [{type: $t}])' --arg t "$1"
}

# join_ns TYPE PATH: make config.json join the namespace at PATH.
join_ns() {
	update_config '.linux.namespaces |= (map(select(.type != $t)) + [{type: $t, path: $p}])' \
		--arg t "$1" --arg p "$2"
}

# check_new_ns TYPE: a container gets a namespace of TYPE different from ours.
check_new_ns() {
	local type=$1 id pid
	ensure_ns "$type"
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	[ -n "$(ns_of "$pid" "$type")" ]
	if [ "$(ns_of "$pid" "$type")" = "$(ns_of $$ "$type")" ]; then
		echo "container $type namespace equals the host's: $(ns_of "$pid" "$type")" >&2
		return 1
	fi
	# the user process (after start) is in the same namespace as the init
	runtime start "$id"
	assert_status 0
	assert_equal "$(ns_of "$(container_pid "$id")" "$type")" "$(ns_of "$pid" "$type")"
}

# holder TYPE: start a helper process (busybox sleep) in a new namespace of
# TYPE; sets HOLDER to the pid whose /proc/PID/ns/* is the target.
holder() {
	local type=$1 flags=() fork=0
	case $type in
	network) flags=(--net) ;;
	mount) flags=(--mount --propagation private) ;;
	pid) flags=(--pid --fork --kill-child) fork=1 ;;
	time) flags=(--time --fork --kill-child --monotonic 500 --boottime 700) fork=1 ;;
	*) flags=("--$type") ;;
	esac
	spawn_bg unshare "${flags[@]}" "$BUSYBOX" sleep 3600
	HOLDER=$BG_PID
	if ((fork)); then
		wait_until 30 eval 'test -n "$(pgrep -P $BG_PID)"'
		HOLDER=$(pgrep -P "$BG_PID")
	fi
	# wait until the helper has entered its namespace
	wait_until 30 eval '[ "$(ns_of $HOLDER $type)" != "$(ns_of $$ $type)" ]'
}

# check_join_ns TYPE: a container joins the namespace given by path.
check_join_ns() {
	local type=$1 id pid
	holder "$type"
	join_ns "$type" "/proc/$HOLDER/ns/$(ns_file "$type")"
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	assert_equal "$(ns_of "$pid" "$type")" "$(ns_of "$HOLDER" "$type")"
	runtime start "$id"
	assert_status 0
	assert_equal "$(ns_of "$(container_pid "$id")" "$type")" "$(ns_of "$HOLDER" "$type")"
	runtime delete --force "$id"
	assert_status 0
}

skip_unless_ns_supported() {
	runtime_supports_ns "$1" || skip "$RUNTIME does not support the $1 namespace ('features' does not list it)"
}

# ---------------------------------------------------------------- new ns

@test "namespaces: new pid namespace" {
	check_new_ns pid
}

@test "namespaces: new network namespace" {
	check_new_ns network
}

@test "namespaces: new ipc namespace" {
	check_new_ns ipc
}

@test "namespaces: new uts namespace" {
	check_new_ns uts
}

@test "namespaces: new mount namespace" {
	check_new_ns mount
}

@test "namespaces: new cgroup namespace" {
	skip_unless_ns_supported cgroup
	check_new_ns cgroup
}

@test "namespaces: the container init is pid 1 in its pid namespace" {
	set_args sh -c 'echo $$'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" 1
}

@test "namespaces: a type not listed is shared with the runtime (network)" {
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	assert_equal "$(ns_of "$(container_pid "$id")" network)" "$(ns_of $$ network)"
}

@test "namespaces: new user namespace with uid/gid mappings" {
	skip_unless_ns_supported user
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	[ "$(ns_of "$pid" user)" != "$(ns_of $$ user)" ]
	assert_equal "$(tr -s ' ' <"/proc/$pid/uid_map" | sed 's/^ //')" "0 100000 65536"
	assert_equal "$(tr -s ' ' <"/proc/$pid/gid_map" | sed 's/^ //')" "0 200000 65536"
	runtime start "$id"
	assert_status 0
	pid=$(container_pid "$id")
	# container root is host uid 100000 / gid 200000
	assert_equal "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" 100000
	assert_equal "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" 200000
}

@test "namespaces: new time namespace with timeOffsets" {
	skip_unless_ns_supported time
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 1000, nanosecs: 0}, boottime: {secs: 2000, nanosecs: 0}}'
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	[ "$(ns_of "$pid" time)" != "$(ns_of $$ time)" ]
	offsets=$(tr -s ' ' <"/proc/$pid/timens_offsets")
	assert_output_contains_in() { [[ "$offsets" == *"$1"* ]] || {
		echo "timens_offsets: $offsets" >&2
		return 1
	}; }
	assert_output_contains_in "monotonic 1000 0"
	assert_output_contains_in "boottime 2000 0"
}

@test "namespaces: hostname is set in the new uts namespace" {
	update_config '.hostname = "bats-host"'
	set_args hostname
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" bats-host
	[ "$(hostname)" != bats-host ]
}

@test "namespaces: domainname is set in the new uts namespace" {
	if is_runc_before_1_2; then
		skip "runc < 1.2 ignores the domainname field (runtime-spec 1.1 feature)"
	fi
	update_config '.domainname = "bats-domain"'
	set_args cat /proc/sys/kernel/domainname
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" bats-domain
}

# ---------------------------------------------------------------- join by path

@test "namespaces: join network namespace by path" {
	check_join_ns network
}

@test "namespaces: join ipc namespace by path" {
	check_join_ns ipc
}

@test "namespaces: join uts namespace by path" {
	check_join_ns uts
}

@test "namespaces: join mount namespace by path" {
	check_join_ns mount
}

@test "namespaces: join pid namespace by path" {
	check_join_ns pid
}

@test "namespaces: join cgroup namespace by path" {
	skip_unless_ns_supported cgroup
	check_join_ns cgroup
}

@test "namespaces: join user namespace by path" {
	skip_unless_ns_supported user
	spawn_bg unshare --user "$BUSYBOX" sleep 3600
	HOLDER=$BG_PID
	wait_until 30 eval '[ "$(ns_of $HOLDER user)" != "$(ns_of $$ user)" ]'
	echo '0 300000 65536' >"/proc/$HOLDER/uid_map"
	echo '0 300000 65536' >"/proc/$HOLDER/gid_map"
	join_ns user "/proc/$HOLDER/ns/user"
	update_config '.linux.uidMappings = [{containerID: 0, hostID: 300000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 300000, size: 65536}]'
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	assert_equal "$(ns_of "$pid" user)" "$(ns_of "$HOLDER" user)"
	assert_equal "$(tr -s ' ' <"/proc/$pid/uid_map" | sed 's/^ //')" "0 300000 65536"
}

@test "namespaces: join time namespace by path" {
	skip_unless_ns_supported time
	check_join_ns time
	offsets=$(tr -s ' ' <"/proc/$HOLDER/timens_offsets")
	[[ "$offsets" == *"monotonic 500 0"* ]]
}

@test "namespaces: joining a nonexistent namespace path fails, nothing left" {
	join_ns network "$TESTDIR/no-such-ns"
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_root_empty
	assert_no_cgroups "$id"
}
