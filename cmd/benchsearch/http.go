package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neomem/neomem/cmd/internal/launch"
	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/llm/llmtest"
)

// The HTTP benchmark: `benchsearch http`.

// writeShare is the percentage of adds in the mixed load.
const writeShare = 10

// Mixes.
const (
	mixSearch = "search"
	mixMixed  = "90/10"
)

// httpOptions are the flags of `benchsearch http`.
type httpOptions struct {
	memories   int
	clients    []int
	duration   time.Duration
	warmup     time.Duration
	profile    time.Duration
	probe      int
	server     string
	fakellm    string
	jsonPath   string
	mdPath     string
	profileDir string
	prefix     string
	seed       uint64
	batch      int
	reuse      bool
	settle     time.Duration
	command    string
	timeout    time.Duration
}

var validPrefix = regexp.MustCompile(`^` + httpPrefix + `[a-z0-9-]*$`)

func parseHTTPFlags(args []string, out io.Writer) (httpOptions, error) {
	fs := flag.NewFlagSet("benchsearch http", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: benchsearch http [flags]: the HTTP server under concurrent clients (make bench-http)")
		fs.PrintDefaults()
	}
	o := httpOptions{}
	clients := fs.String("clients", "1,4,16", "comma-separated numbers of concurrent clients")
	fs.IntVar(&o.memories, "memories", 100000, "memories stored (100000: 1 × 50,000, 10 × 3,000, 1,000 × 20, the search benchmark's 100k layout; other sizes scale that)")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "timed window of each phase")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "untimed load before each phase's window")
	fs.DurationVar(&o.profile, "profile", 20*time.Second, "CPU profile of the server in the search phase with the most clients (0: none; at most -duration)")
	fs.IntVar(&o.probe, "breakdown", 200, "rounds of the one-request-at-a-time breakdown of a search (0: none)")
	fs.StringVar(&o.server, "server", "bin/neomem", "the server binary (go build -o bin/neomem ./cmd/server)")
	fs.StringVar(&o.fakellm, "fakellm", "bin/fakellm", "the embedder binary (go build -o bin/fakellm ./cmd/fakellm)")
	fs.StringVar(&o.jsonPath, "json", "docs/benchmarks-http.json", "where to write the JSON report")
	fs.StringVar(&o.mdPath, "md", "docs/benchmarks.md", "markdown file whose bench-http section is rewritten (empty: none)")
	fs.StringVar(&o.profileDir, "profile-dir", "", "directory that keeps the server's CPU profile (empty: the profile is only summarised in the reports)")
	fs.StringVar(&o.prefix, "prefix", httpPrefix, "tenant id prefix: every tenant under it is deleted and rewritten (starts with "+httpPrefix+")")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic texts and of the clients' choices")
	fs.IntVar(&o.batch, "batch", 2000, "memories per CreateMemories call while loading")
	fs.BoolVar(&o.reuse, "reuse", false, "keep the memories of an earlier run when the database holds exactly this layout and seed")
	fs.DurationVar(&o.settle, "settle", settleQuiet, "after a load, wait until the index files have not changed for this long (local Neo4j home only; 0: no wait)")
	fs.StringVar(&o.command, "command", "", "how the run was started, for the report (default: this command line)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Hour, "stop the whole run after this long")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return o, fmt.Errorf("-clients: %q is not a number from 1 to 256", f)
		}
		o.clients = append(o.clients, n)
	}
	if _, err := scaledLayout(o.memories); err != nil {
		return o, err
	}
	switch {
	case o.duration < time.Second:
		return o, errors.New("-duration must be at least 1s")
	case o.warmup < 0 || o.profile < 0 || o.settle < 0:
		return o, errors.New("-warmup, -profile and -settle must not be negative")
	case o.probe < 0:
		return o, errors.New("-breakdown must not be negative")
	case o.batch < 1 || o.batch > 10000:
		return o, errors.New("-batch must be between 1 and 10000")
	case !validPrefix.MatchString(o.prefix):
		return o, fmt.Errorf("-prefix %q must start with %s and hold only a-z, 0-9 and -", o.prefix, httpPrefix)
	}
	if o.profile > o.duration {
		o.profile = o.duration
	}
	if o.command == "" {
		o.command = "go run ./cmd/benchsearch http " + strings.Join(args, " ")
	}
	return o, nil
}

