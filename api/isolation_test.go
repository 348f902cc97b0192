package api_test

// TestIsolationTwoTenants: two tenants, each with its own keys, run a seeded
// random sequence of operations, interleaved, over the same user, agent and
// run ids, and also aim their reads and writes at the other tenant's ids.
// Every text and entity name a tenant writes carries that tenant's marker.
// After every request the test asserts:
//
//   - no response to a tenant contains the other tenant's marker, or an id
//     that only the other tenant created or was shown (ids the request
//     itself carried excepted: an error may echo them);
//   - no prompt the model gets for a tenant's add contains the other's marker;
//   - gets, updates, deletes, history, batch updates and deletes, and entity
//     reads aimed at the other tenant's ids answer 404;
//   - lists, searches, Mem0's get_all and users answer exactly what the
//     tenant's own operations should have left: the test keeps a model of
//     each tenant's memories (id, text, scope), updated from its own
//     operations only, and compares;
//   - no 5xx (a 503 during an add that called the model excepted, as in
//     fuzz_test.go).
//
// At the end both tenants list everything through their own keys and must
// find exactly their model. Reproduce with NEOMEM_ISOLATION_SEED=<seed>.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

type isoMem struct{ ID, Text, User, Agent, Run string }

type isoSel struct{ User, Agent, Run string }

func (s isoSel) matches(m isoMem) bool {
	return (s.User == "" || m.User == s.User) && (s.Agent == "" || m.Agent == s.Agent) && (s.Run == "" || m.Run == s.Run)
}

func (s isoSel) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"user_id": s.User, "agent_id": s.Agent, "run_id": s.Run} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// and is the selector as Mem0's filter {"AND": [{"user_id": …}, …]}, one
// condition an object. (The server does not take the scope from one object
// with two ids inside AND, {"AND": [{"user_id": …, "agent_id": …}]}: 400.)
func (s isoSel) and() map[string]any {
	var conds []any
	for _, k := range []string{"user_id", "agent_id", "run_id"} {
		if v, ok := s.object()[k]; ok {
			conds = append(conds, map[string]any{k: v})
		}
	}
	return map[string]any{"AND": conds}
}

func (s isoSel) object() map[string]any {
	o := map[string]any{}
	for k, v := range map[string]string{"user_id": s.User, "agent_id": s.Agent, "run_id": s.Run} {
		if v != "" {
			o[k] = v
		}
	}
	return o
}

type isoTenant struct {
	name, tenant, marker string
	keys                 []string // keys[1] is an admin key
	mems                 map[string]isoMem
	created              []string        // memory ids it created, deleted ones too
	ids                  map[string]bool // ids it created, or was answered with
	entities             []string
	// otherHistory: ids of the other tenant's memories this tenant imported
	// events for (its own history of them is then not empty).
	otherHistory map[string]bool
	imported     map[string]bool // memories it imported (without history)
	resets       int
	n            int
}

type iso struct {
	t    *testing.T
	s    *fzServer
	r    *mrand.Rand
	ten  [2]*isoTenant
	has  map[string]bool
	step int
	ops  map[string]int
}

func (x *iso) other(T *isoTenant) *isoTenant {
	if T == x.ten[0] {
		return x.ten[1]
	}
	return x.ten[0]
}

func (x *iso) pick(xs ...string) string { return xs[x.r.Intn(len(xs))] }

func (x *iso) key(T *isoTenant) string { return T.keys[x.r.Intn(len(T.keys))] }

