package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Client speaks just enough HTTP/2 to measure requests on an mTLS
// connection (Config.HTTP2): the client preface, a fixed GET per stream,
// Streams of them in flight, each response read to its end and its
// :status checked. It is a framer loop on the worker's own goroutine
// (golang.org/x/net/http2's Framer and HPACK decoder), not
// http2.Transport: that would run every request on a goroutine of its own
// and allocate a Request and a Response per request. One per worker; its
// write buffer, request block and stream table are reused for every
// connection, while the Framer and the HPACK decoder, whose state is the
// connection's, are made per connection.
type h2Client struct {
	// block is the request's HPACK header block. Every field is either a
	// full match in the static table or a never-indexed literal, so the
	// block adds nothing to the server's dynamic table and is the same on
	// every stream.
	block   []byte
	bw      *bufio.Writer
	streams []h2Stream // in flight
	status  int        // the :status of the header block being decoded
	in      prefixReader
}

// prefixReader reads pre, then r: the server's first bytes that the TLS
// 1.3 confirmation read took (its SETTINGS may come in the records right
// after its session ticket), then the connection.
type prefixReader struct {
	pre []byte
	r   io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// h2Stream is a request in flight.
type h2Stream struct {
	id     uint32
	status int // the final response's :status; 0 until its HEADERS
}

// Flow-control windows the client grants: large enough that a small
// response never waits for a WINDOW_UPDATE.
const (
	h2StreamWindow = 1 << 20
	h2ConnWindow   = 1 << 24
)

// h2InitialStreams is the most streams opened before the server's
// SETTINGS arrive.
const h2InitialStreams = 100

func newH2Client(host, path string) *h2Client {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"},
		{Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: host, Sensitive: true},
		{Name: ":path", Value: path, Sensitive: path != "/"},
		{Name: "user-agent", Value: "mtlsbench", Sensitive: true},
		{Name: "accept", Value: "*/*", Sensitive: true},
	} {
		_ = enc.WriteField(f) // writes to a bytes.Buffer: cannot fail
	}
	return &h2Client{block: block.Bytes(), bw: bufio.NewWriterSize(nil, 4096)}
}

// errH2 is an HTTP/2 protocol problem on the server's side (a frame out
// of place, a header block that does not decode): class other, as a
// malformed HTTP/1.1 response is.
var errH2 = fmt.Errorf("%w (HTTP/2)", errMalformed)

// h2StreamsError is a server that allows fewer streams in flight than the
// case asks for: it could not measure the case (param_mismatch).
type h2StreamsError struct{ allowed, asked int }

func (e *h2StreamsError) Error() string {
	return fmt.Sprintf("the server allows %d HTTP/2 streams in flight (SETTINGS_MAX_CONCURRENT_STREAMS), the case asks for %d (--streams)", e.allowed, e.asked)
}

