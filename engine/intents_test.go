package engine_test

import (
	"context"
	"testing"

	"github.com/irego/irego/engine"
)

// retrySignal tells when the engine starts a transaction again.
type retrySignal chan struct{}

func (retrySignal) Applied(bool, []*engine.Result) {}
func (retrySignal) Committed(int, int)             {}
func (r retrySignal) Retried() {
	select {
	case r <- struct{}{}:
	default:
	}
}

// An Apply that needs an identity another write is creating waits for that
// write instead of creating a second CI or finishing its work only to
// conflict: it stops, and once the other commits it finds the other's CI.
// Both commit, and the account is one CI.
func TestApplyWaitsForTheWriteCreatingItsIdentity(t *testing.T) {
	e := openDisk(t)
	retried := make(retrySignal, 1)
	e.Observe(retried)
	chain := func(dc string) string {
		return `{"items":[
			{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"` + dc + `"}},
			{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"shared"}}],
			"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1}]}`
	}
	first, commit, discard, err := engine.StageOpen(e, "ServiceNow", mustDecode(t, chain("dc-1")), seedOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer discard()
	type outcome struct {
		res *engine.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := e.Apply(context.Background(), "ServiceNow", mustDecode(t, chain("dc-2")), seedOptions)
		done <- outcome{res, err}
	}()
	select {
	case <-retried:
	case o := <-done:
		t.Fatalf("applied while another write was creating its account: %v %s", o.err, mustJSON(o.res))
	}
	if err := commit(); err != nil {
		t.Fatalf("the first write: %v", err)
	}
	o := <-done
	if o.err != nil || o.res.HasError {
		t.Fatalf("apply: %v %s", o.err, mustJSON(o.res))
	}
	if o.res.Items[1].SysID != first.Items[1].SysID || o.res.Items[1].Operation != "UPDATE" && o.res.Items[1].Operation != "NO_CHANGE" {
		t.Fatalf("account %s (%s), the first write's %s", o.res.Items[1].SysID, o.res.Items[1].Operation, first.Items[1].SysID)
	}
	if n := countRecords(t, e); n["cmdb_ci_cloud_service_account"] != 1 || n["cmdb_ci_aws_datacenter"] != 2 {
		t.Errorf("records: %v", n)
	}
	checkClean(t, e)
}
