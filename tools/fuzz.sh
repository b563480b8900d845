#!/usr/bin/env bash
# tools/fuzz.sh FUZZER SECONDS [--short]
#
# Runs ApusFuzz (the libFuzzer build of Sources/ApusFuzz, see `make fuzz`)
# for at most SECONDS, seeded from spec-fixtures/ (valid, invalid, state,
# hostile) with a dictionary of every property name the fixtures use.
# Without --short the corpus grows in .build/fuzz-corpus across runs; with
# --short (make test) the run starts from the fixtures alone, with a fixed
# seed, so it explores the same way each time. A crash, a hang (10 s on one
# input) or a broken invariant fails the run and leaves the input in
# .build/fuzz-artifacts/; a plain `swift build` of ApusFuzz replays it:
#   .build/debug/ApusFuzz .build/fuzz-artifacts/crash-...
set -euo pipefail
fuzzer=$1 seconds=$2 mode=${3:-}
cd "$(dirname "$0")/.."
work=.build/fuzz-work
mkdir -p "$work" .build/fuzz-artifacts
dict=$work/spec.dict
# Keys of the valid fixtures, as JSON strings (libFuzzer's dictionary takes ASCII only).
jq -r '[paths | .[-1] | strings] | unique[]' spec-fixtures/valid/*.json spec-fixtures/state/*.json |
	sort -u | grep -E '^[A-Za-z0-9_./-]+$' | sed 's/.*/"\\"&\\""/' >"$dict"
seeds=(spec-fixtures/valid spec-fixtures/invalid spec-fixtures/state spec-fixtures/hostile)
if [[ $mode == --short ]]; then
	corpus=$(mktemp -d "$work/short.XXXXXX")
	trap 'rm -rf "$corpus"' EXIT
	seed=(-seed=1)
else
	corpus=.build/fuzz-corpus
	mkdir -p "$corpus"
	seed=()
fi
# Swift's own backtracer and ASan's report would fight over a crash.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
log=$work/last.log
status=0
"$fuzzer" "${seed[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
	-dict="$dict" -artifact_prefix=.build/fuzz-artifacts/ -print_final_stats=1 \
	"$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
	tail -n 60 "$log" >&2
	echo "fuzz: ApusFuzz failed (status $status); the input is in .build/fuzz-artifacts/, the log in $log" >&2
	exit 1
fi
grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added))' "$log"
echo "fuzz: ${seconds}s, no crash"
