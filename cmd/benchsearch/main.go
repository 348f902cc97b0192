// Command benchsearch measures neomem's search, in two ways that share the
// synthetic corpus, the tenant layouts and the Neo4j helpers.
//
// benchsearch [flags] measures the engine at 10k, 100k and 1M memories in
// one Neo4j: its latency (Store.Search, one Cypher query) against the floor
// (the bare vector-index query or the bare exact scan for the same vector),
// recall@10 of the vector step against exact search in Go, the ingest rate
// of batched CreateMemories, the exact/ANN switch point, and the time to
// embed one query with the local model. It writes
// docs/benchmarks-<series>.json (5.26 or 2026, the connected Neo4j's), that
// series' section of docs/benchmarks.md and the side-by-side section built
// from both series' JSON reports, and deletes and rewrites every tenant
// whose id starts with "bench-".
//
// benchsearch http [flags] measures the HTTP server under concurrent
// clients: the real server binary (bin/neomem) as a child process, with
// 100,000 memories and an embedder served over HTTP by bin/fakellm
// (hashing, 384 dimensions). For 1, 4 and 16 clients and two mixes (search
// only; 90% search and 10% infer=false adds) it records requests per
// second, p50 and p99 per kind, errors, the server's resident memory, the
// CPU each process used and the server's own timings (/metrics), takes a CPU
// profile of the server in the busiest search phase, and takes one search
// apart (HTTP, API-key lookup, embedding, Neo4j query). It writes
// docs/benchmarks-http.json and the bench-http section of
// docs/benchmarks.md, and deletes and rewrites every tenant whose id starts
// with "benchhttp-" (or -prefix).
//
// Both only talk to a Neo4j on this machine (`make bench-search` and `make
// bench-http` start dedicated ones).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/vector"
	"github.com/neomem/neomem/vector/local"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchsearch:", err)
		os.Exit(1)
	}
}

// dimensions of the stored vectors (those of all-MiniLM-L6-v2) and of the
// HTTP benchmark's query vectors.
const dimensions = 384

// topK is the size of every search.
const topK = 10

// switchGrid lists the candidate counts of the switch measurement.
var switchGrid = []int{100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000}

// options are the command's flags.
type options struct {
	sizes         []int
	queries       int
	switchQueries int
	warmup        int
	batch         int
	deleteBatch   int
	seed          uint64
	jsonPath      string
	mdPath        string
	command       string
	timeout       time.Duration
	queryTimeout  time.Duration
	reuse         bool
	vector        vector.IndexConfig
}

// usage is the first line of -help.
const usage = `usage: benchsearch [flags]       the search engine at 10k/100k/1M memories (make bench-search)
       benchsearch http [flags]  the HTTP server under concurrent clients (make bench-http; benchsearch http -help)`

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("benchsearch", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, usage)
		fs.PrintDefaults()
	}
	sizes := fs.String("sizes", "10000,100000", "comma-separated benchmark sizes: 10000, 100000, 1000000")
	o := options{}
	fs.IntVar(&o.queries, "queries", 100, "timed queries per tenant class")
	fs.IntVar(&o.switchQueries, "switch-queries", 0, "timed queries per point of the switch measurement (0: -queries)")
	fs.IntVar(&o.warmup, "warmup", 10, "untimed queries before each timed series")
	fs.IntVar(&o.batch, "batch", 2000, "memories per CreateMemories call")
	fs.IntVar(&o.deleteBatch, "delete-batch", defaultDeleteBatch, "nodes per transaction when deleting earlier benchmark tenants")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic texts")
	fs.StringVar(&o.jsonPath, "json", "docs/benchmarks-"+seriesMark+".json", "where to write the JSON report ("+seriesMark+": the Neo4j series, 5.26 or 2026)")
	fs.StringVar(&o.mdPath, "md", "docs/benchmarks.md", "markdown file whose bench-search section of the Neo4j series, and the side-by-side one, are rewritten (empty: none)")
	fs.StringVar(&o.command, "command", "", "how the run was started, for the report (default: this command line)")
	fs.DurationVar(&o.timeout, "timeout", 4*time.Hour, "stop the whole run after this long")
	fs.DurationVar(&o.queryTimeout, "query-timeout", 10*time.Minute, "time-out of one query or batch (long: index merges can stall a batch for minutes, which the ingest numbers should show)")
	fs.BoolVar(&o.vector.Quantization, "quantization", false, "build the vector index with quantisation (as NEOMEM_VECTOR_QUANTIZATION)")
	fs.IntVar(&o.vector.M, "hnsw-m", 0, "vector index HNSW M (0: vector.DefaultHNSWM, as NEOMEM_VECTOR_HNSW_M)")
	fs.IntVar(&o.vector.EfConstruction, "hnsw-ef-construction", 0, "vector index HNSW ef_construction (0: vector.DefaultHNSWEfConstruction)")
	fs.BoolVar(&o.reuse, "reuse", false, "keep the benchmark memories of an earlier run when they are exactly this size's layout and seed (no ingest numbers then)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return o, fmt.Errorf("-sizes: %q is not a number", f)
		}
		if _, err := layoutFor(n); err != nil {
			return o, fmt.Errorf("-sizes: %w", err)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.switchQueries <= 0 {
		o.switchQueries = o.queries
	}
	switch {
	case o.queries < 1 || o.queries > 100000:
		return o, errors.New("-queries must be between 1 and 100000")
	case o.warmup < 0 || o.warmup > 1000:
		return o, errors.New("-warmup must be between 0 and 1000")
	case o.batch < 1 || o.batch > 10000:
		return o, errors.New("-batch must be between 1 and 10000")
	case o.deleteBatch < 100 || o.deleteBatch > 100000:
		return o, errors.New("-delete-batch must be between 100 and 100000")
	}
	if o.command == "" {
		o.command = "go run ./cmd/benchsearch " + strings.Join(args, " ")
	}
	return o, nil
}

