#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031
#
# Command-line behaviour compared to runc 1.1.5 (urfave/cli v1): version and
# help output, flag spellings, usage errors and their exit codes, --log /
# --log-format, `spec`, and `features` (shape, and that it tells the truth
# about what the runtime accepts).  Cross-runtime checks use the reference
# runc ($REFERENCE_RUNC, default /usr/sbin/runc) and skip without it.

load helpers

SUBCOMMANDS=(checkpoint create delete events exec kill list pause ps restore resume run spec start state update features)

teardown() {
	cleanup_ref_runc
	teardown_bundle
}

# features_json: `$RUNTIME features` (asserting it works).
features_json() {
	_rt_bare features
}

# --------------------------------------------------------------------------
# version and help
# --------------------------------------------------------------------------

@test "cli: --version and -v print name/version, commit, spec and libseccomp lines" {
	run --separate-stderr _rt_bare --version
	assert_status 0
	[ -z "$stderr" ]
	local long=$output
	run --separate-stderr _rt_bare -v
	assert_status 0
	assert_equal "$output" "$long"

	local name
	name="$(runtime_name)"
	assert_match "^$name version [0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*$" "$(sed -n 1p <<<"$output")"
	assert_match $'(^|\n)commit: [^[:space:]]+(\n|$)'
	assert_match $'(^|\n)spec: [0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*(\n|$)'
	assert_match $'(^|\n)libseccomp: [0-9]+\.[0-9]+\.[0-9]+(\n|$)'
	if [ "$name" = apus ]; then
		# exactly these four lines (runc adds "go: ...")
		assert_equal "$(wc -l <<<"$output")" 4
		assert_equal "$(cut -d: -f1 <<<"$output" | sed -n '2,$p' | tr '\n' ' ')" "commit spec libseccomp "
	fi

	# the spec version is the newest one `features` claims
	local spec max
	spec="$(sed -n 's/^spec: //p' <<<"$output")"
	max="$(features_json | jq -r .ociVersionMax)"
	assert_equal "$spec" "$max"
}

@test "cli: --version ignores the state root and a following command" {
	run _rt_bare --root "$TESTDIR/never" --version state nope
	assert_status 0
	assert_output_contains " version "
	[ ! -e "$TESTDIR/never" ]
}

@test "cli: --help, -h, help and h exit 0 and list every command" {
	local form cmd
	for form in --help -h help h; do
		run --separate-stderr _rt_bare $form
		assert_status 0
		[ -z "$stderr" ]
		assert_output_contains "USAGE:"
		assert_output_contains "COMMANDS:"
		assert_output_contains "GLOBAL OPTIONS:"
		for cmd in "${SUBCOMMANDS[@]}"; do
			assert_match $'\n   '"$cmd"'[ ,]'
		done
		assert_output_contains "--root value"
		assert_output_contains "--log-format value"
	done
	# no arguments at all: the same help, exit 0
	run --separate-stderr _rt_bare
	assert_status 0
	assert_output_contains "USAGE:"
}

@test "cli: -h / --help / help CMD on every subcommand exits 0 and prints its usage" {
	local cmd form name
	name="$(runtime_name)"
	for cmd in "${SUBCOMMANDS[@]}"; do
		for form in -h --help; do
			run --separate-stderr _rt "$cmd" $form
			if [ "$status" -ne 0 ] || [ -n "$stderr" ]; then
				echo "$cmd $form: exit $status, stderr: $stderr" >&2
				return 1
			fi
			assert_output_contains "NAME:"
			assert_output_contains "$name $cmd - "
			assert_output_contains "USAGE:"
		done
		run --separate-stderr _rt help "$cmd"
		assert_status 0
		assert_output_contains "$name $cmd - "
	done
	# nothing was created by asking for help
	assert_root_empty
}

@test "cli: -h before the container id does not act on the container" {
	local id
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	run _rt delete -h "$id"
	assert_status 0
	assert_output_contains "USAGE:"
	assert_equal "$(container_status "$id")" created
}

# --------------------------------------------------------------------------
# flag spellings
# --------------------------------------------------------------------------

