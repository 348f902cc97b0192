package cypher

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/neomem/neomem/graph"
)

// The filter compiler turns a parsed graph.Filter into a Cypher boolean
// expression over one node variable. The text holds no caller text at all:
// fields map to fixed property names, metadata keys reach the node through
// dynamic property access with the property name as a parameter
// (m[$flt_0] with $flt_0 = "meta_year"), and every value is a parameter.
// The text therefore depends only on the filter's shape, which keeps Neo4j's
// plan cache useful.
//
// Semantics, chosen so that NOT is always the complement:
//
//   - A missing property never matches a positive condition (eq, gt, in,
//     contains, ...). ne and nin are the negations of eq and in, so a memory
//     without the property matches them: {"lang": {"ne": "go"}} includes
//     memories without a lang. {"key": "*"} asks for presence, and
//     {"NOT": {"key": "*"}} for absence.
//   - A condition on values of another type is false, not an error: the
//     metadata string "2024" does not equal the number 2024, and a string
//     is neither greater nor less than a number. Numbers compare by value
//     (2024 equals 2024.0).
//   - NOT(x) is the complement of x: the compiler turns Cypher's null
//     (unknown) into false below a NOT, so {"NOT": {"year": {"gt": 2020}}}
//     matches memories without a year or with a non-numeric one.
//   - A metadata list (stored from a list of strings or of numbers) is a set
//     of values: eq and contains match when the list holds the value, ne
//     when it does not, in when it holds any of the values, nin when it holds
//     none; icontains matches a list item equal to the value ignoring case.
//     gt, gte, lt and lte never match a list.
//   - contains on a string is a substring test, icontains the same ignoring
//     case; on numbers and booleans they never match.
//   - Timestamps compare as instants; neomem stores them in UTC.

// filterVar is what a node variable must look like. It must not start with
// flt_, the prefix of the compiler's own names.
var filterVar = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// filterProps maps the filter's fields to the Memory properties they test.
var filterProps = map[string]string{
	"user_id":    "user_id",
	"agent_id":   "agent_id",
	"run_id":     "run_id",
	"actor_id":   "actor_id",
	"role":       "role",
	"kind":       "kind",
	"created_at": "created_at",
	"updated_at": "updated_at",
}

// filterParamPrefix prefixes every parameter the compiler adds.
const filterParamPrefix = "flt_"

// filterItem is the variable of the list predicates over metadata lists.
const filterItem = "flt_item"

// filterClause returns " AND (<expr>)" for f over the variable v, to append
// to a WHERE clause, or "" when f is nil or an empty And (no filter). See
// compileFilter.
func filterClause(f graph.Filter, v string, params map[string]any) (string, error) {
	if f == nil {
		return "", nil
	}
	if and, ok := f.(graph.And); ok && len(and) == 0 {
		return "", nil
	}
	expr, err := compileFilter(f, v, params)
	if err != nil {
		return "", err
	}
	return " AND (" + expr + ")", nil
}

// compileFilter returns a Cypher boolean expression that holds for the
// nodes bound to v that match f, adding its values to params as flt_0,
// flt_1, ... (skipping names already in params). A nil filter is "true".
// An invalid v is a programming error and panics.
//
// Filters from graph.ParseFilter always compile; a filter built by hand
// with an unknown field or operator, or a value of the wrong type, is an
// Invalid error.
func compileFilter(f graph.Filter, v string, params map[string]any) (string, error) {
	if !filterVar.MatchString(v) || strings.HasPrefix(v, filterParamPrefix) {
		panic(fmt.Sprintf("cypher: filter variable %q is not a plain variable name", v))
	}
	if f == nil {
		return "true", nil
	}
	c := &filterCompiler{v: v, params: params, keys: map[string]string{}}
	var b strings.Builder
	if err := c.node(&b, f); err != nil {
		return "", graph.Wrap(graph.Invalid, "compile filter", err)
	}
	return b.String(), nil
}

type filterCompiler struct {
	v      string
	params map[string]any
	next   int
	// keys remembers the parameter of each metadata property name, so a
	// key used twice is one parameter.
	keys map[string]string
}

// param adds val under the next free flt_N name and returns "$flt_N".
func (c *filterCompiler) param(val any) string {
	for {
		name := filterParamPrefix + strconv.Itoa(c.next)
		c.next++
		if _, taken := c.params[name]; !taken {
			c.params[name] = val
			return "$" + name
		}
	}
}

func (c *filterCompiler) node(b *strings.Builder, f graph.Filter) error {
	switch x := f.(type) {
	case graph.Cond:
		return c.cond(b, x)
	case graph.And:
		return c.join(b, x, " AND ", "true")
	case graph.Or:
		return c.join(b, x, " OR ", "false")
	case graph.Not:
		// coalesce makes unknown (null) false first, so NOT is the complement.
		b.WriteString("NOT coalesce(")
		if err := c.join(b, x, " AND ", "true"); err != nil {
			return err
		}
		b.WriteString(", false)")
		return nil
	case nil:
		return fmt.Errorf("filter has a nil node")
	}
	return fmt.Errorf("unknown filter node %T", f)
}

