package scenarios

import (
	"embed"
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// The library: scenario files compiled into the binary. Each is a valid
// scenario and a piece of documentation (its comments say what it measures
// and how to read it); 'mtlsbench scenarios show NAME' prints it.
//
//go:embed library/*.yaml
var libraryFS embed.FS

// Entry is one scenario of the embedded library.
type Entry struct {
	// Name is what 'run -f' and 'scenarios show' take: the file's base name.
	Name string
	// Description is the scenario's one-line description.
	Description string
	// Source is the YAML file, comments and all.
	Source []byte
}

// DefaultScenario is the library scenario 'mtlsbench run' runs when given
// no scenario.
const DefaultScenario = "quick"

// Library returns the embedded scenarios, sorted by name.
func Library() []Entry {
	files, err := fs.Glob(libraryFS, "library/*.yaml")
	if err != nil {
		panic("scenarios: embedded library: " + err.Error())
	}
	entries := make([]Entry, 0, len(files))
	for _, f := range files {
		data, err := libraryFS.ReadFile(f)
		if err != nil {
			panic("scenarios: embedded library: " + err.Error())
		}
		e := Entry{Name: strings.TrimSuffix(path.Base(f), ".yaml"), Source: data}
		// The library's own tests parse every file; a broken one still
		// lists, with its problem as its description.
		if spec, err := Parse(data, f); err != nil {
			e.Description = "invalid: " + err.Error()
		} else {
			e.Description = spec.Description
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries
}

// LibraryNames lists the embedded scenarios' names, comma separated.
func LibraryNames() string {
	var names []string
	for _, e := range Library() {
		names = append(names, e.Name)
	}
	return strings.Join(names, ", ")
}

// Show returns the YAML of the library scenario name.
func Show(name string) ([]byte, error) {
	data, err := libraryFS.ReadFile("library/" + name + ".yaml")
	if err != nil || name == "" || strings.ContainsAny(name, "/\\") {
		return nil, &Error{Message: "no built-in scenario " + quote(name), Accepted: LibraryNames()}
	}
	return data, nil
}

func quote(s string) string { return `"` + s + `"` }

// Load returns the scenario nameOrPath: a library scenario if there is one
// by that name (a file of the same name is then reached as ./NAME), else
// the file at that path.
func Load(nameOrPath string) (*Spec, error) {
	if data, err := Show(nameOrPath); err == nil {
		return Parse(data, "library/"+nameOrPath+".yaml")
	}
	if _, err := os.Stat(nameOrPath); err != nil && errors.Is(err, fs.ErrNotExist) && looksLikeName(nameOrPath) {
		return nil, &Error{Source: nameOrPath, Message: "no built-in scenario by that name and no such file", Accepted: LibraryNames() + ", or a path to a YAML file", Err: err}
	}
	return LoadFile(nameOrPath)
}

// looksLikeName reports whether s reads as a library name rather than a
// path.
func looksLikeName(s string) bool {
	return s != "" && !strings.ContainsAny(s, `/\.`)
}

// Source is where the spec was read from: a file path, "library/NAME.yaml"
// for a library scenario, or "" for a Spec built in code.
func (s *Spec) Source() string { return s.source }
