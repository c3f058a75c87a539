package tableapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/tableapi"
)

// all reads every record of table from src after skip.
func all(t *testing.T, src tableapi.Source, table string, skip int) []tableapi.Record {
	t.Helper()
	var out []tableapi.Record
	if err := src.Each(context.Background(), table, skip, func(r tableapi.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sysIDs(recs []tableapi.Record) string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, r["sys_id"])
	}
	return strings.Join(ids, " ")
}

func TestDirectoryShapes(t *testing.T) {
	dir := t.TempDir()
	// One file, references with and without links, a display_value pair,
	// numbers, booleans and nulls, a member that is not the records.
	write(t, filepath.Join(dir, "cmdb_ci_linux_server.json"), `{"result":[
		{"sys_id":"a1","name":"web01","cpu_count":"4","ram":8192,"virtual":true,"location":null,
		 "company":{"link":"https://example.service-now.com/api/now/table/core_company/c9","value":"c9"},
		 "manufacturer":"m7","os":{"display_value":"Linux Red Hat","value":"linux_rh"}}],
		"x":{"nested":[1,2]}}`)
	// Pages of one table as name_N.json, numbered past 9 to prove numeric order;
	// cmdb_ci_ip_address is a table of its own, not a page of cmdb_ci.
	write(t, filepath.Join(dir, "cmdb_ci_2.json"), `{"result":[{"sys_id":"p2"}]}`)
	write(t, filepath.Join(dir, "cmdb_ci_10.json"), `{"result":[{"sys_id":"p10"}]}`)
	write(t, filepath.Join(dir, "cmdb_ci_1.json"), `{"result":[{"sys_id":"p1a"},{"sys_id":"p1b"}]}`)
	write(t, filepath.Join(dir, "cmdb_ci_ip_address.json"), `[{"sys_id":"ip1","ip_address":"10.0.0.1"}]`)
	// A folder per table, JSONv2's "records", an empty file.
	write(t, filepath.Join(dir, "cmdb_rel_ci", "2.json"), `{"records":[{"sys_id":"r2"}]}`)
	write(t, filepath.Join(dir, "cmdb_rel_ci", "1.json"), `{"records":[{"sys_id":"r1"}]}`)
	write(t, filepath.Join(dir, "cmdb_rel_ci", "3.json"), ``)
	write(t, filepath.Join(dir, "README.txt"), `not an export`)

	src, err := tableapi.Open(dir, tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := src.Tables()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cmdb_ci", "cmdb_ci_ip_address", "cmdb_ci_linux_server", "cmdb_rel_ci"}, tables); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}
	want := tableapi.Record{"sys_id": "a1", "name": "web01", "cpu_count": "4", "ram": "8192", "virtual": "true",
		"location": "", "company": "c9", "manufacturer": "m7", "os": "linux_rh"}
	if diff := cmp.Diff([]tableapi.Record{want}, all(t, src, "cmdb_ci_linux_server", 0)); diff != "" {
		t.Errorf("linux server (-want +got):\n%s", diff)
	}
	for table, want := range map[string]string{"cmdb_ci": "p1a p1b p2 p10", "cmdb_ci_ip_address": "ip1", "cmdb_rel_ci": "r1 r2"} {
		if got := sysIDs(all(t, src, table, 0)); got != want {
			t.Errorf("%s: %q, want %q", table, got, want)
		}
	}
	// skip counts records across pages, as a resumed import needs.
	if got := sysIDs(all(t, src, "cmdb_ci", 3)); got != "p10" {
		t.Errorf("cmdb_ci after 3: %q, want p10", got)
	}
	err = src.Each(context.Background(), "cmdb_ci_win_server", 0, func(tableapi.Record) error { return nil })
	if !errors.Is(err, tableapi.ErrNoTable) {
		t.Errorf("missing table: %v, want ErrNoTable", err)
	}
}

func TestDirectoryErrorsNameTheRecord(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bad_value":   `{"result":[{"sys_id":"ok1"},{"sys_id":"s2","ram":[1,2]}]}`,
		"bad_ref":     `{"result":[{"sys_id":"s3","company":{"link":"x"}}]}`,
		"no_result":   `{"status":"ok"}`,
		"not_a_list":  `{"result":{"sys_id":"x"}}`,
		"truncated":   `{"result":[{"sys_id":"s4"},{"sys_`,
		"error_reply": `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`,
	} {
		write(t, filepath.Join(dir, name+".json"), body)
	}
	src, err := tableapi.Open(dir, tableapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]string{
		"bad_value":   `record 2 (sys_id "s2"): field "ram"`,
		"bad_ref":     `field "company": an object without a text "value"`,
		"no_result":   `no "result" list`,
		"not_a_list":  `"result" is not a list`,
		"truncated":   "truncated.json",
		"error_reply": "User Not Authenticated Required to provide Auth information",
	} {
		err := src.Each(context.Background(), table, 0, func(tableapi.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", table, err, want)
		}
	}
	if _, err := tableapi.Open(filepath.Join(dir, "bad_value.json"), tableapi.Options{}); err == nil {
		t.Error("a file opened as an export directory")
	}
}

// instance serves records of one table as ServiceNow's Table API does,
// with basic auth, sysparm_offset/sysparm_limit paging and a first
// answer of 429 to prove the reader waits and retries.
type instance struct {
	records  []map[string]any
	requests []string
	throttle bool
}

func (in *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.requests = append(in.requests, r.URL.RequestURI())
	if u, p, ok := r.BasicAuth(); !ok || u != "reader" || p != "secret" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"User Not Authenticated"},"status":"failure"}`)
		return
	}
	if in.throttle {
		in.throttle = false
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if r.URL.Path != "/api/now/table/cmdb_ci" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"Invalid table "},"status":"failure"}`)
		return
	}
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("sysparm_offset"))
	limit, _ := strconv.Atoi(q.Get("sysparm_limit"))
	end := min(offset+limit, len(in.records))
	page := in.records[min(offset, end):end]
	w.Header().Set("X-Total-Count", strconv.Itoa(len(in.records)))
	json.NewEncoder(w).Encode(map[string]any{"result": page})
}

