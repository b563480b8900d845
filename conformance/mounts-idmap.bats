#!/usr/bin/env bats
# Id-mapped mounts (idmap, ridmap, a mount's own uidMappings/gidMappings):
# the owner of host files as the container sees them and the owner on the
# host of files the container creates, with the container's user namespace
# mapping and with the mount's own; bind sources only the host can reach in
# a user-namespaced container; `features`.
#
# runc 1.1 accepts idmap, ridmap and mount mappings and ignores them (the
# mount is made without a mapping): those tests skip there.

load helpers
load mounts-helpers

# id_source: $TESTDIR/idsrc, world-writable, with "by-root" (0:0) and
# "by-1000" (1000:1000), and a tmpfs submount "sub" holding "by-5" (5:5).
id_source() {
	mkdir -p "$TESTDIR/idsrc/sub"
	chmod 777 "$TESTDIR/idsrc"
	echo r >"$TESTDIR/idsrc/by-root"
	echo u >"$TESTDIR/idsrc/by-1000"
	chown 1000:1000 "$TESTDIR/idsrc/by-1000"
	host_mount -t tmpfs -o mode=777 mt-ids "$TESTDIR/idsrc/sub"
	echo s >"$TESTDIR/idsrc/sub/by-5"
	chown 5:5 "$TESTDIR/idsrc/sub/by-5"
}

# userns_config HOST-ID: a user namespace mapping 0..65535 to HOST-ID..,
# the rootfs owned by its root.
userns_config() {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: $h, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $h, size: 65536}]' --argjson h "$1"
	chown -R "$1:$1" "$ROOTFS"
}

# owners DIR...: "name uid:gid" of each entry, for the container.
OWNERS='for d in "$@"; do for f in "$d"/*; do echo "$f $(stat -c %u:%g "$f")"; done; done'

@test "idmap with the container's user namespace: host owners show through, files made inside belong to the mapped ids" {
	is_runc_before_1_2 && skip "runc 1.1 ignores idmap"
	id_source
	userns_config 100000
	mt_bind /mapped "$TESTDIR/idsrc" rbind idmap
	mt_bind /plain "$TESTDIR/idsrc" rbind
	set_args sh -c "$OWNERS"'; touch /mapped/made-inside && echo made; grep -E " /(mapped|plain)( |/)" /proc/self/mountinfo' sh /mapped /plain
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	# inside, the mapped mount shows the host's owners; the plain one nobody
	assert_output_contains "/mapped/by-root 0:0"
	assert_output_contains "/mapped/by-1000 1000:1000"
	assert_output_contains "/plain/by-root 65534:65534"
	assert_output_contains "/plain/by-1000 65534:65534"
	assert_output_contains made
	# the container's root (host uid 100000) wrote as uid 0 through the mapping
	assert_equal "$(stat -c %u:%g "$TESTDIR/idsrc/made-inside")" 0:0
	assert_opts /mapped idmapped
	assert_opts /plain '!idmapped'
	# idmap maps the top only: the submount is not id-mapped
	assert_opts /mapped/sub '!idmapped'
}

@test "ridmap maps the submounts too" {
	is_runc_before_1_2 && skip "runc 1.1 ignores ridmap"
	id_source
	userns_config 100000
	mt_bind /mapped "$TESTDIR/idsrc" rbind ridmap
	set_args sh -c "$OWNERS"'; touch /mapped/sub/made-inside && echo made; grep " /mapped" /proc/self/mountinfo' sh /mapped/sub
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/mapped/sub/by-5 5:5"
	assert_output_contains made
	assert_equal "$(stat -c %u:%g "$TESTDIR/idsrc/sub/made-inside")" 0:0
	assert_opts /mapped idmapped
	assert_opts /mapped/sub idmapped
}

