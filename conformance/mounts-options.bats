#!/usr/bin/env bats
# Mount options, each checked by its effect inside the container (a write
# that must fail, a script that must not run, a device that must not open,
# a symlink that must not be followed) and in /proc/self/mountinfo: the
# plain forms on the mount itself, the recursive forms (rro, rnoexec, ...)
# on a source tree with a submount, atime modes, nosymfollow, remount,
# unknown options refused with their JSON path, filesystem data options, a
# read-only /dev, and relative destinations.

load helpers
load mounts-helpers

# ------------------------------------------------------------------ plain options

@test "bind options ro, noexec, nodev, nosymfollow, nosuid: on the mount itself, not its submounts" {
	mt_tree
	local o
	for o in ro noexec nodev nosymfollow nosuid; do
		mt_bind "/p/$o" "$TESTDIR/tree" rbind "$o"
	done
	mt_run_probes /p/ro /p/ro/sub /p/noexec /p/noexec/sub /p/nodev /p/nodev/sub /p/nosymfollow /p/nosymfollow/sub
	assert_status 0
	assert_equal "$(probe_of /p/ro)" "exec dev follow"
	assert_equal "$(probe_of /p/noexec)" "write dev follow"
	assert_equal "$(probe_of /p/nodev)" "write exec follow"
	assert_equal "$(probe_of /p/nosymfollow)" "write exec dev"
	for o in ro noexec nodev nosymfollow; do
		assert_equal "$(probe_of "/p/$o/sub")" "write exec dev follow"
		assert_opts "/p/$o" "$o"
		assert_opts "/p/$o/sub" "!$o"
	done
	assert_opts /p/nosuid nosuid
	assert_opts /p/nosuid/sub '!nosuid'
}

@test "a bind keeps the source mount's flags it is not told to change" {
	# apus sets and clears exactly what the options name (mount_setattr);
	# runc 1.1 remounts with the given flags only, dropping nosuid/nodev
	skip_unless_apus "runc 1.1 clears the flags the options do not name"
	mkdir -p "$TESTDIR/src"
	mt_fill "$TESTDIR/src"
	host_mount --bind "$TESTDIR/src" "$TESTDIR/src"
	mount -o remount,bind,nosuid,nodev "$TESTDIR/src"
	mt_bind /k "$TESTDIR/src" bind ro
	mt_run_probes /k
	assert_status 0
	assert_opts /k ro nosuid nodev
	assert_equal "$(probe_of /k)" "exec follow"
}

# ------------------------------------------------------------------ recursive options

@test "recursive options rro, rnoexec, rnodev, rnosymfollow, rnosuid reach the submounts" {
	mt_tree
	local o
	for o in rro rnoexec rnodev rnosymfollow rnosuid; do
		mt_bind "/r/$o" "$TESTDIR/tree" rbind "$o"
	done
	mt_run_probes /r/rro /r/rro/sub /r/rnoexec /r/rnoexec/sub /r/rnodev /r/rnodev/sub /r/rnosymfollow /r/rnosymfollow/sub
	assert_status 0
	for d in /r/rro /r/rro/sub; do assert_equal "$(probe_of $d)" "exec dev follow"; done
	for d in /r/rnoexec /r/rnoexec/sub; do assert_equal "$(probe_of $d)" "write dev follow"; done
	for d in /r/rnodev /r/rnodev/sub; do assert_equal "$(probe_of $d)" "write exec follow"; done
	for d in /r/rnosymfollow /r/rnosymfollow/sub; do assert_equal "$(probe_of $d)" "write exec dev"; done
	for o in ro noexec nodev nosymfollow nosuid; do
		assert_opts "/r/r$o" "$o"
		assert_opts "/r/r$o/sub" "$o"
	done
	# the host's tree is untouched
	output=$(cat /proc/self/mountinfo)
	assert_opts "$TESTDIR/tree/sub" rw '!noexec' '!nodev'
}

@test "recursive options rrw, rexec, rdev, rsuid clear the flags of the submounts" {
	mt_tree ro,noexec,nodev,nosuid
	mt_bind /c "$TESTDIR/tree" rbind rrw rexec rdev rsuid
	mt_run_probes /c/sub
	assert_status 0
	assert_equal "$(probe_of /c/sub)" "write exec dev follow"
	assert_opts /c/sub rw '!noexec' '!nodev' '!nosuid'
	output=$(cat /proc/self/mountinfo)
	assert_opts "$TESTDIR/tree/sub" ro noexec nodev nosuid
}

