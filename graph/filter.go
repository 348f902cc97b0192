package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Filter is a parsed Mem0 filter: a tree of And, Or and Not nodes over Cond
// leaves. ParseFilter and ParseFilterJSON are the only sources of filters
// from callers; a nil Filter matches everything.
//
// The set of node types is closed: And, Or, Not and Cond.
type Filter interface {
	// String renders the filter for logs and debugging, e.g.
	// AND(user_id eq "alice", NOT(metadata.year lt 2020)).
	String() string
	filterNode()
}

// And holds when every one of its filters holds (an empty And always holds).
type And []Filter

// Or holds when at least one of its filters holds (an empty Or never holds).
type Or []Filter

// Not holds when the conjunction of its filters does not hold: Mem0's
// {"NOT": [a, b]} is NOT(a AND b).
type Not []Filter

// Cond is one condition on one field.
//
// Value is nil for FilterExists; a string, bool, int64 or float64 for the other
// operators on strings, metadata and numbers (integral numbers below 2^53
// are int64, as metadata stores them); a time.Time in UTC on timestamp
// fields; and a non-empty []any of one kind of those scalars for FilterIn and
// FilterNin.
type Cond struct {
	Field FilterField
	Op    FilterOp
	Value any
}

// FilterField names what a Cond tests: a memory property neomem owns
// (user_id, agent_id, run_id, actor_id, role, kind, created_at, updated_at)
// or, when Metadata is set, a top-level key of the memory's metadata.
type FilterField struct {
	Name     string
	Metadata bool
}

// FilterOp is a filter operator.
type FilterOp string

// The filter operators. FilterExists is Mem0's {"key": "*"}: the field has a
// value, whatever it is.
const (
	FilterEq        FilterOp = "eq"
	FilterNe        FilterOp = "ne"
	FilterGt        FilterOp = "gt"
	FilterGte       FilterOp = "gte"
	FilterLt        FilterOp = "lt"
	FilterLte       FilterOp = "lte"
	FilterIn        FilterOp = "in"
	FilterNin       FilterOp = "nin"
	FilterContains  FilterOp = "contains"
	FilterIContains FilterOp = "icontains"
	FilterExists    FilterOp = "*"
)

// Limits on filters, so one request cannot make a query of unbounded size.
const (
	// MaxFilterDepth is how deeply filter objects may nest (the top-level
	// object is depth 1; each AND, OR or NOT adds one).
	MaxFilterDepth = 10
	// MaxFilterConds is the most conditions (leaves) one filter may hold.
	MaxFilterConds = 100
	// MaxFilterList is the longest list (AND, OR, NOT, in, nin).
	MaxFilterList = 1000
	// MaxFilterString is the longest string value, in bytes.
	MaxFilterString = 1000
	// MaxFilterKey is the longest metadata key, in bytes (as for metadata
	// itself).
	MaxFilterKey = 128
)

// The fields that are memory properties rather than metadata keys.
const (
	fieldCreatedAt = "created_at"
	fieldUpdatedAt = "updated_at"
)

var stringFields = []string{"user_id", "agent_id", "run_id", "actor_id", "role", "kind"}

// filterOps lists the operators accepted in an operator object, in the order
// error messages name them.
var filterOps = []FilterOp{FilterEq, FilterNe, FilterGt, FilterGte, FilterLt, FilterLte, FilterIn, FilterNin, FilterContains, FilterIContains}

func (And) filterNode()  {}
func (Or) filterNode()   {}
func (Not) filterNode()  {}
func (Cond) filterNode() {}

// String renders AND(a, b).
func (f And) String() string { return joinFilters("AND", f) }

// String renders OR(a, b).
func (f Or) String() string { return joinFilters("OR", f) }

// String renders NOT(a, b).
func (f Not) String() string { return joinFilters("NOT", f) }

