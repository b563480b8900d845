#!/usr/bin/env bats
# linux.resources in the cgroup files, after create and after `update`, on
# this host's layout (hybrid: v1 controllers + cgroup2 with hugetlb only) and
# on the pure-v2 and plain-v1 views of cgroup-views.bash. Where the view
# lacks a controller, create fails naming the JSON path and leaves nothing.
# Checked from the host. Same scenarios against runc (skips say where runc
# 1.1 differs).

load helpers
load cgroup-views

setup() {
	setup_bundle
	REAL_RUNTIME=$RUNTIME LAYOUT=hybrid
}

teardown() {
	teardown_bundle
}

# where KEY: the runtime puts hierarchy KEY's (v1 name) limits in v1 ("v1"),
# in the cgroup2 tree ("v2", the controller is available there) or nowhere
# ("none"), in $LAYOUT.
where() {
	local v2mp
	if [ "$1" != unified ] && visible "$1"; then echo v1; return; fi
	v2mp="$(cgroup_table | awk '$1 == "unified" { print $3 }')"
	if visible unified && grep -qw "${2:-$1}" "$v2mp/cgroup.controllers"; then echo v2; else echo none; fi
}

# cg KEY FILE: the container's cgroup file in hierarchy KEY, from the host.
cg() {
	cat "$(cgroup_dir "$id" "$1")/$2"
}

# refused PATH: create fails naming PATH (apus; runc's wording differs), nothing left.
refused() {
	create_container "$id"
	[ "$status" -ne 0 ]
	real_runtime_is_runc || assert_output_contains "config.json: $1"
	assert_no_cgroups "$id"
	assert_root_empty
}

# begin KEY RESOURCE JSON: a container with linux.resources.RESOURCE = JSON
# (running `sleep`); sets $at (where KEY's limits go) and $id. Returns 1
# after checking the refusal where the view has no such controller.
begin() {
	at=$(where "$1")
	id=$(unique_id)
	set_args sleep 1000
	# shellcheck disable=SC2016
	update_config '.linux.resources[$r] = $v' --arg r "$2" --argjson v "$3"
	if [ "$at" = none ]; then
		refused "linux.resources.$2"
		return 1
	fi
}

# limits_json: `inspect`'s cgroup limits (apus only).
limits_json() {
	local out
	out="$("$REAL_RUNTIME" --root "$ROOT" inspect --format json "$id" </dev/null)"
	jq -c '.cgroup' <<<"$out"
}

check_memory() {
	begin memory memory '{"limit": 67108864, "reservation": 33554432, "swappiness": 10, "disableOOMKiller": true}' || return 0
	if [ "$at" = v2 ]; then
		update_config 'del(.linux.resources.memory.swappiness, .linux.resources.memory.disableOOMKiller)'
	fi
	create_and_start "$id"
	if [ "$at" = v1 ]; then
		assert_equal "$(cg memory memory.limit_in_bytes)" 67108864
		assert_equal "$(cg memory memory.soft_limit_in_bytes)" 33554432
		assert_equal "$(cg memory memory.swappiness)" 10
		grep -qx 'oom_kill_disable 1' "$(cgroup_dir "$id" memory)/memory.oom_control"
		runtime update --memory 96m --memory-reservation 16777216 "$id"
		assert_status 0
		assert_equal "$(cg memory memory.limit_in_bytes)" 100663296
		assert_equal "$(cg memory memory.soft_limit_in_bytes)" 16777216
		assert_equal "$(cg memory memory.swappiness)" 10
		if [ -e "$(cgroup_dir "$id" memory)/memory.memsw.limit_in_bytes" ]; then
			runtime update --memory-swap 200m "$id"
			assert_status 0
			assert_equal "$(cg memory memory.memsw.limit_in_bytes)" 209715200
			assert_equal "$(cg memory memory.limit_in_bytes)" 100663296
		fi
	else
		assert_equal "$(cg unified memory.max)" 67108864
		runtime update --memory 96m "$id"
		assert_status 0
		assert_equal "$(cg unified memory.max)" 100663296
	fi
	if ! real_runtime_is_runc; then
		# inspect reads back what the files say, the saved config agrees
		assert_equal "$(limits_json | jq -c '.memory.limit, .memory.reservation')" "100663296
$([ "$at" = v1 ] && echo 16777216 || echo 33554432)"
		assert_equal "$(jq -c '.config.linux.resources.memory.limit' "$ROOT/$id/intent.json")" 100663296
	fi
}

