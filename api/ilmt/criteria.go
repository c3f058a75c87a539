package ilmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/api"
)

// criteria is a parsed criteria parameter: a connector over criteria and
// clauses, as License Metric Tool documents it:
//
//	<criteria>  ::= { "and"|"or": [ <criterion>, ... ] }
//	<criterion> ::= <criteria> | [ <column>, <operator>, <value> ]
//
// Real clients send looser text than the documentation's examples, and
// what is unambiguous is accepted: single quotes and trailing commas,
// connectors and operators in any case, operators spelt with spaces
// ("begins with"), == and <>, a unary clause with or without a null value,
// a bare clause without a connector, numbers as strings for number columns.
type criteria struct {
	or    bool
	items []*criteria
	cl    *clause // a leaf
}

// clause is one [column, operator, value] test, checked against the
// column's kind when parsed.
type clause struct {
	col  column
	op   string
	vals []any // strings, float64s or times; several for a list value
	// from and to bound a relative date operator.
	from, to time.Time
	// days: a date column, or a timestamp column given dates: compare days.
	days bool
}

// operators are the documented operators and the kinds they apply to.
var operators = map[string][]kind{
	"=": {text, number, numbers, date, timestamp}, "!=": {text, number, numbers, date, timestamp},
	"<": {number, numbers, date, timestamp}, "<=": {number, numbers, date, timestamp}, ">": {number, numbers, date, timestamp}, ">=": {number, numbers, date, timestamp},
	"last": {date, timestamp}, "next": {date, timestamp}, "starting": {date, timestamp}, "ending": {date, timestamp},
	"begins_with": {text}, "not_begins_with": {text}, "contains": {text}, "not_contains": {text},
	"ends_with": {text}, "not_ends_with": {text},
	"is_empty": {text, number, numbers, date, timestamp}, "is_not_empty": {text, number, numbers, date, timestamp},
}

// operatorNames lists the operators for error messages, in the
// documentation's order.
const operatorNames = "=, !=, <, <=, >, >=, last, next, starting, ending, begins_with, not_begins_with, contains, not_contains, ends_with, not_ends_with, is_empty, is_not_empty"

// operatorAliases are other spellings clients use for the same operator.
var operatorAliases = map[string]string{"==": "=", "<>": "!=", "starts_with": "begins_with", "not_starts_with": "not_begins_with"}

// posError is a fault at a character of the parameter's text (1-based).
type posError struct {
	pos int
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("at character %d: %s", e.pos, e.msg) }

// parseCriteria parses a criteria parameter against the table's columns.
// now anchors the relative date operators.
func parseCriteria(text string, t *table, now time.Time) (*criteria, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &posError{1, "empty; give {\"and\": [[column, operator, value], ...]} or leave criteria out"}
	}
	b := []byte(text)
	if !json.Valid(b) {
		if relaxed, changed := api.Relaxed(b); changed && json.Valid(relaxed) {
			b = relaxed
		}
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(b)), text: b, t: t, now: now, end: len(b) + 1}
	p.dec.UseNumber()
	tok, pos, err := p.next()
	if err != nil {
		return nil, err
	}
	c, err := p.criterion(tok, pos, true)
	if err != nil {
		return nil, err
	}
	if tok, pos, err := p.next(); err == nil {
		return nil, &posError{pos, fmt.Sprintf("unexpected %s after the criteria", describeToken(tok))}
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return c, nil
}

// parser walks the JSON tokens of a criteria parameter, knowing where each
// one starts.
type parser struct {
	dec  *json.Decoder
	text []byte
	t    *table
	now  time.Time
	end  int // the position just past the text
}

// next returns the next token and the 1-based character it starts at;
// io.EOF at the end.
func (p *parser) next() (json.Token, int, error) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			return nil, p.end, io.EOF
		case errors.As(err, &se):
			// The decoder's offset counts from the value it was in; the
			// fault is at the next token, after blanks and separators.
			pos := int(start)
			for pos < len(p.text) && strings.IndexByte(" \t\r\n,:", p.text[pos]) >= 0 {
				pos++
			}
			return nil, pos + 1, &posError{pos + 1, "not JSON: " + se.Error()}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, p.end, &posError{p.end, "the criteria end too early"}
		}
		return nil, int(start) + 1, &posError{int(start) + 1, "not JSON: " + err.Error()}
	}
	// InputOffset is now past the token, which starts after any blanks and
	// separators before it.
	return tok, tokenStart(start, p.dec.InputOffset(), tok), nil
}

