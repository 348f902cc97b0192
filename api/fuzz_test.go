package api_test

// Property and fuzz tests of request decoding: every route and method of
// api/openapi.yaml (read at test time, so routes added to the spec are
// covered without touching this file) gets many random requests — random
// JSON of random shapes and types, wrong types for known fields, huge
// numbers, deep nesting, unicode, control characters, invalid UTF-8,
// truncated JSON, empty and non-JSON bodies, wrong Content-Types, random path
// ids and query parameters — and the server must never answer 5xx, and must
// answer every error with a JSON problem carrying "status" or "detail" and an
// X-Request-Id header.
//
// The one exception, 503 and the fake model. A 503 (graph.Unavailable) is
// how the server reports a model whose reply stayed unusable after one retry,
// a model that returned an empty summary, or a model that is unreachable.
// Those are documented, legitimate answers, and the only 503s these tests
// can provoke on purpose are through the scripted chat model. So:
//
//   - requests to the routes that can reach the chat model (adds: POST
//     /memories and POST /v3/memories/add/, fzModelOps) read the scripted
//     model's call counter before and after; no other route calls the model,
//     which the tests check at the end (every call the model got came while
//     such a request was in flight), so a counter that did not move means
//     the model was not involved;
//   - a 503 is excused only when the model was involved: in the sequential
//     tests (fuzz target, isolation) when the counter moved during the
//     request; in the concurrent property test, where the two add routes
//     run side by side, a 503 whose counter moved is sent again alone
//     (holding fzServer.modelMu exclusively) and is excused only if it is a
//     503 with model calls again; excused 503s are logged and counted;
//   - any other 5xx — a 503 without a model call (Neo4j "unavailable", a
//     busy scope lock), a 500, a 502 — is a failure;
//   - 5xx statuses the spec itself documents for a route (GET /readyz's
//     503 "Not ready") are accepted for that route only.
//
// The model answers with fzGeneric: the package's `generic` (every message
// becomes a fact, every fact is added), plus a plain-text reply for calls
// without tools (procedural summaries), so that almost no add ends in a 503
// at all and the excused ones stay rare and visible in the log.
//
// The property test also checks that no out-of-range value is accepted: a
// request the document refuses (a type, a minimum or maximum, a length, an
// enum, a required field; fzOracle validates it on the test side) or a lax
// Mem0 field out of its range (top_k 1–100, threshold 0–1, numbers or
// numeric strings in Mem0's free-form bodies) must not get a 2xx.
//
// Reproduce a run with NEOMEM_PROPERTY_SEED=<seed> (logged) and scale it
// with NEOMEM_PROPERTY_N=<requests per route> (default 300).

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
)

// ---------------------------------------------------------------------------
// The spec's routes.

// fzRoute is one method of one path of the spec.
type fzRoute struct {
	Method, Path, OpID, Summary string
	Params                      []*openapi3.Parameter
	Body                        *openapi3.Schema // nil without a request body
	BodyType                    string           // the body's content type, "" without one
	Public                      bool             // security: []
	Documented5xx               map[int]bool     // 5xx statuses the spec lists for it
	JSON200                     bool             // 200 is application/json
}

func (r fzRoute) String() string { return r.Method + " " + r.Path }

// fzModelOps are the operations that can call the chat model.
var fzModelOps = map[string]bool{"addMemories": true, "mem0Add": true}

// fzAdminOps need an admin key.
var fzAdminOps = map[string]bool{"reset": true, "createKey": true}

// fzLoadRoutes reads api/openapi.yaml, the source of truth for the routes.
func fzLoadRoutes(tb testing.TB) (*openapi3.T, []fzRoute) {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		tb.Fatalf("load api/openapi.yaml: %v", err)
	}
	var routes []fzRoute
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := fzRoute{Method: method, Path: path, OpID: op.OperationID, Summary: op.Summary, Documented5xx: map[int]bool{}}
			byName := map[string]*openapi3.Parameter{}
			var order []string
			for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range ps {
					if p == nil || p.Value == nil {
						continue
					}
					k := p.Value.In + ":" + p.Value.Name
					if _, ok := byName[k]; !ok {
						order = append(order, k)
					}
					byName[k] = p.Value
				}
			}
			for _, k := range order {
				r.Params = append(r.Params, byName[k])
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				cts := make([]string, 0, len(op.RequestBody.Value.Content))
				for ct := range op.RequestBody.Value.Content {
					cts = append(cts, ct)
				}
				sort.Strings(cts)
				if len(cts) > 0 {
					r.BodyType = cts[0]
					if mt := op.RequestBody.Value.Content[cts[0]]; mt.Schema != nil {
						r.Body = mt.Schema.Value
					}
					if r.Body == nil {
						r.Body = &openapi3.Schema{}
					}
				}
			}
			r.Public = op.Security != nil && len(*op.Security) == 0
			if op.Responses != nil {
				for code, resp := range op.Responses.Map() {
					if n, err := strconv.Atoi(code); err == nil && n >= 500 {
						r.Documented5xx[n] = true
					}
					if code == "200" && resp.Value != nil {
						_, r.JSON200 = resp.Value.Content["application/json"]
					}
				}
			}
			routes = append(routes, r)
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	if len(routes) < 20 {
		tb.Fatalf("api/openapi.yaml lists only %d operations", len(routes))
	}
	return doc, routes
}

// ---------------------------------------------------------------------------
// A server with its log, and a fake model answering generically.

// fzGeneric is `generic` plus a text reply for calls without tools (the
// procedural summary), so procedural adds succeed too.
func fzGeneric(req llm.Request) (llm.Response, error) {
	if len(req.Messages) == 0 {
		return llm.Response{Text: "nothing"}, nil
	}
	if len(req.Tools) == 0 {
		p := req.Messages[len(req.Messages)-1].Content
		if len(p) > 200 {
			p = p[:200]
		}
		return llm.Response{Text: "Summary of the run: " + strings.ToValidUTF8(p, "?")}, nil
	}
	return generic(req)
}

// fzServer is a running test server with its fake model and log.
type fzServer struct {
	base  string
	model *llmtest.Scripted
	logs  *serverLogs
	http  *http.Client
	// modelMu: requests that can call the chat model hold it shared, a
	// request sent alone to attribute a 503 holds it exclusively.
	modelMu sync.RWMutex
	// inFlight counts model-route requests under way; gatedCalls sums the
	// model calls made while at least one was (since windowStart).
	countMu                 sync.Mutex
	inFlight                int
	windowStart, gatedCalls int
}

