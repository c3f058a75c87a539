package payload_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/payload"
)

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeExample(t *testing.T) {
	p, err := payload.Decode(strings.NewReader(string(readExample(t))))
	if err != nil {
		t.Fatal(err)
	}
	want := &payload.Payload{
		Items: []payload.Item{
			{
				ClassName: "cmdb_ci_computer",
				Values: map[string]any{"name": "Comp - Dedicated AWS - 1", "cpu_count": int64(1),
					"cpu_core_count": int64(4), "cpu_core_thread": int64(1), "virtual": true},
				Related: []payload.Related{{
					ClassName: "cmdb_sam_sw_install",
					Values: map[string]any{"publisher": "Microsoft", "display_name": "SQL Server", "version": "2017",
						"cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"},
				}},
			},
			{ClassName: "cmdb_ci_vm_instance", Values: map[string]any{"object_id": "sample_object_id_aws_vm_dedicated", "name": "VM Dedicated AWS - 1"}},
			{ClassName: "cmdb_ci_cloud_host", Values: map[string]any{"object_id": "sample_object_id_aws_host", "name": "AWS Dedicated Host - 1", "cpu_core_count": int64(32)}},
			{ClassName: "cmdb_ci_aws_datacenter", Values: map[string]any{"object_id": "sample_object_id_aws_dc", "name": "AWS DataCenter - 1"}},
			{ClassName: "cmdb_ci_cloud_service_account", Values: map[string]any{"account_id": "sample_account_id_aws_service_account", "name": "Cloud Service Account AWS - 1"}},
		},
		Relations: []payload.Relation{
			{Type: "Virtualized by::Virtualizes", Parent: 0, Child: 1},
			{Type: "Runs on::Runs", Parent: 1, Child: 2},
			{Type: "Hosted on::Hosts", Parent: 2, Child: 3},
			{Type: "Hosted on::Hosts", Parent: 3, Child: 4},
		},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Decode(example) mismatch (-want +got):\n%s", diff)
	}
	// The figures the brief names, stated plainly.
	if len(p.Items) != 5 || len(p.Items[0].Related) != 1 || len(p.Relations) != 4 {
		t.Errorf("got %d items, %d related, %d relations; want 5, 1, 4", len(p.Items), len(p.Items[0].Related), len(p.Relations))
	}
	if v, ok := p.Items[0].Values["cpu_count"].(int64); !ok || v != 1 {
		t.Errorf("cpu_count = %#v, want int64(1)", p.Items[0].Values["cpu_count"])
	}
	if v, ok := p.Items[0].Values["virtual"].(bool); !ok || !v {
		t.Errorf("virtual = %#v, want true", p.Items[0].Values["virtual"])
	}
}

