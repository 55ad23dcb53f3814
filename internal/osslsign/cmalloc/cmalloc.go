//go:build cgo && linux

// Package cmalloc owns one figure for leak checks of cgo code: the bytes
// the C allocator has handed out and not taken back (glibc's mallinfo2:
// every arena, and the chunks it mapped). Go's own heap is not in it, so
// a test can see a C leak of a few bytes per call that the resident set,
// moved by Go's heap, hides. Tests import it; the binary does not.
package cmalloc

/*
#include <malloc.h>

static long long cmalloc_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 m = mallinfo2();
	return (long long)(m.uordblks + m.hblkhd);
#else
	return -1;
#endif
}
*/
import "C"

// InUse is the bytes C's malloc has allocated and not freed, or -1 where
// the C library cannot say (not glibc 2.33 or later).
func InUse() int64 { return int64(C.cmalloc_in_use()) }
