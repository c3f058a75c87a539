package jsontree

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: a deeper text is handed back,
// so that encoding/json refuses it.
const maxDepth = 10000

// Parse returns the tree of b and true when b is a text it vouches for
// (see the package comment); nil and false otherwise.
func Parse(b []byte) (any, bool) {
	p := parser{b: b, build: true}
	return p.text()
}

// Clean says whether Parse would take b, without building the tree.
func Clean(b []byte) bool {
	p := parser{b: b}
	_, ok := p.text()
	return ok
}

type parser struct {
	b     []byte
	i     int
	build bool
	depth int
	// keys holds the lower-cased keys of the objects being read, the
	// innermost last.
	keys [][]byte
	// folds holds the keys lowered so far.
	folds []byte
}

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
			return s, ok
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
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
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
	var many map[string]bool // the folded keys, past smallObject
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
				return nil, false
			}
			key = []byte(s)
		}
		// A key given twice, or two that differ only in case: CheckJSON
		// names them.
		var fold []byte
		p.folds, fold = AppendLower(p.folds, key)
		switch {
		case many != nil:
			if many[string(fold)] {
				return nil, false
			}
			many[string(fold)] = true
		default:
			for _, k := range p.keys[base:] {
				if bytes.Equal(k, fold) {
					return nil, false
				}
			}
			p.keys = append(p.keys, fold)
			if len(p.keys)-base > smallObject {
				many = make(map[string]bool, 2*smallObject)
				for _, k := range p.keys[base:] {
					many[string(k)] = true
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
		if p.build {
			out[string(key)] = v
		}
		if done, ok := p.next('}'); !ok || done {
			return out, ok
		}
	}
}

// AppendLower returns key in lower case as strings.ToLower gives it, and
// folds: key itself when it has no upper-case letter, an ASCII key lowered
// at the end of folds (so that lowering many keys allocates little), any
// other a copy. api.CheckJSON lowers keys the same way.
func AppendLower(folds, key []byte) (newFolds, lower []byte) {
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
// control characters, bad escapes and invalid UTF-8.
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
				return nil, false, false
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
