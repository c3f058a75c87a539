package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// A lower source's refused value is kept (the last one per attribute and
// source), read with the CI, and the last report's attempts with it; both
// go when the CI is deleted.
func TestMaskedValuesAndLastReportAreKept(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	ctx := context.Background()
	id := applyFrom(t, e, "ServiceNow", computer("c1", 2)).SysID
	c.advance(time.Hour)
	applyFrom(t, e, "SCCM", computer("c1", 4))
	c.advance(time.Hour)
	answer := applyFrom(t, e, "SCCM", computer("c1", 6))

	ci, err := e.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Masked) != 1 || ci.Masked[0].Attribute != "cpu_count" || ci.Masked[0].Source != "SCCM" ||
		ci.Masked[0].Value != "6" || !ci.Masked[0].At.Equal(c.Now()) || !strings.Contains(ci.Masked[0].Reason, "owned by ServiceNow") {
		t.Fatalf("masked values %+v; want SCCM's last cpu_count 6 at %v", ci.Masked, c.Now())
	}
	b, _ := json.Marshal(ci)
	if !strings.Contains(string(b), `"masked":[{"attribute":"cpu_count","source":"SCCM","value":"6"`) {
		t.Fatalf("the CI's JSON lacks the masked value: %s", b)
	}
	lr, err := e.LastReport(ctx, id)
	if err != nil || lr == nil {
		t.Fatalf("last report %+v, %v", lr, err)
	}
	if lr.Source != "SCCM" || lr.Operation != "NO_CHANGE" || len(lr.Attempts) == 0 || lr.Attempts[len(lr.Attempts)-1].Result != "MATCHED" ||
		len(lr.Masked) != 1 || lr.Masked[0].Value != "6" {
		t.Fatalf("last report %+v", lr)
	}
	// Its attempts are the answer's, the source native key's lookup first.
	if len(lr.Attempts) != len(answer.IdentificationAttempts) || lr.Attempts[0].Info != "sys_object_source SKIPPED" {
		t.Fatalf("last report attempts %+v, answer's %+v", lr.Attempts, answer.IdentificationAttempts)
	}
	for i, a := range answer.IdentificationAttempts {
		if got := lr.Attempts[i]; got.Entry != a.IdentifierName || got.Result != a.AttemptResult || got.Info != a.Info ||
			strings.Join(got.Attributes, ",") != strings.Join(a.Attributes, ",") {
			t.Errorf("last report attempt %d %+v, answer's %+v", i, got, a)
		}
	}

	// The owner's report replaces the last report, not SCCM's refused value.
	c.advance(time.Second)
	applyFrom(t, e, "ServiceNow", computer("c1", 2))
	if lr, _ := e.LastReport(ctx, id); lr.Source != "ServiceNow" || len(lr.Masked) != 0 {
		t.Fatalf("last report after ServiceNow's %+v", lr)
	}
	if ci, _ := e.Get(ctx, id); len(ci.Masked) != 1 {
		t.Fatalf("SCCM's refused value went with ServiceNow's report: %+v", ci.Masked)
	}

	if _, err := e.Delete(ctx, id, engine.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if lr, err := e.LastReport(ctx, id); lr != nil || err != nil {
		t.Fatalf("the deleted CI's last report stays: %+v, %v", lr, err)
	}
	n := 0
	if err := e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.MaskedPrefix(id), func(_, _ []byte) error { n++; return nil })
	}); err != nil || n != 0 {
		t.Fatalf("the deleted CI keeps %d masked values (%v)", n, err)
	}
	checkClean(t, e)
}

// Kept texts are cut at a rune boundary, whatever the payload held.
func TestKeptTextsAreBounded(t *testing.T) {
	long := strings.Repeat("é", 1000)
	got := engine.Clip(long)
	if len(got) > 520 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("clipped to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if engine.Clip("short") != "short" {
		t.Fatal("a short text is changed")
	}
}
