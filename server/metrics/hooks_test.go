package metrics_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/license"
	"github.com/irego/irego/server/metrics"
)

// startHooked serves ILMT and TMF637 with the metrics' observers wired in,
// as irego serve does; TMF637 may call back 127.0.0.1 and retries soon.
func startHooked(t *testing.T) *servertest.Server {
	m := metrics.New()
	routes := func(e *engine.Engine) []api.Group {
		lic := license.New(e, license.Options{Observer: m.License()})
		hub := tmf637.Options{Observer: m.TMF637(), Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			AllowCallbacks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		return []api.Group{ilmt.RoutesFor(lic, auth.New(e.Store())), tmf637.New(e, hub)}
	}
	return servertest.Start(t, routes, servertest.Options{Users: users, Metrics: m})
}

// A license import run started over ILMT's API is counted and timed.
func TestLicenseImportMetrics(t *testing.T) {
	s := startHooked(t)
	var tok struct{ Token string }
	resp, b := s.Do(t, "", "POST", "/api/get_token", `{"user": "root", "password": "root-password"}`, nil)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("get_token: %d %s", resp.StatusCode, b)
	}
	for range 2 {
		resp, b = s.Do(t, "", "GET", "/api/import_status.json?run=complete&wait=true", "", http.Header{"Token": {tok.Token}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("import: %d %s", resp.StatusCode, b)
		}
	}
	fams, _ := scrape(t, s, "scraper")
	if got := value(fams, "irego_license_imports_total", map[string]string{"run": "complete", "outcome": "ok"}); got != 2 {
		t.Errorf(`irego_license_imports_total{run="complete",outcome="ok"} = %v, want 2`, got)
	}
	if got := value(fams, "irego_license_import_duration_seconds", map[string]string{"run": "complete"}); got != 2 {
		t.Errorf(`irego_license_import_duration_seconds{run="complete"} count = %v, want 2`, got)
	}
}

// TMF637 deliveries are counted by outcome and failed attempts by reason:
// a listener that fails once and then takes the event, and one nobody
// listens at, which is tried again and again (events are never given up).
func TestTMF637DeliveryMetrics(t *testing.T) {
	s := startHooked(t)
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer flaky.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // an address with nobody behind it once closed
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	var hubs []string
	for _, cb := range []string{flaky.URL, gone} {
		resp, b := s.Do(t, "root", "POST", "/tmf-api/productInventory/v4/hub", `{"callback": "`+cb+`"}`, nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("register %s: %d %s", cb, resp.StatusCode, b)
		}
		var h struct{ ID string }
		if err := json.Unmarshal(b, &h); err != nil || h.ID == "" {
			t.Fatalf("register %s: no id in %s (%v)", cb, b, err)
		}
		hubs = append(hubs, h.ID)
	}
	if resp, b := s.Do(t, "root", "POST", "/tmf-api/productInventory/v4/product", `{"name": "p", "status": "active"}`, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	// Deliveries run in the background: wait until the flaky listener took
	// its event and the absent one was tried at least three times.
	var fams map[string]*dto.MetricFamily
	outcome := func(o string) float64 {
		return max(0, value(fams, "irego_tmf637_event_deliveries_total", map[string]string{"outcome": o}))
	}
	failures := func(reason string) float64 {
		return max(0, value(fams, "irego_tmf637_event_delivery_failures_total", map[string]string{"reason": reason}))
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fams, _ = scrape(t, s, "scraper")
		if outcome("delivered") >= 1 && failures("connection") >= 3 || time.Now().After(deadline) {
			break
		}
	}
	// The absent listener is tried every few milliseconds, and a scrape
	// reads the two counters one after the other: stop its deliveries and
	// wait for two equal scrapes before comparing them.
	for _, id := range hubs {
		if resp, b := s.Do(t, "root", "DELETE", "/tmf-api/productInventory/v4/hub/"+id, "", nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("unregister %s: %d %s", id, resp.StatusCode, b)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		before := fmt.Sprint(outcome("retrying"), failures("connection"), failures("status"), outcome("delivered"))
		time.Sleep(50 * time.Millisecond)
		fams, _ = scrape(t, s, "scraper")
		if fmt.Sprint(outcome("retrying"), failures("connection"), failures("status"), outcome("delivered")) == before || time.Now().After(deadline) {
			break
		}
	}
	if got := outcome("delivered"); got != 1 {
		t.Errorf(`irego_tmf637_event_deliveries_total{outcome="delivered"} = %v, want 1`, got)
	}
	if got := failures("status"); got != 1 {
		t.Errorf(`irego_tmf637_event_delivery_failures_total{reason="status"} = %v, want 1 (the flaky listener's 500)`, got)
	}
	if c := failures("connection"); c < 3 || outcome("retrying") != 1+c {
		t.Errorf("connection failures %v, retrying %v: want at least 3, and every failure retried", c, outcome("retrying"))
	}
}
