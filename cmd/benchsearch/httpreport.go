package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// HTTPReport is everything one HTTP run measured; it is
// docs/benchmarks-http.json.
type HTTPReport struct {
	Run
	Settings HTTPSettings `json:"settings"`
	Data     HTTPData     `json:"data"`
	// IdleRSSMiB is the server's resident set after the load and the
	// breakdown, before the first phase.
	IdleRSSMiB   float64    `json:"idle_rss_mib"`
	Breakdown    *Breakdown `json:"breakdown,omitempty"`
	Phases       []Phase    `json:"phases"`
	Errors       int        `json:"errors"`
	TotalSeconds float64    `json:"total_seconds"`
	Notes        []string   `json:"notes,omitempty"`
}

// HTTPSettings are the HTTP run's parameters.
type HTTPSettings struct {
	Memories        int      `json:"memories"`
	Clients         []int    `json:"clients"`
	Mixes           []string `json:"mixes"`
	WarmupSeconds   float64  `json:"warmup_seconds"`
	Seconds         float64  `json:"seconds"`
	WriteShare      int      `json:"write_percent"`
	TopK            int      `json:"top_k"`
	Seed            uint64   `json:"seed"`
	TenantPrefix    string   `json:"tenant_prefix"`
	Embedder        string   `json:"embedder"`
	ProfileSeconds  float64  `json:"profile_seconds"`
	BreakdownRounds int      `json:"breakdown_rounds"`
	TenantChoice    string   `json:"tenant_choice"`
}

// HTTPData is the stored layout and how it got there.
type HTTPData struct {
	Layout  []group `json:"layout"`
	Tenants int     `json:"tenants"`
	// Method is how the memories were written; Reused says -reuse found
	// them already stored (no load numbers then).
	Method        string  `json:"method"`
	Reused        bool    `json:"reused"`
	Memories      int     `json:"memories"`
	Seconds       float64 `json:"load_seconds,omitempty"`
	PerSecond     float64 `json:"memories_per_second,omitempty"`
	DeletedNodes  int     `json:"deleted_nodes"`
	DeleteSeconds float64 `json:"delete_seconds"`
	IndexWaitSecs float64 `json:"index_wait_seconds"`
	SettleSecs    float64 `json:"index_settle_seconds,omitempty"`
	// IndexTotal is every memory in the database (the vector index holds
	// them all); it equals Memories on a dedicated database.
	IndexTotal  int     `json:"index_total"`
	Keys        int     `json:"api_keys"`
	KeysSeconds float64 `json:"api_keys_seconds"`
}

