#!/usr/bin/env bats
# linux.resources.devices enforced: by the v1 devices controller on this
# hybrid host, and by an eBPF device program (BPF_CGROUP_DEVICE) on a pure
# cgroup v2 view, where there is no devices controller. Each check makes
# device nodes in the container (mknod is allowed for every device, as in
# runc) and opens them: a denied open fails with EPERM, before any driver is
# reached. Same scenarios under runc (what runc 1.1 does otherwise skips).

load helpers
# The layout views (use_layout, in_view), the cgroup helpers (cgroup_dir,
# new_parent, assert_nothing_left) and setup/teardown of cgroup-layouts.bats:
# everything in that file before its first test.
# shellcheck source=/dev/null
source <(sed '/^@test /,$d' "$BATS_TEST_DIRNAME/cgroup-layouts.bats")

FIXTURES="$BATS_TEST_DIRNAME/../spec-fixtures/valid"

# The devices the checks use (none needs a capability to open):
#   null c 1:3 (runc's defaults)  kmsg c 1:11 (opened for writing only)
#   lc c 10:237 (loop-control)    fuse c 10:229    loop0 b 7:0
declare -gA DEV=([null]="c 1 3" [kmsg]="c 1 11" [lc]="c 10 237" [fuse]="c 10 229" [loop0]="b 7 0")

# device_rules JSON: linux.resources.devices = JSON, CAP_MKNOD for the
# container, and /bin/probe in the rootfs.
device_rules() {
	update_config '.linux.resources.devices = $r
		| .process.capabilities |= with_entries(select(.key != "ambient") | .value += ["CAP_MKNOD"])' --argjson r "$1"
	_write_probe
}

# /bin/probe NAME:MODE...: for each, make /dev/probe-NAME (type and numbers
# from TYPE MAJOR MINOR in $DEVICES), open it for MODE (r, w or rw) and print
# "NAME MODE ok", "NAME MODE EPERM" or the error.
_write_probe() {
	local specs="" n
	for n in "${!DEV[@]}"; do specs+="$n) set -- ${DEV[$n]};; "; done
	cat >"$ROOTFS/bin/probe" <<EOF
#!/bin/sh
verdict() { case "\$1" in "") echo ok;; *"Operation not permitted"*) echo EPERM;; *) echo "\$1";; esac; }
for arg; do
	name=\${arg%%:*} mode=\${arg#*:} p=/dev/probe-\${arg%%:*}
	case \$name in $specs *) echo "unknown device \$name"; exit 1;; esac
	if [ ! -e \$p ] && ! err=\$(mknod \$p "\$@" 2>&1); then echo "\$name mknod \$(verdict "\$err")"; continue; fi
	case \$mode in
	r) err=\$( (exec 3<\$p) 2>&1) ;;
	w) err=\$( (exec 3>\$p) 2>&1) ;;
	rw) err=\$( (exec 3<>\$p) 2>&1) ;;
	esac
	echo "\$name \$mode \$(verdict "\$err")"
done
EOF
	chmod 755 "$ROOTFS/bin/probe"
}

# expect_probe WANT ARG...: run the container with `probe ARG...`; its
# output must be WANT (one "NAME MODE VERDICT" per line); the runtime's
# own messages are in $stderr.
expect_probe() {
	local want=$1
	shift
	set_args probe "$@"
	run --separate-stderr _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" "$want"
}

# device_programs DIR: "ID NAME" of each device program attached to the
# cgroup v2 directory DIR (bpftool).
device_programs() {
	bpftool -j cgroup show "$1" | jq -r '.[] | select(.attach_type == "cgroup_device" or .attach_type == "device") | "\(.id) \(.name // "")"'
}

# program_exists ID
program_exists() {
	bpftool prog show id "$1" >/dev/null 2>&1
}

require_bpftool() {
	command -v bpftool >/dev/null || skip "bpftool is not installed (make deps)"
}

# --------------------------------------------------------------------------
# The checks, on the hybrid host (v1 devices controller) and a pure v2 view
# --------------------------------------------------------------------------

# A deny rule after "allow everything" blocks one device, the others open.
check_deny_one() {
	device_rules '[{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rw"}]'
	expect_probe "kmsg w EPERM
lc r ok
null rw ok" kmsg:w lc:r null:rw
}

