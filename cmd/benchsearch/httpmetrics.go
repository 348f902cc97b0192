package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scrape is one reading of the server's /metrics (Prometheus text format):
// each sample's value by its name and labels, labels sorted.
type scrape map[string]float64

var labelPair = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// parseMetrics reads the Prometheus text format; comments and lines it
// cannot read are skipped.
func parseMetrics(text string) scrape {
	out := scrape{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, labels, rest := line, []string(nil), ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, rest = line[:i], line[j+1:]
			for _, m := range labelPair.FindAllStringSubmatch(line[i+1:j], -1) {
				labels = append(labels, m[1], m[2])
			}
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		out[seriesKey(name, labels...)] = v
	}
	return out
}

// seriesKey names a sample: name{k=v,…} with the pairs sorted by key.
func seriesKey(name string, kv ...string) string {
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, kv[i]+"="+kv[i+1])
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// get returns a sample's value (0 when absent).
func (s scrape) get(name string, kv ...string) float64 { return s[seriesKey(name, kv...)] }

// readMetrics fetches and parses base/metrics.
func readMetrics(ctx context.Context, hc *http.Client, base string) (scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return parseMetrics(string(b)), nil
}

// ServerTimes is what the server's own metrics say about a window: mean
// time per request as its HTTP middleware measured it (from the router to
// the response written: authentication, validation, embedding, the store
// call, JSON) and the mean time of the store's Cypher call inside it.
type ServerTimes struct {
	Searches int `json:"searches"`
	// SearchMS is the mean of neomem_http_request_duration_seconds for
	// POST /search answered 200; Neo4jSearchMS the mean of
	// neomem_neo4j_call_duration_seconds{op="search"} (the one search
	// query: driver, network and Neo4j).
	SearchMS      float64 `json:"search_ms"`
	Neo4jSearchMS float64 `json:"neo4j_search_ms"`
	Adds          int     `json:"adds,omitempty"`
	AddMS         float64 `json:"add_ms,omitempty"`
	// Neo4jCreateMS is op="create_memories": the add's one write
	// transaction.
	Neo4jCreateMS float64 `json:"neo4j_create_ms,omitempty"`
	EmbeddedTexts int     `json:"embedded_texts"`
	// HeapInuseMiB and Goroutines are read at the end of the window.
	HeapInuseMiB float64 `json:"heap_inuse_mib"`
	Goroutines   int     `json:"goroutines"`
}

const (
	httpHist  = "neomem_http_request_duration_seconds"
	neo4jHist = "neomem_neo4j_call_duration_seconds"
)

// serverTimes is the difference of two scrapes.
func serverTimes(before, after scrape) ServerTimes {
	mean := func(name string, kv ...string) (float64, int) {
		n := after.get(name+"_count", kv...) - before.get(name+"_count", kv...)
		if n <= 0 {
			return 0, 0
		}
		return (after.get(name+"_sum", kv...) - before.get(name+"_sum", kv...)) / n * 1000, int(n)
	}
	var t ServerTimes
	t.SearchMS, t.Searches = mean(httpHist, "route", "/search", "method", "POST", "status", "200")
	t.Neo4jSearchMS, _ = mean(neo4jHist, "op", "search")
	t.AddMS, t.Adds = mean(httpHist, "route", "/memories", "method", "POST", "status", "200")
	t.Neo4jCreateMS, _ = mean(neo4jHist, "op", "create_memories")
	for k, v := range after {
		if strings.HasPrefix(k, "neomem_embedding_texts_total{") {
			t.EmbeddedTexts += int(v - before[k])
		}
	}
	t.HeapInuseMiB = after.get("go_memstats_heap_inuse_bytes") / (1 << 20)
	t.Goroutines = int(after.get("go_goroutines"))
	return t
}

