package ilmt

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// pagerTable has a column of each kind a list sorts by, and custom fields.
var pagerTable = &table{
	columns: []column{{name: "id", kind: number}, {name: "name"}, {name: "qty", kind: number, null: true}, {name: "day", kind: date}},
	order:   []string{"name"},
	dynamic: usageCustomField,
}

// listedTable is pagerTable with rows listed by id, whatever order they
// come in.
var listedTable = func() *table {
	t := *pagerTable
	t.listed = func(a, b row) int { return a["id"].(int) - b["id"].(int) }
	return &t
}()

// modelList is the list as it was built before rows were streamed: every
// row in memory, the default columns widened by the custom fields any row
// has, then filtered, sorted stably and paged. The pager must answer as it
// does.
func modelList(q *query, t *table, rows []row) (total int, page []row, columns []column) {
	columns = slices.Clone(q.columns)
	if !q.explicit && t.dynamic != nil {
		var names []string
		for _, r := range rows {
			for k := range r {
				if _, static := t.column(k); static && !slices.ContainsFunc(t.columns, func(c column) bool { return c.name == k }) && !slices.Contains(names, k) {
					names = append(names, k)
				}
			}
		}
		slices.Sort(names)
		for _, n := range names {
			c, _ := t.dynamic(n)
			columns = append(columns, c)
		}
	}
	matched := rows[:0:0]
	for _, r := range rows {
		if q.criteria.match(r) {
			matched = append(matched, r)
		}
	}
	slices.SortStableFunc(matched, func(a, b row) int {
		for _, o := range q.order {
			n := compareValues(a[o.col.name], b[o.col.name])
			if o.desc {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return 0
	})
	total = len(matched)
	start := min(q.offset, total)
	end := total
	if q.limit >= 0 && q.limit < end-start {
		end = start + q.limit
	}
	return total, matched[start:end], columns
}

// genRows makes rows with few distinct values, so orders meet many ties.
func genRows(t *rapid.T) []row {
	n := rapid.IntRange(0, 60).Draw(t, "rows")
	rows := make([]row, n)
	for i := range rows {
		r := row{"id": i,
			"name": rapid.SampledFrom([]any{"a", "A", "b", "B-2", "", nil, "c"}).Draw(t, "name"),
			"qty":  rapid.SampledFrom([]any{nil, 1, 2.5, 2, 10, -1}).Draw(t, "qty"),
			"day":  rapid.SampledFrom([]any{"2026-01-01", "2026-03-02", "", nil}).Draw(t, "day")}
		if f := rapid.IntRange(0, 4).Draw(t, "custom"); f > 0 {
			r[fmt.Sprintf("custom_field_%d", f)] = rapid.SampledFrom([]any{"x", "Y", nil}).Draw(t, "value")
		}
		rows[i] = r
	}
	return rows
}

// genParams makes the query parameters of a list request.
func genParams(t *rapid.T) url.Values {
	p := url.Values{}
	for i := range rapid.IntRange(0, 3).Draw(t, "orders") {
		o := rapid.SampledFrom([]string{"name", "qty", "day", "id", "custom_field_1", "custom_field_2"}).Draw(t, fmt.Sprint("order", i))
		o += rapid.SampledFrom([]string{"", " desc", " asc"}).Draw(t, fmt.Sprint("dir", i))
		p.Add("order[]", o)
	}
	if c := rapid.SampledFrom([]string{"", `{"and": [["qty", ">", 1]]}`, `{"or": [["name", "begins_with", "b"], ["qty", "is_empty"]]}`,
		`{"and": [["day", "=", "2026-03-02"]]}`, `{"and": [["custom_field_1", "is_not_empty"]]}`, `{"and": [["name", "!=", ["a", "c"]]]}`}).Draw(t, "criteria"); c != "" {
		p.Set("criteria", c)
	}
	if rapid.Bool().Draw(t, "columns") {
		p.Add("columns[]", "id")
		p.Add("columns[]", "name")
	}
	if rapid.Bool().Draw(t, "hasOffset") {
		p.Set("offset", fmt.Sprint(rapid.IntRange(0, 70).Draw(t, "offset")))
	}
	if rapid.Bool().Draw(t, "hasLimit") {
		p.Set("limit", fmt.Sprint(rapid.IntRange(0, 70).Draw(t, "limit")))
	}
	if rapid.Bool().Draw(t, "countSwitch") {
		p.Set("countSwitch", fmt.Sprint(rapid.IntRange(0, 2).Draw(t, "switch")))
	}
	return p
}

func parsePager(t interface{ Fatalf(string, ...any) }, params url.Values) *query {
	q, pe := pagerTable.parseQuery(&http.Request{URL: &url.URL{RawQuery: params.Encode()}}, critNow)
	if pe != nil {
		t.Fatalf("%v: %v", params, pe)
	}
	return q
}

func ids(rows []row) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = r["id"].(int)
	}
	return out
}

