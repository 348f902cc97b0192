package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/vector"
)

// metrics are the server's Prometheus metrics, in a registry of its own (so
// tests can run several servers in one process).
type metrics struct {
	reg       *prometheus.Registry
	http      *prometheus.HistogramVec
	neo4j     *prometheus.HistogramVec
	llmCalls  *prometheus.CounterVec
	llmTokens *prometheus.CounterVec
	embeds    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "neomem_http_request_duration_seconds",
			Help: "HTTP request latency by route, method and status.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)},
			[]string{"route", "method", "status"}),
		neo4j: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "neomem_neo4j_call_duration_seconds",
			Help:    "Latency of the engine's store calls (each one Cypher transaction or query) by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"op"}),
		llmCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "neomem_llm_calls_total",
			Help: "Chat model calls by model and outcome."}, []string{"model", "outcome"}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "neomem_llm_tokens_total",
			Help: "Chat model tokens by model and kind (prompt, completion)."}, []string{"model", "kind"}),
		embeds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "neomem_embedding_texts_total",
			Help: "Texts embedded by embedder."}, []string{"embedder"}),
	}
	m.reg.MustRegister(m.http, m.neo4j, m.llmCalls, m.llmTokens, m.embeds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// middleware observes every request's latency by its route template.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			// Answer the error here (the error handler writes the status),
			// so the status recorded is the one the client got.
			c.Error(err)
		}
		status := c.Response().Status
		route, method := c.Path(), c.Request().Method
		if route == "" {
			// Unmatched requests: no client-chosen text in labels.
			route = "unmatched"
		}
		if !knownMethods[method] {
			method = "OTHER"
		}
		m.http.WithLabelValues(route, method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return nil
	}
}

var knownMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "HEAD": true, "PATCH": true, "OPTIONS": true}

// countedChat counts a chat model's calls and tokens.
type countedChat struct {
	llm.ChatModel
	m *metrics
}

func (c countedChat) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	resp, err := c.ChatModel.Chat(ctx, req)
	outcome := "ok"
	if err != nil {
		outcome = graph.KindOf(err).String()
	}
	c.m.llmCalls.WithLabelValues(c.Name(), outcome).Inc()
	c.m.llmTokens.WithLabelValues(c.Name(), "prompt").Add(float64(resp.Usage.PromptTokens))
	c.m.llmTokens.WithLabelValues(c.Name(), "completion").Add(float64(resp.Usage.CompletionTokens))
	return resp, err
}

// countedEmbedder counts texts embedded.
type countedEmbedder struct {
	vector.Embedder
	m *metrics
}

func (e countedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.m.embeds.WithLabelValues(e.Name()).Add(float64(len(texts)))
	return e.Embedder.Embed(ctx, texts)
}

// timedStore observes the latency of the engine's store calls.
type timedStore struct {
	memory.Store
	m *metrics
}

func (t timedStore) observe(op string, start time.Time) {
	t.m.neo4j.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (t timedStore) CreateMemories(ctx context.Context, mems []graph.Memory, a graph.Audit) ([]graph.Memory, error) {
	defer t.observe("create_memories", time.Now())
	return t.Store.CreateMemories(ctx, mems, a)
}

func (t timedStore) Candidates(ctx context.Context, q graph.CandidateQuery) (graph.Candidates, error) {
	defer t.observe("candidates", time.Now())
	return t.Store.Candidates(ctx, q)
}

func (t timedStore) AcquireLease(ctx context.Context, s graph.Scope, holder string, ttl, wait time.Duration) (graph.Lease, error) {
	defer t.observe("acquire_lease", time.Now())
	return t.Store.AcquireLease(ctx, s, holder, ttl, wait)
}

func (t timedStore) Apply(ctx context.Context, p graph.Plan, l graph.Lease) error {
	defer t.observe("apply", time.Now())
	return t.Store.Apply(ctx, p, l)
}

func (t timedStore) Search(ctx context.Context, q graph.SearchRequest) (graph.SearchResponse, error) {
	defer t.observe("search", time.Now())
	return t.Store.Search(ctx, q)
}
