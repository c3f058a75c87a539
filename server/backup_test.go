package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/servertest"
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

// TestOneBackupAtATime: while a client holds a backup (it stopped reading),
// another backup is answered 503 with Retry-After; once the first client
// goes away, backups work again.
func TestOneBackupAtATime(t *testing.T) {
	v := newEnv(t)
	// More than socket buffers hold, so the held backup cannot finish.
	value := []byte(strings.Repeat("v", 64<<10))
	for i := range 4 {
		txn := v.e.Store().NewTxn()
		for j := range 50 {
			if err := txn.Set(fmt.Appendf(nil, "test/bulk/%d/%d", i, j), value); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		txn.Discard()
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(v.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	cred := base64.StdEncoding.EncodeToString([]byte("root:" + servertest.Password("root")))
	fmt.Fprintf(c, "GET /api/irego/backup HTTP/1.1\r\nHost: irego\r\nAuthorization: Basic %s\r\n\r\n", cred)
	// The held backup has begun once its first bytes arrive.
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	resp, body := v.do(t, "root", "GET", "/api/irego/backup", nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "already running") {
		t.Fatalf("a second backup: %d %s", resp.StatusCode, body)
	}
	c.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp, _ = v.do(t, "root", "GET", "/api/irego/backup", nil); resp.StatusCode == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after the first client left: %d", resp.StatusCode)
}
