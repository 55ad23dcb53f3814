package results

import (
	"os"
	"testing"
)

func TestZZSample(t *testing.T) {
	dir := os.Getenv("SAMPLES")
	if dir == "" {
		t.Skip()
	}
	if err := RenderFile(dir+"/r.html", fixtureRun(), FormatHTML, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderFile(dir+"/r.png", fixtureRun(), FormatPNG, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
}
