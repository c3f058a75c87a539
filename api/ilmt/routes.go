package ilmt

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/settings"
)

// The permissions of License Metric Tool, as roles.
const (
	ViewLicenseMetrics = "view_license_metrics"
	ManageContracts    = "manage_contracts"
)

// Roles are the roles the package's routes accept, sorted.
var Roles = []string{ManageContracts, ViewLicenseMetrics}

var (
	anyRole   = Roles
	viewRoles = []string{ViewLicenseMetrics}
	manage    = []string{ManageContracts}
	admin     = []string{auth.Admin}
)

// handler holds what the handlers share.
type handler struct {
	m     *license.Manager
	set   *settings.Settings
	users *auth.Users
	now   func() time.Time
}

// Routes returns License Metric Tool's APIs over e, with a license manager
// whose imports the server schedules (settings.ImportInterval).
func Routes(e *engine.Engine) api.Group {
	return RoutesFor(license.New(e, license.Options{}), auth.New(e.Store()))
}

// RoutesFor returns the APIs over a license manager and the users whose
// passwords POST /api/get_token checks.
func RoutesFor(m *license.Manager, users *auth.Users) api.Group {
	h := &handler{m: m, set: m.Settings(), users: users, now: m.Now}
	rs := []api.Route{
		{Method: "POST", Path: "/api/get_token", Public: true, Handler: h.getToken},
		{Method: "GET", Path: "/api/import_status.json", Roles: anyRole, Handler: h.importStatus},
		{Method: "GET", Path: "/api/management/imports.json", Roles: anyRole, Handler: h.importStatus},
		{Method: "GET", Path: "/api/sam/configs", Roles: admin, Handler: h.getConfigs},
		{Method: "PUT", Path: "/api/sam/configs", Roles: admin, Handler: h.putConfigs},
		{Method: "GET", Path: "/api/sam/license_usages", Roles: viewRoles, Handler: h.licenseUsages},
		{Method: "GET", Path: "/api/sam/v2/license_usage", Roles: viewRoles, Handler: h.licenseUsage},
		{Method: "PUT", Path: "/api/sam/v2/license_usage", Roles: manage, Handler: h.putLicenseUsage},
		{Method: "GET", Path: "/api/sam/v2/license_usage_per_server", Roles: viewRoles, Handler: h.perServer},
		{Method: "GET", Path: "/api/sam/v2/compliance", Roles: viewRoles, Handler: h.compliance},
		{Method: "GET", Path: "/api/sam/v2/metrics", Roles: anyRole, Handler: h.metrics},
		{Method: "GET", Path: "/api/sam/v2/computer_groups", Roles: anyRole, Handler: h.groups},
		{Method: "PUT", Path: "/api/sam/v2/computer_groups", Roles: admin, Handler: h.putGroups},
		{Method: "DELETE", Path: "/api/sam/v2/computer_groups/{id}", Roles: admin, Handler: h.deleteGroup},
		{Method: "GET", Path: "/api/sam/v2/schemas/{schema}", Roles: anyRole, Handler: h.schema},
	}
	for _, p := range []string{"/api/sam/v2/contracts", "/api/sam/v2/contracts.json"} {
		rs = append(rs,
			api.Route{Method: "GET", Path: p, Roles: manage, Handler: h.contracts},
			api.Route{Method: "PUT", Path: p, Roles: manage, Handler: h.importContracts},
			api.Route{Method: "POST", Path: p, Roles: manage, Handler: h.importContracts},
		)
	}
	return api.Group{Name: "ilmt", Routes: rs, Auth: api.AuthToken, WriteError: writeError,
		Run: func(ctx context.Context, log *slog.Logger) { m.Schedule(ctx, log) }}
}

// viewer is who sends the request.
func viewer(r *http.Request) license.Viewer {
	u := auth.FromContext(r.Context())
	if u == nil {
		return license.Viewer{}
	}
	return license.Viewer{Name: u.Name, Admin: slices.Contains(u.Roles, auth.Admin)}
}

// writeJSON answers v, in US English as every reply.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Language", "en-US")
	api.WriteJSON(w, status, v)
}

// writeError renders an error in irego's envelope, in US English.
func writeError(w http.ResponseWriter, r *http.Request, e *api.Error) {
	w.Header().Set("Content-Language", "en-US")
	api.WriteError(w, r, e)
}

// internal is the reply to a store failure.
func internal(err error) *api.Error {
	return api.StoreError(err)
}

// importHeaders sets the Import-* headers of a license usage reply.
func importHeaders(w http.ResponseWriter, st *license.State) {
	h := w.Header()
	h.Set("Import-Mode", st.Mode)
	switch st.Mode {
	case license.ModeRunning:
		if st.Progress != nil {
			h.Set("Import-Progress", strconv.Itoa(*st.Progress))
		}
	case license.ModeIdle, license.ModePending:
		if st.LastStatus != "" {
			h.Set("Import-Last-Status", st.LastStatus)
		}
		if !st.LastSuccess.IsZero() {
			h.Set("Import-Last-Success-Time", st.LastSuccess.UTC().Format(time.RFC3339))
		}
	}
}

// groupParam reads computerGroupId: the viewer's default group when
// absent. A group the viewer may not see is a 403.
func (h *handler) groupParam(r *http.Request, status int) (*license.Group, *api.Error) {
	id := -1
	if s := r.URL.Query().Get("computerGroupId"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, api.Errorf(status, "Bad Request", "computerGroupId: %q is not a computer group id (a whole number >= 0)", s)
		}
		id = n
	}
	g, err := h.m.Scope(viewer(r), id)
	if err == license.ErrNoGroup {
		if id < 0 {
			return nil, api.Errorf(http.StatusForbidden, "Forbidden", "user %q is granted no computer group; an admin grants one with PUT /api/sam/v2/computer_groups", viewer(r).Name)
		}
		return nil, api.Errorf(http.StatusForbidden, "Forbidden", "computerGroupId: no computer group %d that user %q may see", id, viewer(r).Name)
	}
	if err != nil {
		return nil, internal(err)
	}
	return g, nil
}

// dateParam reads a YYYY-MM-DD parameter; def when absent.
func dateParam(r *http.Request, name, def string, status int) (string, *api.Error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", api.Errorf(status, "Bad Request", "%s: %q is not a date YYYY-MM-DD", name, s)
	}
	return s, nil
}

// queryError is the reply to a bad query parameter, with the status the
// API documents.
func queryError(status int, pe *paramError) *api.Error {
	return &api.Error{Status: status, Message: "Bad Request", Detail: pe.Error()}
}
