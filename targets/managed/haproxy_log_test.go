package managed

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHAProxyCollector checks that the receiver of HAProxy's log writes
// whole lines only, from every connection, and stops on close.
func TestHAProxyCollector(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.log")
	c, err := startHAProxyCollector(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := net.Dial("tcp", c.addr())
	if err != nil {
		t.Fatal(err)
	}
	second, err := net.Dial("tcp", c.addr())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(first, "one\ntw")
	io.WriteString(second, "three\n")
	time.Sleep(50 * time.Millisecond)
	io.WriteString(first, "o\ncut at exit")
	second.Close()
	want := []string{"one", "three", "two"}
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(path)
		got = strings.Fields(string(data))
		if len(got) == len(want) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.close() // with first still open
	data, _ := os.ReadFile(path)
	got = strings.Fields(string(data))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the log holds %q, want the whole lines %q", got, want)
	}
	if _, err := net.DialTimeout("tcp", c.addr(), time.Second); err == nil {
		t.Error("the collector still accepts connections after close")
	}
	first.Close()
}
