package pki

import "time"

// Bounds of what Generate makes, enforced by Options' validation (and by
// 'pki gen' before anything is generated): 100,000 identities take about
// a minute and 200 MB of PEM; a validity beyond 100 years is no test of
// anything a server sees.
const (
	MaxClients  = 100_000
	MaxValidity = 100 * 365 * 24 * time.Hour
)

// Bounds of revocation lists and trust stores. A CRL of a million
// entries is ~40 MB, past what any server is configured with. A trust
// store's CA names all go into the server's CertificateRequest, which a Go
// client refuses beyond 64 KiB (crypto/tls's largest handshake message):
// MaxTrustStore of Decoys' names fit in it with room to spare.
const (
	MaxCRLEntries = 1_000_000
	MaxTrustStore = 1000
)
