package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMem0DiaIDs checks that diaIDs reads the shapes Mem0 hits carry.
func TestMem0DiaIDs(t *testing.T) {
	for _, tc := range []struct {
		md   map[string]any
		want []string
	}{
		{map[string]any{"dia_ids": []string{"D1:1", "D1:2"}}, []string{"D1:1", "D1:2"}},
		{map[string]any{"dia_ids": []any{"D1:1", 3.0, "D2:4"}}, []string{"D1:1", "D2:4"}},
		{map[string]any{"dia_ids": []any{}}, nil},
		{map[string]any{"session": 1.0}, nil},
		{nil, nil},
	} {
		if got := diaIDs(tc.md); !slices.Equal(got, tc.want) {
			t.Errorf("diaIDs(%v) = %q, want %q", tc.md, got, tc.want)
		}
	}
}

// TestMem0Sidecar runs Mem0 (in the venv of tests/eval/mem0/setup.sh, named
// by NEOMEM_EVAL_MEM0_PYTHON) against cmd/fakellm's hash embedder.
func TestMem0Sidecar(t *testing.T) {
	python := os.Getenv("NEOMEM_EVAL_MEM0_PYTHON")
	if python == "" {
		t.Skip("NEOMEM_EVAL_MEM0_PYTHON is not set (the python printed by tests/eval/mem0/setup.sh)")
	}
	sidecar, err := filepath.Abs(filepath.Join("..", "..", "tests", "eval", "mem0", "sidecar.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	embedURL := startMem0FakeLLM(t)

	dir := t.TempDir()
	m0, err := startMem0(ctx, python, sidecar, embedURL, "hash", 384, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m0.Close() })
	if m0.Version() != "2.2.1" {
		t.Errorf("version %q, want 2.2.1", m0.Version())
	}

	// Two conversations; one sentence is said in both, with different ids.
	shared := "Melanie: I painted a lake at sunrise last weekend."
	conv := map[string][]Item{
		"conv-a": {
			{Text: "Caroline: I went to a LGBTQ support group yesterday and it was powerful.", Metadata: mem0MD("D1:1", 1, "1:56 pm on 8 May, 2023")},
			{Text: shared, Metadata: mem0MD("D1:2", 1, "1:56 pm on 8 May, 2023")},
			{Text: "Caroline: I'm keen on counseling — \"mental health\" work, ünïcode and all.\nSecond line.", Metadata: mem0MD("D1:3", 1, "1:56 pm on 8 May, 2023")},
			{Text: "Melanie: We went camping with the kids at the beach.", Metadata: map[string]any{"dia_ids": []string{"D2:1", "D2:2"}, "session": 2, "date": "1:14 pm on 25 May, 2023"}},
		},
		"conv-b": {
			{Text: "Jon: I lost my job as a banker and want to open a dance studio.", Metadata: mem0MD("D1:1", 1, "4:04 pm on 20 January, 2023")},
			{Text: shared, Metadata: mem0MD("D1:9", 1, "4:04 pm on 20 January, 2023")},
			{Text: "Gina: My clothing store got a big order from a retailer.", Metadata: mem0MD("D1:2", 1, "4:04 pm on 20 January, 2023")},
		},
	}
	for _, user := range []string{"conv-a", "conv-b"} {
		if err := m0.Ingest(ctx, user, conv[user]); err != nil {
			t.Fatalf("ingest %s: %v", user, err)
		}
	}

	// ownOf maps each of user's texts to its dia_ids.
	ownOf := func(user string) map[string][]string {
		m := map[string][]string{}
		for _, it := range conv[user] {
			m[it.Text] = diaIDs(it.Metadata)
		}
		return m
	}
	for user, other := range map[string]string{"conv-a": "conv-b", "conv-b": "conv-a"} {
		own := ownOf(user)
		for _, it := range conv[user] {
			hits, err := m0.Search(ctx, user, it.Text, 10)
			if err != nil {
				t.Fatalf("search %s %q: %v", user, it.Text, err)
			}
			if len(hits) == 0 {
				t.Fatalf("search %s %q: no hits", user, it.Text)
			}
			top := hits[0]
			if top.Text != it.Text {
				t.Errorf("search %s %q: first hit %q", user, it.Text, top.Text)
			}
			if got, want := diaIDs(top.Metadata), diaIDs(it.Metadata); !slices.Equal(got, want) {
				t.Errorf("search %s %q: dia_ids %q, want %q", user, it.Text, got, want)
			}
			if top.Metadata["date"] != it.Metadata["date"] || top.Metadata["session"] != float64(it.Metadata["session"].(int)) {
				t.Errorf("search %s %q: metadata %v, want %v", user, it.Text, top.Metadata, it.Metadata)
			}
			if top.Score < 0.99 {
				t.Errorf("search %s %q: exact text scored %v", user, it.Text, top.Score)
			}
			for i, h := range hits {
				if want, ok := own[h.Text]; !ok || !slices.Equal(diaIDs(h.Metadata), want) {
					t.Errorf("search %s %q: hit %d %q %v is not %s's", user, it.Text, i, h.Text, h.Metadata, user)
				}
				if i > 0 && h.Score > hits[i-1].Score {
					t.Errorf("search %s: hits not best first: %v", user, hits)
				}
			}
			if len(hits) > len(conv[user]) {
				t.Errorf("search %s: %d hits for %d memories", user, len(hits), len(conv[user]))
			}
		}
		// The other conversation's sentences find only this user's memories.
		for _, it := range conv[other] {
			hits, err := m0.Search(ctx, user, it.Text, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if want, ok := own[h.Text]; !ok || !slices.Equal(diaIDs(h.Metadata), want) {
					t.Errorf("search %s for %s's %q returned %q", user, other, it.Text, h.Text)
				}
			}
		}
	}
	if hits, err := m0.Search(ctx, "conv-nobody", shared, 10); err != nil || len(hits) != 0 {
		t.Errorf("search of an empty user: %v, %v", hits, err)
	}
	if hits, err := m0.Search(ctx, "conv-a", shared, 1); err != nil || len(hits) != 1 {
		t.Errorf("search k=1: %d hits, %v", len(hits), err)
	}

	// An error is answered and the sidecar carries on.
	if _, err := m0.Search(ctx, "conv-a", "   ", 5); err == nil || !strings.Contains(err.Error(), "query") {
		t.Errorf("empty query: err %v", err)
	}
	if err := m0.Ingest(ctx, "conv-a", []Item{{Text: "x", Metadata: map[string]any{"role": "user"}}}); err == nil {
		t.Error("metadata with a key Mem0 reserves was accepted")
	}
	if hits, err := m0.Search(ctx, "conv-a", shared, 3); err != nil || len(hits) == 0 || !slices.Equal(diaIDs(hits[0].Metadata), []string{"D1:2"}) {
		t.Errorf("search after errors: %v, %v", hits, err)
	}

	// An item's time goes to Mem0's timestamp while Mem0 takes it; the item
	// is stored either way, and the notes say which.
	dated := Item{Text: "Ana: we hiked Sintra", Metadata: mem0MD("D9:1", 9, "1:00 pm on 1 May, 2023"),
		At: time.Date(2023, 5, 1, 13, 0, 0, 0, time.UTC)}
	if err := m0.Ingest(ctx, "conv-d", []Item{dated}); err != nil {
		t.Fatalf("dated item: %v", err)
	}
	if hits, err := m0.Search(ctx, "conv-d", "hiking", 5); err != nil || len(hits) != 1 {
		t.Errorf("dated item stored: %v, %v", hits, err)
	}
	if i := slices.IndexFunc(m0.Notes(), func(n string) bool { return strings.HasPrefix(n, "timestamp: ") }); i < 0 {
		t.Errorf("no timestamp note after a dated add: %q", m0.Notes())
	}

	info, err := m0.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "2.2.1" || len(info.Notes) == 0 {
		t.Errorf("info %+v", info)
	}
	t.Logf("mem0 %s hybrid=%v", info.Version, info.Hybrid)
	for _, n := range info.Notes {
		t.Logf("  %s", n)
	}

	// A few hundred memories for a third user: search time, logged only.
	var filler []Item
	for i := range 300 {
		filler = append(filler, Item{
			Text:     fmt.Sprintf("Speaker %c: filler turn number %d about %s", 'A'+i%26, i, mem0Topics[i%len(mem0Topics)]),
			Metadata: mem0MD(fmt.Sprintf("D%d:%d", 1+i/20, 1+i%20), 1+i/20, "some date"),
		})
	}
	t0 := time.Now()
	if err := m0.Ingest(ctx, "conv-c", filler); err != nil {
		t.Fatal(err)
	}
	ingest := time.Since(t0)
	var rt []time.Duration
	for i := range 30 {
		q := "what did they say about " + mem0Topics[i%len(mem0Topics)]
		t0 := time.Now()
		hits, err := m0.Search(ctx, "conv-c", q, 10)
		rt = append(rt, time.Since(t0))
		if err != nil || len(hits) == 0 {
			t.Fatalf("search conv-c: %v, %v", hits, err)
		}
	}
	t.Logf("300 memories: ingest %v (%v/item); search p50 %v round trip (max %v)",
		ingest.Round(time.Millisecond), (ingest / 300).Round(10*time.Microsecond), mem0Median(rt), slices.Max(rt).Round(10*time.Microsecond))

	pid := m0.PID()
	if err := m0.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("sidecar pid %d still there after Close (kill 0: %v)", pid, err)
	}
	if err := m0.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := m0.Search(ctx, "conv-a", shared, 3); err == nil {
		t.Error("search after Close succeeded")
	}

	t.Run("ContextEndsProcess", func(t *testing.T) {
		lctx, lcancel := context.WithCancel(ctx)
		s2, err := startMem0(lctx, python, sidecar, embedURL, "hash", 384, t.TempDir())
		if err != nil {
			lcancel()
			t.Fatal(err)
		}
		defer s2.Close()
		pid := s2.PID()
		lcancel()
		select {
		case <-s2.exited:
		case <-time.After(10 * time.Second):
			t.Fatal("sidecar still running 10s after its context ended")
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still there (kill 0: %v)", pid, err)
		}
		if _, err := s2.Search(ctx, "conv-a", shared, 3); err == nil {
			t.Error("search after the context ended succeeded")
		}
	})
}

var mem0Topics = []string{"painting", "camping", "adoption", "the dance studio", "running", "a pottery class", "the LGBTQ parade", "their kids", "a new job", "music"}

func mem0MD(dia string, session int, date string) map[string]any {
	return map[string]any{"dia_ids": []string{dia}, "session": session, "date": date}
}

func mem0Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(10 * time.Microsecond)
}

// startMem0FakeLLM builds cmd/fakellm, runs it with the hash embedder on a free
// port and returns its OpenAI base URL.
func startMem0FakeLLM(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakellm")
	build := exec.Command("go", "build", "-o", bin, "github.com/neomem/neomem/cmd/fakellm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build fakellm: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "fakellm.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-embedder", "hash", "-dims", "384")
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		for _, line := range strings.Split(string(b), "\n") {
			var l struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" && l.Addr != "" {
				return "http://" + l.Addr + "/v1"
			}
		}
		select {
		case <-exited:
			t.Fatalf("fakellm exited:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("fakellm did not log its address")
	return ""
}
