package engine_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/rules"
)

// withAssetTag is the default pack with asset_tag as a unique hardware identifier.
func withAssetTag(t *testing.T) *rules.RuleSet {
	t.Helper()
	src := bytes.Replace(rules.DefaultSource(), []byte("        attributes: [serial_number]\n"),
		[]byte("        attributes: [serial_number]\n      - priority: 250\n        attributes: [asset_tag]\n        unique: true\n"), 1)
	rs, err := rules.Load("asset-tag.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRuleChangeReindexesAffectedClasses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	older := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c1","asset_tag":"A-1"}}]}`).SysID
	younger := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c2","asset_tag":"A-1"}}]}`).SysID
	applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"c3","asset_tag":"B-2"}}]}`)
	applyFrom(t, e, "AWS", account("a1"))
	e.Close()

	e, err = engine.Open(dir, engine.Options{Rules: withAssetTag(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := e.Notices(); len(n) != 2 || !strings.Contains(n[0], younger) || !strings.Contains(n[0], older) ||
		!strings.Contains(n[1], "rules changed from default.yaml") || !strings.Contains(n[1], "to asset-tag.yaml") {
		t.Fatalf("notices %q: want one naming %s losing asset tag A-1 to %s, then the rule change", n, younger, older)
	}
	res, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"asset_tag":"A-1","ram":1}}]}`), engine.DefaultApplyOptions())
	if err != nil || res.Items[0].SysID != older || res.Items[0].Operation != "UPDATE" {
		t.Fatalf("asset tag A-1 identifies the older CI under the new rules: %+v %v", res.Items[0], err)
	}
	if got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"asset_tag":"B-2"}}]}`); got.Operation != "NO_CHANGE" {
		t.Fatalf("asset tag B-2: %+v", got)
	}
	if got := applyFrom(t, e, "AWS", account("a1")); got.Operation != "NO_CHANGE" {
		t.Fatalf("an unchanged class keeps its identities: %+v", got)
	}
	problems, err := e.Check(ctx)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], younger) {
		t.Fatalf("check reports exactly the duplicate left by the rule change: %q %v", problems, err)
	}
}
