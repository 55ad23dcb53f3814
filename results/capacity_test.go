package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
	"github.com/mtlsbench/mtlsbench/results"
)

func TestCapacityRoundTrip(t *testing.T) {
	run := resultstest.CapacityRun()
	var buf bytes.Buffer
	if err := results.Write(&buf, run); err != nil {
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
	back, err := results.Read(bytes.NewReader(buf.Bytes()), "capacity.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Cases[1].Capacity.Verdict != "lower_bound" || len(back.Cases[0].Capacity.Steps) != 10 || len(back.Cases[1].Capacity.Steps) != 6 {
		t.Errorf("read back %+v", back.Cases[1].Capacity)
	}
}

func TestMergeRefusesCapacity(t *testing.T) {
	a, b := resultstest.CapacityRun(), resultstest.CapacityRun()
	b.Environment.Hostname = "other"
	b.Start = b.Start.Add(time.Minute)
	_, err := results.Merge(a, b)
	var me *results.MergeError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "capacity search") {
		t.Errorf("Merge of capacity searches = %v, want a *MergeError saying why", err)
	}
}
