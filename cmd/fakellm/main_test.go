package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startFake runs the command with args (plus -addr 127.0.0.1:0) until the
// test ends and returns its base URL.
func startFake(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, pw)
		pw.Close()
	}()
	var line struct{ Msg, Addr string }
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if line.Addr == "" {
		cancel()
		t.Fatalf("fakellm did not start: %v", <-done)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fakellm: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("fakellm did not shut down")
		}
	})
	return "http://" + line.Addr
}

// chat sends one chat request and returns its status.
func chat(ctx context.Context, base string) (int, error) {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func stats(t *testing.T, base string) map[string]int {
	t.Helper()
	resp, err := http.Get(base + "/v1/_stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFakeLLMServesScriptAndStats(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(script, []byte(`{"replies":[{"tool_calls":[{"name":"noop","arguments":{}}]}]}`), 0o644)
	base := startFake(t, "-script", script, "-dims", "8")
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("chat status %d %v", resp.StatusCode, out)
	}
	st := stats(t, base)
	if st["chat_calls"] != 1 || st["prompt_tokens"] == 0 || st["pending"] != 0 || st["in_flight"] != 0 {
		t.Fatalf("stats = %v", st)
	}
}

// TestFakeLLMDelays: -delay pauses every reply, a reply's delay_ms overrides
// it (0 included), and a caller that goes away ends the pause; /v1/_stats
// shows the call in flight meanwhile.
func TestFakeLLMDelays(t *testing.T) {
	const def = 300 * time.Millisecond
	base := startFake(t, "-delay", def.String(), "-dims", "8")
	reply := `{"content":"ok"}`
	script := `{"replies":[{"content":"fast","delay_ms":0},` + reply + `,{"content":"slow","delay_ms":60000}]}`
	resp, err := http.Post(base+"/v1/_script", "application/json", strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	var queued map[string]int
	json.NewDecoder(resp.Body).Decode(&queued)
	resp.Body.Close()
	if resp.StatusCode != 200 || queued["queued"] != 3 || queued["pending"] != 3 {
		t.Fatalf("POST /v1/_script = %d %v, want 200 with 3 queued and pending", resp.StatusCode, queued)
	}

	ctx := context.Background()
	start := time.Now()
	if code, err := chat(ctx, base); err != nil || code != 200 {
		t.Fatalf("reply 1 (delay_ms 0): %d %v", code, err)
	}
	if took := time.Since(start); took >= def {
		t.Errorf("reply 1 (delay_ms 0) took %v, want less than the default %v", took, def)
	}
	start = time.Now()
	if code, err := chat(ctx, base); err != nil || code != 200 {
		t.Fatalf("reply 2 (default delay): %d %v", code, err)
	}
	if took := time.Since(start); took < def {
		t.Errorf("reply 2 (default delay) took %v, want at least %v", took, def)
	}

	// Reply 3 waits 60 s unless its caller goes away.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := chat(cctx, base)
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for st := stats(t, base); st["in_flight"] != 1 || st["pending"] != 0; st = stats(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %v, want in_flight 1 and pending 0 while reply 3 waits", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("reply 3 answered; want the call cancelled while it waits")
	}
	for st := stats(t, base); st["in_flight"] != 0; st = stats(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %v, want in_flight 0 once the caller went away", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFakeLLMRejectsNegativeDelays(t *testing.T) {
	base := startFake(t, "-dims", "8")
	resp, err := http.Post(base+"/v1/_script", "application/json", strings.NewReader(`{"replies":[{"content":"x","delay_ms":-1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /v1/_script with delay_ms -1 = %d, want 400", resp.StatusCode)
	}
	if st := stats(t, base); st["pending"] != 0 {
		t.Errorf("pending = %d after a rejected script, want 0", st["pending"])
	}
	if err := run(context.Background(), []string{"-delay", "-1s"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("run with -delay -1s succeeded, want an error")
	}
}
