package cypher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

func mustParseFilter(t testing.TB, in string) graph.Filter {
	t.Helper()
	f, err := graph.ParseFilterJSON([]byte(in))
	if err != nil {
		t.Fatalf("ParseFilterJSON(%s): %v", in, err)
	}
	return f
}

func TestCompileFilter(t *testing.T) {
	may1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in, want string
		params         map[string]any
	}{
		{name: "equality", in: `{"user_id": "alice"}`,
			want:   `m.user_id = $flt_0`,
			params: map[string]any{"flt_0": "alice"}},
		{name: "ne counts missing as not equal", in: `{"agent_id": {"ne": "bot"}}`,
			want:   `(m.agent_id IS NULL OR m.agent_id <> $flt_0)`,
			params: map[string]any{"flt_0": "bot"}},
		{name: "in and nin", in: `{"role": {"in": ["user"]}, "run_id": {"nin": ["r1", "r2"]}}`,
			want:   `(m.role IN $flt_0 AND (m.run_id IS NULL OR NOT m.run_id IN $flt_1))`,
			params: map[string]any{"flt_0": []any{"user"}, "flt_1": []any{"r1", "r2"}}},
		{name: "contains and icontains on a field", in: `{"actor_id": {"contains": "bo", "icontains": "BO"}}`,
			want:   `(m.actor_id CONTAINS $flt_0 AND toLower(m.actor_id) CONTAINS toLower($flt_1))`,
			params: map[string]any{"flt_0": "bo", "flt_1": "BO"}},
		{name: "presence", in: `{"kind": "*"}`,
			want:   `m.kind IS NOT NULL`,
			params: map[string]any{}},
		{name: "timestamp range", in: `{"created_at": {"gte": "2024-05-01", "lt": "2024-05-01T02:00:00+02:00"}}`,
			want:   `(m.created_at >= $flt_0 AND m.created_at < $flt_1)`,
			params: map[string]any{"flt_0": may1, "flt_1": may1}},
		{name: "metadata equality matches list items", in: `{"metadata.year": 2024}`,
			want:   `CASE WHEN m[$flt_0] IS :: LIST<ANY> NOT NULL THEN $flt_1 IN m[$flt_0] ELSE m[$flt_0] = $flt_1 END`,
			params: map[string]any{"flt_0": "meta_year", "flt_1": int64(2024)}},
		{name: "metadata ne", in: `{"lang": {"ne": "go"}}`,
			want:   `(m[$flt_0] IS NULL OR NOT CASE WHEN m[$flt_0] IS :: LIST<ANY> NOT NULL THEN $flt_1 IN m[$flt_0] ELSE m[$flt_0] = $flt_1 END)`,
			params: map[string]any{"flt_0": "meta_lang", "flt_1": "go"}},
		{name: "metadata comparisons share the key parameter", in: `{"score": {"gt": 1.5, "lte": 4}}`,
			want:   `(m[$flt_0] > $flt_1 AND m[$flt_0] <= $flt_2)`,
			params: map[string]any{"flt_0": "meta_score", "flt_1": 1.5, "flt_2": int64(4)}},
		{name: "metadata in", in: `{"tags": {"in": ["a", "b"]}}`,
			want:   `CASE WHEN m[$flt_0] IS :: LIST<ANY> NOT NULL THEN any(flt_item IN m[$flt_0] WHERE flt_item IN $flt_1) ELSE m[$flt_0] IN $flt_1 END`,
			params: map[string]any{"flt_0": "meta_tags", "flt_1": []any{"a", "b"}}},
		{name: "metadata nin", in: `{"tags": {"nin": [true]}}`,
			want:   `(m[$flt_0] IS NULL OR NOT CASE WHEN m[$flt_0] IS :: LIST<ANY> NOT NULL THEN any(flt_item IN m[$flt_0] WHERE flt_item IN $flt_1) ELSE m[$flt_0] IN $flt_1 END)`,
			params: map[string]any{"flt_0": "meta_tags", "flt_1": []any{true}}},
		{name: "metadata contains", in: `{"tags": {"contains": "go"}}`,
			want:   `CASE WHEN m[$flt_0] IS :: LIST<ANY> NOT NULL THEN $flt_1 IN m[$flt_0] ELSE m[$flt_0] CONTAINS $flt_1 END`,
			params: map[string]any{"flt_0": "meta_tags", "flt_1": "go"}},
		{name: "metadata icontains", in: `{"tags": {"icontains": "Go"}}`,
			want: `CASE WHEN m[$flt_0] IS :: STRING NOT NULL THEN toLower(m[$flt_0]) CONTAINS toLower($flt_1) ` +
				`WHEN m[$flt_0] IS :: LIST<STRING> NOT NULL THEN any(flt_item IN m[$flt_0] WHERE toLower(flt_item) = toLower($flt_1)) ELSE false END`,
			params: map[string]any{"flt_0": "meta_tags", "flt_1": "Go"}},
		{name: "metadata presence", in: `{"metadata": {"topic": "*"}}`,
			want:   `m[$flt_0] IS NOT NULL`,
			params: map[string]any{"flt_0": "meta_topic"}},
		{name: "hostile key and value stay parameters", in: `{"x]) DETACH DELETE m //": {"gt": "') RETURN 1 //"}}`,
			want:   `m[$flt_0] > $flt_1`,
			params: map[string]any{"flt_0": "meta_x]) DETACH DELETE m //", "flt_1": "') RETURN 1 //"}},
		{name: "OR and NOT", in: `{"OR": [{"user_id": "a"}, {"NOT": [{"run_id": "r"}, {"kind": "raw"}]}]}`,
			want:   `(m.user_id = $flt_0 OR NOT coalesce((m.run_id = $flt_1 AND m.kind = $flt_2), false))`,
			params: map[string]any{"flt_0": "a", "flt_1": "r", "flt_2": "raw"}},
		{name: "AND in OR in NOT", in: `{"NOT": {"OR": [{"AND": [{"user_id": "a"}, {"year": {"lt": 2020}}]}, {"agent_id": "*"}]}}`,
			want:   `NOT coalesce(((m.user_id = $flt_0 AND m[$flt_1] < $flt_2) OR m.agent_id IS NOT NULL), false)`,
			params: map[string]any{"flt_0": "a", "flt_1": "meta_year", "flt_2": int64(2020)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]any{}
			got, err := compileFilter(mustParseFilter(t, tt.in), "m", params)
			if err != nil {
				t.Fatalf("compileFilter(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("compileFilter(%s) =\n  %s\nwant\n  %s", tt.in, got, tt.want)
			}
			if diff := cmp.Diff(tt.params, params); diff != "" {
				t.Errorf("compileFilter(%s) params (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestFilterClause(t *testing.T) {
	params := map[string]any{"flt_0": "taken", "tenant": "t"}
	got, err := filterClause(mustParseFilter(t, `{"user_id": "u"}`), "n", params)
	if want := " AND (n.user_id = $flt_1)"; err != nil || got != want {
		t.Fatalf("filterClause = %q, %v, want %q", got, err, want)
	}
	if params["flt_0"] != "taken" || params["flt_1"] != "u" {
		t.Fatalf("filterClause params = %v, want flt_0 kept and flt_1 added", params)
	}
	for _, f := range []graph.Filter{nil, graph.And{}} {
		if got, err := filterClause(f, "m", params); got != "" || err != nil {
			t.Errorf("filterClause(%v) = %q, %v, want no clause", f, got, err)
		}
	}
	if got, err := compileFilter(nil, "m", params); got != "true" || err != nil {
		t.Errorf("compileFilter(nil) = %q, %v, want true", got, err)
	}
}

func TestCompileFilterRejectsHandBuiltFilters(t *testing.T) {
	meta := graph.FilterField{Name: "k", Metadata: true}
	tests := []struct {
		name string
		f    graph.Filter
	}{
		{"unknown field", graph.Cond{Field: graph.FilterField{Name: "tenant"}, Op: graph.FilterEq, Value: "t"}},
		{"field text", graph.Cond{Field: graph.FilterField{Name: "id) OR true //"}, Op: graph.FilterEq, Value: "t"}},
		{"empty key", graph.Cond{Field: graph.FilterField{Metadata: true}, Op: graph.FilterEq, Value: "t"}},
		{"unknown operator", graph.Cond{Field: meta, Op: "between", Value: int64(1)}},
		{"in without a list", graph.Cond{Field: meta, Op: graph.FilterIn, Value: "a"}},
		{"in with an empty list", graph.Cond{Field: meta, Op: graph.FilterIn, Value: []any{}}},
		{"in with a nested list", graph.Cond{Field: meta, Op: graph.FilterNin, Value: []any{[]any{"a"}}}},
		{"icontains a number", graph.Cond{Field: meta, Op: graph.FilterIContains, Value: int64(1)}},
		{"eq a map", graph.Cond{Field: meta, Op: graph.FilterEq, Value: map[string]any{}}},
		{"eq nil", graph.Cond{Field: meta, Op: graph.FilterEq}},
		{"star with a value", graph.Cond{Field: meta, Op: graph.FilterExists, Value: "x"}},
		{"nil node", graph.Or{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compileFilter(tt.f, "m", map[string]any{})
			if !errors.Is(err, graph.Invalid) {
				t.Fatalf("compileFilter(%v) = %q, %v, want an Invalid error", tt.f, got, err)
			}
		})
	}
}

func TestCompileFilterPanicsOnBadVariable(t *testing.T) {
	for _, v := range []string{"", "m.x", "m) OR (true", "M", "flt_item", "1m"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("compileFilter(_, %q, _) did not panic", v)
				}
			}()
			compileFilter(graph.Cond{Field: graph.FilterField{Name: "user_id"}, Op: graph.FilterExists}, v, map[string]any{})
		}()
	}
}

// filterFixtures are the memories of the integration tests: ids a…l with the
// scope properties, timestamps in UTC (as the store writes them) and meta_*
// properties of every type metadata flattens to.
func filterFixtures() map[string]map[string]any {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	row := func(user, agent, run, actor, role, kind, created, updated string, meta map[string]any) map[string]any {
		p := map[string]any{"kind": kind, "created_at": at(created)}
		for k, v := range map[string]string{"user_id": user, "agent_id": agent, "run_id": run, "actor_id": actor, "role": role} {
			if v != "" {
				p[k] = v
			}
		}
		p["updated_at"] = p["created_at"]
		if updated != "" {
			p["updated_at"] = at(updated)
		}
		for k, v := range meta {
			p[metaPrefix+k] = v
		}
		return p
	}
	type md = map[string]any
	return map[string]map[string]any{
		"a": row("alice", "bot1", "r1", "alice", "user", "fact", "2024-01-10T00:00:00Z", "2024-06-01T00:00:00Z",
			md{"year": int64(2020), "score": 4.5, "lang": "Go", "active": true, "tags": []string{"go", "db"}, "nums": []float64{1, 2, 3}}),
		"b": row("alice", "bot2", "", "alice", "user", "fact", "2024-03-01T00:00:00Z", "",
			md{"year": int64(2021), "score": 3.25, "lang": "Python", "active": false, "tags": []string{"python"}}),
		"c": row("bob", "", "r2", "bob", "user", "raw", "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z",
			md{"year": int64(2022), "lang": "golang", "tags": []string{"Go", "Rust"}, "nums": []float64{10, 20}}),
		"d": row("bob", "bot1", "r2", "bot1", "assistant", "fact", "2024-05-01T12:00:00Z", "",
			md{"year": "2022", "active": true, "name": "Émile"}),
		"e": row("carol", "", "", "carol", "user", "procedural", "2024-07-15T08:30:00Z", "",
			md{"lang": "GO", "score": int64(-1), "topic": "*"}),
		"f": row("carol", "bot3", "r3", "carol", "tool", "fact", "2024-04-30T23:59:59.999999Z", "",
			md{"year": int64(2019), "lang": "rust", "tags": []string{"GOLANG"}}),
		"g": row("dave", "bot1", "", "dave", "user", "fact", "2024-02-29T00:00:00Z", "",
			md{"year": 2020.5, "score": 4.5, "active": "true"}),
		"h": row("", "bot2", "r4", "", "", "raw", "2023-12-31T23:00:00Z", "", nil),
		"i": row("erin", "", "", "erin", "user", "fact", "2024-08-01T00:00:00Z", "",
			md{"year": int64(2023), "lang": "", "nums": []float64{2.5}}),
		"j": row("erin", "bot1", "r5", "erin", "user", "fact", "2024-09-01T00:00:00Z", "",
			md{"a b.c": "x", "n-1": int64(7)}),
		"k": row("frank", "", "", "frank", "user", "fact", "2024-10-01T00:00:00Z", "",
			md{"big": 1e20, "year": int64(2024)}),
		"l": row("frank", "", "", "frank", "Assistant", "fact", "2024-11-01T00:00:00Z", "",
			md{"active": false, "lang": "Rust"}),
	}
}

const createFilterFixtures = `
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row`

const matchFiltered = `
MATCH (m:Memory)
WHERE m.tenant = $tenant%s
RETURN m.id AS id
ORDER BY id`

// fixtureRows returns the fixtures as rows of tenant, with ids tenant-<name>.
func fixtureRows(tenant string) []any {
	fx := filterFixtures()
	rows := make([]any, 0, len(fx))
	for name, p := range fx {
		p["id"] = tenant + "-" + name
		p["tenant"] = tenant
		rows = append(rows, p)
	}
	return rows
}

// runFilter runs f over the tenant's memories and returns the fixture names
// it matches, in order.
func runFilter(ctx context.Context, run func(q string, params map[string]any) ([]*neo4j.Record, error), tenant string, f graph.Filter) (string, []string, error) {
	params := map[string]any{"tenant": tenant}
	clause, err := filterClause(f, "m", params)
	if err != nil {
		return "", nil, err
	}
	q := strings.Replace(matchFiltered, "%s", clause, 1)
	recs, err := run(q, params)
	if err != nil {
		return q, nil, err
	}
	ids := []string{}
	for _, r := range recs {
		id, _, err := neo4j.GetRecordValue[string](r, "id")
		if err != nil {
			return q, nil, err
		}
		ids = append(ids, strings.TrimPrefix(id, tenant+"-"))
	}
	return q, ids, nil
}

func TestFilterOnNeo4j(t *testing.T) {
	d := testcontainers.Driver(t)
	tenant := testcontainers.Tenant(t)
	ctx := context.Background()
	if _, err := neo4j.ExecuteQuery(ctx, d, createFilterFixtures, map[string]any{"rows": fixtureRows(tenant)}, neo4j.EagerResultTransformer); err != nil {
		t.Fatalf("create fixtures: %v", err)
	}
	run := func(q string, params map[string]any) ([]*neo4j.Record, error) {
		res, err := neo4j.ExecuteQuery(ctx, d, q, params, neo4j.EagerResultTransformer)
		if err != nil {
			return nil, err
		}
		return res.Records, nil
	}
	all := "a b c d e f g h i j k l"
	tests := []struct {
		name, in, want string
	}{
		{"no filter", `{}`, all},
		// Fields neomem owns.
		{"equality", `{"user_id": "alice"}`, "a b"},
		{"eq", `{"user_id": {"eq": "bob"}}`, "c d"},
		{"ne includes missing", `{"user_id": {"ne": "alice"}}`, "c d e f g h i j k l"},
		{"in", `{"user_id": {"in": ["alice", "carol"]}}`, "a b e f"},
		{"nin includes missing", `{"user_id": {"nin": ["alice", "carol"]}}`, "c d g h i j k l"},
		{"contains", `{"role": {"contains": "ssist"}}`, "d l"},
		{"contains is case sensitive", `{"role": {"contains": "Assist"}}`, "l"},
		{"icontains", `{"role": {"icontains": "ASSIST"}}`, "d l"},
		{"contains on actor", `{"actor_id": {"contains": "o"}}`, "c d e f"},
		{"star", `{"agent_id": "*"}`, "a b d f g h j"},
		{"not star", `{"NOT": {"agent_id": "*"}}`, "c e i k l"},
		{"kind", `{"kind": "raw"}`, "c h"},
		{"run ne", `{"run_id": {"ne": "r2"}}`, "a b e f g h i j k l"},
		// Timestamps.
		{"date gte is midnight UTC", `{"created_at": {"gte": "2024-05-01"}}`, "c d e i j k l"},
		{"date gt", `{"created_at": {"gt": "2024-05-01"}}`, "d e i j k l"},
		{"date lt", `{"created_at": {"lt": "2024-05-01"}}`, "a b f g h"},
		{"lte", `{"created_at": {"lte": "2024-05-01T00:00:00Z"}}`, "a b c f g h"},
		{"timestamp eq", `{"created_at": "2024-05-01"}`, "c"},
		{"timestamp eq with offset", `{"created_at": {"eq": "2024-05-01T14:00:00+02:00"}}`, "d"},
		{"timestamp ne", `{"created_at": {"ne": "2024-05-01"}}`, "a b d e f g h i j k l"},
		{"range", `{"created_at": {"gte": "2024-02-01", "lt": "2024-05-01"}}`, "b f g"},
		{"microseconds", `{"created_at": {"gt": "2024-04-30T23:59:59.999998Z", "lt": "2024-05-01"}}`, "f"},
		{"updated_at", `{"updated_at": {"gt": "2024-05-01T12:00:00Z"}}`, "a c e i j k l"},
		// Metadata scalars.
		{"number", `{"year": 2020}`, "a"},
		{"number is not a string", `{"metadata.year": {"eq": 2022}}`, "c"},
		{"string is not a number", `{"year": "2022"}`, "d"},
		{"gt skips other types", `{"metadata.year": {"gt": 2020}}`, "b c g i k"},
		{"range of numbers", `{"year": {"gte": 2020, "lt": 2022}}`, "a b g"},
		{"lte float", `{"year": {"lte": 2019.5}}`, "f"},
		{"metadata ne includes missing", `{"year": {"ne": 2020}}`, "b c d e f g h i j k l"},
		{"metadata in", `{"year": {"in": [2019, 2022]}}`, "c f"},
		{"metadata nin", `{"year": {"nin": [2019, 2022]}}`, "a b d e g h i j k l"},
		{"metadata in strings", `{"year": {"in": ["2022"]}}`, "d"},
		{"string eq", `{"lang": "Go"}`, "a"},
		{"string contains", `{"lang": {"contains": "o"}}`, "a b c"},
		{"string icontains", `{"lang": {"icontains": "GO"}}`, "a c e"},
		{"icontains empty matches every string", `{"lang": {"icontains": ""}}`, "a b c e f i l"},
		{"string gt", `{"lang": {"gt": "P"}}`, "b c f l"},
		{"icontains non-ASCII", `{"name": {"icontains": "émile"}}`, "d"},
		{"boolean", `{"active": true}`, "a d"},
		{"boolean false", `{"active": false}`, "b l"},
		{"boolean ne", `{"active": {"ne": true}}`, "b c e f g h i j k l"},
		{"boolean in", `{"active": {"in": [true]}}`, "a d"},
		{"boolean nin", `{"active": {"nin": [false]}}`, "a c d e f g h i j k"},
		{"metadata star", `{"active": "*"}`, "a b d g l"},
		{"float", `{"score": 4.5}`, "a g"},
		{"float gte", `{"score": {"gte": 4.5}}`, "a g"},
		{"negative", `{"score": {"lt": 0}}`, "e"},
		{"big float", `{"big": {"gt": 1e19}}`, "k"},
		{"key with space and dot", `{"metadata.a b.c": "x"}`, "j"},
		{"key with hyphen", `{"n-1": {"gte": 7}}`, "j"},
		{"nested metadata object", `{"metadata": {"lang": "Go", "year": 2020}}`, "a"},
		{"literal star", `{"topic": {"eq": "*"}}`, "e"},
		{"star present", `{"topic": "*"}`, "e"},
		{"contains on a number never matches", `{"score": {"contains": "4"}}`, ""},
		{"its NOT matches all", `{"NOT": {"score": {"contains": "4"}}}`, all},
		{"NOT of gt is the complement", `{"NOT": {"year": {"gt": 2020}}}`, "a d e f h j l"},
		// Metadata lists.
		{"list eq is membership", `{"tags": "go"}`, "a"},
		{"list contains", `{"tags": {"contains": "Go"}}`, "c"},
		{"list icontains", `{"tags": {"icontains": "go"}}`, "a c"},
		{"list in overlaps", `{"tags": {"in": ["db", "Rust"]}}`, "a c"},
		{"list nin", `{"tags": {"nin": ["python", "GOLANG"]}}`, "a c d e g h i j k l"},
		{"list ne", `{"tags": {"ne": "go"}}`, "b c d e f g h i j k l"},
		{"number list eq integer", `{"nums": 2}`, "a"},
		{"number list eq float", `{"nums": 2.5}`, "i"},
		{"number list gt never matches", `{"nums": {"gt": 1}}`, ""},
		{"number list in", `{"nums": {"in": [20, 3]}}`, "a c"},
		// Nesting.
		{"OR", `{"OR": [{"user_id": "alice"}, {"year": {"gte": 2023}}]}`, "a b i k"},
		{"AND with NOT", `{"AND": [{"user_id": "bob"}, {"NOT": {"agent_id": "*"}}]}`, "c"},
		{"NOT of a conjunction", `{"NOT": [{"user_id": "alice"}, {"agent_id": "bot1"}]}`, "b c d e f g h i j k l"},
		{"NOT of OR", `{"NOT": [{"OR": [{"user_id": "alice"}, {"user_id": "bob"}]}]}`, "e f g h i j k l"},
		{"siblings are ANDed", `{"user_id": "carol", "lang": {"icontains": "r"}}`, "f"},
		{"AND in OR in NOT", `{"NOT": {"OR": [{"AND": [{"user_id": "alice"}, {"active": true}]}, {"kind": {"in": ["raw", "procedural"]}}]}}`,
			"b d f g i j k l"},
		{"NOT in OR", `{"OR": [{"NOT": {"year": "*"}}, {"year": {"lt": 2020}}]}`, "e f h j l"},
		{"deep", `{"AND": [{"OR": [{"NOT": {"user_id": {"in": ["alice", "bob"]}}}, {"created_at": {"lt": "2024-02-01"}}]}, {"agent_id": "*"}]}`,
			"a f g h j"},
		{"double NOT", `{"NOT": {"NOT": {"year": {"gt": 2020}}}}`, "b c g i k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, got, err := runFilter(ctx, run, tenant, mustParseFilter(t, tt.in))
			if err != nil {
				t.Fatalf("filter %s: %v\n%s", tt.in, err, q)
			}
			if want := strings.Fields(tt.want); !slices.Equal(got, want) {
				t.Fatalf("filter %s matched %v, want %v\n%s", tt.in, got, want, q)
			}
		})
	}
}

