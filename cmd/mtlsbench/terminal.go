package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal (for the live progress line).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// terminalWidth reports f's width in columns, asked anew each time (a
// terminal may be resized during a run); 0 when it cannot be read.
func terminalWidth(f *os.File) func() int {
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}