// fzStart runs the server over the test Neo4j and a fake model answering
// with fzGeneric. With stop, the server stops when tb ends; without, it lives
// as long as the process (for the fuzz target's once-per-process server).
func fzStart(tb testing.TB, stop bool) *fzServer {
	tb.Helper()
	model := llmtest.NewScripted().Respond(fzGeneric)
	// Thousands of requests a second from one key: no rate limit.
	srv := startServer(tb, serverConfig{Model: model, NoRateLimit: true, KeepRunning: !stop})
	return &fzServer{base: srv.base, model: model, logs: srv.logs, http: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}
}

// fzRequest is one request as sent (kept for reports).
type fzRequest struct {
	Method string
	Target string // path and query
	Header http.Header
	Body   []byte
	// NoBody sends no body at all (as opposed to an empty one).
	NoBody bool
}

type fzResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// ChatCalls is how many chat-model calls happened during the request
	// (counted only for gated requests; -1 when unknown).
	ChatCalls int
}

// send sends one request; gated: to a route that can call the chat model
// (see the file comment), counting the model calls during it.
func (s *fzServer) send(r fzRequest, gated bool) (fzResponse, error) {
	return s.sendMode(r, gated, false)
}

// sendAlone sends a request to a model route while no other model-route
// request is under way, so the model calls it sees are its own.
func (s *fzServer) sendAlone(r fzRequest) (fzResponse, error) { return s.sendMode(r, true, true) }

func (s *fzServer) enter() {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if s.inFlight == 0 {
		s.windowStart = s.model.Calls()
	}
	s.inFlight++
}

func (s *fzServer) leave() {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if s.inFlight--; s.inFlight == 0 {
		s.gatedCalls += s.model.Calls() - s.windowStart
	}
}

func (s *fzServer) sendMode(r fzRequest, gated, alone bool) (fzResponse, error) {
	var body io.Reader
	if !r.NoBody {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, s.base+r.Target, body)
	if err != nil {
		return fzResponse{}, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	before := -1
	if gated {
		if alone {
			s.modelMu.Lock()
			defer s.modelMu.Unlock()
		} else {
			s.modelMu.RLock()
			defer s.modelMu.RUnlock()
		}
		s.enter()
		defer s.leave()
		before = s.model.Calls()
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fzResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fzResponse{}, fmt.Errorf("read body: %w", err)
	}
	out := fzResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw, ChatCalls: -1}
	if gated {
		out.ChatCalls = s.model.Calls() - before
	}
	return out, nil
}

// fzCheck returns what is wrong with a response, or "" (and whether it was a
// 503 excused by the model rule of this file's comment).
func fzCheck(rt fzRoute, resp fzResponse) (problem string, excused bool) {
	if resp.Header.Get("X-Request-Id") == "" {
		return "no X-Request-Id header", false
	}
	if resp.Status >= 500 {
		switch {
		case rt.Documented5xx[resp.Status]:
		case resp.Status == http.StatusServiceUnavailable && resp.ChatCalls > 0:
			excused = true
		default:
			return fmt.Sprintf("status %d", resp.Status), false
		}
	}
	if resp.Status >= 400 {
		var p map[string]any
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return fmt.Sprintf("error body (status %d) is not a JSON object: %v", resp.Status, err), excused
		}
		if _, ok := p["status"]; !ok {
			if _, ok := p["detail"]; !ok {
				return fmt.Sprintf("error body (status %d) has neither status nor detail", resp.Status), excused
			}
		}
	}
	if resp.Status == http.StatusOK && rt.JSON200 && !json.Valid(resp.Body) {
		return "200 with a body that is not JSON", excused
	}
	return "", excused
}

// fzDescribe renders a request, its response and the server's log lines
// about it, for a failure report.
func fzDescribe(s *fzServer, r fzRequest, resp *fzResponse, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "request: %s %s\n", r.Method, fzClip(r.Target, 600))
	for _, h := range []string{"Content-Type", "Authorization", "X-API-Key"} {
		if v := r.Header.Get(h); v != "" {
			if h != "Content-Type" {
				v = v[:min(len(v), 12)] + "…"
			}
			fmt.Fprintf(&b, "  %s: %q\n", h, v)
		}
	}
	if r.NoBody {
		b.WriteString("  (no body)\n")
	} else {
		fmt.Fprintf(&b, "  body (%d bytes): %q\n", len(r.Body), fzClip(string(r.Body), 1500))
	}
	if err != nil {
		fmt.Fprintf(&b, "transport error: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "response: %d %s chat_calls=%d\n  body: %s\n", resp.Status, resp.Header.Get("Content-Type"), resp.ChatCalls,
		fzClip(string(resp.Body), 1500))
	if lines := s.logs.about(resp.Header.Get("X-Request-Id")); len(lines) > 0 {
		fmt.Fprintf(&b, "server log:\n  %s\n", strings.Join(lines, "\n  "))
	}
	return b.String()
}

func fzClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d more bytes)", len(s)-n)
}

var fzUUIDPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// ---------------------------------------------------------------------------
// Random JSON, written by hand so that it can hold invalid UTF-8, raw number
// tokens (1e400) and keys in a fixed order.

type (
	fzRaw   string // a raw JSON token, written as is
	fzBytes []byte // a string written byte for byte (may be invalid UTF-8)
	fzObj   []fzKV // an object with ordered keys (duplicates allowed)
	fzKV    struct {
		K any // string or fzBytes
		V any
	}
)

func fzEncode(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case fzRaw:
		b.WriteString(string(x))
	case string:
		e, _ := json.Marshal(x)
		b.Write(e)
	case fzBytes:
		b.WriteByte('"')
		for _, c := range x {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				fmt.Fprintf(b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			fzEncode(b, e)
		}
		b.WriteByte(']')
	case fzObj:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			fzEncode(b, kv.K)
			b.WriteByte(':')
			fzEncode(b, kv.V)
		}
		b.WriteByte('}')
	default:
		e, err := json.Marshal(x)
		if err != nil {
			panic(err)
		}
		b.Write(e)
	}
}

func fzJSON(v any) []byte {
	var b bytes.Buffer
	fzEncode(&b, v)
	return b.Bytes()
}

// fzGen makes random requests from a seeded source.
type fzGen struct {
	r   *rand.Rand
	doc *openapi3.T
	ids []string // ids that exist (or existed) on the server
	// export lines of a real export, mutated into /import bodies.
	exportLines []string
	// Modes of one body.
	badUTF8, hugeNums bool
}