func TestDecodeErrors(t *testing.T) {
	fiveItems := `{"className":"a"},{"className":"b"},{"className":"c"},{"className":"d"},{"className":"e"}`
	tests := []struct {
		name, in, want string
	}{
		// Structure of items.
		{"nested object", `{"items":[{"className":"a"},{"className":"a"},{"className":"c","values":{"name":"x","cpu_count":{"n":1}}}]}`,
			"payload: items[2].values.cpu_count: nested objects are not allowed (values must be strings, numbers, booleans or null)"},
		{"array value", `{"items":[{"className":"c","values":{"ips":["a"]}}]}`,
			"payload: items[0].values.ips: arrays are not allowed (values must be strings, numbers, booleans or null)"},
		{"odd attribute name quoted", `{"items":[{"className":"c","values":{"a b":{}}}]}`,
			`payload: items[0].values["a b"]: nested objects are not allowed (values must be strings, numbers, booleans or null)`},
		{"related value nested", `{"items":[{"className":"c","related":[{"className":"r","values":{"v":[]}}]}]}`,
			"payload: items[0].related[0].values.v: arrays are not allowed (values must be strings, numbers, booleans or null)"},
		{"className missing", `{"items":[{"values":{"name":"x"}}]}`, "payload: items[0]: className is required"},
		{"className null", `{"items":[{"className":null}]}`, "payload: items[0]: className is required"},
		{"className empty", `{"items":[{"className":""}]}`, "payload: items[0]: className is required"},
		{"className not string", `{"items":[` + fiveItems[:len(fiveItems)-len(`,{"className":"e"}`)] + `,{"className":5}]}`,
			"payload: items[4].className: must be a string"},
		{"className number at 3", `{"items":[{"className":"a"},{"className":"b"},{"className":"c"},{"className":7}]}`,
			"payload: items[3].className: must be a string"},
		{"related className missing", `{"items":[{"className":"c","related":[{"values":{}}]}]}`,
			"payload: items[0].related[0]: className is required"},
		{"empty attribute name", `{"items":[{"className":"c","values":{"":"x"}}]}`,
			"payload: items[0].values: attribute names must be non-empty"},
		{"values not object", `{"items":[{"className":"c","values":[1]}]}`,
			"payload: items[0].values: must be an object, got an array"},
		{"item not object", `{"items":[{"className":"c"},"x"]}`, "payload: items[1]: must be an object, got a string"},
		{"source info not string", `{"items":[{"className":"c","sys_object_source_info":{"source_feed":1}}]}`,
			`payload: items[0].sys_object_source_info.source_feed: must be a string, got a number`},
		{"internal_id not string", `{"items":[{"className":"c","internal_id":3}]}`,
			"payload: items[0].internal_id: must be a string, got a number"},
		{"duplicate internal_id", `{"items":[{"className":"a","internal_id":"x"},{"className":"b","internal_id":"x"}]}`,
			`payload: items[1].internal_id: duplicate internal_id "x" (also on items[0])`},
		{"duplicate internal_id with related", `{"items":[{"className":"a","related":[{"className":"r","internal_id":"x"}]},{"className":"b","internal_id":"x"}]}`,
			`payload: items[1].internal_id: duplicate internal_id "x" (also on items[0].related[0])`},
		{"number out of range", `{"items":[{"className":"c","values":{"n":1e400}}]}`,
			"payload: items[0].values.n: number 1e400 is out of range"},

		// Top level.
		{"items missing", `{"relations":[]}`, "payload: items is required"},
		{"items null", `{"items":null}`, "payload: items is required"},
		{"items not array", `{"items":{}}`, "payload: items: must be an array, got an object"},
		{"not an object", `[1,2]`, "payload: the payload must be a JSON object, got an array"},
		{"referenceItems not array", `{"items":[],"referenceItems":3}`, "payload: referenceItems: must be an array, got a number"},
		{"relations not array", `{"items":[],"relations":{}}`, "payload: relations: must be an array, got an object"},
		{"empty input", ``, "payload: empty input (expected a JSON object)"},
		{"blank input", " \n\t", "payload: empty input (expected a JSON object)"},

		// Relations.
		{"relation not object", `{"items":[],"relations":[1]}`, "payload: relations[0]: must be an object, got a number"},

		// Syntax.
		{"missing colon", `{"items" []}`, "payload: line 1, column 10: invalid character '[' after object key"},
		{"trailing comma", `{"items":[1,]}`, "payload: line 1, column 13: invalid character ']' looking for beginning of value"},
		{"eof", `{"items":[`, "payload: unexpected end of input at line 1, column 11"},
		{"eof multi-line", "{\n  \"items\": [\n", "payload: unexpected end of input at line 3, column 1"},
		{"trailing data", `{"items":[]} x`, "payload: line 1, column 14: invalid character 'x' after top-level value"},
		{"second value", "{\"items\":[]}\n{}", "payload: line 2, column 1: invalid character '{' after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := payload.DecodeBytes([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeBytes(%s) = %+v, want error %q", tt.in, p, tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("DecodeBytes(%s) error mismatch (-want +got):\n%s", tt.in, diff)
			}
			var pe *payload.Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *payload.Error", err)
			}
		})
	}
}

