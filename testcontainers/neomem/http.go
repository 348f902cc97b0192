package neomem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Call sends one request to a neomem server with an API key (X-API-Key)
// and headers, body as JSON when not nil, and returns the status, the
// headers and the decoded JSON object body (nil when the body is not an
// object). It returns errors instead of failing a test, so goroutines other
// than the test's own may use it.
func Call(hc *http.Client, base, key, method, path string, hdr map[string]string, body any) (int, http.Header, map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-API-Key", key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			return 0, nil, nil, fmt.Errorf("%s %s: %w: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, resp.Header, out, nil
}

// WaitEvent polls an asynchronous add's event (path, e.g. /events/<id>)
// until it is SUCCEEDED or FAILED and returns it; it fails the test on an
// error answer or after 30 s.
func WaitEvent(t testing.TB, hc *http.Client, base, key, path string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, ev, err := Call(hc, base, key, "GET", path, nil, nil)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v %v", path, code, ev, err)
		}
		if s := ev["status"]; s == "SUCCEEDED" || s == "FAILED" {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s still %v after 30s", path, ev["status"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
