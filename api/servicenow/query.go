package servicenow

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// query is a parsed sysparm_query, ServiceNow's encoded query: terms joined
// by ^ (AND); ^OR joins a term to the one before it (OR binds tighter than
// AND, so a^ORb^c is (a or b) and c); ^NQ starts another query whose rows
// are added; ORDERBYfield and ORDERBYDESCfield sort; ^^ is a literal ^.
// Text comparisons ignore case, as on a ServiceNow instance.
type query struct {
	alternatives [][]orGroup // ^NQ parts, each an AND of OR groups
	order        []orderTerm
}

type orGroup []cond

type cond struct{ field, op, value string }

type orderTerm struct {
	field string
	desc  bool
}

// operators, longest first where one is the prefix of another.
var operators = []string{"ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "NOTLIKE", "LIKE", "NOT IN", "IN",
	"ANYTHING", "!=", ">=", "<=", "=", ">", "<"}

// escaped stands for ^^ while a query is split.
const escaped = "\x00"

// MaxQueryLen bounds sysparm_query in bytes: the query is copied into the
// Link header up to four times, and no list filter needs more.
const MaxQueryLen = 4096

func parseQuery(s string) (*query, error) {
	if len(s) > MaxQueryLen {
		return nil, fmt.Errorf("sysparm_query is %d bytes long, over the limit of %d bytes", len(s), MaxQueryLen)
	}
	q := &query{}
	for _, part := range strings.Split(strings.ReplaceAll(s, "^^", escaped), "^NQ") {
		var and []orGroup
		for _, term := range strings.Split(part, "^") {
			switch {
			case term == "" || term == "EQ": // EQ ends queries the list UI builds
			case strings.HasPrefix(term, "ORDERBYDESC"):
				q.order = append(q.order, orderTerm{field: term[len("ORDERBYDESC"):], desc: true})
			case strings.HasPrefix(term, "ORDERBY"):
				q.order = append(q.order, orderTerm{field: term[len("ORDERBY"):]})
			case strings.HasPrefix(term, "OR"):
				if len(and) == 0 {
					return nil, fmt.Errorf("term %q: ^OR needs a term before it", term)
				}
				c, err := parseCond(term[len("OR"):])
				if err != nil {
					return nil, err
				}
				and[len(and)-1] = append(and[len(and)-1], c)
			default:
				c, err := parseCond(term)
				if err != nil {
					return nil, err
				}
				and = append(and, orGroup{c})
			}
		}
		if len(and) > 0 {
			q.alternatives = append(q.alternatives, and)
		}
	}
	for _, o := range q.order {
		if o.field == "" || strings.IndexFunc(o.field, func(r rune) bool { return !fieldChar(r) }) >= 0 {
			return nil, fmt.Errorf("ORDERBY: %q is not a field name", o.field)
		}
	}
	return q, nil
}

func fieldChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.'
}

// parseCond reads field, operator and value, e.g. nameSTARTSWITHComp.
func parseCond(term string) (cond, error) {
	i := strings.IndexFunc(term, func(r rune) bool { return !fieldChar(r) })
	if i <= 0 {
		return cond{}, fmt.Errorf("term %q: expected a field name, an operator and a value, e.g. name=web01 or nameSTARTSWITHweb", unescape(term))
	}
	for _, op := range operators {
		if v, ok := strings.CutPrefix(term[i:], op); ok {
			return cond{field: term[:i], op: op, value: unescape(v)}, nil
		}
	}
	return cond{}, fmt.Errorf("term %q: unknown operator after %q; use one of %s", unescape(term), term[:i], strings.Join(operators, " "))
}

func unescape(s string) string { return strings.ReplaceAll(s, escaped, "^") }

// ownClasses splits off the terms of a query without ^NQ that name the
// row's own class (sys_class_name=X, sys_class_nameINX,Y, ANDed with the
// rest): the class names a row's class must be one of, nil when no term
// names them, and the query that is left to match. The engine reads only
// those classes, so such a filter costs no record reads.
func (q *query) ownClasses() (classes []string, rest *query) {
	if len(q.alternatives) != 1 {
		return nil, q
	}
	rest = &query{order: q.order}
	var and []orGroup
	for _, or := range q.alternatives[0] {
		c := or[0]
		if len(or) != 1 || c.field != "sys_class_name" || (c.op != "=" && c.op != "IN") {
			and = append(and, or)
			continue
		}
		named := []string{c.value}
		if c.op == "IN" {
			named = inValues(c.value)
		}
		if classes == nil {
			classes = named
		} else {
			classes = slices.DeleteFunc(classes, func(x string) bool {
				return !slices.ContainsFunc(named, func(y string) bool { return strings.EqualFold(x, y) })
			})
		}
	}
	if len(and) > 0 {
		rest.alternatives = [][]orGroup{and}
	}
	return classes, rest
}

