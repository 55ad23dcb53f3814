package results

import (
	"fmt"

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

// DecodeHDR parses an EncodeHDR string.
func DecodeHDR(s string) (*hdrhistogram.Histogram, error) {
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
