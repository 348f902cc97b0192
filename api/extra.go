package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
	swaggerFiles "github.com/swaggo/files/v2"

	"github.com/neomem/neomem/graph"
)

// AddRelations writes structured triples without an LLM.
func (s *server) AddRelations(c echo.Context) error {
	return idempotent(s, c, func(a graph.Audit) (graph.AddResult, error) { return s.addRelations(c, a) },
		func(res graph.AddResult) error { return c.JSON(http.StatusOK, addResponse(res)) })
}

func (s *server) addRelations(c echo.Context, a graph.Audit) (graph.AddResult, error) {
	var req AddRelationsRequest
	if err := bind(c, &req); err != nil {
		return graph.AddResult{}, err
	}
	triples := make([]graph.Triple, 0, len(req.Relations))
	for _, t := range req.Relations {
		triples = append(triples, graph.Triple{Source: t.Source, SourceType: str(t.SourceType), Relationship: t.Relationship,
			Target: t.Target, TargetType: str(t.TargetType)})
	}
	return s.opt.Engine.AddRelations(c.Request().Context(), scopeOf(c, req.UserId, req.AgentId, req.RunId), triples, a)
}

// GetGraph returns a scope's subgraph as nodes and edges.
func (s *server) GetGraph(c echo.Context, p GetGraphParams) error {
	limit := 0
	if p.Limit != nil {
		limit = *p.Limit
	}
	g, err := s.opt.Store.Graph(c.Request().Context(), scopeOf(c, p.UserId, p.AgentId, p.RunId), limit)
	if err != nil {
		return err
	}
	out := Subgraph{Nodes: make([]GraphNode, 0, len(g.Nodes)), Edges: make([]Relation, 0, len(g.Edges))}
	for _, e := range g.Nodes {
		labels := []string{"__Entity__"}
		if e.Type != "" {
			labels = append(labels, e.Type)
		}
		isUser := e.IsUser
		out.Nodes = append(out.Nodes, GraphNode{Id: e.ID, Name: e.Name, Type: optional(e.Type), Labels: labels, IsUser: &isUser})
	}
	for _, r := range g.Edges {
		out.Edges = append(out.Edges, relation(r))
	}
	return c.JSON(http.StatusOK, out)
}

// exportLine is one NDJSON line of an export.
type exportLine struct {
	Type      string    `json:"type"`
	Memory    *Memory   `json:"memory,omitempty"`
	Embedding []float32 `json:"embedding,omitempty"`
	Mentions  []string  `json:"mentions,omitempty"`
	Event     *struct {
		HistoryEntry
		TargetKind string  `json:"target_kind"`
		UserID     *string `json:"user_id,omitempty"`
		AgentID    *string `json:"agent_id,omitempty"`
		RunID      *string `json:"run_id,omitempty"`
	} `json:"event,omitempty"`
	Entity   *Entity   `json:"entity,omitempty"`
	Relation *Relation `json:"relation,omitempty"`
}

// ExportScope streams a scope as NDJSON.
func (s *server) ExportScope(c echo.Context, p ExportScopeParams) error {
	scope := scopeOf(c, p.UserId, p.AgentId, p.RunId)
	if err := scope.ValidateSelector("export"); err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	enc := json.NewEncoder(w)
	started := false
	return s.opt.Store.Export(c.Request().Context(), scope, func(it graph.ExportItem) error {
		if !started {
			w.WriteHeader(http.StatusOK)
			started = true
		}
		var line exportLine
		switch {
		case it.Memory != nil:
			m := memory(*it.Memory)
			line = exportLine{Type: "memory", Memory: &m, Embedding: it.Memory.Embedding, Mentions: it.Mentions}
		case it.Event != nil:
			e := it.Event
			line.Type = "event"
			line.Event = &struct {
				HistoryEntry
				TargetKind string  `json:"target_kind"`
				UserID     *string `json:"user_id,omitempty"`
				AgentID    *string `json:"agent_id,omitempty"`
				RunID      *string `json:"run_id,omitempty"`
			}{history(*e), string(e.TargetKind), optional(e.Scope.UserID), optional(e.Scope.AgentID), optional(e.Scope.RunID)}
		case it.Entity != nil:
			e := entity(*it.Entity)
			line = exportLine{Type: "entity", Entity: &e, Embedding: it.Entity.Embedding}
		case it.Relation != nil:
			r := relation(*it.Relation)
			line = exportLine{Type: "relation", Relation: &r}
			line.Relation.Mentions = nil
			n := int(it.Relation.Mentions)
			line.Relation.Mentions = &n
		}
		return enc.Encode(line)
	})
}

// ImportScope imports an export (NDJSON) into the key's tenant.
func (s *server) ImportScope(c echo.Context) error {
	return idempotent(s, c, func(a graph.Audit) (graph.Imported, error) { return s.importScope(c, a) },
		func(res graph.Imported) error {
			return c.JSON(http.StatusOK, Imported{Memories: res.Memories, Events: res.Events, Entities: res.Entities, Relations: res.Relations})
		})
}

