package cypher_test

import (
	"errors"
	"testing"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// textHits searches by the full-text ranking alone and returns the texts it
// ranked.
func textHits(t *testing.T, s *cypher.Store, scope graph.Scope, query string) []string {
	t.Helper()
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: query, Vector: embedder.Vector("unrelated vector"), TopK: 10,
		VectorWeight: 0, TextWeight: 1})
	var out []string
	for _, h := range res.Results {
		if h.Explain.TextRank > 0 {
			out = append(out, h.Text)
		}
	}
	return out
}

// TestEnglishAnalyzer: the memory full-text index stems and drops stop
// words (the default analyzer), and a question's form words do not rank
// memories, while names still match.
func TestEnglishAnalyzer(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	mustCreate(t, s,
		mem(scope, "Caroline paints landscapes at dawn"),
		mem(scope, "Andrew does not currently have any pets"),
		mem(scope, "Melanie's kids went camping"),
	)
	for _, c := range []struct {
		query string
		want  []string
	}{
		// Stemming: painting → paint, camped → camp.
		{"painting", []string{"Caroline paints landscapes at dawn"}},
		{"camped", []string{"Melanie's kids went camping"}},
		// A possessive matches the name.
		{"Melanie", []string{"Melanie's kids went camping"}},
		// "does" and "have" are the question's form, not its content.
		{"What does Caroline have?", []string{"Caroline paints landscapes at dawn"}},
		{"what does he have", nil},
		// Identifiers are matched as written.
		{"ANDREW", []string{"Andrew does not currently have any pets"}},
	} {
		got := textHits(t, s, scope, c.query)
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%q: full-text hits %q, want %q", c.query, got, c.want)
		}
	}
}

func TestAnalyzerName(t *testing.T) {
	for name, ok := range map[string]bool{"english": true, "standard-no-stop-words": true, "cjk": true, "": false,
		"English": false, "a b": false, "x'); DROP": false} {
		if cypher.ValidAnalyzerName(name) != ok {
			t.Errorf("ValidAnalyzerName(%q) = %v", name, !ok)
		}
	}
	if _, err := cypher.New(testcontainers.Driver(t), cypher.Config{Dimensions: dims, TextAnalyzer: "no such!"}); !errors.Is(err, graph.Invalid) {
		t.Errorf("a bad analyzer name: %v", err)
	}
}
