//go:build unix && !linux && !darwin

package outfile

import "golang.org/x/sys/unix"

// renameExclusive reports ENOSYS where no atomic no-replace rename is
// known: install then renames after its look (see renameNoReplace).
func renameExclusive(tmp, path string) error { return unix.ENOSYS }

// renameSwap reports ENOSYS where no atomic exchange is known: install
// then renames after its look (see exchange).
func renameSwap(tmp, path string) error { return unix.ENOSYS }
