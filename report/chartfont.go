package report

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"html"
	"regexp"
	"sort"

	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"golang.org/x/image/font/sfnt"
)

// The charts are measured by gonum/plot in Liberation Sans (chartFont).
// A browser that lays their text out in another font clips titles, tick
// labels and legends, so the HTML report carries the font itself: an
// @font-face rule whose data URL holds Liberation Sans cut down to the
// glyphs the page's charts use, under its own family name
// (chartFontFamily) that the stylesheet gives every chart text. The page
// then renders alike on every machine, fonts installed or not.
//
// The cut keeps every glyph index (cmap, hmtx and the kern table stay
// valid as they are) and empties the outlines of glyphs no chart text
// needs. It drops GPOS, GSUB and GDEF: gonum measures with the kern table
// and no substitutions, and a browser given no GPOS kerns by the kern
// table too, so both set the same advances.

// chartFontFamily is the family name the embedded face is declared under.
const chartFontFamily = "mtlsbench-chart"

// svgText matches the text of an SVG <text> element as vgsvg writes it.
var svgText = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)

// chartFontFace returns the @font-face rule declaring chartFontFamily
// with the glyphs of every <text> in page; "" when page has none.
func chartFontFace(page []byte) (string, error) {
	var used []rune
	seen := map[rune]bool{}
	for _, m := range svgText.FindAllSubmatch(page, -1) {
		for _, r := range html.UnescapeString(string(m[1])) {
			if !seen[r] {
				seen[r] = true
				used = append(used, r)
			}
		}
	}
	if len(used) == 0 {
		return "", nil
	}
	sort.Slice(used, func(i, j int) bool { return used[i] < used[j] })
	ttf, err := subsetFont(liberationsansregular.TTF, used)
	if err != nil {
		return "", fmt.Errorf("report: chart font: %w", err)
	}
	return "@font-face { font-family: \"" + chartFontFamily + "\"; font-style: normal; font-weight: 400; " +
		"src: url(data:font/ttf;base64," + base64.StdEncoding.EncodeToString(ttf) + ") format(\"truetype\"); }", nil
}

// droppedTables are the tables the cut font leaves out (see above).
var droppedTables = map[string]bool{"GPOS": true, "GSUB": true, "GDEF": true, "FFTM": true, "DSIG": true, "hdmx": true, "LTSH": true, "VDMX": true}

