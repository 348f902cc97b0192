package main

// The Mem0 side of the side-by-side run: Mem0's open-source Memory runs in a
// Python child process (tests/eval/mem0/sidecar.py, in the venv that
// tests/eval/mem0/setup.sh builds) and is driven over JSON lines on its
// stdin and stdout, one request at a time. It stores every item with
// infer=False, one memory per item holding exactly the item's text and
// metadata, in its default local Qdrant store, and embeds through the same
// OpenAI-compatible endpoint as neomem (cmd/fakellm), so both systems see the
// same vectors.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mem0System is a System backed by a Mem0 sidecar process.
type mem0System struct {
	// Threshold, when set, is Mem0's minimum cosine score for a search hit;
	// nil keeps Mem0's own default (0.1).
	Threshold *float64

	cmd     *exec.Cmd
	life    context.Context // bounds the process's life
	stdin   io.WriteCloser
	outR    *os.File
	out     *bufio.Reader
	logPath string
	logFile *os.File
	version string
	exited  chan struct{} // closed once the process has been reaped

	mu     sync.Mutex
	broken error // set once the process is gone or out of step; every later call fails with it
	closed bool
}

// mem0Info is what the sidecar reports about the Mem0 it runs.
type mem0Info struct {
	Version string   `json:"version"`
	Hybrid  bool     `json:"hybrid"` // whether any of Mem0's hybrid signals (BM25, entity boosts) is live
	Notes   []string `json:"notes"`
}

var errMem0Closed = errors.New("mem0 sidecar: closed")

// mem0StartTimeout bounds the wait for the sidecar's ready line (importing
// Mem0 and opening its stores takes a few seconds).
const mem0StartTimeout = 2 * time.Minute

// startMem0 starts `python sidecar --embed-url embedURL --embed-model
// embedModel --dims dims --dir dir` and waits until Mem0 is ready. dir holds
// Mem0's Qdrant store, its history DB and the sidecar's log (sidecar.log).
// ctx bounds the process's whole life, as with exec.CommandContext: when it
// ends the process is killed. Close it when done.
func startMem0(ctx context.Context, python, sidecar, embedURL, embedModel string, dims int, dir string) (*mem0System, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "sidecar.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// A pipe of our own rather than cmd.StdoutPipe: Wait (run as soon as the
	// process starts) must not close the reading end under a pending read.
	outR, outW, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd := exec.CommandContext(ctx, python, sidecar,
		"--embed-url", embedURL, "--embed-model", embedModel, "--dims", strconv.Itoa(dims), "--dir", dir)
	cmd.Env = append(os.Environ(), "MEM0_TELEMETRY=False", "PYTHONUNBUFFERED=1", "PYTHONIOENCODING=utf-8")
	cmd.Stdout = outW
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logFile.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("mem0 sidecar: %w", err)
	}
	outW.Close()
	s := &mem0System{
		cmd:     cmd,
		life:    ctx,
		stdin:   stdin,
		outR:    outR,
		out:     bufio.NewReaderSize(outR, 1<<16),
		logPath: logPath,
		logFile: logFile,
		exited:  make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	sctx, cancel := context.WithTimeout(ctx, mem0StartTimeout)
	defer cancel()
	var ready struct {
		Ready   bool   `json:"ready"`
		Version string `json:"version"`
	}
	s.mu.Lock()
	err = s.exchange(sctx, nil, &ready)
	s.mu.Unlock()
	if err == nil && !ready.Ready {
		err = fmt.Errorf("mem0 sidecar: unexpected first line (want ready)")
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("starting mem0 sidecar (log %s): %w", logPath, err)
	}
	s.version = ready.Version
	return s, nil
}

// Name implements System.
func (s *mem0System) Name() string { return "mem0" }

// Version is the mem0ai version the sidecar runs.
func (s *mem0System) Version() string { return s.version }

// PID is the sidecar's process id.
func (s *mem0System) PID() int { return s.cmd.Process.Pid }