// filterWords are the only words compiled filter text may contain (with
// the variable m).
var filterWords = map[string]bool{
	"m": true, "user_id": true, "agent_id": true, "run_id": true, "actor_id": true, "role": true, "kind": true,
	"created_at": true, "updated_at": true, "flt_item": true,
	"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "IN": true, "CONTAINS": true,
	"CASE": true, "WHEN": true, "THEN": true, "ELSE": true, "END": true, "WHERE": true,
	"coalesce": true, "toLower": true, "any": true, "true": true, "false": true,
	"LIST": true, "ANY": true, "STRING": true,
}

var filterToken = regexp.MustCompile(`\$flt_[0-9]+|[A-Za-z_][A-Za-z0-9_]*|::|<>|<=|>=|[.\[\](),=<> ]`)

// checkFilterText fails unless text is made of the fixed vocabulary only,
// and its parameters are exactly the ones added to params.
func checkFilterText(t *testing.T, in []byte, text string, params map[string]any) {
	t.Helper()
	pos := 0
	used := map[string]bool{}
	for _, loc := range filterToken.FindAllStringIndex(text, -1) {
		if loc[0] != pos {
			t.Fatalf("filter %q compiled to %q: unexpected text %q", in, text, text[pos:loc[0]])
		}
		pos = loc[1]
		tok := text[loc[0]:loc[1]]
		switch {
		case strings.HasPrefix(tok, "$"):
			used[tok[1:]] = true
		case tok[0] == '_' || 'A' <= tok[0] && tok[0] <= 'Z' || 'a' <= tok[0] && tok[0] <= 'z':
			if !filterWords[tok] {
				t.Fatalf("filter %q compiled to %q: word %q is not in the vocabulary", in, text, tok)
			}
		}
	}
	if pos != len(text) {
		t.Fatalf("filter %q compiled to %q: unexpected text %q", in, text, text[pos:])
	}
	for name := range params {
		if !used[name] {
			t.Fatalf("filter %q compiled to %q: parameter %s is not used", in, text, name)
		}
	}
	for name := range used {
		if _, ok := params[name]; !ok {
			t.Fatalf("filter %q compiled to %q: parameter %s is not set", in, text, name)
		}
	}
}

