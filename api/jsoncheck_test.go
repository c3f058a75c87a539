package api_test

import (
	"strings"
	"testing"

	"github.com/irego/irego/api"
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
