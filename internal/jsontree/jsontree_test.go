package jsontree_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/irego/irego/internal/bench"
	"github.com/irego/irego/internal/jsontree"
)

// Whatever jsontree takes, encoding/json reads to the same tree. (The
// property in api checks the converse and the key rules against CheckJSON.)
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1,"A":2}`, `{"a":[1,"x",null,true,{"b":-1.5e3}]}`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\xff"`, ` 12 `, `01`, `{"a":1,}`, `[1 2]`} {
		f.Add([]byte(s))
	}
	chain, err := json.Marshal(bench.Chain(1, 0, 3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(chain)
	f.Fuzz(func(t *testing.T, b []byte) {
		tree, ok := jsontree.Parse(b)
		if _, clean := jsontree.Check(b); ok != clean {
			t.Fatalf("Parse and Check disagree on %q", b)
		}
		if !ok {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("jsontree took %q, which is not JSON", b)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tree, want) {
			t.Fatalf("tree of %q:\n%#v\nencoding/json:\n%#v", b, tree, want)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	body, err := json.Marshal(bench.Chain(1, 0, 3))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsontree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsontree.Parse(body)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		for b.Loop() {
			json.Valid(body)
		}
	})
	b.Run("Check", func(b *testing.B) {
		for b.Loop() {
			jsontree.Check(body)
		}
	})
}
