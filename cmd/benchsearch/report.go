package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/neomem/neomem/vector"
)

// Report is everything one search run measured; it is
// docs/benchmarks-<series>.json.
type Report struct {
	Run
	Settings     Settings        `json:"settings"`
	Embedding    EmbeddingResult `json:"query_embedding"`
	Sizes        []SizeResult    `json:"sizes"`
	TotalSeconds float64         `json:"total_seconds"`
	Notes        []string        `json:"notes,omitempty"`
}

// Settings are the benchmark's parameters.
type Settings struct {
	Queries        int    `json:"queries"`
	SwitchQueries  int    `json:"switch_queries"`
	Warmup         int    `json:"warmup"`
	TopK           int    `json:"top_k"`
	Batch          int    `json:"ingest_batch"`
	Seed           uint64 `json:"seed"`
	Dimensions     int    `json:"dimensions"`
	StoredEmbedder string `json:"stored_vectors"`
	// DefaultExactMax is the server's default switch; 0 when it follows
	// the index's size (5.26: each size's Switch has its own).
	DefaultExactMax int `json:"default_exact_max"`
	SwitchANNMax    int `json:"switch_ann_store_exact_max"`
	SwitchExactMax  int `json:"switch_exact_store_exact_max"`
	// VectorIndex is how the memory vector index was built.
	VectorIndex vector.IndexConfig `json:"vector_index"`
}

// EmbeddingResult is the time to embed one query with the local model.
type EmbeddingResult struct {
	Measured   bool    `json:"measured"`
	Reason     string  `json:"reason,omitempty"`
	Model      string  `json:"model,omitempty"`
	LoadMS     float64 `json:"model_load_ms,omitempty"`
	MeanTokens float64 `json:"mean_tokens,omitempty"`
	// LatencyMS is per query: one text per call, as a search embeds it.
	LatencyMS Stats `json:"latency_ms"`
}

// SizeResult is one benchmark size.
type SizeResult struct {
	Memories int     `json:"memories"`
	Layout   []group `json:"layout"`
	Tenants  int     `json:"tenants"`
	// IndexTotal is every memory in the database (the vector index holds
	// them all); it equals Memories on a dedicated database.
	IndexTotal int           `json:"index_total"`
	Ingest     IngestResult  `json:"ingest"`
	Classes    []ClassResult `json:"classes"`
	Switch     *SwitchResult `json:"switch,omitempty"`
	Seconds    float64       `json:"seconds"`
}

// IngestResult is the load of one size.
type IngestResult struct {
	Memories      int     `json:"memories"`
	Batches       int     `json:"batches"`
	Batch         int     `json:"batch"`
	Seconds       float64 `json:"seconds"`
	PerSecond     float64 `json:"memories_per_second"`
	BatchMS       Stats   `json:"batch_ms"`
	DeletedNodes  int     `json:"deleted_nodes"`
	DeleteSeconds float64 `json:"delete_seconds"`
	IndexWaitSecs float64 `json:"index_wait_seconds"`
	// SettleSecs is how long the run waited after the load until the index
	// files had not changed for the quiet window (background segment
	// merges), the window included; 0 when the index directory is not local.
	SettleSecs float64 `json:"index_settle_seconds,omitempty"`
	// Reused: -reuse found this layout already stored, so nothing was
	// loaded and the ingest numbers are absent.
	Reused  bool   `json:"reused,omitempty"`
	FirstID string `json:"-"`
	LastID  string `json:"-"`
}

