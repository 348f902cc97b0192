package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
)

func TestBenchPercentile(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"one value", []float64{7}, 99, 7},
		{"median of odd", []float64{1, 2, 3}, 50, 2},
		{"median of even interpolates", []float64{1, 2, 3, 4}, 50, 2.5},
		{"p0 is the minimum", []float64{1, 2, 3, 4}, 0, 1},
		{"p100 is the maximum", []float64{1, 2, 3, 4}, 100, 4},
		{"p95 of 1..101", seq(1, 101), 95, 96},
		{"p99 of 1..100", seq(1, 100), 99, 99.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.values, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.values, tt.p, got, tt.want)
			}
		})
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile(nil, 50) = %v, want NaN", got)
	}
}

func seq(from, to int) []float64 {
	var out []float64
	for i := from; i <= to; i++ {
		out = append(out, float64(i))
	}
	return out
}

func TestBenchSummarize(t *testing.T) {
	got := summarize([]float64{4, 1, 3, 2})
	want := Stats{N: 4, P50: 2.5, P95: 3.85, P99: 3.97, Mean: 2.5, Min: 1, Max: 4}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("summarize mismatch (-want +got):\n%s", diff)
	}
	if got := summarize(nil); got != (Stats{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
	if got := summarize(ratios(nil, nil)); got.N != 0 {
		t.Errorf("summarize(ratios(nil, nil)).N = %d, want 0", got.N)
	}
}

func TestBenchLayout(t *testing.T) {
	tests := []struct {
		size    int
		tenants int
		classes map[string]int // memories per class
	}{
		{10000, 106, map[string]int{"large": 5000, "medium": 3000, "small": 2000}},
		{100000, 1011, map[string]int{"large": 50000, "medium": 30000, "small": 20000}},
		{1000000, 1101, map[string]int{"large": 50000, "medium": 930000, "small": 20000}},
	}
	for _, tt := range tests {
		groups, err := layoutFor(tt.size)
		if err != nil {
			t.Fatalf("layoutFor(%d): %v", tt.size, err)
		}
		if got := layoutTotal(groups); got != tt.size {
			t.Errorf("layoutTotal(layoutFor(%d)) = %d", tt.size, got)
		}
		ts := tenants(searchPrefix, groups)
		if len(ts) != tt.tenants {
			t.Errorf("layoutFor(%d) has %d tenants, want %d", tt.size, len(ts), tt.tenants)
		}
		got := map[string]int{}
		seen := map[string]bool{}
		for _, tn := range ts {
			got[tn.Class] += tn.Size
			if !strings.HasPrefix(tn.Scope.Tenant, searchPrefix) {
				t.Errorf("tenant %q lacks the prefix %q", tn.Scope.Tenant, searchPrefix)
			}
			if seen[tn.Scope.Tenant] {
				t.Errorf("tenant %q appears twice", tn.Scope.Tenant)
			}
			seen[tn.Scope.Tenant] = true
			if err := tn.Scope.Validate("test"); err != nil {
				t.Errorf("tenant scope %+v: %v", tn.Scope, err)
			}
		}
		if diff := cmp.Diff(tt.classes, got); diff != "" {
			t.Errorf("layoutFor(%d) memories per class (-want +got):\n%s", tt.size, diff)
		}
	}
	// The recall scenario of the issue: one tenant of 50,000 next to 1,000
	// tenants of 20 in one index.
	g, _ := layoutFor(100000)
	if g[0] != (group{"large", 1, 50000}) || g[2] != (group{"small", 1000, 20}) {
		t.Errorf("layoutFor(100000) = %+v, want a 50,000 tenant and 1,000 tenants of 20", g)
	}
	if _, err := layoutFor(12345); err == nil {
		t.Error("layoutFor(12345) succeeded, want an error")
	}
}

func TestBenchSample(t *testing.T) {
	if got, want := sampleIndexes(1000, 4), []int{0, 250, 500, 750}; !cmp.Equal(got, want) {
		t.Errorf("sampleIndexes(1000, 4) = %v, want %v", got, want)
	}
	if got, want := sampleIndexes(3, 10), []int{0, 1, 2}; !cmp.Equal(got, want) {
		t.Errorf("sampleIndexes(3, 10) = %v, want %v", got, want)
	}
	for _, tt := range []struct{ size, count, want int }{
		{50000, 1, 1}, {3000, 10, 10}, {10000, 100, 10}, {20, 1000, 100}, {600, 5, 5},
	} {
		if got := sampleLimit(tt.size, tt.count); got != tt.want {
			t.Errorf("sampleLimit(%d, %d) = %d, want %d", tt.size, tt.count, got, tt.want)
		}
	}
}

func TestBenchCorpus(t *testing.T) {
	a, b := newCorpus(1, "memories-10000"), newCorpus(1, "memories-10000")
	other := newCorpus(1, "queries-large")
	for range 50 {
		x, y := a.memoryText(), b.memoryText()
		if x != y {
			t.Fatalf("same seed and stream gave %q and %q", x, y)
		}
		if n := len(strings.Fields(x)); n < 6 || n > 14 {
			t.Errorf("memoryText() = %q has %d words, want 6..14", x, n)
		}
		if id := a.uuid(); !graph.ValidID(id) || id != b.uuid() {
			t.Errorf("uuid() = %q: not a valid, reproducible id", id)
		}
	}
	if cmp.Equal(a.queries(5), other.queries(5)) {
		t.Error("two streams gave the same queries")
	}
	if v := vocabulary(); len(v) != vocabularySize {
		t.Errorf("vocabulary has %d words, want %d", len(v), vocabularySize)
	}
}

func TestBenchRecall(t *testing.T) {
	var v vectors
	v.add("a", []float32{1, 0}, 0)
	v.add("b", []float32{0.9, 0.1}, 1)
	v.add("c", []float32{0.9, 0.1}, 2) // ties with b
	v.add("d", []float32{0, 1}, 3)
	index := map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}
	q := []float32{1, 0}
	want := v.exactTop(q, 2, 100)
	if got := []string{want[0].id, want[1].id}; !cmp.Equal(got, []string{"a", "b"}) {
		t.Fatalf("exactTop = %v, want [a b] (ties by id)", got)
	}
	sim := func(id string) (float64, bool) { return v.similarity(id, q, index) }
	tests := []struct {
		name          string
		got           []string
		byID, tieAwre float64
	}{
		{"exact", []string{"a", "b"}, 1, 1},
		{"tie swapped", []string{"a", "c"}, 0.5, 1},
		{"one miss", []string{"a", "d"}, 0.5, 0.5},
		{"short", []string{"a"}, 0.5, 0.5},
		{"duplicates count once", []string{"a", "a"}, 0.5, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, r2 := recallOf(tt.got, want, sim)
			if r1 != tt.byID || r2 != tt.tieAwre {
				t.Errorf("recallOf(%v) = %v, %v; want %v, %v", tt.got, r1, r2, tt.byID, tt.tieAwre)
			}
		})
	}
	// The bucket filter: only buckets below 2 compete.
	if got := v.exactTop([]float32{0, 1}, 10, 2); len(got) != 2 || got[0].id != "b" {
		t.Errorf("exactTop with bucket < 2 = %v, want b then a", got)
	}
	r := summarizeRecall([]float64{1, 0.9, 1}, []float64{1, 1, 1})
	if math.Abs(r.Mean-2.9/3) > 1e-9 || r.Min != 0.9 || r.Missed != 1 || r.TieAwareMean != 1 {
		t.Errorf("summarizeRecall = %+v", r)
	}
}

