package ilmt

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/license"
	"github.com/irego/irego/settings"
)

// dimension columns name software titles and computer systems.
var (
	titleColumns = []column{
		{name: "software_title_dimension.name", hidden: true}, {name: "software_title_dimension.guid", hidden: true},
		{name: "software_title_dimension.publisher_name", hidden: true}, {name: "software_title_dimension.publisher_guid", hidden: true},
	}
	// v1Table is GET /api/sam/license_usages. computer_system_dimension is
	// irego's: the computer's name and sys_id.
	v1Table = &table{
		columns: append(append([]column{
			{name: "software_title_id", kind: number}, {name: "metric_name"}, {name: "computer_system_id", kind: number},
			{name: "peak_value", kind: number}, {name: "peak_date", kind: date}, {name: "peak_time", kind: timestamp},
			{name: "reporting_period_start_date", kind: date}, {name: "reporting_period_end_date", kind: date},
		}, titleColumns...), column{name: "computer_system_dimension.name", hidden: true}, column{name: "computer_system_dimension.sys_id", hidden: true}),
		order: []string{"computer_system_id", "software_title_id", "metric_name"},
		aliases: map[string]string{"publisher_name": "software_title_dimension.publisher_name", "software_title_name": "software_title_dimension.name",
			"computer_system_name": "computer_system_dimension.name"},
	}
	// productColumns have the types License Metric Tool documents, which
	// give metric_id as a string.
	productColumns = []column{
		{name: "product_id", kind: number}, {name: "product_name"}, {name: "product_publisher_name"}, {name: "product_family_guid"},
		{name: "metric_id"}, {name: "metric_code_name"}, {name: "metric_name"},
	}
	// bundleColumns are null for a product in no bundle, as every product
	// irego counts is.
	bundleColumns = []column{
		{name: "bundle_id", kind: number, null: true}, {name: "bundle_name", null: true}, {name: "bundle_guid", null: true},
		{name: "bundle_type", kind: numbers, null: true}, {name: "bundle_metric_contribution", kind: number, null: true},
		{name: "flex_id", kind: number, null: true},
		{name: "product_bundle_ratio_factor", kind: number, null: true}, {name: "product_bundle_ratio_divider", kind: number, null: true},
	}
	// usageTable is GET /api/sam/v2/license_usage; hwm_date and the guids
	// are irego's, hidden.
	usageTable = &table{
		columns: concat(productColumns, []column{{name: "hwm_quantity", kind: number}, {name: "threshold", kind: number, null: true}}, bundleColumns, []column{
			{name: "hwm_date", kind: date, hidden: true}, {name: "product_guid", hidden: true}, {name: "product_publisher_guid", hidden: true}}),
		order:   []string{"product_name", "metric_code_name"},
		dynamic: usageCustomField,
	}
	// perServerTable is GET /api/sam/v2/license_usage_per_server.
	perServerTable = &table{
		columns: concat(productColumns, bundleColumns[:3], []column{
			{name: "server_id", kind: number}, {name: "server_name"}, {name: "hwm_quantity", kind: number}, {name: "hwm_cores", kind: number},
			{name: "computer_system_ids", hidden: true}}),
		order: []string{"server_id", "product_name", "metric_code_name"},
		// license.ServerUsage's order; EachServerUsage reads by server.
		listed: func(a, b row) int {
			return cmp.Or(cmp.Compare(rowID(a, "product_id"), rowID(b, "product_id")),
				cmp.Compare(rowText(a, "metric_code_name"), rowText(b, "metric_code_name")), cmp.Compare(rowID(a, "server_id"), rowID(b, "server_id")))
		},
	}
	// complianceTable is GET /api/sam/v2/compliance.
	complianceTable = &table{
		columns: concat(productColumns, []column{
			{name: "entitled_quantity", kind: number}, {name: "peak_quantity", kind: number}, {name: "peak_date", kind: date},
			{name: "difference", kind: number}, {name: "status"}, {name: "contract_ids"}}),
		order: []string{"product_name", "metric_code_name"},
	}
)

// customFieldPattern names the custom fields of license usage rows.
var customFieldPattern = regexp.MustCompile(`^custom_field_([1-9][0-9]{0,8})$`)

// usageCustomField is the column of a custom field: text, null when not set.
func usageCustomField(name string) (column, bool) {
	if !customFieldPattern.MatchString(name) {
		return column{}, false
	}
	return column{name: name, null: true}, true
}

// rowID and rowText read a row's id and text columns as they were set.
func rowID(r row, col string) uint64 {
	n, _ := r[col].(uint64)
	return n
}

func rowText(r row, col string) string {
	s, _ := r[col].(string)
	return s
}

