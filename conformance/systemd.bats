#!/usr/bin/env bats
# --systemd-cgroup against a real systemd: the cached Debian rootfs booted
# once per file as PID 1 of a container (systemd-env.sh), the runtime run
# inside it with a private --root. Each test's bundle lives under the
# environment's shared directory (bound at the same path inside).

load helpers
load systemd-helpers

teardown() {
	[[ -n ${UNIFIED_ENV:-} ]] && "$ENV_SH" down "$UNIFIED_ENV" </dev/null 3>&- 4>&-
	systemd_teardown
}

@test "systemd-cgroup: create/start/state/exec/kill/delete in a transient scope with the requested resources" {
	local id scope pid
	id=$(unique_id)
	scope="apus-$id.scope"
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id
		| .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 20}
		| .linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}' --arg id "$id"
	OUT="$TESTDIR/create.log" inner create --bundle "$BUNDLE" "$id"
	assert_status 0
	[[ $(inner_status "$id") == created ]]
	[[ $(show "$scope" ActiveState) == active ]]
	[[ $(show "$scope" Delegate) == yes ]]
	[[ $(show "$scope" Slice) == system.slice ]]
	[[ $(show "$scope" TasksMax) == 20 ]]
	[[ $(show "$scope" CPUQuotaPerSecUSec) == 500ms ]]
	[[ $(show "$scope" CPUShares) == 512 ]]
	# runc 1.1 sets MemoryLimit= on a legacy/hybrid systemd, as apus does.
	[[ $(show "$scope" MemoryLimit) == 67108864 ]]
	# The cgroup files, where the controller exists.
	[[ $(in_env cat "/sys/fs/cgroup/memory/system.slice/$scope/memory.limit_in_bytes") == 67108864 ]]
	[[ $(in_env cat "/sys/fs/cgroup/pids/system.slice/$scope/pids.max") == 20 ]]
	[[ $(in_env cat "/sys/fs/cgroup/cpu/system.slice/$scope/cpu.cfs_quota_us") == 50000 ]]
	# The init is in the scope in every hierarchy.
	pid=$(inner_pid "$id")
	run in_env cat "/proc/$pid/cgroup"
	[[ $output == *"name=systemd:/system.slice/$scope"* ]]
	[[ $output == *"memory:/system.slice/$scope"* ]]
	[[ $output == *"cpuset:/system.slice/$scope"* ]]
	run in_env "$INNER" --root "$INNER_ROOT" start "$id"
	assert_status 0
	[[ $(inner_status "$id") == running ]]
	# An exec'd process joins the scope too.
	run in_env "$INNER" --root "$INNER_ROOT" exec "$id" cat /proc/self/cgroup
	assert_status 0
	[[ $output == *"name=systemd:/system.slice/$scope"* ]]
	[[ $output == *"pids:/system.slice/$scope"* ]]
	run in_env "$INNER" --root "$INNER_ROOT" kill "$id" KILL
	assert_status 0
	wait_inner_status "$id" stopped
	run in_env "$INNER" --root "$INNER_ROOT" delete "$id"
	assert_status 0
	[[ $(show "$scope" LoadState) == not-found ]]
	run in_env sh -c "ls -d /sys/fs/cgroup/*/system.slice/$scope 2>/dev/null"
	[[ -z $output ]]
}

@test "systemd-cgroup: update sets the scope's properties and the cgroup files" {
	local id scope
	id=$(unique_id)
	scope="apus-$id.scope"
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id
		| .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 20}' --arg id "$id"
	run_inner "$id"
	assert_status 0
	run in_env "$INNER" --root "$INNER_ROOT" update --memory 128m --pids-limit 30 --cpu-quota 20000 --cpu-period 100000 "$id"
	assert_status 0
	[[ $(show "$scope" TasksMax) == 30 ]]
	[[ $(show "$scope" MemoryLimit) == 134217728 ]]
	[[ $(show "$scope" CPUQuotaPerSecUSec) == 200ms ]]
	[[ $(in_env cat "/sys/fs/cgroup/memory/system.slice/$scope/memory.limit_in_bytes") == 134217728 ]]
	[[ $(in_env cat "/sys/fs/cgroup/pids/system.slice/$scope/pids.max") == 30 ]]
	[[ $(in_env cat "/sys/fs/cgroup/cpu/system.slice/$scope/cpu.cfs_quota_us") == 20000 ]]
	# what systemd holds survives a reload of its units
	in_env systemctl daemon-reload
	[[ $(in_env cat "/sys/fs/cgroup/pids/system.slice/$scope/pids.max") == 30 ]]
	run in_env "$INNER" --root "$INNER_ROOT" delete --force "$id"
	assert_status 0
}