var compileSeeds = []string{
	`{"user_id": "alice", "metadata.year": {"gte": 2020, "lt": 2025}}`,
	`{"OR": [{"agent_id": "*"}, {"NOT": {"role": {"in": ["user", "tool"]}}}]}`,
	`{"AND": [{"created_at": {"gte": "2024-05-01"}}, {"updated_at": {"lt": "2024-06-01T10:00:00+02:00"}}]}`,
	`{"metadata": {"tags": {"contains": "go"}, "lang": {"icontains": "GO"}}}`,
	`{"active": true, "score": {"ne": 4.5}, "nums": {"nin": [1, 2, 3]}}`,
	`{"tags": {"in": ["a", "b"]}, "nums": {"icontains": "x"}, "active": {"icontains": "t"}}`,
	`{"year": {"gt": "2020"}, "big": {"lt": 1e300}, "lang": {"lte": true}}`,
	`{"k": "') RETURN 1 //", "a' OR 1=1": {"eq": "$x"}, "x]) DETACH DELETE m //": "*"}`,
	`{"NOT": [{"OR": [{"AND": [{"a": 1}, {"b": {"gt": 2}}]}, {"c": "*"}]}]}`,
	`{"kind": {"icontains": "FA"}, "actor_id": {"nin": ["a"]}, "run_id": {"ne": "r"}}`,
	`{"created_at": {"eq": "0001-01-01"}, "updated_at": {"ne": "9999-12-31T23:59:59.999999999-23:59"}}`,
}

