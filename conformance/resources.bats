#!/usr/bin/env bats
# linux.resources applied to the container's cgroups (the values podman and
# containerd send), read back from the host. Same results under runc.

load helpers

# cg_file CONTROLLER FILE: the container init's cgroup file for a v1
# controller, or the v2 one when the host has no such v1 hierarchy.
cg_file() {
	local pid line
	pid=$(container_pid "$id")
	line=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
	if [ -n "$line" ]; then
		local mp
		mp=$(awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -1)
		echo "$mp$line/$2"
	else
		echo "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")/$2"
	fi
}

v1_has() { awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) f = 1 } END { exit !f }' /proc/self/mountinfo; }

@test "resources: cpu shares, quota and period (v1 cpu)" {
	v1_has cpu || skip "no v1 cpu hierarchy on this host"
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 512
	assert_equal "$(cat "$(cg_file cpu cpu.cfs_quota_us)")" 50000
	assert_equal "$(cat "$(cg_file cpu cpu.cfs_period_us)")" 100000
}

@test "resources: cpuset cpus and mems" {
	v1_has cpuset || skip "no v1 cpuset hierarchy on this host"
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	assert_equal "$(cat "$(cg_file cpuset cpuset.cpus)")" 0
	assert_equal "$(cat "$(cg_file cpuset cpuset.mems)")" 0
	grep -q '^Cpus_allowed_list:[[:space:]]*0$' "/proc/$(container_pid "$id")/status"
}

@test "resources: memory limit and swap (memory+swap on v1)" {
	v1_has memory || skip "no v1 memory hierarchy on this host"
	[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] || skip "no swap accounting on this kernel"
	update_config '.linux.resources.memory = {"limit": 67108864, "swap": 134217728}'
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 67108864
	assert_equal "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 134217728
}

@test "resources: a quota without room in its period is refused by the kernel, nothing left" {
	v1_has cpu || skip "no v1 cpu hierarchy on this host"
	update_config '.linux.resources.cpu = {"quota": 500, "period": 100000}'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_root_empty
}

@test "resources: unsupported resources are refused with their JSON path, nothing left" {
	skip_unless_apus "runc supports blockIO"
	update_config '.linux.resources.blockIO = {"weight": 500}'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "config.json: linux.resources.blockIO: not supported"
	assert_root_empty
}
