#!/usr/bin/env bats
# `update <id>`: runc's flags and -r FILE|-, on a created, running or paused
# container; only what is given changes; errors as runc's. On this host's
# layout (cgroups-resources.bats covers each resource on every view).

load helpers

# _rt_stdin FILE ARGS...: the runtime with --root and FILE as its stdin.
_rt_stdin() {
	local in=$1
	shift
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" "$@"
	) <"$in"
}

# snapshot: the container's limit files (v1 memory, cpu, pids), one per line.
snapshot() {
	local f
	for f in "memory memory.limit_in_bytes" "memory memory.soft_limit_in_bytes" "cpu cpu.shares" "cpu cpu.cfs_quota_us" \
		"cpu cpu.cfs_period_us" "pids pids.max" "cpuset cpuset.cpus"; do
		# shellcheck disable=SC2086
		echo "$f: $(cat "$(cg_file $f)")"
	done
}

need_v1() {
	local c
	for c in memory cpu pids cpuset; do v1_has $c || skip "no v1 $c hierarchy on this host"; done
}

start_limited() {
	id=$(unique_id)
	set_args sleep 1000
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100}
		| .linux.resources.cpu = {"shares": 512, "quota": 20000, "period": 100000}'
	create_container "$id"
	assert_status 0
}

@test "update: no flag given changes nothing" {
	need_v1
	start_limited
	local before
	before="$(snapshot)"
	runtime update "$id"
	assert_status 0
	assert_equal "$(snapshot)" "$before"
}

@test "update: works on a created, a running and a paused container; not on a stopped one" {
	need_v1
	start_limited
	runtime update --pids-limit 101 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file pids pids.max)")" 101
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" running
	runtime update --memory 100000000 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 99999744 # page-rounded by the kernel
	runtime pause "$id"
	assert_status 0
	runtime update --cpu-share 300 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 300
	assert_equal "$(container_status "$id")" paused
	runtime resume "$id"
	assert_status 0
	runtime kill "$id" KILL
	wait_for_status "$id" stopped
	runtime update --pids-limit 5 "$id"
	assert_status 1
	assert_output_contains "container not running"
	runtime update --pids-limit 5 no-such-container
	assert_status 1
	assert_output_contains "container does not exist"
}

@test "update: -r - reads the resources from stdin; other flags are then ignored" {
	need_v1
	start_limited
	echo '{"memory": {"limit": 33554432}, "pids": {"limit": 77}}' >"$TESTDIR/r.json"
	run _rt_stdin "$TESTDIR/r.json" update -r - --pids-limit 9 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 33554432
	assert_equal "$(cat "$(cg_file pids pids.max)")" 77
	assert_equal "$(cat "$(cg_file cpu cpu.shares)")" 512
	run _rt_stdin /dev/null update -r - "$id"
	assert_status 1
}

@test "update: invalid values are refused with runc's messages, nothing changes" {
	need_v1
	start_limited
	local before
	before="$(snapshot)"
	runtime update --memory abc "$id"
	assert_status 1
	assert_output_contains "invalid value for memory: invalid size: 'abc'"
	runtime update --cpu-period x "$id"
	assert_status 1
	assert_output_contains "invalid value for cpu-period"
	if [ ! -e /sys/fs/resctrl/info/L3 ]; then
		runtime update --l3-cache-schema "L3:0=f" "$id"
		assert_status 1
		assert_output_contains "Intel RDT/CAT: l3 cache schema is not enabled"
	fi
	# swap below the limit: refused (validation, the kernel on v1) before any write
	runtime update --memory 64m --memory-swap 32m --pids-limit 7 "$id"
	assert_status 1
	assert_equal "$(snapshot)" "$before"
}

@test "update: a value the host cannot apply names its JSON path; nothing changes" {
	need_v1
	[ ! -e /sys/fs/cgroup/blkio/blkio.weight ] && [ ! -e /sys/fs/cgroup/blkio/blkio.bfq.weight ] || skip "this host has blkio weights"
	start_limited
	local before
	before="$(snapshot)"
	runtime update --blkio-weight 300 --pids-limit 7 "$id"
	assert_status 1
	runtime_is_runc || assert_output_contains "linux.resources.blockIO.weight"
	runtime_is_runc || assert_equal "$(snapshot)" "$before"
}

