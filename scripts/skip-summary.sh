#!/bin/sh
# Prints the one line `make test` ends with: what its tests skipped for
# want of a server, module or tool, and the command that installs it.
# Reads the skip log internal/testenv writes (what<TAB>hint<TAB>test per
# skip; see MTLSBENCH_SKIPLOG).
#
# Usage: scripts/skip-summary.sh SKIPLOG
log=${1:?usage: skip-summary.sh SKIPLOG}
if [ ! -s "$log" ]; then
	echo "make test: nothing skipped for want of a server or tool"
	exit 0
fi
root=
[ "$(id -u)" -eq 0 ] || root="sudo "
awk -F '\t' -v root="$root" '
	!seen_test[$3]++ { tests++ }
	!seen_what[$1]++ { whats = whats (whats ? ", " : "") $1 }
	!seen_hint[$2]++ {
		if ($2 ~ /^apt-get install /) {
			pkgs = pkgs " " substr($2, length("apt-get install ") + 1)
		} else {
			other = other "; " $1 ": " $2
		}
	}
	END {
		line = "make test: skipped " tests " test" (tests == 1 ? "" : "s") " for want of " whats
		if (pkgs != "") line = line "; install with: " root "apt-get install" pkgs " (as root, make test installs them unless INSTALL=no)"
		print line other
	}' "$log"