// bench is one search run's state.
type bench struct {
	opt   options
	log   func(string, ...any)
	neo   *neo
	store *cypher.Store // default configuration
	exact *cypher.Store // ExactMax high: always exact
	ann   *cypher.Store // ExactMax 1: always the vector index
	// inIndex: the server filters inside the vector index (2026.01+).
	inIndex bool
	// floorKinds are the floors the connected server can run (warm-up);
	// breadth is the LIMIT the engine gives 2026's SEARCH (0 on 5.26).
	floorKinds []string
	breadth    int
	embedder   *llmtest.HashEmbedder
	report     *Report
	// indexDir is the Neo4j database's schema/index directory when the
	// server runs from a local home (NEO4J_RUNTIME_HOME), else "".
	indexDir string
}

// annExactMax makes a store take the ANN path for any n > 1. Zero would mean
// "the default" to cypher.New.
const annExactMax = 1

// exactExactMax makes a store scan exactly for every n of the benchmark.
const exactExactMax = math.MaxInt32

// run runs the search benchmark, or with "http" first the HTTP one.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "http" {
		return runHTTP(ctx, args[1:], getenv, stderr)
	}
	opt, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.timeout)
	defer cancel()
	start := time.Now()
	logf := logger(stderr, "benchsearch")

	driver, conn, err := connect(ctx, getenv, "bolt://localhost:7697")
	if err != nil {
		return err
	}
	defer driver.Close(context.Background())
	uri, db := conn.URI, conn.Database
	b := &bench{opt: opt, log: logf, neo: &neo{driver: driver, database: db}, embedder: llmtest.NewHashEmbedder(dimensions),
		indexDir: localIndexDir(getenv, db)}
	for _, st := range []struct {
		dst      **cypher.Store
		exactMax int
	}{{&b.store, 0}, {&b.exact, exactExactMax}, {&b.ann, annExactMax}} {
		s, err := cypher.New(driver, cypher.Config{Database: db, Dimensions: dimensions, Policy: vector.Policy{ExactMax: st.exactMax}, Vector: opt.vector})
		if err != nil {
			return err
		}
		// Bootstrap is idempotent; each store learns the server's version.
		if err := s.Bootstrap(ctx); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		*st.dst = s
	}
	info, err := b.store.Server(ctx)
	if err != nil {
		return err
	}
	logf("connected to Neo4j %s %s at %s", info.Version, info.Edition, uri)

	b.inIndex = info.FilteredVectorSearch
	// The default switch: one number on 2026, a tenth of the index (within
	// bounds) on 5.26; each size's switch measurement names its own.
	settingsExactMax := vector.Policy{}.ExactMaxFor(true, 0)
	defaultSwitch := thousands(settingsExactMax)
	if !b.inIndex {
		settingsExactMax = 0
		defaultSwitch = fmt.Sprintf("a tenth of the index's memories, %s to %s", thousands(vector.ExactMaxBySize(0)), thousands(vector.ExactMaxBySize(math.MaxInt64)))
	}
	b.floorKinds = []string{"exact", "ann"}
	if info.FilteredVectorSearch {
		b.floorKinds = append(b.floorKinds, "search")
		b.breadth = vector.Policy{}.WithDefaults().SearchLimit(topK)
	}
	b.report = &Report{
		Run: newRun(ctx, start, opt.command, append([]string{"benchsearch"}, args...), info, uri, getenv),
		Settings: Settings{
			Queries: opt.queries, SwitchQueries: opt.switchQueries, Warmup: opt.warmup, TopK: topK,
			Batch: opt.batch, Seed: opt.seed, Dimensions: dimensions, StoredEmbedder: b.embedder.Name(),
			DefaultExactMax: settingsExactMax, SwitchANNMax: annExactMax, SwitchExactMax: exactExactMax,
			VectorIndex: b.store.VectorIndex(),
		},
	}
	b.report.Notes = append(b.report.Notes,
		fmt.Sprintf("The switch measurement's ANN store has ExactMax %d: cypher.New reads 0 as the default (%s).",
			annExactMax, defaultSwitch))
	if info.FilteredVectorSearch {
		b.report.Notes = append(b.report.Notes, "Neo4j 2026.01+: the ANN path is the in-index filtered SEARCH (strategy \"search\"); its floor is the bare SEARCH … WHERE m.tenant = $t LIMIT 10 for the same vector.")
	}

	b.report.Embedding = b.measureEmbedding(ctx, getenv)
	for _, size := range opt.sizes {
		res, err := b.runSize(ctx, size)
		if err != nil {
			return fmt.Errorf("%d memories: %w", size, err)
		}
		b.report.Sizes = append(b.report.Sizes, res)
		b.report.Machine.LoadAvgEnd = loadavg()
		b.report.TotalSeconds = time.Since(start).Seconds()
		// Written after every size, so a later failure keeps what was measured.
		if err := b.write(); err != nil {
			return err
		}
	}
	for _, sz := range b.report.Sizes {
		for _, c := range sz.Classes {
			if c.Recall.Mean < recallTarget {
				b.report.Notes = append(b.report.Notes, fmt.Sprintf("Recall@10 below %.2f: %s memories, %s tenants: %.4f (%d of %d queries missed a neighbour).",
					recallTarget, thousands(sz.Memories), c.Class, c.Recall.Mean, c.Recall.Missed, c.Recall.Queries))
			}
		}
	}
	b.report.Machine.LoadAvgEnd = loadavg()
	b.report.TotalSeconds = time.Since(start).Seconds()
	if err := b.write(); err != nil {
		return err
	}
	logf("done in %s; wrote %s and %s", time.Since(start).Round(time.Second), b.jsonPath(), opt.mdPath)
	return nil
}