@test "cli: global --root accepts --root V, --root=V, -root V, -root=V" {
	local id form
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	for form in "--root $ROOT" "--root=$ROOT" "-root $ROOT" "-root=$ROOT"; do
		# shellcheck disable=SC2086
		run --separate-stderr _rt_bare $form list -q
		assert_status 0
		assert_equal "$output" "$id"
		# shellcheck disable=SC2086
		run --separate-stderr _rt_bare $form state "$id"
		assert_status 0
		assert_equal "$(jq -r .status <<<"$output")" created
	done
}

@test "cli: --bundle / -b accept --bundle V, --bundle=V, -bundle V, -bundle=V, -b V, -b=V, --b V" {
	set_args sh -c 'echo bundle-ok'
	local form id
	for form in "--bundle $BUNDLE" "--bundle=$BUNDLE" "-bundle $BUNDLE" "-bundle=$BUNDLE" \
		"-b $BUNDLE" "-b=$BUNDLE" "--b $BUNDLE"; do
		id=$(unique_id)
		# run from elsewhere, so the default bundle (cwd) cannot be used by mistake
		# shellcheck disable=SC2086
		run in_dir / _rt run $form "$id"
		if [ "$status" -ne 0 ] || [[ "$output" != *bundle-ok* ]]; then
			echo "run $form: exit $status: $output" >&2
			return 1
		fi
	done
	assert_root_empty
}

@test "cli: boolean flags: -f, --force, -force, --force=true and --force=false" {
	local form
	for form in -f --force -force --force=true -f=true; do
		run _rt delete $form bats-nonexistent
		assert_status 0
		[ -z "$output" ]
	done
	run _rt delete --force=false bats-nonexistent
	assert_status 1
	assert_output_contains "container does not exist"
	run --separate-stderr _rt delete --force=maybe bats-nonexistent
	assert_status 1
	assert_stderr_msg 'invalid boolean value "maybe" for -force'
}

@test "cli: a known flag after the container id is still a flag (urfave/cli reorders it)" {
	local id
	run _rt delete bats-nonexistent -f
	assert_status 0
	[ -z "$output" ]
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	run _rt delete "$id" --force
	assert_status 0
	assert_root_empty
}

@test "cli: an unknown flag after the container id is an argument, not a flag error" {
	# runc (urfave/cli v1 reorderArgs) only moves *defined* flags in front of
	# the arguments: `state ID --bogus` is "requires exactly 1 argument(s)"
	# and `kill ID -9` reaches the signal parser (docs/runc-behaviour.md §2).
	run --separate-stderr _rt state bats-nonexistent --bogus
	assert_status 1
	assert_stderr_msg '"state" requires exactly 1 argument(s)'
	local id
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	run --separate-stderr _rt kill "$id" -9
	assert_status 1
	assert_stderr_contains "unable to signal init: invalid argument"
	assert_equal "$(container_status "$id")" created
}

@test "cli: a value flag without its value -> 1, flag needs an argument" {
	run --separate-stderr _rt create --bundle
	assert_status 1
	assert_stderr_contains "flag needs an argument: -bundle"
	run --separate-stderr _rt_bare --root
	assert_status 1
	assert_stderr_contains "flag needs an argument: -root"
	assert_root_empty
}

# --------------------------------------------------------------------------
# usage errors
# --------------------------------------------------------------------------

@test "cli: unknown command flag -> 1, 'flag provided but not defined', usage on stdout" {
	local form cmd
	for cmd in state create run delete kill list spec features; do
		for form in --bogus -bogus --bogus=1; do
			run --separate-stderr _rt "$cmd" $form bats-x
			if [ "$status" -ne 1 ]; then
				echo "$cmd $form: exit $status" >&2
				return 1
			fi
			assert_stderr_contains "flag provided but not defined: -bogus"
			# stdout: "Incorrect Usage: <msg>", a blank line, the command's help
			assert_equal "$(sed -n 1p <<<"$output")" "Incorrect Usage: flag provided but not defined: -bogus"
			assert_equal "$(sed -n 2p <<<"$output")" ""
			assert_output_contains "USAGE:"
		done
	done
	assert_root_empty
}

@test "cli: unknown global flag -> 1, 'flag provided but not defined'" {
	run --separate-stderr _rt_bare --bogus list
	assert_status 1
	assert_stderr_contains "flag provided but not defined: -bogus"
	run --separate-stderr _rt_bare -bogus=x --root "$ROOT" list
	assert_status 1
	assert_stderr_contains "flag provided but not defined: -bogus"
}

