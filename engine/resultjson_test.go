package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"pgregory.net/rapid"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
)

// stdJSON is what the server wrote before AppendJSON: a json.Encoder
// without HTML escaping, its newline cut.
func stdJSON(t interface{ Fatal(...any) }, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Any result, nil and empty lists, odd text and all, encodes to the bytes
// encoding/json gives it.
func TestResultAppendJSONIsEncodingJSON(t *testing.T) {
	text := rapid.OneOf(
		rapid.SampledFrom([]string{"", "cmdb_ci_computer", "INSERT", "a\"b", `back\slash`, "<&>", "tab\there", "\x00\x1f\x7f",
			"é", "日本語", "\u2028\u2029", "\ufffd", "bad \xff utf8", "end \xe6\x97"}),
		rapid.String(),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, 8), func(b []byte) string { return string(b) }), // any bytes
	)
	strs := func() *rapid.Generator[[]string] {
		return rapid.Custom(func(t *rapid.T) []string {
			if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
				return nil
			}
			return rapid.SliceOfN(text, 0, 3).Draw(t, "strs")
		})
	}
	issues := rapid.Custom(func(t *rapid.T) []engine.Issue {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		n := rapid.IntRange(0, 2).Draw(t, "n")
		out := make([]engine.Issue, n)
		for i := range out {
			out[i] = engine.Issue{Code: text.Draw(t, "code"), Message: text.Draw(t, "message"), RuleSysID: text.Draw(t, "rule")}
		}
		return out
	})
	ints := rapid.Custom(func(t *rapid.T) []int {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		return rapid.SliceOfN(rapid.IntRange(-1, 1<<40), 0, 3).Draw(t, "ints")
	})
	attempts := rapid.Custom(func(t *rapid.T) []engine.Attempt {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		out := make([]engine.Attempt, rapid.IntRange(0, 3).Draw(t, "n"))
		for i := range out {
			out[i] = engine.Attempt{AttemptResult: text.Draw(t, "result"), Attributes: strs().Draw(t, "attrs"),
				HybridEntryCiAttributes: strs().Draw(t, "hybrid"), IdentifierName: text.Draw(t, "name"),
				SearchOnTable: text.Draw(t, "table"), Info: text.Draw(t, "info"), Candidate: text.Draw(t, "candidate")}
		}
		return out
	})
	indices := rapid.Custom(func(t *rapid.T) []engine.RelatedIndex {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		out := make([]engine.RelatedIndex, rapid.IntRange(0, 2).Draw(t, "n"))
		for i := range out {
			out[i] = engine.RelatedIndex{MainIndex: rapid.IntRange(0, 9).Draw(t, "main"), SubIndex: rapid.IntRange(0, 9).Draw(t, "sub"), Lookup: rapid.Bool().Draw(t, "lookup")}
		}
		return out
	})
	related := rapid.Custom(func(t *rapid.T) []engine.RelatedResult {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		out := make([]engine.RelatedResult, rapid.IntRange(0, 2).Draw(t, "n"))
		for i := range out {
			out[i] = engine.RelatedResult{ClassName: text.Draw(t, "class"), Operation: text.Draw(t, "op"), SysID: text.Draw(t, "sysid"),
				IdentificationAttempts: attempts.Draw(t, "attempts"), Errors: issues.Draw(t, "errors"), ErrorCount: rapid.IntRange(0, 3).Draw(t, "ec"),
				Warnings: issues.Draw(t, "warnings"), WarningCount: rapid.IntRange(0, 3).Draw(t, "wc"),
				InputIndices: indices.Draw(t, "in"), DuplicateIndices: indices.Draw(t, "dup"), MergedPayloadIDs: strs().Draw(t, "merged"),
				PartialSysIDs: strs().Draw(t, "partial"), IncompleteSysIDs: strs().Draw(t, "incomplete"), Markers: strs().Draw(t, "markers")}
		}
		return out
	})
	items := rapid.Custom(func(t *rapid.T) []engine.ItemResult {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		out := make([]engine.ItemResult, rapid.IntRange(0, 3).Draw(t, "n"))
		for i := range out {
			var infos []engine.Info
			if rapid.Bool().Draw(t, "infos") {
				infos = []engine.Info{}
				for range rapid.IntRange(0, 2).Draw(t, "ninfo") {
					infos = append(infos, engine.Info{Code: text.Draw(t, "code"), Message: text.Draw(t, "message"), RuleSysID: text.Draw(t, "rule")})
				}
			}
			var lookups []*string
			if rapid.Bool().Draw(t, "lookups") {
				lookups = []*string{}
				for range rapid.IntRange(0, 2).Draw(t, "nlookup") {
					if rapid.Bool().Draw(t, "null") {
						lookups = append(lookups, nil)
					} else {
						s := text.Draw(t, "lookup")
						lookups = append(lookups, &s)
					}
				}
			}
			out[i] = engine.ItemResult{ClassName: text.Draw(t, "class"), Operation: text.Draw(t, "op"), SysID: text.Draw(t, "sysid"),
				IdentifierEntrySysID: text.Draw(t, "entry"), IdentificationAttempts: attempts.Draw(t, "attempts"),
				Errors: issues.Draw(t, "errors"), ErrorCount: rapid.IntRange(0, 3).Draw(t, "ec"),
				Warnings: issues.Draw(t, "warnings"), WarningCount: rapid.IntRange(0, 3).Draw(t, "wc"), Info: infos,
				InputIndices: ints.Draw(t, "in"), DuplicateIndices: ints.Draw(t, "dup"), MaskedAttributes: strs().Draw(t, "masked"),
				RelatedItems: related.Draw(t, "related"), AdditionalRelatedItems: related.Draw(t, "additional"),
				RelatedSysIDs: lookups, MergedPayloadIDs: strs().Draw(t, "merged"),
				PartialSysIDs: strs().Draw(t, "partial"), IncompleteSysIDs: strs().Draw(t, "incomplete"), Markers: strs().Draw(t, "markers"),
				Explanation: text.Draw(t, "explanation")}
		}
		return out
	})
	relations := rapid.Custom(func(t *rapid.T) []engine.RelationResult {
		if rapid.IntRange(0, 4).Draw(t, "nil") == 0 {
			return nil
		}
		out := make([]engine.RelationResult, rapid.IntRange(0, 2).Draw(t, "n"))
		for i := range out {
			out[i] = engine.RelationResult{ClassName: text.Draw(t, "class"), Operation: text.Draw(t, "op"), SysID: text.Draw(t, "sysid"),
				Type: text.Draw(t, "type"), Parent: text.Draw(t, "parent"), Child: text.Draw(t, "child"), Errors: issues.Draw(t, "errors"),
				ErrorCount: rapid.IntRange(0, 3).Draw(t, "ec"), InputIndices: ints.Draw(t, "in"), IdentifierEntrySysID: text.Draw(t, "entry"),
				MergedPayloadIDs: strs().Draw(t, "merged"), PartialSysIDs: strs().Draw(t, "partial"),
				IncompleteSysIDs: strs().Draw(t, "incomplete"), Markers: strs().Draw(t, "markers")}
		}
		return out
	})
	rapid.Check(t, func(t *rapid.T) {
		res := &engine.Result{Items: items.Draw(t, "items"), Relations: relations.Draw(t, "relations"),
			AdditionalCommittedItems: items.Draw(t, "additionalItems"), AdditionalCommittedRelations: relations.Draw(t, "additionalRelations"),
			HasError: rapid.Bool().Draw(t, "hasError"), HasWarning: rapid.Bool().Draw(t, "hasWarning")}
		if rapid.Bool().Draw(t, "summary") {
			res.Summary = map[string]*engine.ClassSummary{text.Draw(t, "summaryClass"): {Inserted: rapid.IntRange(0, 9).Draw(t, "inserted")}, "other": nil}
		}
		got, want := res.AppendJSON([]byte("prefix:")), append([]byte("prefix:"), stdJSON(t, res)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}

// The result of a real payload encodes the same both ways.
func TestResultAppendJSONOfAnApply(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := range 3 {
		res, err := e.Apply(context.Background(), "ServiceNow", bench.Chain(i, 0, 3), engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.AppendJSON(nil), stdJSON(t, res); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func BenchmarkResultJSON(b *testing.B) {
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	res, err := e.Apply(context.Background(), "ServiceNow", bench.Chain(0, 0, 3), engine.DefaultApplyOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = res.AppendJSON(buf[:0]) // the server reuses its buffers
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			stdJSON(b, res)
		}
	})
}