@test "atime: noatime on the mount, rnoatime / rstrictatime / rnodiratime / rrelatime on the submounts too" {
	mt_tree noatime
	mt_bind /a/noatime "$TESTDIR/tree" rbind noatime
	mt_bind /a/rnoatime "$TESTDIR/tree" rbind rnoatime
	mt_bind /a/rstrictatime "$TESTDIR/tree" rbind rstrictatime
	mt_bind /a/rnodiratime "$TESTDIR/tree" rbind rnodiratime
	mt_bind /a/rrelatime "$TESTDIR/tree" rbind rrelatime
	mt_run_probes
	assert_status 0
	assert_opts /a/noatime noatime '!relatime'
	assert_opts /a/rnoatime/sub noatime '!relatime'
	# strictatime is the absence of both (mountinfo has no word for it)
	assert_opts /a/rstrictatime/sub '!noatime' '!relatime'
	assert_opts /a/rnodiratime nodiratime
	assert_opts /a/rnodiratime/sub nodiratime
	assert_opts /a/rrelatime/sub relatime '!noatime'
}

@test "atime: norelatime and nostrictatime name the mode they leave (strictatime, relatime)" {
	skip_unless_apus "runc passes norelatime to mount(2), which keeps its default, relatime"
	mt_tree
	mt_bind /n/norelatime "$TESTDIR/tree" bind norelatime
	mt_bind /n/nostrictatime "$TESTDIR/tree" bind strictatime nostrictatime
	local add='{"destination": "/n/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["norelatime"]}'
	update_config ".mounts += [$add]"
	mt_run_probes
	assert_status 0
	assert_opts /n/norelatime '!relatime' '!noatime'
	assert_opts /n/nostrictatime relatime
	assert_opts /n/tmp '!relatime' '!noatime'
}

@test "a tmpfs: nosymfollow, noexec and rro hold for a new filesystem too" {
	skip_unless_apus "runc applies the recursive forms to bind mounts only (rro on a tmpfs is ignored)"
	update_config '.mounts += [{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosymfollow", "noexec", "rro"]}]'
	set_args sh -c 'grep " /t " /proc/self/mountinfo; touch /t/x 2>/dev/null || echo no-write'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_opts /t ro noexec nosymfollow
	assert_output_contains no-write
}

# ------------------------------------------------------------------ remount

