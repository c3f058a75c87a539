package store

import (
	"encoding/binary"
	"strings"
	"testing"
)

// An identity key is built in one allocation of exactly its size, for
// values of every length prefix size.
func TestIdentityKeyBuiltToSize(t *testing.T) {
	for _, n := range []int{0, 1, 126, 127, 128, 16382, 16383, 16384, 1 << 21} {
		v := strings.Repeat("x", n)
		k := IdentityKey("cmdb_ci_computer.1", "0123456789abcdef0123456789abcdef", []string{v, "", "name"}, []bool{false, true, false})
		if cap(k) != len(k) {
			t.Errorf("a value of %d bytes: a key of %d bytes in %d", n, len(k), cap(k))
		}
		if allocs := testing.AllocsPerRun(10, func() { IdentityKey("e", NoScope, []string{v}, nil) }); allocs != 1 {
			t.Errorf("a value of %d bytes: %v allocations; want 1", n, allocs)
		}
	}
	for _, x := range []uint64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		if got, want := uvarintLen(x), len(binary.AppendUvarint(nil, x)); got != want {
			t.Errorf("uvarintLen(%d) = %d; binary.AppendUvarint writes %d", x, got, want)
		}
	}
}
