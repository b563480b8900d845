#!/usr/bin/env bats
# Process attributes, each observed from inside the container (busybox):
# process.scheduler (/proc/self/sched, /proc/self/stat), process.ioPriority
# (ionice), process.execCPUAffinity (Cpus_allowed_list of an exec'd
# process), linux.personality (uname -m), linux.memoryPolicy
# (/proc/self/numa_maps); process.cwd entered before and after the user
# switch (runc's order); `exec -p` without a user and with unsupported
# properties; `exec --cgroup`. runc 1.1 has none of the attributes: those
# tests skip there; the cwd, exec -p and --cgroup ones run against it.

load helpers

# pa_needs_runc_1_2 WHAT: runc 1.1 ignores WHAT silently.
pa_needs_runc_1_2() {
	if is_runc_before_1_2; then
		skip "runc 1.1 does not implement $1 (ignores it)"
	fi
	return 0
}

# run_ctr ARG...: set process.args and `run` the container in the foreground.
run_ctr() {
	set_args "$@"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
}

# start_sleeper ID: a running container whose init sleeps.
start_sleeper() {
	set_args sleep 1000
	create_and_start "$1"
}

# stat_field N: field N of the /proc/<pid>/stat line in $output
# (comm has no spaces here: busybox applets).
stat_field() {
	awk -v n="$1" '/^[0-9]+ \(/ { print $n; exit }' <<<"$output"
}

# process_json JQ-FILTER [JQ-ARGS...]: $TESTDIR/process.json from the config's process.
process_json() {
	local filter=$1
	shift
	jq ".process | .terminal = false | $filter" "$@" "$BUNDLE/config.json" >"$TESTDIR/process.json"
}

# has_rt_group_sched: the kernel gives real-time tasks time per cpu cgroup.
has_rt_group_sched() {
	compgen -G '/sys/fs/cgroup/*/cpu.rt_runtime_us' >/dev/null
}

# numa_node: the first online NUMA node, or skip.
numa_node() {
	[ -r /proc/self/numa_maps ] || skip "no NUMA support in this kernel (/proc/self/numa_maps)"
	cut -d- -f1 </sys/devices/system/node/online | cut -d, -f1
}

# ------------------------------------------------------------------ scheduler

@test "process.scheduler: SCHED_BATCH with a nice value applies to the init" {
	pa_needs_runc_1_2 process.scheduler
	update_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}'
	run_ctr cat /proc/self/stat
	assert_status 0
	assert_equal "$(stat_field 41)" 3 # policy
	assert_equal "$(stat_field 19)" 5 # nice
}

@test "process.scheduler: SCHED_FIFO/RR with a priority for the init and exec (the cgroup given real-time time)" {
	pa_needs_runc_1_2 process.scheduler
	update_config '.process.scheduler = {policy: "SCHED_FIFO", priority: 10}'
	if has_rt_group_sched; then
		update_config '.linux.resources.cpu.realtimeRuntime = 10000'
	fi
	run_ctr cat /proc/self/stat
	assert_status 0
	assert_equal "$(stat_field 41)" 1  # policy
	assert_equal "$(stat_field 40)" 10 # rt_priority
	# an exec'd process gets it once it is in the container's cgroup
	id=$(unique_id)
	start_sleeper "$id"
	process_json '.scheduler = {policy: "SCHED_RR", priority: 7} | .args = ["cat", "/proc/self/stat"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_equal "$(stat_field 41)" 2
	assert_equal "$(stat_field 40)" 7
}

@test "process.scheduler: SCHED_FIFO in a cgroup without real-time time fails create (cleaned up) and exec" {
	pa_needs_runc_1_2 process.scheduler
	has_rt_group_sched || skip "no real-time group scheduling: nothing refuses SCHED_FIFO"
	update_config '.process.scheduler = {policy: "SCHED_FIFO", priority: 10}'
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "scheduler"
	assert_output_contains_i "operation not permitted"
	assert_root_empty
	# the same for an exec'd process
	id=$(unique_id)
	update_config 'del(.process.scheduler)'
	start_sleeper "$id"
	process_json '.scheduler = {policy: "SCHED_FIFO", priority: 10} | .args = ["sh", "-c", "echo ran"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 255
	assert_output_contains "scheduler"
	[[ "$output" != *ran* ]]
}

