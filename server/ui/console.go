package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// ReadRoles may use the console, besides admin: the roles that may read
// CIs through the API.
var ReadRoles = []string{"asset", "cmdb_read", "itil"}

// Config assembles a Console.
type Config struct {
	Engine *engine.Engine
	Users  *auth.Users
	// License reads license usage; nil leaves the license page empty.
	License *license.Manager
	// Logger receives one record per page with its server time; nil means
	// slog.Default().
	Logger *slog.Logger
	// Idle and Lifetime end sessions: Idle after the last request, Lifetime
	// after sign-in; 0 means DefaultIdle and DefaultLifetime.
	Idle, Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TrustedProxies are the addresses of TLS-terminating proxies whose
	// X-Forwarded-Proto: https makes the session cookie Secure; the
	// header from any other client is ignored.
	TrustedProxies []netip.Prefix
}

// Console serves the web console.
type Console struct {
	cfg      Config
	pages    map[string]*template.Template
	sessions *sessions
}

// New builds a console.
func New(cfg Config) (*Console, error) {
	if cfg.Engine == nil || cfg.Users == nil {
		return nil, errors.New("ui: Config needs an Engine and Users")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	c := &Console{cfg: cfg, pages: map[string]*template.Template{},
		sessions: newSessions(cfg.Idle, cfg.Lifetime, cfg.Now)}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("ui: %w", err)
		}
		c.pages[n[len("templates/"):]] = t
	}
	return c, nil
}

// Group is the console's routes, to mount on the server with the API
// groups. They are public to the server's authentication: the console
// checks its own session cookie, which the API never accepts.
func (c *Console) Group() api.Group {
	page := func(name string, h pageHandler) http.HandlerFunc { return c.page(name, false, h) }
	admin := func(name string, h pageHandler) http.HandlerFunc { return c.page(name, true, h) }
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/ui/static/", http.FileServerFS(static))
	return api.Group{Name: "console", WriteError: writeError, Run: c.run, Routes: []api.Route{
		{Method: "GET", Path: "/ui", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		}},
		{Method: "GET", Path: "/ui/static/", Public: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			files.ServeHTTP(w, r)
		}},
		{Method: "GET", Path: "/ui/signin", Public: true, Handler: c.signinForm},
		{Method: "POST", Path: "/ui/signin", Public: true, Handler: c.signin},
		{Method: "POST", Path: "/ui/signout", Public: true, Handler: c.signout},
		{Method: "GET", Path: "/ui/{$}", Public: true, Handler: page("search", c.search)},
		{Method: "GET", Path: "/ui/ci/{sys_id}", Public: true, Handler: page("ci", c.ci)},
		{Method: "GET", Path: "/ui/ci/{sys_id}/graph", Public: true, Handler: page("graph", c.graph)},
		{Method: "GET", Path: "/ui/queues", Public: true, Handler: page("queues", c.queues)},
		{Method: "POST", Path: "/ui/duplicates/{id}/merge", Public: true, Handler: admin("merge", c.merge)},
		{Method: "POST", Path: "/ui/duplicates/{id}/dismiss", Public: true, Handler: admin("dismiss", c.dismiss)},
		{Method: "GET", Path: "/ui/license", Public: true, Handler: page("license", c.licensePage)},
	}}
}

// run sweeps expired sessions while the server runs.
func (c *Console) run(ctx context.Context, _ *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.sessions.sweep()
		}
	}
}

// view is what every page template sees.
type view struct {
	Title  string
	User   *auth.User
	Admin  bool
	CSRF   string
	Nav    string
	Notice string
	Data   any
	// Elapsed is the server time spent before rendering.
	Elapsed time.Duration
	// redirect, set by a POST handler, answers 303 See Other to it, with
	// Notice kept for that page: reloading it does not post again.
	redirect string
}

// pageHandler answers one page: the template to render (by file name) and
// its data, or an error.
type pageHandler func(r *http.Request, v *view) (tmpl string, err error)

