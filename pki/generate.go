package pki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync/atomic"
	"time"
)

// Options says what Generate makes. Every zero value has a default, noted on
// the field; Generate never modifies the caller's Options.
type Options struct {
	// ServerKeyType is the server leaf's key type. Zero means DefaultKeyType.
	ServerKeyType KeyType
	// ClientKeyType is the client leaves' key type. Zero means ServerKeyType.
	ClientKeyType KeyType
	// CAKeyType is the root's (and intermediate's) key type, which decides the
	// signature every peer verifies on each leaf. Zero means ServerKeyType, so
	// that a key-type comparison compares whole chains of one algorithm.
	CAKeyType KeyType
	// Clients is the number of distinct client identities. Zero means 1.
	Clients int
	// Intermediate adds an intermediate CA between the root and every leaf;
	// leaves then present a two-certificate chain.
	Intermediate bool
	// SANs are extra subject alternative names for the server leaf (DNS names
	// or IP addresses, as ValidateSAN accepts them), added to 127.0.0.1, ::1
	// and localhost. Generate refuses an invalid one with a *SANError.
	SANs []string
	// NotBefore is the start of every certificate's validity. Zero means one
	// hour before now (tolerating clock skew between hosts).
	NotBefore time.Time
	// Validity is how long certificates are valid from NotBefore. Zero means
	// 397 days, the longest a public server certificate may live.
	Validity time.Duration
	// Name prefixes the subject common names. Zero means "mtlsbench".
	Name string
}

func (o Options) withDefaults() Options {
	if o.ServerKeyType == "" {
		o.ServerKeyType = DefaultKeyType
	}
	if o.ClientKeyType == "" {
		o.ClientKeyType = o.ServerKeyType
	}
	if o.CAKeyType == "" {
		o.CAKeyType = o.ServerKeyType
	}
	if o.Clients == 0 {
		o.Clients = 1
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	if o.Validity == 0 {
		o.Validity = 397 * 24 * time.Hour
	}
	if o.Name == "" {
		o.Name = "mtlsbench"
	}
	return o
}

func (o Options) validate() error {
	for _, k := range []KeyType{o.ServerKeyType, o.ClientKeyType, o.CAKeyType} {
		if !k.Valid() {
			return &UnknownKeyTypeError{Name: string(k)}
		}
	}
	if o.Clients < 0 || o.Clients > MaxClients {
		return fmt.Errorf("pki: clients must be 1 to %d, got %d", MaxClients, o.Clients)
	}
	if o.Validity < 0 || o.Validity > MaxValidity {
		return fmt.Errorf("pki: validity must be positive and at most %s, got %s", MaxValidity, o.Validity)
	}
	return ValidateSANs(o.SANs)
}

// Authority is a CA: its certificate and signing key.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Identity is a leaf certificate with its key and the chain a peer needs to
// verify it (leaf first, then intermediates; never the root).
type Identity struct {
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// Leaf returns the identity's own certificate.
func (id Identity) Leaf() *x509.Certificate { return id.Chain[0] }

// KeyType reports the leaf's key type.
func (id Identity) KeyType() KeyType {
	k, _ := KeyTypeOf(id.Chain[0].PublicKey)
	return k
}

// TLSCertificate returns the identity as a tls.Certificate with Leaf set, so
// crypto/tls does not parse it again on every handshake.
func (id Identity) TLSCertificate() tls.Certificate {
	der := make([][]byte, len(id.Chain))
	for i, c := range id.Chain {
		der[i] = c.Raw
	}
	return tls.Certificate{Certificate: der, PrivateKey: id.Key, Leaf: id.Chain[0]}
}

// Bundle is a complete mTLS PKI: a root, an optional intermediate, a server
// identity and one or more client identities, all issued under the root.
type Bundle struct {
	Root         Authority
	Intermediate *Authority // nil unless Options.Intermediate
	Server       Identity
	Clients      []Identity
	// CRLs are the revocation lists of the bundle's CAs (CRLFile), nil
	// when none has been issued: IssueCRLs makes them, 'pki gen
	// --revoked' and 'pki revoke' save them.
	CRLs []*x509.RevocationList
}

// Issuer returns the CA that signs leaves: the intermediate if there is
// one, else the root.
func (b *Bundle) Issuer() Authority {
	if b.Intermediate != nil {
		return *b.Intermediate
	}
	return b.Root
}

// RootPool returns a pool holding only the root, for RootCAs or ClientCAs.
func (b *Bundle) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(b.Root.Cert)
	return p
}

// ClientCertificates returns every client identity as a tls.Certificate.
func (b *Bundle) ClientCertificates() []tls.Certificate {
	out := make([]tls.Certificate, len(b.Clients))
	for i, c := range b.Clients {
		out[i] = c.TLSCertificate()
	}
	return out
}

// Generate makes a new root (and intermediate), a server identity and
// Options.Clients client identities. Keys come from crypto/rand; RSA-4096
// keys take about a second each.
func Generate(opts Options) (*Bundle, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	root, err := NewRoot(o.CAKeyType, o.Name+" root CA", o.NotBefore, o.Validity)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Root: root}
	issuer := root
	if o.Intermediate {
		inter, err := root.NewIntermediate(o.CAKeyType, o.Name+" intermediate CA", o.NotBefore, o.Validity)
		if err != nil {
			return nil, err
		}
		b.Intermediate = &inter
		issuer = inter
	}
	b.Server, err = issuer.Issue(LeafRequest{
		KeyType: o.ServerKeyType, CommonName: o.Name + " server", Server: true,
		SANs:      append([]string{"127.0.0.1", "::1", "localhost"}, o.SANs...),
		NotBefore: o.NotBefore, NotAfter: o.NotBefore.Add(o.Validity),
	}, b.Intermediate)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= o.Clients; i++ {
		c, err := issuer.Issue(LeafRequest{
			KeyType: o.ClientKeyType, CommonName: fmt.Sprintf("%s client %d", o.Name, i),
			NotBefore: o.NotBefore, NotAfter: o.NotBefore.Add(o.Validity),
		}, b.Intermediate)
		if err != nil {
			return nil, err
		}
		b.Clients = append(b.Clients, c)
	}
	return b, nil
}

