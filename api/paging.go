package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// PageLinks is the Link header of one page of a list: first, prev, next
// and last, each the request's own URL with the offset and limit parameters
// (named as the API names them) set. It is empty when limit is 0.
func PageLinks(r *http.Request, offsetParam, limitParam string, offset, limit, total int) string {
	return PageLinksRel(r, offsetParam, limitParam, offset, limit, total, "prev")
}

// PageLinksRel is PageLinks with the relation of the page before named
// prevRel (ServiceNow's Product Inventory API names it "previous").
func PageLinksRel(r *http.Request, offsetParam, limitParam string, offset, limit, total int, prevRel string) string {
	if limit <= 0 {
		return ""
	}
	link := func(off int, rel string) string {
		q := r.URL.Query()
		q.Set(offsetParam, strconv.Itoa(off))
		q.Set(limitParam, strconv.Itoa(limit))
		return fmt.Sprintf("<%s%s?%s>;rel=%q", BaseURL(r), r.URL.Path, q.Encode(), rel)
	}
	links := []string{link(0, "first")}
	if offset > 0 {
		links = append(links, link(max(offset-limit, 0), prevRel))
	}
	if offset < total-limit {
		links = append(links, link(offset+limit, "next"))
	}
	return strings.Join(append(links, link(max(total-1, 0)/limit*limit, "last")), ",")
}

// BaseURL is the scheme and host the client reached the server by.
func BaseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
