// Package browser makes neomem's graph readable in Neo4j Browser. Two
// files are embedded in the binary:
//
//   - style.grass: a GraSS style. Memory nodes are captioned with their text,
//     entities (__Entity__) with their name and coloured by their type label
//     (Person, Organization/Company, Location/City, …; grey for any other),
//     relationships with their type, and Event nodes (the history) and
//     neomem's bookkeeping nodes are small and pale.
//   - guide.adoc: a guide of ready queries, each filtered by tenant: a user's
//     memories and entities, an entity's relations with their history, what
//     changed today, the graph as of a date.
//
// Neo4j Browser 5 (5.24.0 is what the project's runtime serves at /browser/,
// on Neo4j 5.26 and 2026.x alike) plays a remote guide as HTML split into
// <slide> elements, or as Markdown when the URL ends in .md; it does not
// read AsciiDoc. So the guide is also served as guide.html, made from
// guide.adoc when the handler is built: every "== section" is a slide and
// every [source,cypher] block a runnable one (a click copies it into the
// editor, its play icon runs it). The AsciiDoc stays the source, served as
// is for the tools that read AsciiDoc guides (Neo4j's newer Browser and
// Query).
//
// In Browser, `:style <neomem>/browser/style.grass` applies the style and
// `:guide <neomem>/browser/guide.html` opens the guide; the project's Neo4j
// runtime (testcontainers/runtime/neo4j.sh) runs both after every login with
// browser.post_connect_cmd. Browser fetches them cross-origin, and only from
// hosts in its server's browser.remote_content_hostname_whitelist, so every
// answer allows any origin (the files hold no data).
package browser

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// style is the GraSS style served at /style.grass.
//
//go:embed style.grass
var style []byte

// guide is the AsciiDoc guide served at /guide.adoc.
//
//go:embed guide.adoc
var guide []byte

// The paths Handler serves, relative to where it is mounted.
const (
	StylePath     = "/style.grass"
	GuidePath     = "/guide.adoc"
	GuideHTMLPath = "/guide.html"
)

// file is one served document.
type file struct {
	contentType string
	body        []byte
	etag        string
}

func newFile(contentType string, body []byte) file {
	sum := sha256.Sum256(body)
	return file{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Handler serves the style at /style.grass, the guide at /guide.adoc
// (AsciiDoc) and /guide.html (Browser's HTML slides), and at / a page that
// says how to use them. Every answer carries Access-Control-Allow-Origin: *
// and OPTIONS answers CORS preflights (Browser sends Cache-Control and
// Pragma headers with a guide request, which makes it preflight). GET and
// HEAD take If-None-Match: the files carry an ETag and are revalidated on
// every use (Cache-Control: no-cache), so a new release's style applies at
// once.
func Handler() http.Handler {
	files := map[string]file{
		StylePath:     newFile("text/plain; charset=utf-8", style),
		GuidePath:     newFile("text/asciidoc; charset=utf-8", guide),
		GuideHTMLPath: newFile("text/html; charset=utf-8", guideHTML(guide)),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		f, ok := files[r.URL.Path]
		if !ok && r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Max-Age", "86400")
			h.Set("Allow", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodGet, http.MethodHead:
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !ok {
			f = newFile("text/html; charset=utf-8", index(r))
		}
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(f.body))
	})
}

// index is the page at /: the commands that apply the style and open the
// guide, with this server's URLs.
func index(r *http.Request) []byte {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Mounted under a prefix (StripPrefix), the request URI still has it.
	dir := strings.TrimSuffix(strings.SplitN(r.RequestURI, "?", 2)[0], "/")
	base := scheme + "://" + r.Host + dir
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>neomem for Neo4j Browser</title>\n</head>\n<body>\n")
	b.WriteString("<h1>neomem for Neo4j Browser</h1>\n<p>Run these in Neo4j Browser (its server must list this host in browser.remote_content_hostname_whitelist):</p>\n<pre>\n")
	fmt.Fprintf(&b, ":style %s%s\n:guide %s%s\n</pre>\n", e(base), StylePath, e(base), GuideHTMLPath)
	fmt.Fprintf(&b, "<ul>\n<li><a href=\"%s\">style.grass</a>: the style</li>\n", e(base+StylePath))
	fmt.Fprintf(&b, "<li><a href=\"%s\">guide.html</a>: the guide, as Browser plays it</li>\n", e(base+GuideHTMLPath))
	fmt.Fprintf(&b, "<li><a href=\"%s\">guide.adoc</a>: the guide's AsciiDoc source</li>\n</ul>\n</body>\n</html>\n", e(base+GuidePath))
	return []byte(b.String())
}

// slide is one section of a guide.
type slide struct {
	Title string
	// HTML is the slide's body, its title excluded.
	HTML string
}

// guideHTML renders an AsciiDoc guide as the HTML document Neo4j Browser 5
// plays: a <title>, then one <slide> per level-2 section ("== Title"), a
// preamble before the first section becoming a first slide titled as the
// document.
func guideHTML(adoc []byte) []byte {
	title, slides := parseGuide(adoc)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n</head>\n<body>\n<article class=\"guide\">\n<carousel class=\"deck container-fluid\">\n", html.EscapeString(title))
	for _, s := range slides {
		fmt.Fprintf(&b, "<slide class=\"row-fluid\">\n<div class=\"col-sm-12\">\n<h3>%s</h3>\n%s</div>\n</slide>\n", inline(s.Title), s.HTML)
	}
	b.WriteString("</carousel>\n</article>\n</body>\n</html>\n")
	return []byte(b.String())
}

