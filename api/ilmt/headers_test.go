package ilmt

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/license"
)

// TestImportHeaders: which Import-* headers each mode carries, as the
// seed's conversation shows them.
func TestImportHeaders(t *testing.T) {
	p := 41
	at := time.Date(2014, 6, 23, 12, 18, 29, 0, time.UTC)
	for _, c := range []struct {
		st   license.State
		want map[string]string
	}{
		{license.State{Mode: license.ModeNone}, map[string]string{"Import-Mode": "none"}},
		{license.State{Mode: license.ModeRunning, Progress: &p, LastStatus: license.StatusSuccessful, LastSuccess: at},
			map[string]string{"Import-Mode": "running", "Import-Progress": "41"}},
		{license.State{Mode: license.ModeIdle, LastStatus: license.StatusSuccessful, LastSuccess: at},
			map[string]string{"Import-Mode": "idle", "Import-Last-Status": "successful", "Import-Last-Success-Time": "2014-06-23T12:18:29Z"}},
		{license.State{Mode: license.ModePending, LastStatus: license.StatusFailed, LastSuccess: at},
			map[string]string{"Import-Mode": "pending", "Import-Last-Status": "failed", "Import-Last-Success-Time": "2014-06-23T12:18:29Z"}},
	} {
		w := httptest.NewRecorder()
		importHeaders(w, &c.st)
		got := map[string]string{}
		for k := range w.Header() {
			got[k] = w.Header().Get(k)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.st.Mode, diff)
		}
	}
}
