package targets

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// kindConstants returns the value of every constant of type Kind declared
// in the package's source, so that a kind added later is checked too.
func kindConstants(t *testing.T) []Kind {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []Kind
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: a Kind constant that is not a string literal", fset.Position(v.Pos()))
					}
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, Kind(s))
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Kind constants")
	}
	return out
}

// TestEveryKindIsLinked: the error for a kind a program has not linked
// names the import that would, for every kind of this module.
func TestEveryKindIsLinked(t *testing.T) {
	for _, k := range kindConstants(t) {
		if linkedBy[k] == "" {
			t.Errorf("kind %q has no package in linkedBy", k)
		}
	}
}
