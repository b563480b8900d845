#!/usr/bin/env bats
#
# Checks on the built binary and the sources: the Swift stdlib is linked
# statically and neither Foundation (any of its modules) nor ArgumentParser is
# linked or imported (`apus state` is on orchestrators' hot path; see
# Package.swift and the Makefile).
#
# How the binary check works (bin_forbidden_evidence below), three
# independent signals, so it holds for stripped binaries too:
#   1. ldd: no libswift*.so, libFoundation*.so, lib_Foundation*.so,
#      libdispatch/libBlocksRuntime (Foundation's runtime deps), libicu*.
#   2. nm -D --undefined-only: no swift_* runtime entry point is imported
#      (a dynamically linked stdlib imports swift_retain & co).
#   3. Symbols: nm (symbol table, if not stripped) has no symbol mentioning
#      Foundation or ArgumentParser -- Swift mangles the module into every
#      symbol ($s10Foundation..., $s20FoundationEssentials...,
#      $s14ArgumentParser...); and `strings` has no Swift module name string
#      (Foundation, FoundationEssentials, ..., ArgumentParser) on a line of
#      its own: the reflection metadata of any linked Swift module stores its
#      name as a C string, which `strip` keeps.  (The stdlib itself only
#      contains "Foundation.__SwiftValue", which does not match.)
# The self-test builds canaries with swiftc (Foundation linked statically,
# dynamically, and a plain program) and checks the detector flags the first
# two and not the third, so a check that silently matches nothing is caught.

load helpers

SRC_DIR="$BATS_TEST_DIRNAME/../Sources"
SWIFT_TARGETS=(apus ApusSpec ApusRuntime)

# No container bundles needed here.
setup() {
	[ -x "$RUNTIME" ] || {
		echo "RUNTIME=$RUNTIME is not an executable" >&2
		return 1
	}
}
teardown() { :; }

# bin_forbidden_evidence BINARY: print every sign of a dynamic Swift stdlib,
# Foundation or ArgumentParser in BINARY (nothing if clean).
bin_forbidden_evidence() {
	local bin=$1
	ldd "$bin" 2>/dev/null |
		grep -E 'lib(swift[A-Za-z_]*|_?Foundation[A-Za-z]*|CoreFoundation|dispatch|BlocksRuntime|icu[a-z]*)\.so' |
		sed 's/^[[:space:]]*/ldd: /'
	nm -D --undefined-only "$bin" 2>/dev/null | awk '$NF ~ /^swift_/ { print "dynamic import: " $NF }' | head -5
	nm "$bin" 2>/dev/null | grep -E 'Foundation|ArgumentParser' | sed 's/^/symbol: /' | head -5
	strings -a "$bin" | grep -E '^_?(Foundation[A-Za-z]*|CoreFoundation|ArgumentParser[A-Za-z]*)$' |
		sort -u | sed 's/^/module name: /'
	return 0
}

# src_forbidden_imports DIR...: print `import` lines of Foundation (any
# module: Foundation, FoundationEssentials, ...) or ArgumentParser, including
# attributed (@_implementationOnly, @preconcurrency, @testable) and scoped
# (`import struct Foundation.Date`) forms.
src_forbidden_imports() {
	grep -rnE --include='*.swift' \
		'^[[:space:]]*(@[A-Za-z_]+(\([^)]*\))?[[:space:]]+)*import[[:space:]]+((typealias|struct|class|enum|protocol|let|var|func)[[:space:]]+)?(Foundation[A-Za-z]*|ArgumentParser[A-Za-z]*)([[:space:]]|\.|;|$)' \
		"$@" || true
}

@test "binary: is an ELF executable without a dynamic Swift stdlib" {
	command -v ldd >/dev/null || skip "no ldd"
	head -c 4 "$RUNTIME" | grep -q $'^\x7fELF'
	run ldd "$RUNTIME"
	if [[ "$output" == *"not a dynamic executable"* ]]; then
		return 0 # fully static (the Makefile's build): nothing is loaded at run time
	fi
	assert_status 0
	if grep -E 'lib(swift|_?Foundation|CoreFoundation|dispatch|BlocksRuntime|icu)' <<<"$output"; then
		echo "linked dynamically against the Swift runtime / Foundation:" >&2
		echo "$output" >&2
		return 1
	fi
	# the Swift runtime is in the binary itself
	nm -D --undefined-only "$RUNTIME" | awk '$NF ~ /^swift_/ { bad = 1; print } END { exit bad }'
}

@test "binary: no Foundation or ArgumentParser code is linked" {
	command -v nm >/dev/null && command -v strings >/dev/null || skip "no binutils"
	local evidence
	evidence="$(bin_forbidden_evidence "$RUNTIME")"
	if [ -n "$evidence" ]; then
		echo "$RUNTIME links forbidden code:" >&2
		echo "$evidence" >&2
		return 1
	fi
}

