package api_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/irego/irego/api"
)

func TestRelaxed(t *testing.T) {
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{`{"a": [1, 2], "b": "x,}"}`, `{"a": [1, 2], "b": "x,}"}`, false},
		{`{"a": "it's \"q\" \\"}`, `{"a": "it's \"q\" \\"}`, false},
		{`{'a': 'b'}`, `{"a": "b"}`, true},
		{`{'a': 'it\'s "q"', 'b': '\n\\'}`, `{"a": "it's \"q\"", "b": "\n\\"}`, true},
		{"{'a': [1, 2, ],\n 'b': {'c': 1,\n },\n}", "{\"a\": [1, 2 ],\n \"b\": {\"c\": 1\n }\n}", true},
		{`{"a": ",]", 'b': ',}'}`, `{"a": ",]", "b": ",}"}`, true},
		{`{'a': 'unterminated}`, `{"a": 'unterminated}`, true}, // left for the parser to reject
	} {
		got, changed := api.Relaxed([]byte(c.in))
		if string(got) != c.want || changed != c.changed {
			t.Errorf("Relaxed(%s) = %s, %v; want %s, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}

func TestDecodeRelaxed(t *testing.T) {
	decode := func(b []byte) (map[string]any, error) {
		var m map[string]any
		return m, json.Unmarshal(b, &m)
	}
	if m, err := api.DecodeRelaxed([]byte(`{'a': 1,}`), decode); err != nil || m["a"] != 1.0 {
		t.Errorf("relaxed: %v %v", m, err)
	}
	// Not JSON even relaxed: the strict parser's error stands.
	if _, err := api.DecodeRelaxed([]byte(`{'a': }`), decode); err == nil || err.Error() != "invalid character '\\'' looking for beginning of object key string" {
		t.Errorf("broken: %v", err)
	}
}

// FuzzRelaxed: JSON passes through unchanged, unchanged input comes out as
// it went in, and output that is valid JSON decodes.
func FuzzRelaxed(f *testing.F) {
	for _, s := range []string{`{"a": 1}`, `{'a': 'b',}`, `['it\'s', "\"", ]`, `{'a': '`, `"\\'`, `,]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, changed := api.Relaxed([]byte(s))
		if json.Valid([]byte(s)) && (changed || string(out) != s) {
			t.Fatalf("valid JSON %q became %q (changed %v)", s, out, changed)
		}
		if !changed && string(out) != s {
			t.Fatalf("unchanged input %q came out as %q", s, out)
		}
		if !json.Valid(out) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("valid output %q does not decode: %v", out, err)
		}
	})
}
