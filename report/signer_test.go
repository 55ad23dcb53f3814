package report

import (
	"strings"
	"testing"

	"github.com/mtlsbench/mtlsbench/internal/resultstest"
)

// TestClientSignerNote: a case whose client signatures OpenSSL made
// carries the S marker, and the table's and the markdown's notes say what
// it means; a run without one says nothing of it.
func TestClientSignerNote(t *testing.T) {
	const meaning = "client signatures by OpenSSL's libcrypto: cheaper than a Go client's own"
	run := resultstest.DefaultRun()
	for _, f := range []Format{FormatTable, FormatMarkdown} {
		if out := string(renderString(t, run, f, RenderOptions{})); strings.Contains(out, meaning) {
			t.Errorf("%s: the note without an openssl-signed case", f)
		}
	}
	run.Cases[0].Params.ClientSigner = "openssl"
	table := string(renderString(t, run, FormatTable, RenderOptions{}))
	if !strings.Contains(table, "[S] client_signer openssl: "+meaning) {
		t.Errorf("table lacks the note:\n%s", table)
	}
	if n := strings.Count(table, "[S]"); n != 2 {
		t.Errorf("table: [S] %d times, want 2 (the case's row and the note):\n%s", n, table)
	}
	md := string(renderString(t, run, FormatMarkdown, RenderOptions{}))
	if !strings.Contains(md, "- **client_signer openssl**: "+MarkdownText(meaning)) {
		t.Errorf("markdown lacks the note:\n%s", md)
	}
}
