# Apus — an OCI runtime in Swift. `make deps && make test` on a fresh Debian 12 machine.
PREFIX ?= /usr/local
SWIFT ?= swift
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# A fully static executable (Swift stdlib, libyajl, libseccomp, glibc): no
# ld.so symbol resolution at startup, which was over half of `apus --version`
# (measured: 3.0 ms -> 1.3 ms median). Debian ships libyajl's archive as
# libyajl_s.a, so the link sees it under the name the module map asks for.
STATIC_LIBS := $(CURDIR)/.build/static-libs
# Size (issue #21; stripped sizes): -Osize 9.45 -> 9.19 MB; one section per
# function, so --gc-sections drops apus's unused ones, -> 9.07 MB; lld with
# identical code folding (--icf=all: Swift never compares function
# addresses) -> 8.72 MB, below runc's 8.75 MB (--version also 0.90 -> 0.67 ms);
# without the Unicode scalar name tables apus never reads
# (Sources/CApusShim/scalarnames.c) -> 8.17 MB.
# Peak RSS: each code page a command touches maps its 64 KB fault-around
# window, so the functions the usual commands run are linked together first
# (tools/apus.order, `make symbol-order`): run 7.3 -> 4.0 MB, --version 5.1 -> 2.9 MB
# (crun: 3.2, 3.1; README "Performance"). Outside that hot block create, run
# and exec turn fault-around off for their image (Sources/CApusShim/faultaround.c):
# run 4.4 -> 2.3 MB (crun 3.3), for ~2 % of its time (0.1 ms).
# Speed: concrete generic types' metadata through their accessors, not
# through mangled names the runtime demangles at first use (perf: 8% of
# run's CPU was swift_getTypeByMangledName; run -0.2..0.36 ms, +20 KB).
SIZE_FLAGS := -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors -Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld -Xlinker --icf=all \
	-Xlinker --wrap=_swift_stdlib_getScalarName \
	-Xlinker --symbol-ordering-file=$(CURDIR)/tools/apus.order -Xlinker --no-warn-symbol-ordering
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -static-executable -Xlinker -L$(STATIC_LIBS) \
	-Xcc -DAPUS_COMMIT=\"$(COMMIT)\" $(SIZE_FLAGS)
APUS := .build/release/apus
BATS ?= bats

# Every Debian package that build (static: libc6-dev, libstdc++), tests,
# benchmarks, demo and e2e need.
DEB_PACKAGES := pkg-config libc6-dev libstdc++-12-dev libseccomp-dev libyajl-dev busybox-static bats jq runc crun \
	hyperfine strace iproute2 util-linux procps psmisc python3 podman containerd uidmap file docker.io \
	debootstrap libcap2-bin time
# conformance/cgroups-devices.bats counts the device programs on a cgroup
DEB_PACKAGES += bpftool

# Outside the clone: the CRIU build (4-9 minutes) is reused by every checkout.
APUS_CRIU_CACHE ?= /var/cache/apus-criu

.PHONY: all deps build symbol-order test unit fuzz fuzz-short conformance conformance-runc e2e e2e-runc install demo bench bench-selftest soak clean systemd-env suites

all: build

# docker.io's and containerd's maintainer scripts would start their system
# services (a dockerd that rewrites iptables and makes docker0): a
# policy-rc.d that refuses (exit 101) is put in place for the install unless
# the machine already has one. The e2e suites start private daemons.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
			policy=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' >$$policy && chmod 755 $$policy; fi; \
		apt-get update -qq -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $$missing; \
		rc=$$?; [ -z "$$policy" ] || rm -f $$policy; exit $$rc; \
	fi
	@# checkpoint/restore: a working CRIU (Debian 12's 3.17 fails on this kernel),
	@# else CRIU 4.1.1 built once into $(APUS_CRIU_CACHE) (tools/criu.sh).
	@# A failed build is said loudly but does not stop the rest: checkpoint.bats then skips.
	@c=$$(APUS_CRIU_CACHE=$(APUS_CRIU_CACHE) tools/criu.sh) && echo "criu: $$c" || \
		echo "WARNING: no working CRIU (build log: $(APUS_CRIU_CACHE)/build.log): checkpoint tests will skip" >&2

build:
	@mkdir -p $(STATIC_LIBS) && ln -sf /usr/lib/$$(gcc -print-multiarch)/libyajl_s.a $(STATIC_LIBS)/libyajl.a
	$(SWIFT) build $(RELEASE_FLAGS) --product apus

unit:
	$(SWIFT) test

# ApusFuzz (Sources/ApusFuzz) under libFuzzer and AddressSanitizer: the
# config/process/state decoders, validation and the argument parser, seeded
# from spec-fixtures/. Its own build path: never part of the `apus` binary.
FUZZ_BUILD := .build/fuzz
FUZZER := $(FUZZ_BUILD)/debug/ApusFuzz
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 20

$(FUZZER): Package.swift $(shell find Sources -name '*.swift' -o -name '*.[ch]')
	$(SWIFT) build -c debug --build-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address -Xswiftc -DAPUS_LIBFUZZER --product ApusFuzz

