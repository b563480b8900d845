#!/usr/bin/env bats
# linux.seccomp: rules, actions, argument conditions, and the profiles that
# containerd and podman generate. Same results under runc.

load helpers

FIXTURES="$BATS_TEST_DIRNAME/../spec-fixtures/valid"

seccomp() { update_config ".linux.seccomp = $1"; }

@test "seccomp: SCMP_ACT_ERRNO with errnoRet fails the syscall with that errno" {
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}'
	set_args sh -c 'mkdir /tmp/x 2>&1; echo rc=$?'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "Permission denied"
	assert_output_contains "rc=1"
}

@test "seccomp: SCMP_ACT_ERRNO without errnoRet is EPERM" {
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
	set_args sh -c 'mkdir /tmp/x 2>&1'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "Operation not permitted"
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills the process with SIGSYS (exit 159)" {
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL_PROCESS"}]}'
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args mkdir /tmp/x
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 159
}

@test "seccomp: argument conditions: kill(pid, SIGUSR1) denied, other signals allowed" {
	# kill(2): arg1 is the signal. SIGUSR1 is 10 on x86_64.
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":10,"op":"SCMP_CMP_EQ"}]}]}'
	set_args sh -c 'sleep 100 & p=$!; kill -USR1 $p 2>/dev/null && echo usr1-sent || echo usr1-denied; kill -TERM $p && echo term-sent'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "usr1-denied"
	assert_output_contains "term-sent"
}

@test "seccomp: default action ERRNO with an allow list (defaultErrnoRet)" {
	local allow
	allow=$(jq -c '[.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW")]' "$FIXTURES/containerd-seccomp.json")
	seccomp "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":$allow}"
	set_args sh -c 'echo allowed-ok'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "allowed-ok"
}

@test "seccomp: containerd's default profile runs a normal container, with and without no_new_privs" {
	local profile
	profile=$(jq -c '.linux.seccomp' "$FIXTURES/containerd-seccomp.json")
	seccomp "$profile"
	set_args sh -c 'mkdir -p /tmp/d && echo fine && grep Seccomp: /proc/self/status'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "fine"
	assert_output_contains "Seccomp:	2"
	update_config '.process.noNewPrivileges = false'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "Seccomp:	2"
}

@test "seccomp: syscall names unknown to libseccomp are skipped" {
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_syscall_xyz","mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO"}]}'
	set_args sh -c 'mkdir /tmp/x 2>&1'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "Operation not permitted"
}

@test "seccomp: an unknown action is a config error, nothing created" {
	seccomp '{"defaultAction":"SCMP_ACT_BOGUS"}'
	id=$(unique_id)
	runtime create --bundle "$BUNDLE" "$id"
	assert_status 1
	runtime_is_apus && assert_output_contains 'linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_BOGUS"'
	assert_root_empty
}

@test "seccomp: SCMP_ACT_NOTIFY without a listener is rejected before anything is created" {
	skip_unless_apus "runc 1.1 reports this differently"
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}'
	runtime create --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "linux.seccomp"
	assert_root_empty
}

@test "seccomp: SCMP_ACT_NOTIFY on write is refused in runc's words, nothing created" {
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"'"$TESTDIR"'/agent.sock","syscalls":[{"names":["write"],"action":"SCMP_ACT_NOTIFY"}]}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	[ "$status" -ne 0 ]
	assert_output_contains "SCMP_ACT_NOTIFY cannot be used for the write syscall"
	assert_root_empty
}

@test "seccomp: a startContainer hook runs under the container's filter (no_new_privs too), its death said as runc does" {
	update_config '.process.noNewPrivileges = true'
	seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}'
	update_config '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/from-hook"]}]'
	set_args true
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	[ "$status" -ne 0 ]
	assert_output_contains "error running hook"
	assert_output_contains "bad system call"
	[ ! -e "$ROOTFS/tmp/from-hook" ]
	assert_root_empty
}

# seccomp_probe: a static program (/bin/nrprobe in the rootfs) printing
# NR=OK|ENOSYS|EPERM|errnoN for raw syscall numbers (x86_64's).
seccomp_probe() {
	[ "$(uname -m)" = x86_64 ] || skip "syscall numbers are x86_64's"
	local bin="$BATS_FILE_TMPDIR/nrprobe"
	if [ ! -x "$bin" ]; then
		command -v cc >/dev/null || skip "cc needed to build the syscall probe"
		cat >"$BATS_FILE_TMPDIR/nrprobe.c" <<'PROBE'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		long r = syscall(strtol(argv[i], NULL, 0), 0, 0, 0, 0, 0);
		if (r >= 0) printf("%s=OK\n", argv[i]);
		else if (errno == ENOSYS) printf("%s=ENOSYS\n", argv[i]);
		else if (errno == EPERM) printf("%s=EPERM\n", argv[i]);
		else printf("%s=errno%d\n", argv[i], errno);
	}
	return 0;
}
PROBE
		cc -static -O2 -o "$bin.tmp" "$BATS_FILE_TMPDIR/nrprobe.c" && mv "$bin.tmp" "$bin" ||
			skip "cannot build a static syscall probe"
	fi
	cp "$bin" "$ROOTFS/bin/nrprobe"
}

@test "seccomp: every syscall number above the newest the profile names gets ENOSYS (1000, 0x3fffffff), known denied ones the default" {
	seccomp_probe
	local allow want
	allow=$(jq -c '[.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW")]' "$FIXTURES/containerd-seccomp.json")
	seccomp "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":$allow}"
	# 248 add_key and 312 kcmp: known, not in the allow list; 110 getppid allowed
	want=$'1000=ENOSYS\n600=ENOSYS\n0x3fffffff=ENOSYS\n248=EPERM\n312=EPERM\n110=OK'
	set_args /bin/nrprobe 1000 600 0x3fffffff 248 312 110
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" "$want"
	# the same with no_new_privs (loaded last) and for an exec'd process
	update_config '.process.noNewPrivileges = true'
	set_args sleep 1000
	id=$(unique_id)
	create_and_start "$id"
	runtime exec "$id" /bin/nrprobe 1000 600 0x3fffffff 248 312 110
	assert_status 0
	assert_equal "$output" "$want"
	runtime delete --force "$id"
}

@test "seccomp: a default action that lets syscalls run (SCMP_ACT_LOG) gets no ENOSYS for newer numbers (runc's rule)" {
	seccomp_probe
	# the profile names only getppid (110): add_key (248) is newer, but LOG lets it run
	seccomp '{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO"}]}'
	set_args /bin/nrprobe 110 248
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	# add_key(NULL, ...) reaches the kernel: EFAULT
	assert_equal "$output" $'110=EPERM\n248=errno14'
}

@test "seccomp: without architectures the native one still gets ENOSYS above the newest syscall named" {
	skip_unless_apus "runc 1.1 adds no ENOSYS prologue without architectures (1000 gets the default action)"
	seccomp_probe
	local allow
	allow=$(jq -c '[.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_ALLOW")]' "$FIXTURES/containerd-seccomp.json")
	seccomp "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":$allow}"
	set_args /bin/nrprobe 1000 248
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" $'1000=ENOSYS\n248=EPERM'
}