// FuzzCompileFilter checks every filter the parser accepts: the input as
// JSON, and a filter generated from the same bytes (JSON-shaped fuzz input
// rarely gets past the parser, so the generator makes the well-formed
// filters, with the fuzzer's bytes as keys and values).
func FuzzCompileFilter(f *testing.F) {
	for _, s := range compileSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add([]byte("\x03\x11\x05\x23\x07\x31\x0b\x41\x0d\x02\x13\x17\x1d\x1f\x25\x29"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if flt, err := graph.ParseFilterJSON(in); err == nil && flt != nil {
			checkCompiled(t, in, flt)
		}
		raw := (&filterGen{in: in}).object(0)
		if flt, err := graph.ParseFilter(raw); err == nil && flt != nil {
			checkCompiled(t, in, flt)
		}
	})
}

func checkCompiled(t *testing.T, in []byte, flt graph.Filter) {
	t.Helper()
	params := map[string]any{}
	text, err := compileFilter(flt, "m", params)
	if err != nil {
		t.Fatalf("compileFilter(%v) of an accepted filter: %v", flt, err)
	}
	checkFilterText(t, in, text, params)
	execFilter(t, in, flt)
}

// filterGen builds a filter object from fuzz bytes, each byte a choice.
type filterGen struct {
	in []byte
}

