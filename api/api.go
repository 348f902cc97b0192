// Package api is neomem's HTTP surface: echo handlers implementing the
// interface generated from openapi.yaml (the source of truth for routes and
// wire types), conversions between wire types and graph types, API-key
// authentication bound to tenants, and the one table that maps error kinds
// to HTTP status codes. It declares the small interfaces it calls and knows
// nothing of Neo4j or models.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neomem/neomem/graph"
)

// ReadyReport is what the store says about its readiness.
type ReadyReport struct {
	// Reachable is false when the store did not answer; Err says why, and
	// Reason in words an operator can act on.
	Reachable            bool
	Err                  error
	Reason               string
	Version              string
	Edition              string
	FilteredVectorSearch bool
	Indexes              []IndexStatus
}

// IndexStatus is the state of one index.
type IndexStatus struct {
	Name       string
	State      string
	Population float64
}

// Checker reports whether the store can serve. Safe for concurrent use.
type Checker interface {
	Check(ctx context.Context) ReadyReport
}

// Engine runs adds, searches and text updates (which need the models).
type Engine interface {
	Add(ctx context.Context, req graph.AddRequest) (graph.AddResult, error)
	// Enqueue checks an add and stores it as a job for the workers.
	Enqueue(ctx context.Context, req graph.AddRequest) (graph.Job, error)
	Search(ctx context.Context, req graph.SearchRequest) (graph.SearchResponse, error)
	Update(ctx context.Context, scope graph.Scope, id string, patch graph.MemoryPatch, audit graph.Audit) (graph.Memory, error)
	UpdateMany(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) ([]graph.Memory, error)
	AddRelations(ctx context.Context, scope graph.Scope, triples []graph.Triple, audit graph.Audit) (graph.AddResult, error)
}

// Store is the system of record's reads and deletes. Methods return graph
// error kinds and are safe for concurrent use.
type Store interface {
	GetMemory(ctx context.Context, scope graph.Scope, id string) (graph.Memory, error)
	ListMemories(ctx context.Context, scope graph.Scope, q graph.ListQuery) (graph.Page[graph.Memory], error)
	DeleteMemory(ctx context.Context, scope graph.Scope, id string, ifVersion int64, audit graph.Audit) error
	DeleteMemories(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) error
	DeleteAll(ctx context.Context, scope graph.Scope, opt graph.DeleteOptions, audit graph.Audit) (int, error)
	Reset(ctx context.Context, tenant string, audit graph.Audit) (int, error)
	History(ctx context.Context, scope graph.Scope, id string) ([]graph.Event, error)
	Entities(ctx context.Context, scope graph.Scope, limit int) ([]graph.Entity, error)
	GetEntity(ctx context.Context, scope graph.Scope, id string) (graph.Entity, error)
	DeleteEntity(ctx context.Context, scope graph.Scope, id string, audit graph.Audit) (int, error)
	Relations(ctx context.Context, scope graph.Scope, q graph.RelationQuery) ([]graph.Relation, error)
	CountMemories(ctx context.Context, scope graph.Scope, filter graph.Filter) (int, error)
	Scopes(ctx context.Context, tenant string, limit int) ([]graph.ScopeSummary, error)
	Graph(ctx context.Context, scope graph.Scope, limit int) (graph.Subgraph, error)
	Export(ctx context.Context, scope graph.Scope, emit func(graph.ExportItem) error) error
	Import(ctx context.Context, tenant string, items []graph.ExportItem, audit graph.Audit) (graph.Imported, error)
	// Recall returns what was recorded for an idempotency key of tenant
	// (ok false: unknown or expired).
	Recall(ctx context.Context, tenant, key string) (rec graph.Recorded, ok bool, err error)
	// GetJob returns an asynchronous add of tenant.
	GetJob(ctx context.Context, tenant, id string) (graph.Job, error)
}

// Keys creates API keys (for the admin route): the secret text, shown once,
// and the stored key. Errors: Invalid, Unavailable.
type Keys interface {
	CreateAPIKey(ctx context.Context, tenant, name string, admin bool) (secret string, key graph.APIKey, err error)
}

