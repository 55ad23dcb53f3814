package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"
)

// GenerateContext makes what Generate makes: every client chains to the
// root through the intermediate, with the names and validity Generate
// gives them.
func TestGenerateContextBundle(t *testing.T) {
	notBefore := time.Now().Add(-time.Minute).Truncate(time.Second)
	b, err := GenerateContext(context.Background(), Options{Clients: 3, Intermediate: true, NotBefore: notBefore, Validity: time.Hour, Name: "ctx"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Clients) != 3 || b.Intermediate == nil {
		t.Fatalf("%d clients, intermediate %v; want 3 and one", len(b.Clients), b.Intermediate != nil)
	}
	verify(t, b, b.Server, x509.ExtKeyUsageServerAuth, "localhost")
	for i, c := range b.Clients {
		verify(t, b, c, x509.ExtKeyUsageClientAuth, "")
		leaf := c.Leaf()
		if want := fmt.Sprintf("ctx client %d", i+1); leaf.Subject.CommonName != want {
			t.Errorf("client %d is %q, want %q", i+1, leaf.Subject.CommonName, want)
		}
		if !leaf.NotBefore.Equal(notBefore) || !leaf.NotAfter.Equal(notBefore.Add(time.Hour)) {
			t.Errorf("client %d valid %v–%v, want %v for 1h", i+1, leaf.NotBefore, leaf.NotAfter, notBefore)
		}
		if len(c.Chain) != 2 {
			t.Errorf("client %d chain of %d, want leaf and intermediate", i+1, len(c.Chain))
		}
	}
	if _, err := GenerateContext(context.Background(), Options{Clients: -1}); err == nil {
		t.Error("GenerateContext accepted -1 clients")
	}
}

// The most identities (100,000) take tens of seconds; cancelling returns at once,
// with an error that says so and wraps context.Canceled.
func TestGenerateContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := GenerateContext(ctx, Options{Clients: MaxClients})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want one wrapping context.Canceled", err)
		}
		t.Logf("%v after the cancel: %v", time.Since(start), err)
	case <-time.After(2 * time.Second):
		t.Fatal("GenerateContext still running 2s after its context was cancelled")
	}

	// An RSA-4096 key takes a second or more: the cancel does not wait for it.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		_, err := GenerateContext(ctx, Options{ServerKeyType: RSA4096, Clients: 100})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Fatal("GenerateContext waited for an RSA-4096 key after its context was cancelled")
	}

	cancel()
	if _, err := GenerateContext(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("with a cancelled context: %v, want context.Canceled", err)
	}
}
