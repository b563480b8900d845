#!/usr/bin/env bats
# apus check: a bundle judged without creating anything. Every config error
# with its JSON path, and the risks of the rule table (one test per rule: a
# config that triggers it and one that does not). apus-only: runc has no
# such command.

load helpers
load isolation

setup() {
	skip_unless_apus "runc has no check command"
	setup_bundle
}

# check_json [CHECK-FLAGS...]: `check --format json` of $BUNDLE; sets $status, $output.
check_json() {
	runtime check --bundle "$BUNDLE" --format json "$@"
}

# assert_rule ID: the shared rule test (rule_case) with this suite's judge.
assert_rule() {
	rule_case "$1" || return 1
	assert_rule_with check_json "$1" "$TRIGGER" "$QUIET"
}

@test "check: the default spec gives only the expected low/medium findings, exit 0 (1 with --strict)" {
	rm "$BUNDLE/config.json"
	in_dir "$BUNDLE" "$RUNTIME" spec
	check_json
	assert_status 0
	assert_equal "$(jq -c '.errors' <<<"$output")" "[]"
	assert_equal "$(jq -r '[.risks[] | "\(.severity) \(.id)"] | sort | join(",")' <<<"$output")" \
		"low host-namespace-cgroup,medium no-memory-limit,medium no-pids-limit,medium no-seccomp,medium no-user-namespace"
	check_json --strict
	assert_status 1
	runtime check --bundle "$BUNDLE"
	assert_status 0
	assert_output_contains "config.json: 0 errors, 0 warnings, 5 risks (4 medium, 1 low)"
}

@test "check: the JSON format (errors with path and message; risks with id, severity, path, message)" {
	update_config '.process.cwd = "relative"'
	check_json
	assert_status 1
	jq -e '(keys | contains(["errors", "risks"]))
		and (.errors | length == 1) and (.errors[0] | keys == ["message", "path"])
		and (.errors[0].path == "process.cwd")
		and all(.risks[]; (keys == ["id", "message", "path", "severity"]) and (.severity | IN("high", "medium", "low")))' <<<"$output"
}

@test "check: a config with several errors lists every one with its JSON path" {
	update_config '.mounts += [{"destination": "", "type": "tmpfs", "source": "tmpfs"},
			{"destination": "/data", "type": "bind", "source": "/nonexistent/apus-check", "options": ["rbind"]}]
		| .process.cwd = "relative"
		| .process.args = ["no-such-program"]
		| .linux.sysctl = {"kernel.panic": "1"}
		| .linux.namespaces += [{"type": "cgroup", "path": "/nonexistent/ns"}]
		| .linux.resources.blockIO = {"leafWeight": 500}'
	runtime check --bundle "$BUNDLE"
	assert_status 1
	local n=$(jq '.mounts | length' "$BUNDLE/config.json")
	assert_output_contains "error    config.json: mounts[$((n - 2))].destination: must not be empty"
	assert_output_contains "error    config.json: process.cwd: must be an absolute path"
	assert_output_contains "error    config.json: linux.sysctl[\"kernel.panic\"]: not in a separate kernel namespace"
	assert_output_contains "error    config.json: linux.resources.blockIO.leafWeight: this kernel has no blkio.leaf_weight"
	assert_output_contains "config.json: linux.namespaces[5].path: cannot open \"/nonexistent/ns\""
	assert_output_contains "config.json: mounts[$((n - 1))].source: bind source \"/nonexistent/apus-check\" does not exist"
	assert_output_contains "config.json: process.args[0]: not found in the rootfs: exec: \"no-such-program\": executable file not found in \$PATH"
	assert_output_contains "config.json: 7 errors"
	check_json
	assert_equal "$(jq '.errors | length' <<<"$output")" 7
}

@test "check: a config that is not JSON is one error, exit 1" {
	echo '{"ociVersion": ' >"$BUNDLE/config.json"
	check_json
	assert_status 1
	assert_equal "$(jq '.errors | length' <<<"$output")" 1
	runtime check --bundle "$TESTDIR/nonexistent"
	assert_status 1
	assert_output_contains "no such directory"
}

