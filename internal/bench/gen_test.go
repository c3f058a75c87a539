package bench_test

import (
	"context"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
)

// With NativeKeys every item carries a native key of its own (the shared
// datacenter and account one per CI), and a chain sent again is found by
// them: all NO_CHANGE.
func TestGeneratorNativeKeys(t *testing.T) {
	e, err := engine.Open("", engine.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	g := bench.NewGenerator(1, 0)
	g.NativeKeys = true
	owner := map[string]string{} // native key → sys_id
	for range 30 {
		p := g.Next()
		res, err := e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
		if err != nil || res.HasError {
			t.Fatalf("%v %+v", err, res)
		}
		for i, it := range p.Items {
			if it.SourceInfo == nil || it.SourceInfo.SourceNativeKey == "" {
				t.Fatalf("item %d (%s) has no native key", i, it.ClassName)
			}
			k, id := it.SourceInfo.SourceNativeKey, res.Items[i].SysID
			if prev, ok := owner[k]; ok && prev != id {
				t.Fatalf("native key %s names %s and %s", k, prev, id)
			}
			owner[k] = id
		}
	}
	g.UpdateFraction, g.RepeatFraction = 0, 1
	for range 10 {
		res, err := e.Apply(context.Background(), "AWS", g.Next(), engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if it.Operation != "NO_CHANGE" {
				t.Fatalf("a repeated chain: %s %s", it.ClassName, it.Operation)
			}
		}
	}
}