func concat(parts ...[]column) []column {
	var out []column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// productRow fills the product and metric columns of a row.
func (r row) productRow(t *license.Title, m license.Metric) row {
	r["product_id"], r["product_name"], r["product_publisher_name"] = t.ID, t.Name(), t.Publisher
	r["product_guid"], r["product_family_guid"], r["product_publisher_guid"] = t.GUID, t.GUID, t.PublisherGUID
	r["metric_id"], r["metric_code_name"], r["metric_name"] = strconv.Itoa(m.ID), m.CodeName, m.DisplayName
	return r
}

// unbundled fills the bundle columns of a product that is not in a bundle:
// null, as License Metric Tool leaves them empty.
func (r row) unbundled() row {
	for _, c := range bundleColumns {
		r[c.name] = nil
	}
	return r
}

// GET /api/sam/license_usages: the deprecated peaks, per computer system,
// title and metric. A fault in a query parameter is a 500 "Bad Request",
// as documented.
func (h *handler) licenseUsages(w http.ResponseWriter, r *http.Request) {
	if !h.set.Bool(settings.ExposeDeprecatedAPI) {
		writeError(w, r, api.Errorf(http.StatusNotFound, "Not Found",
			"GET /api/sam/license_usages is deprecated and disabled; use /api/sam/v2/license_usage, or set %s to true (PUT /api/sam/configs)", settings.ExposeDeprecatedAPI))
		return
	}
	if g, err := h.m.Scope(viewer(r), license.AllComputers); err != nil || g.ID != license.AllComputers {
		writeError(w, r, api.Errorf(http.StatusForbidden, "Forbidden", "this API needs the All Computers computer group, which user %q is not granted", viewer(r).Name))
		return
	}
	q, pe := v1Table.parseQuery(r, h.now())
	if pe != nil {
		writeError(w, r, queryError(http.StatusInternalServerError, pe))
		return
	}
	q.countSwitch = 0 // not this API's: it answers the rows
	p := q.pager(v1Table)
	var start string // the period's first day, the same on every row
	st, err := h.m.EachPeak(r.Context(), func(st *license.State, pk license.PeakUsage) error {
		if start == "" {
			start = st.PeriodStart()
		}
		rw := p.next()
		rw["software_title_id"], rw["metric_name"], rw["computer_system_id"] = pk.Title.ID, pk.Metric.CodeName, pk.System.ID
		rw["peak_value"], rw["peak_date"], rw["peak_time"] = pk.Value, pk.Day, pk.At.UTC().Format(time.RFC3339)
		rw["reporting_period_start_date"], rw["reporting_period_end_date"] = start, st.Day
		rw["software_title_dimension.name"], rw["software_title_dimension.guid"] = pk.Title.Name(), pk.Title.GUID
		rw["software_title_dimension.publisher_name"], rw["software_title_dimension.publisher_guid"] = pk.Title.Publisher, pk.Title.PublisherGUID
		rw["computer_system_dimension.name"], rw["computer_system_dimension.sys_id"] = pk.System.Name, pk.System.SysID
		p.add(rw)
		return nil
	})
	if err != nil {
		writeError(w, r, internal(err))
		return
	}
	page := p.page()
	out := make([]object, 0, len(page))
	for _, r := range page {
		out = append(out, q.render(r))
	}
	importHeaders(w, st)
	writeJSON(w, http.StatusOK, out)
}

// period reads startdate and enddate: by default the Window days up to the
// last successful import (today before any).
func (h *handler) period(r *http.Request, st *license.State) (from, to string, e *api.Error) {
	end := st.Day
	if end == "" {
		end = h.now().UTC().Format(time.DateOnly)
	}
	if to, e = dateParam(r, "enddate", end, http.StatusBadRequest); e != nil {
		return "", "", e
	}
	start, _ := time.Parse(time.DateOnly, to)
	if from, e = dateParam(r, "startdate", start.AddDate(0, 0, 1-license.Window).Format(time.DateOnly), http.StatusBadRequest); e != nil {
		return "", "", e
	}
	if to < from {
		return "", "", api.Errorf(http.StatusBadRequest, "Bad Request", "enddate: %s is before startdate %s", to, from)
	}
	return from, to, nil
}

// serveRows answers a v2 list: the common query parameters, then the rows
// fetch adds to the pager one at a time (setting what headers it has to),
// or the error it meets. Only the rows that may be on the page are kept.
func (h *handler) serveRows(w http.ResponseWriter, r *http.Request, t *table, fetch func(p *pager) *api.Error) {
	q, pe := t.parseQuery(r, h.now())
	if pe != nil {
		writeError(w, r, queryError(http.StatusBadRequest, pe))
		return
	}
	p := q.pager(t)
	if e := fetch(p); e != nil {
		writeError(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, p.reply())
}

// addAll adds rows held in memory.
func (p *pager) addAll(rows []row) {
	for _, r := range rows {
		p.add(r)
	}
}

// scope reads the import state and the computer group a usage request
// covers, and sets the Import-* and computerGroupId headers.
func (h *handler) scope(w http.ResponseWriter, r *http.Request) (*license.State, *license.Group, *api.Error) {
	st, err := h.m.State()
	if err != nil {
		return nil, nil, internal(err)
	}
	g, e := h.groupParam(r, http.StatusBadRequest)
	if e != nil {
		return nil, nil, e
	}
	echo(w, "computerGroupId", strconv.Itoa(g.ID))
	importHeaders(w, st)
	return st, g, nil
}

// GET /api/sam/v2/license_usage: per title and metric, the high-water mark
// in a computer group over a period.
func (h *handler) licenseUsage(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, usageTable, func(p *pager) *api.Error {
		st, g, e := h.scope(w, r)
		if e != nil {
			return e
		}
		from, to, e := h.period(r, st)
		if e != nil {
			return e
		}
		// One row per product and metric: few, whatever the estate.
		usage, err := h.m.ProductUsage(r.Context(), g.ID, from, to)
		if err != nil {
			return internal(err)
		}
		set, err := h.m.UsageSettings(g.ID)
		if err != nil {
			return internal(err)
		}
		for _, u := range usage {
			rw := p.next().productRow(u.Title, u.Metric).unbundled()
			rw["hwm_quantity"], rw["hwm_date"], rw["threshold"] = u.Quantity, u.Day, nil
			s := set[license.UsageKey{Group: g.ID, Title: u.Title.ID, Metric: u.Metric.ID}]
			if s.Threshold != nil {
				rw["threshold"] = *s.Threshold
			}
			for id, v := range s.Custom {
				rw[fmt.Sprintf("custom_field_%d", id)] = v
			}
			p.add(rw)
		}
		echo(w, "startdate", from)
		echo(w, "enddate", to)
		return nil
	})
}

// GET /api/sam/v2/license_usage_per_server?date=: per title, metric and
// server, what the server used that day.
func (h *handler) perServer(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, perServerTable, func(p *pager) *api.Error {
		if r.URL.Query().Get("date") == "" {
			return api.Errorf(http.StatusBadRequest, "Bad Request", "date: missing; give the day as date=YYYY-MM-DD")
		}
		d, e := dateParam(r, "date", "", http.StatusBadRequest)
		if e != nil {
			return e
		}
		_, g, e := h.scope(w, r)
		if e != nil {
			return e
		}
		err := h.m.EachServerUsage(r.Context(), g.ID, d, func(u license.ServerUsage) error {
			rw := p.next().productRow(u.Title, u.Metric).unbundled()
			ids := make([]string, len(u.Systems))
			for i, id := range u.Systems {
				ids[i] = strconv.FormatUint(id, 10)
			}
			rw["server_id"], rw["server_name"] = u.Server.ID, u.Server.Name
			rw["hwm_quantity"], rw["hwm_cores"], rw["computer_system_ids"] = u.Quantity, u.Server.Cores(), strings.Join(ids, ",")
			p.add(rw)
			return nil
		})
		if err != nil {
			return internal(err)
		}
		echo(w, "date", d)
		return nil
	})
}

