# mtlsbench — the two commands a new machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/mtlsbench
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.buildVersion=$(VERSION)

# The openssl client stack (--client openssl) is C linked against libssl
# with cgo: built in when cgo is on and libssl's headers are there
# (Debian: libssl-dev), else left out (-tags noopenssl), which the build
# says; --client openssl then exits 2 naming what to install.
# OPENSSL_PREFIX=DIR links it against the OpenSSL in DIR instead (make
# openssl builds 3.5 there); the binary finds it by rpath.
OPENSSL_PREFIX ?=
USER_GOFLAGS := $(GOFLAGS)
ifneq ($(OPENSSL_PREFIX),)
export CGO_CFLAGS := $(CGO_CFLAGS) -I$(OPENSSL_PREFIX)/include
export CGO_LDFLAGS := $(CGO_LDFLAGS) -L$(OPENSSL_PREFIX)/lib -Wl,-rpath,$(OPENSSL_PREFIX)/lib
endif
CGO_ON := $(shell $(GO) env CGO_ENABLED 2>/dev/null)
ifeq ($(CGO_ON),1)
HAVE_LIBSSL := $(shell printf '\043include <openssl/ssl.h>\n' | $$($(GO) env CC) $(CGO_CFLAGS) -E -x c - >/dev/null 2>&1 && echo yes)
ifneq ($(HAVE_LIBSSL),yes)
export GOFLAGS += -tags=noopenssl
$(info mtlsbench: libssl's headers not found (apt-get install libssl-dev): building without the openssl client)
endif
endif

.PHONY: openssl all build demo test test-deps test-race test-k8s fuzz bench bench-peers lint cross dist docs man clean image

all: lint test build

## build: compile bin/mtlsbench
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mtlsbench

## demo: the main job on the embedded default (built-in target, ephemeral PKI)
demo: build
	./$(BIN) run

## test: every test, plus the race detector on the concurrent packages.
## The end-to-end gate, the key-type runs, the capacity searches, the
## sharded run (three generators in network namespaces against nginx) and
## the 2 s stop after a signal measure latency tails, start skew and time,
## so they run alone, after the packages that run in parallel.
##
## First, as root on Debian or Ubuntu, it installs what the tests need and
## lacks (test-deps; INSTALL=no never installs). Tests whose server, module
## or tool is still missing skip (internal/testenv writes each skip to
## $MTLSBENCH_SKIPLOG), and the last line names what was skipped and the
## command that installs it. MTLSBENCH_REQUIRE_SERVERS=1 (CI) fails them.
test: test-deps
	@skips=$$(mktemp "$${TMPDIR:-/tmp}/mtlsbench-skips.XXXXXX") || exit 1; \
	trap 'rm -f "$$skips"' EXIT; trap 'exit 130' INT TERM; \
	export MTLSBENCH_SKIPLOG="$$skips"; \
	noossl=; if [ "$(CGO_ON)" = 1 ]; then \
		if printf '\043include <openssl/ssl.h>\n' | $$($(GO) env CC) $(CGO_CFLAGS) -E -x c - >/dev/null 2>&1; \
		then export GOFLAGS="$(USER_GOFLAGS)"; else noossl=1; fi; fi; \
	run() { echo "$$*"; "$$@"; }; \
	run $(GO) test -count=1 -short ./... && \
	run $(GO) test -count=1 -run 'TestCompareGate|TestKeyTypesScenario|TestCapacity(Builtin|Nginx|Interrupted)$$' ./bench/ && \
	run $(GO) test -count=1 -run 'TestShardsOnThreeHosts|TestSignalStopsWithin2s|TestCapacityCommand$$' ./cmd/mtlsbench/ && \
	run $(GO) test -count=1 -race -short ./loadgen/... ./targets/... ./bench/...; \
	rc=$$?; sh scripts/skip-summary.sh "$$skips"; \
	[ -z "$$noossl" ] || echo "make test: built without the openssl client (libssl's headers are missing): its tests did not run; install with: sudo apt-get install libssl-dev"; \
	exit $$rc

## test-deps: install what the tests need and lack — nginx-light with
## libnginx-mod-stream, haproxy, openssl, iproute2, chromium, gcc and
## libssl-dev, Node.js 24 (npm) — with
## apt-get (.ci/install-servers.sh, which CI runs too). Only as root, only
## where apt-get is, and never with INSTALL=no; it never fails make test
## (what is still missing is skipped and named).
INSTALL ?= auto
test-deps:
	@if [ "$(INSTALL)" = no ]; then echo "test-deps: INSTALL=no: installing nothing"; \
	elif [ "$$(id -u)" -ne 0 ]; then echo "test-deps: not root: installing nothing (tests whose servers are missing skip and are named at the end)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "test-deps: no apt-get here: installing nothing (tests whose servers are missing skip and are named at the end)"; \
	else bash .ci/install-servers.sh || echo "test-deps: installing failed (above): tests whose servers are missing skip and are named at the end"; fi

## test-k8s: the rendered Kubernetes objects against a real API server and
## Job controller on loopback ports (not part of 'test'). Builds etcd,
## kube-apiserver, kube-controller-manager and kubectl from Go modules into
## a cache the first time (10-20 minutes on 2 cores; see
## scripts/k8s-testenv.sh), then tests in about a minute.
test-k8s:
	bin=$$(GO=$(GO) bash scripts/k8s-testenv.sh build) && \
		MTLSBENCH_K8S_BIN="$$bin" $(GO) test -count=1 -tags k8s -run TestK8s -v ./k8s/

## fuzz: every fuzz target (each 'func FuzzX(f *testing.F)' in a _test.go
## file) for FUZZTIME, one after another, in about a minute. Bounded so it
## never stalls: the instrumented test binaries are built first, visibly
## (go test -fuzz rebuilds the standard library with coverage
## instrumentation, which -fuzztime does not count); each target runs with
## FUZZPARALLEL workers and a short minimization (Go's default spends up to
## 60 s minimizing every new input, while the progress line shows 0
## execs/s), under a hard limit (SIGINT to the target's whole process group
## at FUZZLIMIT, SIGKILL 10 s later). A failing input is written to the
## package's testdata/fuzz/FuzzX/ and fails the target. A bare "context
## deadline exceeded" at the -fuzztime boundary with no failing input is Go's
## coordinator race (golang/go#75804, fixed in Go 1.27): that target runs
## once more, and fails if it happens again.
FUZZTIME     ?= 3s
FUZZPARALLEL ?= 2
FUZZLIMIT    ?= 45s
fuzz:
	@targets=$$(grep -rEo --include='*_test.go' --exclude-dir=.git --exclude-dir=.work --exclude-dir=testdata '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . \
		| sed -E 's|^\./(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*).*|\1:\2|' | sort); \
	[ -n "$$targets" ] || { echo "make fuzz: no fuzz targets found"; exit 1; }; \
	for pkg in $$(printf '%s\n' $$targets | cut -d: -f1 | sort -u); do \
		echo "fuzz: building ./$$pkg with coverage instrumentation"; \
		timeout -s INT -k 10s 600s $(GO) test -c -o /dev/null -fuzz . ./$$pkg || exit 1; \
	done; \
	failed=; \
	log=$$(mktemp "$${TMPDIR:-/tmp}/mtlsbench-fuzz.XXXXXX") || exit 1; trap 'rm -f "$$log"' EXIT; \
	for t in $$targets; do pkg=$${t%%:*}; fn=$${t##*:}; \
		for try in 1 2; do \
			echo "fuzz: $$fn (./$$pkg) for $(FUZZTIME)"; \
			timeout -s INT -k 10s $(FUZZLIMIT) $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) \
				-fuzzminimizetime 5s -parallel $(FUZZPARALLEL) ./$$pkg > "$$log" 2>&1; rc=$$?; cat "$$log"; \
			if [ $$rc -ne 0 ] && [ $$try -eq 1 ] && grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
				echo "fuzz: $$fn: 'context deadline exceeded' at the -fuzztime boundary with no failing input: Go's fuzz coordinator race (golang/go#75804, fixed in Go 1.27); once more"; continue; fi; \
			break; \
		done; \
		[ $$rc -ne 124 ] || echo "fuzz: $$fn was still running after $(FUZZLIMIT): stopped"; \
		[ $$rc -eq 0 ] || failed="$$failed $$fn"; \
	done; \
	[ -z "$$failed" ] || { echo "fuzz: failed:$$failed; replay a failing input with 'go test -run FuzzX/NAME ./PKG'"; exit 1; }

## bench: Go benchmarks of the per-handshake path and the renderers (one
## package at a time: BenchmarkEngineVsBare pins CPUs and measures CPU time)
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./...

## openssl: OpenSSL 3.5 from Debian 13's source package, built into
## OPENSSL_DIR (default ~/.cache/mtlsbench/openssl-3.5; ~5 minutes), for
## make build OPENSSL_PREFIX=OPENSSL_DIR: a faster openssl client with
## ML-KEM groups, and an OpenSSL 3.5 s_server
OPENSSL_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/mtlsbench/openssl-3.5
openssl:
	bash scripts/openssl-build.sh $(OPENSSL_DIR)

## bench-peers: mtlsbench, a bare crypto/tls loop and openssl s_time side by
## side against the built-in target and nginx (installs what is missing)
bench-peers:
	GO=$(GO) bash scripts/bench-peers.sh

## docs: regenerate the example report in docs/ from a real run (versions
## scenario against the built-in target)
docs: build
	./$(BIN) run -f versions -d 3s --warmup 500ms -q -o docs/example-result.json
	./$(BIN) report docs/example-result.json -o docs/example-report.html
	./$(BIN) report docs/example-result.json -o docs/example-report.png

## man: man pages of every command into man/, from the same definitions
## as the help (man -l man/mtlsbench-run.1)
man:
	$(GO) run ./cmd/mtlsbench man --dir man

## image: a container image holding only a static bin/mtlsbench-static
## (Dockerfile: FROM scratch, nothing pulled), tagged $(IMAGE), built with
## docker when its daemon answers, else podman
IMAGE ?= mtlsbench:$(VERSION)
image:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/mtlsbench-static ./cmd/mtlsbench
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then tool=docker; \
	elif command -v podman >/dev/null 2>&1; then tool=podman; \
	elif command -v docker >/dev/null 2>&1; then \
		echo "make image: docker is installed but its daemon does not answer (docker info), and podman is not installed: start the daemon, or install podman"; exit 1; \
	else echo "make image: neither docker nor podman is installed: install one (e.g. apt-get install podman)"; exit 1; fi; \
	echo "$$tool build -t $(IMAGE) ."; $$tool build -t $(IMAGE) .

## lint: gofmt, go vet, and the macOS build (cross)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(MAKE) --no-print-directory cross

## cross: everything builds and vets for macOS (darwin/arm64), tests
## included: Linux-only features (timerfd pacing, CPU pinning, /proc CPU
## accounting, the parent-death signal) are behind build tags and say at
## run time that they are not available there; and without cgo (the
## static builds: no openssl client, refused with exit 2)
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 -run 'TestOpenSSLClientMissing' ./cmd/mtlsbench

## dist: static binaries (CGO_ENABLED=0, -trimpath, version stamped from
## git tags) for DIST_PLATFORMS into dist/, with SHA256SUMS
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64
dist:
	@rm -rf dist && mkdir -p dist
	@set -e; for p in $(DIST_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
		out=dist/mtlsbench-$(VERSION)-$$os-$$arch; echo "dist: $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" -o $$out ./cmd/mtlsbench; \
	done
	@cd dist && { if command -v sha256sum >/dev/null; then sha256sum mtlsbench-*; else shasum -a 256 mtlsbench-*; fi; } > SHA256SUMS && cat SHA256SUMS

clean:
	rm -rf bin dist man