# After "deny everything" only the allowed devices (and runc's defaults)
# open; a device in linux.devices gets no access of its own (fuse, as in
# runc); an access string with letters beyond r, w and m means what runc
# makes of it ("rwa" is "rw").
check_allow_one() {
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rwa"}]'
	update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
	expect_probe "lc rw ok
fuse r EPERM
kmsg w EPERM
null rw ok" lc:rw fuse:r kmsg:w null:rw
	real_runtime_is_runc || assert_stderr_contains 'linux.resources.devices[1].access: only r, w and m count in \"rwa\"'
}

# The later of two rules for the same device wins.
check_rule_order() {
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"},
		{"allow": false, "type": "c", "major": 10, "minor": 237, "access": "rw"}]'
	expect_probe "lc r EPERM" lc:r
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 10, "minor": 237, "access": "rw"},
		{"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"}]'
	expect_probe "lc r ok" lc:r
}

# Major and minor wildcards, and rules for one type leave the other alone.
check_wildcards() {
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "access": "rw"}]'
	expect_probe "lc rw ok
fuse r ok
kmsg w EPERM
loop0 r EPERM" lc:rw fuse:r kmsg:w loop0:r
	device_rules '[{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "minor": 237, "access": "rw"},
		{"allow": false, "type": "b", "access": "rw"}]'
	expect_probe "lc r EPERM
fuse r ok
loop0 r EPERM
kmsg w ok" lc:r fuse:r loop0:r kmsg:w
}

# Access is checked per kind: an allow of "r" lets only reading through; a
# deny of "w" blocks an open for writing, including read-write.
check_access() {
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "r"}]'
	expect_probe "lc r ok
lc w EPERM
lc rw EPERM" lc:r lc:w lc:rw
	if [ "$LAYOUT" = v2 ] && real_runtime_is_runc; then
		skip "runc's device filter lets a read-write open through a rule denying \"w\" (v1 denies it)"
	fi
	device_rules '[{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 10, "minor": 237, "access": "w"}]'
	expect_probe "lc r ok
lc w EPERM
lc rw EPERM" lc:r lc:w lc:rw
}

# A rule the devices cgroup cannot honour fails create, naming the rule:
# a hole in an earlier wildcard (runc refuses it too), or (Apus only) a deny
# of a wildcard that would leave an earlier, narrower allow in place.
check_refused() {
	local id
	id=$(unique_id)
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "access": "rw"},
		{"allow": false, "type": "c", "major": 10, "minor": 237, "access": "rw"}]'
	create_container "$id"
	[ "$status" -ne 0 ]
	real_runtime_is_runc || assert_output_contains 'linux.resources.devices[2]: "c 10:237 rw" is inside the allowed wildcard "c 10:* rw"'
	assert_nothing_left "$id"
	real_runtime_is_runc && return 0
	id=$(unique_id)
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"},
		{"allow": false, "type": "c", "major": 10, "access": "rw"}]'
	create_container "$id"
	[ "$status" -ne 0 ]
	assert_output_contains 'linux.resources.devices[2]: does not take back "c 10:237 rw"'
	assert_nothing_left "$id"
}

@test "hybrid: a deny rule after allow-all blocks that device only" {
	use_layout hybrid
	check_deny_one
}

@test "v2: a deny rule after allow-all blocks that device only" {
	use_layout v2
	check_deny_one
}

@test "hybrid: after deny-all only allowed devices open, not linux.devices (\"rwa\" is \"rw\", as in runc)" {
	use_layout hybrid
	check_allow_one
}

@test "v2: after deny-all only allowed devices open, not linux.devices (\"rwa\" is \"rw\", as in runc)" {
	use_layout v2
	check_allow_one
}

@test "hybrid: rule order matters: the later rule for a device wins" {
	use_layout hybrid
	check_rule_order
}

@test "v2: rule order matters: the later rule for a device wins" {
	use_layout v2
	check_rule_order
}

@test "hybrid: major and minor wildcards; a block rule leaves char devices alone" {
	use_layout hybrid
	check_wildcards
}

@test "v2: major and minor wildcards; a block rule leaves char devices alone" {
	use_layout v2
	check_wildcards
}

@test "hybrid: access r, w and read-write opens checked as v1 does" {
	use_layout hybrid
	check_access
}

@test "v2: access r, w and read-write opens checked as v1 does" {
	use_layout v2
	check_access
}

@test "hybrid: rules the devices cgroup cannot honour are refused with their JSON path, nothing left" {
	use_layout hybrid
	check_refused
}

@test "v2: rules the devices cgroup cannot honour are refused with their JSON path, nothing left" {
	use_layout v2
	check_refused
}

# --------------------------------------------------------------------------
# v1: the cgroup's rule list, and re-applying rules to a cgroup that has some
# --------------------------------------------------------------------------

