package servicenow_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// seedBYOL is the seed document's payload as printed there: single quotes,
// and a trailing comma after the VM instance's name.
const seedBYOL = `{
  'items': [{
    'className': 'cmdb_ci_computer',
    'values': {
      'name': 'Comp - Dedicated AWS - 1',
      'cpu_count': 1,
      'cpu_core_count': 4,
      'cpu_core_thread': 1,
      'virtual': true
    },
    'related': [{
      'className': 'cmdb_sam_sw_install',
      'values': {
        'publisher': 'Microsoft',
        'display_name': 'SQL Server',
        'version': '2017',
        'cloud_license_type': 'BYOL',
        'cloud_license_type_source': 'third_party_integration'
      }
    }]
  }, {
    'className': 'cmdb_ci_vm_instance',
    'values': {
      'object_id': 'sample_object_id_aws_vm_dedicated',
      'name': 'VM Dedicated AWS - 1',
    }
  }, {
    'className': 'cmdb_ci_cloud_host',
    'values': {
      'object_id': 'sample_object_id_aws_host',
      'name': 'AWS Dedicated Host - 1',
      'cpu_core_count': 32
    }
  }, {
    'className': 'cmdb_ci_aws_datacenter',
    'values': {
      'object_id': 'sample_object_id_aws_dc',
      'name': 'AWS DataCenter - 1'
    }
  }, {
    'className': 'cmdb_ci_cloud_service_account',
    'values': {
      'account_id': 'sample_account_id_aws_service_account',
      'name': 'Cloud Service Account AWS - 1'
    }
  }],
  'relations': [{
      'type': 'Virtualized by::Virtualizes',
      'parent': 0,
      'child': 1
    }, {
      'type': 'Runs on::Runs',
      'parent': 1,
      'child': 2
    },
    {
      'type': 'Hosted on::Hosts',
      'parent': 2,
      'child': 3
    }, {
      'type': 'Hosted on::Hosts',
      'parent': 3,
      'child': 4
    }
  ]
}`

func ops(a applyResult) string {
	var out []string
	for _, it := range a.Result.Items {
		out = append(out, it.Operation)
	}
	for _, r := range a.Result.Relations {
		out = append(out, r.Operation)
	}
	return strings.Join(out, " ")
}

