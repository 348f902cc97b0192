// Command server runs neomem: configuration from the environment, one Neo4j
// driver, schema bootstrap, and the HTTP API, until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	neo4jconfig "github.com/neo4j/neo4j-go-driver/v5/neo4j/config"

	"github.com/neomem/neomem/api"
	"github.com/neomem/neomem/browser"
	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/mcp"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/vector"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "neomem:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is done, then shuts down
// gracefully. Tests call it with NEOMEM_ADDR=127.0.0.1:0; the address actually
// bound is logged as "listening" with addr=... The log goes to stdout; a
// subcommand prints its result to stdout and everything else to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "keys" {
		return runKeys(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "mcp" {
		return runMCP(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	}
	// "worker" runs asynchronous adds only, without the HTTP API: the
	// scale-out role of the same binary.
	workerOnly := len(args) > 0 && args[0] == "worker"
	if workerOnly {
		args = args[1:]
	}
	fs := flag.NewFlagSet("neomem", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "", "HTTP listen address (overrides NEOMEM_ADDR)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: neomem [-addr host:port]\n       neomem worker    (asynchronous adds only, no HTTP API)\n       neomem mcp       (the MCP server on standard input and output, as NEOMEM_API_KEY)\n       neomem keys create -tenant T [-name N] [-admin] | list -tenant T | revoke -tenant T -id ID\n\nenvironment:")
		for _, v := range configVars {
			fmt.Fprintf(stdout, "  %-24s %s (default %q)\n", v.name, v.help, v.def)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	log := newLogger(stdout, cfg)
	log.Info("starting neomem", "config", cfg)
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	st, err := openStack(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	engine, store, met := st.engine, st.store, st.met
	// Background work: asynchronous adds and the purge of expired
	// idempotency keys, stopped (and waited for) at shutdown.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	background := runBackground(bg, log, engine, store, cfg, workerOnly)
	defer func() { stopBackground(); background.Wait() }()
	var handler http.Handler
	if workerOnly {
		// The worker role serves its probes and metrics only.
		log.Info("worker role: asynchronous adds only; HTTP serves /healthz, /readyz and /metrics", "workers", max(cfg.Workers, 1))
		handler = api.Probes(api.Options{Logger: log, Checker: readiness{store}, Metrics: met.handler(),
			Middleware: []echo.MiddlewareFunc{met.middleware}})
	} else {
		if cfg.AuthDisabled() {
			log.Warn("AUTHENTICATION IS DISABLED: every request acts as an admin of tenant "+cfg.DefaultTenant+
				"; never expose this server (NEOMEM_AUTH=disabled)", "tenant", cfg.DefaultTenant)
		}
		opts := api.Options{Logger: log, Checker: readiness{store}, Engine: engine, Store: store,
			Auth: store, Keys: store, AuthDisabled: cfg.AuthDisabled(), DefaultTenant: cfg.DefaultTenant,
			RequestTimeout: cfg.RequestTimeout, BodyLimit: cfg.BodyLimit, RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst,
			Metrics: met.handler(), Middleware: []echo.MiddlewareFunc{met.middleware}}
		opts.MCP = mcp.Handler(st.mcpOptions(log))
		opts.Browser = browser.Handler()
		handler = api.New(opts)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func newLogger(w io.Writer, cfg config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newDriver(cfg config) (neo4j.DriverWithContext, error) {
	auth := neo4j.NoAuth()
	if cfg.Neo4jPassword != "" {
		auth = neo4j.BasicAuth(cfg.Neo4jUsername, cfg.Neo4jPassword, "")
	}
	d, err := neo4j.NewDriverWithContext(cfg.Neo4jURI, auth, func(c *neo4jconfig.Config) {
		c.MaxConnectionPoolSize = 100
		// Fail fast while Neo4j is unreachable: a managed transaction is
		// retried for Neo4jRetryTime (the driver's default is 30s; its
		// first pause is about 2s, so the default allows one retry), a new
		// connection gets 2s to open, and getting one from the pool
		// (handshake included) 2s. The client gets a 503 with Retry-After
		// within about 4s and retries, with its Idempotency-Key.
		c.MaxTransactionRetryTime = cfg.Neo4jRetryTime
		c.SocketConnectTimeout = 2 * time.Second
		c.ConnectionAcquisitionTimeout = 2 * time.Second
	})
	if err != nil {
		return nil, fmt.Errorf("neo4j driver for %s: %w", cfg.Neo4jURI, err)
	}
	return d, nil
}

// waitForNeo4j retries until Neo4j answers, so the server can start together
// with its database. Wrong credentials fail at once: retrying cannot fix them.
func waitForNeo4j(ctx context.Context, log *slog.Logger, store *cypher.Store, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := store.Ping(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, graph.Unavailable) {
			return fmt.Errorf("neo4j: %w", err)
		}
		if attempt == 1 {
			log.Info("waiting for neo4j", "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("neo4j did not answer within %s (is it running? `make neo4j-up` starts a local one): %w", timeout, err)
		case <-time.After(time.Second):
		}
	}
}

// purgeEvery is how often expired idempotency keys are deleted.
const purgeEvery = 10 * time.Minute

// runBackground starts the job workers (NEOMEM_WORKERS of them; at least one
// in the worker role) and the purge of expired idempotency keys.
func runBackground(ctx context.Context, log *slog.Logger, engine *memory.Engine, store *cypher.Store, cfg config, workerOnly bool) *sync.WaitGroup {
	var wg sync.WaitGroup
	workers := cfg.Workers
	if workerOnly {
		workers = max(workers, 1)
	}
	if workers > 0 {
		wg.Go(func() {
			engine.RunWorkers(ctx, store, memory.WorkerConfig{Workers: workers, LeaseTTL: cfg.LeaseTTL, Tenants: cfg.workerTenants(),
				Drain: cfg.ShutdownTimeout, Logger: log})
		})
	}
	wg.Go(func() {
		t := time.NewTicker(purgeEvery)
		defer t.Stop()
		for {
			if n, err := store.PurgeExpiredKeys(ctx); err != nil && ctx.Err() == nil {
				log.Warn("purge expired idempotency keys", "err", err)
			} else if n > 0 {
				log.Info("purged expired idempotency keys", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return &wg
}

// workerTenants splits NEOMEM_WORKER_TENANTS; nil means every tenant.
func (c config) workerTenants() []string {
	var out []string
	for _, t := range strings.Split(c.WorkerTenants, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// holderName names this process in scope locks and job claims:
// host/pid/random, so an operator (or a test) can tell which process holds
// what.
func holderName() string {
	host, _ := os.Hostname()
	id := graph.NewID()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), id[len(id)-8:])
}

// stack is what the server, the worker role and the MCP command share: the
// models, one driver, the store (schema bootstrapped) and the engine.
type stack struct {
	mods   *models
	driver neo4j.DriverWithContext
	store  *cypher.Store
	engine *memory.Engine
	met    *metrics
}

// openStack loads the models, connects to Neo4j (waiting for it up to the
// start-up timeout), bootstraps the schema and builds the engine.
func openStack(ctx context.Context, cfg config, log *slog.Logger) (_ *stack, err error) {
	st := &stack{}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	loadStart := time.Now()
	mods, err := newModels(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st.mods = mods
	loaded := time.Since(loadStart)
	chatName := "none (infer=true adds need NEOMEM_LLM_PROVIDER or a provider key)"
	if mods.chat != nil {
		chatName = mods.chat.Name()
	}
	visionName := "none (images in messages are refused)"
	if mods.vision != nil {
		visionName = mods.vision.Name()
	}
	log.Info("models", "chat", chatName, "vision", visionName, "embedder", mods.embedder.Name(),
		"dimensions", mods.embedder.Dimensions(), "load_time", loaded)
	if err := mods.probe(ctx, log); err != nil {
		return nil, err
	}

	driver, err := newDriver(cfg)
	if err != nil {
		return nil, err
	}
	st.driver = driver
	// The vector indexes take the embedder's dimension; an existing index
	// with another one stops start-up in Bootstrap.
	store, err := cypher.New(driver, cypher.Config{Database: cfg.Neo4jDatabase, Dimensions: mods.embedder.Dimensions(),
		Policy: vector.Policy{ExactMax: cfg.SearchExactMax}, OnceTTL: cfg.IdempotencyTTL, TextAnalyzer: cfg.TextAnalyzer, Vector: vector.IndexConfig{
			Quantization: cfg.VectorQuantized, M: cfg.VectorHNSWM, EfConstruction: cfg.VectorHNSWEf}})
	if err != nil {
		return nil, err
	}
	if err := waitForNeo4j(ctx, log, store, cfg.StartupTimeout); err != nil {
		return nil, err
	}
	if err := store.Bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("neo4j schema: %w", err)
	}
	info, err := store.Server(ctx)
	if err != nil {
		return nil, err
	}
	log.Info("neo4j ready", "uri", cfg.Neo4jURI, "version", info.Version, "edition", info.Edition,
		"filtered_vector_search", info.FilteredVectorSearch)

	met := newMetrics()
	models := memory.Models{Embedder: countedEmbedder{mods.embedder, met}}
	if mods.chat != nil {
		models.Chat = countedChat{mods.chat, met}
	}
	if mods.vision != nil {
		models.Vision = countedChat{mods.vision, met}
	}
	st.store, st.met = store, met
	queryCache := cfg.QueryCache
	if queryCache == 0 {
		queryCache = -1 // memory.Config reads 0 as the default
	}
	st.engine, err = memory.New(timedStore{store, met}, models, memory.Config{Instructions: cfg.Instructions, LeaseTTL: cfg.LeaseTTL, QueryCache: queryCache,
		Holder: holderName(), Fusion: vector.Fusion{VectorWeight: cfg.VectorWeight, TextWeight: cfg.TextWeight,
			GraphWeight: cfg.GraphWeight, TimeWeight: cfg.TimeWeight, K: cfg.RRFK}})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Close releases the driver and the models.
func (st *stack) Close() {
	if st.driver != nil {
		st.driver.Close(context.Background())
	}
	if st.mods != nil {
		st.mods.Close()
	}
}

// mcpOptions are the MCP server's engine and store.
func (st *stack) mcpOptions(log *slog.Logger) mcp.Options {
	return mcp.Options{Engine: st.engine, Store: st.store, Version: version, Logger: log}
}

// version is neomem's version as reported to MCP clients.
const version = "0.1.0"

// runMCP is `neomem mcp`: the MCP server on stdin and stdout for an agent
// runtime that starts neomem as a subprocess. It acts as the API key in
// NEOMEM_API_KEY (or, with NEOMEM_AUTH=disabled, as an admin of
// NEOMEM_DEFAULT_TENANT); logs go to stderr, since stdout carries the
// protocol.
func runMCP(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("neomem mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	st, err := openStack(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	key := graph.APIKey{Tenant: cfg.DefaultTenant, ID: "auth-disabled", Admin: true}
	if !cfg.AuthDisabled() {
		secret := getenv("NEOMEM_API_KEY")
		if secret == "" {
			return errors.New("neomem mcp needs NEOMEM_API_KEY: an API key (neomem keys create) binds the MCP server to its tenant")
		}
		if key, err = st.store.Authenticate(ctx, secret); err != nil {
			return fmt.Errorf("NEOMEM_API_KEY: %w", err)
		}
	}
	log.Info("mcp on standard input and output", "tenant", key.Tenant, "key", key.ID)
	err = mcp.NewServer(st.mcpOptions(log), key).Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
