package server_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
)

// clock is a settable time for the throttle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSignInThrottle: failed sign-ins are slowed down, then locked out,
// per user, with 429 and Retry-After and a log record; API tokens are not
// slowed.
func TestSignInThrottle(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	routes := func(*engine.Engine) []api.Group {
		return []api.Group{
			{Name: "basic", Routes: []api.Route{{Method: "GET", Path: "/b", Handler: ok}}},
			{Name: "token", Auth: api.AuthToken, Routes: []api.Route{{Method: "GET", Path: "/t", Handler: ok}}},
		}
	}
	log := &syncBuffer{}
	s := servertest.Start(t, routes, servertest.Options{Users: map[string][]string{"ann": {"itil"}, "bob": {"itil"}}, Logger: newLogger(log)})
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.Users.Throttle = &auth.Throttle{Now: c.now, Free: 2, Delay: 10 * time.Second, MaxFailures: 4, Lockout: time.Hour}
	token, err := s.Users.Token("ann")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, user, password, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		if token != "" {
			req.Header.Set("Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	want := func(resp *http.Response, status int, what string) {
		t.Helper()
		if resp.StatusCode != status || (status == 429) != (resp.Header.Get("Retry-After") != "") {
			t.Fatalf("%s: %d (Retry-After %q), want %d", what, resp.StatusCode, resp.Header.Get("Retry-After"), status)
		}
	}
	for i := range 3 {
		want(get("/b", "ann", "wrong", ""), 401, "failure "+string(rune('1'+i)))
	}
	want(get("/b", "ann", servertest.Password("ann"), ""), 429, "the right password while slowed down")
	want(get("/t", "", "", token), 204, "ann's token while her sign-ins are slowed")
	c.add(11 * time.Second)
	want(get("/b", "ann", "wrong", ""), 401, "failure 4")
	c.add(time.Minute)
	want(get("/b", "ann", servertest.Password("ann"), ""), 429, "the right password while locked out")
	if !strings.Contains(log.String(), "locked out") {
		t.Errorf("the lockout is not logged: %s", log)
	}
	c.add(time.Hour)
	want(get("/b", "ann", servertest.Password("ann"), ""), 204, "after the lockout")
	want(get("/b", "bob", servertest.Password("bob"), ""), 204, "another user from the same address")
}

func newLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