@test "binary: the detector flags Foundation linked statically or dynamically (swiftc canaries)" {
	command -v swiftc >/dev/null || skip "no swiftc to build canaries"
	command -v nm >/dev/null && command -v strings >/dev/null || skip "no binutils"
	local d="$BATS_FILE_TMPDIR/canary"
	mkdir -p "$d"
	cat >"$d/foundation.swift" <<-'EOF'
		import Foundation
		print(String(format: "%d", ProcessInfo.processInfo.processIdentifier))
	EOF
	echo 'print("plain")' >"$d/plain.swift"
	swiftc -O -static-stdlib "$d/foundation.swift" -o "$d/foundation-static" 2>/dev/null
	swiftc -O "$d/foundation.swift" -o "$d/foundation-dynamic" 2>/dev/null
	swiftc -O -static-stdlib "$d/plain.swift" -o "$d/plain-static" 2>/dev/null
	strip -o "$d/foundation-stripped" "$d/foundation-static"

	local b
	for b in foundation-static foundation-dynamic foundation-stripped; do
		if [ -z "$(bin_forbidden_evidence "$d/$b")" ]; then
			echo "the detector missed Foundation in $b" >&2
			return 1
		fi
	done
	# stripped: the module-name strings alone still give it away
	bin_forbidden_evidence "$d/foundation-stripped" | grep -q '^module name: Foundation$'
	# and it does not cry wolf on a plain static program
	run bin_forbidden_evidence "$d/plain-static"
	assert_equal "$output" ""
}

@test "binary: sources import neither Foundation nor ArgumentParser" {
	local t dirs=()
	for t in "${SWIFT_TARGETS[@]}"; do
		[ -d "$SRC_DIR/$t" ] || {
			echo "missing source dir $SRC_DIR/$t" >&2
			return 1
		}
		dirs+=("$SRC_DIR/$t")
	done
	run src_forbidden_imports "${dirs[@]}"
	if [ -n "$output" ]; then
		echo "forbidden imports:" >&2
		echo "$output" >&2
		return 1
	fi
	# the package has no external dependencies (swift-argument-parser, ...)
	if grep -nE '\.package\(' "$SRC_DIR/../Package.swift"; then
		echo "Package.swift declares package dependencies" >&2
		return 1
	fi
}

@test "binary: the import check catches every spelling (self-test)" {
	local d="$BATS_FILE_TMPDIR/imports"
	mkdir -p "$d"
	local bad=(
		'import Foundation'
		'  import Foundation // indented'
		'import FoundationEssentials'
		'@_implementationOnly import Foundation'
		'@preconcurrency import Foundation'
		'import struct Foundation.Date'
		'import ArgumentParser'
		'@testable import ArgumentParser'
		'import Foundation;'
	)
	local good=(
		'import Glibc'
		'// import Foundation is not allowed here'
		'let s = "import Foundation"'
		'import ApusSpec'
	)
	local i
	for i in "${!bad[@]}"; do
		printf '%s\n' "${bad[$i]}" >"$d/bad$i.swift"
	done
	printf '%s\n' "${good[@]}" >"$d/good.swift"
	run src_forbidden_imports "$d"
	assert_equal "$(grep -c 'bad[0-9]*\.swift' <<<"$output")" "${#bad[@]}"
	[[ "$output" != *good.swift* ]]
}

@test "binary: make install puts a stripped static binary in place, and it runs" {
	runtime_is_apus || skip "the installed binary is apus's own"
	local dest
	dest=$(mktemp -d)
	# -o build: install what is built ($RUNTIME), never rebuild it under a running suite
	make -s -o build -C "$BATS_TEST_DIRNAME/.." install DESTDIR="$dest" PREFIX=/usr >/dev/null
	local bin="$dest/usr/bin/apus"
	[ -x "$bin" ] || { rm -rf "$dest"; echo "nothing installed at $bin" >&2; return 1; }
	run file "$bin"
	local size
	size=$(stat -c %s "$bin")
	run_version=$("$bin" --version)
	rm -rf "$dest"
	[[ "$output" == *"statically linked"* ]]
	[[ "$output" == *", stripped"* ]]
	# Issue #21: no larger than runc 1.1.5's 8.75 MB (8.17 MB at the time of
	# writing; 10.77 MB before). A String.contains("text") alone links
	# _StringProcessing and _RegexParser, 1.3 MB: this is what catches it.
	((size <= 8750000)) || { echo "stripped binary is $size bytes, more than runc's 8750000" >&2; return 1; }
	[[ "$run_version" == "apus version "* ]]
}

# Issue #21: create, run and exec re-execute into the write-protected image
# (CVE-2019-5736) from a constructor, before the Swift runtime starts
# (Sources/CApusEntry): the Swift runtime's start-up (it looks for its
# swift-backtrace helper) is paid once, by the protected image only.
@test "binary: create/run/exec re-execute into the protected image before the Swift runtime starts" {
	runtime_is_apus || skip "apus's own stage 0"
	command -v strace >/dev/null || skip "no strace"
	local dir trace cmd
	dir=$(mktemp -d)
	trace="$dir/trace"
	for cmd in create run exec; do
		local args=("$cmd" "bin-stage0-$$")
		[ "$cmd" = exec ] && args=(exec "bin-stage0-$$" true)
		run strace -o "$trace" "$RUNTIME" --root "$dir/root" "${args[@]}"
		# the protected image runs and reports (no such bundle / container)
		[ "$status" -ne 0 ] || { rm -rf "$dir"; echo "$cmd succeeded?" >&2; return 1; }
		local before
		before=$(awk '/^execveat\(/ { found = 1; exit } { print } END { if (!found) print "NO EXECVEAT" }' "$trace")
		if grep -qE 'NO EXECVEAT|swift-backtrace' <<<"$before" || (($(wc -l <<<"$before") > 40)); then
			echo "$cmd: before the re-exec:" >&2
			echo "$before" >&2
			rm -rf "$dir"
			return 1
		fi
	done
	# a command that needs no protection is not re-executed
	run strace -o "$trace" "$RUNTIME" --root "$dir/root" state "bin-stage0-$$"
	! grep -q '^execveat(' "$trace" || { rm -rf "$dir"; echo "state re-executed" >&2; return 1; }
	rm -rf "$dir"
}
