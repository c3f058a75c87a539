package ilmt_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
)

// users of every test server: name → roles.
var testUsers = map[string][]string{
	"root":    {auth.Admin},
	"viewer":  {ilmt.ViewLicenseMetrics},
	"manager": {ilmt.ManageContracts},
	"itil":    {"itil"},
}

// env is the whole server over real HTTP with the ILMT routes, Badger on
// disk, and a license manager on a settable clock.
type env struct {
	t      *testing.T
	url    string
	e      *engine.Engine
	m      *license.Manager
	mu     sync.Mutex
	clock  time.Time
	tokens map[string]string
	// hold, when set, stops the next call of the clock until it is closed;
	// held is closed once that call waits.
	hold, held chan struct{}
}

var today = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	v := &env{t: t, clock: today, tokens: map[string]string{}}
	routes := func(e *engine.Engine) []api.Group {
		v.m = license.New(e, license.Options{Now: v.now, Logger: slog.New(slog.DiscardHandler)})
		return []api.Group{ilmt.RoutesFor(v.m, auth.New(e.Store()))}
	}
	s := servertest.Start(t, routes, servertest.Options{Users: testUsers})
	v.url, v.e = s.URL, s.Engine
	// Every user but itil may read All Computers.
	v.call(request{user: "root", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[{"id": 0, "users": ["viewer", "manager"]}]`}, 200, nil)
	return v
}

func (v *env) now() time.Time {
	v.mu.Lock()
	if hold := v.hold; hold != nil {
		v.hold = nil
		close(v.held)
		v.mu.Unlock()
		<-hold
		v.mu.Lock()
	}
	defer v.mu.Unlock()
	return v.clock
}

// startHeldImport starts an import that stays running (it waits in its
// first reading of the clock) until the returned function lets it end.
func (v *env) startHeldImport() (release func()) {
	v.mu.Lock()
	hold, held := make(chan struct{}), make(chan struct{})
	v.hold, v.held = hold, held
	v.mu.Unlock()
	if !v.m.Start(context.Background()) {
		v.t.Fatal("an import runs already")
	}
	<-held
	return func() {
		close(hold)
		if err := v.m.Wait(context.Background()); err != nil {
			v.t.Fatal(err)
		}
	}
}

// apply ingests an example payload as the AWS source.
func (v *env) apply(file string) {
	v.t.Helper()
	b, err := os.ReadFile("../../examples/" + file)
	if err != nil {
		v.t.Fatal(err)
	}
	p, err := payload.DecodeBytes(b)
	if err != nil {
		v.t.Fatal(err)
	}
	if res, err := v.e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions()); err != nil || res.HasError {
		v.t.Fatalf("apply %s: %v %+v", file, err, res)
	}
}

// token returns user's token, from POST /api/get_token.
func (v *env) token(user string) string {
	v.t.Helper()
	if tok, ok := v.tokens[user]; ok {
		return tok
	}
	var out struct{ Token string }
	v.call(request{method: "POST", path: "/api/get_token", body: `{"user": "` + user + `", "password": "` + servertest.Password(user) + `"}`}, 200, &out)
	v.tokens[user] = out.Token
	return out.Token
}

// request is one call: who (their token goes in the Token header), what.
type request struct {
	user, method, path, body string
	header                   map[string]string
}

func (v *env) do(r request) (*http.Response, []byte) {
	v.t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	req, err := http.NewRequest(r.method, v.url+r.path, strings.NewReader(r.body))
	if err != nil {
		v.t.Fatal(err)
	}
	if r.user != "" {
		req.Header.Set("Token", v.token(r.user))
	}
	req.Header.Set("Content-Type", "application/json")
	for k, val := range r.header {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp, b
}

// call sends r, requires the status and decodes the reply into out.
func (v *env) call(r request, status int, out any) *http.Response {
	v.t.Helper()
	resp, b := v.do(r)
	if resp.StatusCode != status {
		v.t.Fatalf("%s %s as %q: status %d, want %d: %s", r.method, r.path, r.user, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			v.t.Fatalf("%s %s: reply %s: %v", r.method, r.path, b, err)
		}
	}
	return resp
}

// wantError sends r and requires the status and an error whose message and
// detail contain want.
func (v *env) wantError(r request, status int, want string) *http.Response {
	v.t.Helper()
	var er struct {
		Error struct{ Message, Detail string }
	}
	resp := v.call(r, status, &er)
	if got := er.Error.Message + ": " + er.Error.Detail; !strings.Contains(got, want) {
		v.t.Errorf("%s %s: error %q, want it to contain %q", r.method, r.path, got, want)
	}
	return resp
}

// importNow runs a complete import over HTTP and waits for it.
func (v *env) importNow() {
	v.t.Helper()
	var st license.State
	v.call(request{user: "root", path: "/api/import_status.json?run=complete&wait=true"}, 200, &st)
	if st.LastStatus != license.StatusSuccessful || st.Mode != license.ModeIdle {
		v.t.Fatalf("import: %+v", st)
	}
}

// rows is a {"total", "rows"} reply.
type rows struct {
	Total *int             `json:"total"`
	Rows  []map[string]any `json:"rows"`
}

// list GETs path as user and returns the reply's rows.
func (v *env) list(user, path string) rows {
	v.t.Helper()
	var out rows
	v.call(request{user: user, path: path}, 200, &out)
	return out
}

// q encodes a query parameter value.
func q(s string) string { return url.QueryEscape(s) }