func joinFilters(name string, fs []Filter) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		if f == nil {
			b.WriteString("<nil>")
			continue
		}
		b.WriteString(f.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String renders `metadata.year gte 2020`, `user_id eq "alice"` or
// `agent_id *`.
func (c Cond) String() string {
	if c.Op == FilterExists {
		return c.Field.String() + " *"
	}
	return c.Field.String() + " " + string(c.Op) + " " + formatFilterValue(c.Value)
}

func formatFilterValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatFilterValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// String returns the name as a filter writes it: "user_id" or
// "metadata.<key>".
func (f FilterField) String() string {
	if f.Metadata {
		return "metadata." + f.Name
	}
	return f.Name
}

// Time reports whether the field is a timestamp (created_at, updated_at).
func (f FilterField) Time() bool {
	return !f.Metadata && (f.Name == fieldCreatedAt || f.Name == fieldUpdatedAt)
}

// Conds returns the leaves of f in order.
func Conds(f Filter) []Cond {
	var out []Cond
	var walk func(Filter)
	walk = func(f Filter) {
		switch x := f.(type) {
		case Cond:
			out = append(out, x)
		case And:
			for _, g := range x {
				walk(g)
			}
		case Or:
			for _, g := range x {
				walk(g)
			}
		case Not:
			for _, g := range x {
				walk(g)
			}
		}
	}
	walk(f)
	return out
}

// opParseFilter names the operation in filter errors.
const opParseFilter = "parse filter"

// maxFilterErrors caps how many problems one error lists.
const maxFilterErrors = 20

// ParseFilter parses Mem0's filter language from a decoded JSON object
// (numbers as float64 or json.Number). An empty or nil object is no filter:
// it returns nil, nil.
//
// Grammar: an object's keys are logical operators or fields, and sibling keys
// are ANDed. "AND" and "OR" take a non-empty list of filter objects; "NOT" a
// list of filter objects (NOT of their conjunction) or one object. A field is
// user_id, agent_id, run_id, actor_id, role, kind, created_at, updated_at,
// "metadata.<key>", or any other key, which names a metadata key; "metadata"
// itself may hold an object of metadata keys ({"metadata": {"year": 2024}}).
// A field's value is a scalar (equality), "*" (the field has a value), or an
// object of operators (eq, ne, gt, gte, lt, lte, in, nin, contains,
// icontains), which are ANDed.
//
// Every problem is reported, never ignored: the error is Invalid and its
// fields name the bad parts by path, such as "filters.AND[1].created_at.gte".
func ParseFilter(raw map[string]any) (Filter, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	p := &filterParser{}
	f := p.object(raw, "filters", 1)
	if len(p.errs) > 0 {
		return nil, InvalidFields(opParseFilter, p.errs...)
	}
	return f, nil
}

// ParseFilterJSON parses a filter from JSON text. Empty input and null are no
// filter. Unlike encoding/json it rejects repeated keys, which would
// otherwise silently drop a condition.
func ParseFilterJSON(data []byte) (Filter, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeFilterJSON(dec, "filters", 0)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = filterJSONError("filters", "has data after the JSON value")
		}
	}
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return ParseFilter(x)
	}
	return nil, filterJSONError("filters", "must be a JSON object")
}

// maxFilterJSONDepth bounds the nesting of JSON values before parsing; a
// valid filter needs about two levels per filter level, plus three.
const maxFilterJSONDepth = 2*MaxFilterDepth + 4

func notJSON(path string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return filterJSONError(path, "is not valid JSON: "+err.Error())
}

func filterJSONError(path, msg string) error {
	return InvalidFields(opParseFilter, FieldError{Path: path, Message: msg})
}