// jsonPath is -json with the connected server's series in place of
// seriesMark.
func (b *bench) jsonPath() string {
	return strings.ReplaceAll(b.opt.jsonPath, seriesMark, series(b.report.Machine.Neo4jVersion))
}

// write writes the JSON report and rewrites the series' section of the
// Markdown file, then the side-by-side section from every series' JSON
// report found next to this one.
func (b *bench) write() error {
	mine := series(b.report.Machine.Neo4jVersion)
	if err := writeOutputs(b.report, b.jsonPath(), b.opt.mdPath, searchSection(mine), markdown(b.report, b.opt.mdPath, b.jsonPath())); err != nil {
		return err
	}
	if b.opt.mdPath == "" || !strings.Contains(b.opt.jsonPath, seriesMark) {
		return nil
	}
	reports := map[string]*Report{}
	for _, sr := range seriesOrder {
		path := strings.ReplaceAll(b.opt.jsonPath, seriesMark, sr)
		r, err := readReport(path)
		if err != nil {
			return err
		}
		reports[sr] = r
	}
	return writeSection(b.opt.mdPath, compareSection, compareMarkdown(reports))
}

// logger returns a function that writes a line to w, with the time and
// name first; it is safe for concurrent use.
func logger(w io.Writer, name string) func(string, ...any) {
	var mu sync.Mutex
	return func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s: %s\n", time.Now().Format("15:04:05"), name, fmt.Sprintf(format, a...))
	}
}