@test "cli: unknown subcommand -> 3, No help topic, nothing on stdout" {
	run --separate-stderr _rt bogus
	assert_status 3
	assert_stderr_contains "No help topic for 'bogus'"
	[ -z "$output" ]
	run --separate-stderr _rt bogus bats-x --flag
	assert_status 3
}

@test "cli: wrong argument counts -> 1, runc's 'requires ... argument(s)' and usage on stdout" {
	local cmd
	for cmd in state start delete create run pause resume; do
		run --separate-stderr _rt "$cmd"
		assert_status 1
		assert_stderr_msg "\"$cmd\" requires exactly 1 argument(s)"
		assert_equal "$(sed -n 1p <<<"$output")" "Incorrect Usage."
		assert_output_contains "USAGE:"
	done
	run --separate-stderr _rt kill
	assert_status 1
	assert_stderr_msg '"kill" requires a minimum of 1 argument(s)'
	run --separate-stderr _rt kill a b c
	assert_status 1
	assert_stderr_msg '"kill" requires a maximum of 2 argument(s)'
	run --separate-stderr _rt state a b
	assert_status 1
	assert_stderr_msg '"state" requires exactly 1 argument(s)'
	for cmd in list spec features; do
		run --separate-stderr _rt "$cmd" extra
		assert_status 1
		assert_stderr_msg "\"$cmd\" requires exactly 0 argument(s)"
	done
	assert_root_empty
}

@test "cli: subcommands apus does not implement yet exit 1 with a clear message" {
	skip_unless_apus "runc implements these"
	local id cmd pending=()
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	# (the list shrinks as apus grows: an implemented command must instead
	# know that the container does not exist)
	for cmd in exec pause resume ps update events checkpoint restore; do
		if [ "$cmd" = exec ]; then
			run --separate-stderr _rt exec bats-nonexistent true
		else
			run --separate-stderr _rt "$cmd" bats-nonexistent
		fi
		if [[ "$stderr" == *"not implemented"* ]]; then
			assert_status 1
			assert_stderr_contains "$cmd is not implemented"
			[ -z "$output" ]
			pending+=("$cmd")
			continue
		fi
		# implemented: runc's exit code (exec: 255, "exec failed: ...") and message
		if [ "$cmd" = exec ]; then assert_status 255; else assert_status 1; fi
		[ "$cmd" = restore ] || assert_stderr_contains "container does not exist"
	done
	# a pending command fails the same way on a real container, untouched
	for cmd in "${pending[@]}"; do
		if [ "$cmd" = exec ]; then
			run --separate-stderr _rt exec "$id" true
		else
			run --separate-stderr _rt "$cmd" "$id"
		fi
		assert_status 1
		assert_stderr_contains "$cmd is not implemented"
	done
	assert_equal "$(container_status "$id")" created
	assert_equal "$(ls -A "$ROOT")" "$id"
}

# --------------------------------------------------------------------------
# --log / --log-format
# --------------------------------------------------------------------------

@test "cli: --log FILE --log-format json writes one JSON error line" {
	local log="$TESTDIR/log.json"
	run --separate-stderr _rt --log "$log" --log-format json state bats-nonexistent
	assert_status 1
	# the message still reaches stderr
	assert_stderr_contains "container does not exist"
	[ -f "$log" ]
	assert_equal "$(wc -l <"$log")" 1
	jq -e '.level == "error" and .msg == "container does not exist"
		and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
		and (keys == ["level", "msg", "time"])' "$log"
	# logrus key order, compact
	assert_match '^\{"level":"error","msg":"container does not exist","time":"[^"]+"\}$' "$(cat "$log")"

	# appended, never truncated
	run _rt --log "$log" --log-format=json start bats-nonexistent
	assert_status 1
	assert_equal "$(wc -l <"$log")" 2
	jq -se 'length == 2 and all(.level == "error")' "$log"
}