// Authenticator finds the key a request acts as. Errors: NotFound for an
// unknown or revoked key, Unavailable.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (graph.APIKey, error)
}

// Options configures the HTTP handler.
type Options struct {
	Logger  *slog.Logger
	Checker Checker
	Engine  Engine
	Store   Store
	Auth    Authenticator
	Keys    Keys
	// Metrics serves /metrics (Prometheus); Middleware runs around every
	// request (e.g. latency histograms), both supplied by the server.
	Metrics    http.Handler
	Middleware []echo.MiddlewareFunc
	// RateLimit is the requests per second allowed per API key (0: no
	// limit), with bursts of RateBurst.
	RateLimit float64
	RateBurst int
	// AuthDisabled serves every request as an admin of DefaultTenant,
	// without a key — only when explicitly configured (and logged loudly).
	AuthDisabled  bool
	DefaultTenant string
	// ReadyTimeout bounds one readiness check (default 3s); RequestTimeout
	// bounds every other request, Neo4j and model calls included (default
	// 120s); BodyLimit bounds request bodies (default "2M").
	ReadyTimeout   time.Duration
	RequestTimeout time.Duration
	BodyLimit      string
	// MCP, when set, serves the Model Context Protocol at /mcp, behind the
	// same API-key authentication; the request's context carries the key
	// (graph.KeyFromContext).
	MCP http.Handler
	// Browser, when set, serves Neo4j Browser's style and guide under
	// /browser/: public (they hold no data) and readable from any origin,
	// as Neo4j Browser fetches them cross-origin.
	Browser http.Handler
}

// New returns the HTTP handler with every route registered.
func New(opt Options) *echo.Echo {
	opt = opt.withDefaults()
	e := newEcho(opt)
	e.Use(accessLog(opt.Logger))
	e.Use(middleware.BodyLimit(opt.BodyLimit))
	e.Use(opt.Middleware...)
	e.Use(requestTimeout(opt.RequestTimeout))
	e.Use(authenticate(opt))
	if opt.RateLimit > 0 {
		e.Use(rateLimit(opt.RateLimit, opt.RateBurst))
	}
	validator, err := validateRequests()
	if err != nil {
		// The document is embedded and checked by tests: this is a bug.
		panic(err)
	}
	e.Use(validator)

	s := &server{opt: opt}
	RegisterHandlers(e, s)
	e.GET("/openapi.json", serveSpec)
	docs(e)
	if opt.MCP != nil {
		e.Any("/mcp", echo.WrapHandler(opt.MCP))
	}
	if opt.Browser != nil {
		e.Any("/browser/*", echo.WrapHandler(http.StripPrefix("/browser", opt.Browser)))
	}
	return e
}

// Probes returns the HTTP handler of a process without the API (the worker
// role): /healthz, /readyz and /metrics only, from opt's Checker and Metrics.
func Probes(opt Options) *echo.Echo {
	opt = opt.withDefaults()
	e := newEcho(opt)
	e.Use(opt.Middleware...)
	s := &server{opt: opt}
	e.GET("/healthz", s.Healthz)
	e.GET("/readyz", s.Readyz)
	e.GET("/metrics", s.Metrics)
	return e
}