check_cpu() {
	begin cpu cpu '{"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"}' || return 0
	create_and_start "$id"
	if [ "$at" = v1 ]; then
		assert_equal "$(cg cpu cpu.shares) $(cg cpu cpu.cfs_quota_us) $(cg cpu cpu.cfs_period_us)" "512 20000 100000"
		assert_equal "$(cg cpuset cpuset.cpus) $(cg cpuset cpuset.mems)" "0 0"
		runtime update --cpu-quota 30000 --cpu-share 256 --cpu-period 50000 --cpuset-cpus 0 "$id"
		assert_status 0
		assert_equal "$(cg cpu cpu.shares) $(cg cpu cpu.cfs_quota_us) $(cg cpu cpu.cfs_period_us)" "256 30000 50000"
		# only the quota: the period stays
		runtime update --cpu-quota 25000 "$id"
		assert_status 0
		assert_equal "$(cg cpu cpu.cfs_quota_us) $(cg cpu cpu.cfs_period_us) $(cg cpu cpu.shares)" "25000 50000 256"
		real_runtime_is_runc ||
			assert_equal "$(limits_json | jq -c '[.cpu.quota, .cpu.period, .cpu.shares, .cpuset.cpus]')" '[25000,50000,256,"0"]'
	else
		assert_equal "$(cg unified cpu.max)" "20000 100000"
	fi
}

# cpu.burst and cpu.idle (runtime-spec 1.1/1.2; runc 1.2), real-time limits
check_cpu_extras() {
	is_runc_before_1_2 && skip "runc 1.1 has no cpu.burst or cpu.idle"
	[ "$(where cpu)" = v1 ] || skip "no v1 cpu hierarchy in this view"
	[ -e "$(cgroup_table | awk '$1 == "cpu" { print $3 }')/cpu.cfs_burst_us" ] || skip "no cpu.cfs_burst_us on this kernel"
	id=$(unique_id)
	set_args sleep 1000
	update_config '.linux.resources.cpu = {"quota": 20000, "period": 100000, "burst": 5000, "idle": 1, "realtimePeriod": 1000000, "realtimeRuntime": 10000}'
	create_and_start "$id"
	assert_equal "$(cg cpu cpu.cfs_burst_us) $(cg cpu cpu.idle)" "5000 1"
	assert_equal "$(cg cpu cpu.rt_period_us) $(cg cpu cpu.rt_runtime_us)" "1000000 10000"
	runtime update --cpu-rt-runtime 20000 "$id"
	assert_status 0
	assert_equal "$(cg cpu cpu.rt_runtime_us) $(cg cpu cpu.cfs_burst_us)" "20000 5000"
}

# pids: the limit, its effect (a fork beyond pids.max fails), update.
check_pids() {
	local at
	at=$(where pids)
	id=$(unique_id)
	update_config '.linux.resources.pids = {"limit": 4}'
	if [ "$at" = none ]; then refused linux.resources.pids; return 0; fi
	local key=pids
	[ "$at" = v2 ] && key=unified
	# the sh, a subshell and two sleeps fit; the other forks fail (and end the subshell)
	set_args sh -c '(for i in 1 2 3 4 5 6; do sleep 1000 & done) 2>/dev/null; echo forked; exec sleep 1000'
	create_and_start "$id"
	wait_until 10 grep -q forked "$(io_file "$id" out)"
	assert_equal "$(cg $key pids.max)" 4
	[ "$(cg $key pids.current)" -le 4 ]
	[ "$(grep -c . "$(cgroup_dir "$id" $key)/cgroup.procs")" -le 4 ]
	runtime update --pids-limit 50 "$id"
	assert_status 0
	assert_equal "$(cg $key pids.max)" 50
	runtime update --pids-limit -1 "$id"
	assert_status 0
	assert_equal "$(cg $key pids.max)" max
}

