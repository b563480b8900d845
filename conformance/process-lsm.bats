#!/usr/bin/env bats
# AppArmor and SELinux labels on a host that has neither LSM enabled (this
# one): process.apparmorProfile, process.selinuxLabel, linux.mountLabel and
# `exec --apparmor`/`--process-label` fail with runc's reason, before
# anything is created (runc 1.1 fails later for AppArmor and the mount
# label: in its init, writing attr/exec or mounting with context=). The
# write paths (attr files, the context= option) are unit tests
# (LSMTests.swift). Skipped where the host has the LSM.

load helpers

setup() {
	setup_bundle
	set_args sh -c 'echo ran'
}

no_apparmor() { [ -d /sys/kernel/security/apparmor ] && skip "the host has AppArmor"; return 0; }
no_selinux() { grep -qw selinuxfs /proc/self/mountinfo && skip "the host has SELinux"; return 0; }

# refused WHAT: `run` fails, nothing ran, nothing left; the output names WHAT.
refused() {
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	[ "$status" -ne 0 ]
	[[ "$output" != *ran* ]]
	assert_output_contains_i "$1"
	assert_root_empty
}

@test "lsm: process.apparmorProfile without AppArmor is refused" {
	no_apparmor
	update_config '.process.apparmorProfile = "apus-test-profile"'
	refused apparmor
	if runtime_is_apus; then
		assert_output_contains "process.apparmorProfile: apparmor profile is specified in config, but apparmor is not enabled on this host"
	fi
}

@test "lsm: process.selinuxLabel without SELinux is refused with runc's message" {
	no_selinux
	update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"'
	refused "selinux label is specified in config, but selinux is disabled or not supported"
}

@test "lsm: linux.mountLabel without SELinux is refused" {
	no_selinux
	update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
	if runtime_is_apus; then
		refused "linux.mountLabel: mount label is specified in config, but selinux is disabled or not supported"
	else
		refused "context=" # runc 1.1: the tmpfs mount with context= fails (EINVAL)
	fi
}

@test "lsm: exec --apparmor and --process-label without the LSM are refused, nothing runs" {
	no_apparmor
	no_selinux
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	runtime exec --apparmor apus-test-profile "$id" sh -c 'echo ran'
	[ "$status" -ne 0 ]
	[[ "$output" != *ran* ]]
	assert_output_contains_i apparmor
	runtime exec --process-label system_u:system_r:container_t:s0 "$id" sh -c 'echo ran'
	[ "$status" -ne 0 ]
	[[ "$output" != *ran* ]]
	if runtime_is_apus; then
		assert_output_contains "--process-label: selinux label is specified in config, but selinux is disabled or not supported"
	fi
}
