package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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
	if !json.Valid(b) {
		return nil
	}
	c := &jsonChecker{b: b}
	return c.value("")
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

type jsonChecker struct {
	b []byte
	i int
}

func (c *jsonChecker) ws() {
	for c.i < len(c.b) && (c.b[c.i] == ' ' || c.b[c.i] == '\t' || c.b[c.i] == '\n' || c.b[c.i] == '\r') {
		c.i++
	}
}

// value checks the value at c.i, which json.Valid vouched for.
func (c *jsonChecker) value(path string) error {
	c.ws()
	switch c.b[c.i] {
	case '{':
		c.i++
		seen := map[string]string{} // folded key → key as given
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
			key, err := c.str(path)
			if err != nil {
				return err
			}
			at := key
			if path != "" {
				at = path + "." + key
			}
			fold := strings.ToLower(key)
			if prev, ok := seen[fold]; ok && prev == key {
				return &JSONFieldError{Path: at, Reason: "given twice in one object; give each key once"}
			} else if ok {
				return &JSONFieldError{Path: at, Reason: fmt.Sprintf("keys %q and %q differ only in case; give one", prev, key)}
			}
			seen[fold] = key
			c.ws()
			c.i++ // ':'
			if err := c.value(at); err != nil {
				return err
			}
		}
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
			if err := c.value(path + "[" + strconv.Itoa(n) + "]"); err != nil {
				return err
			}
		}
	case '"':
		_, err := c.str(path)
		return err
	}
	for c.i < len(c.b) && !bytes.ContainsRune([]byte(",]} \t\r\n"), rune(c.b[c.i])) {
		c.i++ // number, true, false, null
	}
	return nil
}

// str reads the string at c.i and checks that it is valid UTF-8 and
// escapes no lone surrogate.
func (c *jsonChecker) str(path string) (string, error) {
	start := c.i
	c.i++
	for c.b[c.i] != '"' {
		if c.b[c.i] == '\\' {
			c.i++
		}
		c.i++
	}
	c.i++
	raw := c.b[start:c.i]
	var s string
	_ = json.Unmarshal(raw, &s) // valid, as json.Valid said
	bad := !utf8.Valid(raw)
	if !bad && strings.ContainsRune(s, utf8.RuneError) {
		// json turned an escaped lone surrogate into U+FFFD; one written
		// as such (raw or \ufffd) is fine.
		lit := strings.Count(string(raw), "\uFFFD") + strings.Count(strings.ToLower(string(raw)), `\ufffd`)
		bad = strings.Count(s, "\uFFFD") > lit
	}
	if bad {
		return "", &JSONFieldError{Path: path, Reason: "not valid UTF-8 text; send UTF-8"}
	}
	return s, nil
}
