#!/usr/bin/env bash
# Installs the servers mtlsbench's managed targets run — nginx (with its
# stream module, for handshake mode), haproxy and openssl — and iproute2
# (network namespaces for the sharded-run test) with apt-get, when they
# are missing. Debian or Ubuntu, as root (CI runs as root).
#
# The packages' own services are kept from starting: mtlsbench starts its
# own instances on free loopback ports and stops them by PID, and a stray
# nginx on port 80 is nobody's business here. Anything the packages did
# start anyway is stopped again, by the PID in its pid file.
#
# Usage: .ci/install-servers.sh        (idempotent; prints what it found)
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
find_bin nginx >/dev/null || need+=(nginx)
find_bin haproxy >/dev/null || need+=(haproxy)
find_bin openssl >/dev/null || need+=(openssl)
# ip, for the sharded runs' end-to-end test (a host per network namespace).
find_bin ip >/dev/null || need+=(iproute2)

# nginx built with a dynamic stream module needs the module's package.
stream_module_missing() {
	local nginx
	nginx=$(find_bin nginx) || return 0
	"$nginx" -V 2>&1 | grep -q -- '--with-stream=dynamic' || return 1
	local dir
	dir=$("$nginx" -V 2>&1 | grep -o -- '--modules-path=[^ ]*' | cut -d= -f2)
	[ -e "${dir:-/usr/lib/nginx/modules}/ngx_stream_module.so" ] && return 1
	return 0
}
if [[ " ${need[*]} " == *" nginx "* ]] || stream_module_missing; then
	need+=(libnginx-mod-stream)
fi

if [ ${#need[@]} -eq 0 ]; then
	log "nothing to install"
else
	if [ "$(id -u)" -ne 0 ]; then
		log "missing: ${need[*]}; run as root, or: sudo apt-get install ${need[*]}" >&2
		exit 1
	fi
	if ! command -v apt-get >/dev/null; then
		log "missing: ${need[*]}, and there is no apt-get here to install them" >&2
		exit 1
	fi
	log "installing: ${need[*]}"
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
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	# Stop what started all the same (a policy that allowed it, or a
	# systemd that ignores policy-rc.d), and keep it from starting at boot.
	for svc in nginx haproxy; do
		[[ " ${need[*]} " == *" $svc "* ]] || continue
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

nginx=$(find_bin nginx) && log "$("$nginx" -v 2>&1)"
haproxy=$(find_bin haproxy) && log "$("$haproxy" -v 2>&1 | head -n 1)"
openssl=$(find_bin openssl) && log "$("$openssl" version)"
if stream_module_missing; then
	log "nginx has no stream module: handshake mode against nginx will fail" >&2
	exit 1
fi
