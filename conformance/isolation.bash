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
