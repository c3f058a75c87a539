package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// The irego command line's read commands ask a running server through
// these (irego get --server URL …), since the server holds the store:
//
//	GET /api/irego/ci/{sys_id}                  the CI, as irego get prints it
//	GET /api/irego/ci/{sys_id}/history[?as_of=] its changes, or the CI as it was at as_of (RFC 3339)
//	GET /api/irego/partials                     partial payloads waiting and incomplete items kept
//	GET /api/irego/check                        the store's consistency problems (admin)

// ciReadRoles may read CIs, as they may through the table API.
var ciReadRoles = []string{"asset", "cmdb_read", "itil"}

func (s *Server) ciRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/api/irego/ci/{sys_id}", Roles: ciReadRoles, Handler: s.getCI},
		{Method: "GET", Path: "/api/irego/ci/{sys_id}/history", Roles: ciReadRoles, Handler: s.ciHistory},
		{Method: "GET", Path: "/api/irego/partials", Roles: ciReadRoles, Handler: s.partials},
		{Method: "GET", Path: "/api/irego/check", Roles: []string{"admin"}, Handler: s.check},
	}
}

func (s *Server) getCI(w http.ResponseWriter, r *http.Request) {
	ci, err := s.cfg.Engine.Get(r.Context(), r.PathValue("sys_id"))
	if err == nil {
		w.Header().Set("ETag", api.ETag(ci.Version))
	}
	s.reply(w, r, ci, err)
}

func (s *Server) ciHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sys_id")
	if at := r.URL.Query().Get("as_of"); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			api.WriteError(w, r, api.Errorf(http.StatusBadRequest, "Invalid as_of", "%v", err))
			return
		}
		v, err := s.cfg.Engine.AsOf(r.Context(), id, t)
		s.reply(w, r, v, err)
		return
	}
	v, err := s.cfg.Engine.History(r.Context(), id)
	s.reply(w, r, v, err)
}

func (s *Server) partials(w http.ResponseWriter, r *http.Request) {
	partials, err := s.cfg.Engine.Partials()
	if err != nil {
		s.reply(w, r, nil, err)
		return
	}
	incomplete, err := s.cfg.Engine.Incomplete()
	s.reply(w, r, map[string]any{"partial": orEmpty(partials), "incomplete": orEmpty(incomplete)}, err)
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	problems, err := s.cfg.Engine.Check(r.Context())
	s.reply(w, r, map[string]any{"problems": orEmpty(problems)}, err)
}

// reply answers {"result": v}, 404 for engine.ErrNotFound, 500 for
// another error.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		api.WriteError(w, r, api.Errorf(http.StatusNotFound, "No Record found", "no CI with sys_id %s", r.PathValue("sys_id")))
	case err != nil:
		s.cfg.Logger.ErrorContext(r.Context(), "reading the store", "path", r.URL.Path, "err", err)
		api.WriteError(w, r, &api.Error{Status: http.StatusInternalServerError, Message: "Internal server error", Detail: err.Error()})
	default:
		api.WriteJSON(w, http.StatusOK, map[string]any{"result": v})
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
