package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/testcontainers/neomem"
)

var update = flag.Bool("update", false, "write the Neo4j Browser screenshot to docs/browser.png")

func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }

// TestHandler: the files with their content types, readable from any
// origin, preflights answered, conditional requests, nothing else served.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/browser", Handler()))
	defer srv.Close()
	do := func(method, path string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s %s: Access-Control-Allow-Origin = %q, want *", method, path, got)
		}
		return resp, b
	}
	for _, tc := range []struct {
		path, contentType string
		body              []byte
	}{
		{"/browser/style.grass", "text/plain; charset=utf-8", style},
		{"/browser/guide.adoc", "text/asciidoc; charset=utf-8", guide},
		{"/browser/guide.html", "text/html; charset=utf-8", guideHTML(guide)},
	} {
		resp, body := do("GET", tc.path, map[string]string{"Origin": "http://localhost:7474"})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.contentType || !bytes.Equal(body, tc.body) {
			t.Errorf("GET %s = %d %q, %d bytes; want 200 %q, %d bytes", tc.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), len(body), tc.contentType, len(tc.body))
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := do("GET", tc.path, map[string]string{"If-None-Match": etag}); etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s = %d, want 304", tc.path, etag, resp.StatusCode)
		}
		if resp, body := do("HEAD", tc.path, nil); resp.StatusCode != 200 || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d bytes", tc.path, resp.StatusCode, len(body))
		}
		// Browser asks for a guide with Cache-Control and Pragma headers.
		resp, _ = do("OPTIONS", tc.path, map[string]string{"Origin": "http://localhost:7474",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "cache-control,pragma"})
		if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
			resp.Header.Get("Access-Control-Allow-Headers") != "cache-control,pragma" {
			t.Errorf("OPTIONS %s = %d, headers %v", tc.path, resp.StatusCode, resp.Header)
		}
		if resp, _ := do("POST", tc.path, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 405", tc.path, resp.StatusCode)
		}
	}
	resp, body := do("GET", "/browser/", nil)
	want := ":guide " + srv.URL + "/browser/guide.html"
	if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
		t.Errorf("GET /browser/ = %d, want a page with %q:\n%s", resp.StatusCode, want, body)
	}
	if resp, _ := do("GET", "/browser/neo4j.conf", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /browser/neo4j.conf = %d, want 404", resp.StatusCode)
	}
}

// parseGrass reads GraSS as Neo4j Browser 5 does: outside quotes, "{" and
// "}" delimit a rule, every other non-space character outside a rule is
// part of the next selector (so there are no comments), quotes are dropped,
// and a rule's body is "name: value" properties split on ";" and ":".
func parseGrass(t *testing.T, grass string) (order []string, rules map[string]map[string]string) {
	t.Helper()
	rules = map[string]map[string]string{}
	var sel, body strings.Builder
	inQuote, inRule := false, false
	for _, c := range grass {
		switch {
		case c == '"' || c == '\'':
			inQuote = !inQuote
		case c == '{' && !inQuote:
			if inRule {
				t.Fatalf("rule %s: a { inside a rule", sel.String())
			}
			inRule = true
		case c == '}' && !inQuote:
			name := sel.String()
			if strings.ContainsAny(name, "/*#;:") {
				t.Errorf("selector %q: Browser reads every non-space character before { as the selector", name)
			}
			if _, dup := rules[name]; dup {
				t.Errorf("selector %s appears twice", name)
			}
			props := map[string]string{}
			for _, p := range strings.Split(body.String(), ";") {
				if strings.TrimSpace(p) == "" {
					continue
				}
				kv := strings.Split(p, ":")
				if len(kv) != 2 {
					t.Errorf("%s: property %q is not name: value (Browser splits on every ':')", name, strings.TrimSpace(p))
					continue
				}
				props[strings.TrimSpace(kv[0])] = strings.TrimSpace(kv[1])
			}
			rules[name] = props
			order = append(order, name)
			sel.Reset()
			body.Reset()
			inRule = false
		case inRule:
			body.WriteRune(c)
		case c != ' ' && c != '\n' && c != '\t':
			sel.WriteRune(c)
		}
	}
	if inQuote || inRule || strings.TrimSpace(sel.String()) != "" {
		t.Errorf("the style ends inside a string or rule, or with text after the last rule: %q", sel.String())
	}
	return order, rules
}

