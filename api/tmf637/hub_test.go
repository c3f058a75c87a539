package tmf637_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
)

// event is one notification a listener received.
type event struct {
	path, eventType, productID, status string
}

// listener is a TMF637 client's listener over real HTTP. It answers 500 to
// its first fail requests, and holds every request until release is closed
// when block is set.
type listener struct {
	url      string
	mu       sync.Mutex
	events   []event
	requests int
}

func newListener(t *testing.T, fail int, block chan struct{}) *listener {
	t.Helper()
	l := &listener{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if block != nil {
			<-block
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.requests++
		if l.requests <= fail {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		var body struct {
			EventID   string `json:"eventId"`
			EventTime string `json:"eventTime"`
			EventType string `json:"eventType"`
			Event     struct {
				Product struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"product"`
			} `json:"event"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.EventID == "" || body.EventTime == "" || r.Method != "POST" {
			t.Errorf("listener got %s %s: %s (%v)", r.Method, r.URL.Path, b, err)
		}
		l.events = append(l.events, event{r.URL.Path, body.EventType, body.Event.Product.ID, body.Event.Product.Status})
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	if block != nil {
		t.Cleanup(func() { close(block) }) // runs before srv.Close
	}
	l.url = srv.URL + "/client"
	return l
}

// wait returns the events once there are n of them (failing after 5s).
func (l *listener) wait(t *testing.T, n int) []event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		got := slices.Clone(l.events)
		l.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener got %d events, want %d: %v", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (v *env) register(t *testing.T, l *listener, query string) string {
	t.Helper()
	var sub struct{ ID, Callback, Query string }
	r := v.call(t, "POST", tmf+"/hub", fmt.Sprintf(`{"callback": %q, "query": %q}`, l.url, query), http.StatusCreated, &sub)
	if sub.ID == "" || sub.Callback != l.url || sub.Query != query || r.Header.Get("Location") != v.url+tmf+"/hub/"+sub.ID {
		t.Fatalf("registered %+v, Location %s", sub, r.Header.Get("Location"))
	}
	return sub.ID
}

func TestHubDeliversEveryKindOfEvent(t *testing.T) {
	v := newEnv(t)
	all, deletes := newListener(t, 0, nil), newListener(t, 0, nil)
	v.register(t, all, "")
	deletesID := v.register(t, deletes, "eventType=ProductDeleteEvent")
	p := v.create(t, `{"name": "p", "status": "pendingActive"}`)
	id := str(p["id"])
	v.call(t, "PATCH", tmf+"/product/"+id, `{"status": "active"}`, http.StatusOK, nil)
	v.call(t, "PATCH", tmf+"/product/"+id, `{"description": "d"}`, http.StatusOK, nil)
	v.call(t, "PATCH", tmf+"/product/"+id, `{"description": "d"}`, http.StatusOK, nil) // changes nothing: no event
	v.call(t, "DELETE", tmf+"/product/"+id, "", http.StatusNoContent, nil)
	got := all.wait(t, 4)
	slices.SortStableFunc(got, func(a, b event) int { return order(a.eventType) - order(b.eventType) })
	want := []event{
		{"/client/listener/productCreateEvent", "ProductCreateEvent", id, "pendingActive"},
		{"/client/listener/productStateChangeEvent", "ProductStateChangeEvent", id, "active"},
		{"/client/listener/productAttributeValueChangeEvent", "ProductAttributeValueChangeEvent", id, "active"},
		{"/client/listener/productDeleteEvent", "ProductDeleteEvent", id, "active"},
	}
	if !slices.Equal(want, got) {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
	if got := deletes.wait(t, 1); len(got) != 1 || got[0].eventType != "ProductDeleteEvent" {
		t.Errorf("the delete listener got %v", got)
	}
	// Writes through ServiceNow's API reach the listeners too; an
	// unregistered listener hears nothing more.
	v.call(t, "DELETE", tmf+"/hub/"+deletesID, "", http.StatusNoContent, nil)
	v.call(t, "POST", sn+"/product", `{"name": "q", "productOffering": {"id": "po"}, "productSpecification": {"id": "ps"}}`, http.StatusCreated, nil)
	if got := all.wait(t, 5); got[4].eventType != "ProductCreateEvent" || got[4].status != "pendingActive" {
		t.Errorf("ServiceNow create: %v", got[4])
	}
	if got := deletes.wait(t, 1); len(got) != 1 {
		t.Errorf("unregistered listener: %v", got)
	}
	v.wantTMFError(t, request{user: "pi", method: "DELETE", path: tmf + "/hub/" + deletesID}, 404, "No such listener")
}

func order(eventType string) int {
	return slices.Index([]string{"ProductCreateEvent", "ProductStateChangeEvent", "ProductAttributeValueChangeEvent", "ProductDeleteEvent"}, eventType)
}

func TestHubRetriesFailedDeliveries(t *testing.T) {
	v := newEnv(t)
	l := newListener(t, 2, nil) // two 500s, then a success
	v.register(t, l, "eventType=ProductCreateEvent")
	v.create(t, `{"status": "active"}`)
	if got := l.wait(t, 1); len(got) != 1 {
		t.Errorf("events: %v", got)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.requests != 3 {
		t.Errorf("%d requests, want 3 (two failed, one delivered)", l.requests)
	}
}

func TestHubNeverHoldsUpAWrite(t *testing.T) {
	v := newEnv(t)
	for range 3 {
		v.register(t, newListener(t, 0, make(chan struct{})), "") // listeners that never answer
	}
	start := time.Now()
	for range 10 {
		v.create(t, `{"status": "active"}`)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("10 creates with stuck listeners took %v", d)
	}
}

func TestHubSubscriptionsOutliveTheServer(t *testing.T) {
	v := newEnv(t)
	l := newListener(t, 0, nil)
	v.register(t, l, "")
	// A second server on the same store reads the subscription back.
	routes := func(e *engine.Engine) []api.Group {
		return []api.Group{tmf637.New(e, tmf637.Options{AllowCallbacks: loopback})}
	}
	s := servertest.Start(t, routes, servertest.Options{Engine: v.e})
	w := &env{e: s.Engine, url: s.URL, s: s}
	w.call(t, "POST", tmf+"/product", `{"status": "active"}`, http.StatusCreated, nil)
	if got := l.wait(t, 1); got[0].eventType != "ProductCreateEvent" {
		t.Errorf("events: %v", got)
	}
}

func TestHubRegistrationErrors(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct{ body, want string }{
		{`{"callback": "ftp://example.com/x"}`, "not an absolute http or https URL"},
		{`{"callback": "/relative"}`, "not an absolute http or https URL"},
		{`{}`, "not an absolute http or https URL"},
		{`{"callback": "http://example.com", "query": "status=active"}`, `unknown query key "status"`},
		{`{"callback": "http://example.com", "query": "eventType=ProductEatenEvent"}`, `unknown event type "ProductEatenEvent"`},
		{`{"callback": "http://example.com", "query": 3}`, "want a string"},
		{`not json`, "Invalid JSON body"},
	} {
		v.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/hub", body: c.body}, 400, c.want)
	}
	v.wantTMFError(t, request{user: "reader", method: "POST", path: tmf + "/hub", body: `{"callback": "http://example.com"}`}, 403, "User Not Authorized")
}

// TestHubCallbackGuard: callbacks to loopback, link-local and (when asked)
// private addresses are refused unless allowed, at registration for an
// address and on every connection for a redirect or a name.
func TestHubCallbackGuard(t *testing.T) {
	v := newEnvWith(t, tmf637.Options{})
	for _, cb := range []string{"http://127.0.0.1:9000/client", "http://localhost:9000/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/", "http://0.0.0.0/"} {
		v.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/hub", body: fmt.Sprintf(`{"callback": %q}`, cb)}, 400, "--callback-allow")
	}
	v.call(t, "POST", tmf+"/hub", `{"callback": "http://10.1.2.3/client"}`, http.StatusCreated, nil)
	private := newEnvWith(t, tmf637.Options{DenyPrivateCallbacks: true})
	for _, cb := range []string{"http://10.1.2.3/client", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fd00::1]/"} {
		private.wantTMFError(t, request{user: "pi", method: "POST", path: tmf + "/hub", body: fmt.Sprintf(`{"callback": %q}`, cb)}, 400, "is a private address")
	}

	// An allowed listener that redirects to a refused address: every
	// attempt reaches the first and none the second.
	var refused sync.WaitGroup
	hidden := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("an event reached 127.0.0.2: %s", r.URL)
	})}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	refused.Add(1)
	go func() { defer refused.Done(); hidden.Serve(ln) }()
	defer func() { hidden.Close(); refused.Wait() }()
	var mu sync.Mutex
	attempts := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		mu.Unlock()
		http.Redirect(w, r, "http://"+ln.Addr().String()+"/client", http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	w := newEnv(t)
	w.call(t, "POST", tmf+"/hub", fmt.Sprintf(`{"callback": %q}`, front.URL+"/client"), http.StatusCreated, nil)
	w.call(t, "POST", tmf+"/product", `{"status": "active"}`, http.StatusCreated, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := attempts
		mu.Unlock()
		if n >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d delivery attempts, want 4", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