@test "process.scheduler: SCHED_DEADLINE with runtime, deadline and period" {
	pa_needs_runc_1_2 process.scheduler
	command -v chrt >/dev/null || skip "no chrt (util-linux) on the host"
	update_config '.process.scheduler = {policy: "SCHED_DEADLINE", runtime: 10000000, deadline: 20000000, period: 30000000}'
	# a deadline task may not fork: cat, not a shell
	run_ctr cat /proc/self/sched
	assert_status 0
	[[ "$output" =~ policy\ +:\ +6 ]]
	# the parameters, from the host, of an init that sleeps
	id=$(unique_id)
	set_args sleep 1000
	create_container "$id"
	assert_status 0
	run chrt -p "$(container_pid "$id")"
	assert_output_contains SCHED_DEADLINE
	assert_output_contains "10000000/20000000/30000000"
}

@test "process.scheduler.nice with a real-time policy is refused: the kernel would ignore it" {
	skip_unless_apus "runc passes it to the kernel, which ignores it"
	update_config '.process.scheduler = {policy: "SCHED_RR", priority: 1, nice: 5}'
	run_ctr true
	assert_status 1
	assert_output_contains "process.scheduler.nice"
	assert_root_empty
}

# ------------------------------------------------------------------ ioPriority

@test "process.ioPriority: class and priority apply to the init" {
	pa_needs_runc_1_2 process.ioPriority
	update_config '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
	run_ctr busybox ionice
	assert_status 0
	assert_equal "$output" "best-effort: prio 6"
	update_config '.process.ioPriority = {class: "IOPRIO_CLASS_RT", priority: 2}'
	run_ctr busybox ionice
	assert_status 0
	assert_equal "$output" "realtime: prio 2"
}

@test "process.scheduler/ioPriority: exec'd processes get the container's; process.json's own replace them" {
	pa_needs_runc_1_2 "process.scheduler and process.ioPriority"
	update_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 3}
		| .process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 5}'
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" sh -c 'cat /proc/self/stat; busybox ionice'
	assert_status 0
	assert_equal "$(stat_field 41)" 3
	assert_equal "$(stat_field 19)" 3
	assert_output_contains "best-effort: prio 5"

	# process.json without them: the container's (as runc)
	process_json 'del(.scheduler, .ioPriority) | .args = ["sh", "-c", "cat /proc/self/stat; busybox ionice"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_equal "$(stat_field 41)" 3
	assert_output_contains "best-effort: prio 5"

	# process.json with its own
	process_json '.scheduler = {policy: "SCHED_IDLE"} | .ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}
		| .args = ["sh", "-c", "cat /proc/self/stat; busybox ionice"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_equal "$(stat_field 41)" 5
	assert_output_contains "idle"
}

# ------------------------------------------------------------ execCPUAffinity

# need_two_cpus: skip on a single-CPU host.
need_two_cpus() {
	[ "$(nproc --all)" -ge 2 ] && grep -q '^Cpus_allowed_list:.*[-,]' /proc/self/status ||
		skip "needs two CPUs this shell may run on"
}

@test "process.execCPUAffinity: initial alone stays the exec'd process's affinity; the init keeps its own" {
	pa_needs_runc_1_2 process.execCPUAffinity
	need_two_cpus
	update_config '.process.execCPUAffinity = {initial: "1"}'
	id=$(unique_id)
	start_sleeper "$id"
	assert_equal "$(grep ^Cpus_allowed_list: "/proc/$(container_pid "$id")/status")" \
		"$(grep ^Cpus_allowed_list: /proc/self/status)"
	runtime exec "$id" grep ^Cpus_allowed_list: /proc/self/status
	assert_status 0
	assert_equal "$output" $'Cpus_allowed_list:\t1'
}

@test "process.execCPUAffinity: final replaces initial once the process is in the container's cgroup" {
	pa_needs_runc_1_2 process.execCPUAffinity
	need_two_cpus
	update_config '.process.execCPUAffinity = {initial: "0", final: "1"}'
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" grep ^Cpus_allowed_list: /proc/self/status
	assert_status 0
	assert_equal "$output" $'Cpus_allowed_list:\t1'
	# process.json's own replaces the container's
	process_json '.execCPUAffinity = {initial: "1", final: "0"} | .args = ["grep", "^Cpus_allowed_list:", "/proc/self/status"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_equal "$output" $'Cpus_allowed_list:\t0'
}

