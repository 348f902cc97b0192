package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Request bodies, as a client sends them.
type (
	searchBody struct {
		Query  string `json:"query"`
		UserID string `json:"user_id"`
		TopK   int    `json:"top_k"`
	}
	addBody struct {
		Messages []message `json:"messages"`
		UserID   string    `json:"user_id"`
		Infer    bool      `json:"infer"`
	}
	message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
)

// post sends one request over the shared keep-alive client and reads the
// whole answer (so the connection is reused). It returns the status and,
// when keep is set or the status is not 200, the body.
func (b *httpBench) post(ctx context.Context, url, key string, body []byte, keep bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if keep || resp.StatusCode != http.StatusOK {
		data, err := io.ReadAll(resp.Body)
		return resp.StatusCode, data, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, err
}

// get sends one GET and discards the answer.
func (b *httpBench) get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// check searches one tenant of each class and insists on hits: a run that
// measures empty answers measures nothing.
func (b *httpBench) check(ctx context.Context) error {
	c := newCorpus(b.opt.seed, "check")
	for _, class := range classes {
		t := b.byClass[class][0]
		id := t.Scope.Tenant
		body, _ := json.Marshal(searchBody{Query: c.query(), UserID: benchUser, TopK: topK})
		status, data, err := b.post(ctx, b.api+"/search", b.keys[id], body, true)
		if err != nil {
			return fmt.Errorf("search %s: %w", id, err)
		}
		var res struct {
			Results []struct {
				ID string `json:"id"`
			} `json:"results"`
		}
		if status != http.StatusOK || json.Unmarshal(data, &res) != nil || len(res.Results) == 0 {
			return fmt.Errorf("search %s: %d %.300s, want 200 with results", id, status, data)
		}
	}
	return nil
}

// breakdown takes a search apart, one request at a time: rounds of GET
// /healthz, a search with a valid key and an invalid body (the key lookup,
// then 400), the embedder's own endpoint, and the whole search; the
// server's metrics over the same window give the Neo4j query's time.
func (b *httpBench) breakdown(ctx context.Context) (Breakdown, error) {
	bd := Breakdown{Rounds: b.opt.probe}
	warm := max(5, b.opt.probe/10)
	c := newCorpus(b.opt.seed, "breakdown")
	r := rand.New(rand.NewPCG(b.opt.seed, streamID("breakdown")))
	var health, lookup, embed, search []time.Duration
	var before scrape
	for i := range warm + b.opt.probe {
		if i == warm {
			var err error
			if before, err = readMetrics(ctx, b.hc, b.api); err != nil {
				return bd, err
			}
		}
		ts := b.byClass[classes[i%len(classes)]]
		key := b.keys[ts[r.IntN(len(ts))].Scope.Tenant]
		q := c.query()
		sb, _ := json.Marshal(searchBody{Query: q, UserID: benchUser, TopK: topK})
		eb, _ := json.Marshal(map[string]any{"model": "fake", "input": []string{q}})
		t := time.Now()
		if status, err := b.get(ctx, b.api+"/healthz"); err != nil || status != http.StatusOK {
			return bd, fmt.Errorf("GET /healthz: %d %v", status, err)
		}
		dh := time.Since(t)
		t = time.Now()
		if status, data, err := b.post(ctx, b.api+"/search", key, []byte(`{}`), false); err != nil || status != http.StatusBadRequest {
			return bd, fmt.Errorf("POST /search {}: %d %.200s %v, want 400", status, data, err)
		}
		dl := time.Since(t)
		t = time.Now()
		if status, data, err := b.post(ctx, b.embed+"/embeddings", "", eb, false); err != nil || status != http.StatusOK {
			return bd, fmt.Errorf("POST /v1/embeddings: %d %.200s %v", status, data, err)
		}
		de := time.Since(t)
		t = time.Now()
		if status, data, err := b.post(ctx, b.api+"/search", key, sb, false); err != nil || status != http.StatusOK {
			return bd, fmt.Errorf("POST /search: %d %.200s %v", status, data, err)
		}
		ds := time.Since(t)
		if i >= warm {
			health, lookup, embed, search = append(health, dh), append(lookup, dl), append(embed, de), append(search, ds)
		}
	}
	after, err := readMetrics(ctx, b.hc, b.api)
	if err != nil {
		return bd, err
	}
	bd.HealthzMS, bd.KeyLookupMS, bd.EmbedMS, bd.SearchMS = summarize(ms(health)), summarize(ms(lookup)), summarize(ms(embed)), summarize(ms(search))
	bd.Server = serverTimes(before, after)
	b.log("breakdown (means): healthz %s ms, key lookup %s ms, embedding %s ms, Neo4j query %s ms, search %s ms",
		num(bd.HealthzMS.Mean), num(bd.KeyLookupMS.Mean), num(bd.EmbedMS.Mean), num(bd.Server.Neo4jSearchMS), num(bd.SearchMS.Mean))
	return bd, nil
}

// outcome is one request of a phase.
type outcome struct {
	start, end time.Time
	add        bool
	class      int
	err        string // "" when it succeeded
}

// maxErrorSamples is how many failures a kind keeps as text.
const maxErrorSamples = 5

// cpuSnapshot is the CPU time of the processes and the machine at one moment.
type cpuSnapshot struct {
	at                                   time.Time
	server, neo4j, fake, client, machine float64
}

func (b *httpBench) cpuNow() cpuSnapshot {
	return cpuSnapshot{at: time.Now(), server: cpuSeconds(b.server.PID()), neo4j: cpuSeconds(b.neo4j),
		fake: cpuSeconds(b.fake.PID()), client: cpuSeconds(os.Getpid()), machine: machineBusySeconds()}
}

func cpuUse(a, z cpuSnapshot) CPUUse {
	wall := z.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return CPUUse{}
	}
	u := CPUUse{Server: (z.server - a.server) / wall, FakeLLM: (z.fake - a.fake) / wall,
		Client: (z.client - a.client) / wall, Machine: (z.machine - a.machine) / wall}
	if a.neo4j > 0 {
		u.Neo4j = (z.neo4j - a.neo4j) / wall
	}
	return u
}

