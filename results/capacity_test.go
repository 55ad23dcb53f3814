package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRenderCapacityGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{FormatTable, "capacity.table.golden"},
		{FormatMarkdown, "capacity.markdown.golden"},
		{FormatHTML, "capacity.html.golden"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			Golden(t, tc.file, renderString(t, CapacityRun(), tc.format, RenderOptions{}))
		})
	}
}

// TestRenderCapacityFacts checks what a reader must never miss, whatever
// the layout: a lower bound is never shown as a capacity, and the
// projection states its assumption.
func TestRenderCapacityFacts(t *testing.T) {
	run := CapacityRun()
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		out := string(renderString(t, run, f, RenderOptions{}))
		for _, want := range []string{"≥ 800/s", "lower bound", "1050/s", "cores for 20000/s", "linear scaling", "AMD EPYC 7B13", "p99 72.1ms", "800–1000/s", "retry"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q", f, want)
			}
		}
	}
	// Every other format still renders a capacity run.
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Render(&buf, run, f, RenderOptions{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestCapacityRoundTrip(t *testing.T) {
	run := CapacityRun()
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Cases []struct {
			Capacity map[string]any `json:"capacity"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if got := raw.Cases[0].Capacity["max_sustainable_rate"]; got != 1050.0 {
		t.Errorf("cases[0].capacity.max_sustainable_rate = %v, want 1050", got)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()), "capacity.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Cases[1].Capacity.Verdict != "lower_bound" || len(back.Cases[0].Capacity.Steps) != 10 || len(back.Cases[1].Capacity.Steps) != 6 {
		t.Errorf("read back %+v", back.Cases[1].Capacity)
	}
}

func TestMergeRefusesCapacity(t *testing.T) {
	a, b := CapacityRun(), CapacityRun()
	b.Environment.Hostname = "other"
	b.Start = b.Start.Add(time.Minute)
	_, err := Merge(a, b)
	var me *MergeError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "capacity search") {
		t.Errorf("Merge of capacity searches = %v, want a *MergeError saying why", err)
	}
}

func TestCompareWarnsOnCapacity(t *testing.T) {
	cmp, err := Compare(CapacityRun(), CapacityRun(), CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range cmp.Warnings {
		found = found || strings.Contains(w, "capacity search")
	}
	if !found {
		t.Errorf("warnings %q: want one saying capacity figures are at different loads", cmp.Warnings)
	}
}
