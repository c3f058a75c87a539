package servicenow

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
)

// ServiceNow's XML maps JSON one to one: an object is an element per key,
// an array is the element repeated, the document element is <request> or
// <response>. A usage request is therefore
//
//	<request><items><configuration_item>…</configuration_item>…</items><items>…</items></request>
//
// and <items><item>…</item><item>…</item></items> is read too.

// maxXMLDepth bounds nesting; a usage request needs four levels.
const maxXMLDepth = 16

// isXML reports whether a Content-Type names XML.
func isXML(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/xml" || mt == "text/xml"
}

// wantsXML reports whether an Accept header prefers XML to JSON (JSON is
// the default).
func wantsXML(accept string) bool {
	xmlQ, jsonQ := -1.0, 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "application/xml", "text/xml":
			xmlQ = max(xmlQ, q)
		case "application/json", "application/*", "*/*":
			jsonQ = max(jsonQ, q)
		}
	}
	return xmlQ > jsonQ
}

// xnode is an element of a parsed XML document.
type xnode struct {
	name string
	text strings.Builder
	kids []*xnode
}

func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *xnode
	var stack []*xnode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name.Local}
			switch {
			case len(stack) >= maxXMLDepth:
				return nil, fmt.Errorf("line %d: elements nested deeper than %d", lineOf(b, d.InputOffset()), maxXMLDepth)
			case len(stack) > 0:
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			case root != nil:
				return nil, fmt.Errorf("line %d: a second document element <%s>", lineOf(b, d.InputOffset()), n.name)
			default:
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no XML document element")
	}
	return root, nil
}

func lineOf(b []byte, off int64) int { return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n")) }

// decodeUsageXML reads a usage request in XML. Values are the elements'
// text, trimmed; the rules compare values by their text, so "2" here and 2
// in JSON identify the same record.
func decodeUsageXML(b []byte) ([]usageItem, error) {
	root, err := parseXML(b)
	if err != nil {
		return nil, fmt.Errorf("XML: %w", err)
	}
	lists := root.kids
	if root.name == "items" {
		lists = []*xnode{root}
	}
	var nodes []*xnode
	for _, n := range lists {
		switch {
		case n.name != "items" || len(n.kids) == 0:
		case allHaveKids(n.kids): // <items><item>…</item>…</items>
			nodes = append(nodes, n.kids...)
		default: // <items><column>…</column>…</items>, repeated
			nodes = append(nodes, n)
		}
	}
	items := make([]usageItem, len(nodes))
	for i, n := range nodes {
		path := fmt.Sprintf("items[%d]", i)
		for _, col := range n.kids {
			if len(col.kids) > 0 {
				return nil, fmt.Errorf("%s.%s: nested elements are not allowed (values must be text)", path, col.name)
			}
			text := strings.TrimSpace(col.text.String())
			raw, _ := json.Marshal(text)
			if err := items[i].add(path, usageField{name: col.name, value: text, raw: raw, text: text}); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

func allHaveKids(ns []*xnode) bool {
	for _, n := range ns {
		if len(n.kids) == 0 {
			return false
		}
	}
	return true
}

// xmlWriter writes elements, keeping the first error.
type xmlWriter struct {
	enc *xml.Encoder
	err error
}

func newXMLWriter(w http.ResponseWriter, status int) *xmlWriter {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, err := io.WriteString(w, xml.Header)
	return &xmlWriter{enc: xml.NewEncoder(w), err: err}
}

func (x *xmlWriter) start(name string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}})
	}
}

func (x *xmlWriter) end(name string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

func (x *xmlWriter) leaf(name, text string) {
	x.start(name)
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.CharData(text))
	}
	x.end(name)
}

func (x *xmlWriter) flush() {
	if x.err == nil {
		_ = x.enc.Flush() // the client went away; nothing left to tell it
	}
}

// writeUsageXML writes the usage reply as XML, shaped like the JSON one.
func writeUsageXML(w http.ResponseWriter, replies []usageReply, message string) {
	x := newXMLWriter(w, http.StatusOK)
	x.start("response")
	x.start("result")
	x.start("reply")
	for _, rep := range replies {
		x.start("items")
		for _, f := range rep.item {
			x.leaf(f.name, f.text)
		}
		if rep.sysID != "" {
			x.leaf("sysId", rep.sysID)
		}
		x.leaf("status", rep.status)
		for _, is := range rep.errors {
			x.start("errors")
			x.leaf("error", is.Code)
			x.leaf("message", is.Message)
			x.end("errors")
		}
		x.end("items")
	}
	x.end("reply")
	x.leaf("message", message)
	x.end("result")
	x.end("response")
	x.flush()
}

// writeXMLError is ServiceNow's error envelope in XML.
func writeXMLError(w http.ResponseWriter, e *api.Error) {
	x := newXMLWriter(w, e.Status)
	x.start("response")
	x.start("error")
	x.leaf("message", e.Message)
	x.leaf("detail", e.Detail)
	x.end("error")
	x.leaf("status", "failure")
	x.end("response")
	x.flush()
}
