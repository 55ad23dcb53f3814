#!/usr/bin/env bash
# k8s-testenv: the binaries of a throwaway Kubernetes control plane, built
# from Go modules, for 'make test-k8s' (k8s/apiserver_test.go, build tag k8s).
#
#   etcd                     go.etcd.io/etcd/server/v3 at $ETCD_VERSION
#   kube-apiserver           k8s.io/kubernetes at $K8S_VERSION
#   kube-controller-manager  (the Job controller creates the shards' pods)
#   kubectl                  the client the test drives, of the same release
#
# No kubelet, scheduler or container runtime: the test checks that the
# server accepts the rendered objects and that the Job controller makes one
# pod per completion index; nothing runs in those pods.
#
# k8s.io/kubernetes is not meant to be a dependency: its go.mod requires its
# staging modules (k8s.io/api, apimachinery, apiserver, client-go, ...) at
# v0.0.0 and replaces them with ./staging directories that a module download
# does not bring. A scratch module requires k8s.io/kubernetes and replaces
# every such module with its published v0.X.Y, the release that goes with
# v1.X.Y. etcd builds in a scratch module of its own, so neither pins the
# other's dependencies.
#
# The build takes 10-20 minutes on 2 cores (nice -n 19; kube-apiserver is
# most of it) and is cached: $MTLSBENCH_K8S_CACHE, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/mtlsbench/k8s/$K8S_VERSION. A binary
# present there (with the version stamp it was built at) is reused.
#
# Usage: scripts/k8s-testenv.sh build   build what is missing, print the bin dir
#        scripts/k8s-testenv.sh dir     print the bin dir (builds nothing)
# Environment: MTLSBENCH_K8S_VERSION (default v1.37.2), MTLSBENCH_ETCD_VERSION
# (default v3.6.16), MTLSBENCH_K8S_CACHE, GO (default go).
set -euo pipefail

log() { printf 'k8s-testenv: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

GO=${GO:-go}
K8S_VERSION=${MTLSBENCH_K8S_VERSION:-v1.37.2}
ETCD_VERSION=${MTLSBENCH_ETCD_VERSION:-v3.6.16}
CACHE=${MTLSBENCH_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtlsbench/k8s/$K8S_VERSION}
BIN=$CACHE/bin

# v1.37.2 → v0.37.2, the published version of every staging module.
staging_version() {
	local v=${K8S_VERSION#v}
	[[ $v =~ ^1\.([0-9]+)\.([0-9]+)$ ]] || die "MTLSBENCH_K8S_VERSION=$K8S_VERSION: want v1.MINOR.PATCH"
	echo "v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
}

# fresh NAME VERSION: the binary is there and was built at VERSION.
fresh() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ]; }

build_etcd() {
	fresh etcd "$ETCD_VERSION" && return 0
	log "building etcd $ETCD_VERSION"
	local src=$CACHE/src/etcd
	rm -rf "$src" && mkdir -p "$src" && cd "$src"
	"$GO" mod init mtlsbench-k8s-testenv/etcd >/dev/null 2>&1
	"$GO" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
	CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -ldflags '-s -w' -o "$BIN/etcd" go.etcd.io/etcd/server/v3
	echo "$ETCD_VERSION" >"$BIN/etcd.version"
}

build_kubernetes() {
	local want=(kube-apiserver kube-controller-manager kubectl) missing=() b
	for b in "${want[@]}"; do fresh "$b" "$K8S_VERSION" || missing+=("$b"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sv
	sv=$(staging_version)
	log "building ${missing[*]} from k8s.io/kubernetes $K8S_VERSION (staging modules at $sv)"
	local src=$CACHE/src/kubernetes
	rm -rf "$src" && mkdir -p "$src" && cd "$src"
	"$GO" mod init mtlsbench-k8s-testenv/kubernetes >/dev/null 2>&1

	# The staging modules: every 'k8s.io/X => ./staging/src/k8s.io/X' of
	# k8s.io/kubernetes's go.mod.
	local gomod
	gomod=$("$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
	[ -f "$gomod" ] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION"
	local staged
	staged=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$gomod" | sort -u)
	[ -n "$staged" ] || die "k8s.io/kubernetes@$K8S_VERSION: no staging replacements found in its go.mod"
	local m edits=()
	for m in $staged; do edits+=("-replace=$m=$m@$sv"); done
	"$GO" mod edit -require="k8s.io/kubernetes@$K8S_VERSION" "${edits[@]}"
	log "$(echo "$staged" | wc -l) staging modules replaced"

	local pkgs=()
	for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
	"$GO" get "${pkgs[@]/%/@$K8S_VERSION}"
	local minor=${sv#v0.}
	minor=${minor%%.*}
	local ldflags="-s -w"
	ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
	ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
	ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
	ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
	ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
	ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
	for b in "${missing[@]}"; do
		log "go build $b"
		local start=$SECONDS
		CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN/$b" "k8s.io/kubernetes/cmd/$b"
		echo "$K8S_VERSION" >"$BIN/$b.version"
		log "$b built in $((SECONDS - start))s"
	done
}

case ${1:-} in
build)
	command -v "$GO" >/dev/null || die "Go is needed (set GO=/path/to/go)"
	mkdir -p "$BIN"
	start=$SECONDS
	(build_etcd)
	(build_kubernetes)
	log "binaries in $BIN ($((SECONDS - start))s)"
	echo "$BIN"
	;;
dir)
	echo "$BIN"
	;;
*)
	die "usage: $0 build|dir"
	;;
esac
