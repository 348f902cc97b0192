// Package api is neomem's HTTP surface: echo handlers, wire types, and the
// one table that maps error kinds to HTTP status codes. It declares the small
// interfaces it calls and knows nothing of Neo4j or models.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neomem/neomem/graph"
)

// Readiness is what /readyz reports about the store.
type Readiness struct {
	// Reachable is false when the store did not answer; Err says why.
	Reachable bool
	Err       error
	Version   string
	Edition   string
	// FilteredVectorSearch: the server filters inside vector indexes.
	FilteredVectorSearch bool
	Indexes              []IndexStatus
}

// IndexStatus is the state of one index.
type IndexStatus struct {
	Name       string  `json:"name"`
	State      string  `json:"state"`
	Population float64 `json:"population_percent"`
}

// Checker reports whether the store can serve. Safe for concurrent use.
type Checker interface {
	Check(ctx context.Context) Readiness
}

// Options configures the HTTP handler.
type Options struct {
	Logger  *slog.Logger
	Checker Checker
	// ReadyTimeout bounds one readiness check (default 3s).
	ReadyTimeout time.Duration
}

// New returns the HTTP handler with every route registered.
func New(opt Options) *echo.Echo {
	if opt.ReadyTimeout <= 0 {
		opt.ReadyTimeout = 3 * time.Second
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(opt.Logger)
	e.Use(middleware.RequestID())
	e.Use(middleware.Recover())
	e.Use(accessLog(opt.Logger))

	h := &handlers{opt: opt}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	return e
}

type handlers struct {
	opt Options
}

// healthz is liveness: the process serves HTTP. It never touches Neo4j, so
// an orchestrator does not restart a healthy server during a database outage.
func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

type readyBody struct {
	Status string        `json:"status"`
	Neo4j  neo4jBody     `json:"neo4j"`
	Index  []IndexStatus `json:"indexes"`
	Error  string        `json:"error,omitempty"`
}

type neo4jBody struct {
	Reachable            bool   `json:"reachable"`
	Version              string `json:"version,omitempty"`
	Edition              string `json:"edition,omitempty"`
	FilteredVectorSearch bool   `json:"filtered_vector_search"`
}

// readyz is readiness: Neo4j answers and every index neomem needs is online.
func (h *handlers) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.opt.ReadyTimeout)
	defer cancel()
	r := h.opt.Checker.Check(ctx)
	body := readyBody{
		Status: "ready",
		Neo4j:  neo4jBody{Reachable: r.Reachable, Version: r.Version, Edition: r.Edition, FilteredVectorSearch: r.FilteredVectorSearch},
		Index:  r.Indexes,
	}
	if body.Index == nil {
		body.Index = []IndexStatus{}
	}
	ok := r.Reachable && r.Err == nil
	for _, ix := range r.Indexes {
		if ix.State != "ONLINE" {
			ok = false
		}
	}
	if !ok {
		body.Status = "not ready"
		if r.Err != nil {
			// The kind, not the driver's text: it may carry addresses.
			body.Error = "neo4j " + graph.KindOf(r.Err).String()
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

// problem is an RFC 9457 problem details body.
type problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []graph.FieldError `json:"errors,omitempty"`
}

// statusOf is the one table from error kinds to HTTP status codes.
var statusOf = map[graph.Kind]int{
	graph.NotFound:    http.StatusNotFound,
	graph.Conflict:    http.StatusConflict,
	graph.Invalid:     http.StatusBadRequest,
	graph.Unavailable: http.StatusServiceUnavailable,
	graph.Other:       http.StatusInternalServerError,
}

func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problem{Type: "about:blank", RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			p.Status = he.Code
			if msg, ok := he.Message.(string); ok {
				p.Detail = msg
			}
		default:
			k := graph.KindOf(err)
			p.Status = statusOf[k]
			p.Errors = graph.FieldsOf(err)
			if k == graph.Other {
				// A 500 never carries internals; the log has them.
				log.Error("internal error", "err", err, "request_id", p.RequestID)
			} else {
				p.Detail = err.Error()
			}
		}
		p.Title = http.StatusText(p.Status)
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(p.Status)
		if c.Request().Method != http.MethodHead {
			_ = c.Echo().JSONSerializer.Serialize(c, p, "")
		}
	}
}
