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
	"testing"
	"time"
)

func TestFakeLLMServesScriptAndStats(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(script, []byte(`{"replies":[{"tool_calls":[{"name":"noop","arguments":{}}]}]}`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-script", script, "-dims", "8"}, func(string) string { return "" }, pw)
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
	base := "http://" + line.Addr
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
	resp, err = http.Get(base + "/v1/_stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]int
	json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats["chat_calls"] != 1 || stats["prompt_tokens"] == 0 {
		t.Fatalf("stats = %v", stats)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}