@test "cli: --log FILE --log-format text (and the default) writes a logrus text line" {
	local log="$TESTDIR/log.txt" fmt
	for fmt in text ""; do
		rm -f "$log"
		if [ -n "$fmt" ]; then
			run --separate-stderr _rt --log "$log" --log-format "$fmt" state bats-nonexistent
		else
			run --separate-stderr _rt --log "$log" state bats-nonexistent
		fi
		assert_status 1
		assert_stderr_contains "container does not exist"
		assert_equal "$(wc -l <"$log")" 1
		assert_match '^time="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z" level=error msg="container does not exist"$' "$(cat "$log")"
	done
}

@test "cli: --log quotes messages with quotes correctly (json and text)" {
	local id
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	run _rt --log "$TESTDIR/q.json" --log-format json kill "$id" BOGUS
	assert_status 1
	assert_equal "$(jq -r .msg "$TESTDIR/q.json")" 'unknown signal "BOGUS"'
	run _rt --log "$TESTDIR/q.txt" --log-format text kill "$id" BOGUS
	assert_status 1
	assert_match 'level=error msg="unknown signal \\"BOGUS\\""$' "$(cat "$TESTDIR/q.txt")"
}

@test "cli: --log-format bogus -> 1, invalid log-format" {
	run --separate-stderr _rt --log-format bogus list
	assert_status 1
	assert_stderr_contains "invalid log-format: bogus"
	[ -z "$output" ]
}

# --------------------------------------------------------------------------
# spec
# --------------------------------------------------------------------------

@test "cli: spec writes config.json in the cwd: tab-indented, no trailing newline, 0644" {
	local d="$TESTDIR/spec"
	mkdir "$d"
	umask 022
	run in_dir "$d" _rt spec
	assert_status 0
	[ -z "$output" ]
	local f="$d/config.json"
	[ -f "$f" ]
	assert_equal "$(stat -c %a "$f")" 644
	assert_equal "$(sed -n 1p "$f")" "{"
	assert_match $'^\t"ociVersion": "' "$(sed -n 2p "$f")"
	assert_match $'^\t\t"terminal": true,$' "$(grep -m1 '"terminal"' "$f")"
	assert_equal "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" "}"
	jq -e '.process.terminal == true and .process.args == ["sh"]
		and .root == {"path": "rootfs", "readonly": true}
		and ([.linux.namespaces[].type] | sort) == ["ipc", "mount", "network", "pid", "uts"]
		and (.linux.uidMappings == null)' "$f"
}

@test "cli: spec refuses to overwrite an existing config.json" {
	local d="$TESTDIR/spec"
	mkdir "$d"
	echo '{"keep": "me"}' >"$d/config.json"
	run --separate-stderr in_dir "$d" _rt spec
	assert_status 1
	assert_stderr_contains "config.json exists. Remove it first"
	assert_equal "$(cat "$d/config.json")" '{"keep": "me"}'
}

@test "cli: spec --rootless has a user namespace and uid/gid mappings for the caller" {
	local d="$TESTDIR/spec"
	mkdir "$d"
	run in_dir "$d" _rt spec --rootless
	assert_status 0
	jq -e --argjson u "$(id -u)" --argjson g "$(id -g)" '
		([.linux.namespaces[].type] | index("user")) != null
		and ([.linux.namespaces[].type] | index("network")) == null
		and .linux.uidMappings == [{"containerID": 0, "hostID": $u, "size": 1}]
		and .linux.gidMappings == [{"containerID": 0, "hostID": $g, "size": 1}]' "$d/config.json"
}

@test "cli: spec --bundle DIR / -b DIR / --bundle=DIR writes DIR/config.json only" {
	local form d
	for form in --bundle -b --bundle=; do
		d="$TESTDIR/spec-$RANDOM"
		mkdir "$d" "$d.cwd"
		if [[ "$form" == *= ]]; then
			run in_dir "$d.cwd" _rt spec "$form$d"
		else
			run in_dir "$d.cwd" _rt spec "$form" "$d"
		fi
		assert_status 0
		jq -e .process "$d/config.json" >/dev/null
		assert_equal "$(ls -A "$d.cwd")" ""
	done
	run _rt spec --bundle "$TESTDIR/does-not-exist"
	assert_status 1
	[ ! -e "$TESTDIR/does-not-exist" ]
}