// ProfileSummary is the server's CPU profile of one phase, read with
// `go tool pprof -top`.
type ProfileSummary struct {
	// File is where the profile was kept (-profile-dir), "" when it was
	// not.
	File    string  `json:"file,omitempty"`
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	// SampledSeconds is the CPU time the profile saw; Cores is that over
	// the profile's wall time (the server's average use of the CPUs).
	SampledSeconds float64 `json:"sampled_cpu_seconds"`
	Cores          float64 `json:"cores"`
	// Areas groups flat time (where the instructions ran) by package;
	// Top lists the hottest functions by flat time; Cumulative is the
	// inclusive time of chosen functions (a function and all it calls).
	Areas      []Share `json:"flat_by_area"`
	Top        []Func  `json:"top_flat"`
	Cumulative []Share `json:"cumulative"`
	Error      string  `json:"error,omitempty"`
}

// Share is a part of the profile's samples in percent.
type Share struct {
	Name     string  `json:"name"`
	Function string  `json:"function,omitempty"`
	Percent  float64 `json:"percent"`
}

// Func is one row of pprof -top.
type Func struct {
	Name        string  `json:"name"`
	FlatPercent float64 `json:"flat_percent"`
	CumPercent  float64 `json:"cum_percent"`
}

// pprofTop is a parsed `go tool pprof -top`.
type pprofTop struct {
	duration, total time.Duration
	rows            []Func
}

var pprofDuration = regexp.MustCompile(`Duration: (\S+), Total samples = (\S+)`)

// parsePprofTop reads the text of `go tool pprof -top`: the header's
// duration and total samples, then one row per function (flat, flat%,
// sum%, cum, cum%, name).
func parsePprofTop(text string) (pprofTop, error) {
	var t pprofTop
	if m := pprofDuration.FindStringSubmatch(text); m != nil {
		t.duration, _ = pprofTime(m[1])
		t.total, _ = pprofTime(m[2])
	}
	header := false
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "flat" && f[1] == "flat%" {
			header = true
			continue
		}
		if !header || len(f) < 6 {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		t.rows = append(t.rows, Func{Name: name, FlatPercent: flat, CumPercent: cum})
	}
	if !header {
		return t, fmt.Errorf("no table in the pprof output: %.300q", text)
	}
	return t, nil
}

// pprofTime reads pprof's durations: 10ms, 1.20s, 1.5mins, 2hrs.
func pprofTime(s string) (time.Duration, error) {
	s = strings.NewReplacer("mins", "m", "min", "m", "hrs", "h", "hr", "h").Replace(s)
	return time.ParseDuration(s)
}

// areas name packages by prefix, first match wins; flat time outside them
// is "other". Allocation and GC run in the runtime whichever code
// allocated: see the cumulative rows for who allocates.
var areas = []struct {
	name     string
	prefixes []string
}{
	{"Neo4j driver (Bolt, PackStream, pool)", []string{"github.com/neo4j/neo4j-go-driver/"}},
	{"encoding/json", []string{"encoding/json."}},
	{"request validation (kin-openapi, validator)", []string{"github.com/getkin/", "github.com/oapi-codegen/", "github.com/go-playground/", "github.com/perimeterx/", "github.com/oasdiff/"}},
	{"echo (router, middleware)", []string{"github.com/labstack/"}},
	{"Prometheus client", []string{"github.com/prometheus/"}},
	{"embedding client (langchaingo)", []string{"github.com/tmc/langchaingo/"}},
	{"neomem packages", []string{"github.com/neomem/neomem/", "main."}},
	{"HTTP, network, system calls", []string{"net/http.", "net.", "net/textproto.", "net/url.", "internal/poll.", "syscall.", "internal/runtime/syscall", "bufio.", "vendor/golang.org/x/net/", "crypto/tls."}},
	{"Go runtime (GC, allocation, scheduler, memmove)", []string{"runtime.", "internal/runtime/", "runtime/internal/", "gcWriteBarrier", "aeshash", "memeqbody", "cmpbody", "indexbytebody"}},
	{"crypto (sha256 of API keys, TLS)", []string{"crypto/", "vendor/golang.org/x/crypto/"}},
	{"logging (slog)", []string{"log/slog."}},
}