// TestStyle holds the style to what Browser's GraSS parser reads, with a
// colour and caption for memories and entities, and a colour for every
// entity type it names.
func TestStyle(t *testing.T) {
	order, rules := parseGrass(t, string(style))
	if len(order) < 2 || order[0] != "node" || order[1] != "relationship" {
		t.Errorf("rules start %v; want node and relationship first (later rules override earlier ones)", order[:min(2, len(order))])
	}
	for sel, want := range map[string]string{"node.Memory": "{text}", "node.__Entity__": "{name}", "node.Event": "{op}", "relationship": "<type>"} {
		if rules[sel]["caption"] != want {
			t.Errorf("%s caption = %q, want %q", sel, rules[sel]["caption"], want)
		}
	}
	color := regexp.MustCompile(`^#[0-9A-F]{6}$`)
	entityAt := slices.Index(order, "node.__Entity__")
	for i, sel := range order {
		props := rules[sel]
		for _, k := range []string{"color", "border-color", "text-color-internal", "text-color-external"} {
			if v, ok := props[k]; ok && !color.MatchString(v) {
				t.Errorf("%s %s = %q, want #RRGGBB", sel, k, v)
			}
		}
		if strings.HasPrefix(sel, "node.") && props["color"] == "" {
			t.Errorf("%s has no color: Browser would give its label a colour of its own", sel)
		}
		if strings.HasPrefix(sel, "node.") && sel != "node.Memory" && sel != "node.__Entity__" && props["caption"] == "" && i < entityAt {
			t.Errorf("%s comes before node.__Entity__ without a caption", sel)
		}
	}
	for _, label := range []string{"Person", "Organization", "Company", "Location", "City"} {
		if rules["node."+label]["color"] == rules["node.__Entity__"]["color"] {
			t.Errorf("node.%s has the default entity colour", label)
		}
	}
}

var (
	cypherBlock = regexp.MustCompile(`(?s)\[source,cypher\]\n----\n(.*?)\n----`)
	// A MATCH clause's first node pattern: (variable:Label {properties}).
	matchStart = regexp.MustCompile(`(?m)^\s*(?:OPTIONAL )?MATCH \((\w*)(:\w+)?( \{[^}]*\})?\)`)
)

// guideQueries are the guide's Cypher blocks, the Browser commands (":…")
// left out.
func guideQueries(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range cypherBlock.FindAllStringSubmatch(string(guide), -1) {
		if !strings.HasPrefix(m[1], ":") {
			out = append(out, m[1])
		}
	}
	if len(out) < 6 {
		t.Fatalf("the guide has %d queries", len(out))
	}
	return out
}

// TestGuideFiltersByTenant: every MATCH starts from a node of the tenant
// (or from one it matched already).
func TestGuideFiltersByTenant(t *testing.T) {
	for _, q := range guideQueries(t) {
		matches := matchStart.FindAllStringSubmatch(q, -1)
		if len(matches) == 0 {
			t.Errorf("no MATCH in\n%s", q)
		}
		for _, m := range matches {
			if m[2] != "" && !strings.Contains(m[3], "tenant: $tenant") {
				t.Errorf("%q does not filter by tenant in\n%s", strings.TrimSpace(m[0]), q)
			}
		}
	}
}

// TestGuideHTML: one slide per section, every Cypher block of the AsciiDoc
// a runnable block of the HTML, text intact.
func TestGuideHTML(t *testing.T) {
	title, slides := parseGuide(guide)
	if title != "neomem: reading the memory graph" {
		t.Errorf("title = %q", title)
	}
	sections := regexp.MustCompile(`(?m)^== (.+)$`).FindAllStringSubmatch(string(guide), -1)
	if len(slides) != len(sections) {
		t.Fatalf("%d slides for %d sections", len(slides), len(sections))
	}
	for i, s := range slides {
		if s.Title != sections[i][1] {
			t.Errorf("slide %d is %q, want %q", i, s.Title, sections[i][1])
		}
	}
	doc := string(guideHTML(guide))
	var runnable []string
	for _, m := range regexp.MustCompile(`(?s)<pre class="code runnable">(.*?)</pre>`).FindAllStringSubmatch(doc, -1) {
		runnable = append(runnable, html.UnescapeString(m[1]))
	}
	var blocks []string
	for _, m := range cypherBlock.FindAllStringSubmatch(string(guide), -1) {
		blocks = append(blocks, m[1])
	}
	if !slices.Equal(runnable, blocks) {
		t.Errorf("runnable blocks of the HTML differ from the Cypher blocks:\n%q\n%q", runnable, blocks)
	}
	for _, want := range []string{"<title>neomem: reading the memory graph</title>", `<slide class="row-fluid">`,
		"<code>__Entity__</code>", "<strong>Memory</strong>", "<li><code>tenant</code>: the tenant"} {
		if !strings.Contains(doc, want) {
			t.Errorf("guide.html has no %q", want)
		}
	}
}

