#!/usr/bin/env bats
# apus inspect: what a created, running or paused container really isolates,
# read from the kernel, compared here with what the host itself shows
# (/proc/<pid>, the cgroup files), and the risks of the rule table judged on
# it (one test per rule: a container that triggers it and one that does
# not). apus-only: runc has no such command.

load helpers
load isolation

setup() {
	skip_unless_apus "runc has no inspect command"
	setup_bundle
}

# inspect_json ID: `inspect --format json ID`; sets $status, $output.
inspect_json() {
	runtime inspect --format json "$1"
}

# inspect_running: run $BUNDLE as a fresh detached container, leave its
# `inspect --format json` in $output, delete it.
inspect_running() {
	local cid out st
	cid=$(unique_id)
	run_detached "$cid"
	assert_status 0 || return 1
	inspect_json "$cid"
	out=$output
	st=$status
	_rt delete --force "$cid" >/dev/null 2>&1
	output=$out
	status=$st
	assert_status 0
}

# assert_rule ID: the shared rule test (rule_case) with this suite's judge.
assert_rule() {
	rule_case "$1" || return 1
	assert_rule_with inspect_running "$1" "$TRIGGER" "$QUIET"
}

# Every namespace of its own but the network one: user (mapped), cgroup and
# time too. /sys is the host's, bound read-only (sysfs cannot be mounted
# for a network namespace the container's user namespace does not own).
only_host_net='.linux.namespaces = [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
		{"type": "user"}, {"type": "cgroup"}, {"type": "time"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .mounts |= map(if .type == "sysfs" then {"destination": "/sys", "type": "none", "source": "/sys",
		"options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)'

@test "inspect: an unknown id fails like runc (container does not exist)" {
	runtime inspect bats-no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
	runtime inspect --format json bats-no-such-container
	assert_status 1
}

@test "inspect: the host network namespace: host-namespace-net, sharedWithHost for net only, inodes as the host sees them" {
	update_config "$only_host_net"
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	risk_ids | grep -qx host-namespace-net
	! risk_ids | grep -q '^host-namespace-[^n]'
	assert_equal "$(jq -c '[.namespaces[] | select(.sharedWithHost) | .type]' <<<"$output")" '["net"]'
	assert_equal "$(jq '.namespaces | length' <<<"$output")" 8
	local pid type inode
	pid=$(container_pid "$id")
	for type in pid net mnt ipc uts user cgroup time; do
		inode=$(jq -r --arg t "$type" '.namespaces[] | select(.type == $t) | .inode' <<<"$output")
		assert_equal "$inode" "$(stat -L -c %i "/proc/$pid/ns/$type")"
	done
	assert_equal "$(jq -c '.user.uidMap' <<<"$output")" '[{"containerID":0,"hostID":100000,"size":65536}]'
	assert_equal "$(jq -c '.user.uid' <<<"$output")" "$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")"
}

@test "inspect: the capability sets are the kernel's (CapEff, CapPrm, CapBnd, ... decoded)" {
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN", "CAP_NET_RAW"]
		| .process.capabilities.effective += ["CAP_SYS_ADMIN", "CAP_NET_RAW"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN", "CAP_NET_RAW"]'
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	local pid set field
	pid=$(container_pid "$id")
	for set in effective:CapEff permitted:CapPrm bounding:CapBnd inheritable:CapInh ambient:CapAmb; do
		field=${set#*:}
		assert_equal "$(jq -r --arg s "${set%%:*}" '.capabilities[$s] | join(",")' <<<"$output")" \
			"$(cap_names "$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status")")"
	done
	jq -e '.capabilities.effective | index("CAP_SYS_ADMIN")' <<<"$output" >/dev/null
	risk_ids | grep -qx cap-sys-admin
}

@test "inspect: memory and pids limits are the cgroup files', from the config and after apus update" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 99}'
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	local mem pids
	if v1_has memory; then mem=$(cg_file memory memory.limit_in_bytes); else mem=$(cg_file memory memory.max); fi
	if v1_has pids; then pids=$(cg_file pids pids.max); else pids=$(cg_file pids pids.max); fi
	assert_equal "$(jq '.cgroup.memory.limit' <<<"$output")" "$(cat "$mem")"
	assert_equal "$(jq '.cgroup.pids.limit' <<<"$output")" "$(cat "$pids")"
	assert_equal "$(jq '.cgroup.memory.limit' <<<"$output")" 67108864
	assert_equal "$(jq '.cgroup.pids.limit' <<<"$output")" 99
	! risk_ids | grep -qE '^no-(memory|pids)-limit$'
	runtime update --memory 32m --pids-limit 50 "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	assert_equal "$(jq '.cgroup.memory.limit' <<<"$output")" "$(cat "$mem")"
	assert_equal "$(jq '.cgroup.pids.limit' <<<"$output")" "$(cat "$pids")"
	assert_equal "$(jq '.cgroup.pids.limit' <<<"$output")" 50
	assert_equal "$(jq '.cgroup.memory.limit' <<<"$output")" 33554432
}

@test "inspect: the default config's container shows the risks check finds in its config" {
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	local seen
	seen=$(risk_ids | sort | tr '\n' ' ')
	runtime check --bundle "$BUNDLE" --format json
	assert_equal "$seen" "$(risk_ids | sort | tr '\n' ' ')"
	assert_equal "$seen" "host-namespace-cgroup no-memory-limit no-pids-limit no-seccomp no-user-namespace readonly-rootfs-off "
}

@test "inspect: created and paused containers; a stopped one is refused" {
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	assert_equal "$(jq -r '.status' <<<"$output")" created
	assert_equal "$(jq -r '.pid' <<<"$output")" "$(container_pid "$id")"
	runtime start "$id"
	runtime pause "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	assert_equal "$(jq -r '.status' <<<"$output")" paused
	runtime resume "$id"
	runtime kill "$id" KILL
	wait_for_status "$id" stopped
	runtime inspect "$id"
	assert_status 1
	assert_output_contains "is stopped"
}

@test "inspect: a joined namespace says whose it is" {
	first=$(unique_id)
	run_detached "$first"
	assert_status 0
	local pid
	pid=$(container_pid "$first")
	update_config --arg p "/proc/$pid/ns/net" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	inspect_json "$id"
	assert_status 0
	assert_equal "$(jq -c '.namespaces[] | select(.type == "net") | [.sharedWithHost, .joined, .owner]' <<<"$output")" \
		"[false,\"/proc/$pid/ns/net\",\"container $first\"]"
	assert_equal "$(jq '.namespaces[] | select(.type == "net") | .inode' <<<"$output")" "$(stat -L -c %i "/proc/$pid/ns/net")"
}

@test "inspect: the table is for people: risks first, then namespaces, capabilities, cgroup, mounts" {
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	runtime inspect "$id"
	assert_status 0
	assert_match "^CONTAINER +$id +running +pid [0-9]+"$'\n'"RISKS +medium +no-user-namespace "
	local label
	for label in NAMESPACES USER CAPABILITIES SECURITY CGROUP MOUNTS DEVICES; do
		assert_match $'\n'"$label "
	done
	assert_output_contains "6 risks (4 medium, 2 low)"
	runtime inspect --format yaml "$id"
	assert_status 1
	assert_output_contains "invalid format option"
}

# --- one test per rule (configs: rule_case in isolation.bash) --------------

@test "inspect rule privileged" { assert_rule privileged; }
@test "inspect rule cap-sys-admin" { assert_rule cap-sys-admin; }
@test "inspect rule cap-sys-module" { assert_rule cap-sys-module; }
@test "inspect rule cap-sys-ptrace" { assert_rule cap-sys-ptrace; }
@test "inspect rule cap-net-admin" { assert_rule cap-net-admin; }
@test "inspect rule cap-dac-read-search" { assert_rule cap-dac-read-search; }
@test "inspect rule host-namespace-pid" { assert_rule host-namespace-pid; }
@test "inspect rule host-namespace-net" { assert_rule host-namespace-net; }
@test "inspect rule host-namespace-ipc" { assert_rule host-namespace-ipc; }
@test "inspect rule host-namespace-uts" { assert_rule host-namespace-uts; }
@test "inspect rule host-namespace-mnt" { assert_rule host-namespace-mnt; }
@test "inspect rule host-namespace-cgroup" { assert_rule host-namespace-cgroup; }
@test "inspect rule no-user-namespace" { assert_rule no-user-namespace; }
@test "inspect rule new-privileges-allowed" { assert_rule new-privileges-allowed; }
@test "inspect rule no-seccomp" { assert_rule no-seccomp; }
@test "inspect rule no-memory-limit" { assert_rule no-memory-limit; }
@test "inspect rule no-pids-limit" { assert_rule no-pids-limit; }
@test "inspect rule writable-host-mount" { assert_rule writable-host-mount; }
@test "inspect rule proc-sys-writable" { assert_rule proc-sys-writable; }
@test "inspect rule sysfs-writable" { assert_rule sysfs-writable; }
@test "inspect rule unmasked-proc" {
	standard_masks_exist || skip "none of the standard masked paths exists on this host"
	assert_rule unmasked-proc
}
@test "inspect rule host-device" { assert_rule host-device; }
@test "inspect rule readonly-rootfs-off" { assert_rule readonly-rootfs-off; }

# --- what only the kernel shows ------------------------------------------------

@test "inspect: a running container shows its seccomp filter" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}'
	inspect_running
	assert_equal "$(jq -r '.seccomp.mode' <<<"$output")" filter
	[ "$(jq '.seccomp.filters' <<<"$output")" -ge 1 ]
}

@test "inspect: a bind mount shows its host source and whether it is writable" {
	mkdir "$TESTDIR/data"
	update_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$TESTDIR/data\", \"options\": [\"rbind\"]}]"
	inspect_running
	assert_equal "$(jq -c '.mounts[] | select(.destination == "/data") | [.hostSource, .writable]' <<<"$output")" "[\"$TESTDIR/data\",true]"
	assert_equal "$(jq -r '.risks[] | select(.id == "writable-host-mount") | .message' <<<"$output")" \
		"the host path $TESTDIR/data is mounted writable at /data"
}