// tokenStart guesses a token's first character from where the decoder
// stood before and after it: the token's text is at the end of that span.
func tokenStart(before, after int64, tok json.Token) int {
	n := int64(1)
	switch v := tok.(type) {
	case string:
		b, _ := marshal(v)
		n = int64(len(b))
	case json.Number:
		n = int64(len(v))
	case bool:
		n = int64(len(strconv.FormatBool(v)))
	case nil:
		n = 4
	}
	return int(max(after-n, before)) + 1
}

// criterion reads nested criteria or a clause, starting at tok; top for
// the parameter's outermost value, where a clause stands without a
// connector.
func (p *parser) criterion(tok json.Token, pos int, top bool) (*criteria, error) {
	switch tok {
	case json.Delim('{'):
		return p.object(pos)
	case json.Delim('['):
		return p.clause(pos, top)
	}
	if top {
		return nil, &posError{pos, fmt.Sprintf("expected {\"and\": [...]} or {\"or\": [...]}, got %s", describeToken(tok))}
	}
	return nil, &posError{pos, fmt.Sprintf("expected a clause [column, operator, value] or nested criteria, got %s", describeToken(tok))}
}

// object reads the rest of {"and"|"or": [...]} after its '{'.
func (p *parser) object(open int) (*criteria, error) {
	tok, pos, err := p.expect()
	if err != nil {
		return nil, err
	}
	if tok == json.Delim('}') {
		return nil, &posError{open, `empty criteria object; give {"and": [...]} or {"or": [...]}`}
	}
	key, _ := tok.(string)
	c := &criteria{}
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "and":
	case "or":
		c.or = true
	default:
		return nil, &posError{pos, fmt.Sprintf("unknown connector %s; the connectors are \"and\" and \"or\"", describeToken(tok))}
	}
	tok, pos, err = p.expect()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, &posError{pos, fmt.Sprintf("%q takes a list of criteria, got %s", key, describeToken(tok))}
	}
	err = p.elements(func(tok json.Token, pos int) error {
		item, err := p.criterion(tok, pos, false)
		c.items = append(c.items, item)
		return err
	})
	if err != nil {
		return nil, err
	}
	tok, pos, err = p.expect()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('}') {
		return nil, &posError{pos, fmt.Sprintf("one connector per criteria object; got another key %s (nest the criteria instead)", describeToken(tok))}
	}
	return c, nil
}

// elements reads a list's elements up to its ']', after its '[', calling
// fn for each.
func (p *parser) elements(fn func(tok json.Token, pos int) error) error {
	for {
		tok, pos, err := p.expect()
		if err != nil {
			return err
		}
		if tok == json.Delim(']') {
			return nil
		}
		if err := fn(tok, pos); err != nil {
			return err
		}
	}
}

// expect is next, where the end of the text is a fault.
func (p *parser) expect() (json.Token, int, error) {
	tok, pos, err := p.next()
	if errors.Is(err, io.EOF) {
		return nil, pos, &posError{pos, "the criteria end too early"}
	}
	return tok, pos, err
}

