package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/generative-ai-go/genai"
)

// jsonSchema is the part of JSON Schema that Gemini's Schema (an OpenAPI 3.0
// subset) can express. Other keywords (title, default, minimum,
// additionalProperties, …) are dropped.
type jsonSchema struct {
	// Type is a type name, or a list of them with "null" marking nullable.
	Type        any                    `json:"type"`
	Format      string                 `json:"format"`
	Description string                 `json:"description"`
	Nullable    bool                   `json:"nullable"`
	Enum        []any                  `json:"enum"`
	Items       *jsonSchema            `json:"items"`
	Properties  map[string]*jsonSchema `json:"properties"`
	Required    []string               `json:"required"`
}

// types maps JSON Schema type names to Gemini's.
var types = map[string]genai.Type{
	"object":  genai.TypeObject,
	"array":   genai.TypeArray,
	"string":  genai.TypeString,
	"number":  genai.TypeNumber,
	"integer": genai.TypeInteger,
	"boolean": genai.TypeBoolean,
}

// formats are the formats Gemini accepts for each type; others are dropped.
var formats = map[genai.Type][]string{
	genai.TypeString:  {"enum", "date-time"},
	genai.TypeNumber:  {"float", "double"},
	genai.TypeInteger: {"int32", "int64"},
}

// convertSchema turns a JSON Schema document into Gemini's Schema.
func convertSchema(raw json.RawMessage) (*genai.Schema, error) {
	var s jsonSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	return convert(&s, "parameters")
}

func convert(s *jsonSchema, at string) (*genai.Schema, error) {
	typ, nullable, err := schemaType(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	out := &genai.Schema{Type: typ, Description: s.Description, Nullable: s.Nullable || nullable}
	if slices.Contains(formats[typ], s.Format) {
		out.Format = s.Format
	}
	if len(s.Enum) > 0 {
		if typ != genai.TypeString {
			return nil, fmt.Errorf("%s: enum is supported on strings only", at)
		}
		for _, v := range s.Enum {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: enum value %v is not a string", at, v)
			}
			out.Enum = append(out.Enum, str)
		}
		out.Format = "enum"
	}
	switch typ {
	case genai.TypeObject:
		if len(s.Properties) > 0 {
			out.Properties = make(map[string]*genai.Schema, len(s.Properties))
		}
		for name, p := range s.Properties {
			if p == nil {
				return nil, fmt.Errorf("%s.%s: empty schema", at, name)
			}
			ps, err := convert(p, at+"."+name)
			if err != nil {
				return nil, err
			}
			out.Properties[name] = ps
		}
		for _, r := range s.Required {
			if _, ok := s.Properties[r]; !ok {
				return nil, fmt.Errorf("%s: required property %q is not defined", at, r)
			}
		}
		out.Required = s.Required
	case genai.TypeArray:
		if s.Items == nil {
			return nil, fmt.Errorf("%s: array without items", at)
		}
		items, err := convert(s.Items, at+"[]")
		if err != nil {
			return nil, err
		}
		out.Items = items
	}
	return out, nil
}

// schemaType reads the type keyword: one name, or a list of one name and
// "null". Without it the type is inferred from properties, items or enum.
func schemaType(s *jsonSchema) (genai.Type, bool, error) {
	var names []string
	switch t := s.Type.(type) {
	case nil:
	case string:
		names = []string{t}
	case []any:
		for _, v := range t {
			n, ok := v.(string)
			if !ok {
				return 0, false, fmt.Errorf("type %v is not a name", v)
			}
			names = append(names, n)
		}
	default:
		return 0, false, fmt.Errorf("type %v is not a name", t)
	}
	nullable := false
	var name string
	for _, n := range names {
		switch {
		case n == "null":
			nullable = true
		case name != "":
			return 0, false, fmt.Errorf("several types %q", names)
		default:
			name = n
		}
	}
	if name == "" {
		switch {
		case s.Properties != nil:
			name = "object"
		case s.Items != nil:
			name = "array"
		case len(s.Enum) > 0:
			name = "string"
		default:
			return 0, false, errors.New("no type")
		}
	}
	typ, ok := types[name]
	if !ok {
		return 0, false, fmt.Errorf("unknown type %q", name)
	}
	return typ, nullable, nil
}