func (g *fzGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *fzGen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *fzGen) uuid() string {
	var b [16]byte
	g.r.Read(b[:])
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// id is a path or body id: one that exists, a fresh UUID, or garbage.
func (g *fzGen) id() string {
	switch g.r.Intn(12) {
	case 0, 1, 2, 3:
		if len(g.ids) > 0 {
			return g.ids[g.r.Intn(len(g.ids))]
		}
		return g.uuid()
	case 4, 5:
		return g.uuid()
	case 6:
		if len(g.ids) > 0 {
			return strings.ToUpper(g.ids[g.r.Intn(len(g.ids))])
		}
		return strings.ToUpper(g.uuid())
	case 7:
		return g.pick("not-a-uuid", "0", "-1", "null", "undefined", "%00", "..", ".", " ", "💥", "{id}", "' OR 1=1 --",
			"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "gggggggg-gggg-gggg-gggg-gggggggggggg",
			"$tenant", "`) DETACH DELETE n //", "\x00", "a/b", "?x=1", "#frag")
	case 8:
		u := g.uuid()
		switch g.r.Intn(4) {
		case 0:
			return u + "0"
		case 1:
			return u[:35]
		case 2:
			return "{" + u + "}"
		default:
			return strings.ReplaceAll(u, "-", "")
		}
	case 9:
		return strings.Repeat(g.pick("a", "0", "é", "-"), 500+g.r.Intn(6000))
	case 10:
		b := make([]byte, 1+g.r.Intn(40))
		g.r.Read(b)
		return string(b)
	default:
		return g.pick(" ", "\t", "\n", "%20") + g.uuid() + g.pick("", " ", "\n")
	}
}

// scopeID is a user, agent or run id: mostly a few shared names.
func (g *fzGen) scopeID() any {
	switch g.r.Intn(10) {
	case 0, 1, 2, 3, 4, 5:
		return g.pick("alice", "bob", "carol", "agent-1", "run-1")
	case 6:
		return g.pick("", " ", "ALICE", "alice ", "ünïcødé", "🚀", "a\x00b", "a\nb", "a/b", "../x", "%2F", "'; DROP", "\u202e")
	case 7:
		return strings.Repeat("u", g.pick1(255, 256, 257, 1000, 5000))
	default:
		return g.text()
	}
}

func (g *fzGen) pick1(xs ...int) int { return xs[g.r.Intn(len(xs))] }

// text is a random string: plain, unicode, control characters, long,
// injection-looking, or (in badUTF8 mode) invalid UTF-8.
func (g *fzGen) text() any {
	if g.badUTF8 && g.chance(0.5) {
		b := []byte(g.pick("I like tea ", "name ", "", "x"))
		for range 1 + g.r.Intn(8) {
			b = append(b, []byte{0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x82, 0xf0, 0x28, 0x8c, 0xbc, 0xed, 0xa0, 0x80}[g.r.Intn(15)])
		}
		return fzBytes(b)
	}
	switch g.r.Intn(14) {
	case 0, 1, 2:
		return g.pick("I like tea", "I work at Acme", "My dog is called Rex", "Alice moved to Lisbon", "likes", "tea", "Acme", "Alice")
	case 3:
		return ""
	case 4:
		return g.pick("héllo wörld ✓", "日本語のテキスト", "مرحبا بالعالم", "🚀🔥💯", "e\u0301\u0301\u0301", "\u200b\u200c\ufeff", "\U0010ffff", "Ω≈ç√∫")
	case 5:
		return g.pick("\x00", "a\x00b", "\x01\x02\x1f", "\t\n\r", "\u2028\u2029", "\x7f", "line1\nline2", "\u0085")
	case 6:
		return strings.Repeat(g.pick("x", "é", "🚀 ", "word "), g.pick1(100, 255, 257, 2000, 8001, 20000))
	case 7:
		return g.pick("' OR 1=1 --", "MATCH (n) DETACH DELETE n", "{{scope m}}", "$tenant", "`", "\\", "\"", "%00", "../../etc/passwd",
			"<script>alert(1)</script>", "${jndi:ldap://x}", "%s%s%n", "\\u0000")
	case 8:
		return g.pick("NaN", "Infinity", "-0", "1e400", "null", "true", "0x10", "[]", "{}")
	case 9:
		return g.uuid()
	case 10:
		return g.dateTime(true)
	case 11:
		return g.pick("user", "assistant", "system", "robot", "text", "image_url", "procedural")
	default:
		var b strings.Builder
		for range 1 + g.r.Intn(30) {
			b.WriteRune(rune(0x20 + g.r.Intn(0x3000)))
		}
		return strings.ToValidUTF8(b.String(), "?")
	}
}

func (g *fzGen) dateTime(any bool) string {
	if !any || g.chance(0.5) {
		return g.pick("2024-01-01T00:00:00Z", "2026-03-04T05:06:07.123456789+02:00", "1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z")
	}
	return g.pick("not-a-date", "2024-02-30T00:00:00Z", "2024-13-45T99:99:99Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
		"-0001-01-01T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00+25:00", "", "now", "1e400", "20240101T000000Z")
}

// num is a random number token.
func (g *fzGen) num() any {
	if g.hugeNums && g.chance(0.6) {
		return fzRaw(g.pick("1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-9223372036854775809",
			"9223372036854775808", "18446744073709551616", "1.7976931348623157e309", "4.9e-324", "1E+999999999"))
	}
	switch g.r.Intn(8) {
	case 0:
		return 0
	case 1:
		return g.r.Intn(10) + 1
	case 2:
		return -g.r.Intn(1000) - 1
	case 3:
		return g.r.Float64()
	case 4:
		return fzRaw(g.pick("1.5", "-0", "0.0", "1e2", "1E2", "2.0", "1e-7", "-0.0"))
	case 5:
		return fzRaw(g.pick("2147483648", "9007199254740993", "9223372036854775807", "-9223372036854775808", "1e308"))
	case 6:
		return fzRaw(g.pick("1e400", "123456789012345678901234567890"))
	default:
		return g.r.Intn(1 << 20)
	}
}

// any is a random JSON value of any type and shape, nested up to depth.
func (g *fzGen) any(depth int) any {
	k := g.r.Intn(10)
	if depth <= 0 && k >= 7 {
		k = g.r.Intn(7)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return g.r.Intn(2) == 0
	case 2, 3:
		return g.num()
	case 4, 5, 6:
		return g.text()
	case 7:
		n := g.r.Intn(5)
		out := make([]any, 0, n)
		for range n {
			out = append(out, g.any(depth-1))
		}
		return out
	default:
		n := g.r.Intn(5)
		out := make(fzObj, 0, n)
		for range n {
			out = append(out, fzKV{g.key(), g.any(depth - 1)})
		}
		return out
	}
}

// key is a random object key.
func (g *fzGen) key() any {
	switch g.r.Intn(6) {
	case 0, 1:
		return g.pick("n", "topic", "year", "tags", "nested", "id", "tenant", "user_id", "memory", "score", "type", "embedding")
	case 2:
		return g.pick("", " ", "\x00k", "a.b", "$where", "meta_x", "__proto__", "constructor", "k\nk", "🚀", "AND", "OR", "NOT")
	case 3:
		return strings.Repeat("k", g.pick1(128, 129, 300))
	default:
		t := g.text()
		if s, ok := t.(string); ok && len(s) > 200 {
			return s[:200]
		}
		return t
	}
}

// deep is a deeply nested value, closed or not.
func (g *fzGen) deep() fzRaw {
	d := g.pick1(11, 64, 500, 2000, 9000, 10001, 12000)
	open, leaf, closing := "[", "1", "]"
	if g.chance(0.5) {
		open, leaf, closing = `{"a":`, `"x"`, "}"
	}
	s := strings.Repeat(open, d) + leaf
	if g.chance(0.85) {
		s += strings.Repeat(closing, d)
	}
	return fzRaw(s)
}

// metadata is a random metadata object (or, not good, anything).
func (g *fzGen) metadata(depth int, good bool) any {
	if !good && g.chance(0.2) {
		if g.chance(0.3) {
			return g.deep()
		}
		return g.any(depth)
	}
	n := g.r.Intn(6)
	out := make(fzObj, 0, n)
	for range n {
		var v any
		switch g.r.Intn(7) {
		case 0:
			v = g.text()
		case 1:
			v = g.num()
		case 2:
			v = g.r.Intn(2) == 0
		case 3:
			v = []any{g.text(), g.text()}
		case 4:
			v = []any{g.num(), g.num(), g.num()}
		case 5:
			v = []any{g.text(), g.num(), nil, fzObj{{"x", 1}}}
		default:
			v = g.any(depth)
		}
		out = append(out, fzKV{g.key(), v})
	}
	return out
}

// filter is a random Mem0 filter: mostly well-formed, sometimes not.
func (g *fzGen) filter(depth int) any {
	if g.chance(0.05) {
		return g.any(2)
	}
	if g.chance(0.02) {
		return g.deep()
	}
	if depth > 0 && g.chance(0.35) {
		n := g.r.Intn(4)
		if g.chance(0.02) {
			n = 1001
		}
		list := make([]any, 0, n)
		for range n {
			list = append(list, g.filter(depth-1))
		}
		var v any = list
		if g.chance(0.05) {
			v = g.filter(depth - 1)
		}
		return fzObj{{g.pick("AND", "OR", "NOT", "and", "XOR"), v}}
	}
	field := g.pick("user_id", "agent_id", "run_id", "actor_id", "role", "kind", "created_at", "updated_at", "n", "topic", "year",
		"tags", "metadata.n", "", "*", "a b", strings.Repeat("m", 129))
	var cond any
	switch g.r.Intn(5) {
	case 0:
		cond = g.scalar()
	case 1:
		cond = "*"
	default:
		op := g.pick("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "between", "*", "regex", "EQ")
		var v any
		switch {
		case op == "in" || op == "nin":
			n := g.r.Intn(4)
			l := make([]any, 0, n)
			for range n {
				l = append(l, g.scalar())
			}
			v = l
		case field == "created_at" || field == "updated_at":
			v = g.dateTime(true)
		default:
			v = g.scalar()
		}
		cond = fzObj{{op, v}}
		if g.chance(0.1) {
			cond = append(cond.(fzObj), fzKV{g.pick("gte", "lt", "bogus"), g.scalar()})
		}
	}
	if g.chance(0.2) {
		return fzObj{{field, cond}, {g.pick("user_id", "topic", "n"), g.scalar()}}
	}
	return fzObj{{field, cond}}
}

func (g *fzGen) scalar() any {
	switch g.r.Intn(5) {
	case 0:
		return g.num()
	case 1:
		return g.r.Intn(2) == 0
	case 2:
		return nil
	default:
		return g.scopeID()
	}
}

// content is a message's content: text, a list of parts, or wrong.
func (g *fzGen) content(good bool) any {
	switch k := g.r.Intn(10); {
	case k < 6:
		return g.text()
	case k < 9:
		n := 1 + g.r.Intn(3)
		parts := make([]any, 0, n)
		for range n {
			if g.chance(0.6) {
				parts = append(parts, fzObj{{"type", "text"}, {"text", g.text()}})
				continue
			}
			u := g.pick("http://127.0.0.1:1/x.png", "https://example.invalid/a.jpg", "data:image/png;base64,iVBORw0KGgo=",
				"data:,x", "data:image/png;base64,!!!", "file:///etc/passwd", "ftp://x", "", "javascript:alert(1)")
			if g.chance(0.3) {
				parts = append(parts, fzObj{{"type", "image_url"}, {"image_url", u}})
			} else {
				parts = append(parts, fzObj{{"type", g.pick("image_url", "image_url", "audio", "")}, {"image_url", fzObj{{"url", u}}}})
			}
		}
		return parts
	default:
		if good {
			return "ok"
		}
		return g.any(2)
	}
}

// named returns a value for a field known by name, or nil, false.
func (g *fzGen) named(name string, depth int, good bool) (any, bool) {
	switch name {
	case "metadata":
		return g.metadata(depth, good), true
	case "filters":
		return g.filter(3), true
	case "content":
		return g.content(good), true
	case "user_id", "agent_id", "run_id", "name":
		if good && g.chance(0.8) {
			return g.pick("alice", "bob", "carol", "agent-1", "run-1"), true
		}
		return g.scopeID(), true
	case "memory_id", "id", "entity_id", "source_id", "target_id":
		return g.id(), true
	case "query", "text", "prompt", "source", "target", "relationship":
		if good && g.chance(0.7) {
			return g.pick("I like tea", "Alice", "works at", "Acme", "tea", "lives in", "Lisbon"), true
		}
		return g.text(), true
	}
	return nil, false
}

// value is a random value for schema s (named name): with good, of the
// right type and mostly valid; without, often of the wrong type or invalid.
func (g *fzGen) value(s *openapi3.Schema, name string, depth int, good bool) any {
	if depth > 8 {
		return nil
	}
	if !good && g.chance(0.15) {
		if g.chance(0.1) {
			return g.deep()
		}
		return g.any(2)
	}
	if s != nil && len(s.Enum) > 0 && (good || g.chance(0.8)) {
		return s.Enum[g.r.Intn(len(s.Enum))]
	}
	if v, ok := g.named(name, depth, good); ok && (s == nil || s.Type == nil || !s.Type.Is("array")) {
		return v
	}
	if s == nil || s.Type == nil || s.Type.IsEmpty() {
		return g.any(2)
	}
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return g.dateTime(!good)
		case "uuid":
			return g.id()
		}
		if s.MaxLength != nil && !good && g.chance(0.2) {
			return strings.Repeat("x", int(*s.MaxLength)+1)
		}
		return g.text()
	case s.Type.Is("integer"):
		if good || g.chance(0.5) {
			lo, hi := 1, 20
			if s.Min != nil {
				lo = int(*s.Min)
			}
			if s.Max != nil && int(*s.Max) < hi {
				hi = int(*s.Max)
			}
			if hi < lo {
				hi = lo
			}
			return lo + g.r.Intn(hi-lo+1)
		}
		switch g.r.Intn(3) {
		case 0:
			if s.Min != nil {
				return int(*s.Min) - 1
			}
		case 1:
			if s.Max != nil {
				return int(*s.Max) + 1
			}
		}
		return g.num()
	case s.Type.Is("number"):
		if good || g.chance(0.5) {
			return g.r.Float64()
		}
		return g.num()
	case s.Type.Is("boolean"):
		if !good && g.chance(0.3) {
			return g.pick("true", "false", "1", "")
		}
		return g.r.Intn(2) == 0
	case s.Type.Is("array"):
		n := 1 + g.r.Intn(3)
		if !good && g.chance(0.15) {
			n = g.pick1(0, 0, 201, 1001)
		}
		var items *openapi3.Schema
		if s.Items != nil {
			items = s.Items.Value
		}
		out := make([]any, 0, n)
		for range n {
			out = append(out, g.value(items, "", depth+1, good || g.chance(0.7)))
		}
		return out
	case s.Type.Is("object"):
		names := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			names = append(names, k)
		}
		sort.Strings(names)
		required := map[string]bool{}
		for _, k := range s.Required {
			required[k] = true
		}
		out := fzObj{}
		for _, k := range names {
			p := 0.55
			if required[k] {
				p = 0.95
			}
			if k == "infer" && good {
				p = 0.9 // mostly say it: half the adds go to the model
			}
			if !g.chance(p) {
				continue
			}
			var ps *openapi3.Schema
			if s.Properties[k] != nil {
				ps = s.Properties[k].Value
			}
			out = append(out, fzKV{k, g.value(ps, k, depth+1, good || g.chance(0.75))})
		}
		if (!good && g.chance(0.3)) || len(names) == 0 {
			for range g.r.Intn(3) {
				out = append(out, fzKV{g.key(), g.any(2)})
			}
		}
		if !good && g.chance(0.05) && len(out) > 0 {
			out = append(out, fzKV{out[0].K, g.any(1)}) // a duplicate key
		}
		return out
	}
	return g.any(2)
}