@test "cli: spec output is runc's, byte for byte, except ociVersion and hostname" {
	require_reference_runc
	local mode
	for mode in "" --rootless; do
		mkdir -p "$TESTDIR/ours$mode" "$TESTDIR/runc$mode"
		run _rt spec --bundle "$TESTDIR/ours$mode" $mode
		assert_status 0
		run _ref_runc spec --bundle "$TESTDIR/runc$mode" $mode
		assert_status 0
		run diff <(sed -E '/^\t"(ociVersion|hostname)": /d' "$TESTDIR/ours$mode/config.json") \
			<(sed -E '/^\t"(ociVersion|hostname)": /d' "$TESTDIR/runc$mode/config.json")
		if [ "$status" -ne 0 ]; then
			echo "spec $mode differs from runc's:" >&2
			echo "$output" >&2
			return 1
		fi
	done
}

@test "cli: runc runs a bundle whose config.json comes from our spec" {
	require_reference_runc
	local id
	id=$(unique_id)
	rm -f "$BUNDLE/config.json"
	run in_dir "$BUNDLE" _rt spec
	assert_status 0
	update_config '.process.terminal = false
		| .process.args = ["sh", "-c", "echo spec-ok from $(hostname), pid $$"]'
	run _ref_runc run --bundle "$BUNDLE" "$id"
	assert_status 0
	local host
	host="$(jq -r .hostname "$BUNDLE/config.json")"
	assert_output_contains "spec-ok from $host, pid 1"
	[ -z "$(ls -A "$TESTDIR/runc-root")" ]
}

@test "cli: we run a bundle whose config.json comes from runc spec" {
	require_reference_runc
	local id
	id=$(unique_id)
	rm -f "$BUNDLE/config.json"
	run _ref_runc spec --bundle "$BUNDLE"
	assert_status 0
	update_config '.process.terminal = false
		| .process.args = ["sh", "-c", "echo spec-ok from $(hostname), pid $$"]'
	run _rt run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_output_contains "spec-ok from runc, pid 1"
	assert_root_empty
}

# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------

@test "cli: features prints valid JSON listing all 8 namespaces and all 6 hooks" {
	if is_runc_before_1_2; then
		skip "runc 1.1 has no time namespace"
	fi
	run --separate-stderr _rt features
	assert_status 0
	[ -z "$stderr" ]
	jq -e . <<<"$output" >/dev/null
	jq -e '(.linux.namespaces | sort) == (["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"])' <<<"$output"
	jq -e '(.hooks | sort) == (["createContainer", "createRuntime", "poststart", "poststop", "prestart", "startContainer"] | sort)' <<<"$output"
}

