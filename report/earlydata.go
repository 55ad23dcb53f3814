package report

import (
	"fmt"

	"github.com/mtlsbench/mtlsbench/results"
)

// earlyDataNotes are the cases that sent TLS 1.3 early data and what
// became of it, one note each, for every renderer's "Early data" list.
func earlyDataNotes(run *results.Run, labels []string) []note {
	var notes []note
	for i := range run.Cases {
		e := run.Cases[i].EarlyData
		if e == nil || e.Offered == 0 {
			continue
		}
		notes = append(notes, note{labels[i], fmt.Sprintf("offered %d, accepted %d, rejected %d, bytes accepted %d", e.Offered, e.Accepted, e.Rejected, e.BytesAccepted)})
	}
	return notes
}

// earlyDataTitle heads the list of earlyDataNotes.
const earlyDataTitle = "Early data"
