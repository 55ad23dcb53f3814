#!/usr/bin/env bash
# openssl-build: OpenSSL 3.5 in a private prefix, for the openssl client
# stack (and an OpenSSL 3.5 s_server) on a machine whose system OpenSSL is
# older. Debian 12 ships 3.0, whose client handshakes cost ~1.5 ms of CPU
# each (decoding the server's certificate alone takes ~270 µs there) and
# which has no ML-KEM groups; 3.5 has both fixed.
#
# The source is Debian 13's openssl source package (upstream's release
# tarball), fetched with apt-get source from the Debian archive this
# machine already uses (its URI is read from its own apt configuration;
# nothing else is contacted), into a scratch directory with its own apt
# lists — the system's apt configuration is not changed. It is built
# shared, without tests and docs, and installed into PREFIX (lib/,
# include/, bin/openssl). Nothing outside PREFIX is written but the
# scratch directory, which is removed.
#
# Usage: scripts/openssl-build.sh [PREFIX]     (make openssl)
#        default PREFIX: ${XDG_CACHE_HOME:-$HOME/.cache}/mtlsbench/openssl-3.5
# Then:  make build OPENSSL_PREFIX=PREFIX      (the binary finds it by rpath)
# About 5 minutes on 2 cores. Idempotent: an existing PREFIX with a 3.5
# libssl is kept.
set -euo pipefail

log() { printf 'openssl-build: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

PREFIX=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/mtlsbench/openssl-3.5}
if [ -x "$PREFIX/bin/openssl" ] && LD_LIBRARY_PATH="$PREFIX/lib" "$PREFIX/bin/openssl" version 2>/dev/null | grep -q '^OpenSSL 3\.5'; then
	log "already built: $(LD_LIBRARY_PATH="$PREFIX/lib" "$PREFIX/bin/openssl" version) in $PREFIX"
	exit 0
fi
for tool in apt-get apt-cache gcc make perl tar; do
	command -v "$tool" >/dev/null || die "needs $tool (Debian: apt-get install build-essential perl)"
done
src=/etc/apt/sources.list.d/debian.sources
uri=$(awk '/^URIs:/ {print $2; exit}' "$src" 2>/dev/null || true)
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$uri" ] || die "cannot find this machine's Debian archive in its apt configuration"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtlsbench-openssl.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/parts" "$WORK/lists/partial"
printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" >"$WORK/parts/trixie.sources"
apt=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$WORK/parts" -o "Dir::State::Lists=$WORK/lists" -o Debug::NoLocking=1)
log "reading Debian 13's source index"
apt-get "${apt[@]}" update -qq >/dev/null 2>&1 || apt-get "${apt[@]}" update
cd "$WORK"
got=
for v in $(apt-cache "${apt[@]}" showsrc openssl 2>/dev/null | awk '/^Version: 3\.5/ {print $2}' | sort -rV); do
	log "fetching openssl $v"
	if apt-get "${apt[@]}" source --download-only "openssl=$v" >/dev/null 2>&1; then got=$v; break; fi
	log "openssl $v is not in the archive (any more); trying the next"
done
[ -n "$got" ] || die "no OpenSSL 3.5 source package could be fetched"
tarball=$(ls openssl_3.5*.orig.tar.gz | head -n 1)
tar xzf "$tarball"
cd openssl-3.5*/
log "building $(basename "$PWD") into $PREFIX (about 5 minutes on 2 cores)"
./Configure --prefix="$PREFIX" --openssldir="$PREFIX/ssl" --libdir=lib shared no-tests no-docs >"$WORK/configure.log" 2>&1 || { tail -20 "$WORK/configure.log" >&2; die "Configure failed"; }
make -j"$(nproc)" >"$WORK/make.log" 2>&1 || { tail -20 "$WORK/make.log" >&2; die "make failed"; }
make install_sw install_ssldirs >"$WORK/install.log" 2>&1 || { tail -20 "$WORK/install.log" >&2; die "make install failed"; }
log "built: $(LD_LIBRARY_PATH="$PREFIX/lib" "$PREFIX/bin/openssl" version) in $PREFIX"
log "now: make build OPENSSL_PREFIX=$PREFIX"