type mem0Item struct {
	Text      string         `json:"text"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Timestamp int64          `json:"timestamp,omitempty"`
}

// Ingest implements System: every item becomes exactly one Mem0 memory
// (infer=False) with the item's text and metadata, scoped to user.
func (s *mem0System) Ingest(ctx context.Context, user string, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	req := struct {
		Op     string     `json:"op"`
		UserID string     `json:"user_id"`
		Items  []mem0Item `json:"items"`
	}{Op: "add", UserID: user, Items: make([]mem0Item, len(items))}
	for i, it := range items {
		req.Items[i] = mem0Item{Text: it.Text, Metadata: it.Metadata}
		if !it.At.IsZero() {
			req.Items[i].Timestamp = it.At.Unix()
		}
	}
	var resp struct {
		N int `json:"n"`
	}
	if err := s.call(ctx, req, &resp); err != nil {
		return err
	}
	if resp.N != len(items) {
		return fmt.Errorf("mem0 sidecar: stored %d memories for %d items", resp.N, len(items))
	}
	return nil
}

// Search implements System with Mem0's search scoped by filters={"user_id": user}.
func (s *mem0System) Search(ctx context.Context, user, query string, k int) ([]Hit, error) {
	if k <= 0 {
		return nil, nil
	}
	req := struct {
		Op        string   `json:"op"`
		UserID    string   `json:"user_id"`
		Query     string   `json:"query"`
		Limit     int      `json:"limit"`
		Threshold *float64 `json:"threshold,omitempty"`
	}{Op: "search", UserID: user, Query: query, Limit: k, Threshold: s.Threshold}
	var resp struct {
		Hits []struct {
			ID       string         `json:"id"`
			Text     string         `json:"text"`
			Score    float64        `json:"score"`
			Metadata map[string]any `json:"metadata"`
		} `json:"hits"`
	}
	if err := s.call(ctx, req, &resp); err != nil {
		return nil, err
	}
	hits := make([]Hit, len(resp.Hits))
	for i, h := range resp.Hits {
		hits[i] = Hit{Text: h.Text, Metadata: h.Metadata, Score: h.Score}
	}
	return hits, nil
}

// Info asks the sidecar which Mem0 it runs and how it ranks (whether its
// hybrid scoring is live, and what Mem0 logged about it).
func (s *mem0System) Info(ctx context.Context) (mem0Info, error) {
	var info mem0Info
	err := s.call(ctx, map[string]string{"op": "info"}, &info)
	return info, err
}

// Notes are the report's notes on this Mem0: its version, how it ranks, and
// what the sidecar saw (asked again each time: an add can add to them).
func (s *mem0System) Notes() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := s.Info(ctx)
	if err != nil {
		return []string{"info: " + err.Error()}
	}
	notes := []string{"mem0ai " + info.Version + ", search threshold 0 (its default 0.1 would drop hits)"}
	for _, n := range info.Notes {
		// This run sets the threshold; the store's directory is temporary.
		if strings.HasPrefix(n, "search threshold:") {
			continue
		}
		notes = append(notes, tempPath.ReplaceAllString(n, ""))
	}
	return notes
}

// Close implements System: it asks the sidecar to close, waits briefly for it
// to exit, and kills it if it does not.
func (s *mem0System) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.broken == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.exchange(ctx, map[string]string{"op": "close"}, nil)
		cancel()
	}
	s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.kill()
		<-s.exited
	}
	s.outR.Close()
	s.logFile.Close()
	s.broken = errMem0Closed
	return err
}

// call sends one request and decodes its response into resp, one call at a time.
func (s *mem0System) call(ctx context.Context, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchange(ctx, req, resp)
}

// exchange writes req (unless nil) and reads one response line into resp
// (unless nil); s.mu must be held. If ctx ends meanwhile the process is
// killed: the protocol cannot skip an answer it never reads.
func (s *mem0System) exchange(ctx context.Context, req, resp any) error {
	if s.broken != nil {
		return s.broken
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var line []byte
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return err
		}
		line = append(b, '\n')
	}
	stop := context.AfterFunc(ctx, s.kill)
	var err error
	if line != nil {
		_, err = s.stdin.Write(line)
	}
	var got []byte
	if err == nil {
		got, err = s.out.ReadBytes('\n')
	}
	if !stop() {
		// ctx ended and the process is being killed, answer or not.
		s.broken = fmt.Errorf("mem0 sidecar: killed: %w", context.Cause(ctx))
		return s.broken
	}
	if err != nil {
		s.kill()
		if s.life.Err() != nil {
			s.broken = fmt.Errorf("mem0 sidecar: killed: %w", context.Cause(s.life))
		} else {
			s.broken = fmt.Errorf("mem0 sidecar: %v%s", err, s.logTail())
		}
		return s.broken
	}
	var env struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(got, &env); err != nil {
		s.kill()
		s.broken = fmt.Errorf("mem0 sidecar: bad response %q: %v", truncate(got, 200), err)
		return s.broken
	}
	if !env.OK {
		if env.Error == "" {
			env.Error = "request failed"
		}
		return fmt.Errorf("mem0 sidecar: %s", env.Error)
	}
	if resp != nil {
		if err := json.Unmarshal(got, resp); err != nil {
			return fmt.Errorf("mem0 sidecar: decoding %q: %w", truncate(got, 200), err)
		}
	}
	return nil
}

// kill ends the process by its PID; reaping is left to the Wait goroutine.
func (s *mem0System) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}

// logTail returns the end of the sidecar's log, for errors.
func (s *mem0System) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return "; its log ends:\n" + strings.TrimSpace(string(b))
}

func truncate(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

var _ System = (*mem0System)(nil)
