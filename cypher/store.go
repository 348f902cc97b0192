package cypher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// Config configures a Store.
type Config struct {
	// Database is the Neo4j database name; empty means the server default.
	Database string
	// Dimensions is the length of every embedding (memories and entity
	// names), fixed by the configured embedder. Required.
	Dimensions int
	// DeleteBatch is how many nodes one transaction of a bulk delete removes
	// (delete-all, reset). Default 1000.
	DeleteBatch int
	// Policy picks a search's vector path (exact scan, vector index,
	// filtered SEARCH) and sizes its over-fetch; zero fields take
	// vector's defaults.
	Policy vector.Policy
	// OnceTTL is how long an idempotency key and its recorded result are
	// kept (default DefaultOnceTTL).
	OnceTTL time.Duration
	// Vector tunes the HNSW vector indexes; an existing index built with
	// other settings is rebuilt by Bootstrap (it is derived data).
	Vector vector.IndexConfig
	// TextAnalyzer is the Lucene analyzer of the memory full-text index
	// (default DefaultTextAnalyzer); an index built with another one is
	// rebuilt by Bootstrap.
	TextAnalyzer string
}

// Store keeps memories, entities, relations and history in Neo4j. It is safe
// for concurrent use; each call opens its own session.
type Store struct {
	driver neo4j.DriverWithContext
	cfg    Config

	mu sync.Mutex
	// server is the connected server's version, learnt by Bootstrap or on
	// first use (serverInfo); known says it was.
	server ServerInfo
	known  bool
	// sizes are the vector indexes' sizes at sizesAt (IndexSize).
	sizes   IndexSizes
	sizesAt time.Time
}

// indexSizeTTL is how long a search on Neo4j 5.26 reuses the index sizes
// that set its exact/ANN switches: a switch moves with the size's order of
// magnitude, so a minute-old count is as good as a fresh one.
const indexSizeTTL = time.Minute

// IndexSizes are the numbers of memories and of entities in the database:
// the memory and entity vector indexes hold them all (superseded and
// deleted memories included).
type IndexSizes struct {
	Memories, Entities int64
}

// IndexSize reads the index sizes from Neo4j's count store and keeps them
// for the searches of the next indexSizeTTL.
func (s *Store) IndexSize(ctx context.Context) (IndexSizes, error) {
	recs, err := s.readRecords(ctx, `CALL () { MATCH (m:Memory) RETURN count(m) AS memories }
CALL () { MATCH (e:__Entity__) RETURN count(e) AS entities }
RETURN memories, entities`, nil)
	if err != nil {
		return IndexSizes{}, translate("index size", err)
	}
	var z IndexSizes
	if z.Memories, _, err = neo4j.GetRecordValue[int64](recs[0], "memories"); err == nil {
		z.Entities, _, err = neo4j.GetRecordValue[int64](recs[0], "entities")
	}
	if err != nil {
		return IndexSizes{}, graph.E(graph.Other, "index size", "%v", err)
	}
	s.mu.Lock()
	s.sizes, s.sizesAt = z, time.Now()
	s.mu.Unlock()
	return z, nil
}

// exactMax is a search's exact/ANN switches, for its memories and for its
// entities: fixed on 2026.01+ or when configured; on 5.26 each follows its
// index's size (read at most once per indexSizeTTL).
func (s *Store) exactMax(ctx context.Context, inIndex bool) (memories, entities int, err error) {
	if inIndex || s.cfg.Policy.ExactMax > 0 {
		n := s.cfg.Policy.ExactMaxFor(inIndex, 0)
		return n, n, nil
	}
	s.mu.Lock()
	z, at := s.sizes, s.sizesAt
	s.mu.Unlock()
	if at.IsZero() || time.Since(at) >= indexSizeTTL {
		if z, err = s.IndexSize(ctx); err != nil {
			return 0, 0, err
		}
	}
	return s.cfg.Policy.ExactMaxFor(false, z.Memories), s.cfg.Policy.ExactMaxFor(false, z.Entities), nil
}

// serverInfo returns the server's version, asking once.
func (s *Store) serverInfo(ctx context.Context) (ServerInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known {
		return s.server, nil
	}
	info, err := s.Server(ctx)
	if err != nil {
		return ServerInfo{}, err
	}
	s.server, s.known = info, true
	return info, nil
}

// New returns a Store over driver. Call Bootstrap before use.
func New(driver neo4j.DriverWithContext, cfg Config) (*Store, error) {
	if cfg.Dimensions <= 0 || cfg.Dimensions > 4096 {
		return nil, graph.E(graph.Invalid, "new store", "embedding dimension %d is out of range 1..4096", cfg.Dimensions)
	}
	if cfg.DeleteBatch <= 0 {
		cfg.DeleteBatch = 1000
	}
	if cfg.OnceTTL <= 0 {
		cfg.OnceTTL = DefaultOnceTTL
	}
	cfg.Policy = cfg.Policy.WithDefaults()
	if cfg.TextAnalyzer == "" {
		cfg.TextAnalyzer = DefaultTextAnalyzer
	}
	if !ValidAnalyzerName(cfg.TextAnalyzer) {
		return nil, graph.E(graph.Invalid, "new store", "text analyzer %q is not an analyzer name", cfg.TextAnalyzer)
	}
	var err error
	if cfg.Vector, err = cfg.Vector.WithDefaults(); err != nil {
		return nil, graph.E(graph.Invalid, "new store", "%v", err)
	}
	return &Store{driver: driver, cfg: cfg}, nil
}

