package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// This file serves Mem0's platform routes, so Mem0's own Python
// MemoryClient(api_key=…, host=…) works against neomem unchanged (see
// docs/mem0-client-wire.md for what the client sends and reads). They reuse
// the native handlers' conversions; only the envelopes differ.

// Mem0Ping answers the client's constructor: it requires non-empty string
// org_id and project_id; the key's tenant stands for both.
func (s *server) Mem0Ping(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "org_id": p.Tenant, "project_id": p.Tenant, "user_email": nil})
}

// mem0Body reads the loose JSON object Mem0's client sends.
func mem0Body(c echo.Context) (map[string]any, error) {
	var body map[string]any
	if err := bind(c, &body); err != nil {
		return nil, err
	}
	if body == nil {
		body = map[string]any{}
	}
	return graph.NormalizeNumbers(body).(map[string]any), nil
}

// mem0Scope reads the scope from the body's top level (user_id, agent_id,
// run_id) narrowed by its filters, where the v3 client puts the ids; an OR
// of them is a shared room (graph.Scope.Select).
func mem0Scope(c echo.Context, body map[string]any) (scope graph.Scope, filter graph.Filter, bad []graph.FieldError) {
	scope = scopeOf(c, bodyString(body, "user_id"), bodyString(body, "agent_id"), bodyString(body, "run_id"))
	if raw, ok := body["filters"]; ok && raw != nil {
		m, isMap := raw.(map[string]any)
		if !isMap {
			return scope, nil, append(bad, graph.FieldError{Path: "filters", Message: "must be an object"})
		}
		f, err := graph.ParseFilter(m)
		if err != nil {
			return scope, nil, append(bad, graph.FieldsOf(err)...)
		}
		filter, scope = f, scope.Select(f)
	}
	return scope, filter, bad
}

// bodyString is a non-empty string field of a free-form body, else nil.
func bodyString(body map[string]any, k string) *string {
	if v, ok := body[k].(string); ok && v != "" {
		return &v
	}
	return nil
}

// Mem0Add is the client's add: messages, scope top-level or in filters,
// metadata, infer (default true), and Mem0's instruction fields.
func (s *server) Mem0Add(c echo.Context) error {
	return idempotent(s, c, func(a graph.Audit) (addOutcome, error) {
		body, err := mem0Body(c)
		if err != nil {
			return addOutcome{}, err
		}
		scope, _, bad := mem0Scope(c, body)
		if scope.Any != nil {
			bad = append(bad, graph.FieldError{Path: "filters", Message: "an add writes to one scope: give one user_id, agent_id or run_id, not alternatives"})
		}
		req := AddRequest{UserId: optional(scope.UserID), AgentId: optional(scope.AgentID), RunId: optional(scope.RunID)}
		raw, _ := json.Marshal(body["messages"])
		if err := json.Unmarshal(raw, &req.Messages); err != nil || len(req.Messages) == 0 {
			bad = append(bad, graph.FieldError{Path: "messages", Message: "must be a non-empty list of {role, content}"})
		}
		if md, ok := body["metadata"].(map[string]any); ok {
			req.Metadata = &md
		}
		var fe *graph.FieldError
		if req.Infer, fe = laxBool(body, "infer"); fe != nil {
			bad = append(bad, *fe)
		}
		// Mem0's platform flag; neomem adds synchronously unless asked.
		if req.Async, fe = laxBool(body, "async_mode"); fe != nil {
			bad = append(bad, *fe)
		}
		// Mem0's custom timestamp (Unix seconds): when the messages were said.
		if ts, fe := laxInt(body, "timestamp"); fe != nil {
			bad = append(bad, *fe)
		} else if ts != nil {
			t := int64(*ts)
			req.Timestamp = &t
		}
		if mt, ok := body["memory_type"].(string); ok && mt != "" {
			t := AddRequestMemoryType(mt)
			req.MemoryType = &t
		}
		for _, k := range []string{"prompt", "custom_instructions", "agent_custom_instructions"} {
			if p, ok := body[k].(string); ok && p != "" {
				req.Prompt = &p
			}
		}
		// Held to the native route's shape and ranges.
		bad = append(bad, checkSchema("AddRequest", req)...)
		if len(bad) > 0 {
			return addOutcome{}, graph.InvalidFields("add", bad...)
		}
		return s.add(c, req, a)
	}, renderMem0Add(c))
}

