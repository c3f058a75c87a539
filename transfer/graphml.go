package transfer

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// graphml writes the CIs as nodes and their relations as directed edges
// (related records such as installs are left out: they are not nodes of
// the CI graph). GraphML declares its attribute keys before the graph, so
// a first pass collects the attribute names.
func (x *exporter) graphml(r store.Reader) error {
	attrs := map[string]bool{}
	err := x.records(r, func(rec *store.Record) error {
		if !rec.Related {
			for k := range rec.Values {
				attrs[k] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	names := sortedKeys(attrs)
	return x.stream("graph.graphml", func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
`)
		key := func(id, domain, name string) {
			fmt.Fprintf(bw, "  <key id=\"%s\" for=\"%s\" attr.name=\"%s\" attr.type=\"string\"/>\n", id, domain, escape(name))
		}
		key("label", "node", "label")
		key("class", "node", "sys_class_name")
		key("source", "node", "discovery_source")
		key("updated", "node", "sys_updated_on")
		id := map[string]string{}
		for i, n := range names {
			id[n] = fmt.Sprintf("a%d", i)
			key(id[n], "node", n)
		}
		key("type", "edge", "type")
		bw.WriteString("  <graph id=\"cmdb\" edgedefault=\"directed\">\n")
		data := func(key, value string) {
			if value != "" {
				fmt.Fprintf(bw, "<data key=\"%s\">%s</data>", key, escape(value))
			}
		}
		err := x.records(r, func(rec *store.Record) error {
			if rec.Related {
				return nil
			}
			x.count(rec)
			fmt.Fprintf(bw, "    <node id=\"%s\">", rec.SysID)
			label := payload.Canonical(rec.Values["name"])
			if label == "" {
				label = rec.SysID
			}
			data("label", label)
			data("class", rec.Class)
			data("source", rec.Source)
			data("updated", snTime(rec.Updated))
			for _, k := range sortedKeys(rec.Values) {
				data(id[k], payload.Canonical(rec.Values[k]))
			}
			_, err := bw.WriteString("</node>\n")
			return err
		})
		if err != nil {
			return err
		}
		err = x.edges(r, func(ed *store.Edge) error {
			for _, end := range []string{ed.Parent, ed.Child} {
				if rec, err := store.ReadRecord(r, end); err != nil || rec == nil || rec.Related {
					return err // an edge to a related record has no node to end at
				}
			}
			x.st.Edges++
			fmt.Fprintf(bw, "    <edge id=\"%s\" source=\"%s\" target=\"%s\">", ed.SysID, ed.Parent, ed.Child)
			data("type", ed.Type)
			_, err := bw.WriteString("</edge>\n")
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("  </graph>\n</graphml>\n")
		return bw.Flush()
	})
}

// escape makes text safe in XML character data and attribute values;
// characters XML cannot hold become U+FFFD.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
