package store

import "testing"

func TestSplitNativeKeyReadsWhatNativeKeyWrites(t *testing.T) {
	for _, c := range [][2]string{{"SCCM", "k1"}, {"", ""}, {"a/b", "c\x00d"}, {"SCCM", string(make([]byte, 300))}} {
		name, key, ok := SplitNativeKey(NativeKey(c[0], c[1]))
		if !ok || name != c[0] || key != c[1] {
			t.Errorf("%q: got %q %q %v", c, name, key, ok)
		}
	}
	for _, bad := range [][]byte{append(NativeKeysPrefix(), 9), append(NativeKey("a", "b"), 'x')} {
		if _, _, ok := SplitNativeKey(bad); ok {
			t.Errorf("%q split", bad)
		}
	}
}