@test "update: memory sizes as runc reads them (64m, 1g, -1), kernel memory ignored with runc's warning" {
	need_v1
	start_limited
	runtime update --memory 64m --memory-reservation 1g "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 67108864
	assert_equal "$(cat "$(cg_file memory memory.soft_limit_in_bytes)")" 1073741824
	runtime update --memory -1 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 9223372036854771712
	runtime update --kernel-memory 64m "$id"
	assert_status 0
	assert_output_contains "Kernel memory settings are ignored and will be removed"
}

@test "update: state, inspect and the stored config follow the update" {
	skip_unless_apus "inspect and the stored config (intent.json) are apus's"
	need_v1
	start_limited
	runtime update --memory 48m --pids-limit 33 --cpu-quota 40000 "$id"
	assert_status 0
	runtime inspect --format json "$id"
	assert_status 0
	assert_equal "$(jq -c '.cgroup | [.memory.limit, .pids.limit, .cpu.quota, .cpu.period, .cpu.shares]' <<<"$output")" \
		"[50331648,33,40000,100000,512]"
	assert_equal "$(jq -c '.config.linux.resources | [.memory.limit, .pids.limit, .cpu.quota, .cpu.period, .cpu.shares]' "$ROOT/$id/intent.json")" \
		"[50331648,33,40000,100000,512]"
	runtime state "$id"
	assert_status 0
	assert_equal "$(jq -r .status <<<"$output")" created
}

@test "update: --memory -1 after a memory+swap limit lifts both (runc: unlimited memory, unlimited swap)" {
	need_v1
	start_limited
	[ -e "$(dirname "$(cg_file memory memory.limit_in_bytes)")/memory.memsw.limit_in_bytes" ] || skip "no swap accounting (memory.memsw.*) on this kernel"
	runtime update --memory 50M --memory-swap 96468992 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 96468992
	runtime update --memory -1 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file memory memory.limit_in_bytes)")" 9223372036854771712
	assert_equal "$(cat "$(cg_file memory memory.memsw.limit_in_bytes)")" 9223372036854771712
	if runtime_is_apus; then
		assert_equal "$(jq -c '.config.linux.resources.memory | [.limit, .swap]' "$ROOT/$id/intent.json")" "[-1,-1]"
	fi
}

@test "update: a smaller CFS period under a parent's quota is written again after the new quota (runc's retry)" {
	v1_has cpu || skip "no v1 cpu hierarchy on this host"
	id=$(unique_id)
	local cpu_mp parent
	cpu_mp=$(awk '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpu") print $5 }' /proc/self/mountinfo | head -1)
	# the parent is named after the container, so teardown's leak check and cleanup see it
	parent="$id-pod"
	mkdir "$cpu_mp/$parent"
	echo 50000 >"$cpu_mp/$parent/cpu.cfs_quota_us"
	set_args sleep 1000
	# 50% over a 1 s period, as runc's own test has it
	update_config '.linux.cgroupsPath = $p | .linux.resources.cpu = {quota: 500000, period: 1000000}' --arg p "/$parent/$id"
	create_container "$id"
	assert_status 0
	# above the parent's 50%: the kernel refuses it
	runtime update --cpu-quota 600000 "$id"
	assert_status 1
	# 30% with a tenth of the period: the period alone is refused first, then set after the quota
	runtime update --cpu-period 10000 --cpu-quota 3000 "$id"
	assert_status 0
	assert_equal "$(cat "$(cg_file cpu cpu.cfs_quota_us)")" 3000
	assert_equal "$(cat "$(cg_file cpu cpu.cfs_period_us)")" 10000
	runtime delete --force "$id"
	assert_status 0
	# the runtime made the parent in every hierarchy (and leaves it, as runc);
	# runc 1.1's delete may leave the container's own cgroup under load (its
	# few rmdir retries): removed here for runc, teardown checks apus's
	local d
	for d in $(cgroups_of "$parent"); do
		if runtime_is_apus; then rmdir "$d"; else wait_until 20 rm_cgroup_tree "$d"; fi
	done
}

# rm_cgroup_tree DIR: DIR and the cgroups below it, deepest first; true once gone.
rm_cgroup_tree() {
	find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
	[ ! -d "$1" ]
}
