package cypher_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// TestSearchRanksTheNamedPeriod: a query that names a date ranks the
// memories created within it (a day's slack each side) as a signal of its
// own, inside the scope and the caller's filters only, and only while the
// time weight is on.
func TestSearchRanksTheNamedPeriod(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	at := func(text string, when time.Time, md map[string]any) graph.Memory {
		m := mem(scope, text)
		m.CreatedAt, m.Metadata = when, md
		return m
	}
	jan := time.Date(2023, 1, 10, 12, 0, 0, 0, time.UTC)
	var batch []graph.Memory
	for _, text := range []string{
		"alice bought fresh bread at the market", "alice bought apples at the market", "alice bought a lamp online",
		"alice bought new shoes downtown", "alice bought a gift for bob", "alice bought tickets for the concert",
	} {
		batch = append(batch, at(text, jan, nil))
	}
	target := "alice found an old kettle in the attic"
	batch = append(batch,
		at(target, time.Date(2023, 5, 8, 18, 30, 0, 0, time.UTC), map[string]any{"room": "attic"}),
		// Two hours past the day's slack: not of the period.
		at("alice found a scarf in the hallway", time.Date(2023, 5, 10, 2, 0, 0, 0, time.UTC), nil),
	)
	mustCreate(t, s, batch...)
	// Another user's and another tenant's memories of that day stay out of
	// this scope's search, and so does an invalidated memory of that day.
	day := time.Date(2023, 5, 8, 9, 0, 0, 0, time.UTC)
	other := mem(graph.Scope{Tenant: tenant, UserID: "someone-else"}, "alice found a kettle on 8 May")
	other.CreatedAt = day
	elsewhere := mem(graph.Scope{Tenant: testcontainers.Tenant(t), UserID: "u"}, "alice found a kettle in the attic on 8 May")
	elsewhere.CreatedAt = day
	gone := mem(scope, "alice found a teapot in the attic")
	ended := day.Add(time.Hour)
	gone.CreatedAt, gone.InvalidAt = day, &ended
	mustCreate(t, s, other, elsewhere, gone)

	query := "what did alice buy on 8 May, 2023?"
	p, ok := graph.QueryPeriod(query, time.Now())
	if !ok {
		t.Fatalf("QueryPeriod(%q) found no date", query)
	}
	plain := search(t, s, graph.SearchRequest{Scope: scope, Query: query, TopK: 8, Explain: true})
	if texts(plain)[0] == target {
		t.Fatalf("without the period the target is already first: %q", texts(plain))
	}
	for _, h := range plain.Results {
		if h.Explain.TimeRank != 0 || h.Explain.TimeContribution != 0 {
			t.Fatalf("a search without a period ranked by time: %+v", h.Explain)
		}
	}

	dated := search(t, s, graph.SearchRequest{Scope: scope, Query: query, TopK: 8, Period: &p, Explain: true})
	got := texts(dated)
	if len(got) != 8 || got[0] != target {
		t.Fatalf("with the period, hits = %q; want %q first", got, target)
	}
	for _, h := range dated.Results {
		x := h.Explain
		sum := x.VectorContribution + x.TextContribution + x.GraphContribution + x.TimeContribution
		if math.Abs(sum-h.Score) > 1e-9 {
			t.Fatalf("%q: contributions sum to %v, score %v", h.Text, sum, h.Score)
		}
		inPeriod := h.Text == target
		if (x.TimeRank > 0) != inPeriod || (x.TimeContribution > 0) != inPeriod {
			t.Fatalf("%q: time rank %d, contribution %v; in the period: %v", h.Text, x.TimeRank, x.TimeContribution, inPeriod)
		}
		if h.Scope.UserID != "u" || h.Scope.Tenant != tenant || h.InvalidAt != nil {
			t.Fatalf("hit from another scope or tenant, or invalidated: %+v", h.Memory)
		}
	}
	if dated.Results[0].Explain.TimeRank != 1 {
		t.Fatalf("target's time rank = %d, want 1", dated.Results[0].Explain.TimeRank)
	}

	// The caller's filter holds in the time step too.
	f, err := graph.ParseFilterJSON([]byte(`{"NOT": {"room": "attic"}}`))
	if err != nil {
		t.Fatal(err)
	}
	filtered := search(t, s, graph.SearchRequest{Scope: scope, Query: query, TopK: 8, Period: &p, Filter: f, Explain: true})
	if slices.Contains(texts(filtered), target) || len(filtered.Results) != 7 {
		t.Fatalf("the filter let the period's memory through: %q", texts(filtered))
	}

	// A time weight of 0 (beside the others) turns the signal off.
	weights := graph.SearchRequest{Scope: scope, Query: query, TopK: 8, Explain: true, VectorWeight: 1, TextWeight: 1, GraphWeight: 0.5}
	without := search(t, s, weights)
	weights.Period = &p
	off := search(t, s, weights)
	if !slices.Equal(texts(off), texts(without)) {
		t.Fatalf("time weight 0: %q; want the ranking without the period %q", texts(off), texts(without))
	}
}

// BenchmarkSearchNamedPeriod times a search of a 5,000-memory scope whose
// every memory falls within the period the query names: the time step
// compares its bound (timeScan, 1,000 memories) with the query. The sub-benchmarks
// time the same searches without the period, and with the period.
//
//	go test -run '^$' -bench SearchNamedPeriod -count 3 ./cypher/
func BenchmarkSearchNamedPeriod(b *testing.B) {
	s, tenant := newStore(b)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	const n = 5000
	texts := corpus(rand.New(rand.NewPCG(7, 7)), n)
	day := time.Date(2023, 5, 8, 12, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 500 {
		var batch []graph.Memory
		for _, text := range texts[start : start+500] {
			m := mem(scope, text)
			m.CreatedAt = day
			batch = append(batch, m)
		}
		mustCreate(b, s, batch...)
	}
	p, _ := graph.QueryPeriod("what did alice do on 8 May 2023", time.Now())
	queries := corpus(rand.New(rand.NewPCG(8, 8)), 64)
	for _, tc := range []struct {
		name   string
		period *graph.Period
	}{{"without", nil}, {"with", &p}} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				q := queries[i%len(queries)]
				i++
				res, err := s.Search(context.Background(), graph.SearchRequest{Scope: scope, Query: q, Vector: embedder.Vector(q), Period: tc.period})
				if err != nil {
					b.Fatal(err)
				}
				if tc.period != nil && (len(res.Results) == 0 || res.Results[0].Explain.TimeRank == 0) {
					b.Fatalf("the period ranked nothing: %+v", res.Results)
				}
			}
		})
	}
}
