package jsontree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: a deeper text is handed back,
// so that encoding/json refuses it.
const maxDepth = 10000

// Parse returns the tree of b and true when b is a text it vouches for
// (see the package comment); nil and false otherwise.
func Parse(b []byte) (any, bool) {
	p := newParser(b)
	p.build = true
	return p.text()
}

// Fault is the first field of a text that breaks one of the rules: a
// string that is not valid UTF-8 (or escapes a lone surrogate), a key given
// twice in one object, two keys of one object that differ only in case.
type Fault struct {
	Path   string // e.g. items[0].values.name; "" for the whole text
	Reason string
}

// Check says whether Parse would take b, without building the tree. When
// it would not, the fault names the first field that breaks a rule, or is
// nil when reading stopped at text that is not JSON (then any fault
// further on is moot); a fault before such text is returned as well, and
// only the caller can tell, with json.Valid, whether the text is JSON.
func Check(b []byte) (*Fault, bool) {
	p := newParser(b)
	_, ok := p.text()
	return p.fault, ok
}

// newParser reads b, with room for the paths and keys of usual texts.
func newParser(b []byte) *parser {
	return &parser{b: b, path: make([]segment, 0, 16), keys: make([]seenKey, 0, 32), folds: make([]byte, 0, 256)}
}

type parser struct {
	b     []byte
	i     int
	build bool
	depth int
	// keys holds the keys of the objects being read, as given and lower
	// cased, the innermost last.
	keys []seenKey
	// folds holds the keys lowered so far.
	folds []byte
	// path is where the parser is, written out only for a fault.
	path  []segment
	fault *Fault
}

// seenKey is an object key as given and in lower case.
type seenKey struct{ key, fold []byte }

// segment is an object key, or an array index.
type segment struct {
	key     []byte
	index   int
	isIndex bool
}

// fail notes why the field at the parser's path breaks a rule, and returns
// false for the caller to stop.
func (p *parser) fail(reason string) bool {
	var sb strings.Builder
	for _, seg := range p.path {
		if seg.isIndex {
			sb.WriteString("[" + strconv.Itoa(seg.index) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(seg.key)
	}
	p.fault = &Fault{Path: sb.String(), Reason: reason}
	return false
}

// badUTF8 is the reason a string fails with.
const badUTF8 = "not valid UTF-8 text; send UTF-8"

func (p *parser) text() (any, bool) {
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	p.ws()
	return v, p.i == len(p.b)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() (any, bool) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		raw, escaped, ok := p.str()
		switch {
		case !ok:
			return nil, false
		case escaped:
			s, ok := unescape(raw) // also when not building: it checks the surrogates
			if !ok {
				return nil, p.fail(badUTF8)
			}
			return s, true
		case p.build:
			return string(raw), true
		}
		return nil, true
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *parser) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (any, bool) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return nil, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return nil, false
		}
	}
	if !p.build {
		return nil, true
	}
	return json.Number(p.b[start:p.i]), true
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *parser) array() (any, bool) {
	p.i++ // '['
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	var out []any
	if p.build {
		out = []any{}
	}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, true
	}
	for n := 0; ; n++ {
		p.path = append(p.path, segment{index: n, isIndex: true})
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.path = p.path[:len(p.path)-1]
		if p.build {
			out = append(out, v)
		}
		if done, ok := p.next(']'); !ok || done {
			return out, ok
		}
	}
}

// next reads what follows a member or an element: a comma (then ok),
// or the closing byte (then done and ok).
func (p *parser) next(closing byte) (done, ok bool) {
	p.ws()
	switch {
	case p.i >= len(p.b):
		return false, false
	case p.b[p.i] == ',':
		p.i++
		return false, true
	case p.b[p.i] == closing:
		p.i++
		return true, true
	}
	return false, false
}

// smallObject is how many keys an object's keys are compared with one by
// one before they go into a set.
const smallObject = 16