fuzz: $(FUZZER)
	tools/fuzz.sh $(FUZZER) $(FUZZ_SECONDS)

# Part of `make test`: a fixed seed from the fixtures alone, bounded in time.
fuzz-short: $(FUZZER)
	tools/fuzz.sh $(FUZZER) $(FUZZ_SHORT_SECONDS) --short

conformance: build
	RUNTIME=$(CURDIR)/$(APUS) $(BATS) conformance/

# The same lifecycle scenarios against runc: statuses and exit codes must agree
# (tests for what runc 1.1 lacks or gets wrong skip themselves there).
conformance-runc:
	RUNTIME=/usr/sbin/runc $(BATS) $(RUNC_SUITES)

# The end-to-end suites alone: podman, containerd and dockerd driving the
# runtime (also part of conformance and conformance-runc).
E2E_SUITES := $(wildcard conformance/e2e-*.bats)

e2e: build
	RUNTIME=$(CURDIR)/$(APUS) $(BATS) $(E2E_SUITES)

e2e-runc:
	RUNTIME=/usr/sbin/runc $(BATS) $(E2E_SUITES)

# (check and inspect are apus's own commands: runc has nothing to compare.)
RUNC_SUITES := $(filter-out conformance/binary.bats conformance/cli.bats conformance/cgroup-layouts.bats \
	conformance/check.bats conformance/inspect.bats,$(wildcard conformance/*.bats))

# The Debian systemd rootfs conformance/systemd.bats boots as a container's
# PID 1 (tools/systemd-rootfs.sh): built once (about 3.5 min), cached outside
# the clone, rebuilt when its recipe changes.
SYSTEMD_TEST_CACHE ?= /var/cache/apus-test

systemd-env: deps
	APUS_TEST_CACHE=$(SYSTEMD_TEST_CACHE) tools/systemd-rootfs.sh

test: deps build unit fuzz-short systemd-env conformance conformance-runc bench-selftest

# The field's own suites, runtime-tools' validation programs and runc's
# tests/integration (docs/conformance.md). Not part of `make test`: they need
# local checkouts (CI has none) and take long. SUITES_RUNTIME=/usr/sbin/runc
# runs them against runc; results go to $(SUITES_DIR)/results/.
SUITES_DIR ?= /var/cache/apus-suites
SUITES_RUNTIME ?= $(CURDIR)/$(APUS)

suites: build
	@if [ ! -d $(SUITES_DIR)/runtime-tools/validation ] || [ ! -d $(SUITES_DIR)/runc/tests/integration ]; then \
		echo "make suites: no checkouts in $(SUITES_DIR). Put opencontainers/runtime-tools at commit 260e151 in"; \
		echo "$(SUITES_DIR)/runtime-tools and opencontainers/runc at tag v1.1.5 in $(SUITES_DIR)/runc"; \
		echo "(git archive of each into that directory; see docs/conformance.md)."; exit 2; fi
	RUNTIME=$(SUITES_RUNTIME) tools/suite-runtime-tools.sh $(SUITES_DIR)/runtime-tools
	RUNTIME=$(SUITES_RUNTIME) tools/suite-runc-integration.sh $(SUITES_DIR)/runc

# tools/apus.order, the link order above: the functions the usual commands
# ran in the release build (tools/symbol-order.sh, a minute or two; root).
# Rerun after large changes: a stale order costs RSS and time (a hot function
# left out faults page by page), never correctness.
symbol-order: build
	tools/symbol-order.sh $(APUS) tools/apus.order

# Stripped: 17.7 MB -> 8.2 MB; the symbols only serve a debugger (measured:
# startup unchanged). `make install STRIP=` keeps them.
STRIP ?= -s
install: build
	install -D $(STRIP) -m 0755 $(APUS) $(DESTDIR)$(PREFIX)/bin/apus

demo: deps build
	tools/demo.sh $(APUS)

# apus vs runc vs crun, interleaved (tools/bench.sh: the table, and JSON in
# bench-results/). It also times apus built without its CVE-2019-5736
# protection (no re-exec from a sealed copy of the binary), to show what that
# costs. BENCH_QUICK=1 for a smoke run; `make bench-selftest` checks that.
APUS_UNPROTECTED_BUILD := .build/bench-unprotected
APUS_UNPROTECTED := $(APUS_UNPROTECTED_BUILD)/release/apus

bench: deps build
	$(SWIFT) build $(RELEASE_FLAGS) -Xswiftc -DAPUS_BENCH_UNPROTECTED --build-path $(APUS_UNPROTECTED_BUILD) --product apus
	tools/bench.sh $(APUS) $(APUS_UNPROTECTED)

bench-selftest: build
	APUS=$(CURDIR)/$(APUS) $(BATS) tools/bench.bats

# Soak: the whole lifecycle in a loop for SOAK_MINUTES (default 5) under a CPU
# hog, with leak checks; not part of `make test` (tools/soak.sh for the knobs).
soak: build
	tools/soak.sh $(APUS)

clean:
	rm -rf .build
