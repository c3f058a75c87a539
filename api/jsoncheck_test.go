package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/irego/irego/api"
	"github.com/irego/irego/internal/bench"
)

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"items": [{"values": {"name": "caf\u00e9 ok", "x": "\ufffd literal"}}]}`, ""},
		{`{"items": [], "items": []}`, `field items: given twice in one object`},
		{`{"name": "sam", "roles": ["itil"], "Roles": ["admin"]}`, `field Roles: keys "roles" and "Roles" differ only in case`},
		{"{\"items\": [{\"values\": {\"name\": \"a\xffb\"}}]}", `field items[0].values.name: not valid UTF-8`},
		{`{"items": [{"values": {"name": "\ud800"}}]}`, `field items[0].values.name: not valid UTF-8`},
		{`{"a": {"b": 1}, "c": {"b": 2}}`, ""},
		{`[1, "x", {"k": [true, null]}]`, ""},
		{`not json`, ""},
	} {
		err := api.CheckJSON([]byte(c.in))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

// FuzzCheckJSON: CheckJSON never panics on any text, and passes no JSON
// text holding invalid UTF-8.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a": [1, {"b": "c"}], "d": null}`, `{"a": 1, "A": 2}`, `["\ud800", "x"]`, `{"k": "\u00e9", "e": {}}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := api.CheckJSON(b); err != nil || !json.Valid(b) {
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("passed invalid UTF-8: %q", b)
		}
	})
}

// BenchmarkCheckJSON checks a payload shaped like the load tool's: a chain
// of five CIs with three installs and four relations.
func BenchmarkCheckJSON(b *testing.B) {
	body, err := json.Marshal(bench.Chain(7, 0, 3))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := api.CheckJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
