package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

func TestOnlineBackupRestores(t *testing.T) {
	v := newEnv(t)
	p, err := payload.DecodeBytes([]byte(`{"items":[{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := v.do(t, "ann", "GET", "/api/irego/backup", nil); resp.StatusCode != 403 {
		t.Fatalf("a non-admin may not take backups: %d", resp.StatusCode)
	}
	resp, body := v.do(t, "root", "GET", "/api/irego/backup", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("backup: %d %s", resp.StatusCode, resp.Header)
	}
	restored, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.Restore(strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if problems, err := restored.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
	if _, err := restored.Get(context.Background(), res.Items[0].SysID); err != nil {
		t.Fatalf("the account is in the backup: %v", err)
	}
}
