package servicenow

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// The Table API's paged list, served over real HTTP by the engine's
// Select, answers what loading every record, filtering, sorting and
// paging answers; and its pages, concatenated, are the whole list.
func TestListPagesMatchNaiveProperty(t *testing.T) {
	classes := []string{"cmdb_ci_computer", "cmdb_ci_linux_server", "cmdb_ci_win_server", "cmdb_ci_netgear"}
	listed := []string{"cmdb_ci", "cmdb_ci_computer", "cmdb_ci_server", "cmdb_ci_netgear", "cmdb_ci_linux_server"}
	// Few values, so filters match some records and orders see ties; mixed
	// numbers, text, case and empties.
	pool := []string{"", "web", "Web01", "web02", "WEB02", "db", "10", "9", "1", "1.0", "1a", "2.5", "-3", "Linux", "linux"}
	fields := []string{"name", "os", "ram", "sys_class_name", "sys_id"}
	// Each check opens a store and serves it: 30 checks unless asked for
	// more with -rapid.checks, to keep the package's tests quick.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !explicit {
		old := f.Value.String()
		f.Value.Set("30")
		defer f.Value.Set(old)
	}
	rapid.Check(t, func(rt *rapid.T) {
		maxScan := rapid.IntRange(0, 40).Draw(rt, "maxScan")
		e, err := engine.Open("", engine.Options{InMemory: true, MaxScan: maxScan})
		if err != nil {
			rt.Fatal(err)
		}
		defer e.Close()
		l := e.Loader()
		n := rapid.IntRange(0, 30).Draw(rt, "records")
		for i := range n {
			rec := &store.Record{SysID: fmt.Sprintf("%032x", rapid.IntRange(0, 1<<20).Draw(rt, "id")), Class: rapid.SampledFrom(classes).Draw(rt, "class"),
				Values: map[string]any{}, Created: time.Unix(int64(i), 0), Updated: time.Unix(int64(i), 0)}
			for _, f := range []string{"name", "os", "ram"} {
				if v := rapid.SampledFrom(pool).Draw(rt, f); v != "" {
					rec.Values[f] = v
				}
			}
			if err := l.PutCI(rec); err != nil {
				rt.Fatal(err)
			}
		}
		if err := l.Flush(); err != nil {
			rt.Fatal(err)
		}
		if _, err := l.Index(context.Background(), nil); err != nil {
			rt.Fatal(err)
		}
		mux := http.NewServeMux()
		h := &handler{e: e}
		mux.HandleFunc("GET /api/now/table/{class}", h.tableList)
		srv := httptest.NewServer(mux)
		defer srv.Close()

		class := rapid.SampledFrom(listed).Draw(rt, "listed")
		var terms []string
		for range rapid.IntRange(0, 3).Draw(rt, "terms") {
			f := rapid.SampledFrom(fields).Draw(rt, "field")
			op := rapid.SampledFrom([]string{"=", "!=", "STARTSWITH", "IN", ">", "<=", "ISEMPTY", "LIKE"}).Draw(rt, "op")
			values := pool
			if f == "sys_class_name" {
				values = append(slices.Clone(classes), "CMDB_CI_NETGEAR", "cmdb_ci")
			}
			v := rapid.SampledFrom(values).Draw(rt, "value")
			if op == "IN" {
				v += "," + rapid.SampledFrom(values).Draw(rt, "value2")
			}
			join := rapid.SampledFrom([]string{"^", "^", "^OR", "^NQ"}).Draw(rt, "join")
			if len(terms) == 0 {
				join = ""
			}
			terms = append(terms, join+f+op+v)
		}
		for range rapid.IntRange(0, 2).Draw(rt, "orders") {
			terms = append(terms, "^"+rapid.SampledFrom([]string{"ORDERBY", "ORDERBYDESC"}).Draw(rt, "dir")+rapid.SampledFrom(fields).Draw(rt, "by"))
		}
		qs := strings.TrimPrefix(strings.Join(terms, ""), "^")
		q, err := parseQuery(qs)
		if err != nil {
			rt.Fatalf("query %q: %v", qs, err)
		}

		// The model: the records read, class by class and by sys_id, of the
		// classes sys_class_name terms name (read without reading records),
		// up to the scan limit when the rest of the query filters or orders
		// by anything but sys_id (the membership keys' own order, paged
		// without reading records); then filtered, sorted and paged.
		//
		// With a filter (=, IN, STARTSWITH ANDed) or the only order on name,
		// which the rules index, the engine walks name's index instead: in
		// index order (store.CompareIndexed, then sys_id; backwards by name
		// for ORDERBYDESCname), only the records of those classes whose name
		// the name filters keep. It reads none of them when nothing else
		// filters or sorts, else up to the scan limit of them.
		var rows []map[string]string
		scanned, capped := 0, false
		own, rest := q.ownClasses()
		filters, left := rest.filters()
		sortKeyed := len(q.order) > 0 && q.order[0] != orderTerm{field: "sys_id"}
		limited := len(rest.alternatives) > 0 || sortKeyed
		byName := len(q.order) == 1 && q.order[0].field == "name"
		walked := byName
		var onName []engine.Filter
		reads := len(left.alternatives) > 0 || sortKeyed && !byName
		for _, f := range filters {
			if f.Attribute == "name" {
				walked, onName = true, append(onName, f)
			} else {
				reads = true
			}
		}
		if maxScan == 0 {
			maxScan = engine.DefaultMaxScan
		}
		var candidates []*store.Record
		err = e.List(context.Background(), class, func(rec *store.Record) error {
			if own != nil && !slices.ContainsFunc(own, func(c string) bool { return strings.EqualFold(c, rec.Class) }) {
				return nil
			}
			candidates = append(candidates, rec)
			return nil
		})
		if err != nil {
			rt.Fatal(err)
		}
		if walked {
			limited = reads
			candidates = slices.DeleteFunc(candidates, func(rec *store.Record) bool {
				return slices.ContainsFunc(onName, func(f engine.Filter) bool { return !f.Match(rec) })
			})
			desc := byName && q.order[0].desc
			slices.SortFunc(candidates, func(a, b *store.Record) int {
				n := store.CompareIndexed(row(a)["name"], row(b)["name"])
				if desc {
					n = -n
				}
				return cmp.Or(n, strings.Compare(a.SysID, b.SysID))
			})
		}
		for _, rec := range candidates {
			if limited && scanned == maxScan {
				capped = true
				break
			}
			scanned++
			if m := row(rec); q.match(m) {
				rows = append(rows, m)
			}
		}
		q.sort(rows)
		var all []string
		for _, m := range rows {
			all = append(all, m["sys_id"])
		}

		get := func(offset, limit int) ([]string, int, bool) {
			v := url.Values{"sysparm_query": {qs}, "sysparm_offset": {strconv.Itoa(offset)}, "sysparm_limit": {strconv.Itoa(limit)}, "sysparm_fields": {"sys_id"}}
			resp, err := http.Get(srv.URL + "/api/now/table/" + class + "?" + v.Encode())
			if err != nil {
				rt.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Result []map[string]string }
			if resp.StatusCode != http.StatusOK {
				rt.Fatalf("%s: status %d", qs, resp.StatusCode)
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				rt.Fatal(err)
			}
			total, _ := strconv.Atoi(resp.Header.Get("X-Total-Count"))
			var ids []string
			for _, m := range body.Result {
				ids = append(ids, m["sys_id"])
			}
			return ids, total, resp.Header.Get("X-Scan-Capped") != ""
		}

		offset := rapid.IntRange(0, n+2).Draw(rt, "offset")
		limit := rapid.IntRange(0, n+2).Draw(rt, "limit")
		ids, total, gotCapped := get(offset, limit)
		want := all[min(offset, len(all)):]
		want = want[:min(limit, len(want))]
		if diff := gocmp.Diff(want, ids, cmpEmpty); diff != "" {
			rt.Fatalf("%s %s offset %d limit %d: page (-want +got):\n%s", class, qs, offset, limit, diff)
		}
		if total != len(all) || gotCapped != capped {
			rt.Fatalf("%s %s: total %d capped %v, want %d capped %v", class, qs, total, gotCapped, len(all), capped)
		}

		size := rapid.IntRange(1, 7).Draw(rt, "pageSize")
		var joined []string
		for off := 0; off < len(all)+size; off += size {
			page, _, _ := get(off, size)
			joined = append(joined, page...)
		}
		if diff := gocmp.Diff(all, joined, cmpEmpty); diff != "" {
			rt.Fatalf("%s %s: pages of %d joined (-want +got):\n%s", class, qs, size, diff)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(joined)))) != len(joined) {
			rt.Fatalf("%s %s: pages repeat a record: %v", class, qs, joined)
		}
	})
}