func TestInline(t *testing.T) {
	for in, want := range map[string]string{
		"a *b* c":                       "a <strong>b</strong> c",
		"snake_case and 2*3*4":          "snake_case and 2*3*4",
		"`a <b> *c*` _d_":               "<code>a &lt;b&gt; *c*</code> <em>d</em>",
		"see https://neo4j.com[Neo4j].": `see <a href="https://neo4j.com" target="_blank" rel="noopener">Neo4j</a>.`,
		"it's <x>":                      "it&#39;s &lt;x&gt;",
	} {
		if got := inline(in); got != want {
			t.Errorf("inline(%q) = %q, want %q", in, got, want)
		}
	}
}

// The seeded graph: one user's entities, relations and memories.
const (
	tenant = "default" // the guide's example values, so its blocks run as written
	user   = "alice"
)

var triples = []map[string]string{
	{"source": "Alice", "source_type": "Person", "relationship": "works at", "target": "Acme Corp", "target_type": "Company"},
	{"source": "Alice", "source_type": "Person", "relationship": "lives in", "target": "Lisbon", "target_type": "City"},
	{"source": "Lisbon", "source_type": "City", "relationship": "located in", "target": "Portugal", "target_type": "Country"},
	{"source": "Alice", "source_type": "Person", "relationship": "knows", "target": "Bob", "target_type": "Person"},
	{"source": "Bob", "source_type": "Person", "relationship": "works at", "target": "Acme Corp", "target_type": "Company"},
	{"source": "Acme Corp", "source_type": "Company", "relationship": "builds", "target": "Atlas", "target_type": "Product"},
	{"source": "Alice", "source_type": "Person", "relationship": "enjoys", "target": "Surfing", "target_type": "Hobby"},
}

var memories = []string{
	"Alice moved to Lisbon in 2024",
	"Alice surfs on weekends",
	"Alice and Bob work at Acme Corp",
}

// TestBrowser drives Neo4j Browser in headless Chromium: a private Neo4j
// from the project's runtime whose post_connect_cmd points at a neomem
// server, a small graph written through neomem's API, a login, and then
// the style applied and the guide open; the guide's first graph query,
// run from the guide, draws the memories and the coloured entities. The
// screenshot goes to the test's temporary directory, or to
// docs/browser.png with -update (or NEOMEM_UPDATE_DOCS=1).
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	port := neomem.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	db := neomem.NewNeo4j(t, map[string]string{"NEOMEM_BROWSER_URL": base})
	up := db.Start()
	neomem.Binaries(t)
	llm := neomem.StartFakeLLM(t, "fakellm")
	if err := <-up; err != nil {
		t.Fatal(err)
	}
	srv := neomem.StartServer(t, "neomem", neomem.Env(db.Conn(), llm.Base, map[string]string{"NEOMEM_ADDR": fmt.Sprintf("127.0.0.1:%d", port)}))
	if srv.URL != base {
		t.Fatalf("neomem listens on %s, not %s", srv.URL, base)
	}
	key := srv.Key(t, tenant, true)
	post(t, srv.URL+"/relations", key, map[string]any{"user_id": user, "relations": triples})
	var msgs []map[string]string
	for _, m := range memories {
		msgs = append(msgs, map[string]string{"role": "user", "content": m})
	}
	post(t, srv.URL+"/memories", key, map[string]any{"user_id": user, "infer": false, "messages": msgs})
	runGuideQueries(t, db)

	shot := filepath.Join(t.TempDir(), "browser.png")
	if *update || os.Getenv("NEOMEM_UPDATE_DOCS") == "1" {
		shot = filepath.Join("..", "docs", "browser.png")
	}
	drive(t, chromium, db, base, shot)
}

// findChromium returns the Chromium to drive: $NEOMEM_CHROMIUM or the first
// of chromium, chromium-browser, google-chrome on PATH. Without one the test
// skips, or fails under NEO4J_REQUIRED=1 (CI).
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NEOMEM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium: set NEOMEM_CHROMIUM or install one (bash browser/chromium.sh)"
	if os.Getenv("NEO4J_REQUIRED") == "1" {
		t.Fatal("NEO4J_REQUIRED=1 but " + why)
	}
	t.Skip(why)
	return ""
}

// post sends body as JSON with the API key and requires a 200.
func post(t *testing.T, url, key string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d %s", url, resp.StatusCode, rb)
	}
}