func TestDecodeTooManyItems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range payload.MaxItems + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"className":"c"}`)
	}
	b.WriteString(`]}`)
	_, err := payload.DecodeBytes([]byte(b.String()))
	want := "payload: items: 100001 items exceeds the limit of 100000"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	// The broken spot is the missing comma before "relations" on line 7;
	// columns count characters, so the "é" earlier on line 7 counts once.
	in := `{
  "items": [
    {"className": "cmdb_ci_computer",
     "values": {"name": "Comp 1", "cpu_count": 1}}
  ],
  "relations": [],
  "x": "é" "relations": []
}`
	_, err := payload.DecodeBytes([]byte(in))
	var pe *payload.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *payload.Error", err)
	}
	got := [2]int{pe.Line, pe.Column}
	if diff := cmp.Diff([2]int{7, 12}, got); diff != "" {
		t.Errorf("position mismatch (-want +got):\n%s", diff)
	}
	want := `payload: line 7, column 12: invalid character '"' after object key:value pair`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message mismatch (-want +got):\n%s", diff)
	}

	// A bad literal deep in the seed example, with CRLF line ends.
	ex := strings.ReplaceAll(string(readExample(t)), "\n", "\r\n")
	ex = strings.Replace(ex, `"virtual": true`, `"virtual": tru`, 1)
	_, err = payload.DecodeBytes([]byte(ex))
	wantLine, wantCol := 0, 0
	for i, l := range strings.Split(ex, "\n") {
		if c := strings.Index(l, `tru}`); c >= 0 {
			wantLine, wantCol = i+1, c+4 // the '}' after "tru", 1-based
		}
	}
	want = fmt.Sprintf("payload: line %d, column %d: invalid character '}' in literal true (expecting 'e')", wantLine, wantCol)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if wantLine != 3 {
		t.Errorf("test setup: the literal is on line %d, expected line 3", wantLine)
	}
}

func TestDecodeReaderError(t *testing.T) {
	_, err := payload.Decode(iotest.ErrReader(errors.New("boom")))
	if err == nil || err.Error() != "payload: reading input: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeInternalIDRelations(t *testing.T) {
	in := `{"items":[
	  {"className":"cmdb_ci_computer","internal_id":"comp","values":{"name":"c"},
	   "related":[{"className":"cmdb_sam_sw_install","internal_id":"sw","values":{"publisher":"p"}}]},
	  {"className":"cmdb_ci_vm_instance","internal_id":"vm","values":{"object_id":"i-1"},
	   "sys_object_source_info":{"source_name":"SCCM","source_native_key":"k","source_feed":"f","source_recency_timestamp":"2024-01-02 03:04:05"}},
	  {"className":"cmdb_ci_cloud_host","internal_id":"host"}],
	 "relations":[
	  {"type":"Virtualized by::Virtualizes","parent_id":"comp","child_id":"vm","sys_rel_source_info":{"source_name":"SCCM"}},
	  {"type":"Runs on::Runs","parent_id":"vm","child":2},
	  {"type":"Runs on::Runs","parent":1.0,"child_id":"host"}],
	 "referenceItems":[]}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []payload.Relation{
		{Type: "Virtualized by::Virtualizes", Parent: 0, Child: 1},
		{Type: "Runs on::Runs", Parent: 1, Child: 2},
		{Type: "Runs on::Runs", Parent: 1, Child: 2},
	}
	if diff := cmp.Diff(want, p.Relations); diff != "" {
		t.Errorf("relations mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"comp", "vm", "host"}, []string{p.Items[0].InternalID, p.Items[1].InternalID, p.Items[2].InternalID}); diff != "" {
		t.Errorf("internal ids mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("sw", p.Items[0].Related[0].InternalID); diff != "" {
		t.Errorf("related internal id mismatch (-want +got):\n%s", diff)
	}
	wantSI := &payload.SourceInfo{SourceName: "SCCM", SourceNativeKey: "k", SourceFeed: "f", SourceRecencyTimestamp: "2024-01-02 03:04:05"}
	if diff := cmp.Diff(wantSI, p.Items[1].SourceInfo); diff != "" {
		t.Errorf("source info mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{}, p.Items[2].Values); diff != "" || p.Items[2].Values == nil {
		t.Errorf("absent values: want empty non-nil map (-want +got):\n%s", diff)
	}
}

func TestDecodeAcceptedExtras(t *testing.T) {
	in := `{"items":[{"className":"c","values":null,"lookup":[],"display_values":{},"settings":{"updateWithoutDowngrade":true},
	  "sys_object_source_info":null,"related":[],"internal_id":""}],
	 "relations":null,"referenceItems":null}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &payload.Payload{Items: []payload.Item{{ClassName: "c", Values: map[string]any{},
		Settings: &payload.Settings{UpdateWithoutDowngrade: true}}}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	p, err = payload.DecodeBytes([]byte(`{"items":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Items == nil || len(p.Items) != 0 {
		t.Errorf("items = %#v, want empty non-nil", p.Items)
	}
}

func TestDecodeValues(t *testing.T) {
	in := `{"items":[{"className":"c","values":{
	  "s":"x","t":true,"f":false,"n":null,"i":42,"neg":-7,"one":1.0,"kilo":1e3,"half":0.5,
	  "big":9223372036854775807,"bigger":9223372036854775808,"exact":9007199254740993.0,
	  "tiny":1e-7,"negzero":-0.0,"huge":1.5e300,"dup":1,"dup":"later"}}]}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "x", "t": true, "f": false, "n": nil, "i": int64(42), "neg": int64(-7), "one": int64(1),
		"kilo": int64(1000), "half": 0.5, "big": int64(math.MaxInt64), "bigger": float64(1 << 63),
		"exact": int64(9007199254740993), "tiny": 1e-7, "negzero": int64(0), "huge": 1.5e300, "dup": "later",
	}
	if diff := cmp.Diff(want, p.Items[0].Values); diff != "" {
		t.Errorf("values mismatch (-want +got):\n%s", diff)
	}
}

type myInt int16
type myString string

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{nil, nil},
		{"x", "x"},
		{myString("y"), "y"},
		{true, true},
		{int(3), int64(3)},
		{int8(-3), int64(-3)},
		{myInt(9), int64(9)},
		{uint64(math.MaxUint64), float64(math.MaxUint64)},
		{uint32(7), int64(7)},
		{float32(2), int64(2)},
		{float32(0.5), 0.5},
		{2.0, int64(2)},
		{math.Copysign(0, -1), int64(0)},
		{2.5, 2.5},
		{1e300, 1e300},
		{float64(-(1 << 63)), int64(math.MinInt64)},
		{float64(1 << 63), float64(1 << 63)},
		{json.Number("12"), int64(12)},
		{json.Number("1.5e1"), int64(15)},
		{json.Number("1.25e1"), 12.5},
		{json.Number("0.99999999999999999999"), int64(1)},
		{json.Number("-0e99999999999"), int64(0)},
		{json.Number("1e-99999999999"), int64(0)},
	}
	for _, tt := range tests {
		got, err := payload.Normalize(tt.in)
		if err != nil {
			t.Errorf("Normalize(%#v): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Normalize(%#v) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), json.Number("1e400"), json.Number("0x10"),
		json.Number("NaN"), json.Number(""), json.Number("01"), map[string]any{}, []any{}, []int{1}, struct{}{}, &struct{}{}, complex(1, 2)} {
		if got, err := payload.Normalize(bad); err == nil {
			t.Errorf("Normalize(%#v) = %#v, want error", bad, got)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"", ""},
		{"Comp 1", "Comp 1"},
		{true, "true"},
		{false, "false"},
		{int64(-12), "-12"},
		{1.0, "1"},
		{math.Copysign(0, -1), "0"},
		{0.5, "0.5"},
		{1e21, "1e+21"},
		{float64(1 << 62), "4611686018427387904"},
		{float64(1 << 63), "9.223372036854776e+18"},
		{1e-7, "1e-07"},
		{int(5), "5"},
		{json.Number("1.0"), "1"},
		{uint8(200), "200"},
	}
	for _, tt := range tests {
		if got := payload.Canonical(tt.in); got != tt.want {
			t.Errorf("Canonical(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClone(t *testing.T) {
	p, err := payload.DecodeBytes([]byte(`{"items":[{"className":"a","internal_id":"a","values":{"x":1},
	  "sys_object_source_info":{"source_name":"SCCM"},"related":[{"className":"r","values":{"y":"z"},"sys_object_source_info":{}}]},
	  {"className":"b"}],"relations":[{"type":"t","parent":0,"child":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Clone()
	if diff := cmp.Diff(p, c); diff != "" {
		t.Fatalf("Clone mismatch (-want +got):\n%s", diff)
	}
	before := p.Clone()
	c.Items[0].Values["x"] = int64(2)
	c.Items[0].Related[0].Values["y"] = "changed"
	c.Items[0].SourceInfo.SourceName = "changed"
	c.Items[0].Related[0].SourceInfo.SourceFeed = "changed"
	c.Items[0].Related[0].ClassName = "changed"
	c.Items[1].ClassName = "changed"
	c.Relations[0].Type = "changed"
	if diff := cmp.Diff(before, p); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
	if (*payload.Payload)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
	if e := (&payload.Payload{Items: []payload.Item{}}).Clone(); e.Items == nil {
		t.Error("Clone turned empty Items into nil")
	}
}

func TestDecodeOwnership(t *testing.T) {
	b := readExample(t)
	p, err := payload.DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	want := p.Clone()
	for i := range b {
		b[i] = ' '
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("payload changed when the input buffer changed (-want +got):\n%s", diff)
	}
}

func TestDecodeReclassificationFlags(t *testing.T) {
	in := `{"items":[
	  {"className":"c","classUpgrade":true,"classDowngrade":"false","classSwitch":null,
	   "settings":{"skipReclassificationRestrictionRules":"true","updateWithoutUpgrade":false,"updateWithoutSwitch":true,"futureFlag":1}},
	  {"className":"c"}]}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []payload.Item{
		{ClassName: "c", Values: map[string]any{}, ClassUpgrade: &yes, ClassDowngrade: &no,
			Settings: &payload.Settings{SkipReclassificationRestrictionRules: true, UpdateWithoutSwitch: true}},
		{ClassName: "c", Values: map[string]any{}},
	}
	if diff := cmp.Diff(want, p.Items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	c := p.Clone()
	*c.Items[0].ClassUpgrade = false
	c.Items[0].Settings.UpdateWithoutSwitch = false
	if !*p.Items[0].ClassUpgrade || !p.Items[0].Settings.UpdateWithoutSwitch {
		t.Error("changing a clone's flags changed the original")
	}

	for _, tt := range []struct{ in, want string }{
		{`{"items":[{"className":"c","classSwitch":1}]}`, `payload: items[0].classSwitch: must be true or false, got a number`},
		{`{"items":[{"className":"c","settings":[]}]}`, `payload: items[0].settings: must be an object, got an array`},
		{`{"items":[{"className":"c","settings":{"updateWithoutDowngrade":"yes"}}]}`,
			`payload: items[0].settings.updateWithoutDowngrade: must be true or false, got a string`},
	} {
		_, err := payload.DecodeBytes([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("DecodeBytes(%s) = %v, want %s", tt.in, err, tt.want)
		}
	}
}
