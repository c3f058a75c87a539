package ui

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

// Search pages hold pageSize rows; a class is counted up to countCap.
const (
	pageSize = 25
	countCap = 1_000
)

var sysIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

type searchData struct {
	Class, Field, Value string
	Classes             []string
	Fields              []string
	Rows                []row
	Searched            bool
	Total               int
	Capped              bool
	// How says which way the query was answered and what it cost.
	How      string
	Next     string // URL of the following page, "" on the last
	Prev     string
	From, To int
}

// row is one CI in a list.
type row struct {
	SysID, Class, Name string
	Updated            string
}

func rowOf(rec *store.Record) row {
	return row{SysID: rec.SysID, Class: rec.Class, Name: text(rec.Values["name"]), Updated: when(rec.Updated)}
}

// search answers the search page: by sys_id, by an attribute's value
// (engine.Find: the class's index when the attribute is indexed, else a
// scan, which the page says), or the class's records a page at a time
// by cursor (engine.BrowseClass, which never reads the class whole).
func (c *Console) search(r *http.Request, v *view) (string, error) {
	q := r.URL.Query()
	rs := c.cfg.Engine.Rules()
	d := &searchData{Class: strings.TrimSpace(q.Get("class")), Field: strings.TrimSpace(q.Get("field")), Value: strings.TrimSpace(q.Get("value")),
		Classes: rs.Classes()}
	if d.Class == "" {
		d.Class = "cmdb_ci"
	}
	if d.Field == "" {
		d.Field = "name"
	}
	v.Title, v.Data = "Search", d
	cls, ok := rs.Class(d.Class)
	if !ok {
		v.Notice = "No class is named " + strconv.Quote(d.Class) + "; the rules declare " + strconv.Itoa(len(d.Classes)) + " classes (the list offers them)."
		return "search.html", nil
	}
	d.Fields = append([]string{"name", "sys_id"}, cls.Indexed...)
	for _, a := range identify.IdentifyingAttributes(rs, d.Class) {
		if !slices.Contains(d.Fields, a) {
			d.Fields = append(d.Fields, a)
		}
	}
	if !q.Has("class") && !q.Has("value") {
		return "search.html", nil // the empty form
	}
	d.Searched = true
	ctx := r.Context()
	switch {
	case d.Value != "" && (d.Field == "sys_id" || sysIDPattern.MatchString(d.Value) && d.Field == "name"):
		rec, err := c.cfg.Engine.Record(ctx, strings.ToLower(d.Value))
		if errors.Is(err, engine.ErrNotFound) {
			d.How = "by sys_id: no CI has it"
			return "search.html", nil
		}
		if err != nil {
			return "", err
		}
		if !slices.Contains(rs.Descendants(d.Class), rec.Class) {
			d.How = "by sys_id: CI " + rec.SysID + " is a " + rec.Class + ", not in class " + d.Class
			return "search.html", nil
		}
		d.Rows, d.Total, d.From, d.To = []row{rowOf(rec)}, 1, 1, 1
		d.How = "by sys_id: one key read"
	case d.Value != "":
		offset, _ := strconv.Atoi(q.Get("offset"))
		offset = max(offset, 0)
		pg, byIdentity, err := c.cfg.Engine.FindByIdentity(ctx, d.Class, d.Field, d.Value, offset, pageSize)
		if err != nil {
			return "", err
		}
		if !byIdentity {
			pg, err = c.cfg.Engine.Find(ctx, engine.Query{Class: d.Class, Where: []engine.Condition{{Attribute: d.Field, Values: []string{d.Value}}}, Offset: offset, Limit: pageSize})
			if err != nil {
				return "", err
			}
		}
		for _, rec := range pg.Records {
			d.Rows = append(d.Rows, rowOf(rec))
		}
		d.Total, d.From, d.To = pg.Total, offset+1, offset+len(pg.Records)
		switch {
		case byIdentity:
			d.How = "by " + d.Field + " through the identity index: a key seek per class and the matches"
		case pg.Capped:
			d.How = "by " + d.Field + ": no index of " + d.Class + " holds it, and the search stopped at its scan limit of " + strconv.Itoa(pg.Reads) + " records: the count and the rows cover those only (declare it under `indexed` in the rules, or search a narrower class)"
		case pg.Scanned:
			d.How = "by " + d.Field + ": no index of " + d.Class + " holds it, so every record of the class was read (declare it under `indexed` in the rules, or search a class whose CIs are all identified by it alone)"
		default:
			d.How = "by " + d.Field + " through the class's index: the count and the page cost index reads only"
		}
		if offset > 0 {
			d.Prev = searchURL(d, "offset", strconv.Itoa(max(offset-pageSize, 0)))
		}
		if offset+len(pg.Records) < pg.Total {
			d.Next = searchURL(d, "offset", strconv.Itoa(offset+pageSize))
		}
	default:
		b, err := c.cfg.Engine.BrowseClass(ctx, d.Class, q.Get("after"), pageSize, countCap)
		if err != nil {
			return "", err
		}
		for _, rec := range b.Records {
			d.Rows = append(d.Rows, rowOf(rec))
		}
		d.Total, d.Capped = b.Total, b.Capped
		d.From, d.To = 1, len(b.Records)
		d.How = "by class, with its subclasses, a page at a time through the class membership keys"
		if b.Next != "" {
			d.Next = searchURL(d, "after", b.Next)
		}
		if q.Get("after") != "" {
			d.Prev = searchURL(d, "", "")
			d.From, d.To = 0, 0 // a cursor page does not know its position
		}
	}
	return "search.html", nil
}

// searchURL is the search page for d's query with one more parameter.
func searchURL(d *searchData, k, val string) string {
	q := url.Values{"class": {d.Class}}
	if d.Value != "" {
		q.Set("field", d.Field)
		q.Set("value", d.Value)
	}
	if k != "" {
		q.Set(k, val)
	}
	return "/ui/?" + q.Encode()
}