// call sends one request as T and checks it for 5xx and leaks; on 200 it
// records the ids in the answer as T's.
func (x *iso) call(T *isoTenant, key, method, target string, body any, gated bool) (int, []byte) {
	x.t.Helper()
	req := fzRequest{Method: method, Target: target, Header: http.Header{"X-Api-Key": {key}}, NoBody: body == nil}
	switch b := body.(type) {
	case nil:
	case []byte:
		req.Body = b
		req.Header.Set("Content-Type", "application/x-ndjson")
	default:
		req.Body, _ = json.Marshal(b)
		req.Header.Set("Content-Type", "application/json")
	}
	before := 0
	if gated {
		before = x.s.model.Calls()
	}
	began := time.Now()
	resp, err := x.s.send(req, gated)
	if err != nil {
		x.t.Fatalf("step %d, tenant %s: %s", x.step, T.name, fzDescribe(x.s, req, nil, err))
	}
	if d := time.Since(began); d > 2*time.Second {
		x.t.Logf("step %d, tenant %s: slow (%s): %s %s", x.step, T.name, d.Round(time.Millisecond), method, target)
	}
	where := func() string { return fmt.Sprintf("step %d, tenant %s", x.step, T.name) }
	if problem, _ := fzCheck(fzRoute{}, resp); problem != "" {
		x.t.Errorf("%s: %s\n%s", where(), problem, fzDescribe(x.s, req, &resp, nil))
	}
	O := x.other(T)
	// The marker, in any case (entity keys are lower-cased). A request that
	// itself names O's marker (a search for it) may get it echoed, but never
	// with what follows it in O's texts and names.
	sent := strings.ToLower(req.Target + string(req.Body))
	lower, marker := bytes.ToLower(resp.Body), strings.ToLower(O.marker)
	found := bytes.Contains(lower, []byte(marker))
	if strings.Contains(sent, marker) {
		found = regexp.MustCompile(regexp.QuoteMeta(marker) + ` (note|person|place|planted)`).Match(lower)
	}
	if found {
		x.t.Errorf("%s: LEAK: the answer holds tenant %s's marker %s\n%s", where(), O.name, O.marker, fzDescribe(x.s, req, &resp, nil))
	}
	for _, loc := range fzUUIDPattern.FindAllStringIndex(string(resp.Body), -1) {
		id := strings.ToLower(string(resp.Body[loc[0]:loc[1]]))
		// Ids T planted in its own data (an imported event about O's
		// memory) are T's to see.
		if O.ids[id] && !T.ids[id] && !T.otherHistory[id] && !strings.Contains(sent, id) {
			x.t.Errorf("%s: LEAK: the answer holds %s, an id of tenant %s, here: …%s…\n%s", where(), id, O.name,
				resp.Body[max(0, loc[0]-300):min(len(resp.Body), loc[1]+300)], fzDescribe(x.s, req, &resp, nil))
		}
	}
	if gated {
		reqs := x.s.model.Requests()
		for _, mr := range reqs[min(before, len(reqs)):] {
			for _, m := range mr.Messages {
				if strings.Contains(m.Content, O.marker) {
					x.t.Errorf("%s: LEAK: the model's prompt for this add holds tenant %s's marker:\n%s\nrequest: %s %s", where(), O.name,
						fzClip(m.Content, 2000), method, target)
				}
			}
		}
	}
	if resp.Status == 200 {
		for _, id := range fzUUIDPattern.FindAllString(string(resp.Body), -1) {
			T.ids[strings.ToLower(id)] = true
		}
	}
	return resp.Status, resp.Body
}

// want fails unless status is one of codes.
func (x *iso) want(T *isoTenant, what string, status int, body []byte, codes ...int) bool {
	x.t.Helper()
	for _, c := range codes {
		if status == c {
			return true
		}
	}
	x.t.Errorf("step %d, tenant %s, %s: status %d, want %v: %s", x.step, T.name, what, status, codes, fzClip(string(body), 800))
	return false
}

