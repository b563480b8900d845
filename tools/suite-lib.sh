# tools/suite-lib.sh -- shared by tools/suite-runtime-tools.sh and
# tools/suite-runc-integration.sh (sourced, not run).
#
# What both suites need: Debian's Go with the suite's vendored modules and no
# network (GOFLAGS=-mod=vendor, GOPROXY=off), root file systems made here
# (busybox-static with every applet linked, a Debian minbase), a wrapper
# directory holding `runc` that execs the runtime under test, a private pid +
# mount namespace, a cgroup of the run's own below which relative cgroup paths
# land, and the clean-up that runs after every test: containers deleted,
# every process but the runner killed, cgroups made during the test removed,
# mounts under the run's directory detached.
#
# The caller sets SUITE_NAME before sourcing. Environment understood here:
#   SUITE_CACHE    where built images and the Go caches live (/var/cache/apus-suites)
#   SUITE_TIMEOUT  seconds one test (bats) or one binary (runtime-tools) may take (300)

SUITE_CACHE=${SUITE_CACHE:-/var/cache/apus-suites}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
SUITE_TOOLS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

# suite_args PREFIX CHECKOUT [RESULTS_DIR]: sets CHECKOUT, RUNTIME (default:
# apus's release build) and RESULTS ($SUITE_CACHE/results/PREFIX-<runtime>-<time>).
suite_args() {
	local prefix=$1
	CHECKOUT=$(readlink -f "${2:?usage: $0 CHECKOUT [RESULTS_DIR]}")
	RUNTIME=$(readlink -f "${RUNTIME:-$SUITE_TOOLS/../.build/release/apus}")
	RESULTS=${3:-$SUITE_CACHE/results/$prefix-$(basename "$RUNTIME")-$(date +%Y%m%d-%H%M%S)}
}

suite_log() { printf '%s: %s\n' "$SUITE_NAME" "$*" >&2; }
suite_die() { suite_log "$*"; exit 2; }

# Debian packages a suite needs, installed with apt when missing (root only).
suite_need_packages() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || suite_die "missing packages: ${missing[*]} (run as root or install them)"
	suite_log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; } ||
		suite_die "could not install ${missing[*]}"
}

# Go from Debian, offline: only the modules vendored in the checkout.
suite_go_env() {
	command -v go >/dev/null || suite_need_packages golang-go
	export GOFLAGS=-mod=vendor GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local
	export GOCACHE="$SUITE_CACHE/go-build" GOPATH="$SUITE_CACHE/gopath"
	mkdir -p "$GOCACHE" "$GOPATH"
}

# suite_go_build CHECKOUT OUTPUT PACKAGE [go build flags...]: rebuilt only when
# a Go file of the checkout is newer than OUTPUT.
suite_go_build() {
	local dir=$1 out=$2 pkg=$3
	shift 3
	if [ -x "$dir/$out" ] && [ -z "$(find "$dir" -name '*.go' -newer "$dir/$out" -print -quit)" ]; then
		return 0
	fi
	(cd "$dir" && go build "$@" -o "$out" "$pkg") || suite_die "go build $pkg failed"
}

# A busybox root file system from Debian's busybox-static: every applet linked
# in /bin, root and nobody (65534) users, the directories the docker-library
# image (which runc's suite downloads) has.
suite_busybox_rootfs() {
	local out=$1 tmp applet
	[ -s "$out" ] && return 0
	suite_need_packages busybox-static xz-utils
	tmp=$(mktemp -d "$SUITE_CACHE/busybox.XXXXXX")
	# No proc or sys: like the docker-library image, the runtime makes them
	# (runc's mask.bats replaces them with symlinks).
	mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,dev,tmp,root,home,var/spool/mail,var/www}
	chmod 1777 "$tmp/tmp"
	cp /bin/busybox "$tmp/bin/busybox"
	for applet in $("$tmp/bin/busybox" --list); do
		[ "$applet" = busybox ] || ln -f "$tmp/bin/busybox" "$tmp/bin/$applet"
	done
	cat >"$tmp/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		bin:x:2:2:bin:/bin:/bin/false
		sys:x:3:3:sys:/dev:/bin/false
		sync:x:4:100:sync:/bin:/bin/sync
		mail:x:8:8:mail:/var/spool/mail:/bin/false
		www-data:x:33:33:www-data:/var/www:/bin/false
		operator:x:37:37:Operator:/var:/bin/false
		nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	cat >"$tmp/etc/group" <<-'EOF'
		root:x:0:
		daemon:x:1:
		bin:x:2:
		sys:x:3:
		adm:x:4:
		tty:x:5:
		disk:x:6:
		wheel:x:10:root
		mail:x:12:
		www-data:x:33:
		operator:x:37:
		staff:x:50:
		users:x:100:
		nogroup:x:65534:
	EOF
	echo 'root:*:10933:0:99999:7:::' >"$tmp/etc/shadow"
	chmod 0755 "$tmp" # the image's "./": what the rootfs directory becomes
	XZ_OPT="-1 -T0" tar -C "$tmp" --numeric-owner -cJf "$out.tmp" . && mv "$out.tmp" "$out"
	rm -rf "$tmp"
	[ -s "$out" ] || suite_die "could not make $out"
}

