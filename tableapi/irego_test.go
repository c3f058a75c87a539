package tableapi_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/tableapi"
)

// TestReadsIregosOwnTableAPI reads a running irego server as an instance:
// irego serves the Table API, so one irego can be moved into another.
func TestReadsIregosOwnTableAPI(t *testing.T) {
	routes := func(e *engine.Engine) []api.Group { return []api.Group{servicenow.Routes(e)} }
	s := servertest.Start(t, routes, servertest.Options{Users: map[string][]string{"reader": {"cmdb_read"}}})
	f, err := os.Open("../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := payload.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Engine.Apply(context.Background(), "ServiceNow", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, it := range res.Items {
		if it.ClassName != "cmdb_sam_sw_install" {
			want = append(want, it.SysID)
		}
	}
	src, err := tableapi.Open(s.URL, tableapi.Options{User: "reader", Password: servertest.Password("reader"), PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	classes := map[string]bool{}
	if err := src.Each(context.Background(), "cmdb_ci", 0, func(r tableapi.Record) error {
		got = append(got, r["sys_id"])
		classes[r["sys_class_name"]] = r["sys_class_name"] != ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cmdb_ci read in pages of 2: %q, want every CI in sys_id order %q", got, want)
	}
	if len(classes) < 3 || classes[""] {
		t.Errorf("classes %v: want each record's sys_class_name", classes)
	}
}