// GET /api/sam/v2/compliance: per title and metric, what the computer
// group's contracts entitle beside the peak use.
func (h *handler) compliance(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, complianceTable, func(p *pager) *api.Error {
		_, g, e := h.scope(w, r)
		if e != nil {
			return e
		}
		// One row per product and metric: few, whatever the estate.
		cs, _, err := h.m.Compliance(r.Context(), g.ID)
		if err != nil {
			return internal(err)
		}
		for _, c := range cs {
			rw := row{}.productRow(c.Title, c.Metric)
			rw["entitled_quantity"], rw["peak_quantity"], rw["peak_date"] = c.Entitled, c.Peak, c.PeakDay
			rw["status"], rw["contract_ids"] = "compliant", strings.Join(c.Contracts, ",")
			if diff, ok := c.Difference(); ok {
				rw["difference"] = diff
				if diff < 0 {
					rw["status"] = "not_compliant"
				}
			}
			p.add(rw)
		}
		return nil
	})
}

// echo sets a response header spelt as the query parameter it echoes
// (Header.Set would make computerGroupId Computergroupid; HTTP header
// names are case-insensitive, but clients written against License Metric
// Tool may look for the spelling they know).
func echo(w http.ResponseWriter, name, value string) { w.Header()[name] = []string{value} }