@test "systemd-cgroup: delete --force of a running container stops the unit at once" {
	local id=$(unique_id)
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id' --arg id "$id"
	run_inner "$id"
	assert_status 0
	[[ $(show "apus-$id.scope" ActiveState) == active ]]
	SECONDS=0
	run in_env "$INNER" --root "$INNER_ROOT" delete --force "$id"
	assert_status 0
	((SECONDS < 10))
	[[ $(show "apus-$id.scope" LoadState) == not-found ]]
	[[ -z $output ]]
}

@test "systemd-cgroup: nested slices are expanded and a missing slice is created" {
	local id=$(unique_id) pid slice
	slice="batssd$RANDOM.slice"
	update_config '.linux.cgroupsPath = ($s | sub(".slice$"; "")) + "-sub.slice:pre:" + $id' --arg id "$id" --arg s "$slice"
	[[ $(show "${slice%.slice}-sub.slice" ActiveState) == inactive ]]
	run_inner "$id"
	assert_status 0
	[[ $(show "${slice%.slice}-sub.slice" ActiveState) == active ]]
	pid=$(inner_pid "$id")
	run in_env cat "/proc/$pid/cgroup"
	[[ $output == *"name=systemd:/$slice/${slice%.slice}-sub.slice/pre-$id.scope"* ]]
	run in_env "$INNER" --root "$INNER_ROOT" delete --force "$id"
	assert_status 0
	in_env systemctl stop "$slice" || true
}

@test "systemd-cgroup: without a cgroupsPath the scope is runc-<id>.scope in system.slice" {
	local id=$(unique_id)
	update_config 'del(.linux.cgroupsPath)'
	run_inner "$id"
	assert_status 0
	[[ $(show "runc-$id.scope" ActiveState) == active ]]
	[[ $(show "runc-$id.scope" Slice) == system.slice ]]
}

@test "systemd-cgroup: a cgroupsPath not of the form slice:prefix:name is refused, nothing created" {
	local id=$(unique_id)
	update_config '.linux.cgroupsPath = "/not/systemd"'
	run_inner "$id"
	[ "$status" -ne 0 ]
	assert_output_contains 'slice:prefix:name'
	run in_env "$INNER" --root "$INNER_ROOT" state "$id"
	[ "$status" -ne 0 ]
}

@test "systemd-cgroup: device rules become DevicePolicy=strict and DeviceAllow" {
	local id=$(unique_id)
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id
		| .linux.resources.devices = [{allow: false, access: "rwm"}, {allow: true, type: "c", major: 10, minor: 229, access: "rw"}]' --arg id "$id"
	run_inner "$id"
	assert_status 0
	[[ $(show "apus-$id.scope" DevicePolicy) == strict ]]
	run show "apus-$id.scope" DeviceAllow
	assert_output_contains "/dev/char/10:229 rw"
	assert_output_contains "/dev/char/1:3 rwm"
}

@test "systemd-cgroup: without systemd a clear error and nothing created" {
	# On this host (no systemd): the ordinary bundle and state root.
	local id=$(unique_id)
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id' --arg id "$id"
	[ -e /run/systemd/private ] && skip "this host runs systemd"
	run _rt --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	if runtime_is_apus; then
		assert_output_contains "--systemd-cgroup: systemd is not running (no /run/systemd/private)"
	fi
	assert_root_empty
	assert_no_cgroups "$id"
	[[ -z $(find /sys/fs/cgroup -maxdepth 3 -name "apus-$id.scope") ]]
}

@test "systemd-cgroup: pause/resume, ps and kill --all act on the scope" {
	local id=$(unique_id) pid
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id' --arg id "$id"
	run_inner "$id"
	assert_status 0
	pid=$(inner_pid "$id")
	run in_env "$INNER" --root "$INNER_ROOT" pause "$id"
	assert_status 0
	[[ $(inner_status "$id") == paused ]]
	[[ $(in_env cat "/sys/fs/cgroup/freezer/system.slice/apus-$id.scope/freezer.state") == FROZEN ]]
	run in_env "$INNER" --root "$INNER_ROOT" resume "$id"
	assert_status 0
	[[ $(inner_status "$id") == running ]]
	run in_env "$INNER" --root "$INNER_ROOT" ps --format json "$id"
	assert_status 0
	assert_output_contains "$pid"
	run in_env "$INNER" --root "$INNER_ROOT" kill --all "$id" KILL
	assert_status 0
	wait_inner_status "$id" stopped
	run in_env "$INNER" --root "$INNER_ROOT" delete "$id"
	assert_status 0
	[[ $(show "apus-$id.scope" LoadState) == not-found ]]
}