// bodySchema is the schema random bodies follow: the spec's, or for Mem0's
// free-form objects the native request they stand for.
func (g *fzGen) bodySchema(rt fzRoute) *openapi3.Schema {
	s := rt.Body
	if s != nil && len(s.Properties) > 0 {
		return s
	}
	comp := func(n string) *openapi3.Schema {
		if ref := g.doc.Components.Schemas[n]; ref != nil {
			return ref.Value
		}
		return nil
	}
	extra := map[string]*openapi3.Schema{}
	var base *openapi3.Schema
	switch rt.OpID {
	case "mem0Add":
		base = comp("AddRequest")
		extra["filters"] = openapi3.NewObjectSchema()
		extra["custom_instructions"] = openapi3.NewStringSchema()
		extra["version"] = openapi3.NewStringSchema()
	case "mem0Search", "mem0GetAll":
		base = comp("SearchRequest")
		extra["version"] = openapi3.NewStringSchema()
		extra["rerank"] = openapi3.NewBoolSchema()
	}
	if base == nil {
		return s
	}
	out := openapi3.NewObjectSchema()
	out.Properties = openapi3.Schemas{}
	for k, v := range base.Properties {
		out.Properties[k] = v
	}
	for k, v := range extra {
		out.Properties[k] = openapi3.NewSchemaRef("", v)
	}
	if rt.OpID == "mem0Add" {
		out.Required = []string{"messages", "user_id"}
	}
	if rt.OpID == "mem0Search" {
		out.Required = []string{"query", "filters"}
	}
	return out
}

