package results

import (
	"fmt"
	"reflect"
	"strings"
)

// paramFields are Params' JSON names in field order, with their index.
var paramFields = func() []struct {
	name  string
	index int
} {
	t := reflect.TypeFor[Params]()
	var fields []struct {
		name  string
		index int
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields = append(fields, struct {
			name  string
			index int
		}{name, i})
	}
	return fields
}()

// ParamNames lists the case parameters by their JSON names ("tls_version",
// "key_type", ...) in field order: the names Params.Lookup accepts.
func ParamNames() []string {
	names := make([]string, len(paramFields))
	for i, f := range paramFields {
		names[i] = f.name
	}
	return names
}

// Lookup returns the parameter with the JSON name name as text ("1.3",
// "4", "" for a default); ok is false for an unknown name.
func (p Params) Lookup(name string) (value string, ok bool) {
	for _, f := range paramFields {
		if f.name == name {
			return fmt.Sprint(reflect.ValueOf(p).Field(f.index).Interface()), true
		}
	}
	return "", false
}