// clause reads the rest of [column, operator, value] after its '['; bare
// when it stands alone, without a connector.
func (p *parser) clause(open int, bare bool) (*criteria, error) {
	tok, pos, err := p.expect()
	if err != nil {
		return nil, err
	}
	name, ok := tok.(string)
	if bare && (tok == json.Delim('[') || tok == json.Delim('{')) {
		return nil, &posError{open, `a list of criteria needs a connector: {"and": [...]} or {"or": [...]}`}
	}
	if !ok {
		return nil, &posError{pos, fmt.Sprintf("the column must be a string, got %s", describeToken(tok))}
	}
	col, ok := p.t.criteriaColumn(name)
	if !ok {
		return nil, &posError{pos, fmt.Sprintf("unknown column %q; the columns are %s", name, p.t.names())}
	}
	tok, pos, err = p.expect()
	if err != nil {
		return nil, err
	}
	raw, ok := tok.(string)
	if !ok {
		return nil, &posError{pos, fmt.Sprintf("the operator must be a string, got %s", describeToken(tok))}
	}
	op := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(raw)), " ", "_")
	if alias, ok := operatorAliases[op]; ok {
		op = alias
	}
	kinds, ok := operators[op]
	if !ok {
		return nil, &posError{pos, fmt.Sprintf("unknown operator %q; the operators are %s", raw, operatorNames)}
	}
	if !containsKind(kinds, col.kind) {
		return nil, &posError{pos, fmt.Sprintf("operator %s does not apply to %s, a %s column", op, col.name, col.kind)}
	}
	cl := &clause{col: col, op: op}
	tok, pos, err = p.expect()
	if err != nil {
		return nil, err
	}
	unary := op == "is_empty" || op == "is_not_empty"
	switch {
	case tok == json.Delim(']'):
		if !unary {
			return nil, &posError{pos, fmt.Sprintf("operator %s needs a value: [%q, %q, value]", op, name, op)}
		}
		return &criteria{cl: cl}, nil
	case unary:
		if s, isStr := tok.(string); tok != nil && !(isStr && s == "") {
			return nil, &posError{pos, fmt.Sprintf("operator %s takes no value, got %s", op, describeToken(tok))}
		}
	case tok == json.Delim('['):
		if err := p.elements(func(tok json.Token, at int) error { pos = at; return p.value(cl, tok, at) }); err != nil {
			return nil, err
		}
		if len(cl.vals) == 0 {
			return nil, &posError{pos, "empty list of values"}
		}
		if op != "=" && op != "!=" {
			return nil, &posError{pos, fmt.Sprintf("a list of values takes = or != (any of, none of), not %s", op)}
		}
	default:
		if err := p.value(cl, tok, pos); err != nil {
			return nil, err
		}
	}
	tok, pos, err = p.expect()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim(']') {
		return nil, &posError{pos, fmt.Sprintf("a clause is [column, operator, value]; unexpected %s", describeToken(tok))}
	}
	return &criteria{cl: cl}, nil
}

// value reads one value of a clause for its column's kind.
func (p *parser) value(cl *clause, tok json.Token, pos int) error {
	bad := func(want string) error {
		return &posError{pos, fmt.Sprintf("%s %s takes %s, got %s", cl.col.name, cl.op, want, describeToken(tok))}
	}
	s, isStr := tok.(string)
	num, isNum := tok.(json.Number)
	switch {
	case cl.op == "last" || cl.op == "next" || cl.op == "starting" || cl.op == "ending":
		if !isStr {
			return bad(`an ISO-8601 duration such as "P7D" or "-P1M"`)
		}
		d, err := parseISODuration(s)
		if err != nil {
			return &posError{pos, err.Error()}
		}
		switch cl.op {
		case "last":
			cl.from, cl.to = d.abs(-1).add(p.now), p.now
		case "next":
			cl.from, cl.to = p.now, d.abs(1).add(p.now)
		case "starting":
			cl.from = d.add(p.now)
		case "ending":
			cl.to = d.add(p.now)
		}
		if cl.col.kind == date { // a date column compares whole days
			cl.from, cl.to = dayOf(cl.from), dayOf(cl.to)
		}
		return nil
	case cl.col.kind == number || cl.col.kind == numbers:
		if isStr {
			num, isNum = json.Number(strings.TrimSpace(s)), true
		}
		f, err := num.Float64()
		if !isNum || err != nil || math.IsInf(f, 0) {
			return bad("a number")
		}
		cl.vals = append(cl.vals, f)
	case cl.col.kind == date || cl.col.kind == timestamp:
		if !isStr {
			return bad(`a date such as "2024-06-01" or "2024-06-01T12:00:00Z"`)
		}
		at, err := parseTime(s)
		if err != nil {
			return bad(`a date such as "2024-06-01" or "2024-06-01T12:00:00Z"`)
		}
		cl.days = cl.days || cl.col.kind == date || len(strings.TrimSpace(s)) == len(time.DateOnly)
		cl.vals = append(cl.vals, at)
	default:
		switch {
		case isStr:
			cl.vals = append(cl.vals, s)
		case isNum:
			cl.vals = append(cl.vals, num.String())
		default:
			if b, ok := tok.(bool); ok {
				cl.vals = append(cl.vals, strconv.FormatBool(b))
				return nil
			}
			return bad("a string")
		}
	}
	return nil
}

// match reports whether a row satisfies the criteria.
func (c *criteria) match(r row) bool {
	if c == nil {
		return true
	}
	if c.cl != nil {
		return c.cl.match(r[c.cl.col.name])
	}
	for _, it := range c.items {
		if it.match(r) == c.or {
			return c.or
		}
	}
	return !c.or
}