// VectorIndex returns the vector index settings in effect (defaults filled in).
func (s *Store) VectorIndex() vector.IndexConfig { return s.cfg.Vector }

// Dimensions returns the embedding dimension the store was configured with.
func (s *Store) Dimensions() int { return s.cfg.Dimensions }

func (s *Store) session(ctx context.Context, mode neo4j.AccessMode) neo4j.SessionWithContext {
	// The driver's shared bookmark manager makes every session see the writes
	// of earlier ones, also on a cluster (causal consistency across replicas).
	return s.driver.NewSession(ctx, neo4j.SessionConfig{
		DatabaseName:    s.cfg.Database,
		AccessMode:      mode,
		BookmarkManager: s.driver.ExecuteQueryBookmarkManager(),
	})
}

// write runs work in one managed write transaction (retried by the driver on
// transient errors, so work must only talk to Neo4j).
func (s *Store) write(ctx context.Context, work func(tx neo4j.ManagedTransaction) (any, error)) (any, error) {
	sess := s.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(ctx)
	return sess.ExecuteWrite(ctx, work)
}

// read runs work in one managed read transaction.
func (s *Store) read(ctx context.Context, work func(tx neo4j.ManagedTransaction) (any, error)) (any, error) {
	sess := s.session(ctx, neo4j.AccessModeRead)
	defer sess.Close(ctx)
	return sess.ExecuteRead(ctx, work)
}

// readRecords runs one query in its own read transaction and returns all
// its records.
func (s *Store) readRecords(ctx context.Context, q string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := s.read(ctx, func(tx neo4j.ManagedTransaction) (any, error) { return collect(ctx, tx, q, params) })
	if err != nil {
		return nil, err
	}
	return res.([]*neo4j.Record), nil
}

// writeRecords runs one query in its own write transaction and returns all
// its records.
func (s *Store) writeRecords(ctx context.Context, q string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := s.write(ctx, func(tx neo4j.ManagedTransaction) (any, error) { return collect(ctx, tx, q, params) })
	if err != nil {
		return nil, err
	}
	return res.([]*neo4j.Record), nil
}

// collect runs a query in tx and returns all its records.
func collect(ctx context.Context, tx neo4j.ManagedTransaction, q string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := tx.Run(ctx, q, params)
	if err != nil {
		return nil, err
	}
	return res.Collect(ctx)
}

// translate maps a driver error to a graph error kind, once, here.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		if ge.Op == "" {
			ge.Op = op
		}
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return graph.Wrap(graph.Unavailable, op, err)
	case neo4j.IsConnectivityError(err), neo4j.IsTransactionExecutionLimit(err):
		return graph.Wrap(graph.Unavailable, op, err)
	}
	var ne *neo4j.Neo4jError
	if errors.As(err, &ne) {
		switch {
		case ne.Code == "Neo.ClientError.Schema.ConstraintValidationFailed":
			// The driver's text names internal node ids; the caller gets a
			// plain message.
			return &graph.Error{Kind: graph.Conflict, Op: op, Msg: "an item with the same id or key already exists"}
		case strings.HasPrefix(ne.Code, "Neo.TransientError."),
			ne.Code == "Neo.ClientError.Database.DatabaseNotFound",
			ne.Code == "Neo.ClientError.Transaction.TransactionTimedOut",
			ne.Code == "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration":
			return graph.Wrap(graph.Unavailable, op, err)
		}
	}
	// Everything else — wrong credentials included, which no retry fixes —
	// is a server-side problem the caller cannot repair.
	return graph.Wrap(graph.Other, op, fmt.Errorf("neo4j: %w", err))
}

// Diagnose says in a few words why Neo4j could not serve, for readiness
// reports: never the driver's text, which may carry addresses.
func Diagnose(err error) string {
	var ne *neo4j.Neo4jError
	var ce *neo4j.ConnectivityError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "Neo4j did not answer in time"
	case errors.As(err, &ce):
		return "cannot connect to Neo4j (is it running and reachable at NEO4J_URI?)"
	case errors.As(err, &ne) && strings.HasPrefix(ne.Code, "Neo.ClientError.Security."):
		return "Neo4j refused the credentials (NEO4J_USERNAME, NEO4J_PASSWORD)"
	case errors.As(err, &ne) && ne.Code == "Neo.ClientError.Database.DatabaseNotFound":
		return "the database NEO4J_DATABASE names does not exist"
	case errors.As(err, &ne):
		return "Neo4j answered " + ne.Code
	}
	return "Neo4j is " + graph.KindOf(err).String()
}
