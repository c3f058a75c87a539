package servicenow

import (
	"strings"
	"testing"
)

func TestQueryMatch(t *testing.T) {
	rows := []map[string]string{
		{"sys_id": "1", "name": "web01", "os": "Linux", "cpu": "4", "note": "a^b"},
		{"sys_id": "2", "name": "web02", "os": "Windows", "cpu": "16"},
		{"sys_id": "3", "name": "db01", "os": "linux", "cpu": "8"},
	}
	for _, c := range []struct{ query, want string }{
		{"", "1 2 3"},
		{"os=LINUX", "1 3"},
		{"os!=linux", "2"},
		{"nameENDSWITH01", "1 3"},
		{"nameNOTLIKEweb", "3"},
		{"osINwindows, Linux", "1 2 3"},
		{"osNOT INwindows", "1 3"},
		{"noteISEMPTY", "2 3"},
		{"note=a^^b", "1"},
		{"cpu<8", "1"},
		{"cpu<=8", "1 3"},
		{"cpu>4^cpu<16", "3"},
		{"cpuANYTHING", "1 2 3"},
		{"missingISEMPTY", "1 2 3"},
		{"missing>1", ""},
		// ^OR binds tighter than ^: (web01 or db01) and linux.
		{"name=web01^ORname=db01^os=linux", "1 3"},
		{"name=web02^ORname=db01^os=linux", "3"},
		{"os=windows^NQcpu=8", "2 3"},
		{"os=linux^EQ", "1 3"},
	} {
		q, err := parseQuery(c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		var got []string
		for _, r := range rows {
			if q.match(r) {
				got = append(got, r["sys_id"])
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %s", c.query, got, c.want)
		}
	}
}

func TestQuerySort(t *testing.T) {
	rows := []map[string]string{
		{"sys_id": "a", "cpu": "16", "os": "linux"},
		{"sys_id": "b", "cpu": "4", "os": "Linux"},
		{"sys_id": "c", "cpu": "8", "os": "windows"},
	}
	for query, want := range map[string]string{
		"ORDERBYcpu":               "b c a", // numerically, not as text
		"ORDERBYDESCcpu":           "a c b",
		"ORDERBYos^ORDERBYDESCcpu": "a b c", // ties broken by the next term
		"":                         "a b c", // by sys_id
	} {
		q, err := parseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		q.sort(rows)
		var got []string
		for _, r := range rows {
			got = append(got, r["sys_id"])
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %v, want %s", query, got, want)
		}
	}
	if _, err := parseQuery("ORDERBYName"); err == nil {
		t.Error("ORDERBY with a field name out of the allowed characters passed")
	}
}

func TestWantsXML(t *testing.T) {
	for accept, want := range map[string]bool{
		"": false, "application/json": false, "application/xml": true, "text/xml": true, "*/*": false,
		"application/xml, application/json": false, "application/json;q=0.5, application/xml": true,
		"application/xml;q=0": false, "text/html": false,
	} {
		if got := wantsXML(accept); got != want {
			t.Errorf("wantsXML(%q) = %v", accept, got)
		}
	}
}
