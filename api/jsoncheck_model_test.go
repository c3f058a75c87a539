package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckJSONAsBefore: CheckJSON, which writes out a field's path only
// for an error and compares keys without allocating, refuses exactly what
// the straightforward checker below refused, with the same message.
func FuzzCheckJSONAsBefore(f *testing.F) {
	for _, s := range []string{`{"a": [1, {"b": "c"}], "d": null}`, `{"a": 1, "A": 2}`, `{"a": {"x": 1, "x": 2}}`,
		`["\ud800", "x"]`, `{"k": "\u00e9", "e": {}}`, "\"\xff\"", `{"Ä": 1, "ä": 2}`, `{"a\u0041": 1, "aa": 2}`,
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":0,"k11":1,"k12":2,"k13":3,"k14":4,"k15":5,"k16":6,"K3":7}`,
		`[[{"a":[{"b":"\ud800"}]}]]`, `{"": 1, "": 2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := CheckJSON(b), modelCheckJSON(b)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: %v, the model says %v", b, got, want)
		}
	})
}

func modelCheckJSON(b []byte) error {
	if !json.Valid(b) {
		return nil
	}
	c := &modelChecker{b: b}
	return c.value("")
}

type modelChecker struct {
	b []byte
	i int
}

func (c *modelChecker) ws() {
	for c.i < len(c.b) && (c.b[c.i] == ' ' || c.b[c.i] == '\t' || c.b[c.i] == '\n' || c.b[c.i] == '\r') {
		c.i++
	}
}

// value checks the value at c.i, which json.Valid vouched for.
func (c *modelChecker) value(path string) error {
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
func (c *modelChecker) str(path string) (string, error) {
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
