package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// bind decodes a JSON body strictly enough to say what is wrong: a body
// that is not application/json (415), empty, null, not JSON, followed by
// anything but white space, or of the wrong shape is a 400 naming the
// problem.
func bind(c echo.Context, into any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "the body must be application/json")
		}
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.UseNumber()
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		// One JSON value only: "{}}}" is not a body.
		var extra json.RawMessage
		if xerr := dec.Decode(&extra); !errors.Is(xerr, io.EOF) {
			if tooLarge(xerr) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
			}
			return graph.InvalidFields("decode body", graph.FieldError{Path: "body", Message: "has data after the JSON value"})
		}
		if string(bytes.TrimSpace(raw)) == "null" {
			return graph.InvalidFields("decode body", graph.FieldError{Path: "body", Message: "is null; a JSON object is required"})
		}
		inner := json.NewDecoder(bytes.NewReader(raw))
		inner.UseNumber()
		err = inner.Decode(into)
	}
	if err != nil {
		var tErr *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return graph.InvalidFields("decode body", graph.FieldError{Path: "body", Message: "is empty; a JSON object is required"})
		case errorsAs(err, &tErr):
			return graph.InvalidFields("decode body", graph.FieldError{Path: tErr.Field, Message: fmt.Sprintf("must be %s, not %s", tErr.Type, tErr.Value)})
		case tooLarge(err):
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is too large")
		}
		return graph.InvalidFields("decode body", graph.FieldError{Path: "body", Message: "is not valid JSON: " + err.Error()})
	}
	return nil
}

// tooLarge reports whether reading the body stopped at the body limit.
func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return err != nil && (errors.As(err, &mb) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge))
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// scopeOf builds the request's scope: the key's tenant (never the body's)
// and the given ids.
func scopeOf(c echo.Context, user, agent, run *string) graph.Scope {
	return graph.Scope{Tenant: principal(c).Tenant, UserID: str(user), AgentID: str(agent), RunID: str(run)}
}

// AddMemories adds memories from conversation turns (async: as a job).
func (s *server) AddMemories(c echo.Context) error {
	return idempotent(s, c, func(a graph.Audit) (addOutcome, error) {
		var req AddRequest
		if err := bind(c, &req); err != nil {
			return addOutcome{}, err
		}
		return s.add(c, req, a)
	}, renderAdd(c))
}

// add runs one add request (native or Mem0's) as audit, or stores it as a
// job when it asks to be asynchronous.
func (s *server) add(c echo.Context, req AddRequest, a graph.Audit) (addOutcome, error) {
	in, err := addInput(c, req)
	if err != nil {
		return addOutcome{}, err
	}
	in.Audit = a
	if req.Async != nil && *req.Async {
		j, err := s.opt.Engine.Enqueue(c.Request().Context(), in)
		return addOutcome{eventID: j.ID}, err
	}
	res, err := s.opt.Engine.Add(c.Request().Context(), in)
	return addOutcome{res: res}, err
}

func addInput(c echo.Context, req AddRequest) (graph.AddRequest, error) {
	in := graph.AddRequest{Scope: scopeOf(c, req.UserId, req.AgentId, req.RunId), Infer: req.Infer == nil || *req.Infer,
		Prompt: str(req.Prompt), Audit: audit(c)}
	if req.Metadata != nil {
		in.Metadata = graph.NormalizeNumbers(*req.Metadata).(map[string]any)
	}
	if req.MemoryType != nil {
		in.MemoryType = graph.MemoryType(*req.MemoryType)
	}
	in.At = graph.UnixAt(req.Timestamp)
	var bad []graph.FieldError
	for i, t := range req.Messages {
		m, fields := turn(i, t)
		bad = append(bad, fields...)
		in.Messages = append(in.Messages, m)
	}
	if len(bad) > 0 {
		return graph.AddRequest{}, graph.InvalidFields("add", bad...)
	}
	return in, nil
}

