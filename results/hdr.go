package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry shared by everything that records latency: 1 µs to one
// hour, 3 significant digits. Histograms of this geometry merge exactly.
const (
	HistLowestUs  = 1
	HistHighestUs = 3_600_000_000
	HistSigFigs   = 3
)

// NewHistogram returns an empty histogram of the shared geometry.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistLowestUs, HistHighestUs, HistSigFigs)
}

// Summarize describes h (values in µs). A nil or empty histogram gives a
// zero Summary with an empty HDR string.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h == nil || h.TotalCount() == 0 {
		return Summary{}
	}
	s := Summary{
		Count:  h.TotalCount(),
		MeanUs: h.Mean(),
		MinUs:  h.Min(),
		P50Us:  h.ValueAtQuantile(50),
		P90Us:  h.ValueAtQuantile(90),
		P99Us:  h.ValueAtQuantile(99),
		P999Us: h.ValueAtQuantile(99.9),
		MaxUs:  h.Max(),
	}
	s.HDR = EncodeHDR(h)
	return s
}

// EncodeHDR returns h in the standard HdrHistogram V2 compressed encoding,
// base64: the form HdrHistogram's own tools read.
func EncodeHDR(h *hdrhistogram.Histogram) string {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		// Encoding an in-memory histogram only fails on a broken zlib
		// writer; there is nothing useful to record instead.
		return ""
	}
	return string(b)
}

// DecodeHDR parses an EncodeHDR string. It reads the header first and
// refuses any geometry but the shared one: a 60-byte string naming a wide
// range would otherwise make the decoder allocate tens of megabytes, and
// a result file is outside input.
func DecodeHDR(s string) (*hdrhistogram.Histogram, error) {
	if err := checkHDRGeometry(s); err != nil {
		return nil, fmt.Errorf("results: decode HDR histogram: %w", err)
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("results: decode HDR histogram: %w", err)
	}
	return h, nil
}

// Histogram decodes the summary's HDR histogram; nil if it has none.
func (s Summary) Histogram() (*hdrhistogram.Histogram, error) {
	if s.HDR == "" {
		return nil, nil
	}
	return DecodeHDR(s.HDR)
}

// checkHDRGeometry reads the V2 compressed header (base64 of: cookie,
// length, then zlib of cookie, payload length, normalizing offset,
// significant digits, lowest, highest, conversion ratio) and checks the
// geometry is HistLowestUs–HistHighestUs at HistSigFigs.
func checkHDRGeometry(s string) error {
	full, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not base64: %w", err)
	}
	if len(full) < 8 {
		return errors.New("too short to be an HDR histogram")
	}
	zr, err := zlib.NewReader(bytes.NewReader(full[8:]))
	if err != nil {
		return fmt.Errorf("not a compressed HDR histogram: %w", err)
	}
	defer zr.Close()
	var head struct {
		Cookie, Length, Offset, SigFigs int32
		Lowest, Highest                 int64
	}
	if err := binary.Read(io.LimitReader(zr, 32), binary.BigEndian, &head); err != nil {
		return fmt.Errorf("HDR header: %w", err)
	}
	if head.Lowest != HistLowestUs || head.Highest != HistHighestUs || head.SigFigs != HistSigFigs {
		return fmt.Errorf("histogram of %d–%d µs at %d significant digits; mtlsbench writes %d–%d µs at %d", head.Lowest, head.Highest, head.SigFigs, HistLowestUs, HistHighestUs, HistSigFigs)
	}
	return nil
}