# A Debian minbase root file system (debootstrap, the host's release, apt's
# default mirror): what runc's hooks test runs ldconfig in.
suite_debian_rootfs() {
	local out=$1 tmp release
	[ -s "$out" ] && return 0
	suite_need_packages debootstrap xz-utils
	release=$(. /etc/os-release && echo "$VERSION_CODENAME")
	tmp=$(mktemp -d "$SUITE_CACHE/debian.XXXXXX")
	suite_log "debootstrap --variant=minbase $release (once, cached in $out)"
	debootstrap --variant=minbase "$release" "$tmp" >"$tmp.log" 2>&1 ||
		{ rm -rf "$tmp"; suite_die "debootstrap failed: see $tmp.log"; }
	rm -f "$tmp.log"
	chmod 0755 "$tmp"
	XZ_OPT="-1 -T0" tar -C "$tmp" --numeric-owner -cJf "$out.tmp" . && mv "$out.tmp" "$out"
	rm -rf "$tmp"
}

# A directory holding `runc` (and `runtime`) that exec the runtime under test
# with the extra arguments given: suites call the runtime by that name.
suite_runtime_wrapper() {
	local dir=$1 runtime=$2 name arg
	shift 2
	mkdir -p "$dir"
	for name in runc runtime; do
		{
			echo '#!/bin/sh'
			printf 'exec %q' "$runtime"
			for arg in "$@"; do printf ' %q' "$arg"; done
			echo ' "$@"'
		} >"$dir/$name"
		chmod 0755 "$dir/$name"
	done
}

# The checkout's revision: git's, or a .revision file written beside a
# `git archive` export (see docs/conformance.md), or its VERSION file.
suite_revision() {
	git -C "$1" rev-parse --short HEAD 2>/dev/null || cat "$1/.revision" 2>/dev/null || cat "$1/VERSION" 2>/dev/null || echo unknown
}

# Re-execute the calling script in a private pid + mount namespace (the
# script is pid 1 there: what a test leaves running dies with it, and no
# mount of a test reaches the host).
suite_enter_namespace() {
	[ -n "${SUITE_IN_NAMESPACE:-}" ] && return 0
	[ "$(id -u)" -eq 0 ] || suite_die "must run as root"
	SUITE_IN_NAMESPACE=1 exec unshare --pid --fork --mount --mount-proc --propagation private -- "$0" "$@"
}

# A private tmpfs at /sys/fs/cgroup with the hierarchies bound back (in the
# run's own mount namespace): runc's helpers mkdir /sys/fs/cgroup/<name> for
# every controller in /proc/cgroups, and on the hybrid layout those not
# mounted (hugetlb, net_cls, ...) would otherwise land on the host's tmpfs.
suite_private_cgroup_root() {
	[ -n "${SUITE_IN_NAMESPACE:-}" ] || suite_die "suite_private_cgroup_root outside the run's namespace"
	[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || return 0
	local keep m
	keep=$(mktemp -d)
	mount --rbind /sys/fs/cgroup "$keep"
	mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
	for m in "$keep"/*; do
		mountpoint -q "$m" || continue
		mkdir "/sys/fs/cgroup/${m##*/}"
		mount --rbind "$m" "/sys/fs/cgroup/${m##*/}"
	done
	umount -l "$keep" && rmdir "$keep"
}

# Cgroup hierarchies: "mountpoint" lines of every cgroup and cgroup2 mount.
suite_cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++) ; if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5 }' /proc/self/mountinfo
}