// decodeFilterJSON decodes one JSON value token by token, so that repeated
// keys are seen.
func decodeFilterJSON(dec *json.Decoder, path string, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, notJSON(path, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxFilterJSONDepth {
		return nil, filterJSONError(path, fmt.Sprintf("is nested deeper than %d filter levels", MaxFilterDepth))
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, notJSON(path, err)
			}
			k, ok := kt.(string)
			if !ok {
				return nil, filterJSONError(path, "is not valid JSON")
			}
			kp := path + "." + k
			if _, dup := obj[k]; dup {
				return nil, filterJSONError(kp, "is repeated")
			}
			v, err := decodeFilterJSON(dec, kp, depth+1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, notJSON(path, err)
		}
		return obj, nil
	case '[':
		list := []any{}
		for dec.More() {
			v, err := decodeFilterJSON(dec, fmt.Sprintf("%s[%d]", path, len(list)), depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, notJSON(path, err)
		}
		return list, nil
	}
	return nil, filterJSONError(path, "is not valid JSON")
}

// filterParser collects every problem of one filter; a broken limit stops
// it, since what follows would only repeat the problem.
type filterParser struct {
	errs  []FieldError
	conds int
	stop  bool
}

func (p *filterParser) fail(path, format string, args ...any) {
	if p.stop {
		return
	}
	p.errs = append(p.errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	if len(p.errs) >= maxFilterErrors {
		p.stop = true
	}
}

// object parses one filter object; it returns nil after a problem.
func (p *filterParser) object(raw map[string]any, path string, depth int) Filter {
	if depth > MaxFilterDepth {
		p.fail(path, "is nested deeper than %d levels", MaxFilterDepth)
		p.stop = true
		return nil
	}
	if len(raw) == 0 {
		p.fail(path, "must not be an empty object")
		return nil
	}
	var parts []Filter
	for _, k := range sortedKeys(raw) {
		if p.stop {
			return nil
		}
		v, kp := raw[k], path+"."+k
		switch k {
		case "AND", "OR":
			list, ok := p.filterList(v, kp, false)
			if !ok {
				continue
			}
			subs := p.objects(list, kp, depth)
			if k == "AND" {
				parts = append(parts, And(subs))
			} else {
				parts = append(parts, Or(subs))
			}
			continue
		case "NOT":
			list, ok := p.filterList(v, kp, true)
			if !ok {
				continue
			}
			parts = append(parts, Not(p.objects(list, kp, depth)))
			continue
		case "metadata":
			parts = append(parts, p.metadata(v, kp)...)
			continue
		}
		if logical(k) {
			p.fail(kp, "logical operators are written in upper case: %q", strings.ToUpper(k))
			continue
		}
		field := FilterField{Name: k, Metadata: true}
		switch {
		case strings.HasPrefix(k, "metadata."):
			field.Name = strings.TrimPrefix(k, "metadata.")
		case slices.Contains(stringFields, k), k == fieldCreatedAt, k == fieldUpdatedAt:
			field.Metadata = false
		}
		if field.Metadata {
			if msg := checkFilterKey(field.Name); msg != "" {
				p.fail(kp, "%s", msg)
				continue
			}
		}
		parts = append(parts, p.field(field, v, kp)...)
	}
	if len(p.errs) > 0 {
		return nil
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return And(parts)
}

func logical(k string) bool {
	return strings.EqualFold(k, "AND") || strings.EqualFold(k, "OR") || strings.EqualFold(k, "NOT")
}

// filterList returns the list of filter objects under AND, OR or NOT (which
// also takes a single object).
func (p *filterParser) filterList(v any, path string, single bool) ([]any, bool) {
	if obj, ok := v.(map[string]any); ok && single {
		return []any{obj}, true
	}
	list, ok := v.([]any)
	switch {
	case !ok && single:
		p.fail(path, "must be a filter object or a list of filter objects")
	case !ok:
		p.fail(path, "must be a list of filter objects")
	case len(list) == 0:
		p.fail(path, "must not be an empty list")
	case len(list) > MaxFilterList:
		p.fail(path, "has more than %d items", MaxFilterList)
	default:
		return list, true
	}
	return nil, false
}

func (p *filterParser) objects(list []any, path string, depth int) []Filter {
	out := make([]Filter, 0, len(list))
	for i, e := range list {
		ep := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := e.(map[string]any)
		if !ok {
			p.fail(ep, "must be a filter object")
			continue
		}
		if f := p.object(obj, ep, depth+1); f != nil {
			out = append(out, f)
		}
		if p.stop {
			break
		}
	}
	return out
}

// metadata parses {"metadata": {"key": value, ...}}.
func (p *filterParser) metadata(v any, path string) []Filter {
	obj, ok := v.(map[string]any)
	if !ok {
		p.fail(path, `must be an object of metadata keys; write "metadata.metadata" for a key named metadata`)
		return nil
	}
	if len(obj) == 0 {
		p.fail(path, "must not be an empty object")
		return nil
	}
	var out []Filter
	for _, k := range sortedKeys(obj) {
		kp := path + "." + k
		if logical(k) {
			p.fail(kp, "logical operators are not allowed inside metadata; put them around it")
			continue
		}
		if msg := checkFilterKey(k); msg != "" {
			p.fail(kp, "%s", msg)
			continue
		}
		out = append(out, p.field(FilterField{Name: k, Metadata: true}, obj[k], kp)...)
	}
	return out
}

func checkFilterKey(k string) string {
	switch {
	case k == "":
		return "metadata key must not be empty"
	case len(k) > MaxFilterKey:
		return fmt.Sprintf("metadata key is longer than %d bytes", MaxFilterKey)
	case !utf8.ValidString(k):
		return "metadata key is not valid UTF-8"
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return "metadata key contains a control character"
		}
	}
	return ""
}

// field parses a field's value: a scalar, "*" or an operator object.
func (p *filterParser) field(f FilterField, v any, path string) []Filter {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			p.fail(path, "must not be an empty object; use %s", opList(filterOps))
			return nil
		}
		var out []Filter
		for _, k := range sortedKeys(x) {
			op := FilterOp(k)
			if !slices.Contains(filterOps, op) {
				p.fail(path+"."+k, "unknown operator %q; use %s", k, opList(filterOps))
				continue
			}
			if c, ok := p.cond(f, op, x[k], path+"."+k); ok {
				out = append(out, c)
			}
		}
		return out
	case string:
		if x == "*" {
			if c, ok := p.cond(f, FilterExists, nil, path); ok {
				return []Filter{c}
			}
			return nil
		}
	case []any:
		p.fail(path, `a list is not a value; use {"in": [...]}`)
		return nil
	case nil:
		p.fail(path, `must not be null; {"NOT": {"%s": "*"}} matches a missing value`, f)
		return nil
	}
	if c, ok := p.cond(f, FilterEq, v, path); ok {
		return []Filter{c}
	}
	return nil
}