// systemFields are the fields row renders from the record itself rather
// than from its values: the engine's filters and orders on values do not
// see them.
var systemFields = map[string]bool{"sys_id": true, "sys_class_name": true, "sys_created_on": true, "sys_updated_on": true,
	"first_discovered": true, "last_discovered": true, "discovery_source": true}

// filters splits off the terms of a query without ^NQ that compare a
// value (field=X, fieldINX,Y, fieldSTARTSWITHX, ANDed with the rest) as
// engine filters, which the engine answers from an index when the field
// is indexed, and returns the query that is left to match.
func (q *query) filters() (filters []engine.Filter, rest *query) {
	if len(q.alternatives) != 1 {
		return nil, q
	}
	rest = &query{order: q.order}
	var and []orGroup
	for _, or := range q.alternatives[0] {
		c := or[0]
		if len(or) != 1 || systemFields[c.field] || (c.op != "=" && c.op != "IN" && c.op != "STARTSWITH") {
			and = append(and, or)
			continue
		}
		f := engine.Filter{Attribute: c.field, Values: []string{c.value}, Prefix: c.op == "STARTSWITH"}
		if c.op == "IN" {
			f.Values = inValues(c.value)
		}
		filters = append(filters, f)
	}
	if len(and) > 0 {
		rest.alternatives = [][]orGroup{and}
	}
	return filters, rest
}

// inValues are the values of an IN term.
func inValues(s string) []string {
	vs := strings.Split(s, ",")
	for i := range vs {
		vs[i] = strings.TrimSpace(vs[i])
	}
	return vs
}

// match reports whether a row satisfies the query; an empty query matches
// every row.
func (q *query) match(row map[string]string) bool {
	if len(q.alternatives) == 0 {
		return true
	}
	return slices.ContainsFunc(q.alternatives, func(and []orGroup) bool {
		for _, or := range and {
			if !slices.ContainsFunc(or, func(c cond) bool { return c.eval(row) }) {
				return false
			}
		}
		return true
	})
}

func (c cond) eval(row map[string]string) bool {
	v := row[c.field]
	lv, lc := strings.ToLower(v), strings.ToLower(c.value)
	switch c.op {
	case "=":
		return lv == lc
	case "!=":
		return lv != lc
	case "STARTSWITH":
		return strings.HasPrefix(lv, lc)
	case "ENDSWITH":
		return strings.HasSuffix(lv, lc)
	case "LIKE":
		return strings.Contains(lv, lc)
	case "NOTLIKE":
		return !strings.Contains(lv, lc)
	case "IN", "NOT IN":
		in := slices.ContainsFunc(inValues(c.value), func(x string) bool { return strings.ToLower(x) == lv })
		return in == (c.op == "IN")
	case "ISEMPTY":
		return v == ""
	case "ISNOTEMPTY":
		return v != ""
	case "ANYTHING":
		return true
	}
	if v == "" { // an empty value is neither less nor greater than anything
		return false
	}
	n := compareValues(v, c.value)
	switch c.op {
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "<":
		return n < 0
	default: // "<="
		return n <= 0
	}
}

// compareValues compares numerically when both are numbers, else as text
// ignoring case (dates in ServiceNow's format order correctly as text).
func compareValues(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// sort orders rows by the query's ORDERBY terms, then by sys_id, so pages
// are stable.
func (q *query) sort(rows []map[string]string) {
	slices.SortStableFunc(rows, func(a, b map[string]string) int {
		if n := q.compareKeys(q.sortKey(a), q.sortKey(b)); n != 0 {
			return n
		}
		return strings.Compare(a["sys_id"], b["sys_id"])
	})
}

// sortKey is what the ORDERBY terms order a row by: its values of their
// fields.
func (q *query) sortKey(row map[string]string) []string {
	key := make([]string, len(q.order))
	for i, o := range q.order {
		key[i] = row[o.field]
	}
	return key
}

// compareKeys orders two sort keys term by term, with orderValues (sys_id
// as plain text).
func (q *query) compareKeys(a, b []string) int {
	for i, o := range q.order {
		n := orderValues(a[i], b[i])
		if o.field == "sys_id" {
			n = strings.Compare(a[i], b[i]) // as the membership keys order them, even all-digit ones
		}
		if o.desc {
			n = -n
		}
		if n != 0 {
			return n
		}
	}
	return 0
}

// orderValues is the order ORDERBY sorts values in: empty values first,
// then numbers by value, then text ignoring case. Unlike compareValues
// (two values a filter compares) it is a total order over every mix of
// numbers and text, which a sort and a bounded top-k both need to agree;
// it is the order of the engine's secondary indexes, which serve ORDERBY
// on an indexed field.
func orderValues(a, b string) int { return store.CompareIndexed(a, b) }