func (p *parser) object() (any, bool) {
	p.i++ // '{'
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	var out map[string]any
	if p.build {
		out = map[string]any{}
	}
	base := len(p.keys)
	defer func() { p.keys = p.keys[:base] }()
	var many map[string][]byte // folded key → key as given, past smallObject
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return out, true
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		key, escaped, ok := p.str()
		if !ok {
			return nil, false
		}
		if escaped {
			s, ok := unescape(key)
			if !ok {
				return nil, p.fail(badUTF8)
			}
			key = []byte(s)
		}
		p.path = append(p.path, segment{key: key})
		// A key given twice, or two that differ only in case.
		var fold, prev []byte
		p.folds, fold = lower(p.folds, key)
		if many != nil {
			prev = many[string(fold)]
		} else {
			for _, k := range p.keys[base:] {
				if bytes.Equal(k.fold, fold) {
					prev = k.key
					break
				}
			}
		}
		switch {
		case prev != nil && bytes.Equal(prev, key):
			return nil, p.fail("given twice in one object; give each key once")
		case prev != nil:
			return nil, p.fail(fmt.Sprintf("keys %q and %q differ only in case; give one", prev, key))
		case many != nil:
			many[string(fold)] = key
		default:
			p.keys = append(p.keys, seenKey{key: key, fold: fold})
			if len(p.keys)-base > smallObject {
				many = make(map[string][]byte, 2*smallObject)
				for _, k := range p.keys[base:] {
					many[string(k.fold)] = k.key
				}
			}
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.path = p.path[:len(p.path)-1]
		if p.build {
			out[string(key)] = v
		}
		if done, ok := p.next('}'); !ok || done {
			return out, ok
		}
	}
}

// lower returns key in lower case as strings.ToLower gives it, and folds:
// key itself when it has no upper-case letter, an ASCII key lowered at the
// end of folds (so that lowering many keys allocates little), any other a
// copy.
func lower(folds, key []byte) (newFolds, lowered []byte) {
	upper := false
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return folds, []byte(strings.ToLower(string(key)))
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return folds, key
	}
	start := len(folds)
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		folds = append(folds, c)
	}
	return folds, folds[start:len(folds):len(folds)]
}

// str reads the string at p.i: its bytes between the quotes, and whether
// it escapes anything (unescape then makes its text). It refuses raw
// control characters and bad escapes, and fails invalid UTF-8.
func (p *parser) str() (raw []byte, escaped, ok bool) {
	p.i++ // '"'
	start := p.i
	wide := false
	for {
		if p.i >= len(p.b) {
			return nil, false, false
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if wide && !utf8.Valid(raw) {
				return nil, false, p.fail(badUTF8)
			}
			return raw, escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return nil, false, false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if p.i+5 > len(p.b) || !isHex4(p.b[p.i+1:p.i+5]) {
					return nil, false, false
				}
				p.i += 5
			default:
				return nil, false, false
			}
		default:
			wide = wide || c >= utf8.RuneSelf
			p.i++
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape is the text of a string's raw bytes, whose escapes str checked;
// false for an escaped lone surrogate (encoding/json would make it U+FFFD).
func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch e := raw[i+1]; e {
		case 'b':
			out, i = append(out, '\b'), i+2
		case 'f':
			out, i = append(out, '\f'), i+2
		case 'n':
			out, i = append(out, '\n'), i+2
		case 'r':
			out, i = append(out, '\r'), i+2
		case 't':
			out, i = append(out, '\t'), i+2
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if 0xD800 <= r && r < 0xDC00 {
				// A high surrogate must be followed by an escaped low one.
				if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
					return "", false
				}
				lo := hex4(raw[i+2 : i+6])
				if lo < 0xDC00 || lo > 0xDFFF {
					return "", false
				}
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			} else if 0xDC00 <= r && r <= 0xDFFF {
				return "", false
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out, i = append(out, e), i+2
		}
	}
	return string(out), true
}