// runGuideQueries runs every query of the guide on the seeded graph: each
// must answer rows, and the first (a user's memories and entities) all of
// them.
func runGuideQueries(t *testing.T, db *neomem.Neo4j) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := db.Conn()
	drv, err := neo4j.NewDriverWithContext(conn.URI, neo4j.BasicAuth(conn.Username, conn.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close(ctx)
	params := map[string]any{"tenant": tenant, "user": user, "entity": "Alice",
		"asOf": time.Now().UTC().Add(time.Minute).Format(time.RFC3339)}
	for i, q := range guideQueries(t) {
		res, err := neo4j.ExecuteQuery(ctx, drv, q, params, neo4j.EagerResultTransformer)
		if err != nil {
			t.Errorf("guide query %d: %v\n%s", i, err, q)
			continue
		}
		if len(res.Records) == 0 {
			t.Errorf("guide query %d answered no rows on the seeded graph:\n%s", i, q)
			continue
		}
		if i == 0 {
			row := res.Records[0].AsMap()
			ms, _ := row["memories"].([]any)
			es, _ := row["entities"].([]any)
			rs, _ := row["relations"].([]any)
			if len(ms) != len(memories) || len(es) != 7 || len(rs) != len(triples) {
				t.Errorf("a user's memories and entities: %d memories, %d entities, %d relations; want %d, 7, %d",
					len(ms), len(es), len(rs), len(memories), len(triples))
			}
		}
	}
}

// drive logs into Browser, checks what post_connect_cmd did, runs the
// guide's parameters and first graph query from the guide, checks the
// drawing, and saves a screenshot of the result frame full screen to shot.
func drive(t *testing.T, chromium string, db *neomem.Neo4j, base, shot string) {
	// The browser lives as long as this context: the whole drive.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
		chromedp.WindowSize(1600, 1000), chromedp.NoSandbox)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	var (
		mu      sync.Mutex
		console []string
	)
	err := chromedp.Listen(bctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			line = "exception: " + ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				line += " " + e.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
				return
			}
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			line = string(ev.Type) + ": " + strings.Join(args, " ")
		default:
			return
		}
		mu.Lock()
		console = append(console, line)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("start Chromium (%s): %v", chromium, err)
	}
	// fail ends the test with a screenshot of the page and its console.
	fail := func(what string, err error) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
		defer scancel()
		// Kept after the test, to be looked at.
		if png, serr := chromedp.Run(sctx, chromedp.CaptureScreenshot()); serr == nil {
			if f, ferr := os.CreateTemp("", "neomem-browser-failure-*.png"); ferr == nil {
				_, _ = f.Write(png)
				f.Close()
				t.Logf("screenshot of the failure: %s", f.Name())
			}
		}
		if top, serr := chromedp.Run(sctx, chromedp.Evaluate[string](
			`(document.querySelector('[data-testid="frame"]')?.innerText ?? '(no frame)').slice(0, 2000)`)); serr == nil {
			t.Logf("the newest frame says:\n%s", top)
		}
		mu.Lock()
		t.Logf("Browser console:\n%s", strings.Join(console, "\n"))
		mu.Unlock()
		t.Fatalf("%s: %v", what, err)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			fail(what, err)
		}
	}
	wait := func(what, js string, timeout time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(timeout),
			chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			fail(what, err)
		}
	}
	eval := func(what, js string) []string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			fail(what, err)
		}
		return v
	}
	start := time.Now()

	// The connect form, with the bolt URL from the link.
	page := fmt.Sprintf("http://127.0.0.1:%d/browser/?dbms=%s", db.HTTP, url.QueryEscape(fmt.Sprintf("bolt://127.0.0.1:%d", db.Bolt)))
	do("open Browser", chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="password"]`)))
	wait("log in", login("neo4j", db.Password), 30*time.Second)

	// post_connect_cmd: the style frame shows neomem's rules, the guide is
	// open in the drawer.
	wait("the style applied by post_connect_cmd",
		`[...document.querySelectorAll('[data-testid="frame"]')].some(f => f.innerText.includes(':style `+base+`/browser/style.grass') && f.innerText.includes('node.__Entity__'))`,
		30*time.Second)
	wait("the guide opened by post_connect_cmd",
		`(document.querySelector('[data-testid="guidesDrawer"]')?.innerText ?? '').includes('neomem: reading the memory graph')`,
		30*time.Second)
	t.Logf("logged in; style and guide loaded from %s in %v", base, time.Since(start).Round(time.Millisecond))

	// The guide's first block sets the parameters; its play icon runs it.
	wait("the guide's :params block", playBlock(":params"), 10*time.Second)
	wait(":params ran", `[...document.querySelectorAll('[data-testid="frame"]')].some(f => f.innerText.includes('"tenant": "default"'))`, 10*time.Second)
	// Slide 2 holds the graph of a user's memories and entities. The drawer
	// may re-render while :params runs and swallow a click, so "next" is
	// clicked for as long as slide 1 (its :params block) is still shown.
	wait("the memories-and-entities block on slide 2", playBlockAfter(":params", "OPTIONAL MATCH (m:Memory"), 30*time.Second)

	// The result frame draws every memory and entity, in neomem's colours.
	nodes := len(memories) + 7
	wait("nodes drawn", fmt.Sprintf(`document.querySelectorAll('[data-testid="frame"] svg g.node').length >= %d`, nodes), 30*time.Second)
	fills := eval("read node colours",
		`[...document.querySelectorAll('[data-testid="frame"] svg g.node circle.b-outline')].map(c => (c.getAttribute('fill') || '').toUpperCase())`)
	for label, want := range map[string]string{"Memory": "#FFE08A", "Person": "#4C8EDA", "Company": "#F79767", "City": "#8DCC93"} {
		if !slices.Contains(fills, want) {
			t.Errorf("no %s node drawn in %s: the style was not applied (fills %v)", label, want, fills)
		}
	}
	captions := strings.Join(eval("read captions", `[...document.querySelectorAll('[data-testid="frame"] svg g.node text')].map(t => t.textContent)`), " ")
	for _, want := range []string{"Alice", "Acme Corp", "Lisbon", "moved to"} {
		if !strings.Contains(captions, want) {
			t.Errorf("no caption with %q drawn (captions %q)", want, captions)
		}
	}
	// The layout settles before the picture.
	wait("the layout settles", `(() => {
		const now = [...document.querySelectorAll('[data-testid="frame"] svg g.node')].map(n => n.getAttribute('transform')).join();
		const same = now === window.__neomemLayout;
		window.__neomemLayout = now;
		return same;
	})()`, 15*time.Second)
	// The picture: the result frame full screen, the graph zoomed to fit,
	// the overview (labels and types in the style's colours) as its legend.
	do("full screen", chromedp.Click(chromedp.CSS(`[data-testid="frame"] [title="Fullscreen"]`)))
	do("zoom to fit", chromedp.Sleep(500*time.Millisecond), chromedp.Click(chromedp.CSS(`[data-testid="frame"] [aria-label="zoom-to-fit"]`)))
	do("pause", chromedp.Sleep(500*time.Millisecond))
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		fail("screenshot", err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("Browser: %d nodes drawn in neomem's style; screenshot %s (%d KB) after %v", nodes, shot, len(png)/1024,
		time.Since(start).Round(time.Millisecond))
}

// login is a script that fills in Browser's connect form and clicks
// Connect, again every 3 s while the form stays (a click while the page is
// still settling can go unheard), and is true once Browser is connected.
func login(user, password string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": password})
	return `(() => {
		if (document.body.innerText.includes('You are connected')) return true;
		const button = document.querySelector('[data-testid="connect"]');
		const now = Date.now();
		if (!button || now - (window.__neomemLogin || 0) < 3000) return false;
		window.__neomemLogin = now;
		// React tracks the value setter: set it as typing would.
		const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
		for (const [id, v] of Object.entries(` + string(b) + `)) {
			const el = document.querySelector('[data-testid="' + id + '"]');
			if (!el) return false;
			set.call(el, v);
			el.dispatchEvent(new Event('input', {bubbles: true}));
		}
		setTimeout(() => button.click(), 200);
		return false;
	})()`
}

// playBlock is a script that clicks the play icon of the guide's runnable
// block starting with prefix (Browser runs it), true once it did.
// playBlockAfter is playBlock on the slide after the one holding a block
// that starts with prev: while that block is shown, it clicks the next-slide
// button instead.
func playBlockAfter(prev, prefix string) string {
	pp, _ := json.Marshal(prev)
	return `(() => {
		const pres = [...document.querySelectorAll('[data-testid="guidesDrawer"] pre.runnable')];
		if (pres.some(p => p.textContent.trim().startsWith(` + string(pp) + `))) {
			document.querySelector('[data-testid="guidesDrawer"] [data-testid="guideNextSlide"]')?.click();
			return false;
		}
		return ` + playBlock(prefix) + `;
	})()`
}

func playBlock(prefix string) string {
	p, _ := json.Marshal(prefix)
	return `(() => {
		const pre = [...document.querySelectorAll('[data-testid="guidesDrawer"] pre.runnable')]
			.find(p => p.textContent.trim().startsWith(` + string(p) + `));
		const icon = pre && pre.querySelector('i');
		if (!icon) return false;
		icon.click();
		return true;
	})()`
}