// do runs requests GETs on conn, streams of them in flight at once, and
// reads every response to its end; pre is what was read from conn before
// (see prefixReader). Each completed response renews the socket's
// deadline by timeout, as each HTTP/1.1 request does.
func (h *h2Client) do(conn io.ReadWriter, pre []byte, tcp *sock, timeout time.Duration, requests, streams int) error {
	h.bw.Reset(conn)
	h.in = prefixReader{pre: pre, r: conn}
	defer func() {
		// Keep no reference to the connection.
		h.bw.Reset(nil)
		h.in = prefixReader{}
	}()
	fr := http2.NewFramer(h.bw, &h.in)
	fr.SetReuseFrames()
	dec := hpack.NewDecoder(4096, h.emit)
	h.streams = h.streams[:0]

	_, _ = h.bw.WriteString(http2.ClientPreface)
	// Writes go to the buffer; a failure shows at Flush.
	_ = fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow})
	_ = fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	// Until the server's SETTINGS say how many streams it allows, open no
	// more than the 100 RFC 9113 recommends every server allow: more
	// would be refused streams rather than the clear param_mismatch.
	next, sent, done := uint32(1), 0, 0
	window := min(streams, h2InitialStreams)
	for ; sent < requests && sent < window; sent++ {
		h.open(fr, next)
		next += 2
	}
	if err := h.bw.Flush(); err != nil {
		return err
	}
	unacked := uint32(0) // connection-level bytes received and not yet granted again
	for done < requests {
		f, err := fr.ReadFrame()
		if err != nil {
			return h2ReadError(err)
		}
		ended := uint32(0) // the stream this frame ended
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				break
			}
			if v, ok := f.Value(http2.SettingMaxConcurrentStreams); ok && int64(v) < int64(streams) {
				return &h2StreamsError{allowed: int(v), asked: streams}
			}
			_ = fr.WriteSettingsAck()
			window = streams
		case *http2.HeadersFrame:
			st := h.stream(f.StreamID)
			if st == nil {
				return fmt.Errorf("%w: HEADERS on stream %d, which is not open", errH2, f.StreamID)
			}
			if err := h.headers(fr, dec, f); err != nil {
				return err
			}
			switch {
			case st.status != 0:
				// Trailers: no :status.
			case h.status == 0:
				return fmt.Errorf("%w: a response without :status on stream %d", errH2, f.StreamID)
			case h.status < 100 || h.status > 199: // 1xx: not the final response
				st.status = h.status
			}
			if f.StreamEnded() {
				ended = f.StreamID
			}
		case *http2.DataFrame:
			st := h.stream(f.StreamID)
			if st == nil || st.status == 0 {
				return fmt.Errorf("%w: DATA on stream %d before its response's HEADERS", errH2, f.StreamID)
			}
			if n := f.Header().Length; n > 0 {
				unacked += n
				if !f.StreamEnded() {
					_ = fr.WriteWindowUpdate(f.StreamID, n)
				}
				if unacked >= h2ConnWindow/2 {
					_ = fr.WriteWindowUpdate(0, unacked)
					unacked = 0
				}
			}
			if f.StreamEnded() {
				ended = f.StreamID
			}
		case *http2.RSTStreamFrame:
			if h.stream(f.StreamID) == nil {
				break // a stream already answered in full
			}
			return fmt.Errorf("the server reset HTTP/2 stream %d (%v) after %d of %d responses", f.StreamID, f.ErrCode, done, requests)
		case *http2.GoAwayFrame:
			return fmt.Errorf("the server ended the HTTP/2 connection (GOAWAY %v%s) after %d of %d responses", f.ErrCode, debugData(f), done, requests)
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
			}
		}
		if ended != 0 {
			status := h.finish(ended)
			if status < 200 || status > 299 {
				return &statusError{status}
			}
			done++
			_ = tcp.SetDeadline(time.Now().Add(timeout))
		}
		for ; sent < requests && len(h.streams) < window; sent++ {
			h.open(fr, next)
			next += 2
		}
		if h.bw.Buffered() > 0 {
			if err := h.bw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// open sends the request on a new stream.
func (h *h2Client) open(fr *http2.Framer, id uint32) {
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.block, EndStream: true, EndHeaders: true})
	h.streams = append(h.streams, h2Stream{id: id})
}

func (h *h2Client) stream(id uint32) *h2Stream {
	for i := range h.streams {
		if h.streams[i].id == id {
			return &h.streams[i]
		}
	}
	return nil
}

// finish removes the stream and returns its status.
func (h *h2Client) finish(id uint32) int {
	for i := range h.streams {
		if h.streams[i].id == id {
			status := h.streams[i].status
			last := len(h.streams) - 1
			h.streams[i] = h.streams[last]
			h.streams = h.streams[:last]
			return status
		}
	}
	return 0
}

// headers decodes a header block, with its CONTINUATION frames, setting
// h.status (0 when the block has none: trailers).
func (h *h2Client) headers(fr *http2.Framer, dec *hpack.Decoder, f *http2.HeadersFrame) error {
	h.status = 0
	if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
		return fmt.Errorf("%w: header block: %v", errH2, err)
	}
	for ended := f.HeadersEnded(); !ended; {
		next, err := fr.ReadFrame()
		if err != nil {
			return h2ReadError(err)
		}
		c, ok := next.(*http2.ContinuationFrame)
		if !ok {
			return fmt.Errorf("%w: %v frame inside a header block", errH2, next.Header().Type)
		}
		if _, err := dec.Write(c.HeaderBlockFragment()); err != nil {
			return fmt.Errorf("%w: header block: %v", errH2, err)
		}
		ended = c.HeadersEnded()
	}
	if err := dec.Close(); err != nil {
		return fmt.Errorf("%w: header block: %v", errH2, err)
	}
	return nil
}

// emit is the HPACK decoder's callback: it keeps the :status.
func (h *h2Client) emit(f hpack.HeaderField) {
	if f.Name == ":status" {
		if n, err := strconv.Atoi(f.Value); err == nil && n > 0 {
			h.status = n
		}
	}
}

// h2ReadError keeps an I/O error as it is (its class is classify's) and
// marks a framing error as the server's protocol problem.
func h2ReadError(err error) error {
	var ce http2.ConnectionError
	var se http2.StreamError
	if errors.As(err, &ce) || errors.As(err, &se) || errors.Is(err, http2.ErrFrameTooLarge) {
		return fmt.Errorf("%w: %v", errH2, err)
	}
	return err
}

func debugData(f *http2.GoAwayFrame) string {
	if d := f.DebugData(); len(d) > 0 {
		return fmt.Sprintf(", %.80q", d)
	}
	return ""
}