// httpError is an error with a status and a message for people.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// page wraps a page handler: the session (redirecting to sign-in without
// one), the role check, CSRF on POST, rendering, security headers and
// one log record with the page's server time.
func (c *Console) page(name string, adminOnly bool, h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		setHeaders(w)
		u, ses, sid := c.user(r)
		if u == nil {
			if r.Method != http.MethodGet {
				c.fail(w, r, nil, start, name, errorf(http.StatusForbidden, "Your session has ended: sign in again."))
				return
			}
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v := &view{User: u, Admin: isAdmin(u), CSRF: ses.csrf, Nav: name}
		var err error
		switch {
		case !mayUse(u):
			err = errorf(http.StatusForbidden, "%s", noRole(u))
		case adminOnly && !v.Admin:
			err = errorf(http.StatusForbidden, "Only users with the %s role may do this.", auth.Admin)
		case r.Method == http.MethodPost && !c.checkPost(r, ses.csrf):
			err = errorf(http.StatusForbidden, "The form's security token is missing or wrong (CSRF protection); reload the page and try again.")
		}
		tmpl := ""
		if err == nil {
			tmpl, err = h(r, v)
		}
		if err != nil {
			c.fail(w, r, v, start, name, err)
			return
		}
		if v.redirect != "" {
			c.sessions.setNotice(sid, v.Notice)
			http.Redirect(w, r, v.redirect, http.StatusSeeOther)
			c.logPage(r, name, u.Name, http.StatusSeeOther, start)
			return
		}
		if r.Method == http.MethodGet {
			if n := c.sessions.takeNotice(sid); n != "" && v.Notice == "" {
				v.Notice = n
			}
		}
		v.Elapsed = time.Since(start)
		c.render(w, r, http.StatusOK, tmpl, v, start, name)
	}
}

// checkPost checks a form's CSRF token and, when the browser names one,
// its origin.
func (c *Console) checkPost(r *http.Request, token string) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return false
		}
	}
	return sameToken(r.PostFormValue("csrf"), token)
}

// user returns the signed-in user of r, the session and its id, or nils.
func (c *Console) user(r *http.Request) (*auth.User, *session, string) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil, ""
	}
	ses := c.sessions.get(ck.Value)
	if ses == nil {
		return nil, nil, ""
	}
	u, err := c.cfg.Users.Get(ses.user)
	if err != nil { // removed since: the session ends
		c.sessions.end(ck.Value)
		return nil, nil, ""
	}
	return u, ses, ck.Value
}

func isAdmin(u *auth.User) bool { return slices.Contains(u.Roles, auth.Admin) }

// fail renders an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *view, start time.Time, name string, err error) {
	status, msg := http.StatusInternalServerError, "The console could not read the store: "+err.Error()
	var he *httpError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, engine.ErrNotFound):
		status, msg = http.StatusNotFound, "No CI has that sys_id."
	default:
		c.cfg.Logger.Error("console page failed", "page", name, "path", r.URL.Path, "err", err)
	}
	if v == nil {
		v = &view{}
	}
	v.Title, v.Data = http.StatusText(status), msg
	c.render(w, r, status, "error.html", v, start, name)
}

// render executes a template into a buffer first, so a failure still
// answers a whole page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, tmpl string, v *view, start time.Time, name string) {
	var buf bytes.Buffer
	t := c.pages[tmpl]
	if t == nil {
		panic("ui: no template " + tmpl)
	}
	if err := t.Execute(&buf, v); err != nil {
		c.cfg.Logger.Error("console template failed", "template", tmpl, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>The page could not be rendered.</p>")
	}
	elapsed := time.Since(start)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Server-Timing", "app;dur="+strconv.FormatFloat(float64(elapsed.Microseconds())/1000, 'f', 2, 64))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	user := ""
	if v.User != nil {
		user = v.User.Name
	}
	c.logPage(r, name, user, status, start)
}

func (c *Console) logPage(r *http.Request, name, user string, status int, start time.Time) {
	c.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "console page",
		slog.String("page", name), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.String("user", user), slog.Duration("server_time", time.Since(start)))
}

// setHeaders sets what every console page answers with: no caching, no
// framing, scripts and styles from the console only.
func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// writeError answers the server's own refusals (an oversized form, say)
// as plain text.
func writeError(w http.ResponseWriter, _ *http.Request, e *api.Error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, "%s: %s\n", e.Message, e.Detail)
}

// mayUse reports whether u may use the console at all.
func mayUse(u *auth.User) bool { return u.HasAnyRole(ReadRoles) }

func noRole(u *auth.User) string {
	return fmt.Sprintf("User %s has none of the roles the console needs (%s, or one of %v).", u.Name, auth.Admin, ReadRoles)
}