@test "a mount's own uidMappings/gidMappings, in a user-namespaced container" {
	is_runc_before_1_2 && skip "runc 1.1 ignores mount id mappings"
	id_source
	userns_config 100000
	# source ids 0..999 appear as host 101000.., which the container sees as 1000..
	update_config '.mounts += [{destination: "/own", type: "bind", source: $s, options: ["rbind"],
		uidMappings: [{containerID: 0, hostID: 101000, size: 1000}],
		gidMappings: [{containerID: 0, hostID: 101000, size: 1000}]}]
		| .process.user = {uid: 1005, gid: 1005}' --arg s "$TESTDIR/idsrc"
	set_args sh -c "$OWNERS"'; touch /own/made-inside && echo made' sh /own
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/own/by-root 1000:1000"
	# 1000 is outside the mount's mapping: it shows as nobody
	assert_output_contains "/own/by-1000 65534:65534"
	assert_output_contains made
	# container uid 1005 = host 101005 = source uid 5
	assert_equal "$(stat -c %u:%g "$TESTDIR/idsrc/made-inside")" 5:5
}

@test "a mount's own mappings without a container user namespace" {
	is_runc_before_1_2 && skip "runc 1.1 ignores mount id mappings"
	id_source
	update_config '.mounts += [{destination: "/own", type: "bind", source: $s, options: ["rbind", "idmap"],
		uidMappings: [{containerID: 0, hostID: 2000, size: 2000}],
		gidMappings: [{containerID: 0, hostID: 2000, size: 2000}]}]
		| .process.user = {uid: 2007, gid: 2007}' --arg s "$TESTDIR/idsrc"
	set_args sh -c "$OWNERS"'; touch /own/made-inside && echo made' sh /own
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/own/by-root 2000:2000"
	assert_output_contains "/own/by-1000 3000:3000"
	assert_output_contains made
	assert_equal "$(stat -c %u:%g "$TESTDIR/idsrc/made-inside")" 7:7
}

@test "idmap in a container that joins a user namespace by path uses that namespace's mapping" {
	is_runc_before_1_2 && skip "runc 1.1 ignores idmap"
	id_source
	# the user namespace (0 -> 200000) of a first container
	userns_config 200000
	local holder
	holder=$(unique_id)
	create_container "$holder"
	assert_status 0
	# (no mappings in the config: they come with the namespace joined)
	update_config '.linux.namespaces |= map(if .type == "user" then . + {path: $p} else . end)
		| del(.linux.uidMappings, .linux.gidMappings)' --arg p "/proc/$(container_pid "$holder")/ns/user"
	mt_bind /mapped "$TESTDIR/idsrc" rbind idmap
	set_args sh -c "$OWNERS"'; touch /mapped/made-inside && echo made' sh /mapped
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "/mapped/by-1000 1000:1000"
	assert_output_contains made
	assert_equal "$(stat -c %u:%g "$TESTDIR/idsrc/made-inside")" 0:0
}

@test "user namespace: a bind source the container's root cannot reach is opened on the host side" {
	mkdir -p "$TESTDIR/private/data"
	chmod 700 "$TESTDIR/private"
	chmod 755 "$TESTDIR/private/data"
	echo reachable >"$TESTDIR/private/data/file"
	userns_config 100000
	mt_bind /data "$TESTDIR/private/data" rbind ro
	set_args sh -c 'cat /data/file; touch /data/x 2>/dev/null || echo read-only'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" $'reachable\nread-only'
}

@test "features: linux.mountExtensions.idmap is enabled, and idmap/ridmap are not flag options" {
	is_runc_before_1_2 && skip "runc 1.1 has no mountExtensions"
	run --separate-stderr _rt features
	assert_status 0
	jq -e '.linux.mountExtensions.idmap.enabled == true' <<<"$output"
	jq -e '[.mountOptions[] | select(. == "idmap" or . == "ridmap")] == []' <<<"$output"
	jq -e '.mountOptions as $o | ["rro", "rnoexec", "rnosymfollow", "nosymfollow", "tmpcopyup"] | all(. as $x | $o | index($x))' <<<"$output"
}