# hugepageLimits: v1 hugetlb, or the cgroup2 tree (this host: hugetlb is
# only there), with the reservation limit where the kernel has it.
check_hugetlb() {
	local at key file rsvd
	at=$(where hugetlb)
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages on this kernel"
	id=$(unique_id)
	set_args sleep 1000
	update_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	if [ "$at" = none ]; then
		real_runtime_is_runc && skip "runc 1.1 ignores hugepageLimits without a hugetlb hierarchy"
		refused linux.resources.hugepageLimits
		return 0
	fi
	if [ "$at" = v1 ]; then key=hugetlb file=hugetlb.2MB.limit_in_bytes rsvd=hugetlb.2MB.rsvd.limit_in_bytes; else
		real_runtime_is_runc && [ "$LAYOUT" = hybrid ] && skip "runc 1.1 (fs driver) ignores the cgroup2 hugetlb of the hybrid layout"
		key=unified file=hugetlb.2MB.max rsvd=hugetlb.2MB.rsvd.max
	fi
	create_and_start "$id"
	assert_equal "$(cg $key $file)" 4194304
	if ! is_runc_before_1_2 && [ -e "$(cgroup_dir "$id" $key)/$rsvd" ]; then
		assert_equal "$(cg $key $rsvd)" 4194304
	fi
	echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}]}' >"$TESTDIR/r.json"
	runtime update -r "$TESTDIR/r.json" "$id"
	assert_status 0
	if real_runtime_is_runc; then
		# runc 1.1 update takes memory, cpu, pids, blkio weight and unified only
		assert_equal "$(cg $key $file)" 4194304
	else
		assert_equal "$(cg $key $file)" 8388608
		assert_equal "$(limits_json | jq -c '.hugepageLimits[] | select(.pageSize == "2MB") | .limit')" 8388608
	fi
}

# unified: raw v2 files where the cgroup2 tree is, runc's refusal on v1 only.
check_unified() {
	id=$(unique_id)
	set_args sleep 1000
	update_config '.linux.resources.unified = {"hugetlb.2MB.max": "2097152"}'
	if ! visible unified; then
		create_container "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "invalid configuration: cannot use unified on cgroup v1"
		assert_no_cgroups "$id"
		assert_root_empty
		return 0
	fi
	real_runtime_is_runc && [ "$LAYOUT" = hybrid ] && skip "runc 1.1 (fs driver) refuses unified on the hybrid layout"
	[ "$(where unified hugetlb)" = v2 ] || skip "no hugetlb in the cgroup2 tree"
	create_and_start "$id"
	assert_equal "$(cg unified hugetlb.2MB.max)" 2097152
	# a key naming no file of an available controller is refused
	runtime delete --force "$id"
	id=$(unique_id)
	update_config '.linux.resources.unified = {"hugetlb.2MB.nosuchfile": "1"}'
	create_container "$id"
	[ "$status" -ne 0 ]
	real_runtime_is_runc || assert_output_contains "linux.resources.unified.hugetlb.2MB.nosuchfile"
	assert_no_cgroups "$id"
}

# blockIO: the throttle lists (docker's --device-read-bps), updated by -r.
check_blockio() {
	local at dev
	at=$(where blkio io)
	dev=$(lsblk -dno MAJ:MIN | head -n 1 | tr -d ' ')
	id=$(unique_id)
	set_args sleep 1000
	# shellcheck disable=SC2016
	update_config '.linux.resources.blockIO = {"weight": 0, "throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}]}' \
		--argjson ma "${dev%%:*}" --argjson mi "${dev##*:}"
	if [ "$at" = none ]; then refused linux.resources.blockIO; return 0; fi
	[ "$at" = v1 ] || skip "io in the cgroup2 tree: not on this host"
	create_and_start "$id"
	assert_equal "$(cg blkio blkio.throttle.read_bps_device)" "$dev 1048576"
	jq -n --argjson ma "${dev%%:*}" --argjson mi "${dev##*:}" \
		'{"blockIO": {"throttleWriteIOPSDevice": [{"major": $ma, "minor": $mi, "rate": 300}]}}' >"$TESTDIR/r.json"
	runtime update -r "$TESTDIR/r.json" "$id"
	assert_status 0
	real_runtime_is_runc && return 0 # runc 1.1 update ignores blkio lists
	assert_equal "$(cg blkio blkio.throttle.write_iops_device)" "$dev 300"
	assert_equal "$(cg blkio blkio.throttle.read_bps_device)" "$dev 1048576"
	assert_equal "$(limits_json | jq -c '.blockIO.throttleWriteIOPSDevice')" "[\"$dev 300\"]"
}