// jsonBody is a random body for a JSON route.
func (g *fzGen) jsonBody(rt fzRoute) []byte {
	s := g.bodySchema(rt)
	g.badUTF8, g.hugeNums = false, false
	defer func() { g.badUTF8, g.hugeNums = false, false }()
	switch k := g.r.Intn(20); {
	case k < 6:
		return fzJSON(g.value(s, "", 0, false))
	case k < 10:
		return fzJSON(g.value(s, "", 0, true))
	case k < 12:
		return fzJSON(g.any(4))
	case k == 12:
		return []byte(g.pick("", "", " ", "\n\t "))
	case k == 13:
		b := fzJSON(g.value(s, "", 0, true))
		return b[:g.r.Intn(len(b)+1)]
	case k == 14:
		b := make([]byte, g.r.Intn(200))
		g.r.Read(b)
		return b
	case k == 15:
		if g.chance(0.5) {
			return []byte(g.deep())
		}
		o, _ := g.value(s, "", 0, true).(fzObj)
		return fzJSON(append(o, fzKV{g.pick("metadata", "filters", "messages", "query", "text", "relations", "memories"), g.deep()}))
	case k == 16:
		g.badUTF8 = true
		return fzJSON(g.value(s, "", 0, g.chance(0.5)))
	case k == 17:
		g.hugeNums = true
		return fzJSON(g.value(s, "", 0, g.chance(0.5)))
	case k == 18:
		b := fzJSON(g.value(s, "", 0, true))
		return append(b, []byte(g.pick(" {}", "xyz", "\x00", "]", ",", "\n{\"a\":1}", " null"))...)
	default:
		return []byte(g.pick("null", "[]", "{}", `"x"`, "0", "true", "\ufeff{}", `{"a":1,}`, `{'a':1}`, `{"a" 1}`, "NaN",
			"[1,2", `{"messages":`, `{"query":"\ud800"}`, `{"text":"\u0000"}`, `{"a":"\x01"}`, "\xef\xbb\xbf{}"))
	}
}

// ndjsonBody is a random body for /import: mutated lines of a real export,
// random objects, garbage.
func (g *fzGen) ndjsonBody() []byte {
	var lines []string
	switch k := g.r.Intn(10); {
	case k < 4 && len(g.exportLines) > 0:
		for range 1 + g.r.Intn(len(g.exportLines)) {
			lines = append(lines, g.mutateLine(g.exportLines[g.r.Intn(len(g.exportLines))]))
		}
	case k < 6:
		for range 1 + g.r.Intn(4) {
			typ := g.pick("memory", "event", "entity", "relation", "bogus", "")
			lines = append(lines, string(fzJSON(fzObj{{"type", typ}, {typ, g.any(3)}})))
		}
	case k == 6:
		for range 1 + g.r.Intn(4) {
			lines = append(lines, string(g.jsonBody(fzRoute{})))
		}
	case k == 7:
		lines = []string{"", " ", "\r", "\t"}
	case k == 8 && len(g.exportLines) > 0:
		lines = g.exportLines // as is: a conflict after the first time
	default:
		b := make([]byte, g.r.Intn(300))
		g.r.Read(b)
		lines = []string{string(b)}
	}
	return []byte(strings.Join(lines, g.pick("\n", "\n", "\r\n")))
}