func TestBenchReplaceSection(t *testing.T) {
	for _, sec := range []section{searchSection("2026"), searchSection("5.26"), compareSection, httpSection} {
		t.Run(sec.name, func(t *testing.T) {
			start, end := sec.start(), sec.end()
			if want := "<!-- " + sec.name + ":start -->"; start != want {
				t.Errorf("start() = %q, want %q", start, want)
			}
			doc := "# Benchmarks\n\nprose\n\n" + start + "\nold\n" + end + "\n\nmore prose\n"
			got, err := sec.replace(doc, "new table\n")
			if err != nil {
				t.Fatal(err)
			}
			if want := "# Benchmarks\n\nprose\n\n" + start + "\nnew table\n" + end + "\n\nmore prose\n"; got != want {
				t.Errorf("replace = %q, want %q", got, want)
			}
			// Without markers: appended, after the heading if any.
			got, err = sec.replace("# Benchmarks", "x")
			want := "# Benchmarks\n\n" + start + "\nx\n" + end + "\n"
			if sec.heading != "" {
				want = "# Benchmarks\n\n" + sec.heading + "\n\n" + start + "\nx\n" + end + "\n"
			}
			if err != nil || got != want {
				t.Errorf("replace without markers = %q, %v; want %q", got, err, want)
			}
			if again, err := sec.replace(got, "x"); err != nil || again != got {
				t.Errorf("replace is not idempotent: %q, %v", again, err)
			}
			if _, err := sec.replace(end+start, "x"); err == nil {
				t.Error("replace with markers out of order succeeded")
			}
		})
	}
	// Each section leaves the others alone.
	doc, err := searchSection("2026").replace("", "search")
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = searchSection("5.26").replace(doc, "lts"); err != nil {
		t.Fatal(err)
	}
	doc, err = httpSection.replace(doc, "http")
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = searchSection("2026").replace(doc, "search 2"); err != nil || !strings.Contains(doc, "search 2") ||
		!strings.Contains(doc, "\nhttp\n") || !strings.Contains(doc, "\nlts\n") {
		t.Errorf("three sections: %q, %v", doc, err)
	}
}

