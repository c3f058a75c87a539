package metrics_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/metrics"
)

var users = map[string][]string{
	"root":    {auth.Admin},
	"ann":     {"itil"},
	"scraper": {server.MetricsRole},
}

func start(t *testing.T) *servertest.Server {
	routes := func(e *engine.Engine) []api.Group { return []api.Group{servicenow.Routes(e)} }
	return servertest.Start(t, routes, servertest.Options{Users: users, Metrics: metrics.New()})
}

// scrape reads /metrics as user and parses the exposition text.
func scrape(t *testing.T, s *servertest.Server, user string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, b := s.Do(t, user, "GET", "/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics as %q: status %d: %s", user, resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, b)
	}
	return fams, b
}

// value is the counter, gauge or histogram count of the series of name
// whose labels include want; -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// A BYOL apply is counted: the payload, every item by its operation, the
// transaction, the HTTP request by its route pattern; the runtime and
// process collectors are there, and promtool (when installed) accepts the
// exposition.
func TestScrapeAfterBYOLApply(t *testing.T) {
	s := start(t)
	body, err := os.ReadFile("../../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, b := s.Do(t, "ann", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", string(body), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("apply: status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		Result engine.Result `json:"result"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	ops := map[string]float64{}
	for _, it := range out.Result.Items {
		if len(it.Errors) > 0 {
			t.Fatalf("item %s failed: %v", it.ClassName, it.Errors)
		}
		ops[it.Operation]++
	}
	if ops["INSERT"] == 0 {
		t.Fatalf("the BYOL payload inserted nothing: %s", b)
	}

	fams, text := scrape(t, s, "scraper")
	for op, n := range ops {
		if got := value(fams, "irego_ire_items_total", map[string]string{"mode": "apply", "operation": op, "error": "none"}); got != n {
			t.Errorf("irego_ire_items_total{operation=%q} = %v, want %v", op, got, n)
		}
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"irego_payloads_total", map[string]string{"mode": "apply"}, 1},
		{"irego_txn_keys", nil, 1},
		{"irego_txn_payloads", nil, 1},
		{"irego_http_requests_total", map[string]string{"route": "POST /api/now/identifyreconcile", "method": "POST", "code": "200"}, 1},
		{"irego_http_request_duration_seconds", map[string]string{"route": "POST /api/now/identifyreconcile", "method": "POST"}, 1},
		{"irego_partial_payloads", nil, 0},
		{"irego_build_info", nil, 1},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "irego_badger_lsm_level_tables", "irego_badger_vlog_bytes", "irego_badger_vlog_gc_files_total", "irego_badger_vlog_gc_failed_rounds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if path, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(path, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed; exposition checked by the parser only")
	}
}

// A path no route serves is counted as "unmatched", not by its path, and
// an invented method as "other": clients cannot mint label values.
func TestUnmatchedRequestsShareOneSeries(t *testing.T) {
	s := start(t)
	for _, p := range []string{"/no/such/a", "/no/such/b"} {
		s.Do(t, "", "GET", p, "", nil)
	}
	s.Do(t, "", "BREW", "/no/such/c", "", nil)
	fams, _ := scrape(t, s, "root")
	if got := value(fams, "irego_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}); got != 2 {
		t.Errorf("unmatched GETs counted %v, want 2", got)
	}
	if got := value(fams, "irego_http_requests_total", map[string]string{"route": "unmatched", "method": "other"}); got != 1 {
		t.Errorf("unmatched BREW counted %v, want 1 under method other", got)
	}
	for _, m := range fams["irego_http_requests_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "route" && (l.GetValue() == "/no/such/a" || l.GetValue() == "/no/such/b") {
				t.Errorf("a raw path became a label: %v", m)
			}
		}
	}
}

// /metrics on the server's address needs the metrics role or admin.
func TestMetricsNeedTheRole(t *testing.T) {
	s := start(t)
	for user, want := range map[string]int{"": http.StatusUnauthorized, "ann": http.StatusForbidden, "scraper": http.StatusOK, "root": http.StatusOK} {
		if resp, b := s.Do(t, user, "GET", "/metrics", "", nil); resp.StatusCode != want {
			t.Errorf("GET /metrics as %q: status %d, want %d: %.200s", user, resp.StatusCode, want, b)
		}
	}
}

// Concurrent applies of the same new CI may conflict and be retried; each
// payload is still counted once, and its CI inserted once.
func TestConcurrentAppliesCountedOnce(t *testing.T) {
	s := start(t)
	const writers = 8
	body := `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SN-CONFLICT","name":"pc"}}]}`
	done := make(chan struct{})
	for range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			s.Do(t, "ann", "POST", "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", body, nil)
		}()
	}
	for range writers {
		<-done
	}
	fams, _ := scrape(t, s, "root")
	if got := value(fams, "irego_payloads_total", map[string]string{"mode": "apply"}); got != writers {
		t.Errorf("irego_payloads_total = %v, want %d", got, writers)
	}
	if got := value(fams, "irego_ire_items_total", map[string]string{"operation": "INSERT"}); got != 1 {
		t.Errorf("INSERT counted %v times, want 1", got)
	}
	if fams["irego_txn_conflict_retries_total"] == nil {
		t.Error("no irego_txn_conflict_retries_total in /metrics")
	}
}
