package servicenow_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

const usagePath = "/api/now/sam_software_usage_integration/createOrUpdate"

// shellBody is what the shell makes of a double-quoted curl -d argument
// the seed prints: a backslash before a newline joins the lines.
func shellBody(s string) string { return strings.ReplaceAll(s, "\\\n", "") }

// The seed's two curl examples, their -d arguments verbatim.
var (
	seedUsageOne = shellBody(`{'items': [\
  {
    'configuration_item':'eaa9604d3790200044e0bfc8bcbe5dc1',\
    'month_used':2,\
    'norm_product':'40209c060b3022002d6c650d37673a89',\
    'norm_publisher':'24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type':'total_usage',\
    'usage_count': 13,\
    'total_usage_time':13,\
    'year':2020
  }\
]}`)
	seedUsageMany = shellBody(`{'items': [\
  {\
    'configuration_item': 'eaa9604d3790200044e0bfc8bcbe5dc1',\
    'month_used': 2,\
    'norm_product': '40209c060b3022002d6c650d37673a89',\
    'norm_publisher': '24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type': 'total_usage',\
    'usage_count': 13,\
    'total_usage_time': 13,\
    'year': 2020
  },
  {\
    'configuration_item': '0aa9e80d3790200044e0bfc8bcbe5da0',\
    'month_used': 2,\
    'norm_product': '40209c060b3022002d6c650d37673a89',\
    'norm_publisher': '24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type': 'total_usage',\
    'usage_count': 19,\
    'total_usage_time': 19,\
    'year': 2020
  },
  {\
    'configuration_item': 'a0a9a80d3790200044e0bfc8bcbe5d3c',\
    'month_used': 2,\
    'norm_product': '40209c060b3022002d6c650d37673a89',\
    'norm_publisher': '24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type': 'total_usage',\
    'usage_count': 7,\
    'total_usage_time': 7,\
    'year': 2020},
  {\
    'configuration_item': '48a9280d3790200044e0bfc8bcbe5d55',\
    'month_used': 2,\
    'norm_product': '40209c060b3022002d6c650d37673a89',\
    'norm_publisher': '24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type': 'total_usage',\
    'usage_count': 1,\
    'total_usage_time': 1,\
    'year': 2020},
  {\
    'configuration_item': '61a9680d3790200044e0bfc8bcbe5d11',\
    'month_used': 2,\
    'norm_product': '40209c060b3022002d6c650d37673a89',\
    'norm_publisher': '24dcccc20b3022002d6c650d37673ab3',\
    'reclamation_type': 'total_usage',\
    'usage_count': 18,\
    'total_usage_time': 18,\
    'year': 2020}
]}`)
)

// usageReply is the JSON reply; Raw keeps each item to check its key order.
type usageReply struct {
	Result struct {
		Reply struct {
			Items []json.RawMessage `json:"items"`
		} `json:"reply"`
		Message string `json:"message"`
	} `json:"result"`
}