// mutateLine changes a real export line: fresh ids, random fields, types.
func (g *fzGen) mutateLine(line string) string {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return line
	}
	fresh := g.chance(0.7)
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				switch {
				case g.chance(0.05):
					delete(x, k)
				case g.chance(0.07):
					x[k] = json.RawMessage(fzJSON(g.any(2)))
				default:
					x[k] = walk(x[k])
				}
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
			return x
		case string:
			if fresh && fzUUIDPattern.MatchString(x) && len(x) == 36 {
				return g.uuid()
			}
		}
		return v
	}
	walk(m)
	if g.chance(0.05) {
		m["type"] = g.pick("memory", "event", "entity", "relation", "x")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return line
	}
	return string(b)
}

// contentType is the route's own content type, mostly.
func (g *fzGen) contentType(own string) string {
	if own == "" {
		own = "application/json"
	}
	if g.chance(0.85) {
		return own
	}
	return g.pick("", "text/plain", "application/json; charset=utf-8", "application/JSON", "application/x-www-form-urlencoded",
		"application/x-ndjson", "multipart/form-data; boundary=x", "application/jsonx", "application/json-patch+json", "*/*",
		"application/json; charset=latin1", "application/xml")
}

// queryValue renders a random value for a query parameter, at most 16 KB:
// past Go's 1 MB of request line and headers, net/http itself answers 431
// in plain text before the application sees the request.
func (g *fzGen) queryValue(p *openapi3.Parameter) string {
	v := g.queryValue1(p)
	if len(v) > 16<<10 {
		v = v[:16<<10]
	}
	return v
}

func (g *fzGen) queryValue1(p *openapi3.Parameter) string {
	var s *openapi3.Schema
	if p.Schema != nil {
		s = p.Schema.Value
	}
	var v any
	if p.Name == "filters" {
		v = g.filter(2)
	} else {
		v = g.value(s, p.Name, 0, g.chance(0.6))
	}
	switch x := v.(type) {
	case string:
		return x
	case fzBytes:
		return string(x)
	case fzRaw:
		if len(x) > 3000 {
			return string(x[:3000])
		}
		return string(x)
	case bool:
		if g.chance(0.2) {
			return g.pick("TRUE", "1", "yes", "t", "")
		}
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	}
	out := string(fzJSON(v))
	if p.Name == "filters" && g.chance(0.3) {
		out = strings.ReplaceAll(out, `"`, "'") // the Python repr Mem0's client sends
	}
	return out
}

// pathValue is a random path parameter.
func (g *fzGen) pathValue(p *openapi3.Parameter) string {
	if p.Schema != nil && p.Schema.Value != nil && len(p.Schema.Value.Enum) > 0 && g.chance(0.8) {
		return fmt.Sprint(p.Schema.Value.Enum[g.r.Intn(len(p.Schema.Value.Enum))])
	}
	switch p.Name {
	case "id":
		return g.id()
	default:
		switch v := g.scopeID().(type) {
		case string:
			return v
		case fzBytes:
			return string(v)
		}
		return "x"
	}
}

// request is one random request for a route, authenticated with key.
func (g *fzGen) request(rt fzRoute, key string) fzRequest {
	path := rt.Path
	q := url.Values{}
	for _, p := range rt.Params {
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(g.pathValue(p)))
		case "query":
			if g.chance(0.6) {
				q.Add(p.Name, g.queryValue(p))
				if g.chance(0.05) {
					q.Add(p.Name, g.queryValue(p))
				}
			}
		}
	}
	if g.chance(0.15) {
		for range 1 + g.r.Intn(3) {
			k, _ := g.key().(string)
			q.Add(k, fmt.Sprint(g.scalar()))
		}
	}
	target := path
	if raw := q.Encode(); raw != "" {
		target += "?" + raw
	}
	if g.chance(0.02) {
		target += g.pick("?%zz=1", "?&&=", "?user_id=%00", "?;;", "?limit=1&limit=2&limit=x")
	}
	h := http.Header{}
	switch k := g.r.Intn(100); {
	case k < 88:
		h.Set("X-API-Key", key)
	case k < 92:
		h.Set("Authorization", g.pick("Bearer ", "bearer ", "BEARER ")+key)
	case k < 95:
		h.Set("Authorization", "Token "+key)
	case k < 97:
		h.Set("X-API-Key", g.pick("nm_0000000000000000_bogus", "nm_", "garbage", key+"x", strings.Repeat("k", 5000), "nm_"+g.uuid()))
	default:
		// no key
	}
	r := fzRequest{Method: rt.Method, Target: target, Header: h, NoBody: true}
	switch {
	case rt.BodyType == "application/x-ndjson":
		r.NoBody, r.Body = false, g.ndjsonBody()
	case rt.BodyType != "":
		r.NoBody, r.Body = false, g.jsonBody(rt)
	case g.chance(0.1):
		r.NoBody, r.Body = false, fzJSON(g.any(3)) // a body where none is expected
	}
	if !r.NoBody {
		if ct := g.contentType(rt.BodyType); ct != "" {
			h.Set("Content-Type", ct)
		}
	}
	if g.chance(0.003) {
		// Over the 2M body limit.
		r.NoBody, r.Body = false, append([]byte(`{"text":"`), bytes.Repeat([]byte("x"), 2<<20+100)...)
	}
	return r
}

// ---------------------------------------------------------------------------
// The property test.

// fzKeys returns a plain and an admin key of one fresh tenant.
func fzKeys(tb testing.TB) (key, admin string) {
	tb.Helper()
	key, tenant := newKey(tb, false)
	return key, createKey(tb, tenant, true)
}