var (
	attributeLine = regexp.MustCompile(`^:[\w-]+:`)
	admonition    = regexp.MustCompile(`^(NOTE|TIP|IMPORTANT|WARNING|CAUTION): (.*)$`)
	blockTitle    = regexp.MustCompile(`^\.[^.\s]`)
)

// parseGuide reads the AsciiDoc a guide is written in: the document title
// ("= Title"), header attributes (skipped), line and block comments, level-2
// sections (slides) and level-3 ones (headings), paragraphs, bulleted ("*",
// "-") and numbered (".") lists, admonition paragraphs ("NOTE: …"), block
// titles (".Title"), and listing blocks ("----", or "...." literal blocks),
// those with [source,cypher] becoming runnable. Inline, it renders `code`,
// *bold*, _italic_ and links (https://…[text], link:…[text]). Anything else
// is shown as text.
func parseGuide(adoc []byte) (title string, slides []slide) {
	p := &parser{}
	for _, line := range strings.Split(strings.ReplaceAll(string(adoc), "\r\n", "\n"), "\n") {
		p.line(line)
	}
	p.flush()
	p.endSlide()
	return p.title, p.slides
}

type parser struct {
	title  string
	slides []slide

	cur     *slide // nil before the first section
	body    strings.Builder
	started bool // past the header: anything seen but the title, attributes and comments

	para     []string
	list     []string // items of the open list
	listTag  string   // "ul" or "ol"
	attr     string   // the pending block attribute line, e.g. "source,cypher"
	caption  string   // the pending block title
	listing  []string // lines of the open listing block
	delim    string   // the open listing block's delimiter, "" when none
	comment  bool     // inside a //// block comment
	preamble bool     // the open slide is the preamble
}

func (p *parser) line(line string) {
	if p.delim != "" {
		if strings.TrimRight(line, " \t") == p.delim {
			p.endListing()
			return
		}
		p.listing = append(p.listing, line)
		return
	}
	t := strings.TrimRight(line, " \t")
	if p.comment {
		if t == "////" {
			p.comment = false
		}
		return
	}
	switch {
	case t == "////":
		p.flush()
		p.comment = true
	case strings.HasPrefix(t, "//"):
	case t == "":
		p.flush()
	case p.title == "" && !p.started && strings.HasPrefix(t, "= "):
		p.title = strings.TrimSpace(t[2:])
	case !p.started && attributeLine.MatchString(t):
	case strings.HasPrefix(t, "== "):
		p.flush()
		p.endSlide()
		p.started = true
		p.cur = &slide{Title: strings.TrimSpace(t[3:])}
	case strings.HasPrefix(t, "=== "):
		p.flush()
		p.begin()
		fmt.Fprintf(&p.body, "<h4>%s</h4>\n", inline(strings.TrimSpace(t[4:])))
	case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && len(p.para) == 0:
		p.flush()
		p.attr = t[1 : len(t)-1]
	case blockTitle.MatchString(t) && len(p.para) == 0:
		p.flush()
		p.caption = t[1:]
	case t == "----" || t == "....":
		p.flush()
		p.begin()
		p.delim = t
	case strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "- "):
		p.item("ul", t[2:])
	case strings.HasPrefix(t, ". "):
		p.item("ol", t[2:])
	case len(p.list) > 0 && len(p.para) == 0:
		// A line right after an item continues it.
		p.list[len(p.list)-1] += " " + strings.TrimSpace(t)
	default:
		p.begin()
		p.para = append(p.para, strings.TrimSpace(t))
	}
}