// subsetFont returns the TrueType font ttf with the outlines of every glyph
// that none of runes needs emptied (glyph 0, .notdef, is kept), glyph
// names dropped (post version 3) and droppedTables left out.
func subsetFont(ttf []byte, runes []rune) ([]byte, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	tables, err := fontTables(ttf)
	if err != nil {
		return nil, err
	}
	head, maxp, loca, glyf := tables["head"], tables["maxp"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || loca == nil || glyf == nil {
		return nil, fmt.Errorf("not a TrueType-outline font (head, maxp, loca or glyf missing)")
	}
	numGlyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	longLoca := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(i int) (int, error) {
		var o int
		if longLoca {
			if 4*i+4 > len(loca) {
				return 0, fmt.Errorf("loca too short for glyph %d", i)
			}
			o = int(binary.BigEndian.Uint32(loca[4*i:]))
		} else {
			if 2*i+2 > len(loca) {
				return 0, fmt.Errorf("loca too short for glyph %d", i)
			}
			o = 2 * int(binary.BigEndian.Uint16(loca[2*i:]))
		}
		if o > len(glyf) {
			return 0, fmt.Errorf("glyph %d starts past glyf", i)
		}
		return o, nil
	}
	glyph := func(i int) ([]byte, error) {
		lo, err := offset(i)
		if err != nil {
			return nil, err
		}
		hi, err := offset(i + 1)
		if err != nil || hi < lo {
			return nil, fmt.Errorf("glyph %d: bad loca", i)
		}
		return glyf[lo:hi], nil
	}

	keep := map[int]bool{0: true}
	var queue []int
	var buf sfnt.Buffer
	for _, r := range runes {
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil {
			return nil, err
		}
		if gi != 0 && !keep[int(gi)] {
			keep[int(gi)] = true
			queue = append(queue, int(gi))
		}
	}
	// A composite glyph (é, µ in some fonts) draws other glyphs: keep them.
	for len(queue) > 0 {
		gi := queue[0]
		queue = queue[1:]
		g, err := glyph(gi)
		if err != nil {
			return nil, err
		}
		for _, c := range compositeComponents(g) {
			if c < numGlyphs && !keep[c] {
				keep[c] = true
				queue = append(queue, c)
			}
		}
	}

	// The new glyf and a short loca (offsets/2): the kept outlines are far
	// below its 128 KiB limit; each is padded to an even length.
	var newGlyf bytes.Buffer
	newLoca := make([]byte, 2*(numGlyphs+1))
	for i := 0; i < numGlyphs; i++ {
		binary.BigEndian.PutUint16(newLoca[2*i:], uint16(newGlyf.Len()/2))
		if !keep[i] {
			continue
		}
		g, err := glyph(i)
		if err != nil {
			return nil, err
		}
		newGlyf.Write(g)
		if newGlyf.Len()%2 == 1 {
			newGlyf.WriteByte(0)
		}
	}
	if newGlyf.Len() >= 1<<17 {
		return nil, fmt.Errorf("kept outlines too large for a short loca")
	}
	binary.BigEndian.PutUint16(newLoca[2*numGlyphs:], uint16(newGlyf.Len()/2))

	head = bytes.Clone(head)
	binary.BigEndian.PutUint16(head[50:], 0) // indexToLocFormat: short
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	post := bytes.Clone(tables["post"][:min(32, len(tables["post"]))])
	if len(post) == 32 {
		binary.BigEndian.PutUint32(post[0:], 0x00030000) // version 3: no glyph names
	}
	tables["head"], tables["loca"], tables["glyf"], tables["post"] = head, newLoca, newGlyf.Bytes(), post
	for tag := range droppedTables {
		delete(tables, tag)
	}
	out := writeFont(tables)
	// checkSumAdjustment makes the whole font sum to 0xB1B0AFBA.
	for i := range int(binary.BigEndian.Uint16(out[4:])) {
		if rec := out[12+16*i:]; string(rec[:4]) == "head" {
			at := int(binary.BigEndian.Uint32(rec[8:]))
			binary.BigEndian.PutUint32(out[at+8:], 0xB1B0AFBA-tableChecksum(out))
		}
	}
	return out, nil
}

// compositeComponents lists the glyphs a composite glyph is drawn from;
// nil for a simple or empty glyph.
func compositeComponents(g []byte) []int {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	const (
		argsAreWords   = 0x0001
		haveScale      = 0x0008
		moreComponents = 0x0020
		haveXYScale    = 0x0040
		haveTwoByTwo   = 0x0080
	)
	var out []int
	for p := 10; p+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[p:])
		out = append(out, int(binary.BigEndian.Uint16(g[p+2:])))
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			break
		}
	}
	return out
}

// fontTables splits a TrueType file into its tables by tag.
func fontTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, fmt.Errorf("font too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, fmt.Errorf("font table directory truncated")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := ttf[12+16*i:]
		tag := string(rec[:4])
		off, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(ttf) {
			return nil, fmt.Errorf("font table %q out of bounds", tag)
		}
		tables[tag] = ttf[off : off+length]
	}
	return tables, nil
}

// writeFont lays tables out as a TrueType file: the directory sorted by
// tag, each table 4-byte aligned with its checksum.
func writeFont(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 16 << entrySelector
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out[0:], 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(searchRange))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-searchRange))
	for i, tag := range tags {
		data := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], tableChecksum(data))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(data)))
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// tableChecksum is the TrueType checksum: the sum of big-endian uint32s,
// the data zero-padded to a multiple of 4.
func tableChecksum(data []byte) uint32 {
	var sum uint32
	for i := 0; i < len(data); i += 4 {
		var word [4]byte
		copy(word[:], data[i:])
		sum += binary.BigEndian.Uint32(word[:])
	}
	return sum
}
