package ilmt

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var critTable = &table{columns: []column{
	{name: "name"}, {name: "cores", kind: number}, {name: "seen", kind: date}, {name: "at", kind: timestamp}, {name: "tags", kind: list},
	{name: "types", kind: numbers},
}, aliases: map[string]string{"host_name": "name"}}

var critNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

var critRows = []row{
	{"name": "ibm-dedicated-1", "cores": 4, "seen": "2026-03-01", "at": "2026-03-02T08:00:00Z", "types": []int{1, 3}},
	{"name": "IBM-shared-1", "cores": 8.0, "seen": "2026-01-15", "at": "2026-01-15T08:00:00Z", "types": []any{2.0}},
	{"name": "", "cores": nil, "seen": "2026-04-01", "at": nil, "types": nil},
}

// TestCriteria runs the documented operators and the looser forms real
// clients send; want is the indexes of critRows that match.
func TestCriteria(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"and": [["name", "contains", "IBM"]]}`, "0 1"},
		{`{"and": [["name", "begins_with", "ibm-d"], ["cores", ">=", 4]]}`, "0"},
		{`{"or": [["cores", "=", 4], ["cores", "=", "8"]]}`, "0 1"},
		{`{"and": [["cores", "!=", [4, 8]]]}`, "2"},
		{`{"and": [["cores", "<", 8]]}`, "0"},
		{`{"and": [["name", "not_contains", "shared"]]}`, "0 2"},
		{`{"and": [["name", "ends_with", "-1"], ["name", "not_ends_with", "cated-1"]]}`, "1"},
		{`{"and": [["name", "not_begins_with", "ibm"]]}`, "2"},
		{`{"and": [["name", "is_empty"]]}`, "2"},
		{`{"and": [["cores", "is_not_empty", null]]}`, "0 1"},
		{`{"and": [["seen", "last", "P7D"]]}`, "0"},
		{`{"and": [["seen", "next", "P1M"]]}`, "2"},
		{`{"and": [["seen", "starting", "-P30D"]]}`, "0 2"},
		{`{"and": [["seen", "ending", "-P30D"]]}`, "1"},
		{`{"and": [["at", "last", "PT12H"]]}`, "0"},
		{`{"and": [["at", "=", "2026-03-02"]]}`, "0"},
		{`{"and": [["seen", ">", "2026-02-01"]]}`, "0 2"},
		{`{"or": [{"and": [["cores", ">", 1], ["name", "contains", "shared"]]}, ["seen", "=", "2026-04-01"]]}`, "1 2"},
		{`{"and": []}`, "0 1 2"},
		// Looser forms.
		{`{'AND': [['host_name', 'Begins With', 'ibm'],]}`, "0 1"},
		{`["cores", "==", 8]`, "1"},
		{`{"and": [["cores", "<>", 4]]}`, "1 2"},
		{` { "Or" : [ [ "name" , "starts_with" , "IBM-S" ] ] } `, "1"},
		{`{"and": [["name", "=", 4]]}`, ""},
		// A set of numbers holds when a member does.
		{`{"and": [["types", ">", "2"]]}`, "0"},
		{`{"and": [["types", "=", 2]]}`, "1"},
		{`{"and": [["types", "!=", "3"]]}`, "1 2"},
		{`{"and": [["types", "is_empty"]]}`, "2"},
		{`{"and": [["types", ">", -1]]}`, "0 1"},
	} {
		crit, err := parseCriteria(c.in, critTable, critNow)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		var got []string
		for i, r := range critRows {
			if crit.match(r) {
				got = append(got, strconv.Itoa(i))
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s matches %q, want %q", c.in, g, c.want)
		}
	}
}

// TestCriteriaErrors: each fault names where it is.
func TestCriteriaErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `at character 1: empty`},
		{`{"and": [["name", "like", "x"]]}`, `at character 19: unknown operator "like"; the operators are =, !=,`},
		{`{"nand": []}`, `at character 2: unknown connector "nand"`},
		{`{"and": [["nome", "=", "x"]]}`, `at character 11: unknown column "nome"; the columns are name, cores, seen, at, tags`},
		{`{"and": [["tags", "=", "x"]]}`, `at character 11: unknown column "tags"`},
		{`{"and": [["name", "<", "x"]]}`, `at character 19: operator < does not apply to name, a text column`},
		{`{"and": [["cores", "=", "four"]]}`, `at character 25: cores = takes a number, got "four"`},
		{`{"and": [["seen", "last", "7 days"]]}`, `at character 27: "7 days" is not an ISO-8601 duration`},
		{`{"and": [["seen", "last", "P"]]}`, `is not an ISO-8601 duration`},
		{`{"and": [["seen", "=", "yesterday"]]}`, `at character 24: seen = takes a date`},
		{`{"and": [["name", "="]]}`, `at character 22: operator = needs a value`},
		{`{"and": [["name", "is_empty", "x"]]}`, `at character 31: operator is_empty takes no value`},
		{`{"and": [["name", "=", "x", "y"]]}`, `at character 29: a clause is [column, operator, value]; unexpected "y"`},
		{`{"and": [["name", "contains", ["a"]]]}`, `a list of values takes = or != (any of, none of), not contains`},
		{`{"and": [], "or": []}`, `at character 13: one connector per criteria object`},
		{`[["name", "=", "x"], ["cores", "=", 1]]`, `at character 1: a list of criteria needs a connector`},
		{`{"and": [["name", "=", "x"]]} x`, `at character 31: not JSON`},
		{`{"and": [["name" "=", "x"]]}`, `at character 18: not JSON: invalid character '"' after array element`},
		{`{"and": "x"}`, `at character 9: "and" takes a list of criteria, got "x"`},
		{`{"and": [1]}`, `at character 10: expected a clause [column, operator, value] or nested criteria, got number 1`},
		{`42`, `at character 1: expected {"and": [...]} or {"or": [...]}, got number 42`},
	} {
		_, err := parseCriteria(c.in, critTable, critNow)
		var pe *posError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

func TestISODuration(t *testing.T) {
	base := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"P1M": "2026-03-03T00:00:00Z", "-P1Y": "2025-01-31T00:00:00Z", "P2W": "2026-02-14T00:00:00Z",
		"PT1H30M": "2026-01-31T01:30:00Z", "P1DT0.5S": "2026-02-01T00:00:00Z", "+p1d": "2026-02-01T00:00:00Z",
	} {
		d, err := parseISODuration(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := d.add(base).Truncate(time.Second).Format(time.RFC3339); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"P", "PT", "1D", "P1H", "P-1D", ""} {
		if _, err := parseISODuration(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

// FuzzCriteria: the parser never panics, every error names a position
// inside the text (or just past it), and whatever parses can be evaluated.
func FuzzCriteria(f *testing.F) {
	for _, s := range []string{
		`{"and": [["name", "contains", "IBM"]]}`,
		`{"or": [{"and": [["cores", ">", 1], ["name", "contains", "x"]]}, ["seen", "last", "P1M"]]}`,
		`{'and': [['at', 'starting', '-PT12H'],]}`,
		`["cores", "!=", [1, 2, "3"]]`,
		`{"and": [["name", "is_empty"]]}`,
		`{"and": [["seen", "=", "2026-03-01"]]}`,
		`{"and": [["types", ">", "-1"], ["types", "!=", [2, "3"]]]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		crit, err := parseCriteria(in, critTable, critNow)
		if err != nil {
			var pe *posError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error without a position: %v", in, err)
			}
			if pe.pos < 1 || pe.pos > len(in)+1 {
				t.Fatalf("%q: position %d outside 1..%d: %v", in, pe.pos, len(in)+1, err)
			}
			return
		}
		for _, r := range critRows {
			crit.match(r)
		}
	})
}