@test "systemd-cgroup: a scope already in use by another container is refused and left alone" {
	local id=$(unique_id) id2=$(unique_id)
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id' --arg id "$id"
	run_inner "$id"
	assert_status 0
	run_inner "$id2"
	# (runc 1.2 refuses a non-empty cgroup too.)
	is_runc_before_1_2 && skip "runc 1.1 joins the other container's scope (deprecated, with a warning) and deleting it stops that scope"
	[ "$status" -ne 0 ]
	assert_output_contains "systemd unit apus-$id.scope already exists"
	run in_env "$INNER" --root "$INNER_ROOT" delete --force "$id2"
	[[ $(inner_status "$id") == running ]]
	[[ $(show "apus-$id.scope" ActiveState) == active ]]
}

@test "systemd-cgroup: delete --force of a create killed after its scope started leaves no unit or cgroup" {
	local id=$(unique_id)
	update_config '.linux.cgroupsPath = "system.slice:apus:" + $id
		| .hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "echo $$ >" + $pidfile + "; exec sleep 600"]}]' \
		--arg id "$id" --arg pidfile "$TESTDIR/hook.pid"
	run in_env sh -c '
		"$1" --root "$2" --systemd-cgroup create --bundle "$3" "$4" </dev/null >/dev/null 2>&1 &
		p=$! i=0
		while [ ! -s "$5" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
		{ kill -9 $p; wait $p; kill -9 "$(cat "$5")"; } 2>/dev/null
		systemctl show -p ActiveState --value "apus-$4.scope"' sh "$INNER" "$INNER_ROOT" "$BUNDLE" "$id" "$TESTDIR/hook.pid"
	# apus's init exits when its create dies (the sync socket closes), so
	# systemd may already be stopping the scope; runc's waits.
	[[ $output == active || $output == deactivating || $output == inactive ]]
	is_runc_before_1_2 && skip "runc 1.1 has no record of a create killed before its state.json: delete --force leaves the scope's cgroup directories behind"
	run in_env "$INNER" --root "$INNER_ROOT" delete --force "$id"
	assert_status 0
	[[ $(show "apus-$id.scope" LoadState) == not-found ]]
	run in_env sh -c "ls -d /sys/fs/cgroup/*/system.slice/apus-$id.scope 2>/dev/null"
	[[ -z $output ]]
}

@test "systemd-cgroup: on a unified systemd (cgroup2 view) the scope holds the init and the device rules go to systemd (DevicePolicy=strict)" {
	local u b id=$(unique_id)
	UNIFIED_ENV="$BATS_TEST_TMPDIR/unified"
	local apus=$RUNTIME
	runtime_is_runc && apus="$BATS_TEST_DIRNAME/../.build/release/apus"
	SDENV_CGROUP=unified APUS=$apus "$ENV_SH" up "$UNIFIED_ENV" </dev/null >/dev/null 2>&1 3>&- 4>&-
	u() { (_close_fds; exec "$ENV_SH" exec "$UNIFIED_ENV" "$@") </dev/null; }
	[[ $(u stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]
	b="$UNIFIED_ENV/share/bundle"
	cp -a "$BUNDLE" "$b"
	jq '.linux.cgroupsPath = "system.slice:apus:" + $id' --arg id "$id" "$BUNDLE/config.json" >"$b/config.json"
	run u sh -c '"$@" </dev/null >/dev/null 2>/tmp/err || { cat /tmp/err; exit 1; }' sh \
		"$INNER" --root "$INNER_ROOT" --systemd-cgroup run -d --bundle "$b" "$id"
	assert_status 0
	[[ $(u systemctl show -p ActiveState --value "apus-$id.scope") == active ]]
	[[ $(u systemctl show -p DevicePolicy --value "apus-$id.scope") == strict ]]
	[[ $(u systemctl show -p IOAccounting --value "apus-$id.scope") == yes ]]
	run u "$INNER" --root "$INNER_ROOT" exec "$id" cat /proc/self/cgroup
	assert_status 0
	assert_output_contains "0::/system.slice/apus-$id.scope"
	run u "$INNER" --root "$INNER_ROOT" delete --force "$id"
	assert_status 0
	[[ $(u systemctl show -p LoadState --value "apus-$id.scope") == not-found ]]
	[[ -z $(u sh -c "ls -d /sys/fs/cgroup/system.slice/apus-$id.scope 2>/dev/null") ]]
	"$ENV_SH" down "$UNIFIED_ENV" </dev/null 3>&- 4>&-
	UNIFIED_ENV=
}
