# shellcheck shell=bash
#
# Shared by check.bats and inspect.bats: judging a config by the risks
# `apus check` or `apus inspect` report for it.

# risk_ids: the ids of the risks in $output (check or inspect JSON), one a line.
risk_ids() {
	jq -r '.risks[].id' <<<"$output"
}

# assert_rule_with JUDGE ID TRIGGER-FILTER QUIET-FILTER: the config changed
# by TRIGGER-FILTER shows risk ID, the one changed by QUIET-FILTER does not.
# JUDGE is a function that leaves the JSON report of $BUNDLE in $output.
# The config is restored afterwards.
assert_rule_with() {
	local judge=$1 id=$2 filter want
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	for filter in "$3" "$4"; do
		want=$([ "$filter" = "$3" ] && echo yes || echo no)
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
		update_config "$filter"
		"$judge" || return 1
		if [ "$want" = yes ] && ! risk_ids | grep -qx -- "$id"; then
			echo "risk $id not found after: $filter" >&2
			echo "$output" >&2
			return 1
		fi
		if [ "$want" = no ] && risk_ids | grep -qx -- "$id"; then
			echo "risk $id found after: $filter" >&2
			echo "$output" >&2
			return 1
		fi
	done
	cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
}

# cap_names MASK: the capability names of a hex mask (as in /proc/PID/status), comma-separated.
cap_names() {
	local names mask bit out=""
	names=($("$RUNTIME" features </dev/null | jq -r '.linux.capabilities[]'))
	mask=$((16#$1))
	for ((bit = 0; bit < ${#names[@]}; bit++)); do
		((mask >> bit & 1)) && out+="${out:+,}${names[$bit]}"
	done
	echo "$out"
}

# rule_case ID: sets TRIGGER and QUIET, the jq filters of the rule tests of
# both suites: TRIGGER makes the test config show risk ID, QUIET is a close
# config that does not. (The test config is `apus spec`'s with a writable
# root, so the rules that config sets off have '.' as their TRIGGER.)
rule_case() {
	local data="$TESTDIR/data" all
	local seccomp='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}'
	local userns='.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	QUIET='.'
	case $1 in
	privileged)
		# every capability this host can grant (the test shell's bounding set)
		all=$(cap_names "$(awk '/^CapBnd:/ { print $2 }' /proc/$$/status)" | jq -Rc 'split(",")')
		TRIGGER=".process.capabilities = {\"bounding\": $all, \"effective\": $all, \"permitted\": $all}"
		QUIET=".process.capabilities = {\"bounding\": $all | .[1:], \"effective\": $all | .[1:], \"permitted\": $all | .[1:]}" ;;
	cap-sys-admin)
		# in the bounding set it counts only while no_new_privs is off
		TRIGGER='.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.noNewPrivileges = false'
		QUIET='.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.noNewPrivileges = true' ;;
	cap-sys-module) TRIGGER='.process.capabilities[] += ["CAP_SYS_MODULE"]' ;;
	cap-sys-ptrace) TRIGGER='.process.capabilities[] += ["CAP_SYS_PTRACE"]' ;;
	cap-net-admin) TRIGGER='.process.capabilities[] += ["CAP_NET_ADMIN"]' ;;
	cap-dac-read-search) TRIGGER='.process.capabilities[] += ["CAP_DAC_READ_SEARCH"]' ;;
	host-namespace-pid) TRIGGER='.linux.namespaces |= map(select(.type != "pid"))' ;;
	host-namespace-net) TRIGGER='.linux.namespaces |= map(select(.type != "network"))' ;;
	host-namespace-ipc) TRIGGER='.linux.namespaces |= map(select(.type != "ipc"))' ;;
	host-namespace-uts) TRIGGER='.linux.namespaces |= map(select(.type != "uts")) | del(.hostname)' ;;
	host-namespace-mnt)
		# without a mount namespace there can be no mounts, masks or read-only paths
		TRIGGER='.linux.namespaces |= map(select(.type != "mount")) | .mounts = [] | .linux.maskedPaths = [] | .linux.readonlyPaths = []' ;;
	host-namespace-cgroup) TRIGGER='.' QUIET='.linux.namespaces += [{"type": "cgroup"}]' ;;
	no-user-namespace) TRIGGER='.' QUIET=$userns ;;
	new-privileges-allowed) TRIGGER='.process.noNewPrivileges = false' ;;
	no-seccomp) TRIGGER='.' QUIET=".linux.seccomp = $seccomp" ;;
	no-memory-limit) TRIGGER='.' QUIET='.linux.resources.memory = {"limit": 67108864}' ;;
	no-pids-limit) TRIGGER='.' QUIET='.linux.resources.pids = {"limit": 100}' ;;
	writable-host-mount)
		mkdir -p "$data"
		TRIGGER=".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$data\", \"options\": [\"rbind\"]}]"
		QUIET=".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$data\", \"options\": [\"rbind\", \"ro\"]}]" ;;
	proc-sys-writable) TRIGGER='.linux.readonlyPaths -= ["/proc/sys"]' ;;
	sysfs-writable) TRIGGER='.mounts |= map(if .type == "sysfs" then .options -= ["ro"] else . end)' ;;
	unmasked-proc) TRIGGER='.linux.maskedPaths = []' ;;
	host-device)
		TRIGGER='.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
		QUIET='.linux.devices = [{"path": "/dev/zero", "type": "c", "major": 1, "minor": 5}]' ;;
	readonly-rootfs-off) TRIGGER='.root.readonly = false' QUIET='.root.readonly = true' ;;
	*)
		echo "rule_case: no case for rule $1" >&2
		return 1 ;;
	esac
}

# standard_masks_exist: some path of the default maskedPaths exists on this
# host (else unmasked-proc has nothing to find).
standard_masks_exist() {
	local p
	for p in $(jq -r '.linux.maskedPaths[]' "$BUNDLE/config.json"); do [ -e "$p" ] && return 0; done
	return 1
}
