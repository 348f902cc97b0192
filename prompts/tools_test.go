package prompts

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaNode is the part of JSON Schema the tools use.
type schemaNode struct {
	Type                 string                 `json:"type"`
	Description          string                 `json:"description"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             *[]string              `json:"required"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
}

// checkSchema checks that every object closes its properties and lists what
// it requires, every array has items, and every node has a type.
func checkSchema(t *testing.T, at string, n *schemaNode) {
	t.Helper()
	switch n.Type {
	case "object":
		if n.AdditionalProperties == nil || *n.AdditionalProperties {
			t.Errorf("%s: additionalProperties is not false", at)
		}
		if n.Required == nil {
			t.Errorf("%s: no required list", at)
		} else {
			for _, r := range *n.Required {
				if n.Properties[r] == nil {
					t.Errorf("%s: required %q is not a property", at, r)
				}
			}
		}
		if len(n.Properties) == 0 {
			t.Errorf("%s: object without properties", at)
		}
		for name, p := range n.Properties {
			if p.Description == "" {
				t.Errorf("%s.%s: no description", at, name)
			}
			checkSchema(t, at+"."+name, p)
		}
	case "array":
		if n.Items == nil {
			t.Errorf("%s: array without items", at)
		} else {
			checkSchema(t, at+"[]", n.Items)
		}
	case "string":
	default:
		t.Errorf("%s: unexpected type %q", at, n.Type)
	}
}

func allTools() []ToolSpec { return append([]ToolSpec{ExtractTool()}, DecisionTools()...) }

func TestToolSchemas(t *testing.T) {
	for _, tool := range allTools() {
		t.Run(tool.Name, func(t *testing.T) {
			if tool.Description == "" {
				t.Error("no description")
			}
			if !json.Valid(tool.Parameters) {
				t.Fatalf("parameters are not valid JSON: %s", tool.Parameters)
			}
			var n schemaNode
			if err := json.Unmarshal(tool.Parameters, &n); err != nil {
				t.Fatal(err)
			}
			if n.Type != "object" {
				t.Fatalf("parameters type = %q, want object", n.Type)
			}
			checkSchema(t, "parameters", &n)
		})
	}
}

func TestDecisionToolsOrder(t *testing.T) {
	var got []string
	for _, tool := range DecisionTools() {
		got = append(got, tool.Name)
	}
	want := []string{"add_memory", "update_memory", "delete_memory", "add_graph_memory", "update_graph_memory", "delete_graph_memory", "noop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecisionTools() names mismatch (-want +got):\n%s", diff)
	}
	if ExtractTool().Name != "extract_memories" {
		t.Errorf("ExtractTool().Name = %q, want extract_memories", ExtractTool().Name)
	}
}

// TestDecisionSchemasMatchParser keeps each tool's schema and ParseDecision's
// argument table in step.
func TestDecisionSchemasMatchParser(t *testing.T) {
	for _, tool := range DecisionTools() {
		var n schemaNode
		if err := json.Unmarshal(tool.Parameters, &n); err != nil {
			t.Fatal(err)
		}
		var props, required, argNames, argRequired []string
		for name := range n.Properties {
			props = append(props, name)
		}
		required = append(required, *n.Required...)
		for _, a := range decisionArgs[tool.Name] {
			argNames = append(argNames, a.name)
			if a.required {
				argRequired = append(argRequired, a.name)
			}
		}
		sort.Strings(props)
		sort.Strings(argNames)
		sort.Strings(required)
		sort.Strings(argRequired)
		if diff := cmp.Diff(props, argNames); diff != "" {
			t.Errorf("%s: schema properties vs parser arguments (-schema +parser):\n%s", tool.Name, diff)
		}
		if diff := cmp.Diff(required, argRequired); diff != "" {
			t.Errorf("%s: schema required vs parser required (-schema +parser):\n%s", tool.Name, diff)
		}
	}
	if len(decisionArgs) != len(DecisionTools()) {
		t.Errorf("parser knows %d decision tools, DecisionTools has %d", len(decisionArgs), len(DecisionTools()))
	}
}

// TestExtractSchemaMatchesParser checks that a reply using every property
// of the schema parses.
func TestExtractSchemaMatchesParser(t *testing.T) {
	var n schemaNode
	if err := json.Unmarshal(ExtractTool().Parameters, &n); err != nil {
		t.Fatal(err)
	}
	args := exampleOf(&n)
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseExtraction(b); err != nil {
		t.Errorf("ParseExtraction(%s) = %v, want it to accept every schema property", b, err)
	}
}

// exampleOf builds a value that sets every property of n.
func exampleOf(n *schemaNode) any {
	switch n.Type {
	case "object":
		m := map[string]any{}
		for name, p := range n.Properties {
			m[name] = exampleOf(p)
		}
		return m
	case "array":
		return []any{exampleOf(n.Items)}
	default:
		return fmt.Sprintf("value-%d", len(n.Description))
	}
}

func TestToolsAreCopies(t *testing.T) {
	a := ExtractTool()
	a.Parameters[0] = 'X'
	d := DecisionTools()
	d[0].Parameters[0] = 'X'
	if !json.Valid(ExtractTool().Parameters) || !json.Valid(DecisionTools()[0].Parameters) {
		t.Error("changing a returned ToolSpec changed the package's schema")
	}
}