@test "hybrid: devices.list holds the rules; without rules a container gets runc's defaults only" {
	use_layout hybrid
	visible devices || skip "no v1 devices controller"
	local id dir
	id=$(unique_id)
	update_config 'del(.linux.resources.devices)'
	create_container "$id"
	assert_status 0
	dir="$(cgroup_dir "$id" devices)"
	assert_equal "$(sort "$dir/devices.list")" "$(printf '%s\n' 'b *:* m' 'c *:* m' 'c 1:3 rwm' 'c 1:5 rwm' 'c 1:7 rwm' 'c 1:8 rwm' \
		'c 1:9 rwm' 'c 5:0 rwm' 'c 5:2 rwm' 'c 10:200 rwm' 'c 136:* rwm' | sort)"
	runtime delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

@test "hybrid: devices.list lists the config's rules in their order, then runc's defaults (runtime-tools' linux_cgroups_devices)" {
	skip_unless_apus "runc 1.1 writes the exceptions sorted (b *:* m first)"
	use_layout hybrid
	visible devices || skip "no v1 devices controller"
	local id dir
	id=$(unique_id)
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
		{"allow": true, "type": "b", "major": 8, "minor": 20, "access": "rw"},
		{"allow": true, "type": "b", "major": 10, "minor": 200, "access": "r"}]'
	create_container "$id"
	assert_status 0
	dir="$(cgroup_dir "$id" devices)"
	assert_equal "$(head -n 4 "$dir/devices.list")" "$(printf '%s\n' 'c 10:229 rwm' 'b 8:20 rw' 'b 10:200 r' 'c *:* m')"
	runtime delete --force "$id"
	assert_status 0
	assert_nothing_left "$id"
}

