# mtlsbench — the two commands a new machine needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/mtlsbench
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: all build demo test test-race test-k8s fuzz bench bench-peers lint docs clean image

all: lint test build

## build: compile bin/mtlsbench
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mtlsbench

## demo: the main job on the embedded default (built-in target, ephemeral PKI)
demo: build
	./$(BIN) run

## test: every test, plus the race detector on the concurrent packages.
## The end-to-end gate, the key-type runs and the sharded run (three
## generators in network namespaces against nginx) measure latency tails
## and start skew, so they run alone, after the packages that run in
## parallel.
test:
	$(GO) test -count=1 -short ./...
	$(GO) test -count=1 -run 'TestCompareGate|TestKeyTypesScenario' ./bench/
	$(GO) test -count=1 -run 'TestShardsOnThreeHosts' ./cmd/mtlsbench/
	$(GO) test -count=1 -race -short ./loadgen/... ./targets/... ./bench/...

## test-k8s: the rendered Kubernetes objects against a real API server and
## Job controller on loopback ports (not part of 'test'). Builds etcd,
## kube-apiserver, kube-controller-manager and kubectl from Go modules into
## a cache the first time (10-20 minutes on 2 cores; see
## scripts/k8s-testenv.sh), then tests in about a minute.
test-k8s:
	bin=$$(GO=$(GO) bash scripts/k8s-testenv.sh build) && \
		MTLSBENCH_K8S_BIN="$$bin" $(GO) test -count=1 -tags k8s -run TestK8s -v ./k8s/

## fuzz: a short run of the scenario parser's fuzz target
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 10s ./scenarios

## bench: Go benchmarks of the per-handshake path and the renderers (one
## package at a time: BenchmarkEngineVsBare pins CPUs and measures CPU time)
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./...

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

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