func TestBenchJudgeSwitch(t *testing.T) {
	pt := func(n int, exact, ann, annRecall float64) SwitchPoint {
		return SwitchPoint{N: n, ExactMS: Stats{P50: exact}, ANNMS: Stats{P50: ann}, ANNRecall: Recall{Mean: annRecall}}
	}
	tests := []struct {
		name     string
		points   []SwitchPoint
		upTo     int
		from     int
		contains string
	}{
		{"crossover above the default", []SwitchPoint{pt(5000, 5, 20, 1), pt(20000, 15, 18, 1), pt(50000, 40, 10, 1)}, 20000, 50000, "interval: supported"},
		{"crossover below the default", []SwitchPoint{pt(5000, 5, 20, 1), pt(10000, 9, 8, 1), pt(20000, 15, 9, 1)}, 5000, 10000, "not supported"},
		{"low recall keeps exact", []SwitchPoint{pt(5000, 5, 2, 0.9), pt(50000, 40, 10, 1)}, 5000, 50000, "interval: supported"},
		{"small size cannot tell", []SwitchPoint{pt(500, 1, 5, 1), pt(5000, 4, 6, 1)}, 5000, 0, "cannot test"},
		{"ANN always faster", []SwitchPoint{pt(500, 9, 1, 1), pt(5000, 9, 1, 1)}, 0, 500, "too high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := &SwitchResult{Points: tt.points, DefaultExactMax: 20000}
			judgeSwitch(sw)
			if sw.ExactUpTo != tt.upTo || sw.ANNFrom != tt.from || !strings.Contains(sw.Verdict, tt.contains) {
				t.Errorf("judgeSwitch = up to %d, from %d, %q; want %d, %d, containing %q",
					sw.ExactUpTo, sw.ANNFrom, sw.Verdict, tt.upTo, tt.from, tt.contains)
			}
		})
	}
}