// TestPagerMatchesModel: the list built a row at a time answers as the
// list built from every row: the total, the page in its order, the
// columns, and the reply's bytes. With table.listed, rows that come in
// any order answer as the list of the rows in the listed order.
func TestPagerMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rows, params := genRows(t), genParams(t)
		q := parsePager(t, params)
		total, page, columns := modelList(parsePager(t, params), pagerTable, rows)

		tb, come := pagerTable, rows
		if rapid.Bool().Draw(t, "listed") {
			tb, come = listedTable, rapid.Permutation(rows).Draw(t, "come")
		}
		p := q.pager(tb)
		for _, r := range come {
			rw := p.next() // a map the pager let go of, as the lists fill them
			maps.Copy(rw, r)
			p.add(rw)
		}
		reply, err := marshal(p.reply())
		if err != nil {
			t.Fatal(err)
		}
		if q.countSwitch == 2 {
			page = nil // not asked for: none kept
		}
		if p.total != total || !slices.Equal(ids(p.page()), ids(page)) || !slices.Equal(q.columns, columns) {
			t.Fatalf("%v\nstreamed: total %d page %v columns %v\nmodel:    total %d page %v columns %v",
				params, p.total, ids(p.page()), q.columns, total, ids(page), columns)
		}
		mq := parsePager(t, params)
		mq.columns = columns
		want := object{}
		if mq.countSwitch != 1 {
			want = append(want, field{"total", total})
		}
		rendered := []object{}
		if mq.countSwitch != 2 {
			for _, r := range page {
				rendered = append(rendered, mq.render(r))
			}
		}
		wantBytes, _ := marshal(append(want, field{"rows", rendered}))
		if string(reply) != string(wantBytes) {
			t.Fatalf("%v\nstreamed %s\nmodel    %s", params, reply, wantBytes)
		}
	})
}

// TestPagerPagesCover: the pages of one query, one after the other, give
// the whole list once, in order, with no row twice or missing.
func TestPagerPagesCover(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rows, params := genRows(t), genParams(t)
		params.Del("offset")
		params.Del("countSwitch")
		size := rapid.IntRange(1, 7).Draw(t, "size")
		params.Set("limit", fmt.Sprint(size))
		all := url.Values{}
		for k, v := range params {
			all[k] = v
		}
		all.Del("limit")
		whole := parsePager(t, all).pager(pagerTable)
		for _, r := range rows {
			whole.add(r)
		}
		var joined []int
		for off := 0; ; off += size {
			params.Set("offset", fmt.Sprint(off))
			p := parsePager(t, params).pager(pagerTable)
			for _, r := range rows {
				p.add(r)
			}
			if p.total != whole.total {
				t.Fatalf("offset %d: total %d, whole list %d", off, p.total, whole.total)
			}
			got := ids(p.page())
			if len(got) == 0 {
				break
			}
			joined = append(joined, got...)
		}
		if want := ids(whole.page()); !slices.Equal(joined, want) {
			t.Fatalf("%v: pages %v, whole list %v", params, joined, want)
		}
	})
}

// TestPagerBounded: without a limit a page holds maxLimit rows, a larger
// limit is served as maxLimit, and the pager never keeps more than offset
// + limit rows.
func TestPagerBounded(t *testing.T) {
	for _, c := range []struct {
		query     string
		page, max int
	}{
		{"", maxLimit, maxLimit},
		{"limit=20000", maxLimit, maxLimit},
		{"limit=10&offset=5", 10, 15},
		{"limit=10&offset=10010", 0, maxLimit + 5},
		{"countSwitch=2", 0, 0},
	} {
		params, _ := url.ParseQuery(c.query)
		params.Set("order[]", "qty desc")
		p := parsePager(t, params).pager(pagerTable)
		most := 0
		for i := range maxLimit + 5 {
			p.add(row{"id": i, "name": "n", "qty": i % 7, "day": nil})
			most = max(most, len(p.top.rows))
		}
		if got := p.page(); p.total != maxLimit+5 || len(got) != c.page || most > c.max {
			t.Fatalf("%s: total %d, page of %d, kept up to %d rows; want %d, %d, at most %d", c.query, p.total, len(got), most, maxLimit+5, c.page, c.max)
		}
	}
}
