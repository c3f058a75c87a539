package servertest

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/openapitest"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/metrics"
)

// Options shape a test server; the zero value is usable.
type Options struct {
	// Engine to serve; nil opens one on a temporary directory with the
	// default rules.
	Engine *engine.Engine
	// Users to create, name → roles; each one's password is Password(name).
	Users map[string][]string
	// Logger for access logs; nil discards them.
	Logger *slog.Logger
	// MaxBody is the server's body limit; 0 means the server's default.
	MaxBody int64
	// Metrics, when not nil, instruments the server and serves /metrics.
	Metrics *metrics.Metrics
}

// Server is a running test server.
type Server struct {
	URL    string // base URL, e.g. http://127.0.0.1:41234
	Engine *engine.Engine
	Users  *auth.Users
	Server *server.Server
}

// Password is the password Start gives the user name.
func Password(name string) string { return name + "-password" }

// Start serves the groups routes makes over the engine. Passwords are
// hashed at bcrypt's lowest cost, to keep tests fast.
func Start(t testing.TB, routes func(*engine.Engine) []api.Group, o Options) *Server {
	t.Helper()
	e := o.Engine
	if e == nil {
		var err error
		if e, err = engine.Open(t.TempDir(), engine.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { e.Close() })
	users := auth.New(e.Store())
	users.Cost = bcrypt.MinCost
	for name, roles := range o.Users {
		if _, err := users.Add(name, Password(name), roles); err != nil {
			t.Fatal(err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var groups []api.Group
	if routes != nil {
		groups = routes(e)
	}
	srv, err := server.New(server.Config{Engine: e, Users: users, Groups: groups, Logger: o.Logger, MaxBody: o.MaxBody, Metrics: o.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	// Every response is checked against the OpenAPI document.
	ts := httptest.NewServer(openapitest.Handler(t, nil, srv.Handler()))
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, Engine: e, Users: users, Server: srv}
}
