package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "empty", in: `{}`, want: "<nil>"},
		{name: "null", in: `null`, want: "<nil>"},
		{name: "blank", in: ` `, want: "<nil>"},
		{name: "equality", in: `{"user_id": "alice"}`, want: `user_id eq "alice"`},
		{name: "every string field", in: `{"user_id": "u", "agent_id": "a", "run_id": "r", "actor_id": "x", "role": "user", "kind": "fact"}`,
			want: `AND(actor_id eq "x", agent_id eq "a", kind eq "fact", role eq "user", run_id eq "r", user_id eq "u")`},
		{name: "siblings are ANDed in key order", in: `{"user_id": "alice", "metadata.year": 2024, "agent_id": "bot"}`,
			want: `AND(agent_id eq "bot", metadata.year eq 2024, user_id eq "alice")`},
		{name: "plain key is metadata", in: `{"year": 2024}`, want: `metadata.year eq 2024`},
		{name: "metadata key named like a field", in: `{"metadata.user_id": "x"}`, want: `metadata.user_id eq "x"`},
		{name: "metadata key with dots", in: `{"metadata.a.b": "x"}`, want: `metadata.a.b eq "x"`},
		{name: "nested metadata object", in: `{"metadata": {"year": {"gte": 2020}, "lang": "go"}}`,
			want: `AND(metadata.lang eq "go", metadata.year gte 2020)`},
		{name: "star", in: `{"agent_id": "*"}`, want: `agent_id *`},
		{name: "star on metadata", in: `{"metadata.topic": "*"}`, want: `metadata.topic *`},
		{name: "star on timestamp", in: `{"updated_at": "*"}`, want: `updated_at *`},
		{name: "eq star is literal", in: `{"topic": {"eq": "*"}}`, want: `metadata.topic eq "*"`},
		{name: "eq", in: `{"user_id": {"eq": "alice"}}`, want: `user_id eq "alice"`},
		{name: "ne", in: `{"user_id": {"ne": "alice"}}`, want: `user_id ne "alice"`},
		{name: "gt", in: `{"score": {"gt": 4.5}}`, want: `metadata.score gt 4.5`},
		{name: "gte", in: `{"score": {"gte": 4}}`, want: `metadata.score gte 4`},
		{name: "lt", in: `{"score": {"lt": -1}}`, want: `metadata.score lt -1`},
		{name: "lte", in: `{"name": {"lte": "m"}}`, want: `metadata.name lte "m"`},
		{name: "in", in: `{"user_id": {"in": ["a", "b"]}}`, want: `user_id in ["a", "b"]`},
		{name: "nin", in: `{"year": {"nin": [2020, 2021.5]}}`, want: `metadata.year nin [2020, 2021.5]`},
		{name: "in booleans", in: `{"active": {"in": [true]}}`, want: `metadata.active in [true]`},
		{name: "contains", in: `{"role": {"contains": "ass"}}`, want: `role contains "ass"`},
		{name: "icontains", in: `{"lang": {"icontains": "GO"}}`, want: `metadata.lang icontains "GO"`},
		{name: "several operators are ANDed", in: `{"year": {"lt": 2025, "gte": 2020}}`,
			want: `AND(metadata.year gte 2020, metadata.year lt 2025)`},
		{name: "operators and siblings flatten", in: `{"year": {"lt": 2025, "gte": 2020}, "user_id": "u"}`,
			want: `AND(user_id eq "u", metadata.year gte 2020, metadata.year lt 2025)`},
		{name: "boolean", in: `{"active": true}`, want: `metadata.active eq true`},
		{name: "boolean ne", in: `{"active": {"ne": false}}`, want: `metadata.active ne false`},
		{name: "integral float is an integer", in: `{"year": 2024.0}`, want: `metadata.year eq 2024`},
		{name: "big number stays float", in: `{"n": 1e20}`, want: `metadata.n eq 1e+20`},
		{name: "empty string", in: `{"topic": ""}`, want: `metadata.topic eq ""`},
		{name: "date", in: `{"created_at": {"gte": "2024-05-01"}}`, want: `created_at gte 2024-05-01T00:00:00Z`},
		{name: "rfc3339 in UTC", in: `{"created_at": {"lt": "2024-05-01T12:30:00+02:00"}}`, want: `created_at lt 2024-05-01T10:30:00Z`},
		{name: "fractional seconds", in: `{"updated_at": {"gt": "2024-05-01T00:00:00.123456789Z"}}`, want: `updated_at gt 2024-05-01T00:00:00.123456789Z`},
		{name: "timestamp equality", in: `{"created_at": "2024-05-01"}`, want: `created_at eq 2024-05-01T00:00:00Z`},
		{name: "timestamp ne", in: `{"created_at": {"ne": "2024-05-01T00:00:00Z"}}`, want: `created_at ne 2024-05-01T00:00:00Z`},
		{name: "AND", in: `{"AND": [{"user_id": "a"}, {"agent_id": "b"}]}`, want: `AND(user_id eq "a", agent_id eq "b")`},
		{name: "OR", in: `{"OR": [{"user_id": "a"}, {"user_id": "b"}]}`, want: `OR(user_id eq "a", user_id eq "b")`},
		{name: "NOT list", in: `{"NOT": [{"user_id": "a"}, {"agent_id": "b"}]}`, want: `NOT(user_id eq "a", agent_id eq "b")`},
		{name: "NOT object", in: `{"NOT": {"user_id": "a"}}`, want: `NOT(user_id eq "a")`},
		{name: "AND in OR in NOT", in: `{"NOT": [{"OR": [{"AND": [{"a": 1}, {"b": {"gt": 2}}]}, {"c": "*"}]}]}`,
			want: `NOT(OR(AND(metadata.a eq 1, metadata.b gt 2), metadata.c *))`},
		{name: "logical beside fields", in: `{"user_id": "u", "OR": [{"a": 1}, {"b": 2}]}`,
			want: `AND(OR(metadata.a eq 1, metadata.b eq 2), user_id eq "u")`},
		{name: "control characters in values are fine", in: `{"topic": "a\nb"}`, want: `metadata.topic eq "a\nb"`},
		{name: "depth 10", in: nest(9, `{"a": 1}`), want: strings.Repeat("AND(", 9) + "metadata.a eq 1" + strings.Repeat(")", 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilterJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseFilterJSON(%s) error %v", tt.in, err)
			}
			got := "<nil>"
			if f != nil {
				got = f.String()
			}
			if got != tt.want {
				t.Fatalf("ParseFilterJSON(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// nest wraps inner in n levels of {"AND": [...]}.
func nest(n int, inner string) string {
	return strings.Repeat(`{"AND": [`, n) + inner + strings.Repeat(`]}`, n)
}

func TestParseFilterValues(t *testing.T) {
	raw := map[string]any{
		"year":       json.Number("2024"),
		"score":      json.Number("4.5"),
		"big":        json.Number("9007199254740993"),
		"f":          float64(3),
		"i":          7,
		"tags":       map[string]any{"in": []any{"a", "b"}},
		"ids":        map[string]any{"nin": []string{"x"}},
		"created_at": map[string]any{"gte": "2024-05-01"},
		"flag":       false,
	}
	f, err := ParseFilter(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, c := range Conds(f) {
		got[c.Field.Name] = c.Value
	}
	want := map[string]any{
		"year":       int64(2024),
		"score":      4.5,
		"big":        int64(9007199254740993),
		"f":          int64(3),
		"i":          int64(7),
		"tags":       []any{"a", "b"},
		"ids":        []any{"x"},
		"created_at": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"flag":       false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseFilter values = %#v, want %#v", got, want)
	}
	for _, c := range Conds(f) {
		if isTime := c.Field.Name == "created_at"; c.Field.Metadata == isTime || c.Field.Time() != isTime {
			t.Errorf("condition %v: field %+v", c, c.Field)
		}
	}
}

func TestParseFilterTree(t *testing.T) {
	f, err := ParseFilterJSON([]byte(`{"OR": [{"user_id": "a"}, {"NOT": {"metadata.k": {"in": [1, 2]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Or{
		Cond{Field: FilterField{Name: "user_id"}, Op: FilterEq, Value: "a"},
		Not{Cond{Field: FilterField{Name: "k", Metadata: true}, Op: FilterIn, Value: []any{int64(1), int64(2)}}},
	}
	if !reflect.DeepEqual(f, Filter(want)) {
		t.Fatalf("ParseFilterJSON = %#v, want %#v", f, want)
	}
}

const opsHint = "use eq, ne, gt, gte, lt, lte, in, nin, contains, icontains"

func TestParseFilterErrors(t *testing.T) {
	long := strings.Repeat("x", MaxFilterString+1)
	tests := []struct {
		name, in string
		want     []FieldError
	}{
		{name: "unknown operator", in: `{"metadata.year": {"between": [1, 2]}}`,
			want: []FieldError{{"filters.metadata.year.between", `unknown operator "between"; ` + opsHint}}},
		{name: "unknown operator beside a good one", in: `{"year": {"gt": 1, "like": "x"}}`,
			want: []FieldError{{"filters.year.like", `unknown operator "like"; ` + opsHint}}},
		{name: "star is not an operator", in: `{"year": {"*": 1}}`,
			want: []FieldError{{"filters.year.*", `unknown operator "*"; ` + opsHint}}},
		{name: "empty operator object", in: `{"year": {}}`,
			want: []FieldError{{"filters.year", "must not be an empty object; " + opsHint}}},
		{name: "timestamp in AND", in: `{"AND": [{"user_id": "u"}, {"created_at": {"gte": "yesterday"}}]}`,
			want: []FieldError{{"filters.AND[1].created_at.gte", `must be an RFC 3339 timestamp or a date like "2024-05-01"`}}},
		{name: "timestamp number", in: `{"updated_at": {"lt": 1714521600}}`,
			want: []FieldError{{"filters.updated_at.lt", `must be an RFC 3339 timestamp or a date like "2024-05-01"`}}},
		{name: "timestamp without zone", in: `{"created_at": "2024-05-01T10:00:00"}`,
			want: []FieldError{{"filters.created_at", `must be an RFC 3339 timestamp or a date like "2024-05-01"`}}},
		{name: "contains on timestamp", in: `{"created_at": {"contains": "2024"}}`,
			want: []FieldError{{"filters.created_at.contains", `operator "contains" is not supported on a timestamp; use eq, ne, gt, gte, lt, lte`}}},
		{name: "in on timestamp", in: `{"created_at": {"in": ["2024-05-01"]}}`,
			want: []FieldError{{"filters.created_at.in", `operator "in" is not supported on a timestamp; use eq, ne, gt, gte, lt, lte`}}},
		{name: "gt on string field", in: `{"user_id": {"gt": "a"}}`,
			want: []FieldError{{"filters.user_id.gt", `operator "gt" is not supported on user_id (a string); use eq, ne, in, nin, contains, icontains`}}},
		{name: "number on string field", in: `{"run_id": 5}`,
			want: []FieldError{{"filters.run_id", "must be a string, not a number"}}},
		{name: "number in string field list", in: `{"role": {"in": ["user", 1]}}`,
			want: []FieldError{{"filters.role.in[1]", "must be a string, not a number"}}},
		{name: "contains number", in: `{"topic": {"contains": 5}}`,
			want: []FieldError{{"filters.topic.contains", `operator "contains" needs a string, not a number`}}},
		{name: "icontains boolean", in: `{"topic": {"icontains": true}}`,
			want: []FieldError{{"filters.topic.icontains", `operator "icontains" needs a string, not a boolean`}}},
		{name: "gt boolean", in: `{"active": {"gt": false}}`,
			want: []FieldError{{"filters.active.gt", `operator "gt" needs a number or a string; booleans support eq, ne, in, nin`}}},
		{name: "in not a list", in: `{"year": {"in": 2024}}`,
			want: []FieldError{{"filters.year.in", "must be a list of values"}}},
		{name: "in empty", in: `{"year": {"nin": []}}`,
			want: []FieldError{{"filters.year.nin", "must not be an empty list"}}},
		{name: "in mixed", in: `{"year": {"in": [2024, "2024"]}}`,
			want: []FieldError{{"filters.year.in[1]", "is a string but the list starts with a number; all items must be of one kind"}}},
		{name: "in nested list", in: `{"year": {"in": [[1]]}}`,
			want: []FieldError{{"filters.year.in[0]", "must be a string, number or boolean, not a list"}}},
		{name: "in null", in: `{"year": {"in": [null]}}`,
			want: []FieldError{{"filters.year.in[0]", "must not be null"}}},
		{name: "in too long", in: `{"year": {"in": [` + strings.Repeat("1,", MaxFilterList) + `1]}}`,
			want: []FieldError{{"filters.year.in", "has more than 1000 items"}}},
		{name: "eq object", in: `{"year": {"eq": {"a": 1}}}`,
			want: []FieldError{{"filters.year.eq", "must be a string, number or boolean, not an object"}}},
		{name: "list value", in: `{"tags": ["a", "b"]}`,
			want: []FieldError{{"filters.tags", `a list is not a value; use {"in": [...]}`}}},
		{name: "null value", in: `{"user_id": null}`,
			want: []FieldError{{"filters.user_id", `must not be null; {"NOT": {"user_id": "*"}} matches a missing value`}}},
		{name: "null metadata value", in: `{"metadata.k": null}`,
			want: []FieldError{{"filters.metadata.k", `must not be null; {"NOT": {"metadata.k": "*"}} matches a missing value`}}},
		{name: "eq null", in: `{"k": {"eq": null}}`,
			want: []FieldError{{"filters.k.eq", "must not be null"}}},
		{name: "long string", in: `{"k": "` + long + `"}`,
			want: []FieldError{{"filters.k", "is longer than 1000 bytes"}}},
		{name: "long string in list", in: `{"k": {"in": ["a", "` + long + `"]}}`,
			want: []FieldError{{"filters.k.in[1]", "is longer than 1000 bytes"}}},
		{name: "huge number", in: `{"k": 1e400}`,
			want: []FieldError{{"filters.k", "must be a finite number"}}},
		{name: "long key", in: `{"` + strings.Repeat("k", MaxFilterKey+1) + `": 1}`,
			want: []FieldError{{"filters." + strings.Repeat("k", MaxFilterKey+1), "metadata key is longer than 128 bytes"}}},
		{name: "long metadata. key", in: `{"metadata.` + strings.Repeat("k", MaxFilterKey+1) + `": 1}`,
			want: []FieldError{{"filters.metadata." + strings.Repeat("k", MaxFilterKey+1), "metadata key is longer than 128 bytes"}}},
		{name: "key of 128 bytes is fine", in: `{"metadata.` + strings.Repeat("k", MaxFilterKey) + `": 1, "x": {"bad": 1}}`,
			want: []FieldError{{"filters.x.bad", `unknown operator "bad"; ` + opsHint}}},
		{name: "control character in key", in: `{"a\tb": 1}`,
			want: []FieldError{{"filters.a\tb", "metadata key contains a control character"}}},
		{name: "empty key", in: `{"": 1}`,
			want: []FieldError{{"filters.", "metadata key must not be empty"}}},
		{name: "empty metadata. key", in: `{"metadata.": 1}`,
			want: []FieldError{{"filters.metadata.", "metadata key must not be empty"}}},
		{name: "lower-case and", in: `{"and": [{"a": 1}]}`,
			want: []FieldError{{"filters.and", `logical operators are written in upper case: "AND"`}}},
		{name: "mixed-case Not", in: `{"Not": {"a": 1}}`,
			want: []FieldError{{"filters.Not", `logical operators are written in upper case: "NOT"`}}},
		{name: "AND not a list", in: `{"AND": {"a": 1}}`,
			want: []FieldError{{"filters.AND", "must be a list of filter objects"}}},
		{name: "OR empty", in: `{"OR": []}`,
			want: []FieldError{{"filters.OR", "must not be an empty list"}}},
		{name: "NOT empty", in: `{"NOT": []}`,
			want: []FieldError{{"filters.NOT", "must not be an empty list"}}},
		{name: "NOT scalar", in: `{"NOT": "a"}`,
			want: []FieldError{{"filters.NOT", "must be a filter object or a list of filter objects"}}},
		{name: "OR item not an object", in: `{"OR": [{"a": 1}, "b"]}`,
			want: []FieldError{{"filters.OR[1]", "must be a filter object"}}},
		{name: "empty nested object", in: `{"AND": [{}]}`,
			want: []FieldError{{"filters.AND[0]", "must not be an empty object"}}},
		{name: "AND too long", in: `{"AND": [` + strings.Repeat(`{"a": 1},`, MaxFilterList) + `{"a": 1}]}`,
			want: []FieldError{{"filters.AND", "has more than 1000 items"}}},
		{name: "metadata scalar", in: `{"metadata": "x"}`,
			want: []FieldError{{"filters.metadata", `must be an object of metadata keys; write "metadata.metadata" for a key named metadata`}}},
		{name: "metadata empty", in: `{"metadata": {}}`,
			want: []FieldError{{"filters.metadata", "must not be an empty object"}}},
		{name: "logical inside metadata", in: `{"metadata": {"OR": [{"a": 1}]}}`,
			want: []FieldError{{"filters.metadata.OR", "logical operators are not allowed inside metadata; put them around it"}}},
		{name: "bad operator inside metadata", in: `{"metadata": {"year": {"between": 1}}}`,
			want: []FieldError{{"filters.metadata.year.between", `unknown operator "between"; ` + opsHint}}},
		{name: "too deep", in: nest(10, `{"a": 1}`),
			want: []FieldError{{"filters" + strings.Repeat(".AND[0]", 10), "is nested deeper than 10 levels"}}},
		{name: "too deep with NOT objects", in: strings.Repeat(`{"NOT": `, 10) + `{"a": 1}` + strings.Repeat(`}`, 10),
			want: []FieldError{{"filters" + strings.Repeat(".NOT[0]", 10), "is nested deeper than 10 levels"}}},
		{name: "too many conditions", in: `{"OR": [` + strings.Repeat(`{"a": 1},`, MaxFilterConds) + `{"a": 2}]}`,
			want: []FieldError{{fmt.Sprintf("filters.OR[%d].a", MaxFilterConds), "filter has more than 100 conditions"}}},
		{name: "too many operators", in: `{"a": {"gt": 1, "lt": 2}, "OR": [` + strings.Repeat(`{"a": 1},`, MaxFilterConds-2) + `{"a": 2}]}`,
			want: []FieldError{{"filters.a.lt", "filter has more than 100 conditions"}}},
		{name: "every problem is reported", in: `{"a": {"x": 1}, "created_at": "soon", "AND": [{"b": null}]}`,
			want: []FieldError{
				{"filters.AND[0].b", `must not be null; {"NOT": {"metadata.b": "*"}} matches a missing value`},
				{"filters.a.x", `unknown operator "x"; ` + opsHint},
				{"filters.created_at", `must be an RFC 3339 timestamp or a date like "2024-05-01"`},
			}},
		{name: "not JSON", in: `{"a": }`,
			want: []FieldError{{"filters.a", "is not valid JSON: invalid character '}' looking for beginning of value"}}},
		{name: "truncated", in: `{"a": [1`,
			want: []FieldError{{"filters.a", "is not valid JSON: unexpected EOF"}}},
		{name: "trailing data", in: `{"a": 1} {}`,
			want: []FieldError{{"filters", "has data after the JSON value"}}},
		{name: "not an object", in: `[{"a": 1}]`,
			want: []FieldError{{"filters", "must be a JSON object"}}},
		{name: "scalar", in: `"a"`,
			want: []FieldError{{"filters", "must be a JSON object"}}},
		{name: "repeated key", in: `{"OR": [{"user_id": "a", "user_id": "b"}]}`,
			want: []FieldError{{"filters.OR[0].user_id", "is repeated"}}},
		{name: "deep JSON", in: strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100),
			want: []FieldError{{"filters" + strings.Repeat("[0]", maxFilterJSONDepth), "is nested deeper than 10 filter levels"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilterJSON([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseFilterJSON(%.80s) = %v, want an error", tt.in, f)
			}
			if !errors.Is(err, Invalid) {
				t.Fatalf("ParseFilterJSON(%.80s) error %v is not Invalid", tt.in, err)
			}
			if got := FieldsOf(err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseFilterJSON(%.80s) fields\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFilterErrorText(t *testing.T) {
	_, err := ParseFilterJSON([]byte(`{"metadata.year": {"between": [2020, 2024]}}`))
	want := `parse filter: invalid filters.metadata.year.between (filters.metadata.year.between: unknown operator "between"; ` + opsHint + `)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestParseFilterGoValues(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]any
		want string // a filter's String, or "error: <path>"
	}{
		{name: "nil", raw: nil, want: "<nil>"},
		{name: "NaN", raw: map[string]any{"k": math.NaN()}, want: "error: filters.k"},
		{name: "Inf", raw: map[string]any{"k": map[string]any{"gt": math.Inf(1)}}, want: "error: filters.k.gt"},
		{name: "unsupported type", raw: map[string]any{"k": struct{}{}}, want: "error: filters.k"},
		{name: "invalid UTF-8", raw: map[string]any{"k": "a\xffb"}, want: "error: filters.k"},
		{name: "invalid UTF-8 key", raw: map[string]any{"a\xffb": 1}, want: "error: filters.a\xffb"},
		{name: "bad json.Number", raw: map[string]any{"k": json.Number("x")}, want: "error: filters.k"},
		{name: "string slice", raw: map[string]any{"user_id": map[string]any{"in": []string{"a"}}}, want: `user_id in ["a"]`},
		{name: "int", raw: map[string]any{"k": 3}, want: `metadata.k eq 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.raw)
			got := "<nil>"
			switch {
			case err != nil:
				fields := FieldsOf(err)
				if len(fields) != 1 || !errors.Is(err, Invalid) {
					t.Fatalf("ParseFilter(%v) error %v, want one Invalid field", tt.raw, err)
				}
				got = "error: " + fields[0].Path
			case f != nil:
				got = f.String()
			}
			if got != tt.want {
				t.Fatalf("ParseFilter(%v) = %s, want %s", tt.raw, got, tt.want)
			}
		})
	}
}

// filterDepth is the nesting of filter objects as the parser counts it.
func filterDepth(f Filter) int {
	var kids []Filter
	switch x := f.(type) {
	case And:
		kids = x
	case Or:
		kids = x
	case Not:
		kids = x
	default:
		return 0
	}
	d := 0
	for _, k := range kids {
		d = max(d, filterDepth(k))
	}
	return d + 1
}

// checkFilterLimits is the property every accepted filter keeps.
func checkFilterLimits(t *testing.T, in []byte, f Filter) {
	t.Helper()
	// Each filter object adds at most two levels to the tree: the And of its
	// sibling keys and the node of its AND, OR or NOT.
	if d := filterDepth(f); d > 2*MaxFilterDepth {
		t.Fatalf("ParseFilterJSON(%q) has depth %d", in, d)
	}
	conds := Conds(f)
	if len(conds) > MaxFilterConds {
		t.Fatalf("ParseFilterJSON(%q) has %d conditions", in, len(conds))
	}
	checkString := func(what, s string) {
		if !utf8.ValidString(s) {
			t.Fatalf("ParseFilterJSON(%q): %s %q is not UTF-8", in, what, s)
		}
	}
	for _, c := range conds {
		if c.Field.Metadata {
			if msg := checkFilterKey(c.Field.Name); msg != "" {
				t.Fatalf("ParseFilterJSON(%q): key %q: %s", in, c.Field.Name, msg)
			}
		} else if !strings.Contains(" user_id agent_id run_id actor_id role kind created_at updated_at ", " "+c.Field.Name+" ") {
			t.Fatalf("ParseFilterJSON(%q): unknown field %q", in, c.Field.Name)
		}
		values := []any{c.Value}
		if list, ok := c.Value.([]any); ok {
			if len(list) == 0 || len(list) > MaxFilterList {
				t.Fatalf("ParseFilterJSON(%q): list of %d items", in, len(list))
			}
			values = list
		}
		for _, v := range values {
			switch x := v.(type) {
			case string:
				checkString("value", x)
				if len(x) > MaxFilterString {
					t.Fatalf("ParseFilterJSON(%q): value of %d bytes", in, len(x))
				}
			case nil:
				if c.Op != FilterExists {
					t.Fatalf("ParseFilterJSON(%q): %v has no value", in, c)
				}
			case bool, int64, float64, time.Time:
			default:
				t.Fatalf("ParseFilterJSON(%q): value %#v of type %T", in, v, v)
			}
		}
	}
}

var filterSeeds = []string{
	`{"user_id": "alice", "metadata.year": {"gte": 2020, "lt": 2025}}`,
	`{"OR": [{"agent_id": "*"}, {"NOT": {"role": {"in": ["user", "tool"]}}}]}`,
	`{"AND": [{"created_at": {"gte": "2024-05-01"}}, {"updated_at": {"lt": "2024-06-01T10:00:00+02:00"}}]}`,
	`{"metadata": {"tags": {"contains": "go"}, "lang": {"icontains": "GO"}}}`,
	`{"active": true, "score": {"ne": 4.5}, "n": {"nin": [1, 2, 3]}}`,
	`{"metadata.year": {"between": [1, 2]}}`,
	`{"AND": [{"user_id": "a", "user_id": "b"}]}`,
	`{"x": {"in": [true, false]}, "y": {"lte": "m"}}`,
	`{"NOT": [{"OR": [{"AND": [{"a": 1}, {"b": {"gt": 2}}]}, {"c": "*"}]}]}`,
	`{"k": "') RETURN 1 //", "a' OR 1=1": {"eq": "$x"}}`,
	nest(9, `{"a": {"in": [1, 2.5]}}`),
	nest(10, `{"a": 1}`),
	strings.Repeat(`{"x": 1, "NOT": `, 9) + `{"a": 1, "b": 2}` + strings.Repeat(`}`, 9),
	`{"": 1}`, `null`, `[]`, `{"a": }`, `{"kind": {"icontains": "FA"}}`,
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		flt, err := ParseFilterJSON(in)
		if err != nil {
			if !errors.Is(err, Invalid) || len(FieldsOf(err)) == 0 {
				t.Fatalf("ParseFilterJSON(%q) error %v is not Invalid with fields", in, err)
			}
			if len(FieldsOf(err)) > maxFilterErrors {
				t.Fatalf("ParseFilterJSON(%q) reports %d problems", in, len(FieldsOf(err)))
			}
			return
		}
		if flt == nil {
			return
		}
		checkFilterLimits(t, in, flt)
		again, err := ParseFilterJSON(in)
		if err != nil || again.String() != flt.String() {
			t.Fatalf("ParseFilterJSON(%q) is not deterministic: %v then %v, %v", in, flt, again, err)
		}
	})
}
