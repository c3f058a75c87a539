package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/ui"
)

// env is a real irego server with the console mounted: Badger on disk,
// the engine, users, the server's routing, over real HTTP.
type env struct {
	URL     string
	Engine  *engine.Engine
	Console *ui.Console
	logs    *syncBuffer
	clock   *clock
	ts      *httptest.Server
	License *license.Manager
	Users   *auth.Users
}

// Users of every test server; each one's password is name+"-password".
var testUsers = map[string][]string{"root": {auth.Admin}, "reader": {"cmdb_read"}, "nobody": {"sam_user"}}

func password(name string) string { return name + "-password" }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start serves the console and the ServiceNow API; tls serves HTTPS.
func start(t testing.TB, tls bool) *env {
	t.Helper()
	return startAt(t, t.TempDir(), tls)
}

// startAt serves the store in dir; stop ends it, so a test can serve the
// same store again.
func startAt(t testing.TB, dir string, tls bool, opts ...func(*ui.Config)) *env {
	t.Helper()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	users := auth.New(e.Store())
	users.Cost = bcrypt.MinCost
	for name, roles := range testUsers {
		if _, err := users.Get(name); err == nil {
			continue // served before
		}
		if _, err := users.Add(name, password(name), roles); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	clk := &clock{t: time.Now()}
	lic := license.New(e, license.Options{Logger: log})
	cfg := ui.Config{Engine: e, Users: users, License: lic, Logger: log, Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := ui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: e, Users: users, Logger: log, Groups: []api.Group{servicenow.Routes(e), c.Group()}})
	if err != nil {
		t.Fatal(err)
	}
	var ts *httptest.Server
	if tls {
		ts = httptest.NewTLSServer(srv.Handler())
	} else {
		ts = httptest.NewServer(srv.Handler())
	}
	t.Cleanup(ts.Close)
	return &env{URL: ts.URL, Engine: e, Console: c, logs: logs, clock: clk, ts: ts, License: lic, Users: users}
}

// stop closes the server and the store.
func (v *env) stop(t testing.TB) {
	v.ts.Close()
	if err := v.Engine.Close(); err != nil {
		t.Fatal(err)
	}
}

// apply applies a payload (JSON text or a file under examples/) as source.
func (v *env) apply(t testing.TB, source, body string) *engine.Result {
	t.Helper()
	if strings.HasSuffix(body, ".json") {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", body))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	p, err := payload.DecodeBytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Engine.Apply(context.Background(), source, p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.HasError {
		t.Fatalf("apply %s: %+v", source, res.Items)
	}
	return res
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (v *env) browser(t testing.TB, client *http.Client) *browser {
	jar, _ := cookiejar.New(nil)
	if client == nil {
		client = &http.Client{}
	}
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, base: v.URL, c: client}
}

type page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token is the CSRF token of a page's first form.
func token(t testing.TB, p *page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.Body)
	}
	return m[1]
}

// signIn signs name in and returns the CSRF token of the page it lands on.
func (b *browser) signIn(name string) string {
	b.t.Helper()
	form := b.get("/ui/signin")
	p := b.post("/ui/signin", url.Values{"csrf": {token(b.t, form)}, "name": {name}, "password": {password(name)}, "next": {"/ui/"}})
	if p.Status != http.StatusSeeOther || p.Location != "/ui/" {
		b.t.Fatalf("sign-in of %s: %d %q\n%s", name, p.Status, p.Location, p.Body)
	}
	home := b.get("/ui/")
	if home.Status != http.StatusOK {
		b.t.Fatalf("home after sign-in: %d", home.Status)
	}
	return token(b.t, home)
}

func mustContain(t testing.TB, p *page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("the page (status %d) lacks %q", p.Status, s)
		}
	}
}

func computers(n int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`{"className": "cmdb_ci_computer", "values": {"name": "host-%03d", "serial_number": "SN-%03d"}}`, i, i))
	}
	return `{"items": [` + strings.Join(items, ",") + `]}`
}

// tlsClient trusts the test server's certificate.
func (v *env) tlsClient(t testing.TB) *http.Client {
	return v.ts.Client()
}
