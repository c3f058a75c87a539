package tmf637

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// Role is the role every route of the package accepts (ServiceNow's role
// for its Product Inventory Open API; TMF637 clients use it too).
const Role = "sn_prd_invt.product_inventory_integrator"

// Roles are the roles the package's routes accept.
var Roles = []string{Role}

// The URL paths served.
const (
	tmfBase     = "/tmf-api/productInventory/v4"
	tmfProducts = tmfBase + "/product"
	tmfHub      = tmfBase + "/hub"
	snProducts  = "/api/sn_prd_invt/product"
	snInventory = "/api/sn_prd_invt/productinventory"
	// snOrderProducts is where ServiceNow documents PATCH and DELETE.
	snOrderProducts = "/api/sn_prd_invt/order/product"
)

// Options tune event delivery; the zero value is ready for use.
type Options struct {
	// Client posts events to listeners; nil means one with a 10-second
	// timeout that connects only to addresses the two fields below allow
	// (callbacks.go). A Client given here guards its own connections.
	Client *http.Client
	// AllowCallbacks are addresses listeners may be at although they are
	// loopback, link-local or (with DenyPrivateCallbacks) private.
	AllowCallbacks []netip.Prefix
	// DenyPrivateCallbacks refuses private addresses too.
	DenyPrivateCallbacks bool
	// An event a listener does not take is tried again until it does:
	// first after Backoff (default 1s), then after twice as long each
	// time, up to MaxBackoff (default 5 minutes).
	Backoff, MaxBackoff time.Duration
	// BaseURL starts the href of products in events (e.g.
	// https://cmdb.example.com); "" leaves hrefs relative to the server.
	BaseURL string
	// Logger hears of failed deliveries; nil means slog.Default().
	Logger *slog.Logger
	// Observer, when not nil, hears how every delivery attempt ends.
	Observer Observer
}

func (o Options) guard() callbackGuard {
	return callbackGuard{allow: o.AllowCallbacks, denyPrivate: o.DenyPrivateCallbacks}
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = o.guard().client(10 * time.Second)
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	return o
}

// handler holds what the handlers share.
type handler struct {
	e   *engine.Engine
	hub *hub
}

// Routes serves the TMF637 v4 paths and ServiceNow's Product Inventory Open
// API over e, with the default Options.
func Routes(e *engine.Engine) api.Group { return New(e, Options{}) }

// New serves both APIs over e. Both show the same products; events of
// writes through either reach the TMF637 listeners.
func New(e *engine.Engine, o Options) api.Group {
	h := &handler{e: e, hub: newHub(e, o.withDefaults())}
	roles := []string{Role}
	rs := []api.Route{
		{Method: "GET", Path: tmfProducts, Roles: roles, Handler: h.tmfRead},
		{Method: "POST", Path: tmfProducts, Roles: roles, Handler: h.tmfCreate},
		{Method: "GET", Path: tmfProducts + "/{id}", Roles: roles, Handler: h.tmfRead},
		{Method: "PATCH", Path: tmfProducts + "/{id}", Roles: roles, Handler: h.tmfPatch},
		{Method: "DELETE", Path: tmfProducts + "/{id}", Roles: roles, Handler: h.tmfDelete},
		{Method: "POST", Path: tmfHub, Roles: roles, Handler: h.register},
		{Method: "DELETE", Path: tmfHub + "/{id}", Roles: roles, Handler: h.unregister},
	}
	// ServiceNow documents PATCH and DELETE under /order/product/{id}, and
	// its own DELETE example uses /product/{id}: both are served.
	for _, base := range []string{snProducts, snOrderProducts} {
		rs = append(rs,
			api.Route{Method: "PATCH", Path: base + "/{id}", Roles: roles, Handler: h.snPatch},
			api.Route{Method: "DELETE", Path: base + "/{id}", Roles: roles, Handler: h.snDelete},
		)
	}
	for _, deprecated := range []bool{false, true} {
		base := snProducts
		if deprecated {
			base = snInventory
		}
		rs = append(rs,
			api.Route{Method: "GET", Path: base, Roles: roles, Handler: h.snRead(deprecated)},
			api.Route{Method: "GET", Path: base + "/{id}", Roles: roles, Handler: h.snRead(deprecated)},
			api.Route{Method: "POST", Path: base, Roles: roles, Handler: h.snCreate(deprecated)},
		)
	}
	return api.Group{Name: "tmf637", Routes: rs, WriteError: writeError}
}

// writeError answers in the shape of the API the request was for: TMF637's
// Error on its paths, ServiceNow's envelope on ServiceNow's.
func writeError(w http.ResponseWriter, r *http.Request, e *api.Error) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if !strings.HasPrefix(r.URL.Path, tmfBase+"/") {
		api.WriteError(w, r, e)
		return
	}
	api.NoteError(r, e)
	reason, message := e.Message, e.Detail
	if message == "" {
		message = reason
	}
	api.WriteJSON(w, e.Status, map[string]any{
		"code":    errorCode(e.Status),
		"reason":  reason,
		"message": message,
		"status":  strconv.Itoa(e.Status),
		"@type":   "Error",
	})
}

// errorCode names an error's kind for TMF637's Error.code.
func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_REQUEST"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "CONFLICT"
	case http.StatusRequestEntityTooLarge:
		return "PAYLOAD_TOO_LARGE"
	case http.StatusUnsupportedMediaType:
		return "UNSUPPORTED_MEDIA_TYPE"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	}
	return "INTERNAL_ERROR"
}
