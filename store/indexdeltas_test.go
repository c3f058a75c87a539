package store

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// Deltas read back as written, less the zero ones; every cut of the stored
// form is an error.
func TestPropIndexDeltasRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.MapOf(rapid.StringN(1, 40, -1), rapid.Int64()).Draw(t, "deltas")
		b := EncodeIndexDeltas(in)
		want := map[string]int64{}
		for k, d := range in {
			if d != 0 {
				want[k] = d
			}
		}
		if len(want) == 0 {
			if b != nil {
				t.Fatalf("no change encodes as %x, want nil", b)
			}
			return
		}
		got := map[string]int64{}
		err := DecodeIndexDeltas(b, func(k []byte, d int64) error {
			if _, dup := got[string(k)]; dup {
				t.Fatalf("key %q twice", k)
			}
			got[string(k)] = d
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("read %v, want %v", got, want)
		}
		for k, d := range want {
			if got[k] != d {
				t.Fatalf("key %q: read %d, want %d", k, got[k], d)
			}
		}
		for cut := 0; cut < len(b); cut++ {
			if err := DecodeIndexDeltas(b[:cut], func([]byte, int64) error { return nil }); err == nil {
				t.Fatalf("a cut at %d of %d bytes decodes", cut, len(b))
			}
		}
		if err := DecodeIndexDeltas(append(bytes.Clone(b), 0), func([]byte, int64) error { return nil }); err == nil {
			t.Fatal("a trailing byte decodes")
		}
	})
}

func TestIndexDeltaKeysSortByNumber(t *testing.T) {
	a, b := IndexDeltaKey(255), IndexDeltaKey(256)
	if bytes.Compare(a, b) >= 0 || !bytes.HasPrefix(a, IndexDeltasPrefix()) {
		t.Fatalf("keys %x and %x", a, b)
	}
	if n, ok := IndexDeltaSeq(b); !ok || n != 256 {
		t.Fatalf("IndexDeltaSeq(%x) = %d, %v", b, n, ok)
	}
	if _, ok := IndexDeltaSeq(IndexDeltaMarkKey()); ok {
		t.Fatal("the mark reads as a delta key")
	}
}
