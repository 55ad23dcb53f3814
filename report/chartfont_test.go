package report

import (
	"strings"
	"testing"

	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// TestSubsetFont: the cut font keeps the outlines and advances of the
// glyphs asked for and nothing else, parses as a font, and is small.
func TestSubsetFont(t *testing.T) {
	cut, err := subsetFont(liberationsansregular.TTF, []rune("p99 µs–×"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) > len(liberationsansregular.TTF)/5 {
		t.Errorf("cut font is %d bytes, the whole font %d: want under a fifth", len(cut), len(liberationsansregular.TTF))
	}
	full, err := sfnt.Parse(liberationsansregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := sfnt.Parse(cut)
	if err != nil {
		t.Fatalf("cut font does not parse: %v", err)
	}
	var buf sfnt.Buffer
	outline := func(f *sfnt.Font, r rune) (int, fixed.Int26_6) {
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil || gi == 0 {
			t.Fatalf("glyph of %q: %d, %v", r, gi, err)
		}
		adv, err := f.GlyphAdvance(&buf, gi, fixed.I(2048), font.HintingNone)
		if err != nil {
			t.Fatal(err)
		}
		segs, err := f.LoadGlyph(&buf, gi, fixed.I(2048), nil)
		if err != nil {
			t.Fatalf("glyph of %q: %v", r, err)
		}
		return len(segs), adv
	}
	for _, r := range "p9µs–×" {
		n, adv := outline(sub, r)
		wantN, wantAdv := outline(full, r)
		if n != wantN || adv != wantAdv {
			t.Errorf("%q: %d segments, advance %v; the whole font's: %d, %v", r, n, adv, wantN, wantAdv)
		}
	}
	for _, r := range "AQz" {
		if n, adv := outline(sub, r); n != 0 || adv == 0 {
			t.Errorf("%q, not asked for: %d segments (want 0), advance %v (want kept)", r, n, adv)
		}
	}
	face, err := chartFontFace([]byte(`<svg><text x="1">p99 &amp; µs</text></svg>`))
	if err != nil || !strings.Contains(face, `font-family: "`+chartFontFamily+`"`) || !strings.Contains(face, "data:font/ttf;base64,") {
		t.Errorf("chartFontFace = %.120q, %v", face, err)
	}
	if face, err := chartFontFace([]byte("<p>no charts</p>")); face != "" || err != nil {
		t.Errorf("chartFontFace of a page without charts = %.80q, %v; want none", face, err)
	}
}
