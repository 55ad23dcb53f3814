#!/usr/bin/env bash
# bench-peers: mtlsbench side by side with its peers, on this machine.
#
# Starts two targets pinned to one core — the built-in Go target
# ('mtlsbench serve') and nginx (OpenSSL) — and against each runs three
# clients pinned to another core, one after the other:
#
#   mtlsbench    'mtlsbench run' (the engine)
#   bare         'mtlsbench bare-client': a plain crypto/tls loop, the
#                baseline for what the engine itself adds
#   s_time       'openssl s_time'
#
# for TLS 1.2 and 1.3, full (s_time -new) and resumed (s_time -reuse)
# handshakes: ECDSA P-256 certificates, X25519, AES-128-GCM, a client
# certificate on every full handshake, the server's chain verified by the
# client (s_time: -CAfile -verify). Every client does the same work per
# connection: connect, handshake, one HTTP GET / and its response, close —
# s_time needs -www / to resume in TLS 1.3 (it reads the tickets only then),
# so the others send one request too. One connection at a time (s_time
# cannot do more).
#
# Then the two client stacks of mtlsbench side by side against nginx with
# RSA-2048 client certificates (the common enterprise kind), TLS 1.3 full
# handshakes: the go client (crypto/tls), the openssl client (libssl
# through cgo; left out when this build has none) and s_time.
#
# Client CPU is measured here, not taken from the clients: user+system time
# of the client process from /usr/bin/time (the whole process, start-up
# included, which counts against the client), divided by the handshakes it
# completed (its own count). Target CPU is read from /proc over the same
# run. Handshakes/s is the client's count over its own measuring time.
#
# Usage: scripts/bench-peers.sh            (or: make bench-peers)
# Environment: SECTIONS ("peers stacks": which tables), SECONDS_PER_RUN (default 6), TARGET_CPU, CLIENT_CPU (default
# the last and the first CPU this process may use), PORT_BASE (default 18443),
# OPENSSL_PREFIX (link the openssl client against the OpenSSL there, e.g.
# the 3.5 that 'make openssl' builds; default: the system's libssl).
# It installs what it needs from Debian (nginx, openssl, time) with apt-get
# when missing, and says so. Loopback only; every run is bounded.
set -euo pipefail

log() { printf 'bench-peers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

cd "$(dirname "$0")/.."
GO=${GO:-go}
D=${SECONDS_PER_RUN:-6}
PORT_BASE=${PORT_BASE:-18443}

# --- what we need -----------------------------------------------------------
find_bin() {
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] && { echo "/usr/sbin/$1"; return 0; }
	return 1
}
need=()
find_bin nginx >/dev/null || need+=(nginx)
find_bin openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/time ] || need+=(time)
find_bin taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	log "installing ${need[*]} from Debian with apt-get (their services are kept from starting)"
	policy=/usr/sbin/policy-rc.d
	own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
		$SUDO chmod 755 "$policy"
		own_policy=1
	fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	[ -n "$own_policy" ] && $SUDO rm -f "$policy"
fi
NGINX=$(find_bin nginx)
command -v "$GO" >/dev/null || die "Go is needed to build mtlsbench (set GO=/path/to/go)"

