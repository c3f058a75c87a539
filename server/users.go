package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/store"
)

// userRequest is the body of POST /api/irego/users and PUT
// /api/irego/users/{name}; PUT changes only what it names.
type userRequest struct {
	Name     string    `json:"name"`
	Password *string   `json:"password"`
	Roles    *[]string `json:"roles"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.cfg.Users.List()
	if users == nil {
		users = []auth.User{}
	}
	s.replyUser(w, r, http.StatusOK, users, err)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.cfg.Users.Get(r.PathValue("name"))
	if err == nil {
		w.Header().Set("ETag", api.ETag(u.Version))
	}
	s.replyUser(w, r, http.StatusOK, u, err)
}

// ifMatch reads the user's If-Match: nil when the write is unconditional,
// else the version it must find (the one the tags name). ok is false when
// it answered already (no such user, or a tag naming another version).
func (s *Server) ifMatch(w http.ResponseWriter, r *http.Request) (version *uint64, ok bool) {
	if r.Header.Get("If-Match") == "" {
		return nil, true
	}
	u, err := s.cfg.Users.Get(r.PathValue("name"))
	if err != nil {
		s.userError(w, r, err)
		return nil, false
	}
	conditional, e := api.IfMatch(r, u.Version)
	if e != nil {
		api.WriteError(w, r, e)
		return nil, false
	}
	if !conditional {
		return nil, true
	}
	return &u.Version, true
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readUser(w, r)
	if !ok {
		return
	}
	if req.Password == nil || req.Roles == nil {
		api.WriteError(w, r, api.Errorf(http.StatusBadRequest, "Invalid user", `give "name", "password" and "roles"`))
		return
	}
	u, err := s.cfg.Users.Add(req.Name, *req.Password, *req.Roles)
	s.replyUser(w, r, http.StatusCreated, u, err)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readUser(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if req.Password == nil && req.Roles == nil {
		api.WriteError(w, r, api.Errorf(http.StatusBadRequest, "Invalid user", `give "password", "roles" or both`))
		return
	}
	version, ok := s.ifMatch(w, r)
	if !ok {
		return
	}
	c := auth.Change{Password: req.Password, IfVersion: version}
	if req.Roles != nil {
		c.Roles = *req.Roles
	}
	u, err := s.cfg.Users.Update(name, c)
	if err == nil {
		w.Header().Set("ETag", api.ETag(u.Version))
	}
	s.replyUser(w, r, http.StatusOK, u, err)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	version, ok := s.ifMatch(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Users.DeleteIf(r.PathValue("name"), version); err != nil {
		s.userError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readUser decodes a user request and checks its roles against the roles
// the server knows.
func (s *Server) readUser(w http.ResponseWriter, r *http.Request) (*userRequest, bool) {
	body, e := api.ReadBody(r)
	if e != nil {
		api.WriteError(w, r, e)
		return nil, false
	}
	var req userRequest
	if err := api.CheckJSON(body); err != nil {
		api.WriteError(w, r, api.Errorf(http.StatusBadRequest, "Invalid user", "%v", err))
		return nil, false
	}
	if err := json.Unmarshal(body, &req); err != nil {
		api.WriteError(w, r, api.Errorf(http.StatusBadRequest, "Invalid user", "the body must be a JSON object: %v", err))
		return nil, false
	}
	if req.Roles != nil {
		if err := auth.UnknownRoles(*req.Roles, s.roles); err != nil {
			s.userError(w, r, err)
			return nil, false
		}
	}
	return &req, true
}

// replyUser answers {"result": v} with status, or err.
func (s *Server) replyUser(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.userError(w, r, err)
		return
	}
	api.WriteJSON(w, status, map[string]any{"result": v})
}

func (s *Server) userError(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *auth.InvalidError
	switch {
	case errors.As(err, &invalid):
		api.WriteError(w, r, &api.Error{Status: http.StatusBadRequest, Message: "Invalid user", Detail: invalid.Msg})
	case errors.Is(err, auth.ErrNotFound):
		api.WriteError(w, r, api.Errorf(http.StatusNotFound, "No such user", "%s", r.PathValue("name")))
	case errors.Is(err, auth.ErrExists):
		api.WriteError(w, r, &api.Error{Status: http.StatusConflict, Message: "User already exists", Detail: "change it with PUT /api/irego/users/{name}"})
	case errors.Is(err, store.ErrConflict):
		api.WriteError(w, r, &api.Error{Status: http.StatusConflict, Message: "Conflicting change", Detail: "the user kept changing concurrently; send the change again"})
	case errors.Is(err, auth.ErrVersionMismatch):
		api.WriteError(w, r, api.Errorf(http.StatusPreconditionFailed, "Precondition failed", "user %s changed since it was read; read it again, and send its ETag in If-Match", r.PathValue("name")))
	case errors.Is(err, auth.ErrLastAdmin):
		api.WriteError(w, r, &api.Error{Status: http.StatusConflict, Message: "Last admin", Detail: "give another user the admin role first"})
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "user administration", "err", err)
		api.WriteError(w, r, api.StoreError(err))
	}
}
