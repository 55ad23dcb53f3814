package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mtlsbench/mtlsbench/pki"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// pkiCache keeps one PKI per (server key, client key, chain, identities)
// for the whole run: generating RSA-4096 keys takes seconds, and repeats
// must measure the same certificates.
type pkiCache struct {
	mu      sync.Mutex // guards bundles
	bundles map[string]*pki.Bundle
}

func newPKICache() *pkiCache { return &pkiCache{bundles: map[string]*pki.Bundle{}} }

// get returns the case's PKI, generating it (until ctx ends) the first
// time.
func (p *pkiCache) get(ctx context.Context, r *runner, c *scenarios.Case) (*pki.Bundle, error) {
	n := max(c.ClientIdentities, 1)
	key := fmt.Sprintf("%s/%s/%s/%d", c.ServerKey, c.ClientKey, c.Chain, n)
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