@test "check: process.args[0] is looked up in the rootfs, following the container's PATH and its symlinks inside it" {
	mkdir -p "$ROOTFS/opt/tools"
	ln -s /opt/tools/busybox-copy "$ROOTFS/bin/tool"
	cp "$ROOTFS/bin/busybox" "$ROOTFS/opt/tools/busybox-copy"
	set_args tool sleep 1
	check_json
	assert_status 0
	# an absolute symlink resolves inside the rootfs, never on the host
	ln -s /usr/bin/env "$ROOTFS/bin/hostenv"
	[ -x /usr/bin/env ]
	set_args hostenv
	check_json
	assert_status 1
	assert_equal "$(jq -r '.errors[0].path' <<<"$output")" "process.args[0]"
	# PATH is the container's
	mkdir -p "$ROOTFS/custom"
	cp "$ROOTFS/bin/busybox" "$ROOTFS/custom/mytool"
	set_args mytool
	check_json
	assert_status 1
	update_config '.process.env = ["PATH=/custom"]'
	check_json
	assert_status 0
}

@test "check: seccomp syscall names libseccomp does not know are warnings (create skips them)" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}'
	check_json
	assert_status 0
	assert_equal "$(jq -r '.warnings[0].path' <<<"$output")" "linux.seccomp.syscalls[0].names[1]"
	update_config '.linux.seccomp.architectures = ["SCMP_ARCH_X86_64"]'
	check_json
	assert_status 0
}

@test "check creates nothing: no state root, no cgroup, no mount, no namespace" {
	command -v strace >/dev/null || skip "no strace"
	local mounts_before=$(grep -cF "$TESTDIR" /proc/self/mountinfo || true)
	run strace -f -qq -o "$TESTDIR/trace" \
		-e trace=mkdir,mkdirat,mount,umount2,unshare,setns,clone,clone3,fork,vfork,fsopen,fsmount,move_mount,open_tree,mount_setattr,rename,renameat2,unlink,unlinkat,rmdir \
		"$RUNTIME" --root "$ROOT" check --bundle "$BUNDLE"
	assert_status 0
	if [ -s "$TESTDIR/trace" ]; then
		echo "check made changing syscalls:" >&2
		cat "$TESTDIR/trace" >&2
		return 1
	fi
	# and no file was opened for writing
	strace -f -qq -o "$TESTDIR/opens" -e trace=open,openat,openat2 "$RUNTIME" --root "$ROOT" check --bundle "$BUNDLE" >/dev/null
	! grep -E 'O_(WRONLY|RDWR|CREAT)' "$TESTDIR/opens"
	[ ! -e "$ROOT" ]
	assert_equal "$(grep -cF "$TESTDIR" /proc/self/mountinfo || true)" "$mounts_before"
}

@test "check: --format must be text or json" {
	runtime check --bundle "$BUNDLE" --format yaml
	assert_status 1
	assert_output_contains "invalid format option"
}

# --- one test per rule (configs: rule_case in isolation.bash) --------------

@test "check rule privileged" { assert_rule privileged; }
@test "check rule cap-sys-admin" { assert_rule cap-sys-admin; }
@test "check rule cap-sys-module" { assert_rule cap-sys-module; }
@test "check rule cap-sys-ptrace" { assert_rule cap-sys-ptrace; }
@test "check rule cap-net-admin" { assert_rule cap-net-admin; }
@test "check rule cap-dac-read-search" { assert_rule cap-dac-read-search; }
@test "check rule host-namespace-pid" { assert_rule host-namespace-pid; }
@test "check rule host-namespace-net" { assert_rule host-namespace-net; }
@test "check rule host-namespace-ipc" { assert_rule host-namespace-ipc; }
@test "check rule host-namespace-uts" { assert_rule host-namespace-uts; }
@test "check rule host-namespace-mnt" { assert_rule host-namespace-mnt; }
@test "check rule host-namespace-cgroup" { assert_rule host-namespace-cgroup; }
@test "check rule no-user-namespace" { assert_rule no-user-namespace; }
@test "check rule new-privileges-allowed" { assert_rule new-privileges-allowed; }
@test "check rule no-seccomp" { assert_rule no-seccomp; }
@test "check rule no-memory-limit" { assert_rule no-memory-limit; }
@test "check rule no-pids-limit" { assert_rule no-pids-limit; }
@test "check rule writable-host-mount" { assert_rule writable-host-mount; }
@test "check rule proc-sys-writable" { assert_rule proc-sys-writable; }
@test "check rule sysfs-writable" { assert_rule sysfs-writable; }
@test "check rule unmasked-proc" {
	standard_masks_exist || skip "none of the standard masked paths exists on this host"
	assert_rule unmasked-proc
}
@test "check rule host-device" { assert_rule host-device; }
@test "check rule readonly-rootfs-off" { assert_rule readonly-rootfs-off; }