func isoObj(b []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func isoList(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func isoStr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// scope is where an add writes: shared ids mostly, a private user sometimes.
func (x *iso) scope(T *isoTenant) isoSel {
	s := isoSel{User: x.pick("alice", "alice", "bob", "priv-"+T.marker)}
	if x.r.Intn(10) < 3 {
		s.Agent = "agent-1"
	}
	if x.r.Intn(10) < 1 {
		s.User = ""
		s.Agent = "agent-1"
	}
	if x.r.Intn(10) < 2 {
		s.Run = "run-1"
	}
	return s
}

// selector is what a list, search or delete-all selects.
func (x *iso) selector(T *isoTenant) isoSel {
	switch x.r.Intn(8) {
	case 0:
		return isoSel{Agent: "agent-1"}
	case 1:
		return isoSel{Run: "run-1"}
	case 2:
		return isoSel{User: "alice", Agent: "agent-1"}
	case 3:
		return isoSel{User: "priv-" + T.marker}
	default:
		return isoSel{User: x.pick("alice", "bob")}
	}
}

func (x *iso) text(T *isoTenant) string {
	T.n++
	return fmt.Sprintf("%s note %d likes %s", T.marker, T.n, x.pick("green tea", "coffee", "Lisbon", "Acme", "jazz"))
}

// expected is T's model under a selector.
func (x *iso) expected(T *isoTenant, s isoSel) map[string]string {
	out := map[string]string{}
	for id, m := range T.mems {
		if s.matches(m) {
			out[id] = m.Text
		}
	}
	return out
}

func (x *iso) compare(T *isoTenant, what string, want, got map[string]string) {
	x.t.Helper()
	var diff []string
	for id, text := range want {
		if g, ok := got[id]; !ok {
			diff = append(diff, fmt.Sprintf("missing %s %q", id, text))
		} else if g != text {
			diff = append(diff, fmt.Sprintf("%s is %q, want %q", id, g, text))
		}
	}
	for id, text := range got {
		if _, ok := want[id]; !ok {
			diff = append(diff, fmt.Sprintf("unexpected %s %q", id, text))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		x.t.Errorf("step %d, tenant %s, %s: %d differences from its own operations:\n  %s", x.step, T.name, what, len(diff), strings.Join(diff, "\n  "))
	}
}

// applyAdd updates T's model from an add's answer.
func (x *iso) applyAdd(T *isoTenant, s isoSel, body []byte) {
	for _, r := range isoList(isoObj(body)["results"]) {
		id, text := strings.ToLower(isoStr(r, "id")), isoStr(r, "memory")
		switch isoStr(r, "event") {
		case "ADD":
			T.mems[id] = isoMem{ID: id, Text: text, User: s.User, Agent: s.Agent, Run: s.Run}
			T.created = append(T.created, id)
		case "UPDATE":
			m, ok := T.mems[id]
			if !ok {
				x.t.Errorf("step %d, tenant %s: an add updated %s, not one of its memories", x.step, T.name, id)
				continue
			}
			m.Text = text
			T.mems[id] = m
		case "DELETE":
			if _, ok := T.mems[id]; !ok {
				x.t.Errorf("step %d, tenant %s: an add deleted %s, not one of its memories", x.step, T.name, id)
			}
			delete(T.mems, id)
		}
	}
}

func (x *iso) messages(T *isoTenant) ([]map[string]any, []string) {
	var msgs []map[string]any
	var texts []string
	if x.r.Intn(4) == 0 {
		msgs = append(msgs, map[string]any{"role": "system", "content": "be brief"})
	}
	for range 1 + x.r.Intn(2) {
		t := x.text(T)
		msgs = append(msgs, map[string]any{"role": x.pick("user", "user", "assistant"), "content": t})
		texts = append(texts, t)
	}
	return msgs, texts
}

// ---------------------------------------------------------------------------
// The operations.

func (x *iso) addRaw(T *isoTenant) {
	s := x.scope(T)
	msgs, texts := x.messages(T)
	body := s.object()
	body["messages"], body["infer"] = msgs, false
	target := "/memories"
	if x.r.Intn(3) == 0 {
		target = "/v3/memories/add/"
		if x.r.Intn(2) == 0 {
			body = map[string]any{"messages": msgs, "infer": false, "filters": s.object()}
		}
	}
	code, resp := x.call(T, x.key(T), "POST", target, body, true)
	if !x.want(T, "raw add "+target, code, resp, 200) {
		return
	}
	res := isoList(isoObj(resp)["results"])
	if len(res) != len(texts) {
		x.t.Errorf("step %d, tenant %s: raw add of %d messages answered %d results", x.step, T.name, len(texts), len(res))
	}
	for i, r := range res {
		if i < len(texts) && isoStr(r, "memory") != texts[i] {
			x.t.Errorf("step %d, tenant %s: raw add stored %q, want %q", x.step, T.name, isoStr(r, "memory"), texts[i])
		}
	}
	x.applyAdd(T, s, resp)
}

func (x *iso) addInfer(T *isoTenant) {
	s := x.scope(T)
	msgs, _ := x.messages(T)
	body := s.object()
	body["messages"] = msgs
	target := "/memories"
	if x.r.Intn(3) == 0 {
		target = "/v3/memories/add/"
	}
	before := x.s.model.Calls()
	code, resp := x.call(T, x.key(T), "POST", target, body, true)
	if code == 503 && x.s.model.Calls() > before {
		x.t.Logf("step %d, tenant %s: an inferred add answered 503 after a model call (excused): %s", x.step, T.name, fzClip(string(resp), 300))
		return
	}
	if x.want(T, "inferred add "+target, code, resp, 200) {
		x.applyAdd(T, s, resp)
	}
}

// ownID is one of T's memory ids (maybe deleted), or "".
func (x *iso) ownID(T *isoTenant) string {
	if len(T.created) == 0 {
		return ""
	}
	return T.created[x.r.Intn(len(T.created))]
}

// current is one of T's current memory ids, or "".
func (x *iso) current(T *isoTenant) string {
	ids := make([]string, 0, len(T.mems))
	for id := range T.mems {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[x.r.Intn(len(ids))]
}

// otherID is a memory id of O that T never had (created, imported or was
// shown), or "".
func (x *iso) otherID(T, O *isoTenant) string {
	var ids []string
	for _, id := range O.created {
		if !T.ids[id] && !T.otherHistory[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[x.r.Intn(len(ids))]
}

func (x *iso) getOwn(T *isoTenant) {
	id := x.ownID(T)
	if id == "" {
		return
	}
	target := x.pick("/memories/"+id, "/v1/memories/"+id+"/")
	code, resp := x.call(T, x.key(T), "GET", target, nil, false)
	m, ok := T.mems[id]
	if !ok {
		x.want(T, "get of its deleted memory", code, resp, 404)
		return
	}
	if x.want(T, "get of its memory", code, resp, 200) {
		if got := isoStr(isoObj(resp), "memory"); got != m.Text {
			x.t.Errorf("step %d, tenant %s: get %s = %q, want %q", x.step, T.name, id, got, m.Text)
		}
	}
}

// attack aims one read or write at one of O's memory ids: always 404.
func (x *iso) attack(T *isoTenant) {
	O := x.other(T)
	id := x.otherID(T, O)
	if id == "" {
		return
	}
	if x.r.Intn(5) == 0 {
		id = strings.ToUpper(id)
	}
	var method, target string
	var body any
	switch x.r.Intn(10) {
	case 0:
		method, target = "GET", "/memories/"+id
	case 1:
		method, target = "GET", "/v1/memories/"+id+"/"
	case 2:
		method, target, body = "PUT", "/memories/"+id, map[string]any{"text": x.text(T), "metadata": map[string]any{"owner": T.name}}
	case 3:
		method, target, body = "PUT", "/v1/memories/"+id+"/", map[string]any{"text": x.text(T)}
	case 4:
		method, target = "DELETE", "/memories/"+id
	case 5:
		method, target = "DELETE", "/v1/memories/"+id+"/"
	case 6:
		method, target = "GET", x.pick("/memories/"+id+"/history", "/v1/memories/"+id+"/history/")
	case 7:
		method, target, body = "PUT", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": id, "text": x.text(T)}}}
	case 8:
		method, target, body = "DELETE", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": id}}}
	default:
		if len(O.entities) == 0 {
			return
		}
		e := O.entities[x.r.Intn(len(O.entities))]
		if T.ids[e] {
			return
		}
		method, target = "GET", "/entities/"+e
	}
	code, resp := x.call(T, x.key(T), method, target, body, false)
	x.want(T, fmt.Sprintf("%s %s on tenant %s's id", method, target, O.name), code, resp, 404)
	x.ops["attack "+method+" "+strings.SplitN(strings.TrimPrefix(target, "/"), "/", 2)[0]]++
}

func (x *iso) update(T *isoTenant) {
	id := x.current(T)
	if id == "" {
		return
	}
	text := x.text(T)
	switch x.r.Intn(3) {
	case 0:
		code, resp := x.call(T, x.key(T), "PUT", "/memories/"+id, map[string]any{"text": text, "metadata": map[string]any{"v": T.n}}, false)
		if !x.want(T, "update", code, resp, 200) {
			return
		}
	case 1:
		code, resp := x.call(T, x.key(T), "PUT", "/v1/memories/"+id+"/", map[string]any{"text": text}, false)
		if !x.want(T, "mem0 update", code, resp, 200) {
			return
		}
	default:
		code, resp := x.call(T, x.key(T), "PUT", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": id, "text": text}}}, false)
		if !x.want(T, "batch update", code, resp, 200) {
			return
		}
	}
	m := T.mems[id]
	m.Text = text
	T.mems[id] = m
}

func (x *iso) remove(T *isoTenant) {
	id := x.current(T)
	if id == "" {
		return
	}
	var code int
	var resp []byte
	switch x.r.Intn(3) {
	case 0:
		code, resp = x.call(T, x.key(T), "DELETE", "/memories/"+id, nil, false)
	case 1:
		code, resp = x.call(T, x.key(T), "DELETE", "/v1/memories/"+id+"/", nil, false)
	default:
		code, resp = x.call(T, x.key(T), "DELETE", "/v1/batch/", map[string]any{"memories": []map[string]any{{"memory_id": id}}}, false)
	}
	if x.want(T, "delete", code, resp, 200) {
		delete(T.mems, id)
	}
}

func (x *iso) deleteAll(T *isoTenant) {
	s := x.selector(T)
	var code int
	var resp []byte
	switch k := x.r.Intn(3); {
	case k == 0:
		q := s.query()
		if x.r.Intn(3) == 0 {
			q.Set("purge", "true")
		}
		code, resp = x.call(T, x.key(T), "DELETE", "/memories?"+q.Encode(), nil, false)
	case k == 1:
		code, resp = x.call(T, x.key(T), "DELETE", "/v1/memories/?"+s.query().Encode(), nil, false)
	default:
		// Mem0's delete_users: one id of one kind.
		typ, name := "user", s.User
		if name == "" {
			typ, name = "agent", s.Agent
		}
		if name == "" {
			typ, name = "run", s.Run
		}
		s = isoSel{}
		switch typ {
		case "user":
			s.User = name
		case "agent":
			s.Agent = name
		default:
			s.Run = name
		}
		code, resp = x.call(T, x.key(T), "DELETE", "/v2/entities/"+typ+"/"+url.PathEscape(name)+"/", nil, false)
	}
	if x.want(T, "delete all "+fmt.Sprint(s), code, resp, 200) {
		for id, m := range T.mems {
			if s.matches(m) {
				delete(T.mems, id)
			}
		}
	}
}

func (x *iso) search(T *isoTenant) {
	O := x.other(T)
	s := x.selector(T)
	query := x.pick("green tea", "coffee", "Lisbon", "Acme", "jazz", "likes", T.marker, O.marker, O.marker+" person 1", O.marker+" place 2", "person place")
	var target string
	body := map[string]any{"query": query, "top_k": 100}
	switch x.r.Intn(3) {
	case 0:
		target = "/search"
		for k, v := range s.object() {
			body[k] = v
		}
	case 1:
		target = "/search"
		body["filters"] = s.and()
	default:
		target = "/v3/memories/search/"
		body["filters"] = s.object()
	}
	code, resp := x.call(T, x.key(T), "POST", target, body, false)
	if !x.want(T, "search", code, resp, 200) {
		return
	}
	want := x.expected(T, s)
	for _, r := range isoList(isoObj(resp)["results"]) {
		id := strings.ToLower(isoStr(r, "id"))
		if text, ok := want[id]; !ok || text != isoStr(r, "memory") {
			x.t.Errorf("step %d, tenant %s: search %q in %v found %s %q, not one of its memories there (want one of %d)",
				x.step, T.name, query, s, id, isoStr(r, "memory"), len(want))
		}
	}
}

func (x *iso) list(T *isoTenant) {
	s := x.selector(T)
	got := map[string]string{}
	if x.r.Intn(3) == 0 {
		body := map[string]any{"filters": s.and()}
		if x.r.Intn(2) == 0 {
			body = s.object()
		}
		code, resp := x.call(T, x.key(T), "POST", "/v3/memories/?page=1&page_size=1000", body, false)
		if !x.want(T, "get_all", code, resp, 200) {
			return
		}
		o := isoObj(resp)
		for _, r := range isoList(o["results"]) {
			got[strings.ToLower(isoStr(r, "id"))] = isoStr(r, "memory")
		}
		want := x.expected(T, s)
		if n, _ := o["count"].(float64); int(n) != len(want) {
			x.t.Errorf("step %d, tenant %s: get_all %v count %v, want %d", x.step, T.name, s, o["count"], len(want))
		}
		x.compare(T, fmt.Sprintf("get_all %v", s), want, got)
		return
	}
	q := s.query()
	q.Set("limit", fmt.Sprint(1+x.r.Intn(20)))
	for page := 0; page < 200; page++ {
		code, resp := x.call(T, x.key(T), "GET", "/memories?"+q.Encode(), nil, false)
		if !x.want(T, "list", code, resp, 200) {
			return
		}
		o := isoObj(resp)
		for _, r := range isoList(o["results"]) {
			got[strings.ToLower(isoStr(r, "id"))] = isoStr(r, "memory")
		}
		next, _ := o["next_cursor"].(string)
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	x.compare(T, fmt.Sprintf("list %v", s), x.expected(T, s), got)
}

func (x *iso) history(T *isoTenant) {
	id := x.ownID(T)
	if id == "" {
		return
	}
	code, resp := x.call(T, x.key(T), "GET", x.pick("/memories/"+id+"/history", "/v1/memories/"+id+"/history/"), nil, false)
	// History outlives a hard delete, but a purge or a reset erases it.
	if !x.want(T, "history", code, resp, 200, 404) {
		return
	}
	if _, current := T.mems[id]; current && code != 200 && !T.imported[id] {
		x.t.Errorf("step %d, tenant %s: history of its current memory %s: %d", x.step, T.name, id, code)
	}
	var events []map[string]any
	_ = json.Unmarshal(resp, &events)
	for _, e := range events {
		if mid := strings.ToLower(isoStr(e, "memory_id")); mid != id {
			x.t.Errorf("step %d, tenant %s: history of %s holds an event of %s", x.step, T.name, id, mid)
		}
	}
}

func (x *iso) addRelations(T *isoTenant) {
	s := x.scope(T)
	var triples []map[string]any
	for range 1 + x.r.Intn(3) {
		triples = append(triples, map[string]any{
			"source": fmt.Sprintf("%s person %d", T.marker, x.r.Intn(4)), "source_type": "person",
			"relationship": x.pick("knows", "works at", "lives in"),
			"target":       fmt.Sprintf("%s place %d", T.marker, x.r.Intn(4)), "target_type": x.pick("company", "city", ""),
		})
	}
	body := s.object()
	body["relations"] = triples
	code, resp := x.call(T, x.key(T), "POST", "/relations", body, false)
	if !x.want(T, "add relations", code, resp, 200) {
		return
	}
	code, resp = x.call(T, x.key(T), "GET", "/entities?"+s.query().Encode(), nil, false)
	if x.want(T, "entities", code, resp, 200) {
		for _, e := range isoList(isoObj(resp)["results"]) {
			T.entities = append(T.entities, strings.ToLower(isoStr(e, "id")))
		}
	}
}

func (x *iso) graphReads(T *isoTenant) {
	s := x.selector(T)
	q := s.query().Encode()
	switch x.r.Intn(4) {
	case 0:
		code, resp := x.call(T, x.key(T), "GET", "/entities?"+q, nil, false)
		if x.want(T, "entities", code, resp, 200) {
			for _, e := range isoList(isoObj(resp)["results"]) {
				T.entities = append(T.entities, strings.ToLower(isoStr(e, "id")))
			}
		}
	case 1:
		code, resp := x.call(T, x.key(T), "GET", "/relations?"+q, nil, false)
		x.want(T, "relations", code, resp, 200)
	case 2:
		if !x.has["GET /graph"] {
			return
		}
		code, resp := x.call(T, x.key(T), "GET", "/graph?"+q, nil, false)
		if x.want(T, "graph", code, resp, 200) {
			for _, e := range isoList(isoObj(resp)["nodes"]) {
				T.entities = append(T.entities, strings.ToLower(isoStr(e, "id")))
			}
		}
	default:
		if len(T.entities) == 0 {
			return
		}
		e := T.entities[x.r.Intn(len(T.entities))]
		code, resp := x.call(T, x.key(T), "GET", "/entities/"+e, nil, false)
		x.want(T, "entity", code, resp, 200, 404) // 404: deleted by a delete-all since
	}
}

// export reads a scope's export (checked for leaks by call) and returns
// its lines.
func (x *iso) export(T *isoTenant, s isoSel) []map[string]any {
	code, resp := x.call(T, x.key(T), "GET", "/export?"+s.query().Encode(), nil, false)
	if !x.want(T, "export", code, resp, 200) {
		return nil
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(resp)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			x.t.Errorf("step %d, tenant %s: export line %q: %v", x.step, T.name, fzClip(l, 200), err)
			continue
		}
		lines = append(lines, m)
		if mem, ok := m["memory"].(map[string]any); ok {
			id := strings.ToLower(isoStr(mem, "id"))
			if own, ok := T.mems[id]; !ok && mem["invalid_at"] == nil {
				x.t.Errorf("step %d, tenant %s: export holds memory %s %q, not one of its current memories", x.step, T.name, id, isoStr(mem, "memory"))
			} else if ok && own.Text != isoStr(mem, "memory") {
				x.t.Errorf("step %d, tenant %s: export holds %s as %q, want %q", x.step, T.name, id, isoStr(mem, "memory"), own.Text)
			}
		}
	}
	return lines
}

func (x *iso) ndjson(lines []map[string]any) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func (x *iso) uuid() string {
	var b [16]byte
	x.r.Read(b[:])
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// exportImport exports one of T's scopes, then imports a copy of one of its
// memories back — plain, or with the other tenant's ids planted in it. An
// import gives every item a new id and keeps references inside the import;
// references outside it (to the other tenant's entities or memories) must
// find nothing of the other tenant.
func (x *iso) exportImport(T *isoTenant) {
	O := x.other(T)
	s := x.selector(T)
	lines := x.export(T, s)
	var mems []map[string]any
	for _, l := range lines {
		if m, ok := l["memory"].(map[string]any); ok && m["invalid_at"] == nil {
			mems = append(mems, l)
		}
	}
	if len(mems) == 0 || !x.has["POST /import"] {
		return
	}
	src := mems[x.r.Intn(len(mems))]
	fresh := func() map[string]any {
		var l map[string]any
		b, _ := json.Marshal(src)
		_ = json.Unmarshal(b, &l)
		m := l["memory"].(map[string]any)
		m["id"] = x.uuid()
		m["memory"] = x.text(T)
		delete(l, "mentions")
		return l
	}
	memOf := func(l map[string]any) isoMem {
		m := l["memory"].(map[string]any)
		return isoMem{Text: isoStr(m, "memory"), User: isoStr(m, "user_id"), Agent: isoStr(m, "agent_id"), Run: isoStr(m, "run_id")}
	}
	// find returns the ids of T's memories with text in m's scope.
	find := func(m isoMem) []string {
		sel := isoSel{User: m.User, Agent: m.Agent, Run: m.Run}
		q := sel.query()
		q.Set("limit", "1000")
		code, resp := x.call(T, x.key(T), "GET", "/memories?"+q.Encode(), nil, false)
		x.want(T, "list after import", code, resp, 200)
		var ids []string
		for _, r := range isoList(isoObj(resp)["results"]) {
			if isoStr(r, "memory") == m.Text {
				ids = append(ids, strings.ToLower(isoStr(r, "id")))
			}
		}
		return ids
	}
	// imported records what a 200 import of lines wrote.
	imported := func(ls ...map[string]any) {
		for _, l := range ls {
			m := memOf(l)
			ids := find(m)
			if len(ids) != 1 {
				x.t.Errorf("step %d, tenant %s: after importing %q, %d memories hold it", x.step, T.name, m.Text, len(ids))
				continue
			}
			planted := isoStr(l["memory"].(map[string]any), "id")
			if ids[0] == planted {
				x.t.Errorf("step %d, tenant %s: the import kept the id %s; new ids were expected", x.step, T.name, planted)
			}
			m.ID = ids[0]
			T.mems[m.ID], T.imported[m.ID] = m, true
			T.created = append(T.created, m.ID)
		}
	}
	absent := func(ls ...map[string]any) {
		for _, l := range ls {
			if ids := find(memOf(l)); len(ids) != 0 {
				x.t.Errorf("step %d, tenant %s: a refused import wrote %v", x.step, T.name, ids)
			}
		}
	}
	switch k := x.r.Intn(5); {
	case k == 0:
		// A plain copy.
		l := fresh()
		code, resp := x.call(T, x.key(T), "POST", "/import", x.ndjson([]map[string]any{l}), false)
		if x.want(T, "import", code, resp, 200) {
			imported(l)
		}
	case k == 1:
		// One of O's current ids as the memory's id: the copy gets a new id,
		// and O's memory is untouched (O's own checks), T still cannot read it.
		oid := x.otherCurrent(T, O)
		if oid == "" {
			return
		}
		l := fresh()
		l["memory"].(map[string]any)["id"] = oid
		code, resp := x.call(T, x.key(T), "POST", "/import", x.ndjson([]map[string]any{l}), false)
		if x.want(T, "import with the other tenant's memory id", code, resp, 200, 409) && code == 200 {
			imported(l)
		}
		c, r := x.call(T, x.key(T), "GET", "/memories/"+oid, nil, false)
		x.want(T, "get of the other tenant's id after importing it", c, r, 404)
		x.ops["attack import memory id"]++
	case k == 2:
		// A memory mentioning O's entity: refused, nothing written.
		if len(O.entities) == 0 {
			return
		}
		l := fresh()
		l["mentions"] = []string{O.entities[x.r.Intn(len(O.entities))]}
		code, resp := x.call(T, x.key(T), "POST", "/import", x.ndjson([]map[string]any{l}), false)
		x.want(T, "import mentioning the other tenant's entity", code, resp, 400, 404, 409)
		absent(l)
		x.ops["attack import mentions"]++
	case k == 3:
		// A relation between O's entities (and a memory with it): refused.
		if len(O.entities) < 2 {
			return
		}
		now := "2024-01-01T00:00:00Z"
		l := fresh()
		rel := map[string]any{"type": "relation", "relation": map[string]any{"id": x.uuid(), "source": "x", "target": "y",
			"source_id": O.entities[x.r.Intn(len(O.entities))], "target_id": O.entities[x.r.Intn(len(O.entities))],
			"relationship": "KNOWS", "valid_from": now, "created_at": now, "updated_at": now}}
		code, resp := x.call(T, x.key(T), "POST", "/import", x.ndjson([]map[string]any{l, rel}), false)
		x.want(T, "import of a relation between the other tenant's entities", code, resp, 400, 404, 409)
		absent(l)
		x.ops["attack import relation"]++
	default:
		// An event about one of O's memories: T's own event (a history of
		// that id in T), which must never show in O's history.
		oid := x.otherCurrent(T, O)
		if oid == "" {
			return
		}
		ev := map[string]any{"type": "event", "event": map[string]any{"id": x.uuid(), "memory_id": oid, "event": "UPDATE",
			"old_memory": "x", "new_memory": T.marker + " planted", "created_at": "2024-01-01T00:00:00Z", "target_kind": "memory", "user_id": "alice"}}
		code, resp := x.call(T, x.key(T), "POST", "/import", x.ndjson([]map[string]any{ev}), false)
		if x.want(T, "import of an event about the other tenant's memory", code, resp, 200, 400, 409) && code == 200 {
			T.otherHistory[oid] = true
			// O's history of that memory must not show it (call checks the
			// marker).
			c, r := x.call(O, x.key(O), "GET", "/memories/"+oid+"/history", nil, false)
			x.want(O, "history after the other tenant planted an event", c, r, 200)
			// T still cannot read or change O's memory.
			c, r = x.call(T, x.key(T), "GET", "/memories/"+oid, nil, false)
			x.want(T, "get of the other tenant's id it planted an event for", c, r, 404)
		}
		x.ops["attack import event"]++
	}
}

func (x *iso) otherCurrent(T, O *isoTenant) string {
	var ids []string
	for id := range O.mems {
		if !T.ids[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[x.r.Intn(len(ids))]
}

// users checks Mem0's users(): exactly T's scopes with T's counts.
func (x *iso) users(T *isoTenant) {
	code, resp := x.call(T, x.key(T), "GET", "/v1/entities/", nil, false)
	if !x.want(T, "users", code, resp, 200) {
		return
	}
	want := map[string]int{}
	for _, m := range T.mems {
		for typ, name := range map[string]string{"user": m.User, "agent": m.Agent, "run": m.Run} {
			if name != "" {
				want[typ+"/"+name]++
			}
		}
	}
	got := map[string]int{}
	for _, r := range isoList(isoObj(resp)["results"]) {
		n, _ := r["total_memories"].(float64)
		got[isoStr(r, "type")+"/"+isoStr(r, "name")] = int(n)
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		x.t.Errorf("step %d, tenant %s: users() = %v, want %v", x.step, T.name, got, want)
	}
}

func (x *iso) misc(T *isoTenant) {
	switch x.r.Intn(4) {
	case 0:
		code, resp := x.call(T, x.key(T), "GET", "/v1/ping/", nil, false)
		if x.want(T, "ping", code, resp, 200) && isoStr(isoObj(resp), "org_id") != T.tenant {
			x.t.Errorf("step %d, tenant %s: ping says org %q", x.step, T.name, isoStr(isoObj(resp), "org_id"))
		}
	case 1:
		if !x.has["POST /keys"] {
			return
		}
		code, resp := x.call(T, T.keys[1], "POST", "/keys", map[string]any{"name": "iso-" + T.name, "admin": x.r.Intn(2) == 0}, false)
		if !x.want(T, "create key", code, resp, 200) {
			return
		}
		o := isoObj(resp)
		if isoStr(o, "tenant") != T.tenant || isoStr(o, "key") == "" {
			x.t.Errorf("step %d, tenant %s: POST /keys made %v", x.step, T.name, o)
			return
		}
		T.keys = append(T.keys, isoStr(o, "key"))
		if o["admin"] == true {
			T.keys[1] = isoStr(o, "key") // still an admin key of T
		}
	case 2:
		if x.has["GET /metrics"] {
			code, resp := x.call(T, "", "GET", "/metrics", nil, false)
			x.want(T, "metrics", code, resp, 200)
		}
	default:
		x.users(T)
	}
}

func (x *iso) reset(T *isoTenant) {
	if T.resets > 0 || x.step < 100 {
		return // once, and not before there is something to lose
	}
	T.resets++
	code, resp := x.call(T, T.keys[1], "POST", "/reset", nil, false)
	if x.want(T, "reset", code, resp, 200) {
		T.mems = map[string]isoMem{}
		T.entities = nil
	}
}

// final lists everything of T through its own keys and compares with its model.
func (x *iso) final(T *isoTenant) {
	got := map[string]string{}
	for _, s := range []isoSel{{User: "alice"}, {User: "bob"}, {User: "priv-" + x.ten[0].marker}, {User: "priv-" + x.ten[1].marker},
		{Agent: "agent-1"}, {Run: "run-1"}} {
		for _, key := range T.keys {
			q := s.query()
			q.Set("limit", "1000")
			code, resp := x.call(T, key, "GET", "/memories?"+q.Encode(), nil, false)
			if !x.want(T, "final list", code, resp, 200) {
				continue
			}
			o := isoObj(resp)
			if o["next_cursor"] != nil {
				x.t.Errorf("tenant %s has more than 1000 memories in %v", T.name, s)
			}
			for _, r := range isoList(o["results"]) {
				got[strings.ToLower(isoStr(r, "id"))] = isoStr(r, "memory")
			}
		}
	}
	want := map[string]string{}
	for id, m := range T.mems {
		want[id] = m.Text
	}
	x.compare(T, "final state", want, got)
	for id, m := range T.mems {
		code, resp := x.call(T, x.key(T), "GET", "/memories/"+id, nil, false)
		if x.want(T, "final get", code, resp, 200) && isoStr(isoObj(resp), "memory") != m.Text {
			x.t.Errorf("tenant %s: final get %s = %q, want %q", T.name, id, isoStr(isoObj(resp), "memory"), m.Text)
		}
	}
	x.users(T)
}

func TestIsolationTwoTenants(t *testing.T) {
	_, routes := fzLoadRoutes(t)
	s := fzStart(t, true)
	seed := fzEnvInt(t, "NEOMEM_ISOLATION_SEED", 7)
	steps := int(fzEnvInt(t, "NEOMEM_ISOLATION_STEPS", 150))
	x := &iso{t: t, s: s, r: mrand.New(mrand.NewSource(seed)), has: map[string]bool{}, ops: map[string]int{}}
	for _, r := range routes {
		x.has[r.String()] = true
	}
	for i, name := range []string{"A", "B"} {
		key, admin := fzKeys(t)
		var b [4]byte
		_, _ = rand.Read(b[:])
		T := &isoTenant{name: name, keys: []string{key, admin}, marker: "iso" + name + hex.EncodeToString(b[:]),
			mems: map[string]isoMem{}, ids: map[string]bool{}, otherHistory: map[string]bool{}, imported: map[string]bool{}}
		x.ten[i] = T
	}
	for _, T := range x.ten {
		code, resp := x.call(T, T.keys[0], "GET", "/v1/ping/", nil, false)
		if code != 200 {
			t.Fatalf("ping: %d %s", code, resp)
		}
		T.tenant = isoStr(isoObj(resp), "org_id")
	}
	t.Logf("seed %d (NEOMEM_ISOLATION_SEED), %d operations per tenant, markers %s and %s", seed, steps, x.ten[0].marker, x.ten[1].marker)

	type op struct {
		name   string
		weight int
		run    func(*isoTenant)
	}
	ops := []op{
		{"add raw", 12, x.addRaw}, {"add inferred", 6, x.addInfer}, {"get own", 6, x.getOwn}, {"attack other's id", 10, x.attack},
		{"update", 5, x.update}, {"delete", 4, x.remove}, {"delete all", 2, x.deleteAll}, {"search", 8, x.search}, {"list", 8, x.list},
		{"history", 4, x.history}, {"entities, relations, graph", 6, x.graphReads}, {"misc", 3, x.misc}, {"reset", 1, x.reset},
	}
	if x.has["POST /relations"] {
		ops = append(ops, op{"add relations", 5, x.addRelations})
	}
	if x.has["GET /export"] {
		ops = append(ops, op{"export, import", 4, x.exportImport})
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	// 150 turns each, interleaved at random.
	turns := make([]int, 0, 2*steps)
	for i := range 2 * steps {
		turns = append(turns, i%2)
	}
	x.r.Shuffle(len(turns), func(i, j int) { turns[i], turns[j] = turns[j], turns[i] })
	for i, who := range turns {
		x.step = i
		T := x.ten[who]
		// The first turns add, so the rest have something to work on.
		if T.n < 6 {
			x.addRaw(T)
			x.ops["add raw"]++
			continue
		}
		w := x.r.Intn(total)
		for _, o := range ops {
			if w -= o.weight; w < 0 {
				o.run(T)
				x.ops[o.name]++
				break
			}
		}
	}
	for _, T := range x.ten {
		x.final(T)
	}
	names := make([]string, 0, len(x.ops))
	for k := range x.ops {
		names = append(names, k)
	}
	sort.Strings(names)
	var summary []string
	for _, k := range names {
		summary = append(summary, fmt.Sprintf("%s×%d", k, x.ops[k]))
	}
	t.Logf("operations: %s", strings.Join(summary, ", "))
	t.Logf("left: tenant A %d memories, tenant B %d", len(x.ten[0].mems), len(x.ten[1].mems))
	s.checkModelCalls(t)
}
