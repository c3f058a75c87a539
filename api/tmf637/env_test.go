package tmf637_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
)

// users of every test server: name → roles.
var testUsers = map[string][]string{
	"root":   {auth.Admin},
	"pi":     {tmf637.Role},
	"reader": {"cmdb_read"},
}

const (
	tmf = "/tmf-api/productInventory/v4"
	sn  = "/api/sn_prd_invt"
)

// env is the whole stack over real HTTP: Badger on disk, the engine and
// the server with the product inventory routes. Events are retried after
// 10ms, so tests of retries stay fast.
type env struct {
	e   *engine.Engine
	url string
	s   *servertest.Server
}

// loopback allows the test listeners, which are on 127.0.0.1 (and only
// there: 127.0.0.2 stays refused).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, tmf637.Options{AllowCallbacks: loopback})
}

func newEnvWith(t *testing.T, o tmf637.Options) *env {
	t.Helper()
	o.Backoff = 10 * time.Millisecond
	routes := func(e *engine.Engine) []api.Group { return []api.Group{tmf637.New(e, o)} }
	s := servertest.Start(t, routes, servertest.Options{Users: testUsers, MaxBody: 1 << 20})
	return &env{e: s.Engine, url: s.URL, s: s}
}

// request is one call.
type request struct {
	user, method, path string
	body               string
	contentType        string // default application/json
}

// reply is a response with its body read.
type reply struct {
	*http.Response
	body []byte
}

// decode decodes the body into v (zeroed first: decoding into a reused map
// would merge), keeping numbers exact.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: reply %s: %v", r.Request.URL, r.body, err)
	}
}

func (v *env) do(t *testing.T, rq request) reply {
	t.Helper()
	var h http.Header
	if rq.contentType != "" {
		h = http.Header{"Content-Type": {rq.contentType}}
	}
	resp, b := v.s.Do(t, rq.user, rq.method, rq.path, rq.body, h)
	return reply{resp, b}
}

// call sends rq as the product inventory user, requires the status and
// decodes the reply into out (when not nil).
func (v *env) call(t *testing.T, method, path, body string, status int, out any) reply {
	t.Helper()
	r := v.do(t, request{user: "pi", method: method, path: path, body: body})
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.StatusCode, status, r.body)
	}
	if out != nil {
		r.decode(t, out)
	}
	return r
}

// tmfError is TMF637's Error.
type tmfError struct {
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

// wantTMFError requires a TMF637 Error with the status whose reason or
// message contains want.
func (v *env) wantTMFError(t *testing.T, rq request, status int, want string) {
	t.Helper()
	r := v.do(t, rq)
	var e tmfError
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", rq.method, rq.path, r.StatusCode, status, r.body)
	}
	r.decode(t, &e)
	if e.Code == "" || e.Reason == "" || e.Status != itoa(status) || !strings.Contains(e.Reason+": "+e.Message, want) {
		t.Errorf("%s %s: error %+v, want status %d and %q", rq.method, rq.path, e, status, want)
	}
}

// snError is ServiceNow's error envelope.
type snError struct {
	Error struct {
		Message string  `json:"message"`
		Detail  *string `json:"detail"`
	} `json:"error"`
	Status string `json:"status"`
}

// wantSNError requires ServiceNow's envelope with the status whose message
// and detail contain want.
func (v *env) wantSNError(t *testing.T, rq request, status int, want string) reply {
	t.Helper()
	r := v.do(t, rq)
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", rq.method, rq.path, r.StatusCode, status, r.body)
	}
	var e snError
	r.decode(t, &e)
	text := e.Error.Message
	if e.Error.Detail != nil {
		text += ": " + *e.Error.Detail
	}
	if e.Status != "failure" || !strings.Contains(text, want) {
		t.Errorf("%s %s: error %q, want %q", rq.method, rq.path, text, want)
	}
	return r
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// obj is a decoded JSON object.
type obj = map[string]any

// create posts a TMF637 product and returns it.
func (v *env) create(t *testing.T, body string) obj {
	t.Helper()
	var p obj
	v.call(t, "POST", tmf+"/product", body, http.StatusCreated, &p)
	return p
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// mustJSON encodes v as the server does (no HTML escaping).
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
