package bench

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// pkiCache keeps one PKI per (server key, client key, chain, identities)
// and its CRLs
// for the whole run: generating RSA-4096 keys takes seconds, and repeats
// must measure the same certificates.
type pkiCache struct {
	mu      sync.Mutex // guards bundles and crls
	bundles map[string]*pki.Bundle
	// crls are the revocation lists of a bundle (by its key), per CRL
	// size and revoked clients: 100,000 entries take a fraction of a
	// second to sign, and repeats must check the same list.
	crls map[string][]*x509.RevocationList
}

func newPKICache() *pkiCache {
	return &pkiCache{bundles: map[string]*pki.Bundle{}, crls: map[string][]*x509.RevocationList{}}
}

// bundleKey names the bundle a case uses.
func bundleKey(c *scenarios.Case) string {
	return fmt.Sprintf("%s/%s/%s/%d", c.ServerKey, c.ClientKey, c.Chain, max(c.ClientIdentities, 1))
}

// crlsFor returns the CRLs of the case's bundle b: c.CRLEntries entries
// in the issuer's, the last c.Target.RevokedClients client identities
// among them, the rest filler (pki.CRLOptions), and the root's (empty)
// with an intermediate. Nil when the case has no CRL.
func (p *pkiCache) crlsFor(r *runner, c *scenarios.Case, b *pki.Bundle) ([]*x509.RevocationList, error) {
	if c.CRLEntries == 0 {
		return nil, nil
	}
	k := c.Target.RevokedClients
	if k > len(b.Clients) || k > c.CRLEntries {
		return nil, fmt.Errorf("bench: case %s: %d revoked clients of %d identities and %d CRL entries", c.Name, k, len(b.Clients), c.CRLEntries)
	}
	key := fmt.Sprintf("%s/crl%d/revoked%d", bundleKey(c), c.CRLEntries, k)
	p.mu.Lock()
	defer p.mu.Unlock()
	if crls, ok := p.crls[key]; ok {
		return crls, nil
	}
	start := time.Now()
	var serials []*big.Int
	for _, id := range b.Clients[len(b.Clients)-k:] {
		serials = append(serials, id.Leaf().SerialNumber)
	}
	crls, err := b.IssueCRLs(serials, c.CRLEntries-k, 1)
	if err != nil {
		return nil, err
	}
	if took := time.Since(start); took > time.Second {
		r.logf("mtlsbench: generated a CRL of %d entries in %.1fs", c.CRLEntries, took.Seconds())
	}
	p.crls[key] = crls
	return crls, nil
}

// get returns the case's PKI, generating it (until ctx ends) the first
// time.
func (p *pkiCache) get(ctx context.Context, r *runner, c *scenarios.Case) (*pki.Bundle, error) {
	n := max(c.ClientIdentities, 1)
	key := bundleKey(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.bundles[key]; ok {
		return b, nil
	}
	start := time.Now()
	b, err := pki.GenerateContext(ctx, pki.Options{
		ServerKeyType: c.ServerKey, ClientKeyType: c.ClientKey,
		Clients: n, Intermediate: c.Chain == "intermediate",
	})
	if err != nil {
		return nil, err
	}
	if took := time.Since(start); took > time.Second {
		r.logf("mtlsbench: generated PKI %s in %.1fs", key, took.Seconds())
	}
	p.bundles[key] = b
	return b, nil
}