// fzSeed writes a little of everything with key — raw memories with
// metadata, with full also an inferred add and the export of user alice —
// so random requests meet existing memories, entities and relations. It
// returns the ids in the answers.
func fzSeed(s *fzServer, has map[string]bool, key string, full bool) (ids, export []string, err error) {
	seen := map[string]bool{}
	do := func(method, path string, body any) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		resp, e := s.send(fzRequest{Method: method, Target: path, Body: b, NoBody: body == nil,
			Header: http.Header{"X-Api-Key": {key}, "Content-Type": {"application/json"}}}, method == "POST" && path == "/memories")
		if e != nil || resp.Status != 200 {
			err = fmt.Errorf("seed %s %s: %v %d %s", method, path, e, resp.Status, resp.Body)
			return nil
		}
		for _, id := range fzUUIDPattern.FindAllString(string(resp.Body), -1) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return resp.Body
	}
	do("POST", "/memories", map[string]any{"user_id": "alice", "infer": false, "metadata": map[string]any{"n": 1, "topic": "tea", "tags": []string{"a", "b"}},
		"messages": []map[string]any{{"role": "user", "content": "I like tea"}, {"role": "assistant", "content": "Noted: tea"},
			{"role": "user", "content": "I work at Acme", "name": "alice"}}})
	do("POST", "/memories", map[string]any{"user_id": "bob", "agent_id": "agent-1", "infer": full, "messages": []map[string]any{{"role": "user", "content": "My dog is called Rex"}}})
	if has["POST /relations"] {
		do("POST", "/relations", map[string]any{"user_id": "alice", "relations": []map[string]any{
			{"source": "Alice", "source_type": "person", "relationship": "works at", "target": "Acme", "target_type": "company"},
			{"source": "Alice", "relationship": "lives in", "target": "Lisbon"}}})
	}
	if full {
		do("GET", "/entities?user_id=alice", nil)
		if has["GET /export"] {
			for _, l := range strings.Split(strings.TrimSpace(string(do("GET", "/export?user_id=alice", nil))), "\n") {
				if l != "" {
					export = append(export, l)
				}
			}
		}
	}
	return ids, export, err
}

// checkModelCalls fails when the model got calls no gated request saw: a
// route outside fzModelOps calls the model, and the 503 rule could excuse
// the wrong request.
func (s *fzServer) checkModelCalls(tb testing.TB) {
	s.modelMu.Lock()
	defer s.modelMu.Unlock()
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if all := s.model.Calls(); all != s.gatedCalls {
		tb.Errorf("the chat model got %d calls, only %d while requests to %v were under way: another route calls the model; add it to fzModelOps",
			all, s.gatedCalls, fzModelOps)
	}
}

func fzEnvInt(t *testing.T, name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, v, err)
		}
		return n
	}
	return def
}

