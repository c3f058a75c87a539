package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/irego/irego/api"
)

// refuseOtherMethods answers a method no route serves on a path routes
// serve with 405, an Allow header and the error shape of the path's API
// (net/http would answer plain text). A pattern without a method is less
// specific than those with one, so it only catches the rest. Subtree
// paths (ending in / or a {name...} wildcard) are left to net/http, and so
// is a path whose catch-all would clash with another pattern.
func (s *Server) refuseOtherMethods(groups []api.Group) {
	type path struct {
		g       api.Group
		methods []string
	}
	paths := map[string]*path{}
	var order []string
	for _, g := range groups {
		if g.WriteError == nil {
			g.WriteError = api.WriteError
		}
		for _, rt := range g.Routes {
			if strings.HasSuffix(rt.Path, "/") || strings.HasSuffix(rt.Path, "...}") {
				continue
			}
			p := paths[rt.Path]
			if p == nil {
				p = &path{g: g}
				paths[rt.Path] = p
				order = append(order, rt.Path)
			}
			p.methods = append(p.methods, rt.Method)
			if rt.Method == http.MethodGet {
				p.methods = append(p.methods, http.MethodHead)
			}
		}
	}
	for _, pattern := range order {
		p := paths[pattern]
		slices.Sort(p.methods)
		methods := slices.Compact(p.methods)
		func() {
			defer func() { _ = recover() }() // ServeMux panics on clashing patterns
			s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", strings.Join(methods, ", "))
				p.g.WriteError(w, r, api.MethodNotAllowed(r.Method, methods))
			})
		}()
	}
}
