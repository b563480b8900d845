#!/usr/bin/env bats
# linux.intelRdt on a host without resctrl (this one): refused before
# anything is created, naming the field, in runc's words. The resctrl
# writes (group, schemata, tasks, mon_groups) are unit tests against a fake
# resctrl directory (IntelRdtTests.swift).

load helpers

setup() {
	setup_bundle
	grep -qw resctrl /proc/self/mountinfo && skip "the host has resctrl mounted"
	set_args sh -c 'echo ran'
}

@test "intelRdt: l3CacheSchema without resctrl is refused (Intel RDT/CAT is not enabled)" {
	update_config '.linux.intelRdt = {closID: "apus-test", l3CacheSchema: "L3:0=f"}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	[[ "$output" != *ran* ]]
	assert_output_contains "Intel RDT/CAT is not enabled"
	if runtime_is_apus; then assert_output_contains "linux.intelRdt.l3CacheSchema"; fi
	assert_root_empty
}

@test "intelRdt: memBwSchema without resctrl is refused (Intel RDT/MBA is not enabled)" {
	update_config '.linux.intelRdt = {memBwSchema: "MB:0=50"}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "Intel RDT/MBA is not enabled"
	assert_root_empty
}

@test "intelRdt: closID or enableMonitoring alone without resctrl is refused naming the field" {
	skip_unless_apus "runc 1.1 silently ignores a closID it cannot apply"
	update_config '.linux.intelRdt = {closID: "apus-test"}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "linux.intelRdt.closID: Intel RDT is not enabled on this host (no resctrl filesystem is mounted)"
	update_config '.linux.intelRdt = {enableMonitoring: true}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "linux.intelRdt.enableMonitoring: Intel RDT monitoring is not enabled"
	assert_root_empty
}
