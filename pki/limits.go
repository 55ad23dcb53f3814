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