// The kinds of scalar a filter value can be.
type scalarKind uint8

const (
	kindNone scalarKind = iota
	kindString
	kindNumber
	kindBool
)

func (k scalarKind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	}
	return "no value"
}

var (
	timeOps   = []FilterOp{FilterEq, FilterNe, FilterGt, FilterGte, FilterLt, FilterLte}
	stringOps = []FilterOp{FilterEq, FilterNe, FilterIn, FilterNin, FilterContains, FilterIContains}
)

func opList(ops []FilterOp) string {
	s := make([]string, len(ops))
	for i, op := range ops {
		s[i] = string(op)
	}
	return strings.Join(s, ", ")
}

// cond checks one operator's value against the field's type rules.
func (p *filterParser) cond(f FilterField, op FilterOp, v any, path string) (Cond, bool) {
	p.conds++
	if p.conds > MaxFilterConds {
		p.fail(path, "filter has more than %d conditions", MaxFilterConds)
		p.stop = true
		return Cond{}, false
	}
	c := Cond{Field: f, Op: op}
	if op == FilterExists {
		return c, true
	}
	switch {
	case f.Time():
		if !slices.Contains(timeOps, op) {
			p.fail(path, "operator %q is not supported on a timestamp; use %s", op, opList(timeOps))
			return c, false
		}
		s, ok := v.(string)
		t, err := parseFilterTime(s)
		if !ok || err != nil {
			p.fail(path, `must be an RFC 3339 timestamp or a date like "2024-05-01"`)
			return c, false
		}
		c.Value = t
		return c, true
	case !f.Metadata:
		if !slices.Contains(stringOps, op) {
			p.fail(path, "operator %q is not supported on %s (a string); use %s", op, f.Name, opList(stringOps))
			return c, false
		}
	}
	if op == FilterIn || op == FilterNin {
		list, ok := p.list(f, v, path)
		c.Value = list
		return c, ok
	}
	val, kind, msg := filterScalar(v)
	if msg != "" {
		p.fail(path, "%s", msg)
		return c, false
	}
	c.Value = val
	switch {
	case !f.Metadata && kind != kindString:
		p.fail(path, "must be a string, not %s", kind)
	case (op == FilterContains || op == FilterIContains) && kind != kindString:
		p.fail(path, "operator %q needs a string, not %s", op, kind)
	case (op == FilterGt || op == FilterGte || op == FilterLt || op == FilterLte) && kind == kindBool:
		p.fail(path, "operator %q needs a number or a string; booleans support eq, ne, in, nin", op)
	default:
		return c, true
	}
	return c, false
}

