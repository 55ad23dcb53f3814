package main

import "runtime/debug"

// buildVersion is set by the Makefile (-ldflags -X main.buildVersion=...).
var buildVersion string

// version is the version stamped at build time, the module version stamped
// by the Go toolchain, or the VCS revision for a local build.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
