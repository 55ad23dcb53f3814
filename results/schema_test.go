package results

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSchemaMatchesModel walks the Go model by reflection and checks
// result.schema.json against it both ways: every JSON field of the model
// is documented with a matching type (and is required exactly when it has
// no omitempty), and the schema names no field the model lacks. So the two
// cannot drift apart.
func TestSchemaMatchesModel(t *testing.T) {
	data, err := os.ReadFile("result.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("result.schema.json: %v", err)
	}
	if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	defs, _ := schema["$defs"].(map[string]any)
	schemaConst := schema["properties"].(map[string]any)["schema"].(map[string]any)["const"]
	if schemaConst != Schema {
		t.Errorf("schema const %v, want %q", schemaConst, Schema)
	}
	checked := map[reflect.Type]bool{}
	var checkStruct func(path string, typ reflect.Type, def map[string]any)
	// resolve follows a $ref into $defs.
	resolve := func(path string, node map[string]any) map[string]any {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, ok := defs[name].(map[string]any)
		if !ok {
			t.Errorf("%s: $ref %q names no definition", path, ref)
			return map[string]any{}
		}
		return def
	}
	var checkType func(path string, typ reflect.Type, node map[string]any)
	checkType = func(path string, typ reflect.Type, node map[string]any) {
		node = resolve(path, node)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		want := ""
		switch {
		case typ == reflect.TypeFor[time.Time]():
			want = "string"
			if node["format"] != "date-time" {
				t.Errorf("%s: a time wants format date-time", path)
			}
		case typ == reflect.TypeFor[json.RawMessage]():
			return // any JSON
		case typ.Kind() == reflect.String:
			want = "string"
		case typ.Kind() == reflect.Bool:
			want = "boolean"
		case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Int64:
			want = "integer"
		case typ.Kind() == reflect.Float64:
			want = "number"
		case typ.Kind() == reflect.Slice:
			want = "array"
			items, _ := node["items"].(map[string]any)
			if items == nil {
				t.Errorf("%s: array without items", path)
				return
			}
			checkType(path+"[]", typ.Elem(), items)
		case typ.Kind() == reflect.Map:
			want = "object"
			values, _ := node["additionalProperties"].(map[string]any)
			if values == nil {
				t.Errorf("%s: map without additionalProperties", path)
				return
			}
			checkType(path+"{}", typ.Elem(), values)
		case typ.Kind() == reflect.Struct:
			want = "object"
			checkStruct(path, typ, node)
		default:
			t.Errorf("%s: Go kind %v has no schema mapping in this test", path, typ.Kind())
			return
		}
		if got := node["type"]; got != want {
			t.Errorf("%s: schema type %v, Go type %v wants %q", path, got, typ, want)
		}
	}
	checkStruct = func(path string, typ reflect.Type, def map[string]any) {
		if checked[typ] {
			return
		}
		checked[typ] = true
		props, _ := def["properties"].(map[string]any)
		var required []string
		if req, ok := def["required"].([]any); ok {
			for _, r := range req {
				required = append(required, r.(string))
			}
		}
		seen := map[string]bool{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			seen[name] = true
			fieldPath := path + "." + name
			node, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: in the Go model (%s.%s) but not in result.schema.json", fieldPath, typ.Name(), f.Name)
				continue
			}
			if d, _ := node["description"].(string); d == "" {
				t.Errorf("%s: no description", fieldPath)
			}
			omitempty := strings.Contains(opts, "omitempty")
			if isRequired := slices.Contains(required, name); isRequired == omitempty {
				t.Errorf("%s: required=%v in the schema, but omitempty=%v in the model", fieldPath, isRequired, omitempty)
			}
			checkType(fieldPath, f.Type, node)
		}
		for name := range props {
			if !seen[name] {
				t.Errorf("%s.%s: in result.schema.json but not in the Go model (%s)", path, name, typ.Name())
			}
		}
	}
	checkStruct("$", reflect.TypeFor[Run](), schema)
}
