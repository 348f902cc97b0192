package prompts

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neomem/neomem/graph"
)

var testKnown = Known{
	Facts:     []string{"F1", "F2", "F3"},
	Memories:  []string{"M1", "M2"},
	Relations: []string{"R1", "R2"},
}

// call builds a Call from a tool name and its arguments as JSON text.
func call(name, args string) Call { return Call{Name: name, Arguments: json.RawMessage(args)} }

func TestParseDecision(t *testing.T) {
	tests := []struct {
		name  string
		calls []Call
		// known is testKnown when nil.
		known   *Known
		want    Decision
		wantErr []graph.FieldError
	}{
		{
			name: "every tool",
			calls: []Call{
				call("add_memory", `{"text": "alice likes tea", "fact": "F1"}`),
				call("update_memory", `{"id": "M1", "text": "alice likes cheese and pepperoni pizza", "fact": "F2"}`),
				call("delete_memory", `{"id": "M2", "reason": "contradicted by F3"}`),
				call("add_graph_memory", `{"source": "alice", "relationship": "likes", "target": "tea", "source_type": "Person", "target_type": "Drink"}`),
				call("update_graph_memory", `{"id": "R1", "target": "Austin"}`),
				call("delete_graph_memory", `{"id": "R2", "reason": "no longer true"}`),
				call("noop", `{"id": "F3", "reason": "already known"}`),
			},
			want: Decision{
				Memories: []MemoryDecision{
					{Op: graph.OpAdd, Text: "alice likes tea", Fact: "F1"},
					{Op: graph.OpUpdate, ID: "M1", Text: "alice likes cheese and pepperoni pizza", Fact: "F2"},
					{Op: graph.OpDelete, ID: "M2"},
				},
				Relations: []RelationDecision{
					{Op: graph.OpAdd, Source: "alice", Relationship: "likes", Target: "tea", SourceType: "Person", TargetType: "Drink"},
					{Op: graph.OpUpdate, ID: "R1", Target: "Austin"},
					{Op: graph.OpDelete, ID: "R2"},
				},
				Noops: []string{"F3"},
			},
		},
		{
			name:  "optional arguments absent",
			calls: []Call{call("add_memory", `{"text": "x"}`), call("update_memory", `{"id": "M1", "text": "y"}`), call("add_graph_memory", `{"source": "a", "relationship": "r", "target": "b"}`)},
			want: Decision{
				Memories:  []MemoryDecision{{Op: graph.OpAdd, Text: "x"}, {Op: graph.OpUpdate, ID: "M1", Text: "y"}},
				Relations: []RelationDecision{{Op: graph.OpAdd, Source: "a", Relationship: "r", Target: "b"}},
			},
		},
		{
			name:  "empty and null optional arguments are absent",
			calls: []Call{call("add_memory", `{"text": "x", "fact": ""}`), call("update_graph_memory", `{"id": "R1", "source": null, "relationship": " ", "target": "c"}`), call("noop", `{"id": ""}`)},
			want: Decision{
				Memories:  []MemoryDecision{{Op: graph.OpAdd, Text: "x"}},
				Relations: []RelationDecision{{Op: graph.OpUpdate, ID: "R1", Target: "c"}},
				Noops:     []string{""},
			},
		},
		{
			name:  "strings are trimmed",
			calls: []Call{call("update_memory", `{"id": " M1 ", "text": "  new text\n"}`)},
			want:  Decision{Memories: []MemoryDecision{{Op: graph.OpUpdate, ID: "M1", Text: "new text"}}},
		},
		{
			name:  "noop without arguments",
			calls: []Call{{Name: "noop"}, call("noop", `null`), call("noop", ` `), call("noop", `{}`)},
			want:  Decision{Noops: []string{"", "", "", ""}},
		},
		{
			name:  "noop takes any known id",
			calls: []Call{call("noop", `{"id": "F1"}`), call("noop", `{"id": "M1"}`), call("noop", `{"id": "R1"}`), call("noop", `{"id": "M1"}`)},
			want:  Decision{Noops: []string{"F1", "M1", "R1", "M1"}},
		},
		{
			name:  "noop does not conflict with a decision",
			calls: []Call{call("noop", `{"id": "M1"}`), call("update_memory", `{"id": "M1", "text": "x"}`)},
			want:  Decision{Memories: []MemoryDecision{{Op: graph.OpUpdate, ID: "M1", Text: "x"}}, Noops: []string{"M1"}},
		},
		{
			name:  "several adds from one fact",
			calls: []Call{call("add_memory", `{"text": "a", "fact": "F1"}`), call("add_memory", `{"text": "b", "fact": "F1"}`)},
			want:  Decision{Memories: []MemoryDecision{{Op: graph.OpAdd, Text: "a", Fact: "F1"}, {Op: graph.OpAdd, Text: "b", Fact: "F1"}}},
		},

		// Errors.
		{name: "no calls", calls: nil, wantErr: []graph.FieldError{{Path: "calls", Message: "no tool calls; call noop if nothing changes"}}},
		{name: "no calls and nothing known", calls: []Call{}, known: &Known{}, wantErr: []graph.FieldError{{Path: "calls", Message: "no tool calls; call noop if nothing changes"}}},
		{name: "unknown tool", calls: []Call{call("add_memory", `{"text": "x"}`), call("remember", `{"text": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[1].name", Message: `unknown tool "remember"; use one of add_memory, update_memory, delete_memory, add_graph_memory, update_graph_memory, delete_graph_memory, noop`}}},
		{name: "extract tool is not a decision tool", calls: []Call{call("extract_memories", `{}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].name", Message: `unknown tool "extract_memories"; use one of add_memory, update_memory, delete_memory, add_graph_memory, update_graph_memory, delete_graph_memory, noop`}}},
		{name: "arguments not JSON", calls: []Call{call("add_memory", `{"text": "x"`)}, wantErr: []graph.FieldError{{Path: "calls[0].arguments", Message: "is not valid JSON"}}},
		{name: "arguments an array", calls: []Call{call("add_memory", `["x"]`)}, wantErr: []graph.FieldError{{Path: "calls[0].arguments", Message: "must be a JSON object, got an array"}}},
		{name: "arguments a string", calls: []Call{call("noop", `"M1"`)}, wantErr: []graph.FieldError{{Path: "calls[0].arguments", Message: "must be a JSON object, got a string"}}},
		{name: "arguments with a field twice", calls: []Call{call("delete_memory", `{"id": "M1", "id": "M2"}`)}, wantErr: []graph.FieldError{{Path: "calls[0].arguments", Message: `has the field "id" twice`}}},
		{name: "unknown field", calls: []Call{call("add_memory", `{"text": "x", "id": "M1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0]", Message: `unknown field "id" for add_memory; allowed: text, fact`}}},
		{name: "add_memory without text", calls: []Call{call("add_memory", `{"fact": "F1"}`)}, wantErr: []graph.FieldError{{Path: "calls[0].text", Message: "required"}}},
		{name: "add_memory blank text", calls: []Call{call("add_memory", `{"text": "  "}`)}, wantErr: []graph.FieldError{{Path: "calls[0].text", Message: "required"}}},
		{name: "add_memory text not a string", calls: []Call{call("add_memory", `{"text": 42}`)}, wantErr: []graph.FieldError{{Path: "calls[0].text", Message: "must be a string, got a number"}}},
		{name: "add_memory text too long", calls: []Call{call("add_memory", fmt.Sprintf(`{"text": %q}`, strings.Repeat("é", 1001)))}, wantErr: []graph.FieldError{
			{Path: "calls[0].text", Message: "is too long (2002 bytes; at most 2000)"}}},
		{name: "add_memory unknown fact", calls: []Call{call("add_memory", `{"text": "x", "fact": "F7"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].fact", Message: `unknown fact id "F7"; known: F1, F2, F3`}}},
		{name: "fact given a memory id", calls: []Call{call("update_memory", `{"id": "M1", "text": "x", "fact": "M2"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].fact", Message: `"M2" is a memory id, not a fact id; known: F1, F2, F3`}}},
		{name: "update_memory without id and text", calls: []Call{call("update_memory", `{}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: "required"}, {Path: "calls[0].text", Message: "required"}}},
		{name: "update_memory unknown id", calls: []Call{call("update_memory", `{"id": "M9", "text": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown memory id "M9"; known: M1, M2`}}},
		{name: "update_memory given a fact id", calls: []Call{call("update_memory", `{"id": "F1", "text": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `"F1" is a fact id, not a memory id; known: M1, M2`}}},
		{name: "update_memory id not a string", calls: []Call{call("update_memory", `{"id": 1, "text": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: "must be a string, got a number"}}},
		{name: "update_memory when no memories were shown", known: &Known{Facts: []string{"F1"}}, calls: []Call{call("update_memory", `{"id": "M1", "text": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown memory id "M1"; no memory ids were shown`}}},
		{name: "delete_memory without id", calls: []Call{call("delete_memory", `{"reason": "x"}`)}, wantErr: []graph.FieldError{{Path: "calls[0].id", Message: "required"}}},
		{name: "delete_memory given a relation id", calls: []Call{call("delete_memory", `{"id": "R1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `"R1" is a relation id, not a memory id; known: M1, M2`}}},
		{name: "delete_memory reason not a string", calls: []Call{call("delete_memory", `{"id": "M1", "reason": {}}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].reason", Message: "must be a string, got an object"}}},
		{name: "add_graph_memory without parts", calls: []Call{call("add_graph_memory", `{"source": "a"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].relationship", Message: "required"}, {Path: "calls[0].target", Message: "required"}}},
		{name: "add_graph_memory name with control character", calls: []Call{call("add_graph_memory", `{"source": "a\tb", "relationship": "r", "target": "t"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].source", Message: "contains the control character U+0009"}}},
		{name: "add_graph_memory name too long", calls: []Call{call("add_graph_memory", fmt.Sprintf(`{"source": "a", "relationship": "r", "target": %q}`, strings.Repeat("t", 201)))}, wantErr: []graph.FieldError{
			{Path: "calls[0].target", Message: "is too long (201 bytes; at most 200)"}}},
		{name: "add_graph_memory with an id", calls: []Call{call("add_graph_memory", `{"id": "R1", "source": "a", "relationship": "r", "target": "t"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0]", Message: `unknown field "id" for add_graph_memory; allowed: source, relationship, target, source_type, target_type`}}},
		{name: "update_graph_memory without id", calls: []Call{call("update_graph_memory", `{"target": "x"}`)}, wantErr: []graph.FieldError{{Path: "calls[0].id", Message: "required"}}},
		{name: "update_graph_memory unknown id", calls: []Call{call("update_graph_memory", `{"id": "R3", "target": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown relation id "R3"; known: R1, R2`}}},
		{name: "update_graph_memory given a memory id", calls: []Call{call("update_graph_memory", `{"id": "M1", "target": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `"M1" is a memory id, not a relation id; known: R1, R2`}}},
		{name: "update_graph_memory changes nothing", calls: []Call{call("update_graph_memory", `{"id": "R1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0]", Message: "update_graph_memory changes nothing; give the new source, relationship or target, or call noop"}}},
		{name: "update_graph_memory with types", calls: []Call{call("update_graph_memory", `{"id": "R1", "target": "x", "target_type": "City"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0]", Message: `unknown field "target_type" for update_graph_memory; allowed: id, source, relationship, target`}}},
		{name: "delete_graph_memory unknown id", known: &Known{Facts: []string{"F1"}}, calls: []Call{call("delete_graph_memory", `{"id": "R1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown relation id "R1"; no relation ids were shown`}}},
		{name: "delete_graph_memory without id", calls: []Call{call("delete_graph_memory", `{}`)}, wantErr: []graph.FieldError{{Path: "calls[0].id", Message: "required"}}},
		{name: "noop unknown id", calls: []Call{call("noop", `{"id": "X1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown id "X1"; known: F1, F2, F3, M1, M2, R1, R2`}}},
		{name: "noop unknown field", calls: []Call{call("noop", `{"ids": ["F1"]}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0]", Message: `unknown field "ids" for noop; allowed: id, reason`}}},
		{name: "ids are case-sensitive", calls: []Call{call("delete_memory", `{"id": "m1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].id", Message: `unknown memory id "m1"; known: M1, M2`}}},
		{name: "two decisions on one memory", calls: []Call{call("update_memory", `{"id": "M1", "text": "x"}`), call("add_memory", `{"text": "y"}`), call("delete_memory", `{"id": "M1"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[2].id", Message: "M1 was already decided by calls[0]; make one decision per id"}}},
		{name: "two decisions on one relation", calls: []Call{call("delete_graph_memory", `{"id": "R2"}`), call("update_graph_memory", `{"id": "R2", "target": "x"}`)}, wantErr: []graph.FieldError{
			{Path: "calls[1].id", Message: "R2 was already decided by calls[0]; make one decision per id"}}},
		{name: "long model text is cut in messages", calls: []Call{call(strings.Repeat("ab", 40), `{}`)}, wantErr: []graph.FieldError{
			{Path: "calls[0].name", Message: `unknown tool "` + strings.Repeat("ab", 30) + `"…; use one of add_memory, update_memory, delete_memory, add_graph_memory, update_graph_memory, delete_graph_memory, noop`}}},
		{
			name: "reports every problem",
			calls: []Call{
				call("add_memory", `{"text": "ok", "fact": "F1"}`),
				call("update_memory", `{"id": "M9", "text": ""}`),
				call("forget", `{}`),
				call("add_graph_memory", `[]`),
				call("delete_graph_memory", `{"id": "R1", "why": "x"}`),
			},
			wantErr: []graph.FieldError{
				{Path: "calls[1].id", Message: `unknown memory id "M9"; known: M1, M2`},
				{Path: "calls[1].text", Message: "required"},
				{Path: "calls[2].name", Message: `unknown tool "forget"; use one of add_memory, update_memory, delete_memory, add_graph_memory, update_graph_memory, delete_graph_memory, noop`},
				{Path: "calls[3].arguments", Message: "must be a JSON object, got an array"},
				{Path: "calls[4]", Message: `unknown field "why" for delete_graph_memory; allowed: id, reason`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			known := testKnown
			if tt.known != nil {
				known = *tt.known
			}
			got, err := ParseDecision(tt.calls, known)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseDecision(%v) = %+v, want an error", tt.calls, got)
				}
				if !errors.Is(err, graph.Invalid) {
					t.Fatalf("ParseDecision(%v) error %v is not Invalid", tt.calls, err)
				}
				if diff := cmp.Diff(tt.wantErr, graph.FieldsOf(err)); diff != "" {
					t.Errorf("ParseDecision(%v) problems mismatch (-want +got):\n%s", tt.calls, diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDecision(%v) = %v, want no error", tt.calls, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDecision(%v) mismatch (-want +got):\n%s", tt.calls, diff)
			}
		})
	}
}

func TestParseDecisionTooManyCalls(t *testing.T) {
	calls := make([]Call, MaxCalls+1)
	for i := range calls {
		calls[i] = call("noop", `{}`)
	}
	_, err := ParseDecision(calls, testKnown)
	want := []graph.FieldError{{Path: "calls", Message: "1001 tool calls; at most 1000"}}
	if diff := cmp.Diff(want, graph.FieldsOf(err)); diff != "" {
		t.Errorf("ParseDecision(1001 calls) problems mismatch (-want +got):\n%s", diff)
	}
	if _, err := ParseDecision(calls[1:], testKnown); err != nil {
		t.Errorf("ParseDecision(1000 calls) = %v, want no error", err)
	}
}

func TestParseDecisionLongKnownList(t *testing.T) {
	var k Known
	for i := 1; i <= 35; i++ {
		k.Memories = append(k.Memories, fmt.Sprintf("M%d", i))
	}
	_, err := ParseDecision([]Call{call("delete_memory", `{"id": "M99"}`)}, k)
	fields := graph.FieldsOf(err)
	if len(fields) != 1 || !strings.HasSuffix(fields[0].Message, "M29, M30 and 5 more") {
		t.Errorf("ParseDecision with 35 memories: problems %+v, want the known list cut after 30", fields)
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "plain error", err: errors.New("model returned no reply"), want: "- model returned no reply"},
		{name: "fields", err: graph.InvalidFields("parse decision",
			graph.FieldError{Path: "calls[3].id", Message: `unknown memory id "M9"; known: M1, M2`},
			graph.FieldError{Path: "calls", Message: "x"},
			graph.FieldError{Message: "and 2 more problems"},
		), want: "- calls[3].id: unknown memory id \"M9\"; known: M1, M2\n- calls: x\n- and 2 more problems"},
		{name: "wrapped", err: fmt.Errorf("decide: %w", graph.InvalidFields("parse decision", graph.FieldError{Path: "calls", Message: "no tool calls; call noop if nothing changes"})),
			want: "- calls: no tool calls; call noop if nothing changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatErrors(tt.err); got != tt.want {
				t.Errorf("FormatErrors(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryMessage(t *testing.T) {
	_, err := ParseDecision(nil, testKnown)
	got := RetryMessage(err)
	want := "Your previous reply could not be used:\n- calls: no tool calls; call noop if nothing changes\n\nReply again with tool calls only, using only the ids shown."
	if got != want {
		t.Errorf("RetryMessage(%v) = %q, want %q", err, got, want)
	}
}

// fuzzKnown are the ids the decision fuzz target checks against.
var fuzzKnown = Known{Facts: []string{"F1", "F2"}, Memories: []string{"M1", "M2"}, Relations: []string{"R1"}}

var decisionSeeds = []struct {
	name, args, more string
}{
	{"add_memory", `{"text":"alice likes tea","fact":"F1"}`, `[]`},
	{"update_memory", `{"id":"M1","text":"x"}`, `[{"name":"delete_memory","arguments":{"id":"M1"}}]`},
	{"delete_memory", `{"id":"M2","reason":"r"}`, `[{"name":"noop","arguments":{"id":"R1"}},{"name":"noop"}]`},
	{"add_graph_memory", `{"source":"a","relationship":"r","target":"b","source_type":"P","target_type":"L"}`, ``},
	{"update_graph_memory", `{"id":"R1"}`, `[{"name":"update_graph_memory","arguments":{"id":"R1","target":"x"}}]`},
	{"delete_graph_memory", `{"id":"R1"}`, `{"name":"noop"}`},
	{"noop", ``, `[{"name":"noop","arguments":null}]`},
	{"noop", `{"id":"X"}`, ``},
	{"noop", `"F1"`, ``},
	{"add_memory", `{"text":"a","text":"b"}`, ``},
	{"add_memory", `{"text":"a\u0000"}`, ``},
	{"add_memory", "{\"text\":\"\xff\"}", ``},
	{"forget", `{}`, ``},
	{"", ``, `[{"name":"add_memory","arguments":{"text":"  "}}]`},
}

func FuzzParseDecision(f *testing.F) {
	for _, s := range decisionSeeds {
		f.Add(s.name, []byte(s.args), []byte(s.more))
	}
	f.Fuzz(func(t *testing.T, name string, args, more []byte) {
		calls := []Call{{Name: name, Arguments: args}}
		var rest []struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal(more, &rest) == nil {
			for _, c := range rest {
				calls = append(calls, Call(c))
			}
		}
		got, err := ParseDecision(calls, fuzzKnown)
		if err != nil {
			if !errors.Is(err, graph.Invalid) {
				t.Fatalf("ParseDecision(%v) error %v is not Invalid", calls, err)
			}
			if n := len(graph.FieldsOf(err)); n == 0 || n > maxProblems+1 {
				t.Fatalf("ParseDecision(%v) error has %d problems", calls, n)
			}
			if FormatErrors(err) == "" || RetryMessage(err) == "" {
				t.Fatalf("ParseDecision(%v): empty retry text for %v", calls, err)
			}
			return
		}
		checkDecision(t, calls, got, fuzzKnown)
	})
}

// checkDecision is the property every accepted decision keeps.
func checkDecision(t *testing.T, calls []Call, d Decision, k Known) {
	t.Helper()
	if n := len(d.Memories) + len(d.Relations) + len(d.Noops); n != len(calls) {
		t.Fatalf("ParseDecision(%v) returned %d decisions for %d calls", calls, n, len(calls))
	}
	str := func(what, s string, max int, required bool) {
		t.Helper()
		if required && s == "" {
			t.Fatalf("ParseDecision(%v): empty %s in %+v", calls, what, d)
		}
		if s != strings.TrimSpace(s) || len(s) > max {
			t.Fatalf("ParseDecision(%v): %s %q untrimmed or too long", calls, what, s)
		}
	}
	id := func(what, s string, known []string) {
		t.Helper()
		if !slices.Contains(known, s) {
			t.Fatalf("ParseDecision(%v): %s %q is not among %v", calls, what, s, known)
		}
	}
	decided := map[string]bool{}
	once := func(s string) {
		t.Helper()
		if decided[s] {
			t.Fatalf("ParseDecision(%v): %s decided twice", calls, s)
		}
		decided[s] = true
	}
	for _, m := range d.Memories {
		switch m.Op {
		case graph.OpAdd:
			str("text", m.Text, MaxTextBytes, true)
			if m.ID != "" {
				t.Fatalf("ParseDecision(%v): add with id %q", calls, m.ID)
			}
		case graph.OpUpdate:
			id("memory id", m.ID, k.Memories)
			once(m.ID)
			str("text", m.Text, MaxTextBytes, true)
		case graph.OpDelete:
			id("memory id", m.ID, k.Memories)
			once(m.ID)
			if m.Text != "" || m.Fact != "" {
				t.Fatalf("ParseDecision(%v): delete with text or fact: %+v", calls, m)
			}
		default:
			t.Fatalf("ParseDecision(%v): memory op %q", calls, m.Op)
		}
		if m.Fact != "" {
			id("fact id", m.Fact, k.Facts)
		}
	}
	for _, r := range d.Relations {
		switch r.Op {
		case graph.OpAdd:
			str("source", r.Source, MaxNameBytes, true)
			str("relationship", r.Relationship, MaxNameBytes, true)
			str("target", r.Target, MaxNameBytes, true)
			if r.ID != "" {
				t.Fatalf("ParseDecision(%v): add with id %q", calls, r.ID)
			}
		case graph.OpUpdate:
			id("relation id", r.ID, k.Relations)
			once(r.ID)
			if r.Source == "" && r.Relationship == "" && r.Target == "" {
				t.Fatalf("ParseDecision(%v): update changes nothing: %+v", calls, r)
			}
		case graph.OpDelete:
			id("relation id", r.ID, k.Relations)
			once(r.ID)
		default:
			t.Fatalf("ParseDecision(%v): relation op %q", calls, r.Op)
		}
		for _, s := range []string{r.Source, r.Relationship, r.Target, r.SourceType, r.TargetType} {
			str("name", s, MaxNameBytes, false)
		}
	}
	all := slices.Concat(k.Facts, k.Memories, k.Relations)
	for _, n := range d.Noops {
		if n != "" {
			id("noop id", n, all)
		}
	}
}