func (g *filterGen) next() int {
	if len(g.in) == 0 {
		return 0
	}
	b := g.in[0]
	g.in = g.in[1:]
	return int(b)
}

// text takes up to 12 bytes of fuzz input as a string.
func (g *filterGen) text() string {
	n := min(g.next()%13, len(g.in))
	s := string(g.in[:n])
	g.in = g.in[n:]
	return s
}

var genFields = []string{"user_id", "agent_id", "run_id", "actor_id", "role", "kind", "created_at", "updated_at",
	"year", "score", "lang", "active", "tags", "nums", "name", "topic", "big", "metadata.a b.c", "n-1", "missing"}

var genOps = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains"}

func (g *filterGen) object(depth int) map[string]any {
	obj := map[string]any{}
	switch c := g.next() % 8; {
	case c < 3 && depth < graph.MaxFilterDepth-1:
		list := []any{}
		for n := 1 + g.next()%3; n > 0; n-- {
			list = append(list, g.object(depth+1))
		}
		obj[[]string{"AND", "OR", "NOT"}[c]] = list
	default:
		for n := 1 + g.next()%2; n > 0; n-- {
			field := genFields[g.next()%len(genFields)]
			if g.next()%16 == 0 {
				field = "metadata." + g.text()
			}
			obj[field] = g.fieldValue(field)
		}
	}
	return obj
}

