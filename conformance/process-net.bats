#!/usr/bin/env bats
# linux.netDevices: host interfaces moved into the container's network
# namespace, renamed, with their addresses and up state; a name clash (in
# the container's namespace, or two entries with one target) refused before
# anything moves; errors name linux.netDevices.<name>. The devices are veth
# pairs the test makes (this kernel has no dummy driver); whatever is left
# on the host is deleted in teardown. runc 1.1 ignores linux.netDevices
# (runc 1.4 implements it): those tests skip there.

load helpers

setup() {
	setup_bundle
	ln -sf busybox "$ROOTFS/bin/ip"
	# Short unique names (15 bytes at most): pn<5 hex><a|b>.
	local tag
	tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
	VA="pn${tag}a" VB="pn${tag}b" VC="pn${tag}c" VD="pn${tag}d"
}

teardown() {
	# first: teardown_bundle's status is the teardown's
	local d
	for d in "$VA" "$VB" "$VC" "$VD"; do
		ip link del "$d" 2>/dev/null || true
	done
	if [ -n "${NETNS:-}" ]; then umount "$NETNS" 2>/dev/null || true; fi
	teardown_bundle
}

needs_netdevices() {
	if is_runc_before_1_2; then
		skip "runc 1.1 does not implement linux.netDevices (ignores it)"
	fi
	return 0
}

# veth A B: a veth pair on the host.
veth() {
	ip link add "$1" type veth peer name "$2"
}

# assert_refused PATH DEVICE...: `run` fails naming PATH; every DEVICE is still on the host.
assert_refused() {
	local path=$1 d
	shift
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	[ "$status" -ne 0 ]
	assert_output_contains "$path"
	for d in "$@"; do
		ip link show "$d" >/dev/null
	done
}

@test "linux.netDevices: moved in, renamed, address and up state kept, visible inside" {
	needs_netdevices
	veth "$VA" "$VB"
	ip addr add 10.213.7.1/24 dev "$VA"
	ip link set "$VA" up
	update_config '.linux.netDevices = {($a): {name: "ctr7"}}' --arg a "$VA"
	set_args sh -c 'ip -o addr show dev ctr7; ip -o link show ctr7; cat /sys/class/net/ctr7/ifindex'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "inet 10.213.7.1/24"
	assert_match 'ctr7[@:][^<]*<[^>]*[<,]UP[,>]'
	# gone from the host's namespace
	run ip link show "$VA"
	[ "$status" -ne 0 ]
}

@test "linux.netDevices: the host name is kept when no name is given; not moved back on delete" {
	needs_netdevices
	veth "$VA" "$VB"
	update_config '.linux.netDevices = {($a): {}}' --arg a "$VA"
	set_args sleep 1000
	id=$(unique_id)
	create_container "$id"
	pid=$(container_pid "$id")
	run nsenter -t "$pid" -n ip -o link show "$VA"
	assert_status 0
	assert_output_contains "$VA"
	# it was down on the host: still down
	[[ "$output" != *",UP"* && "$output" != *"<UP"* ]]
	runtime delete --force "$id"
	assert_status 0
	# A veth goes with its namespace (a physical device would return); apus never moves it back.
	wait_until 20 bash -c "! ip link show $VA >/dev/null 2>&1"
}

@test "linux.netDevices: a clash with a name in the container's namespace is refused before anything moves" {
	needs_netdevices
	veth "$VA" "$VB"
	veth "$VC" "$VD"
	# VA sorts first and could move; VC would be "lo" in the container.
	update_config '.linux.netDevices = {($a): {name: "eth5"}, ($c): {name: "lo"}}' --arg a "$VA" --arg c "$VC"
	assert_refused "linux.netDevices.$VC" "$VA" "$VC"
}

# joined_netns: a network namespace kept by a bind mount on $NETNS (in
# TESTDIR, unmounted in teardown), joined by the container's config.
joined_netns() {
	NETNS="$TESTDIR/netns"
	touch "$NETNS"
	unshare --net="$NETNS" true
	update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "$NETNS"
}

@test "linux.netDevices: into a joined network namespace; a name it already has is refused, nothing moved" {
	needs_netdevices
	joined_netns
	nsenter --net="$NETNS" ip link add eth9 type veth peer name eth9p
	veth "$VA" "$VB"
	veth "$VC" "$VD"
	update_config '.linux.netDevices = {($a): {name: "eth9"}}' --arg a "$VA"
	assert_refused "linux.netDevices.$VA" "$VA"
	assert_output_contains 'already has a device named "eth9"'
	update_config '.linux.netDevices = {($c): {name: "moved9"}}' --arg c "$VC"
	set_args true
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	nsenter --net="$NETNS" ip link show moved9 >/dev/null
}

@test "linux.netDevices: two entries with one target name are refused, nothing moved" {
	needs_netdevices
	veth "$VA" "$VB"
	update_config '.linux.netDevices = {($a): {name: "eth1"}, ($b): {name: "eth1"}}' --arg a "$VA" --arg b "$VB"
	assert_refused "linux.netDevices.$VB" "$VA" "$VB"
}

@test "linux.netDevices: a device the host does not have is an error naming it" {
	needs_netdevices
	update_config '.linux.netDevices = {($a): {}}' --arg a "$VA"
	assert_refused "linux.netDevices.$VA"
}

@test "linux.netDevices: features says it is supported" {
	needs_netdevices
	run "$RUNTIME" features
	assert_status 0
	assert_equal "$(jq -r .linux.netDevices.enabled <<<"$output")" true
}
