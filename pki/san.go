package pki

import (
	"fmt"
	"net"
	"strings"
	"unicode/utf8"
)

// SANForms describes the subject alternative names pki writes into a
// certificate, for messages and help text.
const SANForms = "a DNS name (dot-separated labels of letters, digits and hyphens, each 1-63 characters " +
	"and not starting or ending with a hyphen, at most 253 characters in all, optionally starting with the wildcard \"*.\"), " +
	"or an IPv4 or IPv6 address"

// SANError reports a subject alternative name that cannot go into a
// certificate. Reason says what is wrong with Name (and the fix when there
// is an obvious one); the message also lists SANForms.
type SANError struct {
	Name   string
	Reason string
}

func (e *SANError) Error() string {
	return fmt.Sprintf("pki: subject alternative name %q: %s; accepted: %s", e.Name, e.Reason, SANForms)
}

// ValidateSANs checks every name with ValidateSAN and returns the first
// refusal.
func ValidateSANs(names []string) error {
	for _, n := range names {
		if err := ValidateSAN(n); err != nil {
			return err
		}
	}
	return nil
}

// ValidateSAN reports whether name can be written into a certificate as a
// subject alternative name: an IP address (v4 or v6, as net.ParseIP reads
// it), or a DNS name by the RFC 1123 rules (labels of letters, digits and
// hyphens, 1-63 characters each, not starting or ending with a hyphen; at
// most 253 characters; a last label that is not all digits, so that a
// mistyped address is not taken for a name), optionally with a leading
// "*." wildcard. URIs and e-mail addresses are not supported. Otherwise
// it returns a *SANError saying what is wrong.
func ValidateSAN(name string) error {
	bad := func(format string, a ...any) error {
		return &SANError{Name: name, Reason: fmt.Sprintf(format, a...)}
	}
	if name == "" {
		return bad("empty (two commas in a row?)")
	}
	if net.ParseIP(name) != nil {
		return nil
	}
	switch {
	case strings.Contains(name, "://"):
		return bad("URI names are not supported")
	case strings.Contains(name, "@"):
		return bad("e-mail addresses are not supported")
	case strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") && net.ParseIP(name[1:len(name)-1]) != nil:
		return bad("write an IPv6 address without brackets: %s", name[1:len(name)-1])
	case strings.Contains(name, "%") && net.ParseIP(name[:strings.Index(name, "%")]) != nil:
		return bad("an address with a zone (%%...) cannot be certified; write it without the zone")
	case strings.Count(name, ":") > 1:
		return bad("not a valid IPv6 address")
	}
	if host, port, err := net.SplitHostPort(name); err == nil && port != "" {
		return bad("a name is certified without its port: write %s", host)
	}
	if !utf8.ValidString(name) {
		return bad("not valid UTF-8")
	}
	for _, r := range name {
		if r >= utf8.RuneSelf {
			return bad("a DNS name is ASCII: write an internationalized name in its xn-- (punycode) form")
		}
	}
	dns := name
	if strings.HasSuffix(dns, ".") && len(dns) > 1 {
		return bad("drop the trailing dot: %s", strings.TrimSuffix(dns, "."))
	}
	if len(dns) > 253 {
		return bad("%d characters; a DNS name has at most 253", len(dns))
	}
	labels := strings.Split(dns, ".")
	if labels[0] == "*" {
		if len(labels) == 1 {
			return bad("a wildcard needs a domain after it, e.g. *.example.com")
		}
		labels = labels[1:]
	}
	for i, l := range labels {
		switch {
		case l == "":
			return bad("an empty label (two dots in a row, or a leading dot)")
		case len(l) > 63:
			return bad("label %d is %d characters; a label has at most 63", i+1, len(l))
		case strings.Contains(l, "*"):
			return bad("a wildcard is allowed only as the whole first label, as in *.example.com")
		case l[0] == '-' || l[len(l)-1] == '-':
			return bad("label %q starts or ends with a hyphen", l)
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad("%s is not allowed in a DNS name", describeByte(c))
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return bad("not a valid IP address, and a DNS name's last label cannot be all digits")
	}
	return nil
}

// describeByte names a character for a message, quoting printable ones.
func describeByte(c byte) string {
	switch {
	case c == ' ':
		return "a space"
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("the control character %#02x", c)
	}
	return fmt.Sprintf("%q", rune(c))
}
