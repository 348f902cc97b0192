package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/client"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

var sentinels = []error{client.ErrInvalid, client.ErrUnauthorized, client.ErrForbidden, client.ErrNotFound,
	client.ErrConflict, client.ErrPrecondition, client.ErrRateLimited, client.ErrUnavailable}

// checkError: err is an *Error of status that is want and no other
// sentinel, with the server's problem details, and the invalid fields
// (paths) expected.
func checkError(t *testing.T, err error, status int, want error, fields ...string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	if e.Status != status {
		t.Errorf("status %d, want %d: %v", e.Status, status, e)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(%v, %v) = %v", err, s, got)
		}
	}
	if e.Title != http.StatusText(status) || e.Type == "" || e.RequestID == "" || e.Detail == "" {
		t.Errorf("problem details incomplete: %+v", e.Problem)
	}
	if !strings.Contains(e.Error(), e.RequestID) || !strings.Contains(e.Error(), e.Title) {
		t.Errorf("Error() = %q lacks the title or request id", e.Error())
	}
	var paths []string
	for _, f := range e.Errors {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Path)
		}
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, fields) {
		t.Errorf("fields %v, want %v (%v)", paths, fields, e)
	}
	return e
}

// TestErrors: every kind of refusal of a real server is an *Error with its
// problem details, matched by its sentinel only.
func TestErrors(t *testing.T) {
	srv := server(t)
	c := tenantClient(t)
	ctx := testContext(t)
	ids := addRaw(t, c, "errors", "I drink coffee")
	if _, err := c.Update(ctx, ids[0], client.UpdateRequest{Text: "I drink black coffee"}); err != nil {
		t.Fatal(err)
	}
	stale := client.IfMatch(1) // the memory is at version 2 now
	if _, err := c.Add(ctx, client.AddRequest{UserID: "errors", Infer: client.Bool(false), Messages: turns("first")},
		client.IdempotencyKey("errors-key")); err != nil {
		t.Fatal(err)
	}
	wrongKey := client.New(srv.URL, "nm_0000000000000000_wrong")
	const unknown = "01a2475f-8b0a-7705-ac21-f42cb8ca9999"

	for _, tc := range []struct {
		name   string
		call   func() error
		status int
		want   error
		fields []string
	}{
		{"get unknown", func() error { _, err := c.Get(ctx, unknown); return err }, 404, client.ErrNotFound, nil},
		{"history unknown", func() error { _, err := c.History(ctx, unknown); return err }, 404, client.ErrNotFound, nil},
		{"delete unknown", func() error { return c.Delete(ctx, unknown) }, 404, client.ErrNotFound, nil},
		{"event unknown", func() error { _, err := c.Event(ctx, unknown); return err }, 404, client.ErrNotFound, nil},
		{"get invalid id", func() error { _, err := c.Get(ctx, "not-an-id"); return err }, 400, client.ErrInvalid, []string{"id"}},
		{"add invalid turns", func() error {
			_, err := c.Add(ctx, client.AddRequest{UserID: "errors", Messages: []client.Turn{
				{Role: "robot", Content: "hello"}, {Role: client.User, Content: 42}}})
			return err
		}, 400, client.ErrInvalid, []string{"messages[0].role", "messages[1].content"}},
		{"add no messages", func() error {
			_, err := c.Add(ctx, client.AddRequest{UserID: "errors"})
			return err
		}, 400, client.ErrInvalid, []string{"messages"}},
		{"search out of range", func() error {
			_, err := c.Search(ctx, client.SearchRequest{UserID: "errors", Query: "coffee", TopK: 1000, Threshold: 2})
			return err
		}, 400, client.ErrInvalid, []string{"threshold", "top_k"}},
		{"list limit out of range", func() error {
			_, err := c.List(ctx, client.ListMemoriesParams{UserID: "errors", Limit: 5000})
			return err
		}, 400, client.ErrInvalid, []string{"limit"}},
		{"delete all without a scope", func() error { _, err := c.DeleteAll(ctx, client.DeleteAllMemoriesParams{}); return err },
			400, client.ErrInvalid, []string{"user_id"}},
		{"update nothing", func() error { _, err := c.Update(ctx, ids[0], client.UpdateRequest{}); return err },
			400, client.ErrInvalid, []string{"text"}},
		{"idempotency key of another request", func() error {
			_, err := c.Add(ctx, client.AddRequest{UserID: "errors", Infer: client.Bool(false), Messages: turns("second")},
				client.IdempotencyKey("errors-key"))
			return err
		}, 422, client.ErrInvalid, nil},
		{"wrong key", func() error { _, err := wrongKey.List(ctx, client.ListMemoriesParams{UserID: "errors"}); return err },
			401, client.ErrUnauthorized, nil},
		{"stale update", func() error {
			_, err := c.Update(ctx, ids[0], client.UpdateRequest{Text: "I drink tea"}, stale)
			return err
		}, 412, client.ErrPrecondition, nil},
		{"stale delete", func() error { return c.Delete(ctx, ids[0], stale) }, 412, client.ErrPrecondition, nil},
		{"model unavailable", func() error {
			// infer=true calls the fake chat model, which has nothing scripted.
			_, err := c.Add(ctx, client.AddRequest{UserID: "errors", Messages: turns("I like cats")})
			return err
		}, 503, client.ErrUnavailable, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := checkError(t, tc.call(), tc.status, tc.want, tc.fields...)
			if tc.status == 503 && e.RetryAfter <= 0 {
				t.Errorf("503 without RetryAfter: %+v", e)
			}
		})
	}

	// The refused writes changed nothing.
	m, err := c.Get(ctx, ids[0])
	if err != nil || m.Version != 2 || m.Memory != "I drink black coffee" {
		t.Fatalf("after the refusals: %+v, %v", m, err)
	}
}