// Mem0Search is the client's search: scope ids at the top or in filters,
// top_k and threshold as numbers or numeric strings. The body becomes the
// native search request, held to its shape and ranges, and runs as one.
func (s *server) Mem0Search(c echo.Context) error {
	body, err := mem0Body(c)
	if err != nil {
		return err
	}
	var bad []graph.FieldError
	req := SearchRequest{UserId: bodyString(body, "user_id"), AgentId: bodyString(body, "agent_id"), RunId: bodyString(body, "run_id")}
	req.Query, _ = body["query"].(string)
	if raw, ok := body["filters"]; ok && raw != nil {
		if m, isMap := raw.(map[string]any); isMap {
			req.Filters = &m
		} else {
			bad = append(bad, graph.FieldError{Path: "filters", Message: "must be an object"})
		}
	}
	var fe *graph.FieldError
	if req.TopK, fe = laxInt(body, "top_k"); fe != nil {
		bad = append(bad, *fe)
	}
	if req.Threshold, fe = laxFloat(body, "threshold"); fe != nil {
		bad = append(bad, *fe)
	}
	bad = append(bad, checkSchema("SearchRequest", req)...)
	if len(bad) > 0 {
		return graph.InvalidFields("search", bad...)
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

// Mem0GetAll is the client's get_all: page and page_size in the query,
// scope and filters in the body; Mem0's paged envelope.
func (s *server) Mem0GetAll(c echo.Context, p Mem0GetAllParams) error {
	body, err := mem0Body(c)
	if err != nil {
		return err
	}
	scope, filter, bad := mem0Scope(c, body)
	page, size := 1, 100
	if p.Page != nil {
		page = *p.Page
	}
	if p.PageSize != nil {
		size = *p.PageSize
	}
	if page < 1 || size < 1 || size > 1000 {
		bad = append(bad, graph.FieldError{Path: "page", Message: "page must be ≥ 1 and page_size between 1 and 1000"})
	}
	if len(bad) > 0 {
		return graph.InvalidFields("get all", bad...)
	}
	ctx := c.Request().Context()
	count, err := s.opt.Store.CountMemories(ctx, scope, filter)
	if err != nil {
		return err
	}
	// Page numbers over the cursor order: skip whole pages by cursor.
	var items []graph.Memory
	cursor := ""
	for i := 1; i <= page; i++ {
		pg, err := s.opt.Store.ListMemories(ctx, scope, graph.ListQuery{Limit: size, Cursor: cursor, Filter: filter})
		if err != nil {
			return err
		}
		items, cursor = pg.Items, pg.Next
		if cursor == "" && i < page {
			items = nil
			break
		}
	}
	out := Mem0Page{Count: count, Results: make([]map[string]any, 0, len(items))}
	for _, m := range items {
		out.Results = append(out.Results, mem0Memory(m))
	}
	link := func(n int) *string {
		u := *c.Request().URL
		q := u.Query()
		q.Set("page", fmt.Sprint(n))
		q.Set("page_size", fmt.Sprint(size))
		u.RawQuery = q.Encode()
		s := u.String()
		return &s
	}
	if page*size < count {
		out.Next = link(page + 1)
	}
	if page > 1 {
		out.Previous = link(page - 1)
	}
	return c.JSON(http.StatusOK, out)
}

// mem0Memory is a memory as Mem0's platform shows it.
func mem0Memory(m graph.Memory) map[string]any {
	b, _ := json.Marshal(memory(m))
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// Mem0Get is the client's get.
func (s *server) Mem0Get(c echo.Context, id ID) error { return s.GetMemory(c, id) }

// Mem0Update is the client's update.
func (s *server) Mem0Update(c echo.Context, id ID) error { return s.UpdateMemory(c, id) }

// Mem0Delete is the client's delete (delete_linked is accepted; the older
// versions of a memory are history and stay).
func (s *server) Mem0Delete(c echo.Context, id ID, _ Mem0DeleteParams) error {
	return s.deleteMemory(c, id, "Memory deleted successfully!")
}

// Mem0History is the client's history.
func (s *server) Mem0History(c echo.Context, id ID) error { return s.MemoryHistory(c, id) }

// Mem0DeleteAll is the client's delete_all: a scope is required (the
// client's delete_all() without one must not wipe the tenant). filters may
// be JSON or the Python repr the client sends.
func (s *server) Mem0DeleteAll(c echo.Context, p Mem0DeleteAllParams) error {
	var f graph.Filter
	if p.Filters != nil {
		var m map[string]any
		raw := *p.Filters
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			// Python's repr of a flat dict of strings: {'user_id': 'u1'}.
			err = json.Unmarshal([]byte(strings.ReplaceAll(raw, "'", `"`)), &m)
			if err != nil {
				return graph.InvalidFields("delete all", graph.FieldError{Path: "filters", Message: "must be a JSON object"})
			}
		}
		var err error
		if f, err = graph.ParseFilter(graph.NormalizeNumbers(m).(map[string]any)); err != nil {
			return err
		}
	}
	scope, err := scopeOf(c, p.UserId, p.AgentId, p.RunId).SelectWhole("delete all", f)
	if err != nil {
		return err
	}
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		return s.opt.Store.DeleteAll(c.Request().Context(), scope, graph.DeleteOptions{}, a)
	}, func(int) error { return c.JSON(http.StatusOK, Message{Message: "Memories deleted successfully!"}) })
}

