package ui

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/irego/irego/engine"
)

// Graph bounds: depth 1 to 3, at most maxNodes nodes drawn.
const (
	maxDepth = 3
	maxNodes = 150
	colW     = 300
	nodeW    = 200
	nodeH    = 40
	rowH     = 54
	margin   = 20
)

type graphData struct {
	Center    string
	Name      string
	Depth     int
	Depths    []int
	Nodes     []*gnode
	Edges     []gedge
	Hidden    int // neighbours found but not drawn (over the cap)
	Filtered  int // relations left out by the filter
	Types     []filterOpt
	Classes   []filterOpt
	Width     int
	Height    int
	Cap       int
	Filtering bool
}

type filterOpt struct {
	Name, Colour string
	On           bool
}

type gnode struct {
	SysID, Class, Name, Label, Colour string
	Depth, Row, X, Y                  int
	Center                            bool
	parent                            int
}

type gedge struct {
	Type, Label, From, To string
	FromName, ToName      string
	Path, LabelX, LabelY  string
}

// graph draws the CI's neighbourhood breadth-first to the depth asked,
// following relations both ways, as columns by distance. Filters on
// relation type and class apply while walking, so what they leave out is
// not followed either.
func (c *Console) graph(r *http.Request, v *view) (string, error) {
	ctx := r.Context()
	q := r.URL.Query()
	depth, err := strconv.Atoi(q.Get("depth"))
	if err != nil || depth < 1 {
		depth = 2
	}
	depth = min(depth, maxDepth)
	types, classes := filterOf(q["type"], q["offered_type"]), filterOf(q["class"], q["offered_class"])
	d := &graphData{Center: r.PathValue("sys_id"), Depth: depth, Depths: []int{1, 2, 3}, Cap: maxNodes, Filtering: types != nil || classes != nil}
	v.Title, v.Data, v.Nav = "Graph", d, "search"
	seenTypes, seenClasses := map[string]bool{}, map[string]bool{}
	index := map[string]int{}
	hidden := map[string]bool{}
	edgeSeen := map[string]bool{}
	center, err := c.cfg.Engine.Get(ctx, d.Center)
	if err != nil {
		return "", err
	}
	d.Name = text(center.Values["name"])
	v.Title = "Graph of " + ciTitle(center.Class, d.Name, center.SysID)
	add := func(id, class, name string, depth, parent int) {
		index[id] = len(d.Nodes)
		d.Nodes = append(d.Nodes, &gnode{SysID: id, Class: class, Name: name, Depth: depth, parent: parent})
	}
	add(center.SysID, center.Class, d.Name, 0, -1)
	d.Nodes[0].Center = true
	d.Nodes[0].Label = clip(d.Name, 26)
	seenClasses[center.Class] = true
	for i := 0; i < len(d.Nodes); i++ {
		n := d.Nodes[i]
		ci := center
		if i > 0 {
			if ci, err = c.cfg.Engine.Get(ctx, n.SysID); err != nil {
				if errors.Is(err, engine.ErrNotFound) {
					continue // removed meanwhile
				}
				return "", err
			}
			n.Name = text(ci.Values["name"])
		}
		n.Label = clip(n.Name, 26)
		if n.Depth >= depth {
			continue
		}
		follow := func(l engine.Link, out bool) {
			seenTypes[l.Type] = true
			seenClasses[l.Other.Class] = true
			if !types.keeps(l.Type) || !classes.keeps(l.Other.Class) {
				d.Filtered++
				return
			}
			if _, ok := index[l.Other.SysID]; !ok {
				if len(d.Nodes) >= maxNodes {
					hidden[l.Other.SysID] = true
					return
				}
				add(l.Other.SysID, l.Other.Class, "", n.Depth+1, i)
			}
			if edgeSeen[l.SysID] {
				return
			}
			edgeSeen[l.SysID] = true
			from, to := n.SysID, l.Other.SysID
			if !out {
				from, to = to, from
			}
			label, _, _ := strings.Cut(l.Type, "::") // the parent's side, read along the arrow
			d.Edges = append(d.Edges, gedge{Type: l.Type, Label: label, From: from, To: to})
		}
		for _, l := range ci.Outbound {
			follow(l, true)
		}
		for _, l := range ci.Inbound {
			follow(l, false)
		}
	}
	d.Hidden = len(hidden)
	for _, t := range sortedKeys(seenTypes) {
		d.Types = append(d.Types, filterOpt{Name: t, On: types.keeps(t)})
	}
	// Colours by the classes this graph met, so each has its own; the
	// legend is the class filter.
	colours := map[string]string{}
	for i, cl := range sortedKeys(seenClasses) {
		colours[cl] = palette[i%len(palette)]
		d.Classes = append(d.Classes, filterOpt{Name: cl, Colour: colours[cl], On: classes.keeps(cl)})
	}
	for _, n := range d.Nodes {
		n.Colour = colours[n.Class]
	}
	layout(d, index)
	return "graph.html", nil
}

