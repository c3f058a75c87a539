package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/irego/irego/internal/jsontree"
)

// CheckJSON refuses what encoding/json would resolve silently in a valid
// JSON text: a string that is not valid UTF-8 (or escapes a lone
// surrogate), which json would turn into U+FFFD so that two different
// byte strings become one; a key given twice in one object, of which json
// keeps the last; and two keys of one object that differ only in case, of
// which json fills one struct field with either. The error names the field
// by its path (items[0].values.name). Text that is not JSON at all passes:
// the decoder reports it with its position.
func CheckJSON(b []byte) error {
	if jsontree.Clean(b) {
		return nil // the usual text, in one pass
	}
	return checkJSON(b)
}

// checkJSON is CheckJSON for a text jsontree does not vouch for: it finds
// what to refuse and names it.
func checkJSON(b []byte) error {
	if !json.Valid(b) {
		return nil
	}
	c := &jsonChecker{b: b}
	return c.value()
}

// JSONFieldError is a field CheckJSON refuses.
type JSONFieldError struct {
	Path   string // e.g. items[0].values.name; "" for the whole text
	Reason string
}

// Error names the field and why it was refused.
func (e *JSONFieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return "field " + e.Path + ": " + e.Reason
}

// jsonChecker walks a text json.Valid vouched for. The path of the value
// at hand is kept as segments and written out only for an error, so a
// text that passes costs no allocation per value.
type jsonChecker struct {
	b    []byte
	i    int
	path []pathSegment
	// keys holds the keys of the objects being read, the innermost last.
	keys []seenKey
	// folds holds the keys put in lower case.
	folds []byte
}

// seenKey is an object key as given and in lower case.
type seenKey struct{ fold, key []byte }

// pathSegment is an object key, or an array index when key is nil.
type pathSegment struct {
	key   []byte
	index int
}

func (c *jsonChecker) fail(reason string) error {
	var sb strings.Builder
	for _, seg := range c.path {
		if seg.key == nil {
			sb.WriteString("[" + strconv.Itoa(seg.index) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(seg.key)
	}
	return &JSONFieldError{Path: sb.String(), Reason: reason}
}

func (c *jsonChecker) ws() {
	for c.i < len(c.b) && (c.b[c.i] == ' ' || c.b[c.i] == '\t' || c.b[c.i] == '\n' || c.b[c.i] == '\r') {
		c.i++
	}
}

// smallObject is how many keys an object's keys are compared with one by
// one before they go into a map.
const smallObject = 16

// value checks the value at c.i.
func (c *jsonChecker) value() error {
	c.ws()
	switch c.b[c.i] {
	case '{':
		return c.object()
	case '[':
		c.i++
		for n := 0; ; n++ {
			c.ws()
			if c.b[c.i] == ']' {
				c.i++
				return nil
			}
			if c.b[c.i] == ',' {
				c.i++
			}
			c.path = append(c.path, pathSegment{index: n})
			if err := c.value(); err != nil {
				return err
			}
			c.path = c.path[:len(c.path)-1]
		}
	case '"':
		_, err := c.str()
		return err
	}
	for c.i < len(c.b) && !isScalarEnd(c.b[c.i]) {
		c.i++ // number, true, false, null
	}
	return nil
}

func isScalarEnd(ch byte) bool {
	switch ch {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// object checks the object at c.i: no key twice, no two keys that differ
// only in case.
func (c *jsonChecker) object() error {
	c.i++
	base := len(c.keys) // this object's keys follow; past smallObject, a map
	defer func() { c.keys = c.keys[:base] }()
	var many map[string][]byte // folded key → key as given
	for {
		c.ws()
		if c.b[c.i] == '}' {
			c.i++
			return nil
		}
		if c.b[c.i] == ',' {
			c.i++
			c.ws()
		}
		raw, err := c.str()
		if err != nil {
			return err
		}
		key := keyText(raw)
		c.path = append(c.path, pathSegment{key: key})
		fold := c.folded(key)
		var prev []byte
		if many != nil {
			prev = many[string(fold)]
		} else {
			for _, k := range c.keys[base:] {
				if bytes.Equal(k.fold, fold) {
					prev = k.key
					break
				}
			}
		}
		if prev != nil && bytes.Equal(prev, key) {
			return c.fail("given twice in one object; give each key once")
		} else if prev != nil {
			return c.fail(fmt.Sprintf("keys %q and %q differ only in case; give one", prev, key))
		}
		switch {
		case many != nil:
			many[string(fold)] = key
		case len(c.keys)-base < smallObject:
			c.keys = append(c.keys, seenKey{fold, key})
		default:
			many = make(map[string][]byte, 2*smallObject)
			for _, k := range c.keys[base:] {
				many[string(k.fold)] = k.key
			}
			many[string(fold)] = key
		}
		c.ws()
		c.i++ // ':'
		if err := c.value(); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
	}
}

// keyText is the text of an object key: the bytes between the quotes
// when it escapes nothing. It is never nil.
func keyText(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1 : len(raw)-1]
	}
	return append([]byte{}, unquote(raw)...)
}

// folded is key in lower case as strings.ToLower gives it (in c.folds
// when it is ASCII with an upper-case letter).
func (c *jsonChecker) folded(key []byte) []byte {
	var fold []byte
	c.folds, fold = jsontree.AppendLower(c.folds, key)
	return fold
}

// str reads the string at c.i, quotes included, and checks that it is
// valid UTF-8 and escapes no lone surrogate.
func (c *jsonChecker) str() ([]byte, error) {
	start := c.i
	c.i++
	escaped := false
	for c.b[c.i] != '"' {
		if c.b[c.i] == '\\' {
			escaped = true
			c.i++
		}
		c.i++
	}
	c.i++
	raw := c.b[start:c.i]
	if !utf8.Valid(raw) {
		return nil, c.fail("not valid UTF-8 text; send UTF-8")
	}
	if escaped {
		s := unquote(raw)
		// json turns an escaped lone surrogate into U+FFFD; one written
		// as such (raw or \ufffd) is fine.
		if strings.ContainsRune(s, utf8.RuneError) {
			lit := strings.Count(string(raw), "\uFFFD") + strings.Count(strings.ToLower(string(raw)), `\ufffd`)
			if strings.Count(s, "\uFFFD") > lit {
				return nil, c.fail("not valid UTF-8 text; send UTF-8")
			}
		}
	}
	return raw, nil
}

// unquote is the text of a JSON string json.Valid vouched for.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
