package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/tlsparams"
)

// The matrix axes, in the order cases are expanded (the first varies
// slowest) and keys are written.
const (
	axTLS = iota
	axCipher
	axGroup
	axKeyShare
	axServerKey
	axClientKey
	axChain
	axIdentities
	axResume
	axRequests
	axAuth
	axTrustStore
	axCRLEntries
	axClient
	axEarlyData
	axPSKMode
	numAxes
)

// axis describes one matrix axis: its names and how a value written for it
// is checked and normalised.
type axis struct {
	// name is the field in the file and in rules; keyName its name in a
	// Case's Key.
	name, keyName string
	// parse returns the canonical spelling of s, or a message and the
	// accepted values.
	parse func(s string) (canon, msg, accepted string)
}

var axes = [numAxes]axis{
	axTLS:        {"tls", "tls", parseTLS},
	axCipher:     {"cipher", "cipher", parseCipher},
	axGroup:      {"group", "group", parseGroup},
	axKeyShare:   {"key_share", "key_share", parseGroup},
	axServerKey:  {"server_key", "server_key", parseKey},
	axClientKey:  {"client_key", "client_key", parseKey},
	axChain:      {"chain", "chain", parseChain},
	axIdentities: {"client_identities", "identities", parseIdentities},
	axResume:     {"resume", "resume", parseResume},
	axRequests:   {"requests", "requests", parseRequests},
	axAuth:       {"auth", "auth", parseAuth},
	axTrustStore: {"trust_store", "trust_store", parseTrustStore},
	axCRLEntries: {"crl_entries", "crl_entries", parseCRLEntries},
	axClient:     {"client", "client", parseClient},
	axEarlyData:  {"early_data", "early_data", parseEarlyData},
	axPSKMode:    {"psk_mode", "psk_mode", parsePSKMode},
}

// AxisNames returns the matrix axes' names, as a file and SetAxis spell
// them, in expansion order.
func AxisNames() []string {
	names := make([]string, numAxes)
	for i, a := range axes {
		names[i] = a.name
	}
	return names
}

func axisByName(name string) (int, bool) {
	for i, a := range axes {
		if a.name == name {
			return i, true
		}
	}
	return 0, false
}

// raw returns the values written for axis i, as strings.
func (m *Matrix) raw(i int) []string {
	switch i {
	case axTLS:
		return m.TLS
	case axCipher:
		return m.Cipher
	case axGroup:
		return m.Group
	case axKeyShare:
		return m.KeyShare
	case axServerKey:
		return m.ServerKey
	case axClientKey:
		return m.ClientKey
	case axChain:
		return m.Chain
	case axIdentities:
		return itoas(m.ClientIdentities)
	case axResume:
		return m.Resume
	case axRequests:
		return itoas(m.Requests)
	case axAuth:
		return m.Auth
	case axTrustStore:
		return itoas(m.TrustStore)
	case axCRLEntries:
		return itoas(m.CRLEntries)
	case axClient:
		return m.Client
	case axEarlyData:
		return m.EarlyData
	case axPSKMode:
		return m.PSKMode
	}
	panic("scenarios: no axis " + strconv.Itoa(i))
}

func itoas(v []int) []string {
	if v == nil {
		return nil
	}
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return s
}

const anyValue = "any"

// clip shortens a value for quoting in a message: a 1 MB "group" should
// not make a 1 MB error.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-3]) + "..."
}

func parseTLS(s string) (string, string, string) {
	v, err := tlsparams.ParseVersion(s)
	if err != nil {
		return "", fmt.Sprintf("unknown TLS version %q", clip(s)), "1.2, 1.3"
	}
	return v.String(), "", ""
}

func parseCipher(s string) (string, string, string) {
	if strings.EqualFold(strings.TrimSpace(s), anyValue) {
		return anyValue, "", ""
	}
	su, err := tlsparams.ParseSuite(s)
	if err != nil {
		return "", fmt.Sprintf("unknown cipher suite %q", clip(s)), "any, " + tlsparams.SuiteNames(0) + ", or their OpenSSL names"
	}
	return su.Name, "", ""
}

func parseGroup(s string) (string, string, string) {
	g, err := tlsparams.ParseGroup(s)
	if err != nil {
		return "", fmt.Sprintf("unknown group %q", clip(s)), tlsparams.GroupNames()
	}
	return g.Name, "", ""
}

