package store

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// KeyUnder finds a CI's sys_id wherever a key kind holds it, and in no
// key that does not name it; a CI's own record is under no CI.
func TestKeyUnder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hex := rapid.StringMatching(`[0-9a-f]{32}`)
		mine, other, third := hex.Draw(t, "mine"), hex.Draw(t, "other"), hex.Draw(t, "third")
		if mine == other || mine == third {
			t.Skip("the same sys_id twice")
		}
		text := rapid.StringMatching(`[a-z_]{1,12}`)
		class, source, relType := text.Draw(t, "class"), text.Draw(t, "source"), text.Draw(t, "type")
		value := rapid.String().Draw(t, "value")
		fresh := func(id []byte) bool { return string(id) == mine }
		under := map[string][]byte{
			"class":        ClassKey(class, mine),
			"source":       SourceKey(mine, source),
			"sub of":       SubKey(mine, other),
			"sub":          SubKey(other, mine),
			"out from":     OutKey(mine, relType, other),
			"out to":       OutKey(other, relType, mine),
			"in to":        InKey(mine, relType, other),
			"in from":      InKey(other, relType, mine),
			"scoped":       IdentityKey("entry", mine, []string{value}, []bool{false}),
			"index entry":  IndexKey("cmdb_ci", "name", value, mine, class),
			"index entry2": IndexKey(class, "serial_number", strings.ToUpper(value), mine, "cmdb_ci"),
		}
		notUnder := map[string][]byte{
			"record":         CIKey(mine),
			"other's class":  ClassKey(class, other),
			"other's source": SourceKey(other, source),
			"other's sub":    SubKey(other, third),
			"other's edge":   OutKey(other, relType, third),
			"other's in":     InKey(other, relType, third),
			"unscoped":       IdentityKey("entry", NoScope, []string{mine}, []bool{false}),
			"other's scope":  IdentityKey("entry", other, []string{mine}, []bool{false}),
			"other's entry":  IndexKey("cmdb_ci", "name", mine, other, class),
			"index count":    IndexCountKeyOf(IndexKey("cmdb_ci", "name", value, mine, class), mine),
			"setting":        SettingKey(mine),
		}
		for name, k := range under {
			if !KeyUnder(k, fresh) {
				t.Errorf("%s %q: not under %s", name, k, mine)
			}
		}
		for name, k := range notUnder {
			if KeyUnder(k, fresh) {
				t.Errorf("%s %q: under %s", name, k, mine)
			}
		}
	})
}
