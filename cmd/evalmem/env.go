package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/neomem/neomem/client"
	"github.com/neomem/neomem/cmd/internal/launch"
)

// Env is what a run measures: a neomem server (started here or given with
// -url), its tenant's key, the embedder both systems use, and the Mem0
// side-cars started per mode (closed with the mode's systems).
type Env struct {
	URL, Key string
	EmbedURL string
	Embedder string
	Tenant   string
	dir      string
	procs    []*launch.Proc
	keep     bool
	users    []string
	log      io.Writer
}

// startEnv starts the embedder and neomem unless -url names a server.
func startEnv(ctx context.Context, o options, getenv func(string) string, log io.Writer) (*Env, error) {
	dir, err := os.MkdirTemp("", "evalmem-")
	if err != nil {
		return nil, err
	}
	env := &Env{URL: o.url, Key: o.key, EmbedURL: o.embedURL, dir: dir, keep: o.keep, log: log}
	if o.url != "" {
		env.Embedder = "the server's"
		return env, nil
	}
	fake, addr, err := launch.Start(ctx, "fakellm", o.fakellm, []string{"-addr", "127.0.0.1:0", "-embedder", o.embedder},
		os.Environ(), dir, launch.FakeLLMReady, 2*time.Minute)
	if err != nil {
		env.Close()
		return nil, buildHint(err)
	}
	env.procs = append(env.procs, fake)
	env.EmbedURL = "http://" + addr + "/v1"
	env.Embedder = o.embedder
	if o.embedder == "local" {
		env.Embedder = "all-MiniLM-L6-v2 (local ONNX, served by cmd/fakellm over /v1/embeddings)"
	}
	vars := map[string]string{
		"NEOMEM_ADDR": "127.0.0.1:0", "NEOMEM_RATE_LIMIT": "0", "NEOMEM_LOG_FORMAT": "text", "NEOMEM_WORKERS": "0",
		"NEOMEM_EMBEDDER": "openai-compatible", "NEOMEM_EMBEDDING_MODEL": o.embedModel, "NEOMEM_EMBEDDING_DIMS": "384",
		"NEOMEM_EMBEDDING_BASE_URL": env.EmbedURL,
		// Every question is asked in two timed passes: without this the
		// second would skip the embedder Mem0 calls every time.
		"NEOMEM_QUERY_CACHE": "0",
	}
	if getenv("NEOMEM_LLM_PROVIDER") == "" && getenv("NEOMEM_LLM_BASE_URL") == "" {
		// Without a configured model the llm mode cannot run; the others
		// never call one.
		vars["NEOMEM_LLM_PROVIDER"] = "none"
	}
	penv := os.Environ()
	for k, v := range vars {
		penv = append(penv, k+"="+v)
	}
	srv, addr, err := launch.Start(ctx, "neomem", o.server, nil, penv, dir, launch.ServerReady, 3*time.Minute)
	if err != nil {
		env.Close()
		return nil, buildHint(err)
	}
	env.procs = append(env.procs, srv)
	env.URL = "http://" + addr
	env.Tenant = fmt.Sprintf("eval-%d", time.Now().UnixNano())
	out, err := exec.CommandContext(ctx, o.server, "keys", "create", "-tenant", env.Tenant, "-name", "evalmem", "-admin").Output()
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("create a key: %w", err)
	}
	env.Key = strings.TrimSpace(string(out))
	return env, nil
}

// Client is a client of the measured server.
func (e *Env) Client() *client.Client {
	return client.New(e.URL, e.Key, client.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute}))
}

// Systems returns the systems one mode measures: neomem first (its users
// are deleted at the end unless -keep), its vector-only ranking, then Mem0.
func (e *Env) Systems(ctx context.Context, o options, mode string) ([]System, error) {
	w, err := parseWeights(o.weights)
	if err != nil {
		return nil, err
	}
	c := e.Client()
	out := []System{&neomemSystem{name: "neomem", c: c, weights: w, infer: mode == "llm", window: o.window}}
	if o.vectorOnly {
		out = append(out, &neomemSystem{name: "neomem vector-only", c: c, shared: true,
			weights: &client.SearchWeights{Vector: client.Float(1), Text: client.Float(0), Graph: client.Float(0), Time: client.Float(0)}})
	}
	if o.compare == "mem0" {
		dir := filepath.Join(e.dir, "mem0-"+mode)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		m, err := startMem0(ctx, o.mem0Python, o.mem0Sidecar, e.EmbedURL, o.embedModel, 384, dir)
		if err != nil {
			return nil, fmt.Errorf("start Mem0: %w", err)
		}
		// Rankings are compared whole: no similarity floor (Mem0's search
		// drops hits below 0.1 by default).
		zero := 0.0
		m.Threshold = &zero
		if _, err := m.Info(ctx); err != nil {
			_ = m.Close()
			return nil, fmt.Errorf("Mem0 info: %w", err)
		}
		out = append(out, m)
	}
	for _, v := range o.variants {
		vw, _ := parseWeights(v.weights)
		out = append(out, &neomemSystem{name: v.name, c: c, weights: vw, shared: true})
	}
	return out, nil
}

// deleteAtEnd names a user whose memories Close deletes.
func (e *Env) deleteAtEnd(user string) { e.users = append(e.users, user) }

// Close deletes what the run stored in neomem (unless -keep) and stops the
// processes it started, by PID.
func (e *Env) Close() {
	if !e.keep && e.Key != "" && e.URL != "" {
		c := e.Client()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		for _, u := range e.users {
			if _, err := c.DeleteAll(ctx, client.DeleteAllMemoriesParams{UserID: u}); err != nil {
				fmt.Fprintf(e.log, "evalmem: delete %s: %v\n", u, err)
			}
		}
		cancel()
	}
	for i := len(e.procs) - 1; i >= 0; i-- {
		e.procs[i].Stop()
	}
	if !e.keep {
		_ = os.RemoveAll(e.dir)
	} else {
		fmt.Fprintf(e.log, "evalmem: kept %s (logs, Mem0 stores) and tenant %s\n", e.dir, e.Tenant)
	}
}

// buildHint says how to get a binary that is missing.
func buildHint(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (make eval builds it)", err)
	}
	return err
}

// tempPath is a " at /tmp/…" in a note.
var tempPath = regexp.MustCompile(` at /\S+`)