# Move the runner into a cgroup of its own in every hierarchy (relative
# cgroupsPath lands below it) and note which fixed absolute names the suites
# use already exist (those are left alone).
SUITE_CGROUP=
SUITE_CGROUP_FIXED=()
suite_cgroups_enter() {
	local m name
	suite_private_cgroup_root
	# One run of a suite at a time: its fixed names would be shared.
	exec 9>"$SUITE_CACHE/.$SUITE_NAME.lock"
	flock -n 9 || suite_die "another $SUITE_NAME run is going on (it uses the same fixed cgroup names)"
	SUITE_CGROUP="apus-suite-$(date +%s)-$RANDOM"
	SUITE_CGROUP_FIXED=()
	for m in $(suite_cgroup_mounts); do
		mkdir -p "$m/$SUITE_CGROUP/runner"
		if [ -e "$m/cpuset.cpus" ]; then # v1 cpuset: a new cgroup starts empty
			cat "$m/cpuset.cpus" >"$m/$SUITE_CGROUP/cpuset.cpus" && cat "$m/cpuset.mems" >"$m/$SUITE_CGROUP/cpuset.mems"
			cat "$m/cpuset.cpus" >"$m/$SUITE_CGROUP/runner/cpuset.cpus" && cat "$m/cpuset.mems" >"$m/$SUITE_CGROUP/runner/cpuset.mems"
		fi
		echo "$BASHPID" >"$m/$SUITE_CGROUP/runner/cgroup.procs" ||
			suite_log "could not enter $m/$SUITE_CGROUP/runner"
		for name in "$@"; do
			[ -e "$m/$name" ] || SUITE_CGROUP_FIXED+=("$m/$name")
		done
	done
}

# Remove the cgroups below DIR (deepest first), killing what is in them.
suite_cgroup_rmtree() {
	local top=$1 keep=${2:-} d
	[ -d "$top" ] || return 0
	while read -r d; do
		[ "$d" = "$keep" ] && continue
		[ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		[ -w "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null
		rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; } ||
			suite_log "could not remove cgroup $d"
	done < <(find "$top" -mindepth 1 -type d -depth 2>/dev/null; [ -n "$keep" ] || echo "$top")
}

# After a test: every process of the namespace but the runner, then the
# cgroups, then the mounts below WORK.
suite_cleanup_after_test() {
	local work=$1 p m c
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = 1 ] || [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] || kill -9 "$p" 2>/dev/null
	done
	for m in $(suite_cgroup_mounts); do
		for c in "$m/$SUITE_CGROUP"/*; do
			[ -d "$c" ] && [ "$c" != "$m/$SUITE_CGROUP/runner" ] && suite_cgroup_rmtree "$c"
		done
		suite_cgroup_rmtree "$m/$SUITE_CGROUP/runner" "$m/$SUITE_CGROUP/runner"
	done
	for c in "${SUITE_CGROUP_FIXED[@]}"; do suite_cgroup_rmtree "$c"; done
	suite_umount_below "$work"
}

suite_umount_below() {
	local work=$1 mp
	while read -r mp; do
		umount -l "$mp" 2>/dev/null || suite_log "could not detach $mp"
	done < <(awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# Leave the run's cgroups (the runner moves to each hierarchy's root: it is
# pid 1 of the namespace and exits next) and remove them.
suite_cgroups_leave() {
	local m
	for m in $(suite_cgroup_mounts); do
		[ -d "$m/$SUITE_CGROUP" ] || continue
		echo "$BASHPID" >"$m/cgroup.procs" 2>/dev/null
		suite_cgroup_rmtree "$m/$SUITE_CGROUP"
	done
}

# suite_run_bounded LOG CMD...: CMD with the per-test timeout; 124 = timed out.
suite_run_bounded() {
	local log=$1
	shift
	timeout --kill-after=10 "$SUITE_TIMEOUT" "$@" 2>>"$log"
}

# TAP counts of FILE: "passed failed skipped".
suite_tap_counts() {
	awk '
		/^ok / { if (tolower($0) ~ /# skip/) s++; else p++ }
		/^not ok / { if (tolower($0) ~ /# (skip|todo)/) s++; else f++ }
		END { printf "%d %d %d\n", p, f, s }' "$1"
}