// layout places nodes in columns by distance, each column ordered by the
// row of the node that found it, then class and name, and draws edges
// between their sides.
func layout(d *graphData, index map[string]int) {
	cols := map[int][]*gnode{}
	for _, n := range d.Nodes {
		cols[n.Depth] = append(cols[n.Depth], n)
	}
	rows := 1
	for depth := 0; depth <= maxDepth; depth++ {
		col := cols[depth]
		sort.SliceStable(col, func(i, j int) bool {
			a, b := col[i], col[j]
			pa, pb := parentRow(d, a), parentRow(d, b)
			if pa != pb {
				return pa < pb
			}
			if a.Class != b.Class {
				return a.Class < b.Class
			}
			return a.Name < b.Name
		})
		for r, n := range col {
			n.Row, n.X, n.Y = r, margin+depth*colW, margin+r*rowH
		}
		rows = max(rows, len(col))
	}
	width := 0
	for depth := range cols {
		width = max(width, margin+depth*colW+nodeW+margin)
	}
	d.Width, d.Height = max(width, 300), margin*2+rows*rowH
	for i := range d.Edges {
		e := &d.Edges[i]
		a, b := d.Nodes[index[e.From]], d.Nodes[index[e.To]]
		e.FromName, e.ToName = nodeName(a), nodeName(b)
		ay, by := a.Y+nodeH/2, b.Y+nodeH/2
		if a.X == b.X { // same column: an arc on the right
			x := a.X + nodeW
			e.Path = "M" + itoa(x) + " " + itoa(ay) + " C" + itoa(x+50) + " " + itoa(ay) + " " + itoa(x+50) + " " + itoa(by) + " " + itoa(x) + " " + itoa(by)
			e.LabelX, e.LabelY = itoa(x+42), itoa((ay+by)/2)
			continue
		}
		x1, x2 := a.X+nodeW, b.X // the arrow runs from parent to child, whichever side it is on
		if a.X > b.X {
			x1, x2 = a.X, b.X+nodeW
		}
		mid := (x1 + x2) / 2
		e.Path = "M" + itoa(x1) + " " + itoa(ay) + " C" + itoa(mid) + " " + itoa(ay) + " " + itoa(mid) + " " + itoa(by) + " " + itoa(x2) + " " + itoa(by)
		e.LabelX, e.LabelY = itoa(mid), itoa((ay+by)/2-4)
	}
}

// parentRow is the row of the node that found n (placed earlier, one
// column to the left); -1 for the centre.
func parentRow(d *graphData, n *gnode) int {
	if n.parent < 0 {
		return -1
	}
	return d.Nodes[n.parent].Row
}

func itoa(i int) string { return strconv.Itoa(i) }

// filter is what the graph's filter form asks for: nil keeps everything.
// The form offers the types and classes the graph met; those offered but
// unchecked are left out, so a deeper walk still meets new ones. A query
// naming only checked values (a link) keeps those alone.
type filter struct {
	only, drop []string
}

func filterOf(checked, offered []string) *filter {
	switch {
	case len(offered) > 0:
		f := &filter{}
		for _, o := range offered {
			if !slices.Contains(checked, o) {
				f.drop = append(f.drop, o)
			}
		}
		if len(f.drop) == 0 {
			return nil
		}
		return f
	case len(checked) > 0:
		return &filter{only: checked}
	}
	return nil
}

func (f *filter) keeps(v string) bool {
	if f == nil {
		return true
	}
	if f.only != nil {
		return slices.Contains(f.only, v)
	}
	return !slices.Contains(f.drop, v)
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func nodeName(n *gnode) string {
	if n.Name != "" {
		return n.Name
	}
	return n.Class + " " + n.SysID
}