// Mem0Users is the client's users(): the key's tenant's users, agents and
// runs (never another tenant's: the client's reset() deletes what is listed).
func (s *server) Mem0Users(c echo.Context) error {
	scopes, err := s.opt.Store.Scopes(c.Request().Context(), principal(c).Tenant, 1000)
	if err != nil {
		return err
	}
	out := Mem0Page{Count: len(scopes), Results: make([]map[string]any, 0, len(scopes))}
	for _, sc := range scopes {
		out.Results = append(out.Results, map[string]any{"id": sc.Name, "name": sc.Name, "type": sc.Type,
			"total_memories": sc.Memories, "created_at": sc.CreatedAt, "updated_at": sc.UpdatedAt})
	}
	return c.JSON(http.StatusOK, out)
}

// Mem0DeleteEntity is the client's delete_users / reset: every memory of one
// user, agent or run of the key's tenant.
func (s *server) Mem0DeleteEntity(c echo.Context, typ Mem0DeleteEntityParamsType, name string) error {
	scope := graph.Scope{Tenant: principal(c).Tenant}
	switch typ {
	case "user":
		scope.UserID = name
	case "agent":
		scope.AgentID = name
	case "run":
		scope.RunID = name
	default:
		return graph.InvalidFields("delete entity", graph.FieldError{Path: "type", Message: "must be user, agent or run"})
	}
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		return s.opt.Store.DeleteAll(c.Request().Context(), scope, graph.DeleteOptions{}, a)
	}, func(int) error { return c.JSON(http.StatusOK, Message{Message: "Entity deleted successfully!"}) })
}

func batch(c echo.Context) (Mem0Batch, error) {
	var b Mem0Batch
	if err := bind(c, &b); err != nil {
		return b, err
	}
	if len(b.Memories) == 0 || len(b.Memories) > 1000 {
		return b, graph.InvalidFields("batch", graph.FieldError{Path: "memories", Message: "must hold 1 to 1000 items"})
	}
	var bad []graph.FieldError
	for i, m := range b.Memories {
		if !graph.ValidID(m.MemoryId) {
			bad = append(bad, graph.FieldError{Path: fmt.Sprintf("memories[%d].memory_id", i), Message: "must be a UUID"})
		}
	}
	if len(bad) > 0 {
		return b, graph.InvalidFields("batch", bad...)
	}
	return b, nil
}