@test "process.execCPUAffinity: only CPUs the host lacks -> exec fails, nothing runs" {
	pa_needs_runc_1_2 process.execCPUAffinity
	id=$(unique_id)
	start_sleeper "$id"
	process_json '.execCPUAffinity = {initial: "4000"} | .args = ["sh", "-c", "echo ran"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 255
	assert_output_contains "execCPUAffinity"
	[[ "$output" != *ran* ]]
}

# ------------------------------------------------------------------ personality

@test "linux.personality: LINUX32 is the init's and exec'd processes' uname -m; LINUX the host's" {
	pa_needs_runc_1_2 linux.personality
	local want
	want="$(linux32 uname -m 2>/dev/null)" || skip "no 32-bit personality on this host"
	[ "$want" != "$(uname -m)" ] || skip "LINUX32 does not change uname -m here"
	update_config '.linux.personality = {domain: "LINUX32"}'
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" uname -m
	assert_status 0
	assert_equal "$output" "$want"
	run_ctr uname -m
	assert_status 0
	assert_equal "$output" "$want"
	update_config '.linux.personality = {domain: "LINUX"}'
	run_ctr uname -m
	assert_status 0
	assert_equal "$output" "$(uname -m)"
}

# ------------------------------------------------------------------ memoryPolicy

@test "linux.memoryPolicy: MPOL_BIND|MPOL_F_STATIC_NODES is the task policy of the init and exec'd processes" {
	pa_needs_runc_1_2 linux.memoryPolicy
	local node
	node=$(numa_node)
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: $n, flags: ["MPOL_F_STATIC_NODES"]}' --arg n "$node"
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec "$id" busybox head -n1 /proc/self/numa_maps
	assert_status 0
	assert_output_contains " bind=static:$node "
	run_ctr busybox head -n1 /proc/self/numa_maps
	assert_status 0
	assert_output_contains " bind=static:$node "
	# and without one, the kernel's default
	update_config 'del(.linux.memoryPolicy)'
	run_ctr busybox head -n1 /proc/self/numa_maps
	assert_output_contains " default "
}

@test "linux.memoryPolicy: every mode and flag features lists can be applied" {
	pa_needs_runc_1_2 linux.memoryPolicy
	local node f mode flag
	node=$(numa_node)
	f="$(_rt features)"
	jq -e '.linux.memoryPolicy.modes | length > 0' <<<"$f" >/dev/null || skip "features lists no memory policy modes"
	for mode in $(jq -r '.linux.memoryPolicy.modes[]' <<<"$f"); do
		case $mode in
		MPOL_DEFAULT | MPOL_LOCAL) update_config '.linux.memoryPolicy = {mode: $m}' --arg m "$mode" ;;
		*) update_config '.linux.memoryPolicy = {mode: $m, nodes: $n}' --arg m "$mode" --arg n "$node" ;;
		esac
		run_ctr busybox head -n1 /proc/self/numa_maps
		if [ "$status" -ne 0 ]; then
			echo "mode $mode: exit $status: $output" >&2
			return 1
		fi
	done
	for flag in $(jq -r '.linux.memoryPolicy.flags[]' <<<"$f"); do
		update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: $n, flags: [$f]}' --arg n "$node" --arg f "$flag"
		run_ctr true
		if [ "$status" -ne 0 ]; then
			echo "flag $flag: exit $status: $output" >&2
			return 1
		fi
	done
}

@test "linux.memoryPolicy: a node the host lacks fails create, naming the property, cleaned up" {
	pa_needs_runc_1_2 linux.memoryPolicy
	numa_node >/dev/null
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "63"}'
	[ ! -e /sys/devices/system/node/node63 ] || skip "the host has node 63"
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains_i "memoryPolicy"
	assert_root_empty
}

# ------------------------------------------------------------------ cwd

@test "process.cwd: a directory only root may enter (0700), user 1000: the process starts there" {
	chmod 0700 "$ROOTFS/root"
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/root"'
	run_ctr sh -c 'pwd; id -u; ls . 2>/dev/null || echo cannot-list'
	assert_status 0
	assert_equal "$output" $'/root\n1000\ncannot-list'
	id=$(unique_id)
	update_config '.process.user = {uid: 0, gid: 0} | .process.cwd = "/"'
	start_sleeper "$id"
	runtime exec --user 1000 --cwd /root "$id" pwd
	assert_status 0
	assert_equal "$output" /root
}