func TestBenchFormat(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1000000: "1,000,000", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for x, want := range map[float64]string{1.234: "1.23", 12.34: "12.3", 123.4: "123", math.NaN(): "—"} {
		if got := num(x); got != want {
			t.Errorf("num(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestBenchFaster(t *testing.T) {
	for _, tt := range []struct {
		exact, ann float64
		want       string
	}{
		{10, 20, "exact, 2.0× faster"},
		{30, 10, "ANN, 3.0× faster"},
		{10, 10.5, "about equal (ANN/exact 1.05)"},
		{0, 1, "—"},
	} {
		if got := faster(tt.exact, tt.ann); got != tt.want {
			t.Errorf("faster(%v, %v) = %q, want %q", tt.exact, tt.ann, got, tt.want)
		}
	}
}

func TestBenchFloorKind(t *testing.T) {
	for strategy, want := range map[string]string{"exact": "exact", "exact-fallback": "exact", "ann": "ann", "search": "search"} {
		if got := floorKind(strategy); got != want {
			t.Errorf("floorKind(%q) = %q, want %q", strategy, got, want)
		}
	}
}

func TestBenchCheckLocal(t *testing.T) {
	for uri, ok := range map[string]bool{
		"bolt://localhost:7697":     true,
		"bolt://127.0.0.1:7697":     true,
		"neo4j://[::1]:7697":        true,
		"neo4j+s://example.com":     false,
		"bolt://10.0.0.5:7687":      false,
		"bolt://localhost.evil:768": false,
	} {
		if err := checkLocal(uri); (err == nil) != ok {
			t.Errorf("checkLocal(%q) = %v, want ok=%v", uri, err, ok)
		}
	}
}

func TestBenchMarkdown(t *testing.T) {
	r := &Report{Run: Run{Date: "2026-01-01T00:00:00Z", Command: "make bench-search"},
		Sizes: []SizeResult{{Memories: 10000, Tenants: 106, Classes: []ClassResult{{
			Class: "large", TenantSizes: "1 × 5,000", Strategies: map[string]int{"exact": 100},
			Floors: map[string]int{"exact scan": 100}, VectorOnlyStrategies: map[string]int{"exact": 100},
			Recall: Recall{Queries: 100, Mean: 0.98, Min: 0.9, Missed: 2},
		}}}},
		Embedding: EmbeddingResult{Reason: "model missing"},
	}
	md := markdown(r, "docs/benchmarks.md", "docs/benchmarks-2026.json")
	for _, want := range []string{"| 10,000 | large | 1 × 5,000 | exact |", "0.9800 ⚠", "Not measured: model missing", "`make bench-search`",
		"[benchmarks-2026.json](benchmarks-2026.json)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// An index path reports its floor's recall, and on 2026 the floor at
	// the engine's breadth: engine p50 20 over the breadth floor's 8 is 2.5.
	c := &r.Sizes[0].Classes[0]
	c.Strategies, c.EngineMS = map[string]int{"search": 100}, Stats{P50: 20}
	c.FloorRecall = &Recall{Mean: 0.95}
	c.Breadth = &BreadthResult{Limit: 1920, MS: Stats{P50: 8, P95: 9}, Recall: Recall{Mean: 0.995}, VectorOnlyOverBreadth: Stats{P50: 1.5}}
	md = markdown(r, "docs/benchmarks.md", "docs/benchmarks-2026.json")
	if want := "| 10,000 | large | 0.9500 | SEARCH tenant LIMIT 1,920, top 10 | 8.00 | 9.00 | 0.9950 | 1.50× | 2.50× |"; !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
}

func TestBenchSeries(t *testing.T) {
	for v, want := range map[string]string{"5.26.30": "5.26", "2026.08.1": "2026", "2025.10.1": "2025", "6": "6"} {
		if got := series(v); got != want {
			t.Errorf("series(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestBenchCompare writes a report for each series the way a run does and
// reads them back into the side-by-side section.
func TestBenchCompare(t *testing.T) {
	dir := t.TempDir()
	pattern := filepath.Join(dir, "benchmarks-"+seriesMark+".json")
	class := func(name, path string, p50, ratio, recall float64) ClassResult {
		return ClassResult{Class: name, Strategies: map[string]int{path: 100}, EngineMS: Stats{P50: p50, P99: 2 * p50},
			Ratio: Stats{P50: ratio}, Recall: Recall{Mean: recall}}
	}
	lts := &Report{Run: Run{Date: "d1", Commit: "aaaaaaaaaaaaaaaa", Machine: Machine{Neo4jVersion: "5.26.30"}},
		Sizes: []SizeResult{{Memories: 1000000, Classes: []ClassResult{class("small", "exact", 3, 2, 1), class("large", "ann", 235, 13, 0.996)}}}}
	cur := &Report{Run: Run{Date: "d2", Commit: "bbbbbbbbbbbbbbbb", Machine: Machine{Neo4jVersion: "2026.08.1"}},
		Sizes: []SizeResult{{Memories: 1000000, Classes: []ClassResult{class("large", "search", 20, 3.5, 0.995)}}}}
	md := filepath.Join(dir, "b.md")
	for _, r := range []*Report{lts, cur} {
		path := strings.ReplaceAll(pattern, seriesMark, series(r.Machine.Neo4jVersion))
		if err := writeOutputs(r, path, md, searchSection(series(r.Machine.Neo4jVersion)), "x"); err != nil {
			t.Fatal(err)
		}
	}
	reports := map[string]*Report{}
	for _, sr := range seriesOrder {
		r, err := readReport(strings.ReplaceAll(pattern, seriesMark, sr))
		if err != nil || r == nil {
			t.Fatalf("readReport(%s) = %v, %v", sr, r, err)
		}
		reports[sr] = r
	}
	if r, err := readReport(filepath.Join(dir, "none.json")); r != nil || err != nil {
		t.Errorf("readReport of a missing file = %v, %v; want nil, nil", r, err)
	}
	text := compareMarkdown(reports)
	large := "| 1,000,000 | large | ann | 235 | 470 | 13.0× | 0.9960 | search | 20.0 | 40.0 | 3.50× | 0.9950 |"
	small := "| 1,000,000 | small | exact | 3.00 | 6.00 | 2.00× | 1.0000 | — | | | | |"
	if !strings.Contains(text, large) || !strings.Contains(text, small) || strings.Index(text, large) > strings.Index(text, small) {
		t.Errorf("compareMarkdown lacks %q then %q:\n%s", large, small, text)
	}
	delete(reports, "5.26")
	if text := compareMarkdown(reports); !strings.Contains(text, "Neo4j 5.26: no report yet") {
		t.Errorf("compareMarkdown without a 5.26 report:\n%s", text)
	}
}