// runSize loads one layout and measures it.
func (b *bench) runSize(ctx context.Context, size int) (SizeResult, error) {
	start := time.Now()
	groups, err := layoutFor(size)
	if err != nil {
		return SizeResult{}, err
	}
	ts := tenants(searchPrefix, groups)
	res := SizeResult{Memories: layoutTotal(groups), Layout: groups, Tenants: len(ts)}
	b.log("%s memories: %d tenants; deleting earlier benchmark tenants", thousands(size), len(ts))

	var kept []*tenantVectors
	if b.opt.reuse {
		if kept, err = b.reusable(ctx, size, ts, &res.Ingest); err != nil {
			return res, err
		}
	}
	if kept == nil {
		t := time.Now()
		deleted, err := b.neo.deleteTenants(ctx, searchPrefix, tenantLabels, b.opt.deleteBatch, b.log)
		if err != nil {
			return res, err
		}
		res.Ingest.DeletedNodes, res.Ingest.DeleteSeconds = deleted, time.Since(t).Seconds()
		if kept, err = b.load(ctx, size, ts, &res.Ingest, true); err != nil {
			return res, err
		}
	}
	t := time.Now()
	if err := b.neo.awaitIndexes(ctx, 30*time.Minute); err != nil {
		return res, fmt.Errorf("wait for indexes: %w", err)
	}
	res.Ingest.IndexWaitSecs = time.Since(t).Seconds()
	if b.indexDir != "" {
		t = time.Now()
		if err := settle(ctx, b.indexDir, settleQuiet, b.log); err != nil {
			return res, err
		}
		res.Ingest.SettleSecs = time.Since(t).Seconds()
	}
	benchCount, _, err := b.neo.countLoaded(ctx, searchPrefix)
	if err != nil {
		return res, err
	}
	if benchCount != res.Memories {
		return res, fmt.Errorf("found %d benchmark memories after the load, want %d", benchCount, res.Memories)
	}
	// Also what the engine store's switch reads on 5.26 (it would keep an
	// earlier size's count for up to a minute).
	sizes, err := b.store.IndexSize(ctx)
	if err != nil {
		return res, err
	}
	all := int(sizes.Memories)
	res.IndexTotal = all
	if res.Ingest.Reused {
		b.log("reused %s memories of an earlier run; %s memories in the index", thousands(res.Memories), thousands(all))
	} else {
		b.log("loaded %s memories in %.1f s (%.0f/s); %s memories in the index",
			thousands(res.Ingest.Memories), res.Ingest.Seconds, res.Ingest.PerSecond, thousands(all))
	}

	samples := map[string][]*tenantVectors{}
	for _, tv := range kept {
		samples[tv.tenant.Class] = append(samples[tv.tenant.Class], tv)
	}
	if err := b.warmUp(ctx, samples); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	for _, class := range classes {
		sample := samples[class]
		if len(sample) == 0 {
			continue
		}
		cr, err := b.measureClass(ctx, size, class, groups, sample)
		if err != nil {
			return res, fmt.Errorf("%s tenants: %w", class, err)
		}
		res.Classes = append(res.Classes, cr)
	}
	for _, tv := range kept {
		if tv.tenant.Class == classLarge {
			sw, err := b.measureSwitch(ctx, size, tv, all)
			if err != nil {
				return res, fmt.Errorf("switch point: %w", err)
			}
			res.Switch = sw
			break
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// tenantVectors is a tenant whose vectors are kept for exact search.
type tenantVectors struct {
	tenant tenant
	vectors
	index map[string]int
}

// reusable regenerates the layout without writing and returns its sampled
// tenants when the database holds exactly it (neo.holdsLayout), else nil.
func (b *bench) reusable(ctx context.Context, size int, ts []tenant, out *IngestResult) ([]*tenantVectors, error) {
	var dry IngestResult
	kept, err := b.load(ctx, size, ts, &dry, false)
	if err != nil {
		return nil, err
	}
	if ok, err := b.neo.holdsLayout(ctx, searchPrefix, ts, dry.FirstID, dry.LastID, b.log); err != nil || !ok {
		return nil, err
	}
	*out = IngestResult{Memories: dry.Memories, Batch: dry.Batch, Reused: true}
	return kept, nil
}

// load inserts the layout with CreateMemories in batches (only generates it
// when write is false) into out and returns the sampled tenants with their
// vectors.
func (b *bench) load(ctx context.Context, size int, ts []tenant, out *IngestResult, write bool) ([]*tenantVectors, error) {
	// Which tenants are measured: an even sample of each class.
	byClass := map[string][]int{}
	for i, t := range ts {
		byClass[t.Class] = append(byClass[t.Class], i)
	}
	keep := map[int]*tenantVectors{}
	var kept []*tenantVectors
	for _, class := range classes {
		idx := byClass[class]
		if len(idx) == 0 {
			continue
		}
		// The largest tenant of the class sets the budget.
		largest := 0
		for _, i := range idx {
			largest = max(largest, ts[i].Size)
		}
		for _, j := range sampleIndexes(len(idx), sampleLimit(largest, len(idx))) {
			tv := &tenantVectors{tenant: ts[idx[j]], index: map[string]int{}}
			keep[idx[j]] = tv
			kept = append(kept, tv)
		}
	}
	l := loader{store: b.store, embedder: b.embedder, batch: b.opt.batch, timeout: b.opt.queryTimeout, actor: "benchsearch", log: b.log}
	in, err := l.load(ctx, newCorpus(b.opt.seed, fmt.Sprintf("memories-%d", size)), ts, write, func(ti, i int, m graph.Memory) {
		if tv := keep[ti]; tv != nil {
			tv.index[m.ID] = len(tv.ids)
			tv.add(m.ID, m.Embedding, i%100)
		}
	})
	in.DeletedNodes, in.DeleteSeconds = out.DeletedNodes, out.DeleteSeconds
	*out = in
	return kept, err
}

// search runs one Store.Search with a per-query time-out and returns its
// duration.
func (b *bench) search(ctx context.Context, s *cypher.Store, q graph.SearchRequest) (graph.SearchResponse, time.Duration, error) {
	qctx, cancel := context.WithTimeout(ctx, b.opt.queryTimeout)
	defer cancel()
	t := time.Now()
	res, err := s.Search(qctx, q)
	return res, time.Since(t), err
}

// floor times the bare query of the engine's path (strategy) for the same
// vector, asking the index for 10 neighbours.
func (b *bench) floor(ctx context.Context, strategy string, scope graph.Scope, v []float64) (time.Duration, error) {
	_, d, err := b.floorAt(ctx, strategy, scope, v, topK)
	return d, err
}

// floorAt is floor asking the index for limit neighbours; it also returns
// the ids of the best 10.
func (b *bench) floorAt(ctx context.Context, strategy string, scope graph.Scope, v []float64, limit int) ([]string, time.Duration, error) {
	qctx, cancel := context.WithTimeout(ctx, b.opt.queryTimeout)
	defer cancel()
	return b.neo.floor(qctx, strategy, scope.Tenant, scope.UserID, v, limit)
}

// warmUpRounds is the least number of warm-up rounds per class before any
// timing of a size: the first queries after a load pay for query planning,
// the JVM's JIT compilation and cold pages.
const warmUpRounds = 20

// warmUp runs every kind of query the measurement times (hybrid and
// vector-only searches, both floors, filtered searches on both switch
// stores) on every class, untimed.
func (b *bench) warmUp(ctx context.Context, samples map[string][]*tenantVectors) error {
	start := time.Now()
	rounds := max(warmUpRounds, b.opt.warmup)
	qs := newCorpus(b.opt.seed, "warm-up").queries(rounds)
	filter, err := graph.ParseFilter(map[string]any{"bucket": map[string]any{"lt": float64(50)}})
	if err != nil {
		return err
	}
	for _, class := range classes {
		for i, text := range qs {
			sample := samples[class]
			if len(sample) == 0 {
				break
			}
			tv := sample[i%len(sample)]
			vec := b.embedder.Vector(text)
			scope := tv.tenant.Scope
			for _, q := range []graph.SearchRequest{
				{Scope: scope, Vector: vec, Query: text, TopK: topK},
				{Scope: scope, Vector: vec, TopK: topK, VectorWeight: 1},
			} {
				if _, _, err := b.search(ctx, b.store, q); err != nil {
					return err
				}
			}
			for _, strategy := range b.floorKinds {
				if _, err := b.floor(ctx, strategy, scope, vector64(vec)); err != nil {
					return err
				}
				if strategy == "search" {
					if _, _, err := b.floorAt(ctx, strategy, scope, vector64(vec), b.breadth); err != nil {
						return err
					}
				}
			}
			if class == classLarge {
				q := graph.SearchRequest{Scope: scope, Vector: vec, Filter: filter, TopK: topK, VectorWeight: 1}
				for _, s := range []*cypher.Store{b.exact, b.ann} {
					if _, _, err := b.search(ctx, s, q); err != nil {
						return err
					}
				}
			}
		}
	}
	b.log("warm-up: %d rounds per class in %.1f s", rounds, time.Since(start).Seconds())
	return nil
}

// measureClass times the engine against the floor, then the vector-only
// engine for recall, on the sampled tenants of one class.
func (b *bench) measureClass(ctx context.Context, size int, class string, groups []group, sample []*tenantVectors) (ClassResult, error) {
	cr := ClassResult{Class: class, QueriedTenants: len(sample), Strategies: map[string]int{}, Floors: map[string]int{},
		VectorOnlyStrategies: map[string]int{}, CandidatesMin: math.MaxInt}
	var sizes []string
	for _, g := range groups {
		if g.Class == class {
			cr.Tenants += g.Count
			sizes = append(sizes, thousands(g.Count)+" × "+thousands(g.Size))
		}
	}
	cr.TenantSizes = strings.Join(sizes, " + ")
	b.log("%s memories, %s tenants (%s): %d warm-up + %d timed queries over %d tenants",
		thousands(size), class, cr.TenantSizes, b.opt.warmup, b.opt.queries, len(sample))
	qs := newCorpus(b.opt.seed, "queries-"+class).queries(b.opt.warmup + b.opt.queries)

	// (a) and (b): engine (hybrid) and floor for the same vector. The floor
	// matches the path the engine reports; which of the two runs first
	// alternates, so neither always finds the other's pages in the cache.
	var engine, floor []time.Duration
	last := ""
	for i, text := range qs {
		tv := sample[i%len(sample)]
		vec := b.embedder.Vector(text)
		q := graph.SearchRequest{Scope: tv.tenant.Scope, Vector: vec, Query: text, TopK: topK}
		var res graph.SearchResponse
		var te, tf time.Duration
		var err error
		if i%2 == 0 || last == "" {
			if res, te, err = b.search(ctx, b.store, q); err != nil {
				return cr, fmt.Errorf("search: %w", err)
			}
			if tf, err = b.floor(ctx, res.Strategy, tv.tenant.Scope, vector64(vec)); err != nil {
				return cr, err
			}
		} else {
			if tf, err = b.floor(ctx, last, tv.tenant.Scope, vector64(vec)); err != nil {
				return cr, err
			}
			if res, te, err = b.search(ctx, b.store, q); err != nil {
				return cr, fmt.Errorf("search: %w", err)
			}
			if floorKind(res.Strategy) != floorKind(last) {
				// This tenant took the other path: time its floor.
				if tf, err = b.floor(ctx, res.Strategy, tv.tenant.Scope, vector64(vec)); err != nil {
					return cr, err
				}
			}
		}
		last = res.Strategy
		if i < b.opt.warmup {
			continue
		}
		cr.Strategies[res.Strategy]++
		cr.Floors[floorName(res.Strategy)]++
		cr.CandidatesMin = min(cr.CandidatesMin, res.Candidates)
		cr.CandidatesMax = max(cr.CandidatesMax, res.Candidates)
		engine = append(engine, te)
		floor = append(floor, tf)
	}
	cr.EngineMS, cr.FloorMS = summarize(ms(engine)), summarize(ms(floor))
	cr.Ratio = summarize(ratios(engine, floor))

	// (c) recall of the vector step: vector weight only, no text, so the
	// full-text step does not run and the top 10 are the vector ranking's.
	// On an index path, the recall of the floor too, and (2026's SEARCH)
	// the floor asked for as many neighbours as the engine asks for: what
	// the index itself costs at the engine's recall.
	var vonly, breadth, vonlyPaired []time.Duration
	var byID, tieAware, floorByID, floorTie, breadthByID, breadthTie []float64
	for i, text := range qs {
		tv := sample[i%len(sample)]
		vec := b.embedder.Vector(text)
		q := graph.SearchRequest{Scope: tv.tenant.Scope, Vector: vec, TopK: topK, VectorWeight: 1, TextWeight: 0}
		var tb time.Duration
		var bids []string
		var err error
		if i%2 == 1 && b.breadth > 0 && cr.Strategies["search"] > 0 {
			if bids, tb, err = b.floorAt(ctx, "search", tv.tenant.Scope, vector64(vec), b.breadth); err != nil {
				return cr, err
			}
		}
		res, d, err := b.search(ctx, b.store, q)
		if err != nil {
			return cr, fmt.Errorf("vector-only search: %w", err)
		}
		if res.Strategy == "search" && bids == nil {
			if bids, tb, err = b.floorAt(ctx, "search", tv.tenant.Scope, vector64(vec), b.breadth); err != nil {
				return cr, err
			}
		}
		if i < b.opt.warmup {
			continue
		}
		cr.VectorOnlyStrategies[res.Strategy]++
		vonly = append(vonly, d)
		got := make([]string, len(res.Results))
		for j, h := range res.Results {
			got[j] = h.ID
		}
		want := tv.exactTop(vec, topK, 100)
		sim := func(id string) (float64, bool) { return tv.similarity(id, vec, tv.index) }
		r1, r2 := recallOf(got, want, sim)
		byID, tieAware = append(byID, r1), append(tieAware, r2)
		if floorKind(res.Strategy) == "exact" {
			continue
		}
		fids, _, err := b.floorAt(ctx, res.Strategy, tv.tenant.Scope, vector64(vec), topK)
		if err != nil {
			return cr, err
		}
		r1, r2 = recallOf(fids, want, sim)
		floorByID, floorTie = append(floorByID, r1), append(floorTie, r2)
		if res.Strategy == "search" && bids != nil {
			r1, r2 = recallOf(bids, want, sim)
			breadthByID, breadthTie = append(breadthByID, r1), append(breadthTie, r2)
			breadth, vonlyPaired = append(breadth, tb), append(vonlyPaired, d)
		}
	}
	cr.VectorOnlyMS = summarize(ms(vonly))
	cr.Recall = summarizeRecall(byID, tieAware)
	if len(floorByID) > 0 {
		r := summarizeRecall(floorByID, floorTie)
		cr.FloorRecall = &r
	}
	if len(breadth) > 0 {
		r := summarizeRecall(breadthByID, breadthTie)
		cr.Breadth = &BreadthResult{Limit: b.breadth, MS: summarize(ms(breadth)), Recall: r,
			VectorOnlyOverBreadth: summarize(ratios(vonlyPaired, breadth))}
	}
	if cr.CandidatesMin == math.MaxInt {
		cr.CandidatesMin = 0
	}
	b.log("  engine p50 %s ms, floor p50 %s ms, ratio %s×, recall@10 %.4f (%s)",
		num(cr.EngineMS.P50), num(cr.FloorMS.P50), num(cr.Ratio.P50), cr.Recall.Mean, countsText(cr.Strategies))
	return cr, nil
}

func floorName(strategy string) string {
	switch floorKind(strategy) {
	case "exact":
		return "exact scan"
	case "search":
		return "SEARCH tenant k=10"
	}
	return "queryNodes k=10"
}

// measureSwitch runs the large tenant with a bucket filter selecting n
// memories through the always-exact and the always-ANN store.
func (b *bench) measureSwitch(ctx context.Context, size int, tv *tenantVectors, indexTotal int) (*SwitchResult, error) {
	sw := &SwitchResult{Tenant: tv.tenant.Scope.Tenant, TenantSize: len(tv.ids), IndexTotal: indexTotal,
		DefaultExactMax: vector.Policy{}.ExactMaxFor(b.inIndex, int64(indexTotal))}
	qs := newCorpus(b.opt.seed, "queries-switch").queries(b.opt.switchQueries)
	warm := b.opt.warmup
	for _, n := range switchGrid {
		if n > sw.TenantSize || n*100%sw.TenantSize != 0 {
			sw.Skipped = append(sw.Skipped, n)
			continue
		}
		k := n * 100 / sw.TenantSize
		filter, err := graph.ParseFilter(map[string]any{"bucket": map[string]any{"lt": float64(k)}})
		if err != nil {
			return nil, err
		}
		b.log("%s memories, switch point: n = %s (bucket < %d), %d queries on each path", thousands(size), thousands(n), k, len(qs))
		p := SwitchPoint{N: n, BucketBelow: k, ExactPaths: map[string]int{}, ANNPaths: map[string]int{}}
		var te, ta []time.Duration
		var er, ea, ert, eat []float64
		total := warm + len(qs)
		for i := range total {
			text := qs[i%len(qs)]
			vec := b.embedder.Vector(text)
			q := graph.SearchRequest{Scope: tv.tenant.Scope, Vector: vec, Filter: filter, TopK: topK, VectorWeight: 1}
			var rx, ra graph.SearchResponse
			var dx, da time.Duration
			var err1, err2 error
			if i%2 == 0 {
				rx, dx, err1 = b.search(ctx, b.exact, q)
				ra, da, err2 = b.search(ctx, b.ann, q)
			} else {
				ra, da, err2 = b.search(ctx, b.ann, q)
				rx, dx, err1 = b.search(ctx, b.exact, q)
			}
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("n = %d: %w", n, err)
			}
			if i < warm {
				continue
			}
			p.ExactPaths[rx.Strategy]++
			p.ANNPaths[ra.Strategy]++
			p.Candidates = rx.Candidates
			te, ta = append(te, dx), append(ta, da)
			want := tv.exactTop(vec, topK, k)
			sim := func(id string) (float64, bool) { return tv.similarity(id, vec, tv.index) }
			r1, r2 := recallOf(ids(rx), want, sim)
			er, ert = append(er, r1), append(ert, r2)
			r1, r2 = recallOf(ids(ra), want, sim)
			ea, eat = append(ea, r1), append(eat, r2)
		}
		p.ExactMS, p.ANNMS = summarize(ms(te)), summarize(ms(ta))
		p.ExactRecall, p.ANNRecall = summarizeRecall(er, ert), summarizeRecall(ea, eat)
		p.Faster = faster(p.ExactMS.P50, p.ANNMS.P50)
		b.log("  exact p50 %s ms recall %.4f; ANN p50 %s ms recall %.4f",
			num(p.ExactMS.P50), p.ExactRecall.Mean, num(p.ANNMS.P50), p.ANNRecall.Mean)
		sw.Points = append(sw.Points, p)
	}
	judgeSwitch(sw)
	b.log("  switch: %s", sw.Verdict)
	return sw, nil
}

// faster names the faster path by p50 and by how much; within the
// switch margin it is "about equal".
func faster(exact, ann float64) string {
	switch {
	case exact <= 0 || ann <= 0:
		return "—"
	case math.Max(exact, ann)/math.Min(exact, ann) < switchMargin:
		return fmt.Sprintf("about equal (ANN/exact %.2f)", ann/exact)
	case exact < ann:
		return fmt.Sprintf("exact, %.1f× faster", ann/exact)
	}
	return fmt.Sprintf("ANN, %.1f× faster", exact/ann)
}

func ids(r graph.SearchResponse) []string {
	out := make([]string, len(r.Results))
	for i, h := range r.Results {
		out[i] = h.ID
	}
	return out
}

// vector64 converts a vector for the driver, as the store does.
func vector64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// measureEmbedding times the local all-MiniLM-L6-v2 embedding of one query
// per call, when the model and ONNX Runtime are present.
func (b *bench) measureEmbedding(ctx context.Context, getenv func(string) string) EmbeddingResult {
	modelDir, lib := getenv("NEOMEM_LOCAL_MODEL_DIR"), getenv("NEOMEM_ONNXRUNTIME_LIB")
	if modelDir == "" || lib == "" {
		cache := getenv("NEOMEM_CACHE")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return EmbeddingResult{Reason: "no NEOMEM_LOCAL_MODEL_DIR/NEOMEM_ONNXRUNTIME_LIB and no home directory"}
			}
			cache = filepath.Join(home, ".cache", "neomem")
		}
		dm, dl := local.DefaultPaths(cache)
		if modelDir == "" {
			modelDir = dm
		}
		if lib == "" {
			lib = dl
		}
	}
	for _, p := range []string{filepath.Join(modelDir, "model.onnx"), filepath.Join(modelDir, "tokenizer.json"), lib} {
		if _, err := os.Stat(p); err != nil {
			b.log("query embedding not measured: %s is missing (make models)", p)
			return EmbeddingResult{Reason: p + " is missing (`make models` fetches it)"}
		}
	}
	e, err := local.New(local.Config{ModelDir: modelDir, LibraryPath: lib})
	if err != nil {
		return EmbeddingResult{Reason: err.Error()}
	}
	defer e.Close()
	tok, err := local.LoadTokenizer(filepath.Join(modelDir, "tokenizer.json"), 256)
	if err != nil {
		return EmbeddingResult{Reason: err.Error()}
	}
	qs := newCorpus(b.opt.seed, "queries-"+classLarge).queries(b.opt.warmup + b.opt.queries)
	var times []time.Duration
	var tokens int
	for i, q := range qs {
		t := time.Now()
		if _, err := e.Embed(ctx, []string{q}); err != nil {
			return EmbeddingResult{Reason: "embed: " + err.Error()}
		}
		if i >= b.opt.warmup {
			times = append(times, time.Since(t))
			tokens += len(tok.Encode(q))
		}
	}
	r := EmbeddingResult{Measured: true, Model: e.Name(), LoadMS: float64(e.LoadTime) / float64(time.Millisecond),
		MeanTokens: float64(tokens) / float64(len(times)), LatencyMS: summarize(ms(times))}
	b.log("query embedding (%s): p50 %s ms, mean %.1f tokens", r.Model, num(r.LatencyMS.P50), r.MeanTokens)
	return r
}