// Mem0BatchUpdate updates up to 1000 memories in one transaction: all or
// none.
func (s *server) Mem0BatchUpdate(c echo.Context) error {
	return idempotent(s, c, func(a graph.Audit) (int, error) {
		b, err := batch(c)
		if err != nil {
			return 0, err
		}
		changes := make([]graph.MemoryChange, 0, len(b.Memories))
		for i, m := range b.Memories {
			patch := graph.MemoryPatch{Text: m.Text}
			if m.Metadata != nil {
				patch.Metadata = graph.NormalizeNumbers(*m.Metadata).(map[string]any)
			}
			if m.Text == nil && patch.Metadata == nil {
				return 0, graph.InvalidFields("batch update", graph.FieldError{Path: fmt.Sprintf("memories[%d]", i), Message: "text or metadata is required"})
			}
			changes = append(changes, graph.MemoryChange{ID: m.MemoryId, Patch: patch})
		}
		ms, err := s.opt.Engine.UpdateMany(c.Request().Context(), scopeOf(c, nil, nil, nil), changes, a)
		return len(ms), err
	}, func(n int) error {
		return c.JSON(http.StatusOK, Message{Message: fmt.Sprintf("Successfully updated %d memories", n)})
	})
}

// Mem0BatchDelete deletes up to 1000 memories in one transaction: all or
// none.
func (s *server) Mem0BatchDelete(c echo.Context) error {
	var n int
	return idempotent(s, c, func(a graph.Audit) (json.RawMessage, error) {
		b, err := batch(c)
		if err != nil {
			return nil, err
		}
		changes := make([]graph.MemoryChange, 0, len(b.Memories))
		for _, m := range b.Memories {
			changes = append(changes, graph.MemoryChange{ID: m.MemoryId})
		}
		n = len(changes)
		return nil, s.opt.Store.DeleteMemories(c.Request().Context(), scopeOf(c, nil, nil, nil), changes, a)
	}, func(json.RawMessage) error {
		if n == 0 { // a replay: the count is in the request
			if b, err := batch(c); err == nil {
				n = len(b.Memories)
			}
		}
		return c.JSON(http.StatusOK, Message{Message: fmt.Sprintf("Successfully deleted %d memories", n)})
	})
}

// Mem0's server reads its flags and numbers leniently (pydantic's lax mode:
// "false" is false, "5" is 5); so do these, and anything else is a 400.

var laxBools = map[string]bool{"true": true, "false": false, "1": true, "0": false, "yes": true, "no": false,
	"on": true, "off": false, "t": true, "f": false, "y": true, "n": false}

// laxBool reads body[key] as a boolean; nil when absent or null.
func laxBool(body map[string]any, key string) (*bool, *graph.FieldError) {
	switch v := body[key].(type) {
	case nil:
		return nil, nil
	case bool:
		return &v, nil
	case string:
		if b, ok := laxBools[strings.ToLower(strings.TrimSpace(v))]; ok {
			return &b, nil
		}
	case int64:
		if v == 0 || v == 1 {
			b := v == 1
			return &b, nil
		}
	}
	return nil, &graph.FieldError{Path: key, Message: "must be a boolean (true or false)"}
}

// laxInt reads body[key] as a whole number; nil when absent or null.
func laxInt(body map[string]any, key string) (*int, *graph.FieldError) {
	switch v := body[key].(type) {
	case nil:
		return nil, nil
	case int64:
		n := int(v)
		return &n, nil
	case float64:
		if v == float64(int(v)) {
			n := int(v)
			return &n, nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return &n, nil
		}
	}
	return nil, &graph.FieldError{Path: key, Message: "must be a whole number"}
}

// laxFloat reads body[key] as a number; nil when absent or null.
func laxFloat(body map[string]any, key string) (*float64, *graph.FieldError) {
	switch v := body[key].(type) {
	case nil:
		return nil, nil
	case float64:
		return &v, nil
	case int64:
		f := float64(v)
		return &f, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return &f, nil
		}
	}
	return nil, &graph.FieldError{Path: key, Message: "must be a number"}
}
