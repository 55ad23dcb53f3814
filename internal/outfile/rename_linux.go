package outfile

import "golang.org/x/sys/unix"

// renameExclusive renames tmp to path, failing with EEXIST when anything
// is at path (renameat2 RENAME_NOREPLACE).
func renameExclusive(tmp, path string) error {
	return unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_NOREPLACE)
}

// renameSwap swaps tmp and path atomically (renameat2 RENAME_EXCHANGE).
func renameSwap(tmp, path string) error {
	return unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_EXCHANGE)
}