@test "cli: features has the runtime-spec features schema shape" {
	run --separate-stderr _rt features
	assert_status 0
	# features-schema.json / features-linux.json, checked by hand: required
	# keys, types, enums and patterns (no extra top-level keys).
	jq -e '
		def strs: type == "array" and all(.[]; type == "string");
		def bools($o): ($o | type) == "object" and ($o | to_entries | all(.value | type == "boolean"));
		def enabled($o): $o == null or (($o | type) == "object" and (($o.enabled // false) | type) == "boolean");
		def semver: type == "string" and test("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$");
		(keys - ["ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations",
			"potentiallyUnsafeConfigAnnotations"]) == []
		and (.ociVersionMin | semver) and (.ociVersionMax | semver)
		and (.ociVersionMin | startswith("1."))
		and ((.hooks // []) | strs)
		and ((.mountOptions // []) | strs)
		and ((.potentiallyUnsafeConfigAnnotations // []) | strs)
		and ((.annotations // {}) | type == "object" and all(.[]; type == "string"))
		and (.linux | type == "object")
		and ((.linux.namespaces // []) | strs and all(.[];
			IN("mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time")))
		and ((.linux.capabilities // []) | strs and all(.[]; test("^CAP_[A-Z_]+$")))
		and ((.linux.cgroup // {}) as $c | bools($c)
			and ($c | keys - ["v1", "v2", "systemd", "systemdUser", "rdma"]) == [])
		and enabled(.linux.seccomp) and enabled(.linux.apparmor) and enabled(.linux.selinux)
		and enabled(.linux.intelRdt) and enabled(.linux.netDevices)
		and enabled(.linux.mountExtensions.idmap)
		and ((.linux.seccomp.actions // []) | strs and all(.[]; startswith("SCMP_ACT_")))
		and ((.linux.seccomp.operators // []) | strs and all(.[]; startswith("SCMP_CMP_")))
		and ((.linux.seccomp.archs // []) | strs and all(.[]; startswith("SCMP_ARCH_")))
		and ((.linux.seccomp.knownFlags // []) | strs and all(.[]; startswith("SECCOMP_FILTER_FLAG_")))
		and ((.linux.seccomp.supportedFlags // []) | strs and all(.[]; startswith("SECCOMP_FILTER_FLAG_")))
		and ((.linux.memoryPolicy.modes // []) | strs and all(.[]; startswith("MPOL_")))
		and ((.linux.memoryPolicy.flags // []) | strs and all(.[]; startswith("MPOL_F_")))
	' <<<"$output"
}

@test "cli: features tells the truth about seccomp, AppArmor, SELinux and systemd cgroups" {
	local f
	f="$(features_json)"
	set_args echo config-ran
	cp "$BUNDLE/config.json" "$TESTDIR/base.json"

	local feature filter
	for feature in seccomp apparmor selinux; do
		case $feature in
		seccomp) filter='.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}' ;;
		apparmor) filter='.process.apparmorProfile = "apus-test-profile"' ;;
		selinux) filter='.process.selinuxLabel = "system_u:system_r:container_t:s0"' ;;
		esac
		cp "$TESTDIR/base.json" "$BUNDLE/config.json"
		update_config "$filter"
		run _rt run --bundle "$BUNDLE" "$(unique_id)"
		if [ "$(jq -r ".linux.$feature.enabled" <<<"$f")" = true ]; then
			# only seccomp can be exercised without host-specific profiles
			if [ "$feature" = seccomp ]; then
				assert_status 0
				assert_output_contains config-ran
			elif [ "$status" -ne 0 ]; then
				# "enabled" means compiled in (features.md): a host without the LSM is a clear refusal
				[[ "$output" != *config-ran* ]]
				assert_output_contains_i "$feature"
			fi
		else
			# claimed unsupported: refused up front, never silently ignored
			if [ "$status" -ne 1 ] || [[ "$output" == *config-ran* ]]; then
				echo "$feature: features says disabled, but run gave exit $status: $output" >&2
				return 1
			fi
			assert_output_contains_i "$feature"
		fi
		assert_root_empty
	done

	cp "$TESTDIR/base.json" "$BUNDLE/config.json"
	if [ "$(jq -r .linux.cgroup.systemd <<<"$f")" = false ]; then
		run _rt_bare --root "$ROOT" --systemd-cgroup run --bundle "$BUNDLE" "$(unique_id)"
		assert_status 1
		assert_output_contains "systemd"
		[[ "$output" != *config-ran* ]]
		assert_root_empty
	fi
}

@test "cli: every namespace features lists can be created" {
	local f nsjson names
	f="$(features_json)"
	nsjson="$(jq -c '[.linux.namespaces[] | {type: .}]' <<<"$f")"
	# ns type -> /proc/<pid>/ns link name
	names="$(jq -r '.linux.namespaces[] | {network: "net", mount: "mnt"}[.] // .' <<<"$f" | tr '\n' ' ')"
	# shellcheck disable=SC2016
	update_config '.linux.namespaces = $ns
		| if any(.linux.namespaces[]; .type == "user") then
			.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 4294967295}]
			| .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 4294967295}]
		  else . end
		| .process.args = ["sh", "-c", "for n in \($names); do echo \"$n $(readlink /proc/self/ns/$n)\"; done"]' \
		--argjson ns "$nsjson" --arg names "$names"
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	local n inside host
	for n in $names; do
		inside="$(awk -v n="$n" '$1 == n { print $2 }' <<<"$output")"
		host="$(readlink "/proc/$$/ns/$n")"
		if [ -z "$inside" ] || [ "$inside" = "$host" ]; then
			echo "namespace $n: container '$inside', host '$host'" >&2
			echo "$output" >&2
			return 1
		fi
	done
}

# Capability bit numbers (linux/capability.h).
CAP_BITS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL
	CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE
	CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE
	CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT
	CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE
	CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG
	CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE)

@test "cli: every capability features lists (and we hold) is applied" {
	local f ours want=0 caps=() cap i
	f="$(features_json)"
	ours=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
	for cap in $(jq -r '.linux.capabilities[]' <<<"$f"); do
		for i in "${!CAP_BITS[@]}"; do
			if [ "${CAP_BITS[$i]}" = "$cap" ] && (((ours >> i) & 1)); then
				caps+=("$cap")
				want=$((want | (1 << i)))
			fi
		done
	done
	[ "${#caps[@]}" -gt 10 ]
	update_config '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}
		| .process.args = ["sh", "-c", "grep -E \"^Cap(Bnd|Eff)\" /proc/self/status"]' \
		--argjson c "$(json_array "${caps[@]}")"
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$(awk '/^CapBnd:/ { print $2 }' <<<"$output")" "$(printf '%016x' "$want")"
	assert_equal "$(awk '/^CapEff:/ { print $2 }' <<<"$output")" "$(printf '%016x' "$want")"
}

# mount_options_config OPTION...: one mount per option on /m/<option>: a
# bind of $TESTDIR/src for bind/rbind, a tmpfs otherwise.
mount_options_config() {
	mkdir -p "$TESTDIR/src"
	update_config '.mounts += [$opts[] | if . == "bind" or . == "rbind"
			then {destination: ("/m/" + .), type: "bind", source: $src, options: [.]}
			else {destination: ("/m/" + .), type: "tmpfs", source: "tmpfs", options: [.]} end]
		| .process.args = ["cat", "/proc/self/mountinfo"]' \
		--argjson opts "$(json_array "$@")" --arg src "$TESTDIR/src"
}

PROPAGATION_OPTIONS=" private rprivate shared rshared slave rslave unbindable runbindable "

@test "cli: every mount flag option features lists is accepted and applied" {
	local opts=() o
	for o in $(features_json | jq -r '.mountOptions[]'); do
		# remount needs an existing mount; propagation has its own test
		[ "$o" = remount ] || [[ "$PROPAGATION_OPTIONS" == *" $o "* ]] && continue
		# runc 1.1 lists "defaults" but passes it to mount(2) as data (EINVAL)
		[ "$o" = defaults ] && runtime_is_runc && continue
		opts+=("$o")
	done
	[ "${#opts[@]}" -gt 5 ]
	mount_options_config "${opts[@]}"
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	for o in "${opts[@]}"; do
		grep -q " /m/$o " <<<"$output" || {
			echo "no mount on /m/$o:" >&2
			echo "$output" >&2
			return 1
		}
	done
	# a few whose effect is visible in the per-mount options (mountinfo field 6)
	for o in ro nosuid nodev noexec noatime; do
		[[ " ${opts[*]} " == *" $o "* ]] || continue
		assert_match "(^|,)$o(,|$)" "$(awk -v d="/m/$o" '$5 == d { print $6 }' <<<"$output")"
	done
}

@test "cli: every propagation option features lists works on a mount" {
	# runc applies each mount's propagation after mounting it, and it stays
	# (a "shared" mount shows "shared:N" in mountinfo).  apus at cc226d4 set it
	# through the fd of the mount point opened *before* the mount (the
	# directory underneath): mount(2) fails with EINVAL, so the "rbind",
	# "rprivate" mounts containerd/Docker generate cannot be used.  (A later
	# work-tree version fixed that but re-applies the root propagation,
	# rslave|MS_REC by default, recursively after the spec mounts: "shared"
	# ends up private, and with rootfsPropagation "rshared" a "private"
	# mount ends up shared.)
	local opts=() o
	for o in $(features_json | jq -r '.mountOptions[]'); do
		[[ "$PROPAGATION_OPTIONS" == *" $o "* ]] && opts+=("$o")
	done
	[ "${#opts[@]}" -gt 0 ] || skip "no propagation options listed"
	mount_options_config "${opts[@]}"
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	for o in "${opts[@]}"; do
		grep -q " /m/$o " <<<"$output"
	done
	# shared mounts carry a "shared:N" tag in the optional fields
	assert_match '(^| )shared:[0-9]+' "$(awk '$5 == "/m/shared"' <<<"$output")"
}