// ClassResult is one tenant class of one size.
type ClassResult struct {
	Class          string         `json:"class"`
	Tenants        int            `json:"tenants"`
	TenantSizes    string         `json:"tenant_sizes"`
	QueriedTenants int            `json:"queried_tenants"`
	Strategies     map[string]int `json:"strategies"`
	CandidatesMin  int            `json:"candidates_min"`
	CandidatesMax  int            `json:"candidates_max"`
	// EngineMS is Store.Search (hybrid: vector + BM25, top 10) per query.
	EngineMS Stats `json:"engine_ms"`
	// FloorMS is the bare Neo4j query of the engine's path for the same
	// vector; Floors counts which floor each query used.
	FloorMS Stats          `json:"floor_ms"`
	Floors  map[string]int `json:"floors"`
	// Ratio is engine/floor per query; Ratio.P50 is the reported ratio.
	Ratio Stats `json:"engine_over_floor"`
	// VectorOnlyMS is Store.Search with VectorWeight 1, TextWeight 0 and no
	// text (the recall runs).
	VectorOnlyMS         Stats          `json:"vector_only_ms"`
	VectorOnlyStrategies map[string]int `json:"vector_only_strategies"`
	Recall               Recall         `json:"recall_at_10"`
	// FloorRecall is the recall@10 of the floor itself (index paths only:
	// the exact scan is exact); Breadth, 2026's SEARCH floor asked for as
	// many neighbours as the engine asks for.
	FloorRecall *Recall        `json:"floor_recall_at_10,omitempty"`
	Breadth     *BreadthResult `json:"floor_at_engine_breadth,omitempty"`
}

// BreadthResult is the bare filtered SEARCH with the engine's LIMIT (its
// best 10 kept), timed right next to the vector-only engine for the same
// vector.
type BreadthResult struct {
	Limit  int    `json:"limit"`
	MS     Stats  `json:"ms"`
	Recall Recall `json:"recall_at_10"`
	// VectorOnlyOverBreadth is the vector-only engine's time over this
	// floor's, per query.
	VectorOnlyOverBreadth Stats `json:"vector_only_over_breadth"`
}

// SwitchResult is the exact/ANN switch measurement on the large tenant.
type SwitchResult struct {
	Tenant     string        `json:"tenant"`
	TenantSize int           `json:"tenant_size"`
	IndexTotal int           `json:"index_total"`
	Points     []SwitchPoint `json:"points"`
	Skipped    []int         `json:"skipped_n,omitempty"`
	// ANN "wins" a point when its p50 is more than 10% below exact's and
	// its recall@10 is ≥ 0.99. ExactUpTo is the largest n up to which ANN
	// won no point; ANNFrom the smallest n from which ANN won every point.
	// Zero when there is none.
	ExactUpTo       int    `json:"exact_faster_up_to"`
	ANNFrom         int    `json:"ann_faster_from"`
	DefaultExactMax int    `json:"default_exact_max"`
	Verdict         string `json:"verdict"`
}

// SwitchPoint is one candidate count n of the switch measurement.
type SwitchPoint struct {
	N           int    `json:"n"`
	BucketBelow int    `json:"bucket_below"`
	Candidates  int    `json:"candidates"`
	ExactMS     Stats  `json:"exact_ms"`
	ANNMS       Stats  `json:"ann_ms"`
	ExactRecall Recall `json:"exact_recall_at_10"`
	ANNRecall   Recall `json:"ann_recall_at_10"`
	// ExactPaths and ANNPaths count the strategy each store reported
	// ("exact-fallback": the index found too few candidates and the engine
	// scanned instead).
	ExactPaths map[string]int `json:"exact_store_paths"`
	ANNPaths   map[string]int `json:"ann_store_paths"`
	Faster     string         `json:"faster"`
}

// recallTarget is the evaluation's target for the vector step.
const recallTarget = 0.99

// switchMargin is how much faster (p50) ANN must be to count as faster in
// the switch verdict: closer than 10% is within the noise of a shared
// machine, and there the exact path (recall 1) is the better choice.
const switchMargin = 1.1