# --- CPUs ---------------------------------------------------------------------
cpus=()
for c in $(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',' ' '); do
	if [[ $c == *-* ]]; then for ((i = ${c%-*}; i <= ${c#*-}; i++)); do cpus+=("$i"); done; else cpus+=("$c"); fi
done
if [ ${#cpus[@]} -ge 2 ]; then
	TARGET_CPU=${TARGET_CPU:-${cpus[-1]}}
	CLIENT_CPU=${CLIENT_CPU:-${cpus[0]}}
	pin_target=(taskset -c "$TARGET_CPU")
	pin_client=(taskset -c "$CLIENT_CPU")
else
	log "only one CPU: target and clients share it; figures will mix both"
	TARGET_CPU=; CLIENT_CPU=
	pin_target=(); pin_client=()
fi

# --- build, PKI, targets ------------------------------------------------------
WORK=$(mktemp -d /tmp/mtlsbench-peers.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building bin/mtlsbench"
if [ -n "${OPENSSL_PREFIX:-}" ]; then
	# The openssl client linked against that OpenSSL (make openssl).
	export CGO_CFLAGS="${CGO_CFLAGS:-} -I$OPENSSL_PREFIX/include"
	export CGO_LDFLAGS="${CGO_LDFLAGS:-} -L$OPENSSL_PREFIX/lib -Wl,-rpath,$OPENSSL_PREFIX/lib"
fi
"$GO" build -trimpath -o bin/mtlsbench ./cmd/mtlsbench
MB=$PWD/bin/mtlsbench
PKI=$WORK/pki
BUILTIN_PORT=$PORT_BASE
NGINX_PORT=$((PORT_BASE + 1))
NGINX_RSA_PORT=$((PORT_BASE + 2))
# RSA-2048 client certificates under an ECDSA CA, for the client stacks.
PKI_RSA=$WORK/pki-rsa
"$MB" pki gen --out "$PKI_RSA" --key-type ecdsa-p256 --client-key rsa2048 >/dev/null

# The PKI: 'mtlsbench pki gen' where this build has it, else the one the
# built-in target generates (serve --pki-out).
if "$MB" pki gen --help >/dev/null 2>&1 && "$MB" pki gen --out "$WORK/pki-gen" >/dev/null 2>&1 && [ -f "$WORK/pki-gen/server.pem" ]; then
	PKI=$WORK/pki-gen
fi
serve_args=(serve --listen "127.0.0.1:$BUILTIN_PORT" --mode http --groups x25519)
if [ -f "$PKI/server.pem" ]; then serve_args+=(--pki "$PKI"); else serve_args+=(--pki-out "$PKI"); fi
"${pin_target[@]}" "$MB" "${serve_args[@]}" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
BUILTIN_PID=$!

wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_port "$BUILTIN_PORT" || { cat "$WORK/serve.log" >&2; die "the built-in target did not start"; }
[ -f "$PKI/server.pem" ] || die "no PKI in $PKI"

mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/body;
	proxy_temp_path $WORK/nginx/proxy;
	fastcgi_temp_path $WORK/nginx/fastcgi;
	uwsgi_temp_path $WORK/nginx/uwsgi;
	scgi_temp_path $WORK/nginx/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl;
		ssl_certificate $PKI/server.pem;
		ssl_certificate_key $PKI/server-key.pem;
		ssl_client_certificate $PKI/ca.pem;
		ssl_verify_client on;
		ssl_protocols TLSv1.2 TLSv1.3;
		# X25519 is negotiated; prime256v1 is listed because in TLS 1.2
		# OpenSSL accepts ECDSA P-256 certificates only on a listed curve.
		ssl_ecdh_curve X25519:prime256v1;
		ssl_session_tickets on;
		location / { return 200 "ok\n"; }
	}
	server {
		listen 127.0.0.1:$NGINX_RSA_PORT ssl;
		ssl_certificate $PKI_RSA/server.pem;
		ssl_certificate_key $PKI_RSA/server-key.pem;
		ssl_client_certificate $PKI_RSA/ca.pem;
		ssl_verify_client on;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve X25519;
		ssl_session_tickets on;
		location / { return 200 "ok\n"; }
	}
}
EOF
"${pin_target[@]}" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx/stdout.log" 2>&1 &
PIDS+=($!)
NGINX_PID=$!
wait_port "$NGINX_PORT" || { cat "$WORK/nginx/error.log" >&2; die "nginx did not start"; }

# --- measuring ----------------------------------------------------------------
# ticks PID: user+system clock ticks of PID and its children.
ticks() {
	local t=0 p
	for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

# run_client TARGET_PID OUT CMD...: runs CMD pinned, with its CPU measured;
# leaves "elapsed user sys target_cpu_s" in OUT.time and its output in OUT.
run_client() {
	local tpid=$1 out=$2
	shift 2
	local t0 t1
	t0=$(ticks "$tpid")
	"${pin_client[@]}" /usr/bin/time -f '%e %U %S' -o "$out.time" "$@" >"$out" 2>&1 || {
		log "client failed: $*"
		tail -5 "$out" >&2
		return 1
	}
	t1=$(ticks "$tpid")
	echo "$(cat "$out.time") $(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN{printf "%.3f", (b-a)/hz}')" >"$out.time"
}

CA=$PKI/ca.pem CERT=$PKI/client-1.pem KEY=$PKI/client-1-key.pem
ROWS=$WORK/rows
: >"$ROWS"
# SECTIONS (default "peers stacks"): which tables to measure.
SECTIONS=${SECTIONS:-peers stacks}
peer_targets=(builtin nginx)
[[ " $SECTIONS " == *" peers "* ]] || peer_targets=()
for target in "${peer_targets[@]}"; do
	if [ $target = builtin ]; then port=$BUILTIN_PORT tpid=$BUILTIN_PID; else port=$NGINX_PORT tpid=$NGINX_PID; fi
	for v in 1.3 1.2; do
		for mode in full resumed; do
			tag="$target-$v-$mode"
			log "$target, TLS $v $mode: mtlsbench, bare, s_time (${D}s each)"
			resume=none bare_resume=() stime_mode=-new
			[ $mode = resumed ] && { resume=tickets; bare_resume=(--resume); stime_mode=-reuse; }
			# In TLS 1.2 every client lists P-256 after X25519, as real clients
			# do (OpenSSL needs it for the ECDSA certificates; mtlsbench adds
			# it itself).
			if [ "$v" = 1.3 ]; then
				stime_ver=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256) bare_groups=x25519
			else
				stime_ver=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256) bare_groups=x25519,p256
			fi

			run_client "$tpid" "$WORK/$tag.mtlsbench" "$MB" run --target "127.0.0.1:$port" --ca "$CA" --cert "$CERT" --key "$KEY" \
				--server-name localhost --tls "$v" --resume "$resume" --groups x25519 --requests 1 \
				-c 1 -d "${D}s" --warmup 0 -q -o "$WORK/$tag.json"
			n=$(grep -o '"ok": [0-9]*' "$WORK/$tag.json" | head -1 | grep -o '[0-9]*$')
			errs=$(grep -o '"errors": [0-9]*' "$WORK/$tag.json" | head -1 | grep -o '[0-9]*$' || true)
			rate=$(grep -o '"handshakes_per_s": [0-9.e+]*' "$WORK/$tag.json" | head -1 | awk '{print $2}')
			[ "${errs:-0}" = 0 ] || log "mtlsbench reported $errs errors ($tag)"
			echo "$target $v $mode mtlsbench $n $rate $(cat "$WORK/$tag.mtlsbench.time")" >>"$ROWS"

			run_client "$tpid" "$WORK/$tag.bare" "$MB" bare-client --target "127.0.0.1:$port" --ca "$CA" --cert "$CERT" --key "$KEY" \
				--tls "$v" --groups "$bare_groups" "${bare_resume[@]}" --request / -c 1 -d "${D}s"
			n=$(grep -o 'handshakes=[0-9]*' "$WORK/$tag.bare" | cut -d= -f2)
			rate=$(grep -o 'rate=[0-9.]*' "$WORK/$tag.bare" | cut -d= -f2)
			echo "$target $v $mode bare $n $rate $(cat "$WORK/$tag.bare.time")" >>"$ROWS"

			run_client "$tpid" "$WORK/$tag.stime" openssl s_time -connect "127.0.0.1:$port" "$stime_mode" "${stime_ver[@]}" \
				-cert "$CERT" -key "$KEY" -CAfile "$CA" -verify 2 -www / -time "$D"
			# "N connections in U.UUs; ..." (user seconds: s_time's own
			# figure, not used); the wall time is /usr/bin/time's.
			n=$(grep -o '^[0-9]* connections in [0-9.]*s;' "$WORK/$tag.stime" | head -1 | awk '{print $1}')
			[ -n "$n" ] || { tail -5 "$WORK/$tag.stime" >&2; die "s_time printed no count ($tag)"; }
			wall=$(awk '{print $1}' "$WORK/$tag.stime.time")
			rate=$(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.1f", n/w}')
			echo "$target $v $mode s_time $n $rate $(cat "$WORK/$tag.stime.time")" >>"$ROWS"
		done
	done
done

# --- the client stacks: RSA-2048 client certificates -------------------------
STACK_ROWS=$WORK/stack-rows
: >"$STACK_ROWS"
stacks=(go)
# (Read whole first: grep -q would end the pipe early, and pipefail then
# takes the writer's SIGPIPE for a failure.)
mb_version=$("$MB" version 2>/dev/null || true)
if [[ $mb_version == *"openssl client: OpenSSL"* ]]; then
	# go-signer: the go client with its signatures made by OpenSSL
	# (--client-signer openssl).
	stacks+=(go-signer openssl)
else
	log "this mtlsbench has no openssl client ($(sed -n 's/^openssl client: //p' <<<"$mb_version")): its row is left out"
fi
RCA=$PKI_RSA/ca.pem RCERT=$PKI_RSA/client-1.pem RKEY=$PKI_RSA/client-1-key.pem
[[ " $SECTIONS " == *" stacks "* ]] || stacks=()
for stack in "${stacks[@]}"; do
	tag="stack-$stack"
	stack_args=(--client "$stack")
	[ "$stack" = go-signer ] && stack_args=(--client go --client-signer openssl)
	log "nginx, TLS 1.3 full, RSA-2048 client certificate: mtlsbench ${stack_args[*]} (${D}s)"
	run_client "$NGINX_PID" "$WORK/$tag" "$MB" run --target "127.0.0.1:$NGINX_RSA_PORT" --ca "$RCA" --cert "$RCERT" --key "$RKEY" \
		--server-name localhost --tls 1.3 --resume none --groups x25519 --requests 1 "${stack_args[@]}" \
		-c 1 -d "${D}s" --warmup 0 -q -o "$WORK/$tag.json"
	n=$(grep -o '"ok": [0-9]*' "$WORK/$tag.json" | head -1 | grep -o '[0-9]*$')
	errs=$(grep -o '"errors": [0-9]*' "$WORK/$tag.json" | head -1 | grep -o '[0-9]*$' || true)
	rate=$(grep -o '"handshakes_per_s": [0-9.e+]*' "$WORK/$tag.json" | head -1 | awk '{print $2}')
	[ "${errs:-0}" = 0 ] || log "mtlsbench --client $stack reported $errs errors"
	echo "mtlsbench-$stack $n $rate $(cat "$WORK/$tag.time")" >>"$STACK_ROWS"
done
if [[ " $SECTIONS " == *" stacks "* ]]; then
log "nginx, TLS 1.3 full, RSA-2048 client certificate: s_time (${D}s)"
run_client "$NGINX_PID" "$WORK/stack-stime" openssl s_time -connect "127.0.0.1:$NGINX_RSA_PORT" -new -tls1_3 \
	-cert "$RCERT" -key "$RKEY" -CAfile "$RCA" -verify 2 -www / -time "$D"
n=$(grep -o '^[0-9]* connections in [0-9.]*s;' "$WORK/stack-stime" | head -1 | awk '{print $1}')
[ -n "$n" ] || { tail -5 "$WORK/stack-stime" >&2; die "s_time printed no count (RSA-2048 client)"; }
wall=$(awk '{print $1}' "$WORK/stack-stime.time")
echo "s_time $n $(awk -v n="$n" -v w="$wall" 'BEGIN{printf "%.1f", n/w}') $(cat "$WORK/stack-stime.time")" >>"$STACK_ROWS"
fi

# --- the table ----------------------------------------------------------------
if [[ " $SECTIONS " == *" peers "* ]]; then
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "mtlsbench bench-peers · $(date -u +%Y-%m-%dT%H:%MZ) · ${cpu_model:-unknown CPU}, $(nproc) cores, Linux $(uname -r)"
echo "$($GO version | awk '{print $3}'), $(openssl version | awk '{print $1, $2}'), nginx $("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
echo "target on CPU ${TARGET_CPU:-any}, clients on CPU ${CLIENT_CPU:-any}; ECDSA P-256, X25519, AES-128-GCM; one connection at a time,"
echo "each: handshake (client cert, server chain verified) + GET / + response; ${D}s per run; CPU = user+sys per handshake"
echo
awk '
{ key = $1 " " $2 " " $3; cl = $4
  n[key, cl] = $5; rate[key, cl] = $6; cpu[key, cl] = ($8 + $9) * 1e6 / ($5 > 0 ? $5 : 1)
  tcpu[key, cl] = $10 * 1e6 / ($5 > 0 ? $5 : 1)
  if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
END {
  printf "%-8s %-4s %-8s %-10s %8s %11s %11s %7s %9s\n", "target", "TLS", "hs", "client", "hs/s", "client µs", "target µs", "÷bare", "÷s_time"
  split("mtlsbench bare s_time", cls, " ")
  for (i = 1; i <= k; i++) {
    split(order[i], f, " ")
    for (j = 1; j <= 3; j++) {
      c = cls[j]; key = order[i]
      printf "%-8s %-4s %-8s %-10s %8.0f %11.0f %11.0f %7.2f %9.2f\n", (j == 1 ? f[1] : ""), (j == 1 ? f[2] : ""), (j == 1 ? f[3] : ""), c,
        rate[key, c], cpu[key, c], tcpu[key, c], cpu[key, c] / cpu[key, "bare"], cpu[key, c] / cpu[key, "s_time"]
    }
  }
  print ""
  print "goals: mtlsbench ÷bare ≤ 1.10, mtlsbench ÷s_time ≤ 0.60 (client CPU per handshake)"
  for (i = 1; i <= k; i++) {
    key = order[i]; rb = cpu[key, "mtlsbench"] / cpu[key, "bare"]; rs = cpu[key, "mtlsbench"] / cpu[key, "s_time"]
    printf "  %-22s ÷bare %.2f %s   ÷s_time %.2f %s\n", key, rb, (rb <= 1.10 ? "met" : "NOT met"), rs, (rs <= 0.60 ? "met" : "NOT met")
  }
}' "$ROWS"

fi

[[ " $SECTIONS " == *" stacks "* ]] || exit 0
echo
echo "client stacks · nginx, TLS 1.3 full handshakes, RSA-2048 client certificate (ECDSA P-256 server and CA), X25519,"
echo "$(sed -n 's/^openssl client: /openssl client: /p' <<<"$mb_version"); s_time: the system's $(openssl version | awk '{print $1, $2}')"
echo "GET / per connection, one connection at a time; CPU = user+sys per handshake"
echo
awk '
{ cl = $1; n[cl] = $2; rate[cl] = $3; cpu[cl] = ($5 + $6) * 1e6 / ($2 > 0 ? $2 : 1); tcpu[cl] = $7 * 1e6 / ($2 > 0 ? $2 : 1); order[++k] = cl }
END {
  printf "%-18s %8s %11s %11s %8s\n", "client", "hs/s", "client µs", "target µs", "÷go"
  for (i = 1; i <= k; i++) { c = order[i]
    printf "%-18s %8.0f %11.0f %11.0f %8.2f\n", c, rate[c], cpu[c], tcpu[c], cpu[c] / cpu["mtlsbench-go"] }
  if ("mtlsbench-openssl" in cpu) {
    r = cpu["mtlsbench-openssl"] / cpu["mtlsbench-go"]
    printf "\ngoal: the openssl client ≤ 0.50× the go client (client CPU per handshake): %.2f %s\n", r, (r <= 0.50 ? "met" : "NOT met")
  }
}' "$STACK_ROWS"