# --- what the config alone can tell ------------------------------------------

@test "check: effective capabilities count as well as bounding ones" {
	assert_rule_with check_json cap-sys-admin \
		'.process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]' '.'
}

@test "check: a namespace joined by a path that is the host's is the host's" {
	assert_rule_with check_json host-namespace-net \
		".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$$/ns/net\" else . end)" '.'
}

@test "check: a user namespace that maps 0 to 0 is no user namespace" {
	rule_case no-user-namespace
	assert_rule_with check_json no-user-namespace '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]' "$QUIET"
}

@test "check: a bind mount of a device node is a host device" {
	assert_rule_with check_json host-device '.mounts += [{"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg"}]' \
		'.mounts += [{"destination": "/dev/null", "type": "bind", "source": "/dev/null"}]'
}

@test "check: writable host mounts are medium, high for a socket and for /etc" {
	mkdir "$TESTDIR/data"
	update_config ".mounts += [{\"destination\": \"/data\", \"source\": \"$TESTDIR/data\", \"options\": [\"bind\"]}]"
	check_json
	assert_equal "$(jq -r '.risks[] | select(.id == "writable-host-mount") | .severity' <<<"$output")" medium
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TESTDIR/api.sock"
	update_config ".mounts += [{\"destination\": \"/run/api\", \"type\": \"bind\", \"source\": \"$TESTDIR/api.sock\"},
		{\"destination\": \"/host-etc\", \"type\": \"bind\", \"source\": \"/etc\", \"options\": [\"rbind\"]}]"
	check_json
	assert_equal "$(jq -r '[.risks[] | select(.id == "writable-host-mount") | .severity] | join(",")' <<<"$output")" "high,high,medium"
	assert_equal "$(jq -r '[.risks[] | select(.id == "writable-host-mount") | .message] | .[0]' <<<"$output")" \
		"the host socket $TESTDIR/api.sock is mounted writable at /run/api"
}

@test "check: a writable root filesystem is a low risk" {
	check_json
	assert_equal "$(jq -r '.risks[] | select(.id == "readonly-rootfs-off") | .severity' <<<"$output")" low
}

@test "check: net devices, Intel RDT, LSM labels and seccomp flags go through create's support checks" {
	[ ! -d /sys/kernel/security/apparmor ] && ! grep -qw 'selinuxfs\|resctrl' /proc/self/mountinfo ||
		skip "the host has AppArmor, SELinux or resctrl"
	update_config '.linux.netDevices = {"apusnodev0": {}}
		| .linux.intelRdt = {"l3CacheSchema": "L3:0=f"}
		| .process.apparmorProfile = "apus-test"
		| .process.selinuxLabel = "system_u:system_r:container_t:s0"
		| .linux.mountLabel = "system_u:object_r:container_file_t:s0"
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}'
	runtime check --bundle "$BUNDLE"
	assert_status 1
	assert_output_contains 'config.json: linux.netDevices.apusnodev0: no network device "apusnodev0" on the host'
	assert_output_contains "config.json: linux.intelRdt.l3CacheSchema: Intel RDT/CAT is not enabled"
	assert_output_contains "config.json: process.apparmorProfile: apparmor profile is specified in config, but apparmor is not enabled"
	assert_output_contains "config.json: process.selinuxLabel: selinux label is specified in config"
	assert_output_contains "config.json: linux.mountLabel: mount label is specified in config"
	assert_output_contains "config.json: linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs an SCMP_ACT_NOTIFY rule"
}