# pa_userns_group_dir: a user namespace (container 0 = host 100000/200000)
# and /grp (with /grp/sub), owned by a host uid the namespace does not map
# and by the container's gid 1000, mode 0070: root in the container may not
# search it (its capabilities do not cover an unmapped owner), user
# 1000:1000 may. /nogrp is the same with mode 0700.
pa_userns_group_dir() {
	runtime_supports_ns user || skip "$RUNTIME does not support the user namespace"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	mkdir -p "$ROOTFS/grp/sub" "$ROOTFS/nogrp"
	chown 0:201000 "$ROOTFS/grp"
	chmod 0070 "$ROOTFS/grp"
	chmod 0700 "$ROOTFS/nogrp"
}

@test "process.cwd: root may not enter it, the user's group may: entered after the user switch (runc's order)" {
	pa_userns_group_dir
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/grp"'
	run_ctr sh -c 'pwd; id -u'
	assert_status 0
	assert_equal "$output" $'/grp\n1000'
}

@test "exec --cwd: a directory root may not search is entered as the user, also a path through it" {
	pa_userns_group_dir
	id=$(unique_id)
	start_sleeper "$id"
	runtime exec --user 1000:1000 --cwd /grp "$id" pwd
	assert_status 0
	assert_equal "$output" /grp
	runtime exec --user 1000:1000 --cwd /grp/sub "$id" pwd
	assert_status 0
	assert_equal "$output" /grp/sub
}

@test "exec --user --cwd: a directory neither root nor the user may enter fails (255, permission denied)" {
	pa_userns_group_dir
	id=$(unique_id)
	start_sleeper "$id"
	# gid 0: not the directory's group
	runtime exec --user 1000 --cwd /grp "$id" sh -c 'echo ran'
	assert_status 255
	assert_output_contains "/grp"
	assert_output_contains_i "permission denied"
	[[ "$output" != *ran* ]]
	runtime exec --user 1000:1000 --cwd /nogrp/x "$id" sh -c 'echo ran'
	assert_status 255
	assert_output_contains_i "permission denied"
	[[ "$output" != *ran* ]]
}

# ------------------------------------------------------------------ exec -p

@test "exec -p: a process.json without a user runs as root (0:0), as runc" {
	id=$(unique_id)
	update_config '.process.user = {uid: 1000, gid: 1000}'
	start_sleeper "$id"
	process_json 'del(.user) | .args = ["id"]'
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_output_contains "uid=0(root) gid=0(root)"
}

@test "exec -p: apparmorProfile and selinuxLabel for an LSM the host lacks are refused with create's reason" {
	skip_unless_apus "runc 1.1 fails on a host without AppArmor only when it writes the profile"
	[ ! -d /sys/kernel/security/apparmor ] && ! grep -qw selinuxfs /proc/self/mountinfo || skip "the host has AppArmor or SELinux"
	local prop value reason
	id=$(unique_id)
	start_sleeper "$id"
	cp "$BUNDLE/config.json" "$TESTDIR/base.json"
	for prop in apparmorProfile selinuxLabel; do
		case $prop in
		apparmorProfile) value=apus-test-profile reason="apparmor profile is specified in config, but apparmor is not enabled on this host" ;;
		selinuxLabel) value=system_u:system_r:container_t:s0 reason="selinux label is specified in config, but selinux is disabled or not supported" ;;
		esac
		cp "$TESTDIR/base.json" "$BUNDLE/config.json"
		process_json ".$prop = \$v | .args = [\"sh\", \"-c\", \"echo ran\"]" --arg v "$value"
		runtime exec -p "$TESTDIR/process.json" "$id"
		assert_status 255
		assert_output_contains "$prop: $reason"
		[[ "$output" != *ran* ]]
		# what create says for the same property
		update_config ".process.$prop = \$v" --arg v "$value"
		run_ctr sh -c 'echo ran'
		assert_status 1
		assert_output_contains "process.$prop: $reason"
	done
}

# ------------------------------------------------------------------ exec --cgroup