func (g *filterGen) fieldValue(field string) any {
	switch c := g.next() % 8; c {
	case 0:
		return "*"
	case 1:
		return g.value(field)
	}
	ops := map[string]any{}
	for n := 1 + g.next()%2; n > 0; n-- {
		op := genOps[g.next()%len(genOps)]
		if op == "in" || op == "nin" {
			list := []any{}
			for n := 1 + g.next()%3; n > 0; n-- {
				list = append(list, g.value(field))
			}
			ops[op] = list
		} else {
			ops[op] = g.value(field)
		}
	}
	return ops
}

// value picks a value that suits field most of the time.
func (g *filterGen) value(field string) any {
	c := g.next()
	if field == "created_at" || field == "updated_at" {
		return []string{"2024-05-01", "2024-05-01T12:00:00Z", "2024-04-30T23:59:59.999999Z", "2023-01-01T00:00:00+05:30", "0001-01-01"}[c%5]
	}
	switch c % 10 {
	case 0:
		return g.text()
	case 1:
		return []string{"go", "Go", "alice", "bob", "", "2022", "user", "*", "émile", "Rust"}[g.next()%10]
	case 2, 3:
		return []float64{2020, 2022, 4.5, -1, 2, 2.5, 1e20, 7, 0, 2019.5}[g.next()%10]
	case 4:
		return g.next()%2 == 0
	}
	return []string{"go", "Go", "alice", "carol", "r2", "bot1", "fact", "raw", "x", "Python"}[g.next()%10]
}

