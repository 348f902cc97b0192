package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startWithPprof runs the server until it listens and returns the API's base
// URL and the pprof listener's ("" when the log announced none before the API
// listened).
func startWithPprof(t *testing.T, getenv func(string) string) (api, pprofBase string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, getenv, pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	type addrs struct{ api, pprof string }
	ready := make(chan addrs, 1)
	go func() {
		var a addrs
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "pprof listening":
				a.pprof = "http://" + line.Addr
			case "listening":
				a.api = "http://" + line.Addr
				ready <- a
			}
		}
		close(ready)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30s")
		}
	})
	select {
	case a, ok := <-ready:
		if !ok {
			t.Fatalf("server stopped before listening: %v", <-done)
		}
		return a.api, a.pprof
	case <-time.After(90 * time.Second):
		t.Fatal("server did not start within 90s")
	}
	return "", ""
}

// get returns the status and body of a GET.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestPprofOffByDefault(t *testing.T) {
	api, pprofBase := startWithPprof(t, env(t, nil))
	if pprofBase != "" {
		t.Errorf("without NEOMEM_PPROF_ADDR the server announced a pprof listener at %s", pprofBase)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/heap"} {
		if code, _ := get(t, api+path); code != http.StatusNotFound {
			t.Errorf("GET %s on the API port = %d, want 404", path, code)
		}
	}
}

func TestPprofOnItsOwnListener(t *testing.T) {
	api, pprofBase := startWithPprof(t, env(t, map[string]string{"NEOMEM_PPROF_ADDR": "127.0.0.1:0"}))
	if pprofBase == "" {
		t.Fatal("with NEOMEM_PPROF_ADDR the server announced no pprof listener")
	}
	if pprofBase == api {
		t.Fatalf("pprof listens on the API's address %s", api)
	}
	code, body := get(t, pprofBase+"/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ on the pprof listener = %d %.200q, want 200 with the profile index", code, body)
	}
	if code, body := get(t, pprofBase+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("GET /debug/pprof/goroutine?debug=1 = %d %.200q, want 200 with a goroutine profile", code, body)
	}
	// The API stays without profiles, and the pprof listener without the API.
	if code, _ := get(t, api+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on the API port = %d, want 404", code)
	}
	if code, _ := get(t, pprofBase+"/healthz"); code != http.StatusNotFound {
		t.Errorf("GET /healthz on the pprof listener = %d, want 404", code)
	}
	if code, _ := get(t, api+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz on the API port = %d, want 200", code)
	}
}

func TestPprofListener(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := servePprof("256.0.0.1:bad", log); err == nil || !strings.Contains(err.Error(), "NEOMEM_PPROF_ADDR") {
		t.Errorf("servePprof(bad address) = %v, want an error naming NEOMEM_PPROF_ADDR", err)
	}
	var b strings.Builder
	stop, err := servePprof("127.0.0.1:0", slog.New(slog.NewJSONHandler(&b, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var line struct{ Msg, Addr string }
	if err := json.Unmarshal([]byte(b.String()), &line); err != nil || line.Msg != "pprof listening" || line.Addr == "" {
		t.Fatalf("servePprof logged %q, want a \"pprof listening\" line with the address", b.String())
	}
	if code, _ := get(t, "http://"+line.Addr+"/debug/pprof/cmdline"); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/cmdline = %d, want 200", code)
	}
	stop()
	if resp, err := http.Get("http://" + line.Addr + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		t.Error("the pprof listener still answers after stop")
	}
}
