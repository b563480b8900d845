# shellcheck shell=bash
#
# Shared by conformance/mounts-*.bats: a source tree with a submount (to
# see the recursive options work), probes run inside the container, and
# mountinfo parsing. Host mounts go through host_mount (helpers.bash).

teardown() {
	undo_host_mounts
	teardown_bundle
}

# mt_fill DIR: what the probes look for: a file, an executable script, a
# symlink to the file and a null device node.
mt_fill() {
	echo content >"$1/f"
	printf '#!/bin/sh\necho ran\n' >"$1/run.sh"
	chmod 755 "$1/run.sh"
	ln -s f "$1/link"
	mknod -m 666 "$1/null" c 1 3
}

# mt_tree [MOUNT-OPTIONS]: $TESTDIR/tree filled, with a tmpfs submount at
# $TESTDIR/tree/sub (filled too, then given the mount flags MOUNT-OPTIONS if any).
mt_tree() {
	mkdir -p "$TESTDIR/tree/sub"
	mt_fill "$TESTDIR/tree"
	host_mount -t tmpfs mt-sub "$TESTDIR/tree/sub"
	mt_fill "$TESTDIR/tree/sub"
	if [ -n "${1:-}" ]; then
		mount -o "remount,bind,$1" "$TESTDIR/tree/sub"
	fi
}

# mt_bind DEST SOURCE OPTION...: a bind mount added to config.json.
mt_bind() {
	local dest=$1 src=$2
	shift 2
	update_config '.mounts += [{destination: $d, type: "bind", source: $s, options: $o}]' \
		--arg d "$dest" --arg s "$src" --argjson o "$(json_array "$@")"
}

# MT_PROBE: shell functions for the container. `probe DIR` prints one word
# per thing that worked in DIR: write (a new file), exec (a script), dev (a
# device node opened), follow (a symlink followed).
# shellcheck disable=SC2016
MT_PROBE='probe() {
	r=""
	touch "$1/new-$$" 2>/dev/null && r="$r write"
	[ "$("$1/run.sh" 2>/dev/null)" = ran ] && r="$r exec"
	{ echo x >"$1/null"; } 2>/dev/null && r="$r dev"
	[ "$(cat "$1/link" 2>/dev/null)" = content ] && r="$r follow"
	echo "$1:$r"
}'

# mt_run_probes DIR...: run the container (foreground) probing each DIR
# and printing its mountinfo after the probes.
mt_run_probes() {
	local script="$MT_PROBE"$'\n'
	local d
	for d in "$@"; do script+="probe $d"$'\n'; done
	script+='cat /proc/self/mountinfo'
	set_args sh -c "$script"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
}

# probe_of DIR: what probe printed for DIR (from $output).
probe_of() {
	awk -v d="$1:" 'index($0, d) == 1 { sub(/^[^:]*: ?/, ""); print; exit }' <<<"$output"
}

# mi_opts MOUNTPOINT: the per-mount options of MOUNTPOINT in the mountinfo
# text in $output; mi_super MOUNTPOINT: its superblock options.
mi_opts() {
	awk -v mp="$1" '$5 == mp { print $6; exit }' <<<"$output"
}
mi_super() {
	awk -v mp="$1" '$5 == mp { for (i = 7; $i != "-"; i++) ; print $(i + 3); exit }' <<<"$output"
}

# has_opt LIST OPT: comma separated LIST contains OPT.
has_opt() {
	[[ ",$1," == *",$2,"* ]]
}

# assert_opts MOUNTPOINT OPT...: each OPT (or !OPT: not) in its per-mount options.
assert_opts() {
	local mp=$1 o opts
	shift
	opts=$(mi_opts "$mp")
	[ -n "$opts" ] || {
		echo "no mount at $mp; output:" >&2
		echo "$output" >&2
		return 1
	}
	for o in "$@"; do
		if [[ "$o" == '!'* ]]; then
			! has_opt "$opts" "${o#!}" || {
				echo "$mp: '${o#!}' in its options: $opts" >&2
				return 1
			}
		else
			has_opt "$opts" "$o" || {
				echo "$mp: no '$o' in its options: $opts" >&2
				return 1
			}
		fi
	done
}