// turn converts one wire message: content is text, or a list of text and
// image_url parts (a URL or a base64 data URL).
func turn(i int, t Turn) (graph.Message, []graph.FieldError) {
	path := fmt.Sprintf("messages[%d]", i)
	m := graph.Message{Role: string(t.Role), Name: str(t.Name)}
	if t.Metadata != nil {
		m.Metadata = graph.NormalizeNumbers(*t.Metadata).(map[string]any)
	}
	var bad []graph.FieldError
	parts, ok := t.Content.([]any)
	if !ok {
		if one, isObj := t.Content.(map[string]any); isObj {
			parts = []any{one}
		}
	}
	switch v := t.Content.(type) {
	case string:
		m.Content = v
		return m, bad
	case nil:
		return m, append(bad, graph.FieldError{Path: path + ".content", Message: "is required"})
	}
	if parts == nil {
		return m, append(bad, graph.FieldError{Path: path + ".content", Message: "must be a string or a list of parts"})
	}
	var texts []string
	for j, p := range parts {
		pp := fmt.Sprintf("%s.content[%d]", path, j)
		part, _ := p.(map[string]any)
		switch part["type"] {
		case "text":
			text, _ := part["text"].(string)
			texts = append(texts, text)
		case "image_url":
			iu, _ := part["image_url"].(map[string]any)
			url, _ := iu["url"].(string)
			if url == "" {
				url, _ = part["image_url"].(string)
			}
			img, err := image(url)
			if err != nil {
				bad = append(bad, graph.FieldError{Path: pp + ".image_url", Message: err.Error()})
				continue
			}
			m.Images = append(m.Images, img)
		default:
			bad = append(bad, graph.FieldError{Path: pp + ".type", Message: `must be "text" or "image_url"`})
		}
	}
	m.Content = strings.Join(texts, "\n")
	return m, bad
}

// image accepts an http(s) URL or a base64 data URL.
func image(url string) (graph.Image, error) {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return graph.Image{}, fmt.Errorf("a data URL must be base64 (data:image/png;base64,…)")
		}
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return graph.Image{}, fmt.Errorf("the data URL is not valid base64")
		}
		return graph.Image{MIMEType: strings.TrimSuffix(meta, ";base64"), Data: b}, nil
	}
	if err := validate.Var(url, "required,http_url"); err != nil {
		return graph.Image{}, fmt.Errorf("must be an http(s) URL or a base64 data URL")
	}
	return graph.Image{URL: url}, nil
}

// ListMemories lists a scope's memories with a cursor.
func (s *server) ListMemories(c echo.Context, p ListMemoriesParams) error {
	q := graph.ListQuery{Cursor: str(p.Cursor)}
	if p.Limit != nil {
		q.Limit = *p.Limit
	}
	if p.IncludeInvalid != nil {
		q.IncludeInvalid = *p.IncludeInvalid
	}
	f, err := queryFilter(p.Filters)
	if err != nil {
		return err
	}
	q.Filter = f
	page, err := s.opt.Store.ListMemories(c.Request().Context(), scopeOf(c, p.UserId, p.AgentId, p.RunId).Select(f), q)
	if err != nil {
		return err
	}
	out := MemoryPage{Results: make([]Memory, 0, len(page.Items)), NextCursor: optional(page.Next)}
	for _, m := range page.Items {
		out.Results = append(out.Results, memory(m))
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteAllMemories deletes every memory and entity of a scope.
func (s *server) DeleteAllMemories(c echo.Context, p DeleteAllMemoriesParams) error {
	purge := p.Purge != nil && *p.Purge
	f, err := queryFilter(p.Filters)
	if err != nil {
		return err
	}
	scope, err := scopeOf(c, p.UserId, p.AgentId, p.RunId).SelectWhole("delete all", f)
	if err != nil {
		return err
	}
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		return s.opt.Store.DeleteAll(c.Request().Context(), scope, graph.DeleteOptions{Purge: purge}, a)
	}, func(n int) error {
		return c.JSON(http.StatusOK, Deleted{Message: fmt.Sprintf("deleted %d memories and entities", n), Deleted: n})
	})
}

// GetMemory returns one memory of the key's tenant, with its version as
// the ETag.
func (s *server) GetMemory(c echo.Context, id ID) error {
	m, err := s.opt.Store.GetMemory(c.Request().Context(), scopeOf(c, nil, nil, nil), id)
	if err != nil {
		return err
	}
	setETag(c, m)
	return c.JSON(http.StatusOK, memory(m))
}

