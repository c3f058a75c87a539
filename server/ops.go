package server

import (
	"errors"
	"net/http"

	"github.com/irego/irego/api"
	"github.com/irego/irego/server/openapi"
	"github.com/irego/irego/store"
	"github.com/irego/irego/version"
)

// MetricsRole may read /metrics on the server's own address (as admin
// may); irego serve --metrics-addr serves them without credentials on an
// address of their own instead.
const MetricsRole = "metrics"

// opsRoutes are the routes an operator's tooling calls: readiness,
// version and, when the server has Metrics, /metrics.
func (s *Server) opsRoutes() []api.Route {
	rts := []api.Route{
		{Method: "GET", Path: "/readyz", Public: true, Handler: s.readyz},
		{Method: "GET", Path: "/api/irego/version", Handler: s.version},
		{Method: "GET", Path: "/api/irego/openapi.json", Public: true, Handler: openapi.Serve},
	}
	if s.cfg.Metrics != nil {
		rts = append(rts, api.Route{Method: "GET", Path: "/metrics", Roles: []string{MetricsRole}, Handler: s.cfg.Metrics.Handler().ServeHTTP})
	}
	return rts
}

// readyz answers 200 once the server can do its work: the store is open
// and takes a write, and the rules are loaded (Open has finished any
// reindex they needed before the server exists). 503 names what is not
// ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]string{"store": "ok", "rules": "ok"}
	ready := true
	if err := writeProbe(s.cfg.Engine.Store()); err != nil {
		checks["store"], ready = err.Error(), false
	}
	if rs := s.cfg.Engine.Rules(); rs == nil || len(rs.Classes()) == 0 {
		checks["rules"], ready = "no rules loaded", false
	}
	if !ready {
		api.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "checks": checks})
}

// writeProbe writes and commits store.ReadyKey: a store that takes a
// write is a store that can take payloads.
func writeProbe(st store.Store) error {
	txn := st.NewTxn()
	defer txn.Discard()
	if err := txn.Set(store.ReadyKey(), []byte("1")); err != nil {
		return errors.Join(errors.New("store does not take writes"), err)
	}
	return txn.Commit()
}

// version answers the running build.
func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, version.Get())
}

// Patterns returns the ServeMux pattern ("METHOD /path/{param}") of every
// route the server mounts, in mounting order: what the OpenAPI document
// must describe.
func (s *Server) Patterns() []string {
	var out []string
	for _, g := range append([]api.Group{s.own()}, s.cfg.Groups...) {
		for _, rt := range g.Routes {
			out = append(out, rt.Method+" "+rt.Path)
		}
	}
	return out
}