func parseKey(s string) (string, string, string) {
	k, err := pki.ParseKeyType(s)
	if err != nil {
		return "", fmt.Sprintf("unknown key type %q", clip(s)), pki.KeyTypeNames()
	}
	return string(k), "", ""
}

// Chain depths.
const (
	ChainRoot         = string(tlsparams.ChainRoot)
	ChainIntermediate = string(tlsparams.ChainIntermediate)
)

func parseChain(s string) (string, string, string) {
	switch n := strings.ToLower(strings.TrimSpace(s)); n {
	case ChainRoot, ChainIntermediate:
		return n, "", ""
	}
	return "", fmt.Sprintf("unknown chain %q", clip(s)), "root (root → leaf), intermediate (root → intermediate → leaf)"
}

// MaxClientIdentities bounds client_identities: each is a certificate the
// run generates before it starts.
const MaxClientIdentities = pki.MaxClients

func parseIdentities(s string) (string, string, string) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxClientIdentities {
		return "", fmt.Sprintf("client identities %q must be a whole number from 1 to %d", clip(s), MaxClientIdentities), ""
	}
	return strconv.Itoa(n), "", ""
}

// MaxRequests bounds requests per connection.
const MaxRequests = 1000000

func parseRequests(s string) (string, string, string) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > MaxRequests {
		return "", fmt.Sprintf("requests %q must be a whole number from 0 to %d", clip(s), MaxRequests), ""
	}
	return strconv.Itoa(n), "", ""
}

// Auth values: who proves its identity (tlsparams.Auth).
const (
	AuthMutual = string(tlsparams.AuthMutual)
	AuthServer = string(tlsparams.AuthServer)
	AuthNone   = string(tlsparams.AuthNone)
)

func parseAuth(s string) (string, string, string) {
	a, err := tlsparams.ParseAuth(s)
	if err != nil {
		return "", fmt.Sprintf("unknown auth %q", clip(s)), "mutual (the client sends a certificate the server verifies), server (one-way TLS: no client certificate), none (plain TCP, no TLS)"
	}
	return string(a), "", ""
}

// tlsOnlyAxes mean nothing without TLS: an auth none cell takes their
// defaults (see plainCell).
var tlsOnlyAxes = []int{axTLS, axCipher, axGroup, axKeyShare, axServerKey, axClientKey, axChain, axIdentities, axResume, axTrustStore, axCRLEntries, axClient, axEarlyData, axPSKMode}

// MaxTrustStore bounds trust_store: the CA names of a larger one overflow
// the CertificateRequest a Go client accepts (see pki.MaxTrustStore).
const MaxTrustStore = pki.MaxTrustStore

func parseTrustStore(s string) (string, string, string) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxTrustStore {
		return "", fmt.Sprintf("trust store %q must be a whole number of CAs from 1 to %d (the case's own and N-1 decoys; more names overflow the 64 KiB CertificateRequest a Go client accepts)", clip(s), MaxTrustStore), ""
	}
	return strconv.Itoa(n), "", ""
}

// MaxCRLEntries bounds crl_entries: the list is generated before the case.
const MaxCRLEntries = pki.MaxCRLEntries

func parseCRLEntries(s string) (string, string, string) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > MaxCRLEntries {
		return "", fmt.Sprintf("CRL entries %q must be a whole number from 0 (no CRL) to %d", clip(s), MaxCRLEntries), ""
	}
	return strconv.Itoa(n), "", ""
}

// Client stacks (tlsparams.Client).
const (
	ClientGo      = string(tlsparams.ClientGo)
	ClientOpenSSL = string(tlsparams.ClientOpenSSL)
)

func parseClient(s string) (string, string, string) {
	c, err := tlsparams.ParseClient(s)
	if err != nil {
		return "", fmt.Sprintf("unknown client %q", clip(s)), "go (Go's crypto/tls), openssl (the system's libssl, in a binary built with it)"
	}
	return string(c), "", ""
}

// parseEarlyData accepts a size in bytes ("512", "4k"), written in bytes.
func parseEarlyData(s string) (string, string, string) {
	n, err := tlsparams.ParseEarlyData(s)
	if err != nil {
		return "", fmt.Sprintf("early data %q must be a size in bytes from 0 (none) to %d, e.g. 512 or 4k", clip(s), tlsparams.MaxEarlyData), ""
	}
	return strconv.Itoa(n), "", ""
}