// cmpEmpty treats nil and empty lists alike.
var cmpEmpty = gocmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

// A filter on the record's own class narrows the classes read instead of
// reading records: its total is exact however small the scan limit, and no
// scan-limit warning is sent; another term ANDed to it reads only the
// records of the classes it names. Filters and orders on name, which the
// rules index, read no records either, in the Table and the CMDB Instance
// APIs alike.
func TestClassFilterReadsNoRecords(t *testing.T) {
	e, err := engine.Open("", engine.Options{InMemory: true, MaxScan: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.Loader()
	classes := []string{"cmdb_ci_linux_server", "cmdb_ci_win_server", "cmdb_ci_netgear"}
	for i := range 30 {
		rec := &store.Record{SysID: fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), Class: classes[i%3], Values: map[string]any{"name": fmt.Sprintf("h%d", i)}}
		if err := l.PutCI(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/now/table/{class}", (&handler{e: e}).tableList)
	mux.HandleFunc("GET /api/now/cmdb/instance/{class}", (&handler{e: e}).instanceList)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, c := range []struct {
		table, query string
		total        string
		capped       bool
		first        string // the first row's name, when set
	}{
		{"cmdb_ci", "name=H7", "1", false, "h7"},
		{"cmdb_ci", "nameINh1,H2,h1", "2", false, ""},
		{"cmdb_ci", "nameSTARTSWITHH2", "11", false, ""},
		{"cmdb_ci", "ORDERBYname", "30", false, "h0"},
		{"cmdb_ci", "ORDERBYDESCname", "30", false, "h9"},
		{"cmdb_ci_win_server", "nameSTARTSWITHh2^ORDERBYDESCname", "3", false, "h28"},
		{"cmdb_ci", "nameSTARTSWITHh2^nameLIKE2", "5", true, ""}, // LIKE is read on the index's 11 candidates, up to the limit
		{"../cmdb/instance/cmdb_ci", "name=h7", "1", false, "h7"},
		{"../cmdb/instance/cmdb_ci", "ORDERBYDESCname", "30", false, "h9"},
		{"cmdb_ci", "sys_class_name=cmdb_ci_linux_server", "10", false, ""},
		{"cmdb_ci", "sys_class_nameINCMDB_CI_WIN_SERVER,cmdb_ci_netgear", "20", false, ""},
		{"cmdb_ci", "sys_class_name=cmdb_ci_linux_server^ORDERBYsys_id", "10", false, ""},
		{"cmdb_ci", "sys_class_name=cmdb_ci_linux_server^ORsys_class_name=cmdb_ci_netgear", "5", true, ""}, // an OR group is matched on records
		{"cmdb_ci", "sys_class_name=cmdb_ci_netgear^nameSTARTSWITHh", "10", false, ""},                     // name's index answers it
		{"cmdb_ci_server", "sys_class_name=cmdb_ci_netgear^nameSTARTSWITHh", "0", false, ""},               // not a server: no class is read
	} {
		path := "/api/now/table/" + c.table
		if table, ok := strings.CutPrefix(c.table, "../cmdb/instance/"); ok {
			path = "/api/now/cmdb/instance/" + table
		}
		resp, err := http.Get(srv.URL + path + "?sysparm_limit=3&sysparm_query=" + url.QueryEscape(c.query))
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Result []map[string]string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if got, capped := resp.Header.Get("X-Total-Count"), resp.Header.Get(api.ScanCappedHeader) != ""; err != nil || resp.StatusCode != 200 || got != c.total || capped != c.capped {
			t.Errorf("%s %s: status %d, X-Total-Count %s, capped %v (%v); want 200, %s, %v", path, c.query, resp.StatusCode, got, capped, err, c.total, c.capped)
		}
		if c.first != "" && (len(body.Result) == 0 || body.Result[0]["name"] != c.first) {
			t.Errorf("%s %s: rows %v, want %s first", path, c.query, body.Result, c.first)
		}
	}
}
