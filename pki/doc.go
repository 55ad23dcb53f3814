// Package pki owns the certificate material mtlsbench measures with: root
// and intermediate CAs, server and client leaves of every supported key type
// (RSA 2048/3072/4096, ECDSA P-256/P-384/P-521, Ed25519), their PEM
// encodings (PKCS#8, PKCS#1, SEC1), certificate revocation lists of any
// size (crl.go: revoked identities and filler serials) and the decoy CAs
// of a large trust store (decoys.go).
//
// Private keys are written 0600 and never appear in errors or logs. The
// package never touches the network.
package pki
