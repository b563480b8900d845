#!/usr/bin/env bats
#
# `make bench-selftest`: tools/bench.sh in its quick mode (BENCH_QUICK=1) runs
# apus, runc and crun end to end, prints the table, writes JSON of the shape
# below and leaves nothing behind. Part of `make test`: about 6 s on a quiet
# machine (3 rounds of everything, 10 containers for concurrency and list).
# Environment: APUS (the binary; default .build/release/apus).

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	APUS=${APUS:-$REPO/.build/release/apus}
	[ -x "$APUS" ] || skip "no apus binary at $APUS (make build)"
	[ "$(id -u)" -eq 0 ] || skip "containers need root"
	OUT="$BATS_TEST_TMPDIR/bench.json"
	# The run's own parent for its work dir: other benches on the machine
	# make and remove /tmp/apus-bench.* meanwhile.
	BENCH_TMP="$(mktemp -d /tmp/apus-bench-selftest.XXXXXX)"
	chmod 755 "$BENCH_TMP"
}

teardown() {
	[ -z "${BENCH_TMP:-}" ] || rm -rf --one-file-system "$BENCH_TMP"
}

@test "bench: the quick mode prints the table and writes the JSON, leaving nothing behind" {
	run env BENCH_QUICK=1 BENCH_OUT="$OUT" TMPDIR="$BENCH_TMP" timeout 600 "$REPO/tools/bench.sh" "$APUS"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"QUICK"* ]]
	[[ "$output" == *"create-start-state-kill-delete"* ]]
	[ -s "$OUT" ]
	# every operation, every runtime: median, p95, RSS, syscalls, CPU; ratios for apus
	jq -e '.schema == "apus-bench/1" and .quick == true and (.load_before | length) == 3' "$OUT"
	jq -e '.summary | has("version") and has("exec") and has("run (1 mounts)") and has("run (100 mounts)")
		and has("run (1 mounts) under load")
		and has("create-start-state-kill-delete") and has("state (0 others)") and has("list (0 others)")' "$OUT"
	jq -e '[.summary[] | to_entries[] | .value | (.median_ms > 0) and (.p95_ms >= .median_ms)
		and (.peak_rss_kb == null or .peak_rss_kb > 0) and (.cpu_ms >= 0)] | all' "$OUT"
	jq -e '.summary["run (1 mounts)"].apus | .syscalls > 0 and .peak_rss_kb > 0' "$OUT"
	if jq -e '.runtimes | has("crun")' "$OUT" >/dev/null; then
		jq -e '.summary.exec.apus.vs_crun > 0 and .summary.exec.crun.syscalls > 0' "$OUT"
		jq -e 'any(.targets[]; .operation == "run (1 mounts) under load")' "$OUT"
	fi
	if jq -e '.runtimes | has("runc")' "$OUT" >/dev/null; then
		jq -e '.summary.exec.apus.vs_runc > 0' "$OUT"
	fi
	jq -e '(.targets | length) > 0 and all(.targets[]; has("met"))' "$OUT"
	jq -e '.knobs.load_hogs > 0 and (.hog_pids | length) == .knobs.load_hogs' "$OUT"
	# nothing left: work dirs, cgroups, CPU hogs of the run
	prefix="$(jq -r .prefix "$OUT")"
	[[ "$prefix" == apus-bench-* ]]
	for pid in $(jq -r '.hog_pids[]' "$OUT"); do
		if grep -qF -- "$prefix-hog" "/proc/$pid/cmdline" 2>/dev/null; then echo "CPU hog $pid left"; false; fi
	done
	[ -z "$(ls -A "$BENCH_TMP")" ]
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$prefix-*" 2>/dev/null)" ]
}