// GenerateContext is Generate that stops when ctx ends, for bundles of
// many identities (a million client identities take minutes) and slow key
// types (an RSA-4096 key takes a second or more). It returns within
// milliseconds of ctx ending, with an error wrapping ctx.Err(); the key
// being made at that moment is finished in the background and dropped.
// The bundle it returns is the one Generate would make from opts.
func GenerateContext(ctx context.Context, opts Options) (*Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pki: generation stopped before it began: %w", err)
	}
	// Defaults once, so every identity shares one NotBefore.
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	type answer struct {
		b   *Bundle
		err error
	}
	done := make(chan answer, 1) // the goroutine never blocks on it
	var made atomic.Int64        // client identities made so far
	go func() {
		b, err := generateEach(ctx, o, &made)
		done <- answer{b, err}
	}()
	select {
	case a := <-done:
		return a.b, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("pki: generation stopped after %d of %d client identities: %w", made.Load(), o.Clients, ctx.Err())
	}
}

// generateEach makes the bundle of o (defaults applied) one identity at a
// time, checking ctx before each and counting client identities in made.
func generateEach(ctx context.Context, o Options, made *atomic.Int64) (*Bundle, error) {
	// The CAs, the server and the first client, with Generate's own checks.
	first := o
	first.Clients = 1
	b, err := Generate(first)
	if err != nil {
		return nil, err
	}
	made.Store(1)
	issuer := b.Issuer()
	for i := 2; i <= o.Clients; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := issuer.Issue(LeafRequest{
			KeyType: o.ClientKeyType, CommonName: fmt.Sprintf("%s client %d", o.Name, i),
			NotBefore: o.NotBefore, NotAfter: o.NotBefore.Add(o.Validity),
		}, b.Intermediate)
		if err != nil {
			return nil, err
		}
		b.Clients = append(b.Clients, c)
		made.Store(int64(i))
	}
	return b, nil
}

// NewRoot makes a self-signed root CA.
func NewRoot(kt KeyType, commonName string, notBefore time.Time, validity time.Duration) (Authority, error) {
	key, err := kt.GenerateKey()
	if err != nil {
		return Authority{}, fmt.Errorf("pki: generate %s root key: %w", kt, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"mtlsbench"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return Authority{}, err
	}
	return Authority{Cert: cert, Key: key}, nil
}

// NewIntermediate makes an intermediate CA signed by a.
func (a Authority) NewIntermediate(kt KeyType, commonName string, notBefore time.Time, validity time.Duration) (Authority, error) {
	key, err := kt.GenerateKey()
	if err != nil {
		return Authority{}, fmt.Errorf("pki: generate %s intermediate key: %w", kt, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"mtlsbench"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return Authority{}, err
	}
	return Authority{Cert: cert, Key: key}, nil
}

// LeafRequest describes a leaf certificate for Authority.Issue.
type LeafRequest struct {
	// KeyType of the new key. Zero means DefaultKeyType.
	KeyType    KeyType
	CommonName string
	// Server makes a server-auth leaf (with SANs); otherwise client-auth.
	Server bool
	// SANs: DNS names or IP addresses (server leaves; allowed on clients),
	// as ValidateSAN accepts them; Issue refuses others with a *SANError.
	SANs []string
	// NotBefore and NotAfter bound validity. Zero NotBefore means one hour
	// ago; zero NotAfter means 397 days after NotBefore. A NotAfter in the
	// past makes an expired certificate, which tests use on purpose.
	NotBefore, NotAfter time.Time
}

// Issue makes a leaf signed by a. If a is an intermediate, pass it as
// intermediate too so the identity's chain includes it; pass nil when a is
// the root.
func (a Authority) Issue(req LeafRequest, intermediate *Authority) (Identity, error) {
	if err := ValidateSANs(req.SANs); err != nil {
		return Identity{}, err
	}
	kt := req.KeyType
	if kt == "" {
		kt = DefaultKeyType
	}
	key, err := kt.GenerateKey()
	if err != nil {
		return Identity{}, fmt.Errorf("pki: generate %s key for %q: %w", kt, req.CommonName, err)
	}
	notBefore := req.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	notAfter := req.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(397 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.CommonName, Organization: []string{"mtlsbench"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if req.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// TLS 1.2 RSA key exchange suites need it; harmless otherwise.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, san := range req.SANs {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if san != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	cert, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return Identity{}, err
	}
	chain := []*x509.Certificate{cert}
	if intermediate != nil {
		chain = append(chain, intermediate.Cert)
	}
	return Identity{Chain: chain, Key: key}, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse %q: %w", tmpl.Subject.CommonName, err)
	}
	return cert, nil
}

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 127)

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		// crypto/rand does not fail on Linux; if it ever does, nothing
		// sensible can be issued.
		panic("pki: crypto/rand: " + err.Error())
	}
	return n.Add(n, big.NewInt(1))
}
