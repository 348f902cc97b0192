package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLoadLoCoMo(t *testing.T) {
	convs, err := LoadLoCoMo("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 {
		t.Fatalf("conversations: %d", len(convs))
	}
	c := convs[0]
	if c.ID != "tiny-1" || strings.Join(c.Speakers, ",") != "Ana,Ben" {
		t.Errorf("id %q speakers %v", c.ID, c.Speakers)
	}
	if len(c.Sessions) != 2 || c.Sessions[0].N != 1 || len(c.Sessions[0].Turns) != 6 || c.Sessions[1].Date != "9:30 am on 20 June, 2023" {
		t.Fatalf("sessions: %+v", c.Sessions)
	}
	// A session's date is when its items were said: neomem's adds send it
	// as their timestamp.
	if at := c.Sessions[1].Time(); !at.Equal(time.Date(2023, 6, 20, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("session 2 time: %v", at)
	}
	if at := (Session{Date: "sometime in June"}).Time(); !at.IsZero() {
		t.Errorf("an unreadable date reads as %v", at)
	}
	for _, mode := range []string{"turns", "observations"} {
		items := itemsOf(mode, c, c.Sessions[1])
		if len(items) == 0 || timestamp(items) != time.Date(2023, 6, 20, 9, 30, 0, 0, time.UTC).Unix() {
			t.Errorf("%s: session 2's items have timestamp %d", mode, timestamp(items))
		}
	}
	if timestamp([]Item{{Text: "undated"}}) != 0 || timestamp(nil) != 0 {
		t.Error("undated items have a timestamp")
	}
	if got := TurnText(c.Sessions[1].Turns[2]); got != "Ben: Look at this! [shares an image: a photo of a red temple in Kyoto]" {
		t.Errorf("turn text with caption: %q", got)
	}
	// A joined evidence string ("D2:2; D2:3") names two turns; the first
	// speaker's observations come first.
	obs := c.Observations[2]
	if len(obs) != 2 || obs[0].Speaker != "Ana" || strings.Join(obs[0].DiaIDs, ",") != "D2:2,D2:3" {
		t.Errorf("observations of session 2: %+v", obs)
	}
	scored := 0
	for _, q := range c.Questions {
		if q.Scored() {
			scored++
		}
	}
	// Category 5 and a question without evidence are left out.
	if len(c.Questions) != 6 || scored != 4 {
		t.Errorf("questions %d, scored %d", len(c.Questions), scored)
	}
	if _, err := LoadLoCoMo("testdata/missing.json"); err == nil {
		t.Error("a missing file loaded")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"not": "an array"}`), 0o644)
	if _, err := LoadLoCoMo(bad); err == nil || !strings.Contains(err.Error(), "not a LoCoMo file") {
		t.Errorf("a non-LoCoMo file: %v", err)
	}
}

func TestParseDiaIDs(t *testing.T) {
	for in, want := range map[string]string{"D1:3": "D1:3", "D8:6; D9:17": "D8:6,D9:17", "D01:03 D1:3": "D1:3", "none": ""} {
		if got := strings.Join(parseDiaIDs(in), ","); got != want {
			t.Errorf("parseDiaIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScoreQuestionKnownAnswers scores hand-made rankings whose metrics are
// worked out by hand.
func TestScoreQuestionKnownAnswers(t *testing.T) {
	q := Question{Evidence: []string{"D1:1", "D2:3"}, Category: 1}
	// Rank 2 holds D2:3; rank 7 a memory of two turns, one of them D1:1.
	hits := [][]string{{"D3:1"}, {"D2:3"}, {"D3:2"}, {"D3:3"}, {"D3:4"}, {"D3:5"}, {"D1:9", "D1:1"}}
	s := ScoreQuestion(q, hits)
	want := map[int][3]float64{ // recall, hit, session recall
		5:  {0.5, 1, 0.5},
		10: {1, 1, 1},
		20: {1, 1, 1},
		30: {1, 1, 1},
	}
	for k, w := range want {
		if !near(s.Recall[k], w[0]) || !near(s.Hit[k], w[1]) || !near(s.SessionRecall[k], w[2]) {
			t.Errorf("@%d: recall %v hit %v session %v, want %v", k, s.Recall[k], s.Hit[k], s.SessionRecall[k], w)
		}
	}
	if !near(s.RR, 0.5) {
		t.Errorf("RR %v, want 0.5", s.RR)
	}
	// The session of the evidence counts for session recall even when the
	// turn is another one.
	s = ScoreQuestion(Question{Evidence: []string{"D2:3"}}, [][]string{{"D2:1"}})
	if s.Recall[5] != 0 || s.Hit[5] != 0 || s.SessionRecall[5] != 1 || s.RR != 0 {
		t.Errorf("same session, other turn: %+v", s)
	}
	// Nothing found; fewer hits than k.
	s = ScoreQuestion(q, nil)
	if s.Recall[30] != 0 || s.RR != 0 || s.Hit[30] != 0 {
		t.Errorf("no hits: %+v", s)
	}
	// Beyond rank 30 nothing counts.
	long := make([][]string, 40)
	long[35] = []string{"D1:1"}
	if s = ScoreQuestion(q, long); s.Recall[30] != 0 || s.RR != 0 {
		t.Errorf("a hit at rank 36 counted: %+v", s)
	}
}

func TestSummarizeAndCategories(t *testing.T) {
	a := ScoreQuestion(Question{Evidence: []string{"D1:1"}, Category: 1}, [][]string{{"D1:1"}})
	b := ScoreQuestion(Question{Evidence: []string{"D1:1"}, Category: 2}, [][]string{{"D1:2"}, {"D1:3"}, {"D1:1"}})
	c := ScoreQuestion(Question{Evidence: []string{"D1:1"}, Category: 2}, nil)
	sum := Summarize([]Score{a, b, c})
	if sum.N != 3 || !near(sum.Recall[5], 2.0/3) || !near(sum.MRR, (1+1.0/3)/3) {
		t.Errorf("summary %+v", sum)
	}
	cat := ByCategory([]Score{a, b, c})
	if cat[1].N != 1 || cat[2].N != 2 || !near(cat[2].Recall[10], 0.5) || !near(cat[2].MRR, 1.0/6) {
		t.Errorf("by category %+v", cat)
	}
}

func TestLatencyAndBootstrap(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := LatencyOf(ds)
	if l.N != 100 || l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || !near(l.Mean, 50.5) {
		t.Errorf("latency %+v", l)
	}
	x := []float64{1, 0, 1, 1, 0, 1}
	if m, lo, hi := PairedBootstrap(x, x, 500, 1); m != 0 || lo != 0 || hi != 0 {
		t.Errorf("identical systems: %v [%v, %v]", m, lo, hi)
	}
	y := []float64{0.5, 0, 0.5, 0.5, 0, 0.5}
	m, lo, hi := PairedBootstrap(x, y, 500, 1)
	if !near(m, 2.0/6) || lo > m || hi < m || lo < 0 || hi > 0.5 {
		t.Errorf("a − b: %v [%v, %v]", m, lo, hi)
	}
	m2, lo2, hi2 := PairedBootstrap(x, y, 500, 1)
	if m2 != m || lo2 != lo || hi2 != hi {
		t.Error("the same seed gave another interval")
	}
}

func TestFlags(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, args := range [][]string{
		{},
		{"-data", "x", "-mode", "chat"},
		{"-data", "x", "-compare", "zep"},
		{"-data", "x", "-compare", "mem0", "-mode", "llm", "-mem0-python", "p"},
		{"-data", "x", "-compare", "mem0"},
		{"-data", "x", "-url", "http://127.0.0.1:1"},
		{"-data", "x", "-weights", "text=-1"},
		{"-data", "x", "-weights", "colour=1"},
		{"-data", "x", "-passes", "0"},
	} {
		if _, err := parseFlags(args, getenv, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	o, err := parseFlags([]string{"-data", "x", "-mode", "turns,observations", "-weights", "text=0.5,rrf_k=20"}, getenv, &bytes.Buffer{})
	if err != nil || len(o.modes) != 2 {
		t.Fatalf("%+v %v", o, err)
	}
	w, _ := parseWeights(o.weights)
	if w.Text == nil || *w.Text != 0.5 || w.RrfK == nil || *w.RrfK != 20 || w.Vector != nil || w.Graph != nil {
		t.Errorf("weights %+v", w)
	}
}

// TestRunEndToEnd runs the harness on the tiny conversation against a real
// server and Neo4j (with the fast hash embedder): every report file is
// written, the scores agree with the ranked turns it recorded, and the
// distinctive questions find their turn first.
func TestRunEndToEnd(t *testing.T) {
	conn := testcontainers.Connection(t)
	server, fakellm := neomem.Binaries(t)
	t.Setenv("NEO4J_URI", conn.URI)
	t.Setenv("NEO4J_USERNAME", conn.Username)
	t.Setenv("NEO4J_PASSWORD", conn.Password)
	out := t.TempDir()
	args := []string{"-data", "testdata/tiny.json", "-mode", "turns,observations", "-embedder", "hash",
		"-server", server, "-fakellm", fakellm, "-out", out, "-progress=false", "-traces"}
	if py := os.Getenv("NEOMEM_EVAL_MEM0_PYTHON"); py != "" {
		args = append(args, "-compare", "mem0", "-mem0-python", py, "-mem0-sidecar", "../../tests/eval/mem0/sidecar.py")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, args, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, f := range []string{"report.md", "report.json", "recall-turns.png", "categories-turns.png", "recall-observations.png", "categories-observations.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Modes) != 2 || rep.Data.Questions != 4 {
		t.Fatalf("modes %d, questions %d", len(rep.Modes), rep.Data.Questions)
	}
	convs, _ := LoadLoCoMo("testdata/tiny.json")
	for _, m := range rep.Modes {
		if want := map[string]int{"turns": 11, "observations": 5}[m.Mode]; m.Items != want {
			t.Errorf("%s: %d items stored, want %d", m.Mode, m.Items, want)
		}
		if m.Systems[0].Name != "neomem" || m.Systems[1].Name != "neomem vector-only" {
			t.Fatalf("%s: systems %+v", m.Mode, m.Systems)
		}
		// The vector-only ranking searches neomem's memories: it stores none.
		if m.Systems[0].Shared || m.Systems[0].Ingest <= 0 || !m.Systems[1].Shared || m.Systems[1].Ingest != 0 {
			t.Errorf("%s: neomem ingest %v (shared %v), vector-only ingest %v (shared %v)", m.Mode,
				m.Systems[0].Ingest, m.Systems[0].Shared, m.Systems[1].Ingest, m.Systems[1].Shared)
		}
		for _, s := range m.Systems {
			// The summary is the scores of the recorded rankings.
			var scores []Score
			qi := 0
			for _, q := range convs[0].Questions {
				if !q.Scored() {
					continue
				}
				var ranked [][]string
				for _, h := range m.Answers[qi].Hits[s.Name] {
					ranked = append(ranked, strings.Fields(h))
				}
				scores = append(scores, ScoreQuestion(q, ranked))
				qi++
			}
			want := Summarize(scores)
			for _, k := range Ks {
				if !near(want.Recall[k], s.Overall.Recall[k]) {
					t.Errorf("%s %s R@%d: report %v, recomputed %v", m.Mode, s.Name, k, s.Overall.Recall[k], want.Recall[k])
				}
			}
			if s.Latency.N != 2*4 {
				t.Errorf("%s %s: %d timed searches, want 8 (2 passes × 4 questions)", m.Mode, s.Name, s.Latency.N)
			}
		}
		// "golden retriever puppy" and "cello teacher" name their turn.
		for qi, want := range map[int]string{0: "D1:1", 1: "D2:1"} {
			if hits := m.Answers[qi].Hits["neomem"]; len(hits) == 0 || !strings.Contains(hits[0], want) {
				t.Errorf("%s: %q ranked %v first, want %s", m.Mode, m.Answers[qi].Question, hits, want)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, s := range []string{"### Mode `turns`", "| neomem |", "| neomem vector-only |", "(shared) |", "single-hop", "recall-turns.png"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if !strings.Contains(stdout.String(), "report.md") {
		t.Errorf("stdout: %q", stdout.String())
	}
}