// UpdateMemory changes a memory's text and/or metadata (If-Match: only
// while the memory is at that version).
func (s *server) UpdateMemory(c echo.Context, id ID) error {
	return idempotent(s, c, func(a graph.Audit) (graph.Memory, error) {
		var req UpdateRequest
		if err := bind(c, &req); err != nil {
			return graph.Memory{}, err
		}
		if req.Text == nil && req.Metadata == nil {
			return graph.Memory{}, graph.InvalidFields("update memory", graph.FieldError{Path: "text", Message: "text or metadata is required"})
		}
		patch := graph.MemoryPatch{Text: req.Text}
		if req.Metadata != nil {
			patch.Metadata = graph.NormalizeNumbers(*req.Metadata).(map[string]any)
		}
		var err error
		if patch.IfVersion, err = ifMatch(c); err != nil {
			return graph.Memory{}, err
		}
		return s.opt.Engine.Update(c.Request().Context(), scopeOf(c, nil, nil, nil), id, patch, a)
	}, func(m graph.Memory) error {
		setETag(c, m)
		return c.JSON(http.StatusOK, memory(m))
	})
}

// DeleteMemory deletes one memory for good; its history stays (If-Match:
// only while the memory is at that version).
func (s *server) DeleteMemory(c echo.Context, id ID) error {
	return s.deleteMemory(c, id, "memory deleted")
}

// deleteMemory deletes one memory (native and Mem0's route) and answers
// with message.
func (s *server) deleteMemory(c echo.Context, id ID, message string) error {
	return idempotent(s, c, func(a graph.Audit) (json.RawMessage, error) {
		v, err := ifMatch(c)
		if err != nil {
			return nil, err
		}
		return nil, s.opt.Store.DeleteMemory(c.Request().Context(), scopeOf(c, nil, nil, nil), id, v, a)
	}, func(json.RawMessage) error { return c.JSON(http.StatusOK, Message{Message: message}) })
}

// MemoryHistory returns a memory's events.
func (s *server) MemoryHistory(c echo.Context, id ID) error {
	evs, err := s.opt.Store.History(c.Request().Context(), scopeOf(c, nil, nil, nil), id)
	if err != nil {
		return err
	}
	out := make([]HistoryEntry, 0, len(evs))
	for _, e := range evs {
		out = append(out, history(e))
	}
	return c.JSON(http.StatusOK, out)
}

// Search finds the closest memories and the relations around them.
func (s *server) Search(c echo.Context) error {
	var req SearchRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in, err := searchInput(c, req)
	if err != nil {
		return err
	}
	res, err := s.opt.Engine.Search(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, searchResponse(res))
}

// searchResponse converts a search's answer to its wire form (shared by the
// native and the Mem0 route).
func searchResponse(res graph.SearchResponse) SearchResponse {
	out := SearchResponse{Results: make([]Memory, 0, len(res.Results)), Relations: make([]Relation, 0, len(res.Relations))}
	for _, h := range res.Results {
		m := memory(h.Memory)
		score := h.Score
		m.Score = &score
		if h.Explain != nil {
			x := h.Explain
			m.Explain = &Explain{VectorScore: x.VectorScore, VectorRank: x.VectorRank, TextScore: x.TextScore, TextRank: x.TextRank,
				GraphScore: x.GraphScore, GraphRank: x.GraphRank, TimeRank: x.TimeRank, VectorContribution: x.VectorContribution,
				TextContribution: x.TextContribution, GraphContribution: x.GraphContribution, TimeContribution: x.TimeContribution,
				Strategy: x.Strategy}
		}
		out.Results = append(out.Results, m)
	}
	for _, r := range res.Relations {
		out.Relations = append(out.Relations, relation(r))
	}
	return out
}