// begin opens the preamble slide when content comes before any section.
func (p *parser) begin() {
	p.started = true
	if p.cur == nil {
		p.cur = &slide{Title: p.title}
		p.preamble = true
	}
}

func (p *parser) item(tag, text string) {
	if len(p.para) > 0 || (len(p.list) > 0 && p.listTag != tag) {
		p.flush()
	}
	p.begin()
	p.listTag = tag
	p.list = append(p.list, strings.TrimSpace(text))
}

// flush writes the open paragraph or list.
func (p *parser) flush() {
	if len(p.para) > 0 {
		text := strings.Join(p.para, " ")
		if m := admonition.FindStringSubmatch(text); m != nil {
			label := m[1][:1] + strings.ToLower(m[1][1:])
			fmt.Fprintf(&p.body, "<p class=\"lead\"><strong>%s:</strong> %s</p>\n", label, inline(m[2]))
		} else {
			fmt.Fprintf(&p.body, "<p>%s</p>\n", inline(text))
		}
		p.para = nil
		p.attr, p.caption = "", ""
	}
	if len(p.list) > 0 {
		fmt.Fprintf(&p.body, "<%s>\n", p.listTag)
		for _, it := range p.list {
			fmt.Fprintf(&p.body, "<li>%s</li>\n", inline(it))
		}
		fmt.Fprintf(&p.body, "</%s>\n", p.listTag)
		p.list = nil
	}
}

func (p *parser) endListing() {
	code := html.EscapeString(strings.Join(p.listing, "\n"))
	class := "code"
	if lang := strings.Split(p.attr, ","); len(lang) > 1 && strings.TrimSpace(lang[0]) == "source" &&
		strings.EqualFold(strings.TrimSpace(lang[1]), "cypher") {
		class = "code runnable"
	}
	b := &p.body
	b.WriteString("<figure>\n")
	fmt.Fprintf(b, "<pre class=\"%s\">%s</pre>\n", class, code)
	if p.caption != "" {
		fmt.Fprintf(b, "<figcaption>%s</figcaption>\n", inline(p.caption))
	}
	b.WriteString("</figure>\n")
	p.listing, p.delim, p.attr, p.caption = nil, "", "", ""
}

func (p *parser) endSlide() {
	if p.cur == nil {
		return
	}
	p.cur.HTML = p.body.String()
	if !p.preamble || strings.TrimSpace(p.cur.HTML) != "" {
		p.slides = append(p.slides, *p.cur)
	}
	p.cur, p.preamble = nil, false
	p.body.Reset()
}

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	link     = regexp.MustCompile(`(?:link:)?(https?://[^\s\[\]<>"]+)\[([^\]]*)\]`)
)

// inline renders a line of AsciiDoc text as HTML: `code` first (its content
// stays literal), then links, *bold* and _italic_ in the rest.
func inline(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range codeSpan.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(text(s[last:m[0]]))
		b.WriteString("<code>" + html.EscapeString(s[m[2]:m[3]]) + "</code>")
		last = m[1]
	}
	b.WriteString(text(s[last:]))
	return b.String()
}

// text renders text without code spans.
func text(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range link.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(emphasis(html.EscapeString(s[last:m[0]])))
		url, label := s[m[2]:m[3]], s[m[4]:m[5]]
		if label == "" {
			label = url
		}
		fmt.Fprintf(&b, `<a href="%s" target="_blank" rel="noopener">%s</a>`, html.EscapeString(url), emphasis(html.EscapeString(label)))
		last = m[1]
	}
	b.WriteString(emphasis(html.EscapeString(s[last:])))
	return b.String()
}

// emphasis renders constrained *bold* and _italic_ spans: the mark is not
// inside a word on its outer side and the span neither starts nor ends with
// a space.
func emphasis(s string) string {
	s = constrained(s, '*', "strong")
	return constrained(s, '_', "em")
}

func constrained(s string, mark byte, tag string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != mark || (i > 0 && wordByte(s[i-1])) || i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == mark {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := -1
		for j := i + 2; j < len(s); j++ {
			if s[j] == mark && s[j-1] != ' ' && (j+1 == len(s) || !wordByte(s[j+1])) {
				end = j
				break
			}
		}
		if end < 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		fmt.Fprintf(&b, "<%s>%s</%s>", tag, s[i+1:end], tag)
		i = end + 1
	}
	return b.String()
}

func wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