// KindResult is one kind of request (search or add) in one phase.
type KindResult struct {
	// Requests completed inside the timed window; PerSecond is that over
	// the window.
	Requests  int     `json:"requests"`
	PerSecond float64 `json:"requests_per_second"`
	LatencyMS Stats   `json:"latency_ms"`
	// Errors counts failed requests of the whole phase, warm-up included
	// (a status other than 200, or no answer); ErrorSamples are the first
	// few.
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// Phase is one load: a mix and a number of clients.
type Phase struct {
	Mix           string  `json:"mix"`
	Clients       int     `json:"clients"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	Seconds       float64 `json:"seconds"`
	// Requests and PerSecond count both kinds.
	Requests  int         `json:"requests"`
	PerSecond float64     `json:"requests_per_second"`
	Errors    int         `json:"errors"`
	Search    KindResult  `json:"search"`
	Add       *KindResult `json:"add,omitempty"`
	// SearchByClass is the search latency by the class of the tenant
	// searched (large: the vector index; small: an exact scan).
	SearchByClass map[string]Stats `json:"search_by_class_ms"`
	// RSSEndMiB is the server's VmRSS at the end of the timed window;
	// RSSMaxMiB the largest of the samples taken every second in it.
	RSSEndMiB float64 `json:"server_rss_end_mib"`
	RSSMaxMiB float64 `json:"server_rss_max_mib"`
	// CPU is the CPU time each process used over the timed window divided
	// by its length: cores busy on average.
	CPU    CPUUse      `json:"cpu_cores"`
	Server ServerTimes `json:"server_metrics"`
	// LoadAvg is the machine's load average at the end of the phase.
	LoadAvg string          `json:"loadavg_end"`
	Profile *ProfileSummary `json:"profile,omitempty"`
}

// CPUUse is cores busy on average per process, and for the whole machine
// (other processes included).
type CPUUse struct {
	Server  float64 `json:"server"`
	Neo4j   float64 `json:"neo4j"`
	FakeLLM float64 `json:"embedder"`
	Client  float64 `json:"client"`
	Machine float64 `json:"machine"`
}

// Breakdown is a search taken apart, one request at a time before the
// phases (no other request of the benchmark in flight): the HTTP round trip, the API-key lookup, the embedding call
// and the Neo4j query, next to the whole search.
type Breakdown struct {
	Rounds int `json:"rounds"`
	// HealthzMS is GET /healthz: HTTP on loopback, no key, no Neo4j.
	HealthzMS Stats `json:"healthz_ms"`
	// KeyLookupMS is POST /search with a valid key and an empty body: the
	// key is looked up in Neo4j, then validation answers 400.
	KeyLookupMS Stats `json:"key_lookup_ms"`
	// EmbedMS is the embedder's POST /v1/embeddings for one query, called
	// by the benchmark as the server calls it.
	EmbedMS  Stats       `json:"embedding_ms"`
	SearchMS Stats       `json:"search_ms"`
	Server   ServerTimes `json:"server_metrics"`
}

// httpSection is the HTTP benchmark's part of docs/benchmarks.md.
var httpSection = section{name: "bench-http", heading: "## HTTP server under concurrency"}

// relative returns target relative to the directory of from, for links.
func relative(from, target string) string {
	if rel, err := filepath.Rel(filepath.Dir(from), target); err == nil {
		return filepath.ToSlash(rel)
	}
	return target
}

// mixName is a mix as the report says it.
func mixName(mix string) string {
	if mix == mixMixed {
		return "90% search / 10% add"
	}
	return "search only"
}

// httpMarkdown renders the generated section.
func httpMarkdown(r *HTTPReport, jsonPath, mdPath string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("_Generated by `benchsearch http` on %s; `make bench-http` rewrites this section. Raw numbers: [%s](%s)._\n\n",
		r.Date, filepath.Base(jsonPath), relative(mdPath, jsonPath))
	r.Run.markdown(w)
	m, d, s := r.Machine, r.Data, r.Settings
	var layout []string
	for _, g := range d.Layout {
		layout = append(layout, fmt.Sprintf("%s × %s (%s)", thousands(g.Count), thousands(g.Size), g.Class))
	}
	w("- Data: %s memories in %s tenants: %s; %s memories in the whole index", thousands(d.Memories), thousands(d.Tenants),
		strings.Join(layout, ", "), thousands(d.IndexTotal))
	if d.Reused {
		w("; reused from an earlier run (`-reuse`)\n")
	} else {
		w("; loaded in %.1f s (%s/s), %s\n", d.Seconds, thousands(int(math.Round(d.PerSecond))), d.Method)
	}
	w("- Server: `bin/neomem` with %s; embedder: %s\n", strings.Join(codeEach(m.ServerEnv), ", "), s.Embedder)
	w("- Load: each client sends requests back to back over keep-alive; %s; top_k %d; %s warm-up, then %s timed per phase; seed %d; total run time %s\n\n",
		s.TenantChoice, s.TopK, secs(s.WarmupSeconds), secs(s.Seconds), s.Seed, duration(r.TotalSeconds))

	w("#### Throughput, latency, memory\n\n")
	w("| mix | clients | requests/s | search p50 (ms) | search p99 | add p50 | add p99 | errors | server RSS end (MiB) | RSS max | load avg at end |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, p := range r.Phases {
		addP50, addP99 := "—", "—"
		if p.Add != nil {
			addP50, addP99 = num(p.Add.LatencyMS.P50), num(p.Add.LatencyMS.P99)
		}
		errs := strconv.Itoa(p.Errors)
		if p.Errors > 0 {
			errs += " ⚠"
		}
		w("| %s | %d | %s | %s | %s | %s | %s | %s | %.0f | %.0f | %s |\n", mixName(p.Mix), p.Clients, num(p.PerSecond),
			num(p.Search.LatencyMS.P50), num(p.Search.LatencyMS.P99), addP50, addP99, errs, p.RSSEndMiB, p.RSSMaxMiB, p.LoadAvg)
	}
	w("\nThe server's RSS after the load, before the first phase: %.0f MiB.\n\n", r.IdleRSSMiB)

	w("#### Search latency by tenant class (ms)\n\n")
	w("| mix | clients |")
	for _, c := range classes {
		w(" %s p50 | p99 |", c)
	}
	w("\n|---|---:|")
	for range classes {
		w("---:|---:|")
	}
	w("\n")
	for _, p := range r.Phases {
		w("| %s | %d |", mixName(p.Mix), p.Clients)
		for _, c := range classes {
			st := p.SearchByClass[c]
			w(" %s | %s |", num(st.P50), num(st.P99))
		}
		w("\n")
	}

	w("\n#### Where the time goes\n\n")
	w("Per phase: the client's mean search latency, the server's own mean for `POST /search` (its metrics: router to response), the mean of the one search query inside it (driver and Neo4j), and the CPU cores each process kept busy on average.\n\n")
	w("| mix | clients | search mean, client (ms) | server | Neo4j query | server − query | add mean, server | add write tx | CPU: server | Neo4j | embedder | client | whole machine |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Phases {
		st := p.Server
		addMS, addTx := "—", "—"
		if st.Adds > 0 {
			addMS, addTx = num(st.AddMS), num(st.Neo4jCreateMS)
		}
		neo4jCPU := "—"
		if r.Machine.Neo4jPID > 0 {
			neo4jCPU = strconv.FormatFloat(p.CPU.Neo4j, 'f', 2, 64)
		}
		w("| %s | %d | %s | %s | %s | %s | %s | %s | %.2f | %s | %.2f | %.2f | %.2f |\n", mixName(p.Mix), p.Clients,
			num(p.Search.LatencyMS.Mean), num(st.SearchMS), num(st.Neo4jSearchMS), num(st.SearchMS-st.Neo4jSearchMS), addMS, addTx,
			p.CPU.Server, neo4jCPU, p.CPU.FakeLLM, p.CPU.Client, p.CPU.Machine)
	}
	if bd := r.Breakdown; bd != nil {
		w("\nOne search taken apart before the phases (%d rounds, one request of the benchmark at a time; means, ms):\n\n", bd.Rounds)
		w("| part | how | mean | p50 |\n|---|---|---:|---:|\n")
		w("| HTTP round trip | `GET /healthz` | %s | %s |\n", num(bd.HealthzMS.Mean), num(bd.HealthzMS.P50))
		w("| + API-key lookup | `POST /search` with a valid key and `{}`: the key's Cypher lookup, then 400 | %s | %s |\n",
			num(bd.KeyLookupMS.Mean), num(bd.KeyLookupMS.P50))
		w("| query embedding | the embedder's `POST /v1/embeddings`, one query | %s | %s |\n", num(bd.EmbedMS.Mean), num(bd.EmbedMS.P50))
		w("| search query | `neomem_neo4j_call_duration_seconds{op=\"search\"}` | %s | |\n", num(bd.Server.Neo4jSearchMS))
		rest := bd.SearchMS.Mean - bd.KeyLookupMS.Mean - bd.EmbedMS.Mean - bd.Server.Neo4jSearchMS
		w("| the rest | search − the three above: validation, JSON, fusion in Go | %s | |\n", num(rest))
		w("| whole search | `POST /search` | %s | %s |\n", num(bd.SearchMS.Mean), num(bd.SearchMS.P50))
	}
	for _, p := range r.Phases {
		if p.Profile == nil {
			continue
		}
		pr := p.Profile
		w("\n#### CPU profile of the server (%s, %d clients)\n\n", mixName(p.Mix), p.Clients)
		if pr.Error != "" {
			w("Not summarised: %s\n", pr.Error)
			continue
		}
		w("%.0f s, %.1f s of CPU samples, so the server kept %.2f cores busy.", pr.Seconds, pr.SampledSeconds, pr.Cores)
		if pr.File != "" {
			w(" The profile is `%s`: read it with `go tool pprof -top %s` (or `-http :0` for the graph).", relative(mdPath, pr.File), relative(".", pr.File))
		} else {
			w(" The profile itself is not kept (`-profile-dir DIR` keeps it).")
		}
		w("\n\n")
		w("Flat time (where the instructions ran) by package:\n\n| area | share of samples |\n|---|---:|\n")
		for _, a := range pr.Areas {
			w("| %s | %.1f%% |\n", a.Name, a.Percent)
		}
		w("\nInclusive time (a function and everything it calls):\n\n| what | function | share of samples |\n|---|---|---:|\n")
		for _, c := range pr.Cumulative {
			w("| %s | `%s` | %.1f%% |\n", c.Name, c.Function, c.Percent)
		}
		w("\nHottest functions by flat time:\n\n| function | flat | cum |\n|---|---:|---:|\n")
		for _, f := range pr.Top {
			w("| `%s` | %.1f%% | %.1f%% |\n", f.Name, f.FlatPercent, f.CumPercent)
		}
	}
	if len(r.Notes) > 0 {
		w("\nNotes:\n\n")
		for _, n := range r.Notes {
			w("- %s\n", n)
		}
	}
	return b.String()
}

func codeEach(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

func secs(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) + " s" }