// TestPropertyRequestDecoding sends NEOMEM_PROPERTY_N (300) random requests
// to every route and method of the spec, each route in a tenant of its own
// (re-seeded every 50 requests, so deletes do not leave the rest of the run
// with nothing to find); see the file comment for the rules.
func TestPropertyRequestDecoding(t *testing.T) {
	doc, routes := fzLoadRoutes(t)
	s := fzStart(t, true)
	oracle := newFzOracle(t)
	seed := fzEnvInt(t, "NEOMEM_PROPERTY_SEED", 20260501)
	n := int(fzEnvInt(t, "NEOMEM_PROPERTY_N", 300))
	t.Logf("seed %d, %d requests for each of %d routes (NEOMEM_PROPERTY_SEED, NEOMEM_PROPERTY_N)", seed, n, len(routes))
	has := map[string]bool{}
	for _, r := range routes {
		has[r.String()] = true
	}
	type keys struct{ key, admin string }
	tenants := make([]keys, len(routes))
	for i := range routes {
		tenants[i].key, tenants[i].admin = fzKeys(t)
	}

	type result struct {
		statuses map[int]int
		excused  int
		failures []string
		failed   int
		took     time.Duration
		busy     time.Duration // summed request latencies
		slowest  time.Duration
		slowReq  string
		err      error
	}
	results := make([]result, len(routes))
	begin := time.Now()
	var wg sync.WaitGroup
	for i, rt := range routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := result{statuses: map[int]int{}}
			defer func() { results[i] = res }()
			start := time.Now()
			defer func() { res.took = time.Since(start) }()
			key, admin := tenants[i].key, tenants[i].admin
			ids, export, err := fzSeed(s, has, key, true)
			if err != nil {
				res.err = err
				return
			}
			h := fnv.New64a()
			h.Write([]byte(rt.String()))
			g := &fzGen{r: rand.New(rand.NewSource(seed ^ int64(h.Sum64()))), doc: doc, ids: ids, exportLines: export}
			for j := range n {
				if j > 0 && j%50 == 0 {
					more, _, err := fzSeed(s, has, key, false)
					if err != nil {
						res.err = err
						return
					}
					g.ids = append(g.ids, more...)
				}
				k := key
				if fzAdminOps[rt.OpID] && g.chance(0.85) {
					k = admin
				}
				req := g.request(rt, k)
				t0 := time.Now()
				resp, err := s.send(req, fzModelOps[rt.OpID])
				d := time.Since(t0)
				res.busy += d
				if d > res.slowest {
					res.slowest, res.slowReq = d, fmt.Sprintf("%d %q", resp.Status, fzClip(req.Target+" "+string(req.Body), 150))
				}
				if err != nil {
					res.failed++
					if len(res.failures) < 3 {
						res.failures = append(res.failures, fzDescribe(s, req, nil, err))
					}
					continue
				}
				res.statuses[resp.Status]++
				if resp.Status == http.StatusServiceUnavailable && resp.ChatCalls > 0 {
					// The other add route ran beside it: send it again alone
					// to see whether the model is what made it a 503.
					first := resp
					if resp, err = s.sendAlone(req); err != nil {
						resp = fzResponse{Status: 599, Header: first.Header, Body: []byte(err.Error())}
					}
					if resp.Status != http.StatusServiceUnavailable || resp.ChatCalls == 0 {
						res.failed++
						if len(res.failures) < 3 {
							res.failures = append(res.failures, fmt.Sprintf("a 503 that did not come back as a 503 with model calls when sent alone (then: %d, %d model calls)\n%s",
								resp.Status, resp.ChatCalls, fzDescribe(s, req, &first, nil)))
						}
						continue
					}
				}
				problem, excused := fzCheck(rt, resp)
				if problem == "" && resp.Status/100 == 2 {
					if why := oracle.breaks(req); why != "" {
						problem = "accepted (" + strconv.Itoa(resp.Status) + ") a request with a value out of its range: " + why
					}
				}
				if excused {
					res.excused++
					t.Logf("excused (the model was called): %s", fzDescribe(s, req, &resp, nil))
				}
				if problem != "" {
					res.failed++
					if len(res.failures) < 3 {
						res.failures = append(res.failures, problem+"\n"+fzDescribe(s, req, &resp, nil))
					}
				}
				// Ids the route itself makes are fair game for its next requests.
				if resp.Status == 200 && len(g.ids) < 300 {
					g.ids = append(g.ids, fzUUIDPattern.FindAllString(string(resp.Body), 8)...)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d requests in %s", n*len(routes), time.Since(begin).Round(time.Millisecond))
	for i, rt := range routes {
		res := results[i]
		if res.err != nil {
			t.Errorf("%s: %v", rt, res.err)
		}
		codes := make([]int, 0, len(res.statuses))
		for c := range res.statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var dist []string
		for _, c := range codes {
			dist = append(dist, fmt.Sprintf("%d×%d", c, res.statuses[c]))
		}
		t.Logf("%-34s %6s (busy %s, slowest %s: %s)  %s excused-503=%d", rt, res.took.Round(100*time.Millisecond), res.busy.Round(100*time.Millisecond),
			res.slowest.Round(time.Millisecond), res.slowReq, strings.Join(dist, " "), res.excused)
		if res.failed > 0 {
			t.Errorf("%s: %d of %d requests broke the properties; the first ones:\n%s", rt, res.failed, n, strings.Join(res.failures, "\n"))
		}
		// A route of the spec the server does not serve answers only the
		// router's 404 or 405: covered in name only.
		served := false
		for c := range res.statuses {
			served = served || c != http.StatusNotFound && c != http.StatusMethodNotAllowed
		}
		if !served && res.err == nil {
			t.Errorf("%s is in api/openapi.yaml, but the server answered it only 404 or 405", rt)
		}
	}
	s.checkModelCalls(t)
}

// fzOracle says whether a request holds a value out of its range, on the
// test side: the OpenAPI document (validated here with kin-openapi, as a
// client-side check would be) and the ranges of the lax fields Mem0's
// free-form bodies carry.
type fzOracle struct{ router routers.Router }

func newFzOracle(tb testing.TB) *fzOracle {
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return &fzOracle{router: router}
}

// fzLaxRanges are the Mem0 body fields parsed laxly (a number or a numeric
// string), by operation, with their ranges.
var fzLaxRanges = map[string]map[string][2]float64{
	"mem0Search": {"top_k": {1, 100}, "threshold": {0, 1}},
}

// breaks returns why r holds a value out of its range, or "".
func (o *fzOracle) breaks(r fzRequest) string {
	var body io.Reader = http.NoBody
	if !r.NoBody {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, "http://oracle"+r.Target, body)
	if err != nil {
		return ""
	}
	req.Header = r.Header.Clone()
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		return ""
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true}
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/json" {
		opts.ExcludeRequestBody = true
	}
	if err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: opts}); err != nil {
		return "the document refuses it: " + fzClip(err.Error(), 300)
	}
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return ""
	}
	for field, rng := range fzLaxRanges[route.Operation.OperationID] {
		var f float64
		switch v := m[field].(type) {
		case float64:
			f = v
		case string:
			if f, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				continue
			}
		default:
			continue
		}
		if f < rng[0] || f > rng[1] || field == "top_k" && f != float64(int64(f)) {
			return fmt.Sprintf("%s %v is outside [%v, %v]", field, m[field], rng[0], rng[1])
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// The native fuzz target.

var fuzzServer struct {
	once sync.Once
	s    *fzServer
}

// FuzzRequestBodies sends the fuzzer's bytes as the body of every route with
// a request body (and every POST and PUT) of a server started once per
// process; none may answer 5xx (503 with a model call excepted, see the file
// comment). The seed corpus runs in plain `go test`.
func FuzzRequestBodies(f *testing.F) {
	_, routes := fzLoadRoutes(f)
	var targets []fzRoute
	for _, r := range routes {
		if r.Body != nil || r.Method == "POST" || r.Method == "PUT" {
			targets = append(targets, r)
		}
	}
	fuzzServer.once.Do(func() { fuzzServer.s = fzStart(f, false) })
	s := fuzzServer.s
	if s == nil {
		f.Skip("the server did not start in this process")
	}
	key, _ := newKey(f, true)
	add := func(body string) string {
		resp, err := s.send(fzRequest{Method: "POST", Target: "/memories", Body: []byte(body),
			Header: http.Header{"X-Api-Key": {key}, "Content-Type": {"application/json"}}}, true)
		if err != nil || resp.Status != 200 {
			f.Fatalf("seed add: %v %d %s", err, resp.Status, resp.Body)
		}
		return fzUUIDPattern.FindString(string(resp.Body))
	}
	id := add(`{"user_id":"alice","infer":false,"messages":[{"role":"user","content":"I like tea"}]}`)

	for _, b := range []string{
		`{"user_id":"alice","infer":false,"messages":[{"role":"user","content":"I like green tea"}]}`,
		`{"user_id":"alice","messages":[{"role":"user","content":"I work at Acme"}]}`,
		`{"query":"tea","user_id":"alice","filters":{"AND":[{"user_id":"alice"},{"n":{"gte":1}}]}}`,
		`{"text":"I like black tea","metadata":{"n":2}}`,
		`{"memories":[{"memory_id":"` + id + `","text":"tea"}]}`,
		`{"user_id":"alice","relations":[{"source":"Alice","relationship":"works at","target":"Acme"}]}`,
		`{"name":"fuzz","admin":false}`,
		`{"type":"memory","memory":{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","memory":"x","hash":"","metadata":{},"kind":"raw","user_id":"alice","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z"},"embedding":[1]}`,
		``, `{`, `null`, `[]`, `{"metadata":{"a":1e400}}`, "\xff\xfe\x00", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:,x"}}]}],"user_id":"u"}`,
	} {
		f.Add([]byte(b))
	}
	// The server runs in this process, so its own goroutines move the
	// coverage counters between executions and nearly every input looks
	// like new coverage; the engine then minimizes each one for up to
	// -fuzzminimizetime (60s), and a 60s run fuzzes for a few seconds only.
	// Unless asked otherwise, minimization is off (a crasher is still
	// written to testdata as found).
	explicit := false
	flag.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "test.fuzzminimizetime" })
	if !explicit {
		_ = flag.Set("test.fuzzminimizetime", "0")
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range targets {
			target := strings.ReplaceAll(rt.Path, "{id}", id)
			target = strings.ReplaceAll(target, "{type}", "user")
			target = strings.ReplaceAll(target, "{name}", "alice")
			ct := rt.BodyType
			if ct == "" {
				ct = "application/json"
			}
			req := fzRequest{Method: rt.Method, Target: target, Body: body, Header: http.Header{"X-Api-Key": {key}, "Content-Type": {ct}}}
			resp, err := s.send(req, fzModelOps[rt.OpID])
			if err != nil {
				t.Fatalf("%s: %s", rt, fzDescribe(s, req, nil, err))
			}
			if problem, _ := fzCheck(rt, resp); problem != "" {
				t.Fatalf("%s: %s\n%s", rt, problem, fzDescribe(s, req, &resp, nil))
			}
		}
	})
}