func (s *server) importScope(c echo.Context, a graph.Audit) (graph.Imported, error) {
	var items []graph.ExportItem
	sc := bufio.NewScanner(c.Request().Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var bad []graph.FieldError
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("line %d", n), Message: "is not a JSON object of an export: " + err.Error()})
			continue
		}
		it, err := importItem(l)
		if err != nil {
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("line %d", n), Message: err.Error()})
			continue
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return graph.Imported{}, graph.InvalidFields("import", graph.FieldError{Path: "body", Message: err.Error()})
	}
	if len(bad) > 0 {
		return graph.Imported{}, graph.InvalidFields("import", bad...)
	}
	return s.opt.Store.Import(c.Request().Context(), principal(c).Tenant, items, a)
}

func importItem(l exportLine) (graph.ExportItem, error) {
	scope := func(u, a, r *string) graph.Scope { return graph.Scope{UserID: str(u), AgentID: str(a), RunID: str(r)} }
	switch {
	case l.Type == "memory" && l.Memory != nil:
		m := l.Memory
		mem := graph.Memory{ID: m.Id, Scope: scope(m.UserId, m.AgentId, m.RunId), Text: m.Memory, Kind: graph.MemoryKind(m.Kind),
			Metadata: graph.NormalizeNumbers(m.Metadata).(map[string]any), ActorID: str(m.ActorId), Role: str(m.Role),
			CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, ExpiresAt: m.ExpiresAt, Embedding: l.Embedding,
			Validity: graph.Validity{ValidFrom: m.ValidFrom, InvalidAt: m.InvalidAt}}
		return graph.ExportItem{Memory: &mem, Mentions: l.Mentions}, nil
	case l.Type == "event" && l.Event != nil:
		e := l.Event
		ev := graph.Event{ID: e.Id, Scope: scope(e.UserID, e.AgentID, e.RunID), TargetID: e.MemoryId, TargetKind: graph.TargetKind(e.TargetKind),
			Op: graph.Op(e.Event), Old: str(e.OldMemory), New: str(e.NewMemory), At: e.CreatedAt,
			Audit: graph.Audit{ActorID: str(e.ActorId), Role: str(e.Role), RequestID: str(e.RequestId)}}
		return graph.ExportItem{Event: &ev}, nil
	case l.Type == "entity" && l.Entity != nil:
		e := l.Entity
		ent := graph.Entity{ID: e.Id, Scope: scope(e.UserId, e.AgentId, e.RunId), Name: e.Name, Key: e.Key, Type: str(e.Type),
			Aliases: e.Aliases, IsUser: e.IsUser, Mentions: int64(e.Mentions), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, Embedding: l.Embedding}
		return graph.ExportItem{Entity: &ent}, nil
	case l.Type == "relation" && l.Relation != nil:
		r := l.Relation
		rel := graph.Relation{ID: r.Id, SourceID: r.SourceId, Source: r.Source, Type: r.Relationship, TargetID: r.TargetId, Target: r.Target,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Validity: graph.Validity{ValidFrom: r.ValidFrom, InvalidAt: r.InvalidAt}}
		if r.MemoryIds != nil {
			rel.MemoryIDs = *r.MemoryIds
		}
		if r.Mentions != nil {
			rel.Mentions = int64(*r.Mentions)
		}
		return graph.ExportItem{Relation: &rel}, nil
	}
	return graph.ExportItem{}, fmt.Errorf("type must be memory, event, entity or relation, with its object")
}

// CreateKey creates a key for the admin key's own tenant.
func (s *server) CreateKey(c echo.Context) error {
	if err := noKey(c); err != nil {
		return err
	}
	p := principal(c)
	if !p.Admin {
		return echo.NewHTTPError(http.StatusForbidden, "creating keys needs an admin key")
	}
	var req CreateKeyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	admin := req.Admin != nil && *req.Admin
	secret, k, err := s.opt.Keys.CreateAPIKey(c.Request().Context(), p.Tenant, str(req.Name), admin)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, CreatedKey{Id: k.ID, Tenant: k.Tenant, Name: req.Name, Admin: k.Admin, Key: secret})
}

// Metrics serves the Prometheus metrics the server registered.
func (s *server) Metrics(c echo.Context) error {
	if s.opt.Metrics == nil {
		return echo.NewHTTPError(http.StatusNotFound, "metrics are not enabled")
	}
	s.opt.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// docsInitializer points Swagger UI at this server's own document.
const docsInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
};
`

// docs serves Swagger UI from files embedded in the binary (no network).
func docs(e *echo.Echo) {
	e.GET("/docs", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs/") })
	e.GET("/docs/*", func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/docs/")
		if name == "swagger-initializer.js" {
			return c.Blob(http.StatusOK, "application/javascript", []byte(docsInitializer))
		}
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(swaggerFiles.FS, name)
		if err != nil {
			return echo.NewHTTPError(http.StatusNotFound, "no such file")
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		return c.Blob(http.StatusOK, ct, b)
	})
}