@test "remount: options change the mount already at the destination" {
	update_config '.mounts += [
		{"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["remount", "ro", "size=2m"]}]'
	set_args sh -c 'cat /proc/self/mountinfo; touch /m/x 2>/dev/null || echo no-write'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$(grep -c ' /m ' <<<"$output")" 1
	assert_opts /m ro
	has_opt "$(mi_super /m)" size=2048k
	assert_output_contains no-write
}

# ------------------------------------------------------------------ options that would be ignored

@test "an unknown option on a bind mount is refused with its JSON path (it used to fall through to ignored data)" {
	is_runc_before_1_2 && skip "runc 1.1 passes it to mount(2) as data, which a bind mount ignores"
	mkdir -p "$TESTDIR/src"
	mt_bind /b "$TESTDIR/src" rbind rro bogus-opt=1
	local n
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	id=$(unique_id)
	create_container "$id"
	assert_status 1
	assert_output_contains "bogus-opt=1"
	if runtime_is_apus; then assert_output_contains "mounts[$n].options[2]"; fi
	assert_root_empty
	[ -z "$(procs_in_rootfs)" ]
}

@test "a filesystem flag on a bind mount (sync) and flags the kernel dropped (mand, iversion) are refused" {
	skip_unless_apus "runc accepts them and the kernel ignores them"
	mkdir -p "$TESTDIR/src"
	set_args true
	cp "$BUNDLE/config.json" "$TESTDIR/base.json"
	local case opts want
	for case in 'bind,sync|options[1]' 'bind,ro,lazytime|options[2]' 'rbind,mand|options[1]' 'rbind,iversion|options[1]'; do
		opts=${case%|*}
		want=${case#*|}
		cp "$TESTDIR/base.json" "$BUNDLE/config.json"
		# shellcheck disable=SC2086
		mt_bind /b "$TESTDIR/src" ${opts//,/ }
		run _rt run --bundle "$BUNDLE" "$(unique_id)"
		assert_status 1
		assert_output_contains "mounts[$(jq '.mounts | length - 1' "$BUNDLE/config.json")].$want"
		assert_root_empty
	done
}

@test "filesystem options stay data for a tmpfs (size, mode, uid); an unknown one fails with the filesystem's message" {
	update_config '.mounts += [{"destination": "/d", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=711", "uid=5", "nodev"]}]'
	set_args sh -c 'stat -c "%a %u" /d; cat /proc/self/mountinfo'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$(sed -n 1p <<<"$output")" "711 5"
	has_opt "$(mi_super /d)" size=2048k
	assert_opts /d nodev

	update_config '.mounts[-1].options = ["size=2m", "bogus-data=1"]'
	set_args true
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "bogus-data"
	assert_root_empty
}

@test "idmap on a mount that is not a bind mount is refused with its JSON path" {
	is_runc_before_1_2 && skip "runc 1.1 ignores idmap"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts += [{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["nodev", "idmap"]}]'
	set_args true
	run _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	if runtime_is_apus; then
		assert_output_contains "mounts[$(jq '.mounts | length - 1' "$BUNDLE/config.json")].options[1]: id-mapped mounts must be bind mounts"
	fi
	assert_root_empty
}

# ------------------------------------------------------------------ read-only /dev and tmpfs

@test "a read-only /dev: devices, /dev/pts, /dev/shm are made first, then /dev is read-only" {
	update_config '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	mkdir -p "$ROOTFS/data"
	echo copied >"$ROOTFS/data/file"
	update_config '.mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "tmpcopyup"]}]'
	set_args sh -c 'cat /proc/self/mountinfo; echo x >/dev/null && echo null-ok; touch /dev/new 2>/dev/null || echo dev-ro; cat /data/file; touch /data/x 2>/dev/null || echo data-ro; ls /dev/pts/ptmx'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_opts /dev ro
	assert_opts /dev/pts rw
	assert_opts /dev/shm rw
	assert_opts /data ro
	assert_output_contains null-ok
	assert_output_contains dev-ro
	assert_output_contains copied
	assert_output_contains data-ro
}

@test "tmpcopyup with mode=: a new mount point gets the mode asked for, not the 0755 the runtime made it with" {
	# (podman run --read-only --tmpfs /scratch:size=4m,mode=1777)
	update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
		"options": ["rw", "nosuid", "nodev", "tmpcopyup", "size=4m", "mode=1777"]},
		{"destination": "/plain", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}]'
	set_args sh -c 'stat -c "%n %a" /scratch /plain'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/scratch 1777"
	# no mode=: tmpfs's own default, as runc
	assert_output_contains "/plain 1777"
}

@test "tmpcopyup over a directory of the rootfs: its mode and owner unless the mount sets mode=/uid=" {
	skip_unless_apus "runc 1.1.5 gives the directory's mode even when the mount sets mode="
	mkdir -p "$ROOTFS/keep" "$ROOTFS/set"
	echo kept >"$ROOTFS/keep/file"
	chmod 0705 "$ROOTFS/keep" "$ROOTFS/set"
	chown 1000:1000 "$ROOTFS/keep" "$ROOTFS/set"
	update_config '.mounts += [{"destination": "/keep", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]},
		{"destination": "/set", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "mode=1777", "uid=0"]}]'
	set_args sh -c 'stat -c "%n %a %u:%g" /keep /set; cat /keep/file'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/keep 705 1000:1000"
	assert_output_contains "/set 1777 0:0"
	assert_output_contains kept
}

@test "a read-only /dev with a terminal: /dev/console is made before /dev turns read-only" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	update_config '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]
		| .process.terminal = true
		| .process.args = ["sh", "-c", "[ -c /dev/console ] && echo console-ok; touch /dev/new 2>/dev/null || echo dev-ro"]'
	id=$(unique_id)
	run script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE $id" /dev/null
	assert_status 0
	assert_output_contains console-ok
	assert_output_contains dev-ro
}

# ------------------------------------------------------------------ relative destinations

@test "a relative destination: a warning, and the mount lands inside the rootfs (as runc)" {
	mkdir -p "$ROOTFS/inside"
	ln -s /inside "$ROOTFS/rel-link"
	update_config '.mounts += [
		{"destination": "mnt/rel", "type": "tmpfs", "source": "tmpfs"},
		{"destination": "rel-link/sub", "type": "tmpfs", "source": "tmpfs"}]'
	set_args cat /proc/self/mountinfo
	run --separate-stderr _rt run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	[ -n "$(mi_opts /mnt/rel)" ]
	[ -n "$(mi_opts /inside/sub)" ]
	[ -d "$ROOTFS/mnt/rel" ]
	[ -d "$ROOTFS/inside/sub" ]
	assert_stderr_contains "level=warning"
	assert_stderr_contains "mnt/rel"
	assert_stderr_contains "rel-link/sub"
}
