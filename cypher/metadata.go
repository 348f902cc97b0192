package cypher

import (
	"encoding/json"
	"math"

	"github.com/neomem/neomem/graph"
)

// metaPrefix prefixes the flattened copies of metadata keys on a Memory
// node, so a metadata key can never overwrite tenant, scope or any other
// property neomem owns.
const metaPrefix = "meta_"

// Limits on metadata.
const (
	maxMetadataJSON = 64 << 10
)

// encodeMetadata validates md and returns its JSON text and the flattened
// meta_<key> properties for filtering: top-level strings, booleans, numbers,
// and lists whose items are all strings or all numbers. Nested objects and
// mixed lists stay only in the JSON text.
func encodeMetadata(op string, md map[string]any) (string, map[string]any, error) {
	if len(md) == 0 {
		return "{}", map[string]any{}, nil
	}
	var bad []graph.FieldError
	flat := make(map[string]any, len(md))
	for k, v := range md {
		if msg := checkMetadataKey(k); msg != "" {
			bad = append(bad, graph.FieldError{Path: "metadata." + k, Message: msg})
			continue
		}
		if fv, ok := flatValue(v); ok {
			flat[metaPrefix+k] = fv
		}
	}
	if len(bad) > 0 {
		return "", nil, graph.InvalidFields(op, bad...)
	}
	text, err := json.Marshal(md)
	if err != nil {
		return "", nil, graph.InvalidFields(op, graph.FieldError{Path: "metadata", Message: "is not representable as JSON: " + err.Error()})
	}
	if len(text) > maxMetadataJSON {
		return "", nil, graph.InvalidFields(op, graph.FieldError{Path: "metadata", Message: "is larger than 65536 bytes of JSON"})
	}
	return string(text), flat, nil
}

func checkMetadataKey(k string) string { return graph.MetadataKeyProblem(k) }

// flatValue returns the Neo4j property value for a metadata value, or false
// when the value is kept only in the JSON text.
func flatValue(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return number(x), true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return number(f), true
		}
		return nil, false
	case []any:
		return flatList(x)
	case []string:
		return x, true
	}
	return nil, false
}

// number stores integral floats (all JSON numbers decode as float64) as
// integers, so metadata {"year": 2024} compares equal to 2024 either way.
func number(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

func flatList(xs []any) (any, bool) {
	if len(xs) == 0 {
		return nil, false
	}
	strs := make([]string, 0, len(xs))
	nums := make([]float64, 0, len(xs))
	for _, x := range xs {
		switch v := x.(type) {
		case string:
			strs = append(strs, v)
		case float64:
			nums = append(nums, v)
		case int:
			nums = append(nums, float64(v))
		case int64:
			nums = append(nums, float64(v))
		default:
			return nil, false
		}
	}
	switch {
	case len(strs) == len(xs):
		return strs, true
	case len(nums) == len(xs):
		return nums, true
	}
	return nil, false
}

// decodeMetadata parses the stored JSON text.
func decodeMetadata(text string) map[string]any {
	if text == "" {
		return map[string]any{}
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(text), &md); err != nil || md == nil {
		return map[string]any{}
	}
	return md
}
