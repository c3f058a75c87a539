package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/irego/irego/internal/jsontree"
)

// jsonText draws a JSON-like text: mostly valid, with keys that repeat or
// differ only in case, strings with escapes, surrogates, control
// characters and invalid UTF-8, numbers of every form, odd whitespace, and
// now and then a byte changed, added or cut.
func jsonText(t *rapid.T) []byte {
	var sb strings.Builder
	ws := func() {
		sb.WriteString(rapid.SampledFrom([]string{"", "", "", " ", "\n\t", "\r "}).Draw(t, "ws"))
	}
	str := func(label string) {
		sb.WriteByte('"')
		for range rapid.IntRange(0, 4).Draw(t, label+"Len") {
			sb.WriteString(rapid.SampledFrom([]string{
				"a", "A", "name", "Name", "é", "É", "日本", "\u2028", "\ufffd", `\ufffd`,
				`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00e9`, `\u00C9`,
				`\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83dx`, `\u12`, `\x`, "\x01", "\x7f", "\xff", "\xe6\x97",
			}).Draw(t, label))
		}
		sb.WriteByte('"')
	}
	var value func(depth int)
	value = func(depth int) {
		ws()
		kind := rapid.IntRange(0, 6).Draw(t, "kind")
		if depth > 3 && kind < 2 {
			kind = 2
		}
		switch kind {
		case 0:
			sb.WriteByte('{')
			for i := range rapid.IntRange(0, 4).Draw(t, "members") {
				if i > 0 {
					sb.WriteByte(',')
				}
				ws()
				str("key")
				ws()
				sb.WriteByte(':')
				value(depth + 1)
			}
			ws()
			sb.WriteByte('}')
		case 1:
			sb.WriteByte('[')
			for i := range rapid.IntRange(0, 4).Draw(t, "elements") {
				if i > 0 {
					sb.WriteByte(',')
				}
				value(depth + 1)
			}
			ws()
			sb.WriteByte(']')
		case 2, 3:
			str("string")
		case 4:
			sb.WriteString(rapid.SampledFrom([]string{"0", "-0", "12", "1.5", "-2.50e+3", "2E-3", "1e9",
				"123456789012345678901234567890", "01", "1.", "-", "1e", "1e+", ".5", "+1", "0x1", "NaN"}).Draw(t, "number"))
		default:
			sb.WriteString(rapid.SampledFrom([]string{"true", "false", "null", "nul", "truex", "True"}).Draw(t, "literal"))
		}
		ws()
	}
	value(0)
	b := []byte(sb.String())
	if len(b) > 0 && rapid.IntRange(0, 5).Draw(t, "mutate") == 0 {
		i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0:
			b[i] = rapid.Byte().Draw(t, "byte")
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i], append([]byte{rapid.Byte().Draw(t, "byte")}, b[i:]...)...)
		}
	}
	return b
}

// jsontree takes exactly the JSON texts the straightforward checker of the
// model test passes, CheckJSON refuses the others with the model's message,
// and Parse builds the tree encoding/json builds: CheckJSON and payload
// decoding take its one pass.
func TestJSONTreeAgreesWithEncodingJSONAndTheChecker(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := jsonText(t)
		tree, parsed := jsontree.Parse(b)
		if _, clean := jsontree.Check(b); clean != parsed {
			t.Fatalf("Check = %v, Parse = %v for %q", clean, parsed, b)
		}
		model := modelCheckJSON(b)
		if got := CheckJSON(b); fmt.Sprint(got) != fmt.Sprint(model) {
			t.Fatalf("CheckJSON(%q) = %v, the model says %v", b, got, model)
		}
		if slowOK := json.Valid(b) && model == nil; parsed != slowOK {
			t.Fatalf("jsontree takes %q: %v; json.Valid and the model: %v (%v)", b, parsed, slowOK, model)
		}
		if !parsed {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v for %q", err, b)
		}
		if !reflect.DeepEqual(tree, want) {
			t.Fatalf("tree of %q:\n%#v\nencoding/json:\n%#v", b, tree, want)
		}
	})
}

// Nesting past encoding/json's limit is handed back for it to refuse.
func TestJSONTreeHandsBackDeepNesting(t *testing.T) {
	deep := []byte(strings.Repeat("[", 10001) + strings.Repeat("]", 10001))
	if _, ok := jsontree.Parse(deep); ok {
		t.Fatal("jsontree took 10001 nested arrays")
	}
	ok := []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	if _, parsed := jsontree.Parse(ok); !parsed {
		t.Fatal("jsontree refused 10000 nested arrays, which encoding/json takes")
	}
	if _, parsed := jsontree.Parse([]byte(`{"n":` + strconv.Itoa(7) + `}`)); !parsed {
		t.Fatal("jsontree refused a small object")
	}
}
