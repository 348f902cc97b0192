package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/neomem/neomem/client"
)

// ModeResult is everything one ingest mode measured.
type ModeResult struct {
	Mode    string         `json:"mode"`
	Systems []SystemResult `json:"systems"`
	Diffs   []Diff         `json:"diffs"`
	Items   int            `json:"items"`
	// Answers are the questions with each system's ranking: written only
	// with -traces (they quote the data set, which may not be
	// redistributable).
	Answers []QuestionTrace `json:"questions,omitempty"`
}

// SystemResult is one system's scores in one mode.
type SystemResult struct {
	Name       string          `json:"name"`
	Notes      []string        `json:"notes,omitempty"`
	Overall    Summary         `json:"overall"`
	ByCategory map[int]Summary `json:"by_category"`
	Latency    Latency         `json:"search_latency"`
	Ingest     float64         `json:"ingest_seconds"`
	Shared     bool            `json:"shares_store,omitempty"` // ranks another system's memories
	scores     []Score         // per scored question, in question order
	lat        []time.Duration // every timed search
	ingest     time.Duration   // total ingest time
}

// QuestionTrace is one scored question and what each system ranked first.
type QuestionTrace struct {
	Conversation string              `json:"conversation"`
	Question     string              `json:"question"`
	Category     int                 `json:"category"`
	Evidence     []string            `json:"evidence"`
	Hits         map[string][]string `json:"hits"` // system → dia_ids per rank ("D1:3 D1:4" for a memory of two turns)
	RR           map[string]float64  `json:"rr"`
}

// itemsOf turns a session into what a mode stores.
func itemsOf(mode string, c Conversation, s Session) []Item {
	md := func(ids []string, speaker string) map[string]any {
		return map[string]any{"dia_ids": ids, "session": s.N, "date": s.Date, "speaker": speaker, "conversation": c.ID}
	}
	var out []Item
	switch mode {
	case "observations":
		for _, o := range c.Observations[s.N] {
			out = append(out, Item{Text: o.Text, Metadata: md(o.DiaIDs, o.Speaker), At: s.Time()})
		}
	default: // turns, llm
		for _, t := range s.Turns {
			out = append(out, Item{Text: TurnText(t), Metadata: md([]string{t.DiaID}, t.Speaker), At: s.Time()})
		}
	}
	return out
}

// userOf is the one user a conversation is stored under in a mode.
func userOf(mode string, c Conversation) string { return "eval-" + mode + "-" + c.ID }

// evalMode stores every conversation in every system, interleaved session
// by session (the order rotates), then asks every scored question of every
// system, question by question (the order rotates), o.passes times.
func evalMode(ctx context.Context, o options, env *Env, convs []Conversation, mode string, stderr io.Writer) (ModeResult, error) {
	systems, err := env.Systems(ctx, o, mode)
	if err != nil {
		return ModeResult{}, err
	}
	defer func() {
		for _, s := range systems {
			_ = s.Close()
		}
	}()
	res := ModeResult{Mode: mode}
	results := make([]*SystemResult, len(systems))
	for i, s := range systems {
		results[i] = &SystemResult{Name: s.Name()}
		if sh, ok := s.(interface{ Shared() bool }); ok {
			results[i].Shared = sh.Shared()
		}
	}
	sessions, questions := 0, 0
	for _, c := range convs {
		sessions += len(c.Sessions)
		for _, q := range c.Questions {
			if q.Scored() {
				questions++
			}
		}
	}
	bar := newProgress(stderr, o.progress, mode, sessions+questions*o.passes)
	defer bar.Done()

	step := 0
	for _, c := range convs {
		user := userOf(mode, c)
		env.deleteAtEnd(user)
		for _, s := range c.Sessions {
			items := itemsOf(mode, c, s)
			res.Items += len(items)
			bar.Step(fmt.Sprintf("ingest %s session %d", c.ID, s.N))
			if len(items) == 0 {
				continue
			}
			for j := range systems {
				i := (j + step) % len(systems)
				if results[i].Shared {
					continue
				}
				t0 := time.Now()
				if err := systems[i].Ingest(ctx, user, items); err != nil {
					return res, fmt.Errorf("%s %s session %d: %w", mode, c.ID, s.N, err)
				}
				results[i].ingest += time.Since(t0)
			}
			step++
		}
	}
	// Notes after the ingest: what a system said about the adds too.
	for i, s := range systems {
		if n, ok := s.(interface{ Notes() []string }); ok {
			results[i].Notes = n.Notes()
		}
	}

	for pass := 0; pass < o.passes; pass++ {
		qi := 0
		for _, c := range convs {
			user := userOf(mode, c)
			for _, q := range c.Questions {
				if !q.Scored() {
					continue
				}
				bar.Step(fmt.Sprintf("search pass %d/%d %s", pass+1, o.passes, c.ID))
				var trace *QuestionTrace
				if pass == 0 {
					res.Answers = append(res.Answers, QuestionTrace{Conversation: c.ID, Question: q.Text, Category: q.Category,
						Evidence: q.Evidence, Hits: map[string][]string{}, RR: map[string]float64{}})
					trace = &res.Answers[len(res.Answers)-1]
				}
				for j := range systems {
					i := (j + qi + pass) % len(systems)
					t0 := time.Now()
					hits, err := systems[i].Search(ctx, user, q.Text, maxK())
					d := time.Since(t0)
					if err != nil {
						return res, fmt.Errorf("%s %s %q: %w", mode, c.ID, q.Text, err)
					}
					results[i].lat = append(results[i].lat, d)
					if pass > 0 {
						continue
					}
					ranked := make([][]string, len(hits))
					joined := make([]string, len(hits))
					for r, h := range hits {
						ranked[r] = diaIDs(h.Metadata)
						joined[r] = strings.Join(ranked[r], " ")
					}
					sc := ScoreQuestion(q, ranked)
					results[i].scores = append(results[i].scores, sc)
					trace.Hits[systems[i].Name()] = joined
					trace.RR[systems[i].Name()] = sc.RR
				}
				qi++
			}
		}
	}
	for _, r := range results {
		r.Overall = Summarize(r.scores)
		r.ByCategory = ByCategory(r.scores)
		r.Latency = LatencyOf(r.lat)
		r.Ingest = r.ingest.Seconds()
		res.Systems = append(res.Systems, *r)
	}
	res.Diffs = diffs(results, o.seed)
	return res, nil
}

