package prompts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/neomem/neomem/graph"
)

func TestParseExtraction(t *testing.T) {
	long := strings.Repeat("x", MaxTextBytes+1)
	longName := strings.Repeat("n", MaxNameBytes+1)
	tests := []struct {
		name string
		args string
		want Extraction
		// wantErr lists the expected problems; nil means success.
		wantErr []graph.FieldError
	}{
		{
			name: "full",
			args: `{
				"facts": [
					{"text": "alice moved to Austin", "entities": ["alice", "Austin"]},
					{"text": "alice's case SR-2023-052 is open", "entities": ["alice", "SR-2023-052"]}
				],
				"entities": [
					{"name": "alice", "type": "Person"},
					{"name": "Austin", "type": "Location"},
					{"name": "SR-2023-052", "type": "support case"}
				],
				"relations": [
					{"source": "alice", "relationship": "lives_in", "target": "Austin"},
					{"source": "alice", "relationship": "has_case", "target": "SR-2023-052"}
				],
				"user_name": "Alice"
			}`,
			want: Extraction{
				Facts: []Fact{
					{Text: "alice moved to Austin", Entities: []string{"alice", "Austin"}},
					{Text: "alice's case SR-2023-052 is open", Entities: []string{"alice", "SR-2023-052"}},
				},
				Entities: []Entity{
					{Name: "alice", Type: "Person"},
					{Name: "Austin", Type: "Location"},
					{Name: "SR-2023-052", Type: "support case"},
				},
				Relations: []Relation{
					{Source: "alice", Relationship: "lives_in", Target: "Austin"},
					{Source: "alice", Relationship: "has_case", Target: "SR-2023-052"},
				},
				UserName: "Alice",
			},
		},
		{name: "empty object", args: `{}`, want: Extraction{}},
		{name: "empty lists", args: `{"facts": [], "entities": [], "relations": []}`, want: Extraction{}},
		{name: "null lists and name", args: `{"facts": null, "entities": null, "relations": null, "user_name": null}`, want: Extraction{}},
		{name: "surrounding white space", args: " \n{\"facts\": []}\n ", want: Extraction{}},
		{
			name: "trims strings",
			args: `{"facts": [{"text": "  bob likes tea\n", "entities": [" bob "]}], "entities": [{"name": " bob\t", "type": " Person "}],
				"relations": [{"source": " bob ", "relationship": " likes ", "target": " tea "}], "user_name": "  Bob  "}`,
			want: Extraction{
				Facts:     []Fact{{Text: "bob likes tea", Entities: []string{"bob"}}},
				Entities:  []Entity{{Name: "bob", Type: "Person"}},
				Relations: []Relation{{Source: "bob", Relationship: "likes", Target: "tea"}},
				UserName:  "Bob",
			},
		},
		{
			name: "fact without entities",
			args: `{"facts": [{"text": "bob is tired of winter"}, {"text": "x", "entities": null}]}`,
			want: Extraction{Facts: []Fact{{Text: "bob is tired of winter"}, {Text: "x"}}},
		},
		{
			name: "merges entities case-insensitively keeping the first type",
			args: `{"entities": [{"name": "Acme", "type": "Organization"}, {"name": "ACME", "type": "Company"}, {"name": " acme ", "type": "Thing"}, {"name": "Acme2", "type": "Organization"}]}`,
			want: Extraction{Entities: []Entity{{Name: "Acme", Type: "Organization"}, {Name: "Acme2", Type: "Organization"}}},
		},
		{
			name: "merges repeated names in a fact",
			args: `{"facts": [{"text": "t", "entities": ["Bob", "bob", "BOB", "Bo"]}]}`,
			want: Extraction{Facts: []Fact{{Text: "t", Entities: []string{"Bob", "Bo"}}}},
		},
		{
			name: "merges repeated relations",
			args: `{"relations": [{"source": "a", "relationship": "likes", "target": "b"}, {"source": "A", "relationship": "LIKES", "target": "B"}, {"source": "a", "relationship": "likes", "target": "c"}]}`,
			want: Extraction{Relations: []Relation{{Source: "a", Relationship: "likes", Target: "b"}, {Source: "a", Relationship: "likes", Target: "c"}}},
		},
		{
			name: "relations and facts may name entities not listed",
			args: `{"facts": [{"text": "t", "entities": ["ghost"]}], "entities": [{"name": "a", "type": "Person"}], "relations": [{"source": "a", "relationship": "knows", "target": "ghost"}]}`,
			want: Extraction{
				Facts:     []Fact{{Text: "t", Entities: []string{"ghost"}}},
				Entities:  []Entity{{Name: "a", Type: "Person"}},
				Relations: []Relation{{Source: "a", Relationship: "knows", Target: "ghost"}},
			},
		},
		{
			name: "keeps identifiers and other languages",
			args: `{"facts": [{"text": "Mein Hund heißt Bruno", "entities": ["Bruno"]}], "entities": [{"name": "SR-2023-052", "type": "Fall"}, {"name": "SR-2023-053", "type": "Fall"}]}`,
			want: Extraction{
				Facts:    []Fact{{Text: "Mein Hund heißt Bruno", Entities: []string{"Bruno"}}},
				Entities: []Entity{{Name: "SR-2023-052", Type: "Fall"}, {Name: "SR-2023-053", Type: "Fall"}},
			},
		},
		{
			name: "text may have line breaks",
			args: `{"facts": [{"text": "line one\nline\ttwo"}]}`,
			want: Extraction{Facts: []Fact{{Text: "line one\nline\ttwo"}}},
		},
		{name: "limits are inclusive", args: fmt.Sprintf(`{"facts": [{"text": %q, "entities": [%q]}]}`, long[1:], longName[1:]),
			want: Extraction{Facts: []Fact{{Text: long[1:], Entities: []string{longName[1:]}}}}},

		// Errors.
		{name: "not JSON", args: `{"facts": [`, wantErr: []graph.FieldError{{Path: "arguments", Message: "is not valid JSON"}}},
		{name: "empty", args: ``, wantErr: []graph.FieldError{{Path: "arguments", Message: "is not valid JSON"}}},
		{name: "trailing data", args: `{} {}`, wantErr: []graph.FieldError{{Path: "arguments", Message: "is not valid JSON"}}},
		{name: "array", args: `[]`, wantErr: []graph.FieldError{{Path: "arguments", Message: "must be a JSON object, got an array"}}},
		{name: "null", args: `null`, wantErr: []graph.FieldError{{Path: "arguments", Message: "must be a JSON object, got null"}}},
		{name: "string", args: `"facts"`, wantErr: []graph.FieldError{{Path: "arguments", Message: "must be a JSON object, got a string"}}},
		{name: "unknown field", args: `{"memories": []}`, wantErr: []graph.FieldError{
			{Path: "arguments", Message: `unknown field "memories"; allowed: facts, entities, relations, user_name`}}},
		{name: "field in other case", args: `{"Facts": []}`, wantErr: []graph.FieldError{
			{Path: "arguments", Message: `unknown field "Facts"; allowed: facts, entities, relations, user_name`}}},
		{name: "duplicate field", args: `{"facts": [], "facts": [{"text": "x"}]}`, wantErr: []graph.FieldError{
			{Path: "arguments", Message: `has the field "facts" twice`}}},
		{name: "facts not an array", args: `{"facts": {"text": "x"}}`, wantErr: []graph.FieldError{{Path: "facts", Message: "must be an array, got an object"}}},
		{name: "entities not an array", args: `{"entities": "alice"}`, wantErr: []graph.FieldError{{Path: "entities", Message: "must be an array, got a string"}}},
		{name: "relations not an array", args: `{"relations": 3}`, wantErr: []graph.FieldError{{Path: "relations", Message: "must be an array, got a number"}}},
		{name: "too many facts", args: `{"facts": [` + repeatJSON(`{"text": "x"}`, MaxFacts+1) + `]}`, wantErr: []graph.FieldError{{Path: "facts", Message: "has 101 items; at most 100"}}},
		{name: "too many entities", args: `{"entities": [` + repeatJSON(`{"name": "x", "type": "y"}`, MaxEntities+1) + `]}`, wantErr: []graph.FieldError{{Path: "entities", Message: "has 201 items; at most 200"}}},
		{name: "too many relations", args: `{"relations": [` + repeatJSON(`{}`, MaxRelations+1) + `]}`, wantErr: []graph.FieldError{{Path: "relations", Message: "has 201 items; at most 200"}}},
		{name: "fact not an object", args: `{"facts": ["alice likes tea"]}`, wantErr: []graph.FieldError{{Path: "facts[0]", Message: "must be a JSON object, got a string"}}},
		{name: "fact without text", args: `{"facts": [{"text": "a"}, {"text": "b"}, {"entities": ["a"]}]}`, wantErr: []graph.FieldError{{Path: "facts[2].text", Message: "required"}}},
		{name: "fact text null", args: `{"facts": [{"text": null}]}`, wantErr: []graph.FieldError{{Path: "facts[0].text", Message: "required"}}},
		{name: "fact text blank", args: `{"facts": [{"text": "  \n "}]}`, wantErr: []graph.FieldError{{Path: "facts[0].text", Message: "must not be empty"}}},
		{name: "fact text not a string", args: `{"facts": [{"text": ["a"]}]}`, wantErr: []graph.FieldError{{Path: "facts[0].text", Message: "must be a string, got an array"}}},
		{name: "fact text too long", args: fmt.Sprintf(`{"facts": [{"text": %q}]}`, long), wantErr: []graph.FieldError{{Path: "facts[0].text", Message: "is too long (2001 bytes; at most 2000)"}}},
		{name: "fact text control character", args: `{"facts": [{"text": "a\u0000b"}]}`, wantErr: []graph.FieldError{{Path: "facts[0].text", Message: "contains the control character U+0000"}}},
		{name: "fact unknown field", args: `{"facts": [{"text": "a", "about": "b"}]}`, wantErr: []graph.FieldError{{Path: "facts[0]", Message: `unknown field "about"; allowed: text, entities`}}},
		{name: "fact entities not an array", args: `{"facts": [{"text": "a", "entities": "b"}]}`, wantErr: []graph.FieldError{{Path: "facts[0].entities", Message: "must be an array, got a string"}}},
		{name: "fact entity blank", args: `{"facts": [{"text": "a", "entities": ["b", " "]}]}`, wantErr: []graph.FieldError{{Path: "facts[0].entities[1]", Message: "must not be empty"}}},
		{name: "fact entity not a string", args: `{"facts": [{"text": "a", "entities": [{"name": "b"}]}]}`, wantErr: []graph.FieldError{{Path: "facts[0].entities[0]", Message: "must be a string, got an object"}}},
		{name: "fact entity too long", args: fmt.Sprintf(`{"facts": [{"text": "a", "entities": [%q]}]}`, longName), wantErr: []graph.FieldError{{Path: "facts[0].entities[0]", Message: "is too long (201 bytes; at most 200)"}}},
		{name: "entity without name", args: `{"entities": [{"type": "Person"}]}`, wantErr: []graph.FieldError{{Path: "entities[0].name", Message: "required"}}},
		{name: "entity without type", args: `{"entities": [{"name": "bob"}]}`, wantErr: []graph.FieldError{{Path: "entities[0].type", Message: "required"}}},
		{name: "entity blank type", args: `{"entities": [{"name": "bob", "type": ""}]}`, wantErr: []graph.FieldError{{Path: "entities[0].type", Message: "must not be empty"}}},
		{name: "entity name too long", args: fmt.Sprintf(`{"entities": [{"name": %q, "type": "Person"}]}`, longName), wantErr: []graph.FieldError{{Path: "entities[0].name", Message: "is too long (201 bytes; at most 200)"}}},
		{name: "entity name with line break", args: `{"entities": [{"name": "bob\nalice", "type": "Person"}]}`, wantErr: []graph.FieldError{{Path: "entities[0].name", Message: "contains the control character U+000A"}}},
		{name: "entity unknown field", args: `{"entities": [{"name": "bob", "type": "Person", "label": "x"}]}`, wantErr: []graph.FieldError{{Path: "entities[0]", Message: `unknown field "label"; allowed: name, type`}}},
		{name: "entity not an object", args: `{"entities": [null]}`, wantErr: []graph.FieldError{{Path: "entities[0]", Message: "must be a JSON object, got null"}}},
		{name: "relation missing everything", args: `{"relations": [{}]}`, wantErr: []graph.FieldError{
			{Path: "relations[0].source", Message: "required"},
			{Path: "relations[0].relationship", Message: "required"},
			{Path: "relations[0].target", Message: "required"},
		}},
		{name: "relation wrong types", args: `{"relations": [{"source": 1, "relationship": true, "target": "b"}]}`, wantErr: []graph.FieldError{
			{Path: "relations[0].source", Message: "must be a string, got a number"},
			{Path: "relations[0].relationship", Message: "must be a string, got a boolean"},
		}},
		{name: "relation unknown field", args: `{"relations": [{"source": "a", "type": "likes", "target": "b"}]}`, wantErr: []graph.FieldError{
			{Path: "relations[0]", Message: `unknown field "type"; allowed: source, relationship, target`},
			{Path: "relations[0].relationship", Message: "required"},
		}},
		{name: "relation duplicate field", args: `{"relations": [{"source": "a", "source": "b"}]}`, wantErr: []graph.FieldError{{Path: "relations[0]", Message: `has the field "source" twice`}}},
		{name: "user name not a string", args: `{"user_name": 7}`, wantErr: []graph.FieldError{{Path: "user_name", Message: "must be a string, got a number"}}},
		{name: "user name too long", args: fmt.Sprintf(`{"user_name": %q}`, longName), wantErr: []graph.FieldError{{Path: "user_name", Message: "is too long (201 bytes; at most 200)"}}},
		{
			name: "reports every problem",
			args: `{"facts": [{"text": ""}, {"text": "ok"}, 5], "entities": [{"name": "a"}], "relations": [{"source": "a", "relationship": "r"}], "extra": 1}`,
			wantErr: []graph.FieldError{
				{Path: "facts[0].text", Message: "must not be empty"},
				{Path: "facts[2]", Message: "must be a JSON object, got a number"},
				{Path: "entities[0].type", Message: "required"},
				{Path: "relations[0].target", Message: "required"},
				{Path: "arguments", Message: `unknown field "extra"; allowed: facts, entities, relations, user_name`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtraction(json.RawMessage(tt.args))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseExtraction(%s) = %+v, want an error", tt.args, got)
				}
				if !errors.Is(err, graph.Invalid) {
					t.Fatalf("ParseExtraction(%s) error %v is not Invalid", tt.args, err)
				}
				if diff := cmp.Diff(tt.wantErr, graph.FieldsOf(err)); diff != "" {
					t.Errorf("ParseExtraction(%s) problems mismatch (-want +got):\n%s", tt.args, diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExtraction(%s) = %v, want no error", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseExtraction(%s) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseExtractionLimitsProblems(t *testing.T) {
	args := `{"facts": [` + repeatJSON(`{"text": ""}`, 50) + `]}`
	_, err := ParseExtraction(json.RawMessage(args))
	fields := graph.FieldsOf(err)
	if len(fields) != maxProblems+1 {
		t.Fatalf("ParseExtraction with 50 bad facts reported %d problems, want %d", len(fields), maxProblems+1)
	}
	if want := (graph.FieldError{Message: "and 30 more problems"}); fields[maxProblems] != want {
		t.Errorf("last problem = %+v, want %+v", fields[maxProblems], want)
	}
}

func TestParseExtractionTooLong(t *testing.T) {
	args := `{"facts": [], "user_name": "` + strings.Repeat(" ", maxArgsBytes) + `"}`
	_, err := ParseExtraction(json.RawMessage(args))
	want := []graph.FieldError{{Path: "arguments", Message: fmt.Sprintf("are too long (%d bytes; at most %d)", len(args), maxArgsBytes)}}
	if diff := cmp.Diff(want, graph.FieldsOf(err)); diff != "" {
		t.Errorf("ParseExtraction(huge) problems mismatch (-want +got):\n%s", diff)
	}
}

func repeatJSON(item string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item
	}
	return strings.Join(items, ",")
}

var extractionSeeds = []string{
	`{}`,
	`{"facts":[{"text":"alice lives in Austin","entities":["alice","Austin"]}],"entities":[{"name":"alice","type":"Person"},{"name":"Austin","type":"Location"}],"relations":[{"source":"alice","relationship":"lives_in","target":"Austin"}],"user_name":"Alice"}`,
	`{"facts":null,"entities":[{"name":"Acme","type":"Org"},{"name":"ACME","type":"Company"}]}`,
	`{"facts":[{"text":"  x  ","entities":[" a ","A"]}]}`,
	`{"facts":[{"text":""}],"extra":1}`,
	`{"facts":[{"text":"a\u0000b"}]}`,
	`{"facts":[{"text":"a","text":"b"}]}`,
	`{"relations":[{"source":"a","relationship":"r","target":"b"},{"source":"A","relationship":"R","target":"B"}]}`,
	`{"entities":[{"name":"ǅ","type":"x"},{"name":"ǆ","type":"y"},{"name":"K","type":"z"},{"name":"k","type":"w"}]}`,
	`{"user_name":"\ud800"}`,
	`[1,2]`, `null`, `"x"`, `{"facts":`, ``, `{"facts":[[]]}`, `{"facts":{}}`,
	"{\"facts\":[{\"text\":\"\xff\xfe\"}]}",
}

func FuzzParseExtraction(f *testing.F) {
	for _, s := range extractionSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		got, err := ParseExtraction(args)
		if err != nil {
			if !errors.Is(err, graph.Invalid) {
				t.Fatalf("ParseExtraction(%q) error %v is not Invalid", args, err)
			}
			if n := len(graph.FieldsOf(err)); n == 0 || n > maxProblems+1 {
				t.Fatalf("ParseExtraction(%q) error has %d problems", args, n)
			}
			return
		}
		checkExtraction(t, args, got)
		// What was accepted, sent again, reads the same.
		again, err := ParseExtraction(wireExtraction(t, got))
		if err != nil {
			t.Fatalf("ParseExtraction(ParseExtraction(%q)) = %v", args, err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("ParseExtraction is not stable for %q (-first +second):\n%s", args, diff)
		}
	})
}

// checkExtraction is the property every accepted extraction keeps.
func checkExtraction(t *testing.T, args []byte, x Extraction) {
	t.Helper()
	if len(x.Facts) > MaxFacts || len(x.Entities) > MaxEntities || len(x.Relations) > MaxRelations {
		t.Fatalf("ParseExtraction(%q) exceeds the limits: %d facts, %d entities, %d relations", args, len(x.Facts), len(x.Entities), len(x.Relations))
	}
	check := func(what, s string, max int, required bool) {
		t.Helper()
		if required && s == "" {
			t.Fatalf("ParseExtraction(%q): empty %s", args, what)
		}
		if s != strings.TrimSpace(s) || len(s) > max || !utf8.ValidString(s) {
			t.Fatalf("ParseExtraction(%q): %s %q is untrimmed, too long or not UTF-8", args, what, s)
		}
	}
	for _, f := range x.Facts {
		check("fact text", f.Text, MaxTextBytes, true)
		seen := map[string]bool{}
		for _, e := range f.Entities {
			check("fact entity", e, MaxNameBytes, true)
			if seen[fold(e)] {
				t.Fatalf("ParseExtraction(%q): fact entity %q repeated", args, e)
			}
			seen[fold(e)] = true
		}
	}
	seen := map[string]bool{}
	for _, e := range x.Entities {
		check("entity name", e.Name, MaxNameBytes, true)
		check("entity type", e.Type, MaxNameBytes, true)
		if seen[fold(e.Name)] {
			t.Fatalf("ParseExtraction(%q): entity %q repeated", args, e.Name)
		}
		seen[fold(e.Name)] = true
	}
	for _, r := range x.Relations {
		check("relation source", r.Source, MaxNameBytes, true)
		check("relationship", r.Relationship, MaxNameBytes, true)
		check("relation target", r.Target, MaxNameBytes, true)
	}
	check("user name", x.UserName, MaxNameBytes, false)
}

// wireExtraction writes x back in extract_memories' argument format.
func wireExtraction(t *testing.T, x Extraction) []byte {
	t.Helper()
	type fact struct {
		Text     string   `json:"text"`
		Entities []string `json:"entities"`
	}
	type entity struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type relation struct {
		Source       string `json:"source"`
		Relationship string `json:"relationship"`
		Target       string `json:"target"`
	}
	var w struct {
		Facts     []fact     `json:"facts"`
		Entities  []entity   `json:"entities"`
		Relations []relation `json:"relations"`
		UserName  string     `json:"user_name,omitempty"`
	}
	for _, f := range x.Facts {
		w.Facts = append(w.Facts, fact(f))
	}
	for _, e := range x.Entities {
		w.Entities = append(w.Entities, entity(e))
	}
	for _, r := range x.Relations {
		w.Relations = append(w.Relations, relation(r))
	}
	w.UserName = x.UserName
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