// judgeSwitch fills ExactUpTo, ANNFrom and Verdict from the points (sorted
// by n) against the default switch.
func judgeSwitch(sw *SwitchResult) {
	pts := sw.Points
	sort.Slice(pts, func(i, j int) bool { return pts[i].N < pts[j].N })
	annOK := func(p SwitchPoint) bool {
		return p.ANNMS.P50*switchMargin < p.ExactMS.P50 && p.ANNRecall.Mean >= recallTarget
	}
	sw.ExactUpTo, sw.ANNFrom = 0, 0
	for _, p := range pts {
		if annOK(p) {
			break
		}
		sw.ExactUpTo = p.N
	}
	for i := len(pts) - 1; i >= 0 && annOK(pts[i]); i-- {
		sw.ANNFrom = pts[i].N
	}
	d := sw.DefaultExactMax
	maxN := 0
	if len(pts) > 0 {
		maxN = pts[len(pts)-1].N
	}
	switch {
	case len(pts) == 0:
		sw.Verdict = "no points measured"
	case sw.ANNFrom == 0:
		sw.Verdict = fmt.Sprintf("exact was faster (or ANN recall below %.2f) at every measured n up to %s; "+
			"no crossover below %s", recallTarget, thousands(maxN), thousands(maxN))
		if maxN < d {
			sw.Verdict += fmt.Sprintf(", so this size cannot test the default ExactMax %s", thousands(d))
		} else {
			sw.Verdict += fmt.Sprintf("; the default ExactMax %s is not too high (a higher one would also do)", thousands(d))
		}
	case sw.ExactUpTo == 0:
		sw.Verdict = fmt.Sprintf("ANN was faster with recall ≥ %.2f already at the smallest n (%s); the default ExactMax %s looks too high here",
			recallTarget, thousands(pts[0].N), thousands(d))
	default:
		sw.Verdict = fmt.Sprintf("exact is as fast or faster up to n = %s; ANN (recall ≥ %.2f) is faster from n = %s",
			thousands(sw.ExactUpTo), recallTarget, thousands(sw.ANNFrom))
		if sw.ANNFrom > sw.ExactUpTo {
			mixed := ""
			for _, p := range pts {
				if p.N > sw.ExactUpTo && p.N < sw.ANNFrom {
					mixed = " (non-monotonic in between)"
				}
			}
			sw.Verdict += mixed
		}
		switch {
		case d >= sw.ExactUpTo && d < sw.ANNFrom:
			sw.Verdict += fmt.Sprintf("; the default ExactMax %s lies in the crossover interval: supported", thousands(d))
		case d >= sw.ANNFrom:
			sw.Verdict += fmt.Sprintf("; the default ExactMax %s is above it: ANN would be faster from %s (not supported)",
				thousands(d), thousands(sw.ANNFrom))
		default:
			sw.Verdict += fmt.Sprintf("; the default ExactMax %s is below it: exact would still be faster up to %s (not supported)",
				thousands(d), thousands(sw.ExactUpTo))
		}
	}
}

// thousands formats 50000 as 50,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// num formats a latency or ratio with three significant-ish digits.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func recallText(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

// seriesMark in -json stands for the Neo4j series of the connected server.
const seriesMark = "{series}"

// seriesOrder is the side-by-side section's column order: the LTS, then
// the default runtime.
var seriesOrder = []string{"5.26", "2026"}

// series names a Neo4j version's line: "5.26" for 5.26.x, "2026" for
// 2026.mm.p (the calendar releases), else the version itself.
func series(version string) string {
	parts := strings.Split(version, ".")
	switch {
	case len(parts) >= 2 && parts[0] == "5":
		return parts[0] + "." + parts[1]
	case len(parts[0]) == 4:
		return parts[0]
	}
	return version
}

// searchSection is the search benchmark's part of docs/benchmarks.md for
// one Neo4j series.
func searchSection(series string) section {
	return section{name: "bench-search-" + series, heading: "### Results: Neo4j " + series}
}

// compareSection is the side-by-side part of docs/benchmarks.md.
var compareSection = section{name: "bench-search-compare", heading: "### Neo4j 5.26 and 2026 side by side"}

