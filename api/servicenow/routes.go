package servicenow

import (
	"slices"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// The roles each kind of route accepts.
var (
	identifyRoles = []string{"asset", "itil"}
	usageRoles    = []string{"sam_admin", "sam_developer"}
	readRoles     = []string{"asset", "cmdb_read", "itil", "sam_admin", "sam_developer"}
)

// Roles are all the roles the package's routes accept (any of them may
// read), sorted.
var Roles = slices.Clone(readRoles)

// bases are the URL prefixes every route is served under: ServiceNow's
// default URL and its versioned ones.
var bases = []string{"/api/now", "/api/now/v1", "/api/now/v2"}

// handler holds what the handlers share.
type handler struct{ e *engine.Engine }

// Routes returns the ServiceNow APIs over e.
func Routes(e *engine.Engine) api.Group {
	h := &handler{e: e}
	var rs []api.Route
	for _, b := range bases {
		rs = append(rs,
			api.Route{Method: "POST", Path: b + "/identifyreconcile", Roles: identifyRoles, Handler: h.identify(true, false)},
			api.Route{Method: "POST", Path: b + "/identifyreconcile/enhanced", Roles: identifyRoles, Handler: h.identify(true, true)},
			api.Route{Method: "POST", Path: b + "/identifyreconcile/query", Roles: identifyRoles, Handler: h.identify(false, false)},
			api.Route{Method: "POST", Path: b + "/identifyreconcile/queryEnhanced", Roles: identifyRoles, Handler: h.identify(false, true)},
			api.Route{Method: "POST", Path: b + "/sam_software_usage_integration/createOrUpdate", Roles: usageRoles, Handler: h.usage},
			api.Route{Method: "GET", Path: b + "/table/{class}", Roles: readRoles, Handler: h.tableList},
			api.Route{Method: "GET", Path: b + "/table/{class}/{sys_id}", Roles: readRoles, Handler: h.tableGet},
			api.Route{Method: "GET", Path: b + "/cmdb/instance/{class}", Roles: readRoles, Handler: h.instanceList},
			api.Route{Method: "GET", Path: b + "/cmdb/instance/{class}/{sys_id}", Roles: readRoles, Handler: h.instanceGet},
		)
	}
	return api.Group{Name: "servicenow", Routes: rs, WriteError: writeError}
}