// phase runs clients back-to-back clients for the warm-up and the timed
// window, with the mix's requests, and measures it.
func (b *httpBench) phase(ctx context.Context, mix string, clients int, profile bool) (Phase, error) {
	p := Phase{Mix: mix, Clients: clients, WarmupSeconds: b.opt.warmup.Seconds(), Seconds: b.opt.duration.Seconds()}
	b.log("%s, %d clients: %s warm-up, %s timed", mixName(mix), clients, b.opt.warmup, b.opt.duration)
	start := time.Now()
	from := start.Add(b.opt.warmup)
	until := from.Add(b.opt.duration)
	results := make([][]outcome, clients)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			stream := fmt.Sprintf("%s-%d-%d", mix, clients, w)
			r := rand.New(rand.NewPCG(b.opt.seed, streamID("choices-"+stream)))
			c := newCorpus(b.opt.seed, "texts-"+stream)
			for ctx.Err() == nil && time.Now().Before(until) {
				o := outcome{add: mix == mixMixed && r.IntN(100) < writeShare, class: r.IntN(len(classes))}
				ts := b.byClass[classes[o.class]]
				key := b.keys[ts[r.IntN(len(ts))].Scope.Tenant]
				url, body := b.api+"/search", []byte(nil)
				if o.add {
					url = b.api + "/memories"
					body, _ = json.Marshal(addBody{Messages: []message{{Role: "user", Content: c.memoryText()}}, UserID: writeUser})
				} else {
					body, _ = json.Marshal(searchBody{Query: c.query(), UserID: benchUser, TopK: topK})
				}
				o.start = time.Now()
				status, data, err := b.post(ctx, url, key, body, false)
				o.end = time.Now()
				switch {
				case err != nil:
					o.err = err.Error()
				case status != http.StatusOK:
					o.err = fmt.Sprintf("%d %.200s", status, data)
				}
				results[w] = append(results[w], o)
			}
		})
	}

	// The timed window: scrapes and CPU readings at both ends, the RSS
	// every second, the profile from its start.
	if !sleepUntil(ctx, from) {
		wg.Wait()
		return p, ctx.Err()
	}
	before, err := readMetrics(ctx, b.hc, b.api)
	if err != nil {
		wg.Wait()
		return p, err
	}
	cpu0 := b.cpuNow()
	var profDone chan error
	profFile := ""
	if profile {
		// Kept only in -profile-dir; else it lives as long as the
		// processes' logs, long enough to be summarised.
		dir := b.opt.profileDir
		if dir == "" {
			dir = b.dir
		}
		profFile = filepath.Join(dir, fmt.Sprintf("benchmarks-http-cpu-%s-%d.pprof", mix, clients))
		profDone = make(chan error, 1)
		go func() { profDone <- b.cpuProfile(ctx, profFile) }()
	}
	var rssMax int64
	for now := time.Now(); now.Before(until); now = time.Now() {
		if rss, err := rssBytes(b.server.PID()); err == nil {
			rssMax = max(rssMax, rss)
		}
		if !sleepUntil(ctx, minTime(now.Add(time.Second), until)) {
			break
		}
	}
	cpu1 := b.cpuNow()
	rssEnd, rssErr := rssBytes(b.server.PID())
	after, err := readMetrics(ctx, b.hc, b.api)
	wg.Wait()
	if err != nil {
		return p, err
	}
	if rssErr != nil {
		return p, fmt.Errorf("server RSS: %w", rssErr)
	}
	rssMax = max(rssMax, rssEnd)
	p.RSSEndMiB, p.RSSMaxMiB = mib(rssEnd), mib(rssMax)
	p.CPU = cpuUse(cpu0, cpu1)
	p.Server = serverTimes(before, after)
	p.LoadAvg = loadavg()

	var search, add []time.Duration
	byClass := make([][]time.Duration, len(classes))
	var searchRes, addRes KindResult
	for _, rs := range results {
		for _, o := range rs {
			kr := &searchRes
			if o.add {
				kr = &addRes
			}
			if o.err != "" {
				kr.Errors++
				if len(kr.ErrorSamples) < maxErrorSamples {
					kr.ErrorSamples = append(kr.ErrorSamples, o.err)
				}
				continue
			}
			// Counted when it completed inside the window, wherever it
			// started: leaving out those that started in the warm-up
			// would leave out the slowest ones, which are the likeliest
			// to straddle the window's start.
			if o.end.Before(from) || o.end.After(until) {
				continue
			}
			d := o.end.Sub(o.start)
			if o.add {
				add = append(add, d)
			} else {
				search = append(search, d)
				byClass[o.class] = append(byClass[o.class], d)
			}
		}
	}
	window := until.Sub(from).Seconds()
	fill := func(kr *KindResult, ds []time.Duration) {
		kr.Requests, kr.PerSecond, kr.LatencyMS = len(ds), float64(len(ds))/window, summarize(ms(ds))
	}
	fill(&searchRes, search)
	p.Search = searchRes
	if mix == mixMixed {
		fill(&addRes, add)
		p.Add = &addRes
	}
	p.Requests = searchRes.Requests + addRes.Requests
	p.PerSecond = float64(p.Requests) / window
	p.Errors = searchRes.Errors + addRes.Errors
	p.SearchByClass = map[string]Stats{}
	for i, class := range classes {
		p.SearchByClass[class] = summarize(ms(byClass[i]))
	}
	if profDone != nil {
		pr := &ProfileSummary{Phase: fmt.Sprintf("%s, %d clients", mixName(mix), clients)}
		if err := <-profDone; err != nil {
			pr.Error = err.Error()
		} else if s, err := summarizeProfile(ctx, profFile); err != nil {
			pr.Error = err.Error()
		} else {
			s.Phase = pr.Phase
			pr = &s
		}
		if b.opt.profileDir != "" {
			pr.File = profFile
		}
		p.Profile = pr
	}
	b.log("  %s req/s; search p50 %s ms, p99 %s ms; errors %d; RSS %.0f MiB (max %.0f); CPU server %.2f, Neo4j %.2f, embedder %.2f, client %.2f, machine %.2f cores",
		num(p.PerSecond), num(p.Search.LatencyMS.P50), num(p.Search.LatencyMS.P99), p.Errors, p.RSSEndMiB, p.RSSMaxMiB,
		p.CPU.Server, p.CPU.Neo4j, p.CPU.FakeLLM, p.CPU.Client, p.CPU.Machine)
	return p, nil
}

// cpuProfile takes the server's CPU profile for -profile and saves it.
func (b *httpBench) cpuProfile(ctx context.Context, file string) error {
	secs := max(1, int(b.opt.profile/time.Second))
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.pprof, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile: %d %v", resp.StatusCode, err)
	}
	return writeFileAtomic(file, data)
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