// diffs compares the first system (neomem) with each other one at R@10 and
// R@30, paired over the same questions.
func diffs(rs []*SystemResult, seed uint64) []Diff {
	var out []Diff
	if len(rs) < 2 {
		return out
	}
	a := rs[0]
	for _, b := range rs[1:] {
		for _, k := range []int{10, 30} {
			x, y := make([]float64, len(a.scores)), make([]float64, len(b.scores))
			for i := range a.scores {
				x[i], y[i] = a.scores[i].Recall[k], b.scores[i].Recall[k]
			}
			m, lo, hi := PairedBootstrap(x, y, 2000, seed)
			out = append(out, Diff{A: a.Name, B: b.Name, Metric: "R@" + strconv.Itoa(k), Mean: m, Lo: lo, Hi: hi})
		}
	}
	return out
}

// parseWeights reads -weights ("vector=1,text=0.5,graph=0.3,rrf_k=60").
func parseWeights(s string) (*client.SearchWeights, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	w := &client.SearchWeights{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("-weights %q: want name=value pairs such as text=0.5", s)
		}
		if k == "rrf_k" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-weights: rrf_k=%q is not an integer ≥ 1", v)
			}
			w.RrfK = client.Int(n)
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("-weights: %s=%q is not a number ≥ 0", k, v)
		}
		switch k {
		case "vector":
			w.Vector = client.Float(f)
		case "text":
			w.Text = client.Float(f)
		case "graph":
			w.Graph = client.Float(f)
		case "time":
			w.Time = client.Float(f)
		default:
			return nil, fmt.Errorf("-weights: unknown %q (vector, text, graph, time, rrf_k)", k)
		}
	}
	return w, nil
}

// progress is a one-line progress bar on stderr.
type progress struct {
	w          io.Writer
	on         bool
	mode       string
	total, n   int
	start      time.Time
	lastPrint  time.Time
	lastDecile int
}

func newProgress(w io.Writer, on bool, mode string, total int) *progress {
	return &progress{w: w, on: on, mode: mode, total: max(1, total), start: time.Now(), lastDecile: -1}
}

// Step counts one step done and redraws the bar at most 10 times a second.
func (p *progress) Step(what string) {
	p.n++
	if !p.on || time.Since(p.lastPrint) < 100*time.Millisecond && p.n < p.total {
		return
	}
	p.lastPrint = time.Now()
	const width = 30
	done := p.n * width / p.total
	eta := ""
	if p.n > 0 && p.n < p.total {
		left := time.Duration(float64(time.Since(p.start)) * float64(p.total-p.n) / float64(p.n))
		eta = " eta " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%-12s [%s%s] %3d%% %-40.40s%s   ", p.mode, strings.Repeat("#", done), strings.Repeat(".", width-done),
		p.n*100/p.total, what, eta)
}

// Done ends the bar's line.
func (p *progress) Done() {
	if p.on {
		fmt.Fprintf(p.w, "\r%-12s done in %s%s\n", p.mode, time.Since(p.start).Round(time.Second), strings.Repeat(" ", 60))
	}
}
