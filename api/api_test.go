package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neomem/neomem/graph"
)

// checker is a fixed readiness answer: the api package's own seam, not Neo4j.
type checker ReadyReport

func (c checker) Check(context.Context) ReadyReport { return ReadyReport(c) }

func serve(t *testing.T, e *echo.Echo, method, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
	}
	return rec, body
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestReadyz(t *testing.T) {
	online := []IndexStatus{{Name: "memory_embedding", State: "ONLINE", Population: 100}}
	tests := []struct {
		name       string
		ready      ReadyReport
		wantStatus int
		wantError  string
	}{
		{"ready", ReadyReport{Reachable: true, Version: "5.26.30", Indexes: online}, 200, ""},
		{"unreachable", ReadyReport{Err: graph.Wrap(graph.Unavailable, "ping", errors.New("dial tcp 10.0.0.1:7687: refused"))}, 503, "neo4j unavailable"},
		{"unreachable with a reason", ReadyReport{Err: graph.Wrap(graph.Unavailable, "ping", errors.New("dial tcp 10.0.0.1:7687: refused")),
			Reason: "cannot connect to Neo4j"}, 503, "cannot connect to Neo4j"},
		{"populating", ReadyReport{Reachable: true, Version: "5.26.30", Indexes: []IndexStatus{{Name: "memory_embedding", State: "POPULATING", Population: 40}}}, 503,
			"index memory_embedding is POPULATING (40%)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{Logger: quiet(), Checker: checker(tt.ready)})
			rec, body := serve(t, e, http.MethodGet, "/readyz")
			if rec.Code != tt.wantStatus {
				t.Fatalf("/readyz = %d %v, want %d", rec.Code, body, tt.wantStatus)
			}
			if got, _ := body["error"].(string); got != tt.wantError {
				t.Fatalf("/readyz error = %q, want %q (no driver text leaks)", got, tt.wantError)
			}
		})
	}
}

func TestErrorsAreProblemJSON(t *testing.T) {
	e := New(Options{Logger: quiet(), Checker: checker{}, AuthDisabled: true, DefaultTenant: "t"})
	e.GET("/boom/:kind", func(c echo.Context) error {
		switch c.Param("kind") {
		case "invalid":
			return graph.InvalidFields("op", graph.FieldError{Path: "user_id", Message: "is required"})
		case "notfound":
			return graph.E(graph.NotFound, "get", "memory x not found")
		case "conflict":
			return graph.E(graph.Conflict, "create", "exists")
		case "unavailable":
			return graph.Wrap(graph.Unavailable, "ping", errors.New("down"))
		default:
			return errors.New("secret internal detail")
		}
	})
	tests := []struct {
		kind   string
		status int
	}{{"invalid", 400}, {"notfound", 404}, {"conflict", 409}, {"unavailable", 503}, {"other", 500}}
	for _, tt := range tests {
		rec, body := serve(t, e, http.MethodGet, "/boom/"+tt.kind)
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d problem+json", tt.kind, rec.Code, rec.Header().Get("Content-Type"), tt.status)
		}
		if body["request_id"] == "" || body["status"] != float64(tt.status) {
			t.Errorf("%s: body %v lacks request id or status", tt.kind, body)
		}
		if tt.kind == "other" && body["detail"] != nil {
			t.Errorf("500 body carries internals: %v", body)
		}
		if tt.kind == "invalid" {
			errs, _ := body["errors"].([]any)
			if len(errs) != 1 {
				t.Errorf("invalid: field errors %v", body["errors"])
			}
		}
	}
}

// countingAuth knows one key and counts lookups.
type countingAuth struct {
	good    string
	lookups int
}

func (a *countingAuth) Authenticate(_ context.Context, key string) (graph.APIKey, error) {
	a.lookups++
	if key == a.good {
		return graph.APIKey{Tenant: "t", ID: "k"}, nil
	}
	return graph.APIKey{}, graph.E(graph.NotFound, "authenticate", "no such key")
}