# network: v1 net_cls / net_prio, a clear error where they are not mounted.
check_network() {
	id=$(unique_id)
	set_args sleep 1000
	update_config '.linux.resources.network = {"classID": 1048577}'
	if ! visible net_cls && ! visible net_cls,net_prio; then
		real_runtime_is_runc && skip "runc 1.1 ignores network without a net_cls hierarchy"
		refused "linux.resources.network.classID: no net_cls cgroup controller is mounted"
		return 0
	fi
	create_and_start "$id"
	local key
	key=$(cgroup_table | awk '$1 ~ /net_cls/ { print $1 }')
	assert_equal "$(cg "$key" net_cls.classid)" 1048577
}

# --------------------------------------------------------------------------
# hybrid
# --------------------------------------------------------------------------

@test "hybrid: memory (limit, reservation, swap, swappiness, disableOOMKiller) in the cgroup files after create and update" {
	use_layout hybrid
	check_memory
}

@test "hybrid: cpu (shares/weight, quota, period, cpus, mems) in the cgroup files after create and update" {
	use_layout hybrid
	check_cpu
}

@test "hybrid: cpu burst, idle and real-time in the cgroup files after create and update" {
	use_layout hybrid
	check_cpu_extras
}

@test "hybrid: pids (a fork beyond pids.max fails) in the cgroup files after create and update" {
	use_layout hybrid
	check_pids
}

@test "hybrid: hugepageLimits (with rsvd) in the cgroup files after create and update" {
	use_layout hybrid
	check_hugetlb
}

@test "hybrid: unified in the cgroup files after create and update" {
	use_layout hybrid
	check_unified
}

@test "hybrid: blockIO throttle lists in the cgroup files after create and update" {
	use_layout hybrid
	check_blockio
}

@test "hybrid: network classID in the cgroup files after create and update" {
	use_layout hybrid
	check_network
}

# --------------------------------------------------------------------------
# v2
# --------------------------------------------------------------------------

@test "v2: memory (limit, reservation, swap, swappiness, disableOOMKiller) in the cgroup files after create and update" {
	use_layout v2
	check_memory
}

@test "v2: cpu (shares/weight, quota, period, cpus, mems) in the cgroup files after create and update" {
	use_layout v2
	check_cpu
}

@test "v2: cpu burst, idle and real-time in the cgroup files after create and update" {
	use_layout v2
	check_cpu_extras
}

@test "v2: pids (a fork beyond pids.max fails) in the cgroup files after create and update" {
	use_layout v2
	check_pids
}

@test "v2: hugepageLimits (with rsvd) in the cgroup files after create and update" {
	use_layout v2
	check_hugetlb
}

@test "v2: unified in the cgroup files after create and update" {
	use_layout v2
	check_unified
}

@test "v2: blockIO throttle lists in the cgroup files after create and update" {
	use_layout v2
	check_blockio
}

@test "v2: network classID in the cgroup files after create and update" {
	use_layout v2
	check_network
}

# --------------------------------------------------------------------------
# v1
# --------------------------------------------------------------------------

@test "v1: memory (limit, reservation, swap, swappiness, disableOOMKiller) in the cgroup files after create and update" {
	use_layout v1
	check_memory
}

@test "v1: cpu (shares/weight, quota, period, cpus, mems) in the cgroup files after create and update" {
	use_layout v1
	check_cpu
}

@test "v1: cpu burst, idle and real-time in the cgroup files after create and update" {
	use_layout v1
	check_cpu_extras
}

@test "v1: pids (a fork beyond pids.max fails) in the cgroup files after create and update" {
	use_layout v1
	check_pids
}

@test "v1: hugepageLimits (with rsvd) in the cgroup files after create and update" {
	use_layout v1
	check_hugetlb
}

@test "v1: unified in the cgroup files after create and update" {
	use_layout v1
	check_unified
}

@test "v1: blockIO throttle lists in the cgroup files after create and update" {
	use_layout v1
	check_blockio
}

@test "v1: network classID in the cgroup files after create and update" {
	use_layout v1
	check_network
}