// withDefaults fills the options left zero.
func (opt Options) withDefaults() Options {
	if opt.ReadyTimeout <= 0 {
		opt.ReadyTimeout = 3 * time.Second
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 120 * time.Second
	}
	if opt.BodyLimit == "" {
		opt.BodyLimit = "2M"
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return opt
}

// newEcho is what every handler of neomem starts from: quiet, problem+json
// errors, a request id, panics recovered.
func newEcho(opt Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(opt.Logger)
	e.Use(middleware.RequestID())
	e.Use(middleware.Recover())
	return e
}

// server implements the generated ServerInterface.
type server struct {
	opt Options
}

// publicPaths need no API key.
var publicPaths = map[string]bool{"/healthz": true, "/readyz": true, "/openapi.json": true, "/metrics": true}

func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func serveSpec(c echo.Context) error {
	spec, err := GetSwagger()
	if err != nil {
		return err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

// Healthz is liveness: the process serves HTTP. It never touches Neo4j, so
// an orchestrator does not restart a healthy server during a database outage.
func (s *server) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, Status{Status: "ok"})
}

// Readyz is readiness: Neo4j answers and every index neomem needs is online.
func (s *server) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opt.ReadyTimeout)
	defer cancel()
	r := s.opt.Checker.Check(ctx)
	body := Readiness{Status: "ready", Indexes: []struct {
		Name              string  `json:"name"`
		PopulationPercent float64 `json:"population_percent"`
		State             string  `json:"state"`
	}{}}
	body.Neo4j.Reachable, body.Neo4j.FilteredVectorSearch = r.Reachable, r.FilteredVectorSearch
	body.Neo4j.Version, body.Neo4j.Edition = optional(r.Version), optional(r.Edition)
	ok := r.Reachable && r.Err == nil
	for _, ix := range r.Indexes {
		body.Indexes = append(body.Indexes, struct {
			Name              string  `json:"name"`
			PopulationPercent float64 `json:"population_percent"`
			State             string  `json:"state"`
		}{ix.Name, ix.Population, ix.State})
		if ix.State != "ONLINE" {
			ok = false
		}
	}
	if !ok {
		body.Status = "not ready"
		switch {
		case r.Err != nil && r.Reason != "":
			// Not the driver's text: it may carry addresses.
			body.Error = optional(r.Reason)
		case r.Err != nil:
			body.Error = optional("neo4j " + graph.KindOf(r.Err).String())
		default:
			for _, ix := range r.Indexes {
				if ix.State != "ONLINE" {
					body.Error = optional(fmt.Sprintf("index %s is %s (%.0f%%)", ix.Name, ix.State, ix.Population))
					break
				}
			}
		}
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}

func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req := c.Request()
			log.LogAttrs(req.Context(), slog.LevelDebug, "request",
				slog.String("method", req.Method),
				slog.String("path", c.Path()),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)))
			return nil
		}
	}
}

// statusOf is the one table from error kinds to HTTP status codes.
var statusOf = map[graph.Kind]int{
	graph.NotFound:    http.StatusNotFound,
	graph.Conflict:    http.StatusConflict,
	graph.Invalid:     http.StatusBadRequest,
	graph.Unavailable: http.StatusServiceUnavailable,
	graph.Stale:       http.StatusPreconditionFailed,
	graph.Other:       http.StatusInternalServerError,
}

func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := Problem{Type: "about:blank", RequestId: optional(c.Response().Header().Get(echo.HeaderXRequestID))}
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			p.Status = he.Code
			if msg, ok := he.Message.(string); ok {
				p.Detail = optional(msg)
			}
		default:
			k := graph.KindOf(err)
			p.Status = statusOf[k]
			if fields := graph.FieldsOf(err); len(fields) > 0 {
				fe := make([]FieldError, len(fields))
				for i, f := range fields {
					fe[i] = FieldError{Path: f.Path, Message: f.Message}
				}
				p.Errors = &fe
			}
			if k == graph.Other {
				// A 500 never carries internals; the log has them.
				log.Error("internal error", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			} else {
				p.Detail = optional(err.Error())
			}
		}
		p.Title = http.StatusText(p.Status)
		if p.Status == http.StatusServiceUnavailable {
			// The provider's own wait when it gave one (rounded up to whole
			// seconds), else 5 s.
			wait := 5
			if d := graph.RetryAfterOf(err); d > 0 {
				wait = int((d + time.Second - 1) / time.Second)
			}
			c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
		}
		ct := "application/problem+json"
		if path := c.Request().URL.Path; strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v3/") {
			// Mem0's client takes the message from "detail" only when the
			// content type starts with application/json.
			ct = echo.MIMEApplicationJSON
		}
		c.Response().Header().Set(echo.HeaderContentType, ct)
		c.Response().WriteHeader(p.Status)
		if c.Request().Method != http.MethodHead {
			_ = json.NewEncoder(c.Response()).Encode(p)
		}
	}
}

func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