// httpBench is one HTTP run's state.
type httpBench struct {
	opt     httpOptions
	log     func(string, ...any)
	neo     *neo
	conn    neo4jConn
	store   *cypher.Store
	emb     *llmtest.HashEmbedder
	hc      *http.Client
	api     string // the server's base URL
	embed   string // the embedder's base URL (…/v1)
	pprof   string // the server's pprof listener, "" when off
	server  *launch.Proc
	fake    *launch.Proc
	neo4j   int    // Neo4j's PID, 0 when not found
	dir     string // the processes' logs; a profile that is not kept
	byClass map[string][]tenant
	keys    map[string]string // tenant → API key
	report  *HTTPReport
	// indexDir is the Neo4j database's index directory when its home is
	// local (NEO4J_RUNTIME_HOME), else "".
	indexDir string
}

func runHTTP(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (err error) {
	opt, err := parseHTTPFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.timeout)
	defer cancel()
	start := time.Now()
	logf := logger(stderr, "benchsearch http")

	driver, conn, err := connect(ctx, getenv, "bolt://localhost:7699")
	if err != nil {
		return err
	}
	defer driver.Close(context.Background())

	dir, err := os.MkdirTemp("", "benchhttp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			logf("kept the processes' logs in %s", dir)
			return
		}
		os.RemoveAll(dir)
	}()

	b := &httpBench{opt: opt, log: logf, neo: &neo{driver: driver, database: conn.Database}, conn: conn,
		emb: llmtest.NewHashEmbedder(dimensions), dir: dir, keys: map[string]string{}, byClass: map[string][]tenant{},
		indexDir: localIndexDir(getenv, conn.Database)}
	b.hc = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}
	defer b.hc.CloseIdleConnections()
	serverEnv, err := b.startProcesses(ctx)
	defer b.stopProcesses()
	if err != nil {
		return err
	}
	// The server bootstrapped the schema with its own settings; this store
	// only writes memories (no Bootstrap here, so it can never rebuild an
	// index the server built differently).
	if b.store, err = cypher.New(driver, cypher.Config{Database: conn.Database, Dimensions: dimensions}); err != nil {
		return err
	}
	info, err := b.store.Server(ctx)
	if err != nil {
		return err
	}
	if u, perr := url.Parse(conn.URI); perr == nil {
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = 7687
		}
		// Only a JVM counts: a container's port proxy would listen there too.
		if pid := listenerPID(port); isJava(pid) {
			b.neo4j = pid
		}
	}
	logf("Neo4j %s %s at %s (pid %d); server %s (pid %d); embedder %s", info.Version, info.Edition, conn.URI, b.neo4j,
		b.api, b.server.PID(), b.embed)

	b.report = &HTTPReport{
		Run: newRun(ctx, start, opt.command, append([]string{"benchsearch", "http"}, args...), info, conn.URI, getenv),
		Settings: HTTPSettings{
			Memories: opt.memories, Clients: opt.clients, Mixes: []string{mixSearch, mixMixed},
			WarmupSeconds: opt.warmup.Seconds(), Seconds: opt.duration.Seconds(), WriteShare: writeShare, TopK: topK,
			Seed: opt.seed, TenantPrefix: opt.prefix, ProfileSeconds: opt.profile.Seconds(), BreakdownRounds: opt.probe,
			Embedder:     fmt.Sprintf("`bin/fakellm -embedder hash` over HTTP (llmtest.HashEmbedder, %d dimensions; the stored vectors are the same function's)", dimensions),
			TenantChoice: "each request picks a class with odds 1/3 each (large, medium, small), then one of the class's tenants at random",
		},
	}
	b.report.Machine.Neo4jPID, b.report.Machine.ServerPID, b.report.Machine.ServerEnv = b.neo4j, b.server.PID(), serverEnv
	if b.neo4j == 0 {
		b.report.Notes = append(b.report.Notes, "Neo4j's process was not found (another user's, or in a container): its CPU is not reported.")
	}

	if b.report.Data, err = b.prepare(ctx); err != nil {
		return err
	}
	if err := b.check(ctx); err != nil {
		return err
	}
	if opt.probe > 0 {
		bd, err := b.breakdown(ctx)
		if err != nil {
			return fmt.Errorf("breakdown: %w", err)
		}
		b.report.Breakdown = &bd
	}
	if rss, err := rssBytes(b.server.PID()); err == nil {
		b.report.IdleRSSMiB = mib(rss)
	}
	write := func() error {
		return writeOutputs(b.report, opt.jsonPath, opt.mdPath, httpSection, httpMarkdown(b.report, opt.jsonPath, opt.mdPath))
	}
	maxClients := slices.Max(opt.clients)
	for _, mix := range []string{mixSearch, mixMixed} {
		for _, n := range opt.clients {
			profile := mix == mixSearch && n == maxClients && opt.profile > 0 && b.pprof != ""
			p, err := b.phase(ctx, mix, n, profile)
			if err != nil {
				return fmt.Errorf("%s, %d clients: %w", mixName(mix), n, err)
			}
			b.report.Phases = append(b.report.Phases, p)
			b.report.Errors += p.Errors
			b.report.Machine.LoadAvgEnd = loadavg()
			b.report.TotalSeconds = time.Since(start).Seconds()
			// Written after every phase, so a later failure keeps what was
			// measured.
			if err := write(); err != nil {
				return err
			}
		}
	}
	b.report.Machine.LoadAvgEnd = loadavg()
	b.report.TotalSeconds = time.Since(start).Seconds()
	if b.report.Errors > 0 {
		b.report.Notes = append(b.report.Notes, fmt.Sprintf("%d requests failed: see error_samples in the JSON report.", b.report.Errors))
	}
	if err := write(); err != nil {
		return err
	}
	logf("done in %s; wrote %s and %s", time.Since(start).Round(time.Second), opt.jsonPath, opt.mdPath)
	if b.report.Errors > 0 {
		return fmt.Errorf("%d requests failed (the report has samples)", b.report.Errors)
	}
	return nil
}