// list checks the value of in and nin: a non-empty list of scalars of one
// kind (strings only on user_id and the other string fields).
func (p *filterParser) list(f FilterField, v any, path string) ([]any, bool) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		items = make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
	default:
		p.fail(path, "must be a list of values")
		return nil, false
	}
	switch {
	case len(items) == 0:
		p.fail(path, "must not be an empty list")
		return nil, false
	case len(items) > MaxFilterList:
		p.fail(path, "has more than %d items", MaxFilterList)
		return nil, false
	}
	out := make([]any, len(items))
	first := kindNone
	for i, e := range items {
		ep := fmt.Sprintf("%s[%d]", path, i)
		val, kind, msg := filterScalar(e)
		switch {
		case msg != "":
			p.fail(ep, "%s", msg)
			return nil, false
		case !f.Metadata && kind != kindString:
			p.fail(ep, "must be a string, not %s", kind)
			return nil, false
		case first != kindNone && kind != first:
			p.fail(ep, "is %s but the list starts with %s; all items must be of one kind", kind, first)
			return nil, false
		}
		first = kind
		out[i] = val
	}
	return out, true
}

// filterScalar normalises a scalar value, or says why it is not one.
func filterScalar(v any) (any, scalarKind, string) {
	switch x := v.(type) {
	case string:
		switch {
		case len(x) > MaxFilterString:
			return nil, kindNone, fmt.Sprintf("is longer than %d bytes", MaxFilterString)
		case !utf8.ValidString(x):
			return nil, kindNone, "is not valid UTF-8"
		}
		return x, kindString, ""
	case bool:
		return x, kindBool, ""
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, kindNone, "must be a finite number"
		}
		return filterNumber(x), kindNumber, ""
	case int:
		return int64(x), kindNumber, ""
	case int64:
		return x, kindNumber, ""
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, kindNumber, ""
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, kindNone, "must be a finite number"
		}
		return filterNumber(f), kindNumber, ""
	case nil:
		return nil, kindNone, "must not be null"
	case map[string]any:
		return nil, kindNone, "must be a string, number or boolean, not an object"
	case []any:
		return nil, kindNone, "must be a string, number or boolean, not a list"
	}
	return nil, kindNone, fmt.Sprintf("must be a string, number or boolean, not %T", v)
}

// filterNumber stores integral floats as integers, as metadata does, so
// {"year": 2024} and {"year": 2024.0} mean the same.
func filterNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// parseFilterTime accepts RFC 3339 and a bare date (midnight UTC).
func parseFilterTime(s string) (time.Time, error) {
	if len(s) == len("2006-01-02") {
		t, err := time.Parse("2006-01-02", s)
		return t.UTC(), err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
