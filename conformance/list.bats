#!/usr/bin/env bats
# `list`: table, json and quiet formats.

load helpers

HEADER_EMPTY='ID          PID         STATUS      BUNDLE      CREATED     OWNER'

# format_table: read tab-separated rows (header first) on stdin and print them
# the way runc's Go tabwriter does (minwidth 12, padding 3, spaces; the last
# column is not padded).
format_table() {
	awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) + 3 > w[i]) w[i] = length($i) + 3 }
		  if (NF > nf) nf = NF; n = NR }
		END {
			for (i = 1; i <= nf; i++) if (w[i] < 12) w[i] = 12
			for (r = 1; r <= n; r++) {
				line = ""
				for (i = 1; i < nf; i++) line = line sprintf("%-" w[i] "s", cell[r, i])
				print line cell[r, nf]
			}
		}'
}

@test "list: empty root -> header only (table), null (json), nothing (-q)" {
	runtime list
	assert_status 0
	assert_equal "$output" "$HEADER_EMPTY"
	runtime list -f json
	assert_status 0
	assert_equal "$output" null
	runtime list --format json
	assert_status 0
	assert_equal "$output" null
	runtime list -q
	assert_status 0
	assert_equal "$output" ""
}

@test "list: nonexistent root -> empty list, exit 0" {
	ROOT="$TESTDIR/does-not-exist-yet"
	runtime list -q
	assert_status 0
	assert_equal "$output" ""
}

@test "list -q: one id per line, sorted" {
	id1=$(unique_id)
	id2=$(unique_id)
	create_container "$id1"
	assert_status 0
	create_container "$id2"
	assert_status 0
	runtime list -q
	assert_status 0
	assert_equal "$output" "$(printf '%s\n' "$id1" "$id2" | sort)"
	runtime list --quiet
	assert_status 0
	assert_equal "$output" "$(printf '%s\n' "$id1" "$id2" | sort)"
}

@test "list: table format, columns and spacing" {
	set_args true
	id1=$(unique_id)
	id2=$(unique_id)
	create_container "$id1"
	assert_status 0
	create_and_start "$id2"
	wait_for_status "$id2" stopped
	pid1=$(container_pid "$id1")
	c1=$(state_field "$id1" created)
	c2=$(state_field "$id2" created)

	runtime list
	assert_status 0
	expected=$(
		{
			printf 'ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n'
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id1" "$pid1" created "$BUNDLE" "$c1" root
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id2" 0 stopped "$BUNDLE" "$c2" root
		} | {
			IFS= read -r h
			echo "$h"
			sort
		} | format_table
	)
	assert_equal "$output" "$expected"
}

@test "list: table shows running status and pid" {
	id=$(unique_id)
	create_and_start "$id"
	runtime list
	assert_status 0
	row=$(sed -n 2p <<<"$output")
	read -r rid rpid rstatus rbundle rcreated rowner <<<"$row"
	assert_equal "$rid" "$id"
	assert_equal "$rpid" "$(container_pid "$id")"
	assert_equal "$rstatus" running
	assert_equal "$rbundle" "$BUNDLE"
	assert_equal "$rcreated" "$(state_field "$id" created)"
	assert_equal "$rowner" root
}

@test "list -f json: compact array, one line, same keys as state plus owner" {
	update_config '.annotations = {"org.example.k": "v"}'
	id1=$(unique_id)
	id2=$(unique_id)
	create_container "$id1"
	assert_status 0
	create_and_start "$id2"

	runtime list -f json
	assert_status 0
	assert_equal "$(wc -l <<<"$output")" 1
	assert_equal "$output" "$(jq -c . <<<"$output")"
	assert_equal "$(jq length <<<"$output")" 2
	assert_equal "$(jq -r '[.[].id] | sort | join(" ")' <<<"$output")" "$(printf '%s\n' "$id1" "$id2" | sort | tr '\n' ' ' | sed 's/ $//')"

	for id in "$id1" "$id2"; do
		entry=$(jq -c --arg id "$id" '.[] | select(.id == $id)' <<<"$output")
		assert_equal "$(jq -c 'keys_unsorted' <<<"$entry")" \
			'["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]'
		st=$(_rt state "$id")
		# identical to state except for the owner
		assert_equal "$(jq -c 'del(.owner)' <<<"$entry")" "$(jq -c 'del(.owner)' <<<"$st")"
		assert_equal "$(jq -r .owner <<<"$entry")" root
	done
	assert_equal "$(jq -r --arg id "$id1" '.[] | select(.id == $id) | .status' <<<"$output")" created
	assert_equal "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .status' <<<"$output")" running
}

@test "list: invalid format -> exit 1" {
	runtime list -f yaml
	assert_status 1
	assert_output_contains "invalid format option"
}

@test "list: deleted containers disappear" {
	id1=$(unique_id)
	id2=$(unique_id)
	create_container "$id1"
	assert_status 0
	create_container "$id2"
	assert_status 0
	runtime delete "$id1"
	assert_status 0
	runtime list -q
	assert_equal "$output" "$id2"
}
