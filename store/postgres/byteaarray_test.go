package postgres

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"pgregory.net/rapid"
)

// The fast bytea[] encoding sends exactly what pgx's own encoding of the
// same [][]byte sends: empty arrays, empty and nil (NULL) elements included.
func TestByteaArrayEncodesAsPgx(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var a [][]byte
		if !rapid.Bool().Draw(t, "nil") {
			n := rapid.IntRange(0, 20).Draw(t, "n")
			a = make([][]byte, n)
			for i := range a {
				if rapid.IntRange(0, 9).Draw(t, "null") > 0 {
					a[i] = rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "elem")
				}
			}
		}
		prefix := []byte("prefix")
		want, err := pgtype.NewMap().Encode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, a, bytes.Clone(prefix))
		if err != nil {
			t.Fatal(err)
		}
		m := pgtype.NewMap()
		useByteaArrayCodec(m)
		useByteaArrayCodec(m) // a second time changes nothing
		if _, ok := m.PlanEncode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, byteaArray(a)).(byteaArrayPlan); !ok {
			t.Fatal("byteaArray is not encoded by byteaArrayPlan")
		}
		got, err := m.Encode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, byteaArray(a), bytes.Clone(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%q encodes as\n%x\nwant (pgx)\n%x", a, got, want)
		}
	})
}