func TestIdentifyReconcileBYOL(t *testing.T) {
	v := newEnv(t)
	post := request{user: "ann", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", body: byol(t)}
	var first, again applyResult
	v.call(t, post, 200, &first)
	if got := ops(first); got != "INSERT INSERT INSERT INSERT INSERT INSERT INSERT INSERT INSERT" || first.Result.HasError {
		t.Fatalf("first apply: %s (hasError %v)", got, first.Result.HasError)
	}
	for _, it := range first.Result.Items {
		if len(it.SysID) != 32 {
			t.Errorf("%s: sysId %q", it.ClassName, it.SysID)
		}
	}
	// The seed's own text, single quotes and trailing comma, through the
	// versioned enhanced call with the seed's options.
	seed := request{user: "ann", method: "POST", body: seedBYOL,
		path: "/api/now/v1/identifyreconcile/enhanced?sysparm_data_source=ServiceNow&options=partial_payloads:false,deduplicate_payloads:true"}
	v.call(t, seed, 200, &again)
	if got := ops(again); got != "NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE" {
		t.Errorf("seed text after the same payload: %s", got)
	}
	for class, id := range first.sysIDs() {
		if again.sysIDs()[class] != id {
			t.Errorf("%s: sysId %s then %s", class, id, again.sysIDs()[class])
		}
	}
}

func TestIdentifyQueryWritesNothing(t *testing.T) {
	v := newEnv(t)
	for _, path := range []string{"/api/now/identifyreconcile/query", "/api/now/v2/identifyreconcile/queryEnhanced?options=generate_summary:true"} {
		var res applyResult
		v.call(t, request{user: "ann", method: "POST", path: path + sep(path) + "sysparm_data_source=ServiceNow", body: byol(t)}, 200, &res)
		if got := ops(res); !strings.HasPrefix(got, "INSERT INSERT") || res.Result.Items[0].SysID != engine.Unknown {
			t.Errorf("%s: %s, sysId %s", path, got, res.Result.Items[0].SysID)
		}
	}
	var rows struct{ Result []map[string]string }
	v.call(t, request{user: "ann", method: "GET", path: "/api/now/table/cmdb_ci"}, 200, &rows)
	if len(rows.Result) != 0 {
		t.Errorf("a dry run stored %d CIs", len(rows.Result))
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func TestIdentifyErrors(t *testing.T) {
	v := newEnv(t)
	path := "/api/now/identifyreconcile?sysparm_data_source=ServiceNow"
	// Documented: a malformed options chunk is a 500 naming it.
	v.wantError(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile/enhanced?options=partial", body: byol(t)},
		500, "Chunk [partial] is not a valid entry")
	v.wantError(t, request{user: "ann", method: "POST", path: path, body: "{\"items\": [\n  {\"className\": }]}"}, 400, "line 2, column")
	v.wantError(t, request{user: "ann", method: "POST", path: path, body: `{"items": [{"className": "cmdb_ci_computer", "values": {"name": {"x": 1}}}]}`},
		400, "items[0].values.name")
	v.wantError(t, request{user: "ann", method: "POST", path: path, body: ""}, 400, "empty input")
	// No data source: every item fails with INVALID_INPUT_DATA, nothing is stored.
	var res applyResult
	v.call(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile", body: byol(t)}, 200, &res)
	if !res.Result.HasError || res.Result.Items[0].Errors[0].Error != "INVALID_INPUT_DATA" {
		t.Errorf("no data source: %+v", res.Result.Items[0])
	}
	// Authentication and roles.
	v.wantError(t, request{method: "POST", path: path, body: byol(t)}, 401, "Required to provide Auth information")
	v.wantError(t, request{user: "sam", method: "POST", path: path, body: byol(t)}, 403, "User Not Authorized")
	v.wantError(t, request{user: "reader", method: "POST", path: path, body: byol(t)}, 403, "itil")
	v.wantError(t, request{user: "ann", method: "POST", path: path, body: `{"items": [` + strings.Repeat(`{"className": "cmdb_ci"},`, 50000) + `]}`},
		413, "limit of 1048576 bytes")
}

// TestConcurrentSharedAccount: 32 payloads race, each with its own
// datacenter under one cloud account; the account is created once.
func TestConcurrentSharedAccount(t *testing.T) {
	v := newEnv(t)
	const n = 32
	accounts := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"items": [
				{"className": "cmdb_ci_cloud_service_account", "values": {"account_id": "shared-account", "name": "Shared"}},
				{"className": "cmdb_ci_aws_datacenter", "values": {"object_id": "dc-%d", "name": "DC %d"}}],
				"relations": [{"type": "Hosted on::Hosts", "parent": 1, "child": 0}]}`, i, i)
			var res applyResult
			v.call(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=AWS", body: body}, 200, &res)
			if res.Result.HasError {
				t.Errorf("payload %d: %+v", i, res.Result)
			}
			accounts[i] = res.Result.Items[0].SysID
		})
	}
	wg.Wait()
	for i := range accounts {
		if accounts[i] != accounts[0] {
			t.Errorf("payload %d saw account %s, payload 0 saw %s", i, accounts[i], accounts[0])
		}
	}
	for class, want := range map[string]string{"cmdb_ci_cloud_service_account": "1", "cmdb_ci_aws_datacenter": "32"} {
		resp := v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/" + class}, 200, nil)
		if got := resp.Header.Get("X-Total-Count"); got != want {
			t.Errorf("%s: %s stored, want %s", class, got, want)
		}
	}
	if problems, err := v.e.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
}

// faultStore fails every commit with err once armed.
type faultStore struct {
	store.Store
	err atomic.Pointer[error]
}

func (s *faultStore) NewTxn() store.Txn { return &faultTxn{Txn: s.Store.NewTxn(), s: s} }

type faultTxn struct {
	store.Txn
	s *faultStore
}

func (t *faultTxn) Commit() error {
	if err := t.s.err.Load(); err != nil {
		return *err
	}
	return t.Txn.Commit()
}

// TestEngineErrors maps each way the store can fail to its reply, for
// identify/reconcile and software usage alike.
func TestEngineErrors(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultStore{Store: db}
	e, err := engine.Open("", engine.Options{Store: fs, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	v := serveEngine(t, e)
	usage := `{"items": [{"configuration_item": "ci", "norm_product": "p", "reclamation_type": "last_used_date"}]}`
	for _, c := range []struct {
		err    error
		status int
		want   string
	}{
		{store.ErrConflict, 503, "send it again"},
		{fmt.Errorf("badger: %w", store.ErrTxnTooBig), 413, "too large for one transaction"},
		{errors.New("disk on fire"), 500, "disk on fire"},
	} {
		fs.err.Store(&c.err)
		resp := v.wantError(t, request{user: "root", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", body: byol(t)}, c.status, c.want)
		if c.status == 503 && resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		v.wantError(t, request{user: "root", method: "POST", path: "/api/now/sam_software_usage_integration/createOrUpdate", body: usage}, c.status, c.want)
	}
}
