package servicenow

import (
	"testing"

	"github.com/irego/irego/payload"
)

// FuzzUsageBody: the usage decoders, JSON (relaxed) and XML, never panic
// and only accept items with column names and canonical values.
func FuzzUsageBody(f *testing.F) {
	for _, s := range []string{
		`{"items": [{"configuration_item": "c", "month_used": 2, "reclamation_type": "total_usage"}]}`,
		`{'items': [{'a': 1.5e3, 'b': null, 'c': true,}]}`,
		`<request><items><a>1</a><b/></items></request>`,
		`<items><item><a>x</a></item></items>`,
		`{"items": [{"a": {"b": 1}}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(items []usageItem, err error) {
			if err != nil {
				return
			}
			for _, it := range items {
				for _, c := range it {
					if !columnName(c.name) {
						t.Fatalf("accepted column %q", c.name)
					}
					if n, err := payload.Normalize(c.value); err != nil || n != c.value {
						t.Fatalf("column %s: value %#v is not canonical", c.name, c.value)
					}
				}
			}
		}
		check(decodeUsageXML([]byte(s)))
		check(decodeUsageJSON([]byte(s)))
	})
}

// FuzzTableQuery: any sysparm_query either parses or is refused, and a
// parsed one can be matched and sorted.
func FuzzTableQuery(f *testing.F) {
	for _, s := range []string{"name=a^ORname=b^cpu>2^ORDERBYDESCname", "a=b^NQc!=d^^e", "ORa=b", "nameIN1,2^xISEMPTY", "x<"} {
		f.Add(s)
	}
	rows := []map[string]string{{"sys_id": "1", "name": "a", "cpu": "4"}, {"sys_id": "2", "name": "B"}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuery(s)
		if err != nil {
			return
		}
		for _, r := range rows {
			q.match(r)
		}
		q.sort(rows)
	})
}
