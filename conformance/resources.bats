#!/usr/bin/env bats
# linux.resources applied to the container's cgroups (the values podman and
# containerd send), read back from the host. Same results under runc.

load helpers

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

@test "resources: kernelTCP is written on v1 (memory.kmem.tcp.limit_in_bytes); kernel is warned about as runc does" {
	skip_unless_apus "runc 1.1 ignores kernelTCP too (runtime-tools' linux_cgroups_memory fails it)"
	v1_has memory || skip "no v1 memory hierarchy on this host"
	[ -e /sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes ] || skip "no kmem.tcp accounting on this kernel"
	update_config '.linux.resources.memory = {"limit": 67108864, "kernel": 50593792, "kernelTCP": 50593792}'
	id=$(unique_id)
	set_args sleep 1000
	create_container "$id"
	assert_status 0
	assert_output_contains "Kernel memory settings are ignored and will be removed"
	assert_equal "$(cat "$(cg_file memory memory.kmem.tcp.limit_in_bytes)")" 50593792
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 67108864
	runtime delete --force "$id"
	assert_status 0
}

@test "resources: a quota without room in its period is refused by the kernel, nothing left" {
	v1_has cpu || skip "no v1 cpu hierarchy on this host"
	update_config '.linux.resources.cpu = {"quota": 500, "period": 100000}'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_root_empty
}

@test "resources: blockIO as dockerd sends it (weight 0, empty lists = unset) is accepted" {
	update_config '.linux.resources.blockIO = {"weight": 0, "weightDevice": [], "throttleReadBpsDevice": [], "throttleWriteBpsDevice": [], "throttleReadIOPSDevice": [], "throttleWriteIOPSDevice": []}'
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	runtime delete --force "$id"
	assert_status 0
}

@test "resources: blockIO throttle lists (v1 blkio.throttle.*)" {
	v1_has blkio || skip "no v1 blkio hierarchy on this host"
	[ -e /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ] || skip "no blkio throttling on this kernel"
	local dev
	dev=$(lsblk -dno MAJ:MIN | head -n 1 | tr -d ' ')
	# shellcheck disable=SC2016
	update_config '.linux.resources.blockIO = {"weight": 0, "throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": $ma, "minor": $mi, "rate": 300}]}' \
		--argjson ma "${dev%%:*}" --argjson mi "${dev##*:}"
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	assert_equal "$(cat "$(cg_file blkio blkio.throttle.read_bps_device)")" "$dev 1048576"
	assert_equal "$(cat "$(cg_file blkio blkio.throttle.write_iops_device)")" "$dev 300"
}

@test "resources: a value the host cannot apply is refused with its JSON path, nothing left" {
	[ ! -e /sys/fs/cgroup/blkio/blkio.leaf_weight ] || skip "this host has blkio.leaf_weight (CFQ)"
	update_config '.linux.resources.blockIO = {"leafWeight": 500}'
	id=$(unique_id)
	create_container "$id"
	[ "$status" -ne 0 ]
	runtime_is_runc || assert_output_contains "config.json: linux.resources.blockIO.leafWeight: "
	assert_root_empty
}

@test "resources: unified on a cgroup v1 or hybrid host -> invalid configuration (runc's words), nothing left" {
	[ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] || skip "a pure cgroup v2 host"
	update_config '.linux.resources.unified = {"memory.min": "131072"}'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "invalid configuration"
	assert_output_contains "cannot use unified on cgroup v1"
	assert_root_empty
}