func searchInput(c echo.Context, req SearchRequest) (graph.SearchRequest, error) {
	in := graph.SearchRequest{Scope: scopeOf(c, req.UserId, req.AgentId, req.RunId), Query: req.Query,
		AsOf: req.AsOf, Explain: req.Explain != nil && *req.Explain, IncludeInvalid: req.IncludeInvalid != nil && *req.IncludeInvalid}
	var bad []graph.FieldError
	if req.TopK != nil {
		in.TopK = *req.TopK
	}
	if req.Threshold != nil {
		in.Threshold = *req.Threshold
	}
	if w := req.Weights; w != nil {
		in.Weights = &graph.Weights{Vector: w.Vector, Text: w.Text, Graph: w.Graph, Time: w.Time, RRFK: w.RrfK}
	}
	if req.Filters != nil {
		f, err := graph.ParseFilter(graph.NormalizeNumbers(*req.Filters).(map[string]any))
		if err != nil {
			bad = append(bad, graph.FieldsOf(err)...)
		} else {
			in.Filter = f
			in.Scope = in.Scope.Select(f)
		}
	}
	if len(bad) > 0 {
		return graph.SearchRequest{}, graph.InvalidFields("search", bad...)
	}
	return in, nil
}

// queryFilter parses a filters query parameter (JSON); nil when absent.
func queryFilter(raw *string) (graph.Filter, error) {
	if raw == nil {
		return nil, nil
	}
	return graph.ParseFilterJSON([]byte(*raw))
}

// Reset deletes everything of the key's tenant; admin keys only.
func (s *server) Reset(c echo.Context) error {
	p := principal(c)
	if !p.Admin {
		return echo.NewHTTPError(http.StatusForbidden, "reset needs an admin key")
	}
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		return s.opt.Store.Reset(c.Request().Context(), p.Tenant, a)
	}, func(n int) error {
		return c.JSON(http.StatusOK, Deleted{Message: fmt.Sprintf("tenant reset: %d nodes deleted", n), Deleted: n})
	})
}

// ListEntities lists a scope's entities.
func (s *server) ListEntities(c echo.Context, p ListEntitiesParams) error {
	limit := 0
	if p.Limit != nil {
		limit = *p.Limit
	}
	ents, err := s.opt.Store.Entities(c.Request().Context(), scopeOf(c, p.UserId, p.AgentId, p.RunId), limit)
	if err != nil {
		return err
	}
	out := EntityList{Results: make([]Entity, 0, len(ents))}
	for _, e := range ents {
		out.Results = append(out.Results, entity(e))
	}
	return c.JSON(http.StatusOK, out)
}

// GetEntity returns one entity with its current relations.
func (s *server) GetEntity(c echo.Context, id ID) error {
	scope := scopeOf(c, nil, nil, nil)
	e, err := s.opt.Store.GetEntity(c.Request().Context(), scope, id)
	if err != nil {
		return err
	}
	// Relations of the entity's own scope.
	rels, err := s.opt.Store.Relations(c.Request().Context(), e.Scope, graph.RelationQuery{EntityID: id})
	if err != nil {
		return err
	}
	out := EntityDetail{Entity: entity(e), Relations: make([]Relation, 0, len(rels))}
	for _, r := range rels {
		out.Relations = append(out.Relations, relation(r))
	}
	return c.JSON(http.StatusOK, out)
}

// DeleteEntity deletes an entity of the key's tenant with its relations.
func (s *server) DeleteEntity(c echo.Context, id ID) error {
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		return s.opt.Store.DeleteEntity(c.Request().Context(), scopeOf(c, nil, nil, nil), id, a)
	}, func(n int) error {
		return c.JSON(http.StatusOK, Deleted{Message: fmt.Sprintf("deleted the entity and %d relations", n), Deleted: 1 + n})
	})
}

// ListRelations lists a scope's relations.
func (s *server) ListRelations(c echo.Context, p ListRelationsParams) error {
	q := graph.RelationQuery{AsOf: p.AsOf}
	if p.EntityId != nil {
		q.EntityID = p.EntityId.String()
	}
	if p.IncludeInvalid != nil {
		q.IncludeInvalid = *p.IncludeInvalid
	}
	if p.Limit != nil {
		q.Limit = *p.Limit
	}
	rels, err := s.opt.Store.Relations(c.Request().Context(), scopeOf(c, p.UserId, p.AgentId, p.RunId), q)
	if err != nil {
		return err
	}
	out := RelationList{Results: make([]Relation, 0, len(rels))}
	for _, r := range rels {
		out.Results = append(out.Results, relation(r))
	}
	return c.JSON(http.StatusOK, out)
}