// cumulativeOf are the inclusive times worth reading off a server's
// profile: what a request spends its CPU on. Each is the largest cum% among
// the functions whose name contains all the parts.
var cumulativeOf = []struct {
	name  string
	parts [][]string
}{
	{"HTTP serving (net/http conn.serve: all request work)", [][]string{{"net/http.(*conn).serve"}}},
	{"API-key lookup (Store.Authenticate: one Cypher query)", [][]string{{"cypher.(*Store).Authenticate"}}},
	{"request validation (OpenAPI)", [][]string{{"openapi3filter.ValidateRequest"}}},
	{"search handler (api)", [][]string{{"api.(*server).Search"}}},
	{"query embedding (HTTP call to the embedder)", [][]string{{"neomem/llm/langchain", "Embed"}}},
	{"store search (Store.Search: the search query, driver)", [][]string{{"cypher.(*Store).Search"}}},
	{"add handler (api)", [][]string{{"api.(*server).AddMemories"}}},
	{"JSON encoding", [][]string{{"encoding/json.Marshal"}, {"encoding/json.(*Encoder).Encode"}}},
	{"JSON decoding", [][]string{{"encoding/json.Unmarshal"}, {"encoding/json.(*Decoder).Decode"}}},
	{"memory allocation (mallocgc)", [][]string{{"runtime.mallocgc"}}},
	{"garbage collection (background mark workers)", [][]string{{"runtime.gcBgMarkWorker"}}},
	{"system calls (network I/O mostly)", [][]string{{"syscall.Syscall"}, {"syscall.RawSyscall"}, {"syscall/linux.Syscall"}}},
}

// summarizeProfile reads a CPU profile with `go tool pprof -top` (flat and
// cumulative) and condenses it.
func summarizeProfile(ctx context.Context, file string) (ProfileSummary, error) {
	var s ProfileSummary
	goBin, err := exec.LookPath("go")
	if err != nil {
		return s, fmt.Errorf("no go command to read the profile: %w", err)
	}
	top := func(extra ...string) (pprofTop, error) {
		args := append([]string{"tool", "pprof", "-top", "-nodefraction=0", "-nodecount=100000"}, extra...)
		cmd := exec.CommandContext(ctx, goBin, append(args, file)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return pprofTop{}, fmt.Errorf("go tool pprof: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return parsePprofTop(string(out))
	}
	flat, err := top()
	if err != nil {
		return s, err
	}
	cum, err := top("-cum")
	if err != nil {
		return s, err
	}
	s.Seconds, s.SampledSeconds = flat.duration.Seconds(), flat.total.Seconds()
	if s.Seconds > 0 {
		s.Cores = s.SampledSeconds / s.Seconds
	}
	s.Areas = areaShares(flat.rows)
	for i, r := range flat.rows {
		if i == 15 {
			break
		}
		s.Top = append(s.Top, r)
	}
	s.Cumulative = cumulativeShares(cum.rows)
	return s, nil
}

// areaShares sums flat percentages by area, largest first, "other" last.
func areaShares(rows []Func) []Share {
	sum := map[string]float64{}
	for _, r := range rows {
		name := "other"
	find:
		for _, a := range areas {
			for _, p := range a.prefixes {
				if strings.HasPrefix(r.Name, p) {
					name = a.name
					break find
				}
			}
		}
		sum[name] += r.FlatPercent
	}
	var out []Share
	for name, p := range sum {
		if name != "other" && p > 0 {
			out = append(out, Share{Name: name, Percent: p})
		}
	}
	slices.SortFunc(out, func(a, b Share) int {
		if a.Percent != b.Percent {
			if a.Percent > b.Percent {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	if p := sum["other"]; p > 0 {
		out = append(out, Share{Name: "other", Percent: p})
	}
	return out
}

// cumulativeShares picks the rows of cumulativeOf from a -cum table.
func cumulativeShares(rows []Func) []Share {
	var out []Share
	for _, c := range cumulativeOf {
		best := Share{Name: c.name}
		for _, r := range rows {
			for _, parts := range c.parts {
				ok := true
				for _, part := range parts {
					ok = ok && strings.Contains(r.Name, part)
				}
				if ok && r.CumPercent > best.Percent {
					best.Function, best.Percent = r.Name, r.CumPercent
				}
			}
		}
		if best.Function != "" {
			out = append(out, best)
		}
	}
	return out
}