func TestInstancePages(t *testing.T) {
	in := &instance{throttle: true}
	for i := range 7 {
		in.records = append(in.records, map[string]any{"sys_id": fmt.Sprintf("s%d", i),
			"company": map[string]string{"link": "https://x/api/now/table/core_company/c1", "value": "c1"}})
	}
	ts := httptest.NewServer(in)
	defer ts.Close()
	src, err := tableapi.Open(ts.URL+"/", tableapi.Options{User: "reader", Password: "secret", PageSize: 3, Query: "active=true"})
	if err != nil {
		t.Fatal(err)
	}
	got := all(t, src, "cmdb_ci", 2)
	if ids := sysIDs(got); ids != "s2 s3 s4 s5 s6" {
		t.Errorf("records %q, want s2..s6", ids)
	}
	if got[0]["company"] != "c1" {
		t.Errorf("reference read as %q, want its sys_id c1", got[0]["company"])
	}
	// The throttled request is retried, then a full page of 3 from offset 2
	// and a short page from 5 ends the table.
	if len(in.requests) != 3 {
		t.Fatalf("requests %q, want a retry and two pages", in.requests)
	}
	for i, want := range []string{"sysparm_offset=2", "sysparm_offset=2", "sysparm_offset=5"} {
		r := in.requests[i]
		if !strings.Contains(r, want) || !strings.Contains(r, "sysparm_limit=3") ||
			!strings.Contains(r, "sysparm_exclude_reference_link=true") || !strings.Contains(r, "sysparm_query=active%3Dtrue%5EORDERBYsys_id") {
			t.Errorf("request %d = %s, want %s, limit 3, no reference links, the query ordered by sys_id", i, r, want)
		}
	}
	err = src.Each(context.Background(), "cmdb_ci_nothing", 0, func(tableapi.Record) error { return nil })
	if !errors.Is(err, tableapi.ErrNoTable) {
		t.Errorf("unknown table: %v, want ErrNoTable", err)
	}
	bad, _ := tableapi.Open(ts.URL, tableapi.Options{User: "reader", Password: "wrong"})
	err = bad.Each(context.Background(), "cmdb_ci", 0, func(tableapi.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v, want a 401 that does not repeat the password", err)
	}
}
