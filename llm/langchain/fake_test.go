package langchain

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// reply is one scripted answer of a fake provider.
type reply struct {
	status int
	header map[string]string
	body   string
}

// received is one request a fake provider got.
type received struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// JSON decodes the request body into generic values for cmp.Diff.
func (r received) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("request body %s is not JSON: %v", r.body, err)
	}
	return m
}

// fake is an httptest.Server speaking a provider's wire format: it records
// every request and answers with the scripted replies in order (the last one
// repeats).
type fake struct {
	*httptest.Server
	mu      sync.Mutex
	replies []reply
	got     []received
}

func newFake(t *testing.T, replies ...reply) *fake {
	t.Helper()
	f := &fake{replies: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.got = append(f.got, received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	rep := f.replies[min(len(f.got), len(f.replies))-1]
	f.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, rep.body)
}

// requests returns what the fake received so far.
func (f *fake) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// only returns the single request the fake received.
func (f *fake) only(t *testing.T) received {
	t.Helper()
	got := f.requests()
	if len(got) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(got))
	}
	return got[0]
}

// jsonOf decodes a JSON literal of a test.
func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}