// readReport reads a JSON report of an earlier run; a missing file is nil.
func readReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// compareMarkdown puts the runs of each series next to each other: per
// size and tenant class, the engine's p50 and p99, engine / floor and
// recall@10 (a series without a report, or without that size, shows "—").
func compareMarkdown(reports map[string]*Report) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("_Generated by `cmd/benchsearch` from the JSON reports of the latest run on each series; each `make bench-search` run rewrites it._\n\n")
	type key struct {
		size  int
		class string
	}
	var keys []key
	seen := map[key]bool{}
	cells := map[string]map[key]ClassResult{}
	for _, sr := range seriesOrder {
		r := reports[sr]
		if r == nil {
			w("- Neo4j %s: no report yet.\n", sr)
			continue
		}
		w("- Neo4j %s: %s, commit `%s`, %s.\n", sr, r.Machine.Neo4jVersion, short(r.Commit), r.Date)
		cells[sr] = map[key]ClassResult{}
		for _, sz := range r.Sizes {
			for _, c := range sz.Classes {
				k := key{sz.Memories, c.Class}
				cells[sr][k] = c
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	slices.SortStableFunc(keys, func(a, c key) int {
		if a.size != c.size {
			return a.size - c.size
		}
		return slices.Index(classes, a.class) - slices.Index(classes, c.class)
	})
	w("\n| memories | class |")
	for _, sr := range seriesOrder {
		w(" %s path | p50 (ms) | p99 | engine / floor | recall@10 |", sr)
	}
	w("\n|---:|---|")
	for range seriesOrder {
		w("---|---:|---:|---:|---:|")
	}
	w("\n")
	for _, k := range keys {
		w("| %s | %s |", thousands(k.size), k.class)
		for _, sr := range seriesOrder {
			c, ok := cells[sr][k]
			if !ok {
				w(" — | | | | |")
				continue
			}
			w(" %s | %s | %s | %s× | %s |", countsText(c.Strategies), num(c.EngineMS.P50), num(c.EngineMS.P99), num(c.Ratio.P50), recallText(c.Recall.Mean))
		}
		w("\n")
	}
	return b.String()
}

// markdown renders the generated section.
func markdown(r *Report, mdPath, jsonPath string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("_Generated by `cmd/benchsearch` on %s; `make bench-search` rewrites this section. Raw numbers: [%s](%s)._\n\n", r.Date, filepath.Base(jsonPath), relative(mdPath, jsonPath))
	r.Run.markdown(w)
	s := r.Settings
	w("- Vector index: HNSW M %d, ef_construction %d, quantization %s\n",
		s.VectorIndex.M, s.VectorIndex.EfConstruction, map[bool]string{true: "on", false: "off"}[s.VectorIndex.Quantization])
	w("- %d timed queries per class after %d warm-up queries; top %d; stored vectors from %s (%d dimensions); seed %d; total run time %s\n\n",
		s.Queries, s.Warmup, s.TopK, s.StoredEmbedder, s.Dimensions, s.Seed, duration(r.TotalSeconds))

	w("#### Search latency: engine vs floor (ms)\n\n")
	w("| memories | class | tenants × memories | path | candidates | engine p50 | p95 | p99 | mean | floor | floor p50 | p95 | p99 | mean | engine / floor |\n")
	w("|---:|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n")
	for _, sz := range r.Sizes {
		for _, c := range sz.Classes {
			w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s× |\n",
				thousands(sz.Memories), c.Class, c.TenantSizes, countsText(c.Strategies), rangeText(c.CandidatesMin, c.CandidatesMax),
				num(c.EngineMS.P50), num(c.EngineMS.P95), num(c.EngineMS.P99), num(c.EngineMS.Mean),
				countsText(c.Floors), num(c.FloorMS.P50), num(c.FloorMS.P95), num(c.FloorMS.P99), num(c.FloorMS.Mean),
				num(c.Ratio.P50))
		}
	}
	w("\n#### Recall@10 of the vector step against exact search\n\n")
	w("| memories | class | path | queries | recall@10 | tie-aware | lowest per query | queries with a miss | vector-only engine p50 (ms) | p95 |\n")
	w("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sz := range r.Sizes {
		for _, c := range sz.Classes {
			flag := ""
			if c.Recall.Mean < recallTarget {
				flag = " ⚠"
			}
			w("| %s | %s | %s | %d | %s%s | %s | %s | %d | %s | %s |\n",
				thousands(sz.Memories), c.Class, countsText(c.VectorOnlyStrategies), c.Recall.Queries,
				recallText(c.Recall.Mean), flag, recallText(c.Recall.TieAwareMean), recallText(c.Recall.Min), c.Recall.Missed,
				num(c.VectorOnlyMS.P50), num(c.VectorOnlyMS.P95))
		}
	}
	w("\n#### What the index costs at the engine's recall\n\n")
	w("The floor asks the index for 10 neighbours; the engine asks for more, since the breadth of the HNSW search sets its recall. Index paths only (the exact scan is exact); on 5.26 the floor is index-wide, so its recall counts the tenant's true neighbours among the index's 10 nearest.\n\n")
	w("| memories | class | floor recall@10 | floor at the engine's breadth | its p50 (ms) | p95 | its recall@10 | vector-only engine / it | hybrid engine p50 / its p50 |\n")
	w("|---:|---|---:|---|---:|---:|---:|---:|---:|\n")
	for _, sz := range r.Sizes {
		for _, c := range sz.Classes {
			if c.FloorRecall == nil {
				continue
			}
			if c.Breadth == nil {
				w("| %s | %s | %s | — | | | | | |\n", thousands(sz.Memories), c.Class, recallText(c.FloorRecall.Mean))
				continue
			}
			br := c.Breadth
			w("| %s | %s | %s | SEARCH tenant LIMIT %s, top 10 | %s | %s | %s | %s× | %s× |\n",
				thousands(sz.Memories), c.Class, recallText(c.FloorRecall.Mean), thousands(br.Limit),
				num(br.MS.P50), num(br.MS.P95), recallText(br.Recall.Mean), num(br.VectorOnlyOverBreadth.P50),
				num(c.EngineMS.P50/br.MS.P50))
		}
	}
	w("\n#### Ingest (`infer=false`: `Store.CreateMemories`, one writer)\n\n")
	w("| memories | tenants | batch | batches | seconds | memories/s | batch p50 (ms) | batch p95 (ms) | batch p99 (ms) | slowest batch (ms) | delete earlier run (s) | index wait (s) | merges settled (s) |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sz := range r.Sizes {
		in := sz.Ingest
		if in.Reused {
			w("| %s | %s | reused from an earlier run (`-reuse`), not loaded | | | | | | | | | | %.0f |\n", thousands(sz.Memories), thousands(sz.Tenants), in.SettleSecs)
			continue
		}
		w("| %s | %s | %s | %d | %.1f | %s | %s | %s | %s | %s | %.1f | %.1f | %.0f |\n",
			thousands(sz.Memories), thousands(sz.Tenants), thousands(in.Batch), in.Batches, in.Seconds,
			thousands(int(math.Round(in.PerSecond))), num(in.BatchMS.P50), num(in.BatchMS.P95), num(in.BatchMS.P99), num(in.BatchMS.Max),
			in.DeleteSeconds, in.IndexWaitSecs, in.SettleSecs)
	}
	w("\n#### Exact vs ANN switch point (large tenant, filter `bucket < k` selects n memories)\n\n")
	w("| memories in index | n | exact p50 (ms) | ANN p50 (ms) | exact p95 | ANN p95 | exact recall@10 | ANN recall@10 | ANN store's path | faster |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, sz := range r.Sizes {
		if sz.Switch == nil {
			continue
		}
		for _, p := range sz.Switch.Points {
			w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				thousands(sz.Switch.IndexTotal), thousands(p.N), num(p.ExactMS.P50), num(p.ANNMS.P50),
				num(p.ExactMS.P95), num(p.ANNMS.P95), recallText(p.ExactRecall.Mean), recallText(p.ANNRecall.Mean),
				countsText(p.ANNPaths), p.Faster)
		}
	}
	w("\n")
	for _, sz := range r.Sizes {
		if sz.Switch != nil {
			w("- %s memories in the index (large tenant %s): %s.\n", thousands(sz.Switch.IndexTotal), thousands(sz.Switch.TenantSize), sz.Switch.Verdict)
		}
	}
	w("\n#### Query embedding (apart from the engine time)\n\n")
	e := r.Embedding
	if !e.Measured {
		w("Not measured: %s.\n", e.Reason)
	} else {
		w("| model | queries | tokens per query (mean) | p50 (ms) | p95 | p99 | mean | model load (ms) |\n")
		w("|---|---:|---:|---:|---:|---:|---:|---:|\n")
		w("| %s | %d | %.1f | %s | %s | %s | %s | %s |\n", e.Model, e.LatencyMS.N, e.MeanTokens,
			num(e.LatencyMS.P50), num(e.LatencyMS.P95), num(e.LatencyMS.P99), num(e.LatencyMS.Mean), num(e.LoadMS))
	}
	if len(r.Notes) > 0 {
		w("\nNotes:\n\n")
		for _, n := range r.Notes {
			w("- %s\n", n)
		}
	}
	return b.String()
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// countsText renders {"exact": 100} as "exact" and mixed counts as
// "ann 60, exact 40".
func countsText(m map[string]int) string {
	if len(m) == 1 {
		for k := range m {
			return k
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func rangeText(lo, hi int) string {
	if lo == hi {
		return thousands(lo)
	}
	return thousands(lo) + "–" + thousands(hi)
}

func duration(sec float64) string {
	if sec < 120 {
		return fmt.Sprintf("%.0f s", sec)
	}
	return fmt.Sprintf("%.1f min", sec/60)
}

// section is a generated part of a Markdown document, between the markers
// <!-- name:start --> and <!-- name:end -->.
type section struct {
	name string
	// heading starts the section when the document has no markers yet
	// ("": none).
	heading string
}

func (s section) start() string { return "<!-- " + s.name + ":start -->" }
func (s section) end() string   { return "<!-- " + s.name + ":end -->" }

// replace returns doc with the text between the markers replaced by text;
// a document without them gets the heading and the markers at its end.
func (s section) replace(doc, text string) (string, error) {
	body := s.start() + "\n" + strings.TrimRight(text, "\n") + "\n" + s.end()
	i, j := strings.Index(doc, s.start()), strings.Index(doc, s.end())
	switch {
	case i < 0 && j < 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		if s.heading != "" {
			body = s.heading + "\n\n" + body
		}
		return doc + body + "\n", nil
	case i < 0 || j < 0 || j < i:
		return "", fmt.Errorf("%s section markers are incomplete or out of order", s.name)
	}
	return doc[:i] + body + doc[j+len(s.end()):], nil
}

// writeOutputs writes report as JSON to jsonPath and text as the section
// of the Markdown file mdPath ("": none).
func writeOutputs(report any, jsonPath, mdPath string, s section, text string) error {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(jsonPath, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", jsonPath, err)
	}
	return writeSection(mdPath, s, text)
}

// writeSection rewrites section s of the Markdown file mdPath ("": none)
// with text.
func writeSection(mdPath string, s section, text string) error {
	if mdPath == "" {
		return nil
	}
	doc, err := os.ReadFile(mdPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	out, err := s.replace(string(doc), text)
	if err != nil {
		return fmt.Errorf("%s: %w", mdPath, err)
	}
	if bytes.Equal(doc, []byte(out)) {
		return nil
	}
	return writeFileAtomic(mdPath, []byte(out))
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bench-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// markdown writes the run's lines of a section: command, code, machine,
// Neo4j.
func (r Run) markdown(w func(string, ...any)) {
	w("- Command: `%s`\n", r.Command)
	if r.Commit != "" {
		w("- Code: commit `%s`", short(r.Commit))
		if len(r.Modified) > 0 {
			w(" with local changes to %s", strings.Join(r.Modified, ", "))
		}
		w("\n")
	}
	m := r.Machine
	w("- Machine: %d CPUs (%s), %.1f GiB RAM, %s, %s; load average at start %s, at end %s\n",
		m.CPUs, m.CPUModel, m.MemoryGiB, m.OS, m.GoVersion, m.LoadAvgStart, m.LoadAvgEnd)
	w("- Neo4j %s %s, heap %s, page cache %s, at %s\n", m.Neo4jVersion, m.Neo4jEdition, orDash(m.Neo4jHeap), orDash(m.Neo4jPageCache), m.Neo4jURI)
}
