package identify

import (
	"bytes"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// modelEntryKey is the plain statement of an entry's key: every attribute's
// text, a null marker for each blank one; no key when all are blank or a
// blank one is not allowed, or when the condition does not hold.
func modelEntryKey(e *rules.Entry, values map[string]any, scope string) ([]byte, string) {
	texts := make([]string, len(e.Attributes))
	nulls := make([]bool, len(e.Attributes))
	var missing []string
	for k, a := range e.Attributes {
		if Blank(values[a]) {
			nulls[k] = true
			missing = append(missing, a)
			continue
		}
		texts[k] = payload.Canonical(values[a])
	}
	if len(missing) == len(e.Attributes) || (len(missing) > 0 && !e.AllowNull) {
		return nil, "missing " + strings.Join(missing, ", ")
	}
	if e.When != nil {
		ok, err := e.When.Eval(values)
		if err != nil {
			return nil, err.Error()
		}
		if !ok {
			return nil, "condition is false: " + e.When.Source
		}
	}
	if scope == "" {
		scope = store.NoScope
	}
	return store.IdentityKey(e.ID, scope, texts, nulls), ""
}

// entryKey and entryKeyWhy give the model's key, and entryKeyWhy its
// reason, whatever the entry's attributes, nulls and condition.
func TestPropEntryKeyIsTheModels(t *testing.T) {
	attrs := []string{"name", "serial_number", "mac_address", "ip_address", "os", "a", "b"}
	conditions := []string{"", `name != "skip"`, `os startsWith "Linux"`, `serial_number > 3`}
	rapid.Check(t, func(t *rapid.T) {
		e := &rules.Entry{
			ID:         "00112233445566778899aabbccddeeff",
			Attributes: rapid.SliceOfNDistinct(rapid.SampledFrom(attrs), 0, 6, rapid.ID[string]).Draw(t, "attributes"),
			AllowNull:  rapid.Bool().Draw(t, "allowNull"),
		}
		if src := rapid.SampledFrom(conditions).Draw(t, "when"); src != "" {
			c, err := rules.CompileCondition(src)
			if err != nil {
				t.Fatal(err)
			}
			e.When = c
		}
		values := map[string]any{}
		for _, a := range attrs {
			switch rapid.IntRange(0, 4).Draw(t, a) {
			case 1:
				values[a] = rapid.SampledFrom([]string{"", " ", "\t"}).Draw(t, a+" blank")
			case 2:
				values[a] = rapid.SampledFrom([]string{"skip", "Linux 9", "host-1", "x"}).Draw(t, a+" text")
			case 3:
				values[a] = rapid.Float64Range(-10, 10).Draw(t, a+" number")
			case 4:
				values[a] = nil
			}
		}
		scope := rapid.SampledFrom([]string{"", "0123456789abcdef0123456789abcdef"}).Draw(t, "scope")
		wantKey, wantWhy := modelEntryKey(e, values, scope)
		if key := entryKey(e, values, scope); !bytes.Equal(key, wantKey) {
			t.Fatalf("entryKey %q; the model %q", key, wantKey)
		}
		key, why := entryKeyWhy(e, values, scope)
		if !bytes.Equal(key, wantKey) || why != wantWhy {
			t.Fatalf("entryKeyWhy %q %q; the model %q %q", key, why, wantKey, wantWhy)
		}
	})
}
