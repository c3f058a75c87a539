package ilmt

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kind is the type of a column, which decides the operators it takes.
type kind int

const (
	text kind = iota
	number
	date      // YYYY-MM-DD
	timestamp // RFC 3339
	list      // an array of objects: returned, never filtered or sorted
	numbers   // a set of integers (a JSON array); criteria test each one
)

func (k kind) String() string {
	return [...]string{"text", "number", "date", "timestamp", "list", "set of numbers"}[k]
}

func containsKind(ks []kind, k kind) bool { return slices.Contains(ks, k) }

// column is one column of an API's rows. A dotted name is a field of an
// object column: software_title_dimension.name is the name field of
// software_title_dimension, and asking for software_title_dimension
// returns all its fields.
type column struct {
	name   string
	kind   kind
	hidden bool // returned only when asked for with columns[]
	null   bool // may be null
}

// table describes the rows of one API.
type table struct {
	columns []column
	// order is the default sort.
	order []string
	// dynamic accepts columns made on the fly (custom fields).
	dynamic func(name string) (column, bool)
	// aliases name columns by other names in criteria and order[].
	aliases map[string]string
	// listed, when set, orders the rows of a list that compare equal by
	// order[]: as they were listed, when the rows came all at once (rows
	// read a row at a time may come in another order). Without it they
	// keep the order they come in.
	listed func(a, b row) int
}

// row is one row, its fields by column name (dotted for object fields).
type row map[string]any

func (t *table) column(name string) (column, bool) {
	if i := slices.IndexFunc(t.columns, func(c column) bool { return c.name == name }); i >= 0 {
		return t.columns[i], true
	}
	if t.dynamic != nil {
		return t.dynamic(name)
	}
	return column{}, false
}

// criteriaColumn resolves a column named in criteria or order[]: a scalar
// column or an alias of one.
func (t *table) criteriaColumn(name string) (column, bool) {
	if a, ok := t.aliases[name]; ok {
		name = a
	}
	c, ok := t.column(strings.TrimSpace(name))
	return c, ok && c.kind != list
}

// selects returns the columns a columns[] entry selects: the column, or
// every field of an object column.
func (t *table) selects(name string) []column {
	if c, ok := t.column(name); ok {
		return []column{c}
	}
	var out []column
	for _, c := range t.columns {
		if strings.HasPrefix(c.name, name+".") {
			out = append(out, c)
		}
	}
	return out
}

// names lists the columns for error messages.
func (t *table) names() string {
	out := make([]string, 0, len(t.columns))
	for _, c := range t.columns {
		out = append(out, c.name)
	}
	return strings.Join(out, ", ")
}

// query is the common query parameters of a list API.
type query struct {
	columns     []column
	order       []orderBy
	limit       int // at most maxLimit
	offset      int
	criteria    *criteria
	countSwitch int
	explicit    bool // columns[] chose the columns
}

type orderBy struct {
	col  column
	desc bool
}

// paramError is a fault in a query parameter, named with the position of
// the fault in its value.
type paramError struct {
	param string
	err   error
}

func (e *paramError) Error() string { return e.param + ": " + e.err.Error() }

func badParam(param, format string, args ...any) *paramError {
	return &paramError{param, fmt.Errorf(format, args...)}
}

