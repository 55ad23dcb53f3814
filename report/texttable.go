package report

import (
	"bytes"
	"fmt"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// TextTable is a table as every text renderer writes it (the case table,
// the capacity views, compare's table): no borders, a rule under the
// header, no wrapping and no spaces at line ends.
type TextTable struct {
	Header []string
	// Left lists the columns aligned left (names, words); the others,
	// figures, align right.
	Left []int
	// KeepIndent keeps the spaces a cell starts with, for rows indented
	// under a heading row; otherwise cells are trimmed.
	KeepIndent bool
	Rows       [][]string
}

// Render lays the table out: the header, its rule, one line per row.
func (t TextTable) Render() ([]byte, error) {
	aligns := make([]tw.Align, len(t.Header))
	for i := range aligns {
		aligns[i] = tw.AlignRight
	}
	for _, i := range t.Left {
		if i >= 0 && i < len(aligns) {
			aligns[i] = tw.AlignLeft
		}
	}
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleLight),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.On},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	}
	if t.KeepIndent {
		opts = append(opts, tablewriter.WithTrimSpace(tw.Off))
	}
	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf, opts...)
	table.Header(t.Header)
	for _, row := range t.Rows {
		if err := table.Append(row); err != nil {
			return nil, fmt.Errorf("report: table: %w", err)
		}
	}
	if err := table.Render(); err != nil {
		return nil, fmt.Errorf("report: table: %w", err)
	}
	return trimLineEnds(buf.Bytes()), nil
}

// trimLineEnds drops the spaces the table pads its last column with.
func trimLineEnds(text []byte) []byte {
	lines := bytes.Split(text, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, " ")
	}
	return bytes.Join(lines, []byte("\n"))
}
