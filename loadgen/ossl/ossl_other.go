//go:build !(cgo && linux && !noopenssl)

package ossl

import "io"

// Available reports why this binary has no OpenSSL client.
func Available() error { return ErrUnavailable }

// Version is empty: no libssl in this binary.
func Version() string { return "" }

// AtLeast is false: no libssl in this binary.
func AtLeast(major, minor int) bool { return false }

// SupportsGroup is false: no libssl in this binary.
func SupportsGroup(string) bool { return false }

// Ctx is never made in this binary.
type Ctx struct{}

// NewCtx returns ErrUnavailable.
func NewCtx(Config) (*Ctx, error) { return nil, ErrUnavailable }

func (*Ctx) Close()         {}
func (*Ctx) NewConn() *Conn { return &Conn{} }

// Session is never made in this binary.
type Session struct{}

func (*Session) Free()             {}
func (*Session) MaxEarlyData() int { return 0 }
func (*Session) Share() *Session   { return nil }

// Conn is never used in this binary.
type Conn struct{}

func (*Conn) Free()                                            {}
func (*Conn) Start(io.ReadWriter, string, *Session, int) error { return ErrUnavailable }
func (*Conn) End()                                             {}
func (*Conn) Handshake() error                                 { return ErrUnavailable }
func (*Conn) WriteEarly([]byte) error                          { return ErrUnavailable }
func (*Conn) CloseNotify() error                               { return ErrUnavailable }
func (*Conn) Await([]byte) (int, error)                        { return 0, ErrUnavailable }
func (*Conn) Read([]byte) (int, error)                         { return 0, ErrUnavailable }
func (*Conn) Write([]byte) (int, error)                        { return 0, ErrUnavailable }
func (*Conn) Presented() int                                   { return -1 }
func (*Conn) CANames() int                                     { return -1 }
func (*Conn) VerifyNanos() int64                               { return 0 }
func (*Conn) PeerLeaf(dst []byte) []byte                       { return dst }
func (*Conn) TakeSession() *Session                            { return nil }
func (*Conn) Info() Info                                       { return Info{} }
