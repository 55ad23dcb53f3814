package results

import "io"

func renderHTML(w io.Writer, run *Run, opts RenderOptions) error { return nil }
func renderPNG(w io.Writer, run *Run, opts RenderOptions) error  { return nil }
