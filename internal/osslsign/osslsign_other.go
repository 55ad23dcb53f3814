//go:build !cgo || !linux || noopenssl

package osslsign

import "crypto"

// Signer is a key whose signatures OpenSSL makes; in this build there is
// none (see ErrUnavailable).
type Signer struct{ crypto.Signer }

// New returns ErrUnavailable: this build has no OpenSSL.
func New(key crypto.Signer) (*Signer, error) { return nil, ErrUnavailable }

// Close does nothing.
func (s *Signer) Close() error { return nil }

// Library is empty: this build links no OpenSSL.
func Library() string { return "" }

// Available is false: New always fails in this build.
const Available = false
