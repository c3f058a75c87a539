package ilmt_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/license"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/settings"
)

// BenchmarkUsageLists asks for the first page of 10 of the usage lists
// that have a row per computer system (the deprecated license_usages) or
// per server (license_usage_per_server), in their default order and
// ordered by quantity, and for v2's license_usage (a row per product and
// metric, read from every server's usage), over real HTTP, on an estate of
// $IREGO_BENCH_LICENSE_COMPUTERS computers (default 200; the estate of
// license's BenchmarkImport) imported on $IREGO_BENCH_LICENSE_DAYS days
// (default 1). It reports the allocations per request and the heap in use
// at most during one (peak-heap-MB, live or not yet collected) and the
// largest live heap a collection found during one (peak-live-MB: what the
// request holds), beside the heap before it, after a collection
// (base-heap-MB).
//
//	IREGO_BENCH_LICENSE_COMPUTERS=40000 go test ./api/ilmt -run '^$' -bench UsageLists -benchtime 5x
func BenchmarkUsageLists(b *testing.B) {
	n := 200
	if s := os.Getenv("IREGO_BENCH_LICENSE_COMPUTERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("IREGO_BENCH_LICENSE_COMPUTERS=%q: want a positive number", s)
		}
	}
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for first := 0; first < n; first += 250 {
		res, err := e.Apply(context.Background(), "AWS", benchEstate(first, min(250, n-first)), engine.DefaultApplyOptions())
		if err != nil || res.HasError {
			b.Fatalf("apply: %v", err)
		}
	}
	var m *license.Manager
	routes := func(e *engine.Engine) []api.Group {
		m = license.New(e, license.Options{Now: func() time.Time { return day }, Logger: slog.New(slog.DiscardHandler)})
		return []api.Group{ilmt.RoutesFor(m, auth.New(e.Store()))}
	}
	s := servertest.Start(b, routes, servertest.Options{Engine: e, Users: map[string][]string{"root": {auth.Admin}}})
	// $IREGO_BENCH_LICENSE_DAYS imports (default 1), a day apart: the
	// days license_usage adds up.
	days := 1
	if s := os.Getenv("IREGO_BENCH_LICENSE_DAYS"); s != "" {
		var err error
		if days, err = strconv.Atoi(s); err != nil || days < 1 {
			b.Fatalf("IREGO_BENCH_LICENSE_DAYS=%q: want a positive number", s)
		}
	}
	var st *license.State
	for i := range days {
		if i > 0 {
			day = day.AddDate(0, 0, 1)
		}
		if st, err = m.Import(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.Settings().Set(map[string]string{settings.ExposeDeprecatedAPI: "true"}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d computers: %d installs, %d usage rows", n, st.Installs, st.Usages)
	resp, err := http.Post(s.URL+"/api/get_token", "application/json", strings.NewReader(`{"user": "root", "password": "`+servertest.Password("root")+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := strings.Split(string(body), `"`)[3]

	get := func(b *testing.B, path string) []byte {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%s: %d %.300s %v", path, resp.StatusCode, body, err)
		}
		return body
	}
	date := url.Values{"date": {st.Day}}.Encode()
	for _, c := range []struct{ name, path string }{
		{"per-server", "/api/sam/v2/license_usage_per_server?limit=10&" + date},
		{"per-server/by-quantity", "/api/sam/v2/license_usage_per_server?limit=10&order[]=hwm_quantity%20desc&" + date},
		{"license_usages", "/api/sam/license_usages?limit=10"},
		{"license_usages/by-value", "/api/sam/license_usages?limit=10&order[]=peak_value%20desc"},
		{"license_usage", "/api/sam/v2/license_usage"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var base, peak, live uint64
			for b.Loop() {
				b.StopTimer()
				stop := benchHeap()
				b.StartTimer()
				get(b, c.path)
				b.StopTimer()
				before, most, mostLive := stop()
				base, peak, live = max(base, before), max(peak, most), max(live, mostLive)
				b.StartTimer()
			}
			b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
		})
	}
}

// benchHeap samples the heap every millisecond until the returned
// function is called, which returns the heap in use at the start (after a
// collection), the largest seen, and the largest live heap a collection
// found meanwhile.
func benchHeap() func() (base, peak, live uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}, {Name: "/gc/heap/live:bytes"}}
	read := func() (uint64, uint64) {
		metrics.Read(s)
		return s[0].Value.Uint64() + s[1].Value.Uint64(), s[2].Value.Uint64()
	}
	base, _ := read()
	stop, done := make(chan struct{}), make(chan [2]uint64)
	go func() {
		peak, live := base, uint64(0)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			v, l := read()
			peak, live = max(peak, v), max(live, l)
			select {
			case <-stop:
				done <- [2]uint64{peak, live}
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64, uint64) { close(stop); r := <-done; return base, r[0], r[1] }
}

// benchEstate is n computers from number first on, as license's
// benchmarks build them: one to three IBM titles each (BYOL), half of them
// VMs, every fourth on a dedicated cloud host of its own.
func benchEstate(first, n int) *payload.Payload {
	type m = map[string]any
	r := rand.New(rand.NewPCG(0, uint64(first)))
	p := &payload.Payload{}
	add := func(class string, values m) int {
		p.Items = append(p.Items, payload.Item{ClassName: class, Values: values})
		return len(p.Items) - 1
	}
	rel := func(typ string, parent, child int) {
		p.Relations = append(p.Relations, payload.Relation{Type: typ, Parent: parent, Child: child})
	}
	account := add("cmdb_ci_cloud_service_account", m{"account_id": "111122223333"})
	dc := add("cmdb_ci_aws_datacenter", m{"object_id": "eu-west-1"})
	rel("Hosted on::Hosts", dc, account)
	for i := first; i < first+n; i++ {
		ci := add("cmdb_ci_computer", m{"name": fmt.Sprintf("comp-%d", i), "cpu_count": 1, "cpu_core_count": 1 + r.IntN(8), "cpu_core_thread": 2, "virtual": true})
		for _, title := range []string{"Db2", "MQ", "WebSphere"}[:1+i%3] {
			p.Items[ci].Related = append(p.Items[ci].Related, payload.Related{ClassName: license.InstallClass,
				Values: m{"publisher": "IBM", "display_name": title, "version": "11", "cloud_license_type": "BYOL", "cloud_license_type_source": "third_party_integration"}})
		}
		switch i % 4 {
		case 0, 1:
			vm := add("cmdb_ci_vm_instance", m{"object_id": fmt.Sprintf("i-%d", i)})
			rel(license.VirtualizedBy, ci, vm)
			if i%4 == 0 {
				host := add("cmdb_ci_cloud_host", m{"object_id": fmt.Sprintf("h-%d", i), "name": fmt.Sprintf("host-%d", i), "cpu_core_count": 8 + r.IntN(8)})
				rel("Hosted on::Hosts", host, dc)
				rel(license.RunsOn, vm, host)
			} else {
				rel("Hosted on::Hosts", vm, dc)
			}
		}
	}
	return p
}