// serverPprof is the server's line for its pprof listener (text log
// format), printed before its ready line.
var serverPprof = regexp.MustCompile(`msg="pprof listening" addr=(\S+)`)

// startProcesses starts the embedder and the server (with pprof on a
// loopback port of its own when a profile is asked for) and returns the
// server's settings, as the report lists them (no secrets).
func (b *httpBench) startProcesses(ctx context.Context) ([]string, error) {
	fake, addr, err := launch.Start(ctx, "fakellm", b.opt.fakellm, []string{"-addr", "127.0.0.1:0", "-embedder", "hash", "-dims", strconv.Itoa(dimensions)},
		childEnv(nil), b.dir, launch.FakeLLMReady, time.Minute)
	if err != nil {
		return nil, buildHint(err)
	}
	b.fake, b.embed = fake, "http://"+addr+"/v1"
	settings := []string{
		"NEOMEM_ADDR=127.0.0.1:0", "NEOMEM_RATE_LIMIT=0", "NEOMEM_WORKERS=0", "NEOMEM_LOG_FORMAT=text",
		"NEOMEM_EMBEDDER=openai-compatible", "NEOMEM_EMBEDDING_MODEL=fake", "NEOMEM_EMBEDDING_DIMS=" + strconv.Itoa(dimensions),
		"NEOMEM_LLM_PROVIDER=none",
	}
	if b.opt.profile > 0 {
		settings = append(settings, "NEOMEM_PPROF_ADDR=127.0.0.1:0")
	}
	vars := b.conn.vars()
	vars["NEOMEM_EMBEDDING_BASE_URL"] = b.embed
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	srv, addr, err := launch.Start(ctx, "neomem", b.opt.server, nil, childEnv(vars), b.dir, launch.ServerReady, 3*time.Minute)
	if err != nil {
		return nil, buildHint(err)
	}
	b.server, b.api = srv, "http://"+addr
	if a := srv.Match(serverPprof); a != "" {
		b.pprof = "http://" + a
	} else if b.opt.profile > 0 {
		b.log("the server announced no pprof listener (NEOMEM_PPROF_ADDR): no profile")
	}
	return settings, nil
}

// buildHint says how to get a binary that is missing.
func buildHint(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (make bench-http builds it)", err)
	}
	return err
}

// stopProcesses stops the server, then the embedder, by PID.
func (b *httpBench) stopProcesses() {
	if b.server != nil {
		b.server.Stop()
	}
	if b.fake != nil {
		b.fake.Stop()
	}
}