// join writes the filters joined by sep in parentheses; a single filter is
// written as it is, and none as empty.
func (c *filterCompiler) join(b *strings.Builder, fs []graph.Filter, sep, empty string) error {
	switch len(fs) {
	case 0:
		b.WriteString(empty)
		return nil
	case 1:
		return c.node(b, fs[0])
	}
	b.WriteByte('(')
	for i, f := range fs {
		if i > 0 {
			b.WriteString(sep)
		}
		if err := c.node(b, f); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

// prop returns the expression of the field's property: v.user_id, or
// v[$flt_N] with $flt_N = "meta_<key>".
func (c *filterCompiler) prop(f graph.FilterField) (string, error) {
	if !f.Metadata {
		name, ok := filterProps[f.Name]
		if !ok {
			return "", fmt.Errorf("unknown filter field %q", f.Name)
		}
		return c.v + "." + name, nil
	}
	if msg := checkMetadataKey(f.Name); msg != "" {
		return "", fmt.Errorf("metadata %s", msg)
	}
	key := metaPrefix + f.Name
	p, ok := c.keys[key]
	if !ok {
		p = c.param(key)
		c.keys[key] = p
	}
	return c.v + "[" + p + "]", nil
}

func (c *filterCompiler) cond(b *strings.Builder, cd graph.Cond) error {
	p, err := c.prop(cd.Field)
	if err != nil {
		return err
	}
	if cd.Op == graph.FilterExists {
		if cd.Value != nil {
			return fmt.Errorf("%v: operator * takes no value", cd)
		}
		b.WriteString(p + " IS NOT NULL")
		return nil
	}
	val, err := filterValue(cd)
	if err != nil {
		return err
	}
	x := c.param(val)
	meta := cd.Field.Metadata
	switch cd.Op {
	case graph.FilterEq:
		b.WriteString(eqExpr(p, x, meta))
	case graph.FilterNe:
		if meta {
			b.WriteString("(" + p + " IS NULL OR NOT " + eqExpr(p, x, meta) + ")")
		} else {
			b.WriteString("(" + p + " IS NULL OR " + p + " <> " + x + ")")
		}
	case graph.FilterGt:
		b.WriteString(p + " > " + x)
	case graph.FilterGte:
		b.WriteString(p + " >= " + x)
	case graph.FilterLt:
		b.WriteString(p + " < " + x)
	case graph.FilterLte:
		b.WriteString(p + " <= " + x)
	case graph.FilterIn:
		b.WriteString(inExpr(p, x, meta))
	case graph.FilterNin:
		b.WriteString("(" + p + " IS NULL OR NOT " + inExpr(p, x, meta) + ")")
	case graph.FilterContains:
		if meta {
			b.WriteString("CASE WHEN " + p + " IS :: LIST<ANY> NOT NULL THEN " + x + " IN " + p +
				" ELSE " + p + " CONTAINS " + x + " END")
		} else {
			b.WriteString(p + " CONTAINS " + x)
		}
	case graph.FilterIContains:
		if meta {
			// toLower fails on anything but a string, so the CASE looks first.
			b.WriteString("CASE WHEN " + p + " IS :: STRING NOT NULL THEN toLower(" + p + ") CONTAINS toLower(" + x + ")" +
				" WHEN " + p + " IS :: LIST<STRING> NOT NULL THEN any(" + filterItem + " IN " + p +
				" WHERE toLower(" + filterItem + ") = toLower(" + x + ")) ELSE false END")
		} else {
			b.WriteString("toLower(" + p + ") CONTAINS toLower(" + x + ")")
		}
	default:
		return fmt.Errorf("%v: unknown operator %q", cd, cd.Op)
	}
	return nil
}

// eqExpr is equality, or membership when a metadata property holds a list.
// The CASE keeps IN away from non-lists, where it would fail; Neo4j may
// reorder the operands of AND, but not the branches of a CASE.
func eqExpr(p, x string, meta bool) string {
	if !meta {
		return p + " = " + x
	}
	return "CASE WHEN " + p + " IS :: LIST<ANY> NOT NULL THEN " + x + " IN " + p + " ELSE " + p + " = " + x + " END"
}

// inExpr is membership in the list x, or overlap when a metadata property
// holds a list.
func inExpr(p, x string, meta bool) string {
	if !meta {
		return p + " IN " + x
	}
	return "CASE WHEN " + p + " IS :: LIST<ANY> NOT NULL THEN any(" + filterItem + " IN " + p + " WHERE " + filterItem + " IN " + x + ")" +
		" ELSE " + p + " IN " + x + " END"
}

// filterValue checks that the condition's value fits its operator, so that
// the compiled expression cannot fail at run time: IN needs a list, toLower
// a string.
func filterValue(cd graph.Cond) (any, error) {
	switch cd.Op {
	case graph.FilterIn, graph.FilterNin:
		list, ok := cd.Value.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%v: operator %s needs a non-empty list", cd, cd.Op)
		}
		out := make([]any, len(list))
		for i, e := range list {
			v, ok := filterScalar(e)
			if !ok {
				return nil, fmt.Errorf("%v: list item %d has type %T", cd, i, e)
			}
			out[i] = v
		}
		return out, nil
	case graph.FilterContains, graph.FilterIContains:
		s, ok := cd.Value.(string)
		if !ok {
			return nil, fmt.Errorf("%v: operator %s needs a string", cd, cd.Op)
		}
		return s, nil
	}
	v, ok := filterScalar(cd.Value)
	if !ok {
		return nil, fmt.Errorf("%v: value has type %T", cd, cd.Value)
	}
	return v, nil
}

// filterScalar returns v as a parameter value when it is a scalar a filter
// may compare: times go to Neo4j as DATETIME in UTC, like the stored ones.
func filterScalar(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, true
	case int:
		return int64(x), true
	case time.Time:
		return x.UTC(), true
	}
	return nil, false
}