// TestRateLimited: past its key's rate, a call is ErrRateLimited with the
// server's Retry-After.
func TestRateLimited(t *testing.T) {
	server(t)
	srv, _ := neomem.Start(t, map[string]string{"NEOMEM_RATE_LIMIT": "0.2", "NEOMEM_RATE_BURST": "2"})
	c := client.New(srv.URL, srv.Key(t, testcontainers.Tenant(t), false))
	ctx := testContext(t)
	var err error
	for range 5 {
		if _, err = c.List(ctx, client.ListMemoriesParams{UserID: "u"}); err != nil {
			break
		}
	}
	e := checkError(t, err, 429, client.ErrRateLimited)
	if e.RetryAfter != time.Second {
		t.Errorf("RetryAfter = %v, want 1s", e.RetryAfter)
	}
}

// TestPaging: List pages a scope oldest first with a cursor, ListAll walks
// every page, stops when the loop does, and ends with an error as its last
// pair; a filter lists two scopes at once.
func TestPaging(t *testing.T) {
	c := tenantClient(t)
	ctx := testContext(t)
	var want []string
	for i := range 7 {
		want = append(want, addRaw(t, c, "pager", "fact number "+string(rune('A'+i)))...)
	}
	other := addRaw(t, c, "other", "someone else's fact")

	var got, sizes []string
	p := client.ListMemoriesParams{UserID: "pager", Limit: 3}
	for {
		page, err := c.List(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, string(rune('0'+len(page.Results))))
		for _, m := range page.Results {
			if m.UserID != "pager" || m.Kind != client.MemoryKindRaw || m.Version != 1 {
				t.Errorf("memory %+v", m)
			}
			got = append(got, m.ID)
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	if !slices.Equal(got, want) || strings.Join(sizes, ",") != "3,3,1" {
		t.Fatalf("pages of %v: %v, want %v", sizes, got, want)
	}

	got = nil
	for m, err := range c.ListAll(ctx, client.ListMemoriesParams{UserID: "pager", Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListAll: %v, want %v", got, want)
	}

	got = nil
	for m, err := range c.ListAll(ctx, client.ListMemoriesParams{UserID: "pager", Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, m.ID); len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, want[:3]) {
		t.Fatalf("ListAll with a break: %v, want %v", got, want[:3])
	}

	var n int
	for m, err := range c.ListAll(ctx, client.ListMemoriesParams{Filters: `{"OR":[{"user_id":"pager"},{"user_id":"other"}]}`}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.UserID == "other" && m.ID != other[0] {
			t.Errorf("other scope's memory %+v", m)
		}
		n++
	}
	if n != 8 {
		t.Fatalf("two scopes by a filter: %d memories, want 8", n)
	}

	var errs int
	for _, err := range client.New(server(t).URL, "nm_0000000000000000_wrong").ListAll(ctx, client.ListMemoriesParams{UserID: "pager"}) {
		checkError(t, err, 401, client.ErrUnauthorized)
		errs++
	}
	if errs != 1 {
		t.Fatalf("ListAll with a wrong key yielded %d errors, want 1", errs)
	}
}

// TestWrites: versions, If-Match, history, idempotent retries, delete-all.
func TestWrites(t *testing.T) {
	c := tenantClient(t)
	ctx := testContext(t)
	id := addRaw(t, c, "writer", "I live in Berlin")[0]

	m, err := c.Get(ctx, id)
	if err != nil || m.Version != 1 || m.Memory != "I live in Berlin" || m.Kind != client.MemoryKindRaw {
		t.Fatalf("Get: %+v %v", m, err)
	}
	m, err = c.Update(ctx, id, client.UpdateRequest{Text: "I live in Lisbon"}, client.IfMatch(1))
	if err != nil || m.Version != 2 || m.Memory != "I live in Lisbon" {
		t.Fatalf("Update with IfMatch(1): %+v %v", m, err)
	}
	// An idempotent retry changes nothing the second time.
	for range 2 {
		m, err = c.Update(ctx, id, client.UpdateRequest{Metadata: map[string]any{"city": "Lisbon", "since": 2024}},
			client.IdempotencyKey("writes-metadata"))
		if err != nil || m.Version != 3 || m.Metadata["city"] != "Lisbon" || m.Metadata["since"] != float64(2024) {
			t.Fatalf("Update of metadata: %+v %v", m, err)
		}
	}
	if err := c.Delete(ctx, id, client.IfMatch(2)); !errors.Is(err, client.ErrPrecondition) {
		t.Fatalf("Delete with a stale IfMatch: %v", err)
	}
	if err := c.Delete(ctx, id, client.IfMatch(3)); err != nil {
		t.Fatalf("Delete with IfMatch(3): %v", err)
	}
	if _, err := c.Get(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	hist, err := c.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, h := range hist {
		if h.MemoryID != id || h.RequestID == "" || h.CreatedAt.IsZero() {
			t.Errorf("history entry %+v", h)
		}
		events = append(events, h.Event)
	}
	if strings.Join(events, ",") != "ADD,UPDATE,UPDATE,DELETE" {
		t.Fatalf("history: %v", events)
	}

	// An add retried with its key writes once and answers the same.
	req := client.AddRequest{UserID: "writer", Infer: client.Bool(false), Messages: turns("I have a dog"),
		Metadata: map[string]any{"source": "test"}}
	first, err := c.Add(ctx, req, client.IdempotencyKey("writes-add"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Add(ctx, req, client.IdempotencyKey("writes-add"))
	if err != nil || len(again.Results) != 1 || again.Results[0].ID != first.Results[0].ID {
		t.Fatalf("retried add: %+v %v, first %+v", again, err, first)
	}
	page, err := c.List(ctx, client.ListMemoriesParams{UserID: "writer"})
	if err != nil || len(page.Results) != 1 || page.Results[0].Metadata["source"] != "test" {
		t.Fatalf("after a retried add: %+v %v", page, err)
	}

	if _, err := c.Add(ctx, client.AddRequest{UserID: "writer", Async: true, Messages: turns("x")}); err == nil || errors.As(err, new(*client.Error)) {
		t.Fatalf("Add with Async: %v, want a client-side refusal", err)
	}

	addRaw(t, c, "writer", "I have a cat")
	n, err := c.DeleteAll(ctx, client.DeleteAllMemoriesParams{UserID: "writer", Purge: true})
	if err != nil || n != 2 {
		t.Fatalf("DeleteAll: %d %v", n, err)
	}
	if page, err := c.List(ctx, client.ListMemoriesParams{UserID: "writer"}); err != nil || len(page.Results) != 0 {
		t.Fatalf("after DeleteAll: %+v %v", page, err)
	}
}

// TestSearch: top_k, threshold, explain, filters and as_of reach the server.
func TestSearch(t *testing.T) {
	c := tenantClient(t)
	ctx := testContext(t)
	before := time.Now().Add(-time.Second)
	addRaw(t, c, "searcher", "I love green tea", "My cat is named Miso", "I work as a nurse in Porto")
	if _, err := c.Add(ctx, client.AddRequest{UserID: "searcher", Infer: client.Bool(false), Messages: turns("I drink tea every morning"),
		Metadata: map[string]any{"topic": "drinks"}}); err != nil {
		t.Fatal(err)
	}

	res, err := c.Search(ctx, client.SearchRequest{UserID: "searcher", Query: "green tea", TopK: 2, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 2 || res.Results[0].Memory != "I love green tea" || res.Results[0].Score <= 0 ||
		res.Results[0].Explain.Strategy == "" || res.Results[0].Explain.VectorRank != 1 {
		t.Fatalf("search: %+v", res.Results)
	}
	res, err = c.Search(ctx, client.SearchRequest{UserID: "searcher", Query: "tea", Filters: map[string]any{"topic": "drinks"}})
	if err != nil || len(res.Results) != 1 || res.Results[0].Memory != "I drink tea every morning" {
		t.Fatalf("search with a filter: %+v %v", res, err)
	}
	res, err = c.Search(ctx, client.SearchRequest{UserID: "searcher", Query: "tea", AsOf: before})
	if err != nil || len(res.Results) != 0 {
		t.Fatalf("search as of before the adds: %+v %v", res, err)
	}
	// An add dated by its Timestamp is what a search naming that day ranks
	// by time.
	said := time.Date(2023, 5, 8, 13, 56, 0, 0, time.UTC)
	if _, err := c.Add(ctx, client.AddRequest{UserID: "searcher", Infer: client.Bool(false), Messages: turns("I tried matcha"),
		Timestamp: said.Unix()}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Search(ctx, client.SearchRequest{UserID: "searcher", Query: "what did I drink on 8 May 2023?", Explain: true})
	if err != nil || len(res.Results) == 0 || res.Results[0].Memory != "I tried matcha" || res.Results[0].Explain.TimeRank != 1 ||
		!res.Results[0].CreatedAt.Equal(said) {
		t.Fatalf("search naming the day of a dated add: %+v %v", res, err)
	}
	res, err = c.Search(ctx, client.SearchRequest{UserID: "searcher", Query: "green tea", Threshold: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Results {
		if m.Memory != "I love green tea" {
			t.Fatalf("threshold 0.99 kept %q", m.Memory)
		}
	}
}

// TestGraph: relations written without a model, read back as entities,
// one entity's detail, relations by entity and as of a time.
func TestGraph(t *testing.T) {
	c := tenantClient(t)
	ctx := testContext(t)
	before := time.Now().Add(-time.Second)
	res, err := c.AddRelations(ctx, client.AddRelationsRequest{UserID: "grapher", Relations: []client.Triple{
		{Source: "Acme", SourceType: "organization", Relationship: "located_in", Target: "Berlin", TargetType: "city"},
		{Source: "Bob", SourceType: "person", Relationship: "works_at", Target: "Acme"},
	}})
	if err != nil || len(res.Relations.Added) != 2 {
		t.Fatalf("AddRelations: %+v %v", res, err)
	}
	ents, err := c.Entities(ctx, client.ListEntitiesParams{UserID: "grapher"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]client.Entity{}
	for _, e := range ents {
		byName[e.Name] = e
	}
	acme, ok := byName["Acme"]
	if len(ents) != 3 || !ok || acme.UserID != "grapher" {
		t.Fatalf("entities: %+v", ents)
	}
	detail, err := c.Entity(ctx, acme.ID)
	if err != nil || detail.Entity.ID != acme.ID || len(detail.Relations) != 2 {
		t.Fatalf("Entity: %+v %v", detail, err)
	}
	rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "grapher", EntityID: byName["Berlin"].ID})
	if err != nil || len(rels) != 1 || rels[0].Source != "Acme" || rels[0].Relationship != "LOCATED_IN" || rels[0].Target != "Berlin" {
		t.Fatalf("relations of Berlin: %+v %v", rels, err)
	}
	if rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "grapher"}); err != nil || len(rels) != 2 {
		t.Fatalf("relations: %+v %v", rels, err)
	}
	if rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "grapher", AsOf: before}); err != nil || len(rels) != 0 {
		t.Fatalf("relations as of before: %+v %v", rels, err)
	}
	if rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "grapher", Limit: 1}); err != nil || len(rels) != 1 {
		t.Fatalf("relations, limit 1: %+v %v", rels, err)
	}
	if n, err := c.DeleteEntity(ctx, byName["Berlin"].ID); err != nil || n != 2 {
		t.Fatalf("DeleteEntity(Berlin) = %d, %v, want the entity and its relation", n, err)
	}
	if rels, err := c.Relations(ctx, client.ListRelationsParams{UserID: "grapher"}); err != nil || len(rels) != 1 {
		t.Fatalf("relations after deleting Berlin: %+v %v", rels, err)
	}
	if _, err := c.DeleteEntity(ctx, byName["Berlin"].ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("DeleteEntity twice: %v, want ErrNotFound", err)
	}
	if _, err := c.Entity(ctx, "01a2475f-8b0a-7705-ac21-f42cb8ca9999"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown entity: %v", err)
	}
}

// TestAsync: an asynchronous add answers at once with an event, which the
// server's worker (of the shared server's own tenant) runs.
func TestAsync(t *testing.T) {
	srv := server(t)
	c := client.New(srv.URL, srv.APIKey)
	ctx := testContext(t)
	acc, err := c.AddAsync(ctx, client.AddRequest{UserID: "test-async", Infer: client.Bool(false), Messages: turns("I run on Sundays")})
	if err != nil || acc.Status != client.EventAcceptedStatusPENDING || acc.EventID == "" {
		t.Fatalf("AddAsync: %+v %v", acc, err)
	}
	ev, err := c.WaitEvent(ctx, acc.EventID)
	if err != nil || ev.Status != client.EventStatusSUCCEEDED || len(ev.Results) != 1 || ev.Results[0].Memory != "I run on Sundays" ||
		ev.UserID != "test-async" || len(ev.Messages) != 1 {
		t.Fatalf("WaitEvent: %+v %v", ev, err)
	}
	m, err := c.Get(ctx, ev.Results[0].ID)
	if err != nil || !slices.Contains(m.Source, "job:"+acc.EventID) {
		t.Fatalf("the memory of an async add: %+v %v", m, err)
	}
	if _, err := c.DeleteAll(ctx, client.DeleteAllMemoriesParams{UserID: "test-async", Purge: true}); err != nil {
		t.Fatal(err)
	}
}

// TestIsolation: a key of another tenant sees and changes nothing of this
// one, whatever ids it names.
func TestIsolation(t *testing.T) {
	a, b := tenantClient(t), tenantClient(t)
	ctx := testContext(t)
	id := addRaw(t, a, "shared-name", "a secret of tenant A")[0]
	if _, err := a.AddRelations(ctx, client.AddRelationsRequest{UserID: "shared-name",
		Relations: []client.Triple{{Source: "Acme", Relationship: "owns", Target: "Widget"}}}); err != nil {
		t.Fatal(err)
	}
	ents, err := a.Entities(ctx, client.ListEntitiesParams{UserID: "shared-name"})
	if err != nil || len(ents) == 0 {
		t.Fatalf("tenant A's entities: %+v %v", ents, err)
	}

	page, err := b.List(ctx, client.ListMemoriesParams{UserID: "shared-name"})
	if err != nil || len(page.Results) != 0 {
		t.Errorf("B lists A's scope: %+v %v", page, err)
	}
	res, err := b.Search(ctx, client.SearchRequest{UserID: "shared-name", Query: "secret"})
	if err != nil || len(res.Results) != 0 || len(res.Relations) != 0 {
		t.Errorf("B searches A's scope: %+v %v", res, err)
	}
	if ents, err := b.Entities(ctx, client.ListEntitiesParams{UserID: "shared-name"}); err != nil || len(ents) != 0 {
		t.Errorf("B's entities: %+v %v", ents, err)
	}
	if rels, err := b.Relations(ctx, client.ListRelationsParams{UserID: "shared-name"}); err != nil || len(rels) != 0 {
		t.Errorf("B's relations: %+v %v", rels, err)
	}
	if _, err := b.Entity(ctx, ents[0].ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("B gets A's entity: %v", err)
	}
	if _, err := b.Get(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("B gets A's memory: %v", err)
	}
	if _, err := b.History(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("B reads A's history: %v", err)
	}
	if _, err := b.Update(ctx, id, client.UpdateRequest{Text: "overwritten"}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("B updates A's memory: %v", err)
	}
	if err := b.Delete(ctx, id); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("B deletes A's memory: %v", err)
	}
	if n, err := b.DeleteAll(ctx, client.DeleteAllMemoriesParams{UserID: "shared-name", Purge: true}); err != nil || n != 0 {
		t.Errorf("B deletes A's scope: %d %v", n, err)
	}

	m, err := a.Get(ctx, id)
	if err != nil || m.Memory != "a secret of tenant A" || m.Version != 1 {
		t.Fatalf("A's memory after B: %+v %v", m, err)
	}
	if hist, err := a.History(ctx, id); err != nil || len(hist) != 1 {
		t.Fatalf("A's history after B: %+v %v", hist, err)
	}
}

// TestRequests: what the client sends (headers, URL, query) and how it reads
// answers that are not the server's problem details, such as a proxy's page.
// An HTTP test server stands in for what sits in front of neomem.
func TestRequests(t *testing.T) {
	var got *http.Request
	answer := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"results":[]}`))
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		switch {
		case r.URL.Path == "/prefix/memories" && r.URL.Query().Get("user_id") == "behind-a-proxy":
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("X-Request-Id", "proxy-1")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		case r.URL.Path == "/prefix/memories":
			answer(w)
		case r.URL.EscapedPath() == "/prefix/memories/a%2Fb":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer ts.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	c := client.New(ts.URL+"/prefix/", "nm_key", client.WithHTTPClient(hc), client.WithUserAgent("my-app/1.0"))
	ctx := testContext(t)

	asOf := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	if _, err := c.List(ctx, client.ListMemoriesParams{UserID: "alice", Limit: 5, IncludeInvalid: true, Cursor: "c/1"}); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("X-API-Key") != "nm_key" || got.Header.Get("User-Agent") != "my-app/1.0" ||
		got.URL.RawQuery != "cursor=c%2F1&include_invalid=true&limit=5&user_id=alice" {
		t.Fatalf("List sent %s %v", got.URL, got.Header)
	}
	if _, err := c.Relations(ctx, client.ListRelationsParams{AgentID: "bot", AsOf: asOf}); err == nil {
		t.Fatal("a 418 is not an error")
	} else {
		checkNoProblem(t, err, http.StatusTeapot, "")
	}
	if got.URL.Query().Get("as_of") != "2026-01-02T02:04:05Z" || got.URL.Query().Get("agent_id") != "bot" {
		t.Fatalf("Relations sent %s", got.URL)
	}
	if _, err := c.Update(ctx, "a/b", client.UpdateRequest{Text: "x"}, client.IfMatch(7), client.IdempotencyKey("k-1")); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Update: %v", err)
	}
	if got.Method != http.MethodPut || got.Header.Get("If-Match") != `"7"` || got.Header.Get("Idempotency-Key") != "k-1" ||
		got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("Update sent %s %v", got.Method, got.Header)
	}

	plain := client.New(ts.URL+"/prefix", "nm_key")
	if _, err := plain.List(ctx, client.ListMemoriesParams{}); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("User-Agent") != client.DefaultUserAgent || got.URL.RawQuery != "" {
		t.Fatalf("default User-Agent %q, query %q", got.Header.Get("User-Agent"), got.URL.RawQuery)
	}
	_, err := plain.List(ctx, client.ListMemoriesParams{UserID: "behind-a-proxy"})
	e := checkNoProblem(t, err, http.StatusBadGateway, "<html>bad gateway</html>")
	if !errors.Is(err, client.ErrUnavailable) || e.RequestID != "proxy-1" || e.RetryAfter < 80*time.Second || e.RetryAfter > 90*time.Second {
		t.Fatalf("502 from a proxy: %+v", e)
	}
}

// checkNoProblem: an answer without problem details is still an *Error with
// the status, the standard title and the body's beginning.
func checkNoProblem(t *testing.T, err error, status int, detail string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Title != http.StatusText(status) || e.Detail != detail {
		t.Fatalf("error %#v, want status %d detail %q", err, status, detail)
	}
	return e
}