# The cgroup already holds deny-all rules (a re-application, as `update`
# makes): only what changes is written, no reset to deny-all that would
# deny loop-control (allowed before and after) for a moment.
@test "hybrid: re-applying rules to a deny-all cgroup writes only the difference" {
	use_layout hybrid
	visible devices || skip "no v1 devices controller"
	command -v strace >/dev/null || skip "no strace"
	local id parent dir writes
	id=$(unique_id)
	parent=$(new_parent)
	dir="$(cgroup_dir "/$parent/$id" devices)"
	mkdir -p "$dir"
	echo a >"$dir/devices.deny"
	echo 'c 10:237 rw' >"$dir/devices.allow"
	echo 'c 1:3 rwm' >"$dir/devices.allow"
	update_config '.linux.cgroupsPath = $p | .linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}]' \
		--arg p "/$parent/$id"
	set_args true
	strace -f -qq -e trace=write -e signal=none -s 64 -o "$TESTDIR/strace" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- 4>&-
	writes="$(grep -oE 'write\([0-9]+, "[abc] [^"]*"' "$TESTDIR/strace" | sed 's/.*"\(.*\)"/\1/' | tr '\n' ,)"
	[[ "$writes" != *"a *:* rwm"* && "$writes" != *"a,"* ]] || {
		echo "the cgroup was reset: $writes" >&2
		return 1
	}
	[[ "$writes" == *"c 10:229 r"* ]] || {
		echo "c 10:229 r not written: $writes" >&2
		return 1
	}
	[[ "$writes" != *"c 10:237"* ]] || {
		echo "c 10:237, already there, written again: $writes" >&2
		return 1
	}
	assert_nothing_left "$id"
}

# --------------------------------------------------------------------------
# v2: the program on the container's cgroup
# --------------------------------------------------------------------------

# An earlier program of ours is on the cgroup (attached by hand here: that of
# another container, denying loop-control): create attaches its own program
# before detaching that one, and only its own rules apply afterwards. Both
# programs go with their cgroups.
@test "v2: a re-applied device program replaces the earlier one, attached before it is detached" {
	use_layout v2
	require_bpftool
	local a b parent dir_a dir_b old new trace
	parent=$(new_parent)
	a=$(unique_id)
	device_rules '[{"allow": false, "access": "rwm"}]'
	update_config '.linux.cgroupsPath = $p' --arg p "/$parent/$a"
	create_container "$a"
	assert_status 0
	dir_a="$(cgroup_dir "/$parent/$a" unified)"
	old="$(device_programs "$dir_a")"
	[ "$(wc -l <<<"$old")" -eq 1 ] && [ -n "$old" ]
	old=${old%% *}

	b=$(unique_id)
	dir_b="$(cgroup_dir "/$parent/$b" unified)"
	mkdir "$dir_b"
	bpftool cgroup attach "$dir_b" device id "$old" multi
	device_rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"}]'
	update_config '.linux.cgroupsPath = $p' --arg p "/$parent/$b"
	set_args probe lc:rw
	# (run --keep: strace -f follows the container too, so the trace ends with it)
	trace="$TESTDIR/strace"
	if command -v strace >/dev/null; then
		(
			_close_fds
			exec strace -f -qq -e trace=bpf -e signal=none -o "$trace" "$RUNTIME" --root "$ROOT" run --keep --bundle "$BUNDLE" "$b"
		) </dev/null >"$TESTDIR/b.out" 2>&1 || true
		# attach (or replace) first, then any detach
		awk '/BPF_PROG_ATTACH/ && !a { a = NR } /BPF_PROG_DETACH/ && !d { d = NR } END { exit !(a && (!d || a < d)) }' "$trace" || {
			grep -E 'ATTACH|DETACH' "$trace" >&2
			return 1
		}
	else
		runtime run --keep --bundle "$BUNDLE" "$b"
		echo "$output" >"$TESTDIR/b.out"
	fi
	assert_equal "$(cat "$TESTDIR/b.out")" "lc rw ok"
	new="$(device_programs "$dir_b")"
	[ "$(wc -l <<<"$new")" -eq 1 ] && [ -n "$new" ]
	new=${new%% *}
	[ "$new" != "$old" ]

	runtime delete --force "$a"
	assert_status 0
	runtime delete --force "$b"
	assert_status 0
	assert_nothing_left "$a"
	assert_nothing_left "$b"
	# released once the cgroups are gone (the kernel does it asynchronously)
	wait_until 10 eval "! program_exists $old && ! program_exists $new"
}

# --------------------------------------------------------------------------
# The default configs of `spec`, podman and containerd on pure v2
# --------------------------------------------------------------------------

# check_default_config FIXTURE: the fixture's linux section (device rules,
# devices, namespaces, masked paths) and process on our rootfs, with the
# host's /dev/kmsg and /dev/loop-control bound in: they do not open (outside
# the rules), /dev/null and /dev/zero do. Only the device program is
# attached to the container's cgroup; it goes with the container.
check_default_config() {
	local fixture=$1 id dir prog
	id=$(unique_id)
	if [ "$fixture" != spec ]; then
		# shellcheck disable=SC2016
		update_config '$f[0] as $f | .linux = ($f.linux | .resources = {devices: .resources.devices} | del(.cgroupsPath, .seccomp))
			| .process.capabilities = $f.process.capabilities | .process.rlimits = $f.process.rlimits
			| .mounts = [$f.mounts[] | select(.type != "bind")]' --slurpfile f "$FIXTURES/$fixture.json"
	fi
	update_config '.mounts += [{"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]},
		{"destination": "/dev/loop-control", "type": "bind", "source": "/dev/loop-control", "options": ["bind"]}]'
	set_args sh -c 'for d in kmsg loop-control; do if err=$( (: >/dev/$d) 2>&1); then echo "$d ok"; else echo "$d ${err##*: }"; fi; done
		echo x >/dev/null && echo null ok; head -c 1 /dev/zero >/dev/null && echo zero ok'
	create_container "$id"
	assert_status 0
	dir="$(cgroup_dir "$id" unified)"
	if command -v bpftool >/dev/null; then
		prog="$(device_programs "$dir")"
		[ "$(wc -l <<<"$prog")" -eq 1 ] && [ -n "$prog" ]
		prog=${prog%% *}
	fi
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	assert_equal "$(container_stdout "$id")" "kmsg Operation not permitted
loop-control Operation not permitted
null ok
zero ok"
	runtime delete "$id"
	assert_status 0
	assert_nothing_left "$id"
	[ -z "${prog:-}" ] || wait_until 10 eval "! program_exists $prog"
}

@test "v2: the default config of spec starts with its device rules enforced" {
	use_layout v2
	check_default_config spec
}

@test "v2: podman's default config starts with its device rules enforced" {
	use_layout v2
	check_default_config podman-default
}

@test "v2: containerd's default config starts with its device rules enforced" {
	use_layout v2
	check_default_config containerd-default
}

@test "v2: apus check does not report device rules as unsupported" {
	skip_unless_apus "check is apus's own command"
	use_layout v2
	runtime check --bundle "$BUNDLE"
	assert_status 0
	[[ "$output" != *"linux.resources.devices"* ]] || {
		echo "$output" >&2
		return 1
	}
}