// TestFailedAuthIsLimited: bad keys from one address are answered 401 up to
// a burst, then 429; a bad key is looked up once, not on every attempt.
func TestFailedAuthIsLimited(t *testing.T) {
	auth := &countingAuth{good: "nm_good"}
	e := New(Options{Logger: quiet(), Checker: checker{}, Auth: auth})
	try := func(key, addr string) int {
		req := httptest.NewRequest(http.MethodGet, "/memories?user_id=u", nil)
		req.Header.Set("X-API-Key", key)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	codes := map[int]int{}
	for range 30 {
		codes[try("nm_guess", "198.51.100.7:4000")]++
	}
	if codes[401] != failureBurst || codes[429] != 30-failureBurst {
		t.Fatalf("30 bad keys from one address: %v, want %d × 401 then 429", codes, failureBurst)
	}
	if auth.lookups != 1 {
		t.Fatalf("one bad key looked up %d times, want once", auth.lookups)
	}
	// Another address is not affected.
	if code := try("nm_other_guess", "198.51.100.8:4000"); code != 401 {
		t.Fatalf("a bad key from another address: %d, want 401", code)
	}
	// A key that worked from the blocked address keeps working there
	// (without a lookup); a new guess does not get one.
	if code := try("nm_good", "198.51.100.9:4000"); code == 401 || code == 429 {
		t.Fatalf("the good key: %d", code)
	}
	for range failureBurst + 1 {
		try("nm_guess", "198.51.100.9:4000")
	}
	before := auth.lookups
	if code := try("nm_good", "198.51.100.9:4000"); code == 401 || code == 429 {
		t.Fatalf("a working key from a blocked address: %d", code)
	}
	if code := try("nm_new_guess", "198.51.100.9:4000"); code != 429 || auth.lookups != before {
		t.Fatalf("a new guess from a blocked address: %d after %d lookups, want 429 and none", code, auth.lookups-before)
	}
}

// TestStrictBodies: what is not one JSON object of type application/json is
// refused with what is wrong.
func TestStrictBodies(t *testing.T) {
	e := New(Options{Logger: quiet(), Checker: checker{}, AuthDisabled: true, DefaultTenant: "t", BodyLimit: "1K"})
	tests := []struct {
		name, ct, body string
		want           int
	}{
		{"trailing garbage", "application/json", `{}}}`, 400},
		{"two values", "application/json", `{} {}`, 400},
		{"null", "application/json", `null`, 400},
		{"empty", "application/json", ``, 400},
		{"not json", "application/json", `{"a":`, 400},
		{"jsonx", "application/jsonx", `{}`, 415},
		{"text", "text/plain", `{}`, 415},
		{"too large", "application/json", `{"user_id":"` + strings.Repeat("x", 2000) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/keys", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ct)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("POST /keys %q (%s) = %d %s, want %d", tt.body, tt.ct, rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}

// TestRequestsMatchTheDocument: what openapi.yaml declares (types, ranges,
// lengths) is enforced for every route before any handler runs, with the
// bad field's path.
func TestRequestsMatchTheDocument(t *testing.T) {
	e := New(Options{Logger: quiet(), Checker: checker{}, AuthDisabled: true, DefaultTenant: "t"})
	long := strings.Repeat("n", 257)
	tests := []struct {
		name, method, path, body, field string
	}{
		{"graph limit below", "GET", "/graph?user_id=u&limit=-3", "", "limit"},
		{"graph limit above", "GET", "/graph?user_id=u&limit=5001", "", "limit"},
		{"list limit zero", "GET", "/memories?user_id=u&limit=0", "", "limit"},
		{"message name too long", "POST", "/memories", `{"user_id":"u","messages":[{"role":"user","content":"hi","name":"` + long + `"}]}`, "messages[0].name"},
		{"top_k above", "POST", "/search", `{"user_id":"u","query":"q","top_k":1000}`, "top_k"},
		{"role not allowed", "POST", "/memories", `{"user_id":"u","messages":[{"role":"robot","content":"hi"}]}`, "messages[0].role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, tt.path, body)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"path":"`+tt.field+`"`) {
				t.Fatalf("%s %s = %d %s, want 400 naming %s", tt.method, tt.path, rec.Code, rec.Body.String(), tt.field)
			}
		})
	}
}