// parseQuery reads columns[], order[], limit, offset, criteria and
// countSwitch. The names without brackets are accepted as well.
func (t *table) parseQuery(r *http.Request, now time.Time) (*query, *paramError) {
	params := r.URL.Query()
	q := &query{}
	for i, name := range values(params, "columns") {
		sel := t.selects(strings.TrimSpace(name))
		if len(sel) == 0 {
			return nil, badParam("columns[]", "value %d: unknown column %q; the columns are %s", i+1, name, t.names())
		}
		for _, c := range sel {
			if !slices.Contains(q.columns, c) {
				q.columns = append(q.columns, c)
			}
		}
	}
	q.explicit = q.columns != nil
	if q.columns == nil {
		for _, c := range t.columns {
			if !c.hidden {
				q.columns = append(q.columns, c)
			}
		}
	}
	order := values(params, "order")
	if len(order) == 0 {
		order = t.order
	}
	for i, o := range order {
		f := strings.Fields(o)
		if len(f) == 0 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "desc") && !strings.EqualFold(f[1], "asc") {
			return nil, badParam("order[]", "value %d: %q: give a column, optionally followed by asc or desc", i+1, o)
		}
		c, ok := t.criteriaColumn(f[0])
		if !ok {
			return nil, badParam("order[]", "value %d: unknown column %q; the columns are %s", i+1, f[0], t.names())
		}
		q.order = append(q.order, orderBy{c, len(f) == 2 && strings.EqualFold(f[1], "desc")})
	}
	var e *paramError
	if q.limit, e = intParam(params, "limit", maxLimit); e != nil {
		return nil, e
	}
	q.limit = min(q.limit, maxLimit)
	if q.offset, e = intParam(params, "offset", 0); e != nil {
		return nil, e
	}
	// Each criteria parameter applies: clients repeat it to add conditions.
	all := append(params["criteria[]"], params["criteria"]...)
	for i, text := range all {
		c, err := parseCriteria(text, t, now)
		if err != nil {
			name := "criteria"
			if len(all) > 1 {
				name = fmt.Sprintf("criteria (value %d)", i+1)
			}
			return nil, &paramError{name, err}
		}
		if q.criteria == nil {
			q.criteria = c
		} else {
			q.criteria = &criteria{items: []*criteria{q.criteria, c}}
		}
	}
	q.countSwitch, _ = strconv.Atoi(strings.TrimSpace(params.Get("countSwitch")))
	return q, nil
}

// values returns a repeatable parameter: name[] and name, and a value
// holding commas as several values.
func values(params url.Values, name string) []string {
	var out []string
	for _, v := range append(params[name+"[]"], params[name]...) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// intParam reads a whole number >= 0; def when absent.
func intParam(params url.Values, name string, def int) (int, *paramError) {
	s := strings.TrimSpace(params.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badParam(name, "%q is not a whole number >= 0", s)
	}
	return n, nil
}

// compareValues orders values of one column: numbers by value, the rest as
// text (dates and times in their ISO form sort as text); empty first.
func compareValues(a, b any) int {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return cmpFloat(fa, fb)
		}
	}
	sa, sb := "", ""
	if a != nil {
		sa = fmt.Sprint(a)
	}
	if b != nil {
		sb = fmt.Sprint(b)
	}
	return cmp.Compare(strings.ToLower(sa), strings.ToLower(sb))
}

// render builds the reply object of a row with the selected columns, in
// their order, object columns nested.
func (q *query) render(r row) object {
	var o object
	for _, c := range q.columns {
		o = o.set(strings.Split(c.name, "."), r[c.name])
	}
	return o
}

// object is a JSON object that keeps its keys in the order they were set.
type object []field

type field struct {
	key string
	val any
}

// set sets the value at a path of keys, making nested objects on the way.
func (o object) set(path []string, v any) object {
	i := slices.IndexFunc(o, func(f field) bool { return f.key == path[0] })
	if len(path) == 1 {
		if i >= 0 {
			o[i].val = v
			return o
		}
		return append(o, field{path[0], v})
	}
	if i < 0 {
		o = append(o, field{path[0], object(nil)})
		i = len(o) - 1
	}
	inner, _ := o[i].val.(object)
	o[i].val = inner.set(path[1:], v)
	return o
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes v without escaping HTML characters.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// list answers a v2 list of rows held in memory (see reply).
func (q *query) list(t *table, rows []row) object {
	p := q.pager(t)
	for _, r := range rows {
		p.add(r)
	}
	return p.reply()
}

// reply answers a v2 list: {"total": N, "rows": [...]} as countSwitch
// asks. 1 asks for the rows only: no total. 2 asks for the number of rows
// only: the total, with an empty rows list, so a client decoding both
// fields still finds both.
func (p *pager) reply() object {
	q := p.q
	p.addDynamic()
	total, page := p.total, p.page()
	var out object
	if q.countSwitch != 1 {
		out = append(out, field{"total", total})
	}
	rendered := make([]object, 0, len(page))
	if q.countSwitch != 2 {
		for _, r := range page {
			rendered = append(rendered, q.render(r))
		}
	}
	return append(out, field{"rows", rendered})
}
