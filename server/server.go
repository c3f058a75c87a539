package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server/metrics"
	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// DefaultMaxBody bounds request bodies unless Config.MaxBody says otherwise.
const DefaultMaxBody = 16 << 20

// Config assembles a Server.
type Config struct {
	Engine *engine.Engine
	Users  *auth.Users
	// Groups are the adapters to mount (e.g. servicenow.Routes(e)).
	Groups []api.Group
	// Logger receives one access log record per request; nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxBody bounds a request body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// ShutdownTimeout bounds how long Serve waits for requests in flight
	// once its context ends; 0 means 30 seconds.
	ShutdownTimeout time.Duration
	// Limits bound connections, request bytes and time (limits.go).
	Limits Limits
	// Metrics, when not nil, counts requests and the engine's work and is
	// served at /metrics to admin and MetricsRole (see ops.go).
	Metrics *metrics.Metrics
}

// Server is irego's HTTP server: the adapters' routes behind
// authentication, role checks, a body limit and access logs.
type Server struct {
	cfg      Config
	limits   Limits
	flight   *inFlight
	mux      *http.ServeMux
	roles    []string
	settings *settings.Settings
	streams  streams // long-lived replies, ended at shutdown (events.go)
}

// New builds the server's routes. It fails when two routes claim the same
// pattern.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Users == nil {
		return nil, errors.New("server: Config needs an Engine and Users")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = withRequestIDs(cfg.Logger)
	if cfg.Users.OnThrottle == nil {
		log := cfg.Logger
		cfg.Users.OnThrottle = func(ctx context.Context, err error) { log.WarnContext(ctx, "failed sign-ins", "err", err) }
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	limits := cfg.Limits.withDefaults()
	s := &Server{cfg: cfg, limits: limits, flight: &inFlight{max: max(limits.MaxInFlight, cfg.MaxBody)},
		mux: http.NewServeMux(), roles: []string{auth.Admin}, settings: settings.New(cfg.Engine.Store()), streams: newStreams()}
	if cfg.Metrics != nil {
		cfg.Metrics.Watch(cfg.Engine)
	}
	for _, g := range append([]api.Group{s.own()}, cfg.Groups...) {
		if g.WriteError == nil {
			g.WriteError = api.WriteError
		}
		for _, rt := range g.Routes {
			if err := s.handle(g, rt); err != nil {
				return nil, err
			}
		}
		s.roles = append(s.roles, g.Roles()...)
	}
	s.refuseOtherMethods(append([]api.Group{s.own()}, cfg.Groups...))
	slices.Sort(s.roles)
	s.roles = slices.Compact(s.roles)
	return s, nil
}

// Roles returns every role a user may usefully hold: admin and the roles
// the mounted routes accept, sorted.
func (s *Server) Roles() []string { return slices.Clone(s.roles) }

// Handler returns the server's root handler (routes wrapped in the access
// log and request ids), for httptest or an http.Server of the caller's own.
func (s *Server) Handler() http.Handler {
	if s.cfg.Metrics != nil {
		return withRequestID(s.accessLog(s.cfg.Metrics.Instrument(s.mux)))
	}
	return withRequestID(s.accessLog(s.mux))
}

// Serve answers requests on ln until ctx ends, then stops taking new ones,
// waits for those in flight (at most ShutdownTimeout) and returns. The
// caller closes the engine afterwards. Connections over Limits.MaxConns
// (or Limits.MaxConnsPerAddr from one address) are answered 503 and
// closed.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.limits.HeaderTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.streams.stop)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(newCapListener(ln, s.limits.MaxConns, s.limits.MaxConnsPerAddr)) }()
	bctx, stopBackground := context.WithCancel(ctx)
	defer s.background(bctx)()
	defer stopBackground()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-done // http.ErrServerClosed, now that Shutdown has been called
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// handle mounts one route behind authentication, its role check and the
// body limit.
func (s *Server) handle(g api.Group, rt api.Route) (err error) {
	defer func() {
		if p := recover(); p != nil { // ServeMux panics on conflicting patterns
			err = fmt.Errorf("server: %s route %s %s: %v", g.Name, rt.Method, rt.Path, p)
		}
	}()
	s.mux.Handle(rt.Method+" "+rt.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w = &writer{ResponseWriter: w, rc: rc, idle: s.limits.WriteIdle}
		// Whatever the handler did, what follows it (the reply's last bytes,
		// net/http reading an unread body) is bounded too.
		defer func() { _ = rc.SetWriteDeadline(time.Now().Add(s.limits.WriteIdle)) }()
		refuse := func(e *api.Error) {
			s.refuseBody(w, r)
			g.WriteError(w, r, e)
		}
		// Credentials first: nothing of the body is read for a caller
		// who has none.
		if !rt.Public {
			u, e := s.authenticate(r, g.Auth, rt.Roles)
			if e != nil {
				if e.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
				}
				if e.Status == http.StatusUnauthorized && g.Auth == api.AuthBasic {
					w.Header().Set("WWW-Authenticate", `Basic realm="irego"`)
				}
				refuse(e)
				return
			}
			logUser(r, u.Name)
			r = r.WithContext(auth.WithUser(r.Context(), u))
		}
		limit := s.cfg.MaxBody
		if rt.Public {
			limit = min(limit, publicMaxBody)
		}
		if r.ContentLength > limit {
			refuse(api.TooLarge(limit))
			return
		}
		done, e := s.limitBody(w, r, rc, limit)
		if e != nil {
			refuse(e)
			return
		}
		defer done()
		rt.Handler(w, r)
	}))
	return nil
}

