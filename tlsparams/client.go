package tlsparams

import (
	"fmt"
	"strconv"
	"strings"
)

// Client is the TLS client stack a case's connections are made with.
type Client string

const (
	// ClientGo (and the zero value) is Go's crypto/tls.
	ClientGo Client = "go"
	// ClientOpenSSL is the system's libssl, driven through the engine's
	// small cgo core (package loadgen/ossl).
	ClientOpenSSL Client = "openssl"
)

// ClientNames lists the accepted values.
const ClientNames = "go, openssl"

// ParseClient parses "go" or "openssl", in any case.
func ParseClient(s string) (Client, error) {
	switch c := Client(strings.ToLower(strings.TrimSpace(s))); c {
	case ClientGo, ClientOpenSSL:
		return c, nil
	}
	return "", fmt.Errorf("unknown client %q (accepted: %s)", s, ClientNames)
}

// String returns "go" or "openssl" ("go" for zero).
func (c Client) String() string {
	if c == "" {
		return string(ClientGo)
	}
	return string(c)
}

// MarshalText writes c as String does.
func (c Client) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads what String writes ("" is go).
func (c *Client) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ClientGo
		return nil
	}
	v, err := ParseClient(string(b))
	if err != nil {
		return fmt.Errorf("tlsparams: %w", err)
	}
	*c = v
	return nil
}

// ResumeBy is how a resumed handshake finds its session.
type ResumeBy string

const (
	// ResumeByTicket (and the zero value): a session ticket (TLS 1.2) or a
	// TLS 1.3 pre-shared key from a NewSessionTicket.
	ResumeByTicket ResumeBy = "ticket"
	// ResumeBySessionID: TLS 1.2 resumption by session ID from the
	// server's session cache, tickets off on both sides.
	ResumeBySessionID ResumeBy = "session-id"
)

// String returns "ticket" or "session-id" ("ticket" for zero).
func (r ResumeBy) String() string {
	if r == "" {
		return string(ResumeByTicket)
	}
	return string(r)
}

// SessionID reports whether resumption is by session ID.
func (r ResumeBy) SessionID() bool { return r == ResumeBySessionID }

// PSKMode is the TLS 1.3 PSK key-exchange mode a resumption asks for.
type PSKMode string

const (
	// PSKModeDHE (and the zero value): psk_dhe_ke, a resumption with a
	// fresh (EC)DHE key exchange (what every stack does by default).
	PSKModeDHE PSKMode = "dhe"
	// PSKModeKE: psk_ke, a resumption without (EC)DHE — no forward
	// secrecy for it, and no key-exchange cost.
	PSKModeKE PSKMode = "ke"
)

// PSKModeNames lists the accepted values.
const PSKModeNames = "dhe, ke"

// ParsePSKMode parses "dhe" or "ke" (also psk_dhe_ke, psk_ke).
func ParsePSKMode(s string) (PSKMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "dhe", "psk_dhe_ke", "":
		return PSKModeDHE, nil
	case "ke", "psk_ke":
		return PSKModeKE, nil
	}
	return "", fmt.Errorf("unknown psk mode %q (accepted: %s)", s, PSKModeNames)
}

// String returns "dhe" or "ke" ("dhe" for zero).
func (m PSKMode) String() string {
	if m == "" {
		return string(PSKModeDHE)
	}
	return string(m)
}

// KE reports whether the mode is psk_ke.
func (m PSKMode) KE() bool { return m == PSKModeKE }

// MaxEarlyData bounds EarlyData: a size that fits the servers' default
// max_early_data (16,384 bytes in OpenSSL).
const MaxEarlyData = 16384

// ParseEarlyData parses an early-data size in bytes (0: none; "512",
// "4k", "4KiB"), at most MaxEarlyData.
func ParseEarlyData(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1
	for _, suf := range []struct {
		s string
		m int
	}{{"kib", 1024}, {"kb", 1000}, {"k", 1024}, {"b", 1}} {
		if strings.HasSuffix(t, suf.s) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, suf.s)), suf.m
			break
		}
	}
	v, err := strconv.Atoi(t)
	if err != nil || v < 0 || v*mult > MaxEarlyData {
		return 0, fmt.Errorf("early data %q: want a size in bytes from 0 (none) to %d, e.g. 512 or 4k", s, MaxEarlyData)
	}
	return v * mult, nil
}