// execFilter runs f over the fixtures inside a transaction it rolls back,
// so the fuzzer leaves nothing behind. It skips when there is no Neo4j.
func execFilter(t *testing.T, in []byte, f graph.Filter) {
	d := testcontainers.Driver(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	tenant := "fuzz-" + hex.EncodeToString(b[:])
	sess := d.NewSession(ctx, neo4j.SessionConfig{AccessMode: neo4j.AccessModeWrite})
	defer sess.Close(ctx)
	tx, err := sess.BeginTransaction(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(ctx)
	run := func(q string, params map[string]any) ([]*neo4j.Record, error) {
		res, err := tx.Run(ctx, q, params)
		if err != nil {
			return nil, err
		}
		return res.Collect(ctx)
	}
	if _, err := run(createFilterFixtures, map[string]any{"rows": fixtureRows(tenant)}); err != nil {
		t.Fatalf("create fixtures: %v", err)
	}
	q, yes, err := runFilter(ctx, run, tenant, f)
	if err != nil {
		t.Fatalf("filter %v (from %q) failed on Neo4j: %v\n%s", f, in, err, q)
	}
	// NOT is the complement: every fixture matches f or NOT f, never both.
	q, no, err := runFilter(ctx, run, tenant, graph.Not{f})
	if err != nil {
		t.Fatalf("filter NOT(%v) (from %q) failed on Neo4j: %v\n%s", f, in, err, q)
	}
	both := append(slices.Clone(yes), no...)
	slices.Sort(both)
	if want := strings.Fields("a b c d e f g h i j k l"); !slices.Equal(both, want) {
		t.Fatalf("filter %v matched %v and its NOT %v; together they should be every fixture once\n%s", f, yes, no, q)
	}
}