func (cl *clause) match(v any) bool {
	empty := v == nil || v == "" || cl.col.kind == numbers && len(asList(v)) == 0
	switch cl.op {
	case "is_empty":
		return empty
	case "is_not_empty":
		return !empty
	}
	if empty { // only a negated test holds for a missing value
		return cl.op == "!=" || strings.HasPrefix(cl.op, "not_")
	}
	switch cl.col.kind {
	case number:
		f, ok := toFloat(v)
		return ok && cl.compare(func(w any) int { return cmpFloat(f, w.(float64)) })
	case numbers: // a set holds when one of its numbers does; != when none is equal
		one := *cl
		one.col.kind = number
		if cl.op == "!=" {
			one.op = "="
		}
		for _, n := range asList(v) {
			if one.match(n) {
				return cl.op != "!="
			}
		}
		return cl.op == "!="
	case date, timestamp:
		at, err := parseTime(fmt.Sprint(v))
		if err != nil {
			return false
		}
		if cl.days {
			at = dayOf(at)
		}
		if cl.vals == nil {
			return (cl.from.IsZero() || !at.Before(cl.from)) && (cl.to.IsZero() || !at.After(cl.to))
		}
		return cl.compare(func(w any) int { return at.Compare(w.(time.Time)) })
	}
	// Text compares ignoring case; a negated operator holds when no value hits.
	neg := cl.op == "!=" || strings.HasPrefix(cl.op, "not_")
	s := strings.ToLower(fmt.Sprint(v))
	for _, w := range cl.vals {
		w := strings.ToLower(w.(string))
		var hit bool
		switch strings.TrimPrefix(cl.op, "not_") {
		case "=", "!=":
			hit = s == w
		case "begins_with":
			hit = strings.HasPrefix(s, w)
		case "contains":
			hit = strings.Contains(s, w)
		case "ends_with":
			hit = strings.HasSuffix(s, w)
		}
		if hit {
			return !neg
		}
	}
	return neg
}

// compare applies a comparison operator: with several values, = is "any
// of" and != "none of".
func (cl *clause) compare(c func(any) int) bool {
	if cl.op == "!=" {
		for _, w := range cl.vals {
			if c(w) == 0 {
				return false
			}
		}
		return true
	}
	for _, w := range cl.vals {
		n := c(w)
		switch cl.op {
		case "=":
			if n == 0 {
				return true
			}
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		case ">=":
			return n >= 0
		}
	}
	return false
}

// asList reads a set of numbers column's value.
func asList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case []int:
		out := make([]any, len(l))
		for i, n := range l {
			out[i] = n
		}
		return out
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// parseTime reads a date (YYYY-MM-DD, a day in UTC) or an RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// isoDuration is an ISO-8601 duration: calendar parts and a clock part.
type isoDuration struct {
	neg                 bool
	years, months, days int
	clock               time.Duration
}

var isoPattern = regexp.MustCompile(`^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$`)

func parseISODuration(s string) (isoDuration, error) {
	m := isoPattern.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || strings.HasSuffix(strings.ToUpper(s), "T") || strings.Trim(strings.ToUpper(s), "+-") == "P" {
		return isoDuration{}, fmt.Errorf("%q is not an ISO-8601 duration such as P7D, P1M, PT12H or -P1Y", s)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	d := isoDuration{neg: m[1] == "-", years: n(2), months: n(3), days: 7*n(4) + n(5)}
	d.clock = time.Duration(n(6))*time.Hour + time.Duration(n(7))*time.Minute
	if m[8] != "" {
		secs, _ := strconv.ParseFloat(strings.ReplaceAll(m[8], ",", "."), 64)
		d.clock += time.Duration(secs * float64(time.Second))
	}
	return d, nil
}

// add moves t by the duration, backwards when it is negative.
func (d isoDuration) add(t time.Time) time.Time {
	if d.neg {
		return t.AddDate(-d.years, -d.months, -d.days).Add(-d.clock)
	}
	return t.AddDate(d.years, d.months, d.days).Add(d.clock)
}

// abs is the duration with the sign of sign.
func (d isoDuration) abs(sign int) isoDuration {
	d.neg = sign < 0
	return d
}

// dayOf is the start of t's UTC day; the zero time stays zero.
func dayOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(24 * time.Hour)
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "a list"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return strconv.Quote(v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}