func parsePSKMode(s string) (string, string, string) {
	if strings.TrimSpace(s) == "" {
		return "", "unknown psk mode \"\"", "dhe (psk_dhe_ke: resumption with a fresh (EC)DHE), ke (psk_ke: resumption without it)"
	}
	m, err := tlsparams.ParsePSKMode(s)
	if err != nil {
		return "", fmt.Sprintf("unknown psk mode %q", clip(s)), "dhe (psk_dhe_ke: resumption with a fresh (EC)DHE), ke (psk_ke: resumption without it)"
	}
	return string(m), "", ""
}

// Resume modes.
const (
	ResumeNone    = "none"
	ResumeTickets = "tickets"
	// ResumeSessionID is tickets' ratio (every handshake after a
	// worker's first resumes) by TLS 1.2 session ID instead of a ticket.
	ResumeSessionID = string(tlsparams.ResumeBySessionID)
)

const resumeAccepted = "none, tickets, session-id (TLS 1.2 resumption by session ID, tickets off; the openssl client), or a ratio in (0, 1] such as 0.8 or \"80%\""

// parseResume accepts none, tickets, session-id, a ratio ("0.8") or a
// percentage ("80%"). A ratio of 1 is tickets: every handshake after a
// worker's first resumes.
func parseResume(s string) (string, string, string) {
	n := strings.ToLower(strings.TrimSpace(s))
	switch n {
	case ResumeNone, ResumeTickets:
		return n, "", ""
	case ResumeSessionID, "session_id", "sessionid", "session-ids", "session_ids":
		return ResumeSessionID, "", ""
	}
	r, ok := parseRatio(n)
	if !ok {
		return "", fmt.Sprintf("unknown resume %q", clip(s)), resumeAccepted
	}
	if !(r > 0 && r <= 1) {
		return "", fmt.Sprintf("resume ratio %q is out of range: a ratio is the share of handshakes that resume, above 0 and at most 1 (use none for 0)", clip(s)), ""
	}
	if r == 1 {
		return ResumeTickets, "", ""
	}
	return strconv.FormatFloat(r, 'f', -1, 64), "", ""
}

func parseRatio(n string) (float64, bool) {
	pct := strings.HasSuffix(n, "%")
	n = strings.TrimSpace(strings.TrimSuffix(n, "%"))
	// Only plain decimals: "0x1p-1" or "1e-1" are valid floats but no one
	// means them here.
	if n == "" || strings.Trim(n, "0123456789.") != "" {
		return 0, false
	}
	r, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, false
	}
	if pct {
		r /= 100
	}
	return r, true
}

// cipherShort is a suite's bulk cipher, for case names: "aes128gcm",
// "chacha20".
func cipherShort(iana string) string {
	switch {
	case iana == anyValue:
		return "anycipher"
	case strings.Contains(iana, "CHACHA20"):
		return "chacha20"
	case strings.Contains(iana, "AES_128_GCM"):
		return "aes128gcm"
	case strings.Contains(iana, "AES_256_GCM"):
		return "aes256gcm"
	case strings.Contains(iana, "AES_128_CBC"):
		return "aes128cbc"
	case strings.Contains(iana, "AES_256_CBC"):
		return "aes256cbc"
	}
	return strings.ToLower(strings.TrimPrefix(iana, "TLS_"))
}

// suiteOf returns the suite for a canonical cipher value (ok false for any).
func suiteOf(canon string) (tlsparams.Suite, bool) {
	if canon == anyValue {
		return tlsparams.Suite{}, false
	}
	su, err := tlsparams.ParseSuite(canon)
	return su, err == nil
}

// authFamily is the TLS 1.2 suite authentication a server key fits: "ecdsa"
// for ECDSA and Ed25519 keys, "rsa" for RSA keys.
func authFamily(k string) string {
	if strings.HasPrefix(k, "rsa") {
		return "rsa"
	}
	return "ecdsa"
}

func isPostQuantum(group string) bool {
	g, err := tlsparams.ParseGroup(group)
	return err == nil && g.PostQuantum
}
