package outfile

import "golang.org/x/sys/unix"

// renameExclusive renames tmp to path, failing with EEXIST when anything
// is at path (renameatx_np RENAME_EXCL, macOS's renameat2 NOREPLACE).
func renameExclusive(tmp, path string) error {
	return unix.RenameatxNp(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_EXCL)
}

// renameSwap swaps tmp and path atomically (renameatx_np RENAME_SWAP).
func renameSwap(tmp, path string) error {
	return unix.RenameatxNp(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_SWAP)
}