// childEnv is this process's environment without NEO4J_* and NEOMEM_*
// settings (the benchmark sets the ones its children get), plus vars.
func childEnv(vars map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NEO4J_") || strings.HasPrefix(kv, "NEOMEM_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

// prepare makes the database hold the layout: it deletes what earlier runs
// added and their keys, loads the memories unless -reuse finds them, waits
// for the indexes and creates one admin key per tenant.
func (b *httpBench) prepare(ctx context.Context) (HTTPData, error) {
	groups, err := scaledLayout(b.opt.memories)
	if err != nil {
		return HTTPData{}, err
	}
	ts := tenants(b.opt.prefix, groups)
	for _, t := range ts {
		b.byClass[t.Class] = append(b.byClass[t.Class], t)
	}
	d := HTTPData{Layout: groups, Tenants: len(ts), Memories: layoutTotal(groups),
		Method: fmt.Sprintf("straight into Neo4j with cypher.Store.CreateMemories (what an infer=false add runs after embedding), batches of %s, one writer", thousands(b.opt.batch))}
	if n, err := b.neo.deleteWrites(ctx, b.opt.prefix, defaultDeleteBatch, b.log); err != nil {
		return d, err
	} else if n > 0 {
		b.log("deleted %d nodes an earlier run's adds left", n)
	}
	if _, err := b.neo.deleteTenants(ctx, b.opt.prefix, []string{"ApiKey"}, defaultDeleteBatch, b.log); err != nil {
		return d, err
	}
	l := loader{store: b.store, embedder: b.emb, batch: b.opt.batch, timeout: 10 * time.Minute, actor: "benchhttp", role: "user", log: b.log}
	c := func() *corpus {
		return newCorpus(b.opt.seed, fmt.Sprintf("%smemories-%d", b.opt.prefix, b.opt.memories))
	}
	if b.opt.reuse {
		dry, err := l.load(ctx, c(), ts, false, nil)
		if err != nil {
			return d, err
		}
		if d.Reused, err = b.neo.holdsLayout(ctx, b.opt.prefix, ts, dry.FirstID, dry.LastID, b.log); err != nil {
			return d, err
		}
	}
	fresh := !d.Reused
	if fresh {
		t := time.Now()
		if d.DeletedNodes, err = b.neo.deleteTenants(ctx, b.opt.prefix, tenantLabels, defaultDeleteBatch, b.log); err != nil {
			return d, err
		}
		d.DeleteSeconds = time.Since(t).Seconds()
		b.log("deleted %s nodes of earlier runs under %s in %.1f s; loading %s memories in %s tenants",
			thousands(d.DeletedNodes), b.opt.prefix, d.DeleteSeconds, thousands(d.Memories), thousands(len(ts)))
		in, err := l.load(ctx, c(), ts, true, nil)
		if err != nil {
			return d, err
		}
		d.Seconds, d.PerSecond = in.Seconds, in.PerSecond
	}
	t := time.Now()
	if err := b.neo.awaitIndexes(ctx, 30*time.Minute); err != nil {
		return d, fmt.Errorf("wait for indexes: %w", err)
	}
	d.IndexWaitSecs = time.Since(t).Seconds()
	if fresh && b.opt.settle > 0 && b.indexDir != "" {
		t = time.Now()
		if err := settle(ctx, b.indexDir, b.opt.settle, b.log); err != nil {
			return d, err
		}
		d.SettleSecs = time.Since(t).Seconds()
	}
	n, tn, err := b.neo.countLoaded(ctx, b.opt.prefix)
	if err != nil {
		return d, err
	}
	if n != d.Memories || tn != len(ts) {
		return d, fmt.Errorf("found %d memories in %d tenants under %s after the load, want %d in %d", n, tn, b.opt.prefix, d.Memories, len(ts))
	}
	sizes, err := b.store.IndexSize(ctx)
	if err != nil {
		return d, err
	}
	d.IndexTotal = int(sizes.Memories)
	if d.Reused {
		b.log("reused %s memories of an earlier run; %s memories in the index", thousands(d.Memories), thousands(d.IndexTotal))
	} else {
		b.log("loaded %s memories in %.1f s (%.0f/s); %s memories in the index", thousands(d.Memories), d.Seconds, d.PerSecond, thousands(d.IndexTotal))
	}
	t = time.Now()
	if err := b.createKeys(ctx, ts); err != nil {
		return d, err
	}
	d.Keys, d.KeysSeconds = len(b.keys), time.Since(t).Seconds()
	b.log("created %d API keys (bin/neomem keys create) in %.1f s", d.Keys, d.KeysSeconds)
	return d, nil
}

// keyWorkers is how many `neomem keys create` run at once.
const keyWorkers = 4

// createKeys makes one admin key per tenant with `bin/neomem keys create`
// (the secret is printed once; Neo4j keeps only its hash, so every run
// makes new ones).
func (b *httpBench) createKeys(ctx context.Context, ts []tenant) error {
	env := childEnv(b.conn.vars())
	work := make(chan tenant)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range keyWorkers {
		wg.Go(func() {
			for t := range work {
				id := t.Scope.Tenant
				var stderr strings.Builder
				cmd := exec.CommandContext(ctx, b.opt.server, "keys", "create", "-tenant", id, "-name", "bench", "-admin")
				cmd.Env, cmd.Stderr = env, &stderr
				out, err := cmd.Output()
				key := strings.TrimSpace(string(out))
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = fmt.Errorf("keys create -tenant %s: %w: %s", id, err, strings.TrimSpace(stderr.String()))
				case err == nil && !strings.HasPrefix(key, "nm_") && firstErr == nil:
					firstErr = fmt.Errorf("keys create -tenant %s printed no key", id)
				case err == nil:
					b.keys[id] = key
				}
				mu.Unlock()
			}
		})
	}
	for _, t := range ts {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		work <- t
	}
	close(work)
	wg.Wait()
	return firstErr
}
