package main

import (
	"errors"
	iofs "io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mtlsbench/mtlsbench/capacity"
	"github.com/mtlsbench/mtlsbench/scenarios"
)

// rateValue is a rate flag (-r): a number of handshakes per second, or a
// rate as capacity writes it ("2k/s", "500/s"). A plain number is kept as
// given, even 0 or negative, for the scenario's checks to name.
type rateValue float64

func (v *rateValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *rateValue) Type() string   { return "rate" }

func (v *rateValue) Set(s string) error {
	r, err := parseRate(s)
	if err != nil {
		return err
	}
	*v = rateValue(r)
	return nil
}

// parseRate reads a plain number, or else a rate capacity.ParseRate reads.
func parseRate(s string) (float64, error) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return f, nil
	}
	r, err := capacity.ParseRate(s)
	if err != nil {
		return 0, errors.New(stripPackagePrefixes(err.Error()))
	}
	return r, nil
}

// rateListValue is a comma list of rates (--steps 1k/s,2k/s).
type rateListValue []float64

func (v *rateListValue) String() string { return strings.Join(v.GetSlice(), ",") }
func (v *rateListValue) Type() string   { return "rates" }

func (v *rateListValue) Set(s string) error {
	var rates []float64
	for _, item := range strings.Split(s, ",") {
		r, err := parseRate(item)
		if err != nil {
			return err
		}
		rates = append(rates, r)
	}
	*v = rates
	return nil
}

// GetSlice, Append and Replace make it a pflag.SliceValue.
func (v *rateListValue) GetSlice() []string {
	out := make([]string, len(*v))
	for i, r := range *v {
		out[i] = strconv.FormatFloat(r, 'g', -1, 64)
	}
	return out
}

func (v *rateListValue) Append(s string) error {
	r, err := parseRate(s)
	if err != nil {
		return err
	}
	*v = append(*v, r)
	return nil
}

func (v *rateListValue) Replace(items []string) error {
	var l rateListValue
	for _, s := range items {
		if err := l.Append(s); err != nil {
			return err
		}
	}
	*v = l
	return nil
}

// checkWindowFlags refuses -d with -n: each is a case's whole window (a
// time, or a number of handshakes), and the scenario keeps only one.
func checkWindowFlags(fs *pflag.FlagSet) error {
	if fs.Changed("duration") && fs.Changed("count") {
		return usagef("-d/--duration %s and -n/--count %s: a case's window is a time or a number of handshakes, not both: give one",
			fs.Lookup("duration").Value, fs.Lookup("count").Value)
	}
	return nil
}

// flagValueText is a flag's value as it would be given on the command
// line ("a,b" for a list; nothing for a bool set to true).
func flagValueText(f *pflag.Flag) string {
	if f.Value.Type() == "bool" && f.Value.String() == "true" {
		return ""
	}
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return strings.Join(sv.GetSlice(), ",")
	}
	return f.Value.String()
}

// fieldFlags are the run flags that set a scenario field whose problems
// Spec.Apply reports by the file (checks of the target as a whole, and of
// an axis against the rest of the scenario), for forFlags to name the flag
// instead.
var fieldFlags = map[string]string{
	"target.ca": "ca", "target.cert": "cert", "target.key": "key", "target.pki": "pki",
	"target.pids": "target-pid", "target.send_invalid_cert": "send-invalid-cert", "target.in_process": "in-process",
	"target.kind": "target", "target.addr": "target",
	"matrix.tls": "tls", "matrix.cipher": "ciphers", "matrix.group": "groups", "matrix.key_share": "key-share",
	"matrix.server_key": "key-type", "matrix.client_key": "client-key-type", "matrix.chain": "chain",
	"matrix.client_identities": "identities", "matrix.resume": "resume", "matrix.requests": "requests",
	"matrix.auth":        "auth",
	"matrix.trust_store": "trust-store", "matrix.crl_entries": "crl-entries", "target.revoked_clients": "revoked-clients",
	"target.rotate_at": "rotate-at", "target.rotate": "rotate",
	"matrix.client": "client", "matrix.early_data": "early-data", "matrix.psk_mode": "psk-mode",
}

// fieldFlag is the flag of fieldFlags that sets field or the value field
// lies in ("target.pids[0]" is --target-pid's).
func fieldFlag(field string) (string, bool) {
	for path, flag := range fieldFlags {
		if field == path || (strings.HasPrefix(field, path) && (field[len(path)] == '[' || field[len(path)] == '.')) {
			return flag, true
		}
	}
	return "", false
}

// forFlags rewrites the problems Spec.Apply found that a flag, not the
// file, caused: "--ca x.pem: ca is only for kind external" rather than
// "library/quick.yaml: target.ca: ...", an external --target without the
// client identity or CA says which flags give them, and a matrix that the
// axis flags left empty names them. Other errors are returned as they are.
func forFlags(err error, fs *pflag.FlagSet, source string) error {
	var list scenarios.Errors
	var one *scenarios.Error
	switch {
	case errors.As(err, &list):
		out := make(scenarios.Errors, len(list))
		for i, e := range list {
			out[i] = forFlag(e, fs, source)
		}
		return out
	case errors.As(err, &one):
		return forFlag(one, fs, source)
	}
	return err
}

func forFlag(e *scenarios.Error, fs *pflag.FlagSet, source string) *scenarios.Error {
	if e.Source != source {
		return e // already named by a flag, or about another file
	}
	named := func(name string) *scenarios.Error {
		return e.ForFlag(strings.TrimSpace("--" + name + " " + flagValueText(fs.Lookup(name))))
	}
	if e.Field == "matrix" {
		// The matrix as a whole (every cell impossible): name the axis
		// flags that made it, with the file the rest came from.
		var given []string
		for _, axis := range scenarios.AxisNames() {
			if flag := fieldFlags["matrix."+axis]; fs.Changed(flag) {
				given = append(given, "--"+flag+" "+flagValueText(fs.Lookup(flag)))
			}
		}
		if len(given) == 0 {
			return e
		}
		c := *e
		c.Source, c.Line, c.Column = source+" with "+strings.Join(given, " "), 0, 0
		return &c
	}
	flag, ok := fieldFlag(e.Field)
	if !ok {
		return e
	}
	if flag != "target" && fs.Changed(flag) {
		return named(flag)
	}
	if !fs.Changed("target") || !strings.HasPrefix(e.Message, "an external target needs") {
		return e
	}
	c := named("target")
	switch e.Field {
	case "target.cert", "target.key":
		c.Message = "an external target needs the client identity to present: --pki DIR (from 'mtlsbench pki gen'), or --cert FILE and --key FILE"
	case "target.ca":
		c.Message = "an external target needs the CA that signed the server: --ca FILE or --pki DIR (or --insecure-skip-verify, which makes every handshake cheaper than a real client's)"
	}
	return c
}

// checkInputFiles checks the files the target flags name (--ca, --cert,
// --key, --pki) before any work, so that a missing one is named by its
// flag rather than by the first case that reads it.
func checkInputFiles(fs *pflag.FlagSet) error {
	for _, name := range []string{"ca", "cert", "key", "pki"} {
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		path := f.Value.String()
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			var pe *iofs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return usagef("--%s %s: %v", name, path, err)
		case name == "pki" && !fi.IsDir():
			return usagef("--pki %s: is not a directory: give a directory written by 'mtlsbench pki gen'", path)
		case name != "pki" && fi.IsDir():
			return usagef("--%s %s: is a directory: give a PEM file", name, path)
		}
	}
	return nil
}