# pa_cgroup_dir PID CONTROLLER: PID's cgroup directory in the v1 hierarchy
# of CONTROLLER ("unified" for cgroup2).
pa_cgroup_dir() {
	local line path
	if [ "$2" = unified ]; then
		line=$(grep '^0::' "/proc/$1/cgroup") || return 1
		path=${line#0::}
		echo "$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)$path"
		return 0
	fi
	line=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print; exit } }' "/proc/$1/cgroup")
	[ -n "$line" ] || return 1
	path=${line#*:*:}
	echo "$(awk -v c="$2" '{
		split($0, halves, " - "); split(halves[2], f, " ");
		if (f[1] != "cgroup") next;
		n = split(f[3], o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)$path"
}

# pa_hierarchies PID: one controller name per hierarchy PID is in (v1), or "unified".
pa_hierarchies() {
	awk -F: '$1 == 0 { print "unified"; next } { split($2, a, ","); print a[1] }' "/proc/$1/cgroup"
}

# pa_mksub DIR: a sub-cgroup DIR/sub (a v1 cpuset needs cpus and mems first).
pa_mksub() {
	mkdir "$1/sub"
	if [ -e "$1/cpuset.cpus" ]; then
		cat "$1/cpuset.cpus" >"$1/sub/cpuset.cpus"
		cat "$1/cpuset.mems" >"$1/sub/cpuset.mems"
	fi
}

@test "exec --cgroup CONTROLLER:PATH joins that sub-cgroup of one hierarchy; delete removes it" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	mem=$(pa_cgroup_dir "$pid" memory) || skip "no v1 memory hierarchy"
	pa_mksub "$mem"
	runtime exec --cgroup memory:sub "$id" cat /proc/self/cgroup
	assert_status 0
	[[ "$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' <<<"$output")" == */sub ]]
	[[ "$(grep -E '^[0-9]+:([^:]*,)?pids(,[^:]*)?:' <<<"$output")" != */sub ]]
	runtime delete --force "$id"
	assert_status 0
	[ ! -e "$mem" ]
}

@test "exec --cgroup PATH joins that sub-cgroup in every hierarchy" {
	id=$(unique_id)
	start_sleeper "$id"
	pid=$(container_pid "$id")
	for h in $(pa_hierarchies "$pid"); do
		pa_mksub "$(pa_cgroup_dir "$pid" "$h")"
	done
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" exec -d --pid-file "$TESTDIR/exec.pid" --cgroup sub "$id" sleep 1001
	) </dev/null >/dev/null 2>&1
	epid=$(cat "$TESTDIR/exec.pid")
	for h in $(pa_hierarchies "$pid"); do
		assert_equal "$(pa_cgroup_dir "$epid" "$h")" "$(pa_cgroup_dir "$pid" "$h")/sub"
	done
	# the process in the sub-cgroup is the container's: ps lists it, delete kills it
	runtime ps --format json "$id"
	assert_status 0
	jq -e --argjson p "$epid" 'index($p) != null' <<<"$output" >/dev/null
	runtime delete --force "$id"
	assert_status 0
	wait_until 10 eval '! pid_alive "$epid"'
}

@test "exec --cgroup: a missing sub-cgroup, a path out of it or a malformed argument -> 255, nothing runs" {
	id=$(unique_id)
	start_sleeper "$id"
	local arg
	for arg in missing memory:missing memory:../.. :sub; do
		runtime exec --cgroup "$arg" "$id" sh -c 'echo ran'
		if [ "$status" -ne 255 ] || [[ "$output" == *ran* ]]; then
			echo "--cgroup $arg: exit $status: $output" >&2
			return 1
		fi
	done
	runtime exec --cgroup sub --cgroup memory:sub "$id" sh -c 'echo ran'
	assert_status 255
	assert_output_contains "invalid --cgroup argument"
}

# ------------------------------------------------------------------ features

@test "features: memoryPolicy lists every mode and flag" {
	pa_needs_runc_1_2 linux.memoryPolicy
	run --separate-stderr _rt features
	assert_status 0
	jq -e '(.linux.memoryPolicy.modes | sort) == (["MPOL_BIND", "MPOL_DEFAULT", "MPOL_INTERLEAVE", "MPOL_LOCAL",
			"MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"])
		and (.linux.memoryPolicy.flags | sort) == (["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"])' <<<"$output"
}
