#!/usr/bin/env bats
# End to end with the systemd cgroup driver: containerd 1.6 (runc.v2 shim,
# SystemdCgroup = true through `ctr run --runc-systemd-cgroup`) and podman
# 4.3 (--cgroup-manager systemd) inside the systemd environment
# (systemd-helpers.bash), with the runtime under test as their OCI runtime.
# Everything they make (state, sockets, storage) is inside that container's
# tmpfs and overlay, gone when it halts.

load helpers
load systemd-helpers

# pm ARGS...: podman inside, private storage on the container's /tmp (vfs:
# overlay cannot stack on the overlay root), lower ulimits (no
# CAP_SYS_RESOURCE in the systemd container), our runtime.
pm() {
	in_env sh -c 'conf=$1; shift; CONTAINERS_CONF=$conf exec timeout 60 podman --root /tmp/pm/root --runroot /tmp/pm/runroot \
		--storage-driver vfs --cgroup-manager systemd --events-backend file --runtime "$@"' sh \
		"$TESTDIR/containers.conf" "$INNER" "$@"
}

# c ARGS...: ctr against the containerd started by start_containerd.
c() { in_env timeout 60 ctr --address /run/bats-ctrd/containerd.sock --namespace bats "$@"; }

start_containerd() {
	cat >"$TESTDIR/containerd.toml" <<-EOF
		version = 2
		root = "/tmp/bats-ctrd/root"
		state = "/run/bats-ctrd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "/run/bats-ctrd/containerd.sock"
		[ttrpc]
		  address = "/run/bats-ctrd/containerd.sock.ttrpc"
	EOF
	in_env systemd-run --unit=bats-containerd --quiet containerd --config "$TESTDIR/containerd.toml"
	local i
	for ((i = 0; i < 200; i++)); do
		c version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	in_env journalctl -u bats-containerd --no-pager | tail -20 >&2
	return 1
}

stop_containerd() {
	in_env systemctl stop bats-containerd 2>/dev/null || true
}

teardown() {
	[[ -f $BATS_FILE_TMPDIR/skip ]] || {
		stop_containerd
		[[ -f $TESTDIR/containers.conf ]] && pm rm -af >/dev/null 2>&1
	}
	systemd_teardown
}

@test "e2e-systemd: containerd (SystemdCgroup) runs a container in its own scope, exec joins it, the unit goes with it" {
	local id=$(unique_id) scope
	start_containerd
	scope="ctr-$id.scope"
	run c run -d --rootfs --runc-binary "$INNER" --runc-systemd-cgroup --cgroup "system.slice:ctr:$id" \
		--memory-limit 67108864 "$ROOTFS" "$id" /bin/sleep 600
	assert_status 0
	[[ $(show "$scope" ActiveState) == active ]]
	[[ $(show "$scope" Delegate) == yes ]]
	[[ $(show "$scope" MemoryLimit) == 67108864 ]]
	run c task exec --exec-id e1 "$id" /bin/cat /proc/self/cgroup
	assert_status 0
	assert_output_contains "name=systemd:/system.slice/$scope"
	run c task kill -s KILL "$id"
	assert_status 0
	# (kill only sends the signal: the task is deleted once it stopped)
	local i
	for ((i = 0; i < 300; i++)); do
		[[ $(c task ls 2>/dev/null | awk -v id="$id" '$1 == id { print $3 }') == STOPPED ]] && break
		sleep 0.1
	done
	run c task delete "$id"
	assert_status 0
	run c container delete "$id"
	assert_status 0
	for ((i = 0; i < 100; i++)); do
		[[ $(show "$scope" LoadState) == not-found ]] && break
		sleep 0.05
	done
	[[ $(show "$scope" LoadState) == not-found ]]
	stop_containerd
}

@test "e2e-systemd: podman --cgroup-manager systemd runs a container in libpod-<id>.scope with its limits" {
	local cid scope
	cat >"$TESTDIR/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
		netns = "none"
		log_driver = "k8s-file"
		[engine]
		cgroup_manager = "systemd"
		events_logger = "file"
	EOF
	run pm run --rm --network none --rootfs "$ROOTFS" cat /proc/self/cgroup
	assert_status 0
	assert_output_contains "name=systemd:/machine.slice/libpod-"
	run pm run -d --network none --memory 64m --pids-limit 30 --rootfs "$ROOTFS" sleep 600
	assert_status 0
	cid=${output##*$'\n'}
	scope="libpod-$cid.scope"
	[[ $(show "$scope" ActiveState) == active ]]
	[[ $(show "$scope" MemoryLimit) == 67108864 ]]
	[[ $(show "$scope" TasksMax) == 30 ]]
	run pm exec "$cid" cat /proc/self/cgroup
	assert_status 0
	assert_output_contains "name=systemd:/machine.slice/$scope"
	run pm rm -f "$cid"
	assert_status 0
	[[ $(show "$scope" LoadState) == not-found ]]
}