type usageItem struct {
	ConfigurationItem string `json:"configuration_item"`
	SysID             string `json:"sysId"`
	Status            string `json:"status"`
	Errors            []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (r usageReply) items(t *testing.T) []usageItem {
	t.Helper()
	out := make([]usageItem, len(r.Result.Reply.Items))
	for i, raw := range r.Result.Reply.Items {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func statuses(items []usageItem) string {
	var s []string
	for _, it := range items {
		s = append(s, it.Status)
	}
	return strings.Join(s, " ")
}

// keys returns the keys of a JSON object in the order they appear.
func keys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token()
	var out []string
	for dec.More() {
		k, _ := dec.Token()
		out = append(out, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return out
}

func TestUsageSeedExamples(t *testing.T) {
	v := newEnv(t)
	var one usageReply
	v.call(t, request{user: "sam", method: "POST", path: usagePath, body: seedUsageOne, accept: "application/json"}, 200, &one)
	items := one.items(t)
	if one.Result.Message != "Ok" || statuses(items) != "INSERT" || len(items[0].SysID) != 32 {
		t.Fatalf("first example: %s %+v", one.Result.Message, items)
	}
	want := []string{"configuration_item", "month_used", "norm_product", "norm_publisher", "reclamation_type", "usage_count", "total_usage_time", "year", "sysId", "status"}
	if diff := cmp.Diff(want, keys(t, one.Result.Reply.Items[0])); diff != "" {
		t.Errorf("reply item keys, in the order sent (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(one.Result.Reply.Items[0]), `"month_used":2,`) {
		t.Errorf("values are echoed as sent: %s", one.Result.Reply.Items[0])
	}
	var many usageReply
	v.call(t, request{user: "sam", method: "POST", path: "/api/now/v1/sam_software_usage_integration/createOrUpdate", body: seedUsageMany}, 200, &many)
	items2 := many.items(t)
	if got := statuses(items2); got != "UPDATE INSERT INSERT INSERT INSERT" || items2[0].SysID != items[0].SysID {
		t.Errorf("second example: %s; first record %s then %s", got, items[0].SysID, items2[0].SysID)
	}
	resp := v.call(t, request{user: "sam", method: "GET", path: "/api/now/table/samp_sw_usage?sysparm_query=reclamation_type=total_usage^year=2020"}, 200, nil)
	if n := resp.Header.Get("X-Total-Count"); n != "5" {
		t.Errorf("stored usage records: %s, want 5", n)
	}
}

func TestUsageLastUsedDate(t *testing.T) {
	v := newEnv(t)
	send := func(when string) usageItem {
		var r usageReply
		body := `{"items": [{"configuration_item": "ci1", "norm_product": "p1", "reclamation_type": "last_used_date", "last_used_time": "` + when + `"}]}`
		v.call(t, request{user: "sam", method: "POST", path: usagePath, body: body}, 200, &r)
		return r.items(t)[0]
	}
	first, second := send("2020-01-01 10:00:00"), send("2020-02-01 10:00:00")
	if first.Status != "INSERT" || second.Status != "UPDATE" || first.SysID != second.SysID {
		t.Errorf("last_used_date: %+v then %+v", first, second)
	}
	var row struct{ Result map[string]string }
	v.call(t, request{user: "sam", method: "GET", path: "/api/now/table/samp_sw_usage/" + first.SysID}, 200, &row)
	if row.Result["last_used_time"] != "2020-02-01 10:00:00" {
		t.Errorf("stored record: %v", row.Result)
	}
}

func TestUsageItemErrors(t *testing.T) {
	v := newEnv(t)
	body := `{"items": [
		{"configuration_item": "ci1", "norm_product": "p", "reclamation_type": "last_used_date"},
		{"configuration_item": "ci2", "norm_product": "p", "year": 2020, "month_used": 2},
		{"configuration_item": "ci3", "norm_product": "p", "reclamation_type": "monthly"}]}`
	var r usageReply
	v.call(t, request{user: "sam", method: "POST", path: usagePath, body: body}, 200, &r)
	items := r.items(t)
	if got := statuses(items); got != "INSERT ERROR ERROR" {
		t.Fatalf("statuses: %s", got)
	}
	if e := items[1].Errors; len(e) != 1 || e[0].Error != "REQUIRED_ATTRIBUTE_EMPTY" ||
		!strings.Contains(e[0].Message, "[reclamation_type]") || !strings.Contains(e[0].Message, "total_usage, last_used_date") {
		t.Errorf("missing reclamation_type: %+v", e)
	}
	if e := items[2].Errors; len(e) != 1 || e[0].Error != "INVALID_INPUT_DATA" || !strings.Contains(e[0].Message, `"monthly"`) {
		t.Errorf("unknown reclamation_type: %+v", e)
	}
	if items[1].SysID != "" || r.Result.Message != "2 of 3 items were not stored; see their errors" {
		t.Errorf("failed items: %+v, message %q", items[1], r.Result.Message)
	}
	resp := v.call(t, request{user: "sam", method: "GET", path: "/api/now/table/samp_sw_usage"}, 200, nil)
	if n := resp.Header.Get("X-Total-Count"); n != "1" {
		t.Errorf("stored: %s, want only the good item", n)
	}
}

// xmlReply is the XML reply.
type xmlReply struct {
	XMLName xml.Name `xml:"response"`
	Items   []struct {
		ConfigurationItem string `xml:"configuration_item"`
		MonthUsed         string `xml:"month_used"`
		SysID             string `xml:"sysId"`
		Status            string `xml:"status"`
	} `xml:"result>reply>items"`
	Message string `xml:"result>message"`
}

func TestUsageXML(t *testing.T) {
	v := newEnv(t)
	body := `<?xml version="1.0" encoding="UTF-8"?>
<request>
  <items><configuration_item>ci1</configuration_item><month_used>2</month_used><norm_product>p</norm_product>
         <reclamation_type>total_usage</reclamation_type><year>2020</year><usage_count>4</usage_count></items>
  <items><configuration_item>ci2</configuration_item><norm_product>p</norm_product><reclamation_type>last_used_date</reclamation_type></items>
</request>`
	resp, b := v.do(t, request{user: "sam", method: "POST", path: usagePath, body: body, contentType: "application/xml", accept: "application/xml"})
	var x xmlReply
	if err := xml.Unmarshal(b, &x); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("XML reply %d %s: %v", resp.StatusCode, b, err)
	}
	if len(x.Items) != 2 || x.Items[0].Status != "INSERT" || x.Items[0].MonthUsed != "2" || x.Message != "Ok" {
		t.Fatalf("XML reply: %+v", x)
	}
	// The same record in JSON (numbers, not text), answered in JSON: found.
	var j usageReply
	v.call(t, request{user: "sam", method: "POST", path: usagePath, accept: "application/json",
		body: `{"items": [{"configuration_item": "ci1", "month_used": 2, "norm_product": "p", "reclamation_type": "total_usage", "year": 2020}]}`}, 200, &j)
	if it := j.items(t)[0]; it.Status != "UPDATE" || it.SysID != x.Items[0].SysID {
		t.Errorf("JSON after XML: %+v, want UPDATE of %s", it, x.Items[0].SysID)
	}
	// The <items><item>…</item></items> form, JSON in and XML out.
	wrapped := `<items><item><configuration_item>ci2</configuration_item><norm_product>p</norm_product><reclamation_type>last_used_date</reclamation_type></item></items>`
	_, b = v.do(t, request{user: "sam", method: "POST", path: usagePath, body: wrapped, contentType: "text/xml; charset=utf-8", accept: "application/xml;q=0.9, application/json;q=0.5"})
	var w xmlReply
	if err := xml.Unmarshal(b, &w); err != nil || len(w.Items) != 1 || w.Items[0].SysID != x.Items[1].SysID || w.Items[0].Status != "UPDATE" {
		t.Errorf("wrapped form: %s %v", b, err)
	}
	_, b = v.do(t, request{user: "sam", method: "POST", path: usagePath, body: `{"items": []}`, accept: "application/xml"})
	var empty xmlReply
	if err := xml.Unmarshal(b, &empty); err != nil || len(empty.Items) != 0 || empty.Message != "Ok" {
		t.Errorf("empty JSON request, XML reply: %s %v", b, err)
	}
}

func TestUsageBadRequests(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct{ body, contentType, want string }{
		{`{"items": [{"a": 1}`, "", "line 1"},
		{`[1, 2]`, "", `{"items": [...]}`},
		{`{"items": 5}`, "", "items must be an array"},
		{`{"items": [5]}`, "", "items[0]: must be an object"},
		{`{"items": [{"usage_count": {"n": 1}}]}`, "", "items[0].usage_count: nested objects"},
		{`{"items": [{"bad name": 1}]}`, "", `"bad name" is not a column name`},
		{`<request><items><a>1</a></request>`, "application/xml", "XML"},
		{`<request><items><a><b>1</b></a><c>2</c></items></request>`, "application/xml", "items[0].a: nested elements"},
		{``, "application/xml", "no XML document element"},
	} {
		v.wantError(t, request{user: "sam", method: "POST", path: usagePath, body: c.body, contentType: c.contentType}, 400, c.want)
	}
	// Errors come in XML when the client asks for XML.
	resp, b := v.do(t, request{user: "sam", method: "POST", path: usagePath, body: `{`, accept: "application/xml"})
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<status>failure</status>") {
		t.Errorf("XML error: %d %s", resp.StatusCode, b)
	}
	v.wantError(t, request{method: "POST", path: usagePath, body: seedUsageOne}, 401, "User Not Authenticated")
	v.wantError(t, request{user: "ann", method: "POST", path: usagePath, body: seedUsageOne}, 403, "sam_admin")
	v.call(t, request{user: "root", method: "POST", path: usagePath, body: seedUsageOne}, 200, nil)
}

// TestUsageDisabled: a rule set without samp_sw_usage turns the API off
// with the seed's 405.
func TestUsageDisabled(t *testing.T) {
	rs, err := rules.Load("no-usage.yaml", []byte("classes:\n  - name: cmdb_ci\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(t.TempDir(), engine.Options{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	v := serveEngine(t, e)
	v.wantError(t, request{user: "sam", method: "POST", path: usagePath, body: seedUsageOne}, 405, "declares no class samp_sw_usage")
}
