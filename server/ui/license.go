package ui

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/irego/irego/license"
)

type licenseData struct {
	Available bool
	State     *license.State
	Period    string
	Rows      []complianceRow
	Chart     chart
	Drill     *drillData
}

type complianceRow struct {
	Title, Metric, Publisher string
	TitleID                  uint64
	Peak                     float64
	PeakDay                  string
	Entitled                 string // "unlimited", or a number
	Difference               string
	Compliant                bool
	Contracts                []string
}

// chart is the bar chart of peak against entitlement, laid out here so the
// template draws rectangles only.
type chart struct {
	Width, Height int
	Bars          []bar
}

type bar struct {
	Label                 string
	Y, PeakW, EntW, TextY int
	Peak, Entitled        string
	Over                  bool
	HasEnt                bool
}

type drillData struct {
	Title, Metric string
	Systems       []drillRow // the largest peaks, at most drillLimit
	Total         int        // the computer systems with a peak
}

type drillRow struct {
	SysID, Name, Class string
	Value              float64
	Day                string
}

// drillLimit bounds the computer systems a drill-down lists: a title on
// every computer of a large estate would make a page of megabytes.
const drillLimit = 200

const (
	chartLabelW = 260
	chartBarW   = 420
	chartRowH   = 34
)

// licensePage shows the last import's compliance per title and metric in
// All Computers: the 90-day peak against the entitlement of the contracts,
// as a chart and a table, and the computer systems behind one peak.
func (c *Console) licensePage(r *http.Request, v *view) (string, error) {
	d := &licenseData{}
	v.Title, v.Data = "License usage", d
	m := c.cfg.License
	if m == nil {
		return "license.html", nil
	}
	d.Available = true
	ctx := r.Context()
	rows, st, err := m.Compliance(ctx, license.AllComputers)
	if err != nil {
		return "", err
	}
	d.State = st
	if st.Day != "" {
		d.Period = st.PeriodStart() + " – " + st.Day
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Title.Name() != rows[j].Title.Name() {
			return rows[i].Title.Name() < rows[j].Title.Name()
		}
		return rows[i].Metric.CodeName < rows[j].Metric.CodeName
	})
	top := 1.0
	for _, x := range rows {
		top = max(top, x.Peak)
		if x.Entitled != license.Unlimited {
			top = max(top, float64(x.Entitled))
		}
	}
	for i, x := range rows {
		cr := complianceRow{Title: x.Title.Name(), Metric: x.Metric.CodeName, Publisher: x.Title.Publisher, TitleID: x.Title.ID,
			Peak: x.Peak, PeakDay: x.PeakDay, Contracts: x.Contracts, Entitled: "unlimited", Compliant: true}
		b := bar{Label: cr.Title + " · " + cr.Metric, Y: i * chartRowH, TextY: i*chartRowH + 20, PeakW: int(x.Peak / top * chartBarW), Peak: num(x.Peak)}
		if diff, ok := x.Difference(); ok {
			cr.Entitled, cr.Difference, cr.Compliant = strconv.Itoa(x.Entitled), num(diff), diff >= 0
			b.HasEnt, b.EntW, b.Entitled = true, int(float64(x.Entitled)/top*chartBarW), strconv.Itoa(x.Entitled)
		}
		b.Over = !cr.Compliant
		d.Rows = append(d.Rows, cr)
		d.Chart.Bars = append(d.Chart.Bars, b)
	}
	d.Chart.Width, d.Chart.Height = chartLabelW+chartBarW+120, max(len(rows), 1)*chartRowH
	if t, metric := r.URL.Query().Get("title"), r.URL.Query().Get("metric"); t != "" && metric != "" {
		id, _ := strconv.ParseUint(t, 10, 64)
		peaks, total, _, err := m.PeaksOf(ctx, id, metric, drillLimit)
		if err != nil {
			return "", err
		}
		dd := &drillData{Metric: metric, Total: total}
		for _, p := range peaks {
			dd.Title = p.Title.Name()
			dd.Systems = append(dd.Systems, drillRow{SysID: p.System.SysID, Name: p.System.Name, Class: p.System.Class, Value: p.Value, Day: p.Day})
		}
		d.Drill = dd
	}
	return "license.html", nil
}

// num writes a quantity in full: 373334080, not the template's default
// 3.7333408e+08.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