// authenticate checks the caller's credentials, by the group's scheme, and
// roles.
func (s *Server) authenticate(r *http.Request, scheme api.AuthScheme, roles []string) (*auth.User, *api.Error) {
	credentials := s.basicUser
	if scheme == api.AuthToken {
		credentials = s.tokenUser
	}
	u, e := credentials(r)
	if e != nil {
		return nil, e
	}
	if len(roles) > 0 && !u.HasAnyRole(roles) {
		return nil, api.Errorf(http.StatusForbidden, "User Not Authorized", "user %q needs one of the roles %v (or %s)", u.Name, roles, auth.Admin)
	}
	return u, nil
}

// basicUser is the user of a request's HTTP Basic credentials.
func (s *Server) basicUser(r *http.Request) (*auth.User, *api.Error) {
	name, password, ok := r.BasicAuth()
	if !ok {
		return nil, &api.Error{Status: http.StatusUnauthorized, Message: "User Not Authenticated", Detail: "Required to provide Auth information"}
	}
	u, err := s.cfg.Users.SignIn(r.Context(), name, password, r.RemoteAddr)
	return s.verified(r, u, err, name, "Invalid user name or password")
}

// tokenUser is the user of a request's API token.
func (s *Server) tokenUser(r *http.Request) (*auth.User, *api.Error) {
	token := r.Header.Get("Token")
	if token == "" && s.settings.Bool(settings.TokenInURL) {
		token = r.URL.Query().Get("token")
	}
	if token == "" {
		return nil, &api.Error{Status: http.StatusUnauthorized, Message: "User Not Authenticated", Detail: s.tokenHint()}
	}
	u, err := s.cfg.Users.VerifyToken(token)
	return s.verified(r, u, err, "(token)", "Invalid token")
}

// verified maps the outcome of a credential check.
func (s *Server) verified(r *http.Request, u *auth.User, err error, who, invalid string) (*auth.User, *api.Error) {
	if errors.Is(err, auth.ErrBadCredentials) {
		return nil, &api.Error{Status: http.StatusUnauthorized, Message: "User Not Authenticated", Detail: invalid}
	}
	if e := api.Throttled(err); e != nil {
		return nil, e
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "reading user", "user", who, "err", err)
		return nil, &api.Error{Status: http.StatusInternalServerError, Message: "Internal server error", Detail: "cannot read the user's account"}
	}
	return u, nil
}

// tokenHint says where a token goes, as the settings allow.
func (s *Server) tokenHint() string {
	if s.settings.Bool(settings.TokenInURL) {
		return "Required to provide a token: the Token header, or token= in the URL (POST /api/get_token returns one)"
	}
	return "Required to provide a token in the Token header (POST /api/get_token returns one); api_token_in_url_enabled is false"
}

// background starts every group's Run and returns a function that waits
// for them to return (after ctx ends).
func (s *Server) background(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for _, g := range s.cfg.Groups {
		if g.Run != nil {
			wg.Go(func() { g.Run(ctx, s.cfg.Logger) })
		}
	}
	return wg.Wait
}

// own is the server's own group: health, user administration, backups and
// the reads of the command line (ci.go).
func (s *Server) own() api.Group {
	admin := []string{auth.Admin}
	g := api.Group{Name: "irego", Routes: []api.Route{
		{Method: "GET", Path: "/healthz", Public: true, Handler: s.healthz},
		{Method: "GET", Path: "/api/irego/users", Roles: admin, Handler: s.listUsers},
		{Method: "POST", Path: "/api/irego/users", Roles: admin, Handler: s.addUser},
		{Method: "GET", Path: "/api/irego/users/{name}", Roles: admin, Handler: s.getUser},
		{Method: "PUT", Path: "/api/irego/users/{name}", Roles: admin, Handler: s.updateUser},
		{Method: "DELETE", Path: "/api/irego/users/{name}", Roles: admin, Handler: s.deleteUser},
		{Method: "GET", Path: "/api/irego/backup", Roles: admin, Handler: s.backup},
	}}
	g.Routes = append(g.Routes, s.ciRoutes()...)
	g.Routes = append(g.Routes, s.opsRoutes()...)
	g.Routes = append(g.Routes, s.eventRoutes()...)
	return g
}

// healthz answers 200 while the store is open and readable.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Engine.Store().View(func(store.Reader) error { return nil }); err != nil {
		api.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
