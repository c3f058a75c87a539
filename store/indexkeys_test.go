package store

import (
	"bytes"
	"cmp"
	"math"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// values mixes empties, numbers (equal ones written apart, NaN, -0),
// text in either case, prefixes of one another and escaped bytes.
var indexValues = []string{"", "0", "-0", "1", "1.0", "1e0", "10", "9", "-3", "2.5", "NaN", "inf", "-Inf", "1e400",
	"a", "A", "ab", "Ab", "a\x00", "a\x00b", "a\x01", "b", "host-1", "HOST-10", "host-2", "ü", "Ü", "\xff", "z\x00\xff"}

// Keys sort as CompareIndexed orders values; an entry gives back its
// sys_id, class and exact value; no bucket holds another value's entries;
// a text prefix holds exactly the text values that start with it.
func TestIndexKeysOrderAndParseProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.OneOf(rapid.SampledFrom(indexValues), rapid.String())
		a, b := gen.Draw(t, "a"), gen.Draw(t, "b")
		ka, kb := IndexBucket("cmdb_ci", "name", a), IndexBucket("cmdb_ci", "name", b)
		if got, want := bytes.Compare(ka, kb), cmp.Compare(CompareIndexed(a, b), 0); got != want {
			t.Fatalf("%q vs %q: keys compare %d, values %d", a, b, got, want)
		}
		id := "0123456789abcdef0123456789abcdef"
		ea := IndexKey("cmdb_ci", "name", a, id, "cmdb_ci_computer")
		e, err := ParseIndexEntry(ea)
		if err != nil {
			t.Fatal(err)
		}
		if e.SysID != id || e.Class != "cmdb_ci_computer" || e.Value != a || !bytes.Equal(ea[:e.Bucket], ka) {
			t.Fatalf("%q: parsed %+v", a, e)
		}
		if CompareIndexed(a, b) != 0 && bytes.HasPrefix(ea, kb) {
			t.Fatalf("the bucket of %q holds the entry of %q", b, a)
		}
		_, num := IndexNumber(a)
		want := a != "" && !num && strings.HasPrefix(strings.ToLower(a), strings.ToLower(b))
		if got := bytes.HasPrefix(ea, IndexTextPrefix("cmdb_ci", "name", b)); got != want {
			t.Fatalf("text prefix %q holds %q: %v, want %v", b, a, got, want)
		}
		if got := bytes.HasPrefix(ea, IndexNumbersPrefix("cmdb_ci", "name")); got != (a != "" && num) {
			t.Fatalf("numbers hold %q: %v", a, got)
		}
		ck, err := IndexCountKeyOfEntry(ea)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ck, append(IndexCountPrefix("cmdb_ci", "name", a), id[:IndexChunkLen]...)) {
			t.Fatalf("%q: count key %q", a, ck)
		}
	})
}

// A damaged entry is an error naming it, never a panic.
func TestParseIndexEntryCorrupt(t *testing.T) {
	good := IndexKey("cmdb_ci", "name", "Web", "0123456789abcdef0123456789abcdef", "cmdb_ci_computer")
	for i := range len(good) {
		if _, err := ParseIndexEntry(good[:i]); err == nil && i < len(good)-len("Web") {
			t.Errorf("%q parsed", good[:i])
		}
	}
	if _, err := ParseIndexEntry([]byte("v1/ix/\x07cmdb_ci\x04name\x09x")); err == nil {
		t.Error("an unknown value tag parsed")
	}
}

// Any bytes under the index prefix parse to an entry or an error, never a
// panic; what parses gives its bucket back, and an entry built from what
// was parsed parses the same.
func FuzzParseIndexEntry(f *testing.F) {
	f.Add(IndexKey("cmdb_ci", "name", "Web", "0123456789abcdef0123456789abcdef", "cmdb_ci_computer"))
	f.Add(IndexKey("cmdb_ci", "name", "", "ab", "x"))
	f.Add(IndexKey("cmdb_ci", "ram", "1.0", "ab", "x"))
	f.Add(IndexKey("cmdb_ci", "name", "a\x00b", "ab", "x"))
	f.Fuzz(func(t *testing.T, k []byte) {
		e, err := ParseIndexEntry(k)
		if err != nil {
			return
		}
		if _, err := IndexCountKeyOfEntry(k); err != nil {
			t.Fatalf("%q parses but has no count key: %v", k, err)
		}
		if e.Bucket > len(k) || !bytes.HasPrefix(k, prefixIndex) {
			t.Fatalf("%q: bucket %d", k, e.Bucket)
		}
	})
}

// IndexNumber's quick refusal of texts that cannot be numbers refuses none
// that strconv.ParseFloat reads.
func TestIndexNumberIsParseFloat(t *testing.T) {
	numberish := rapid.StringOf(rapid.SampledFrom([]rune("0123456789+-._eEpPxXaAfFiInNtTyY \u00e9")))
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.OneOf(numberish, rapid.String(), rapid.SampledFrom(indexValues)).Draw(t, "v")
		f, ok := IndexNumber(v)
		want, err := strconv.ParseFloat(v, 64)
		if ok != (err == nil) || (ok && f != want && !(math.IsNaN(f) && math.IsNaN(want))) {
			t.Fatalf("IndexNumber(%q) = %v, %v; ParseFloat gives %v, %v", v, f, ok, want, err)
		}
	})
	for _, v := range []string{"Inf", "-infinity", "NaN", "nan", ".5", "+1", "0x1p-2", "1_000", "1e3", "infinite", "n"} {
		_, ok := IndexNumber(v)
		_, err := strconv.ParseFloat(v, 64)
		if ok != (err == nil) {
			t.Errorf("IndexNumber(%q) ok=%v, ParseFloat error %v", v, ok, err)
		}
	}
}
