package license

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestServerIn: the server read from a stored usage row without decoding
// it is the one json.Marshal wrote, whatever the metric's code name holds
// (quotes, a "server": of its own); a row written otherwise is refused.
func TestServerIn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := usage{
			System: rapid.Uint64().Draw(t, "system"), Title: rapid.Uint64().Draw(t, "title"),
			Metric: rapid.OneOf(rapid.String(), rapid.Just(`x","server":7,"y":"`), rapid.Just(`"server":`)).Draw(t, "metric"),
			Value:  rapid.Float64().Draw(t, "value"), Server: rapid.OneOf(rapid.Uint64(), rapid.Just(uint64(math.MaxUint64)), rapid.Uint64Range(0, 1e6)).Draw(t, "server"),
			PerHost: rapid.Bool().Draw(t, "perHost"), At: time.Unix(rapid.Int64Range(0, 1<<40).Draw(t, "at"), 0),
		}
		v, err := json.Marshal(u)
		if err != nil {
			t.Skip(err) // a NaN or infinite value is never stored
		}
		if got, ok := serverIn(v); !ok || got != u.Server {
			t.Fatalf("serverIn(%s) = %d, %v; want %d", v, got, ok, u.Server)
		}
	})
	for _, v := range []string{`{"cs":1}`, `{"server":"7"}`, `{"server": 7}`, `{"server":-7}`, `{"server":7.5}`, `{"server":18446744073709551616}`, `{"server":123456789012345678901}`} {
		if got, ok := serverIn([]byte(v)); ok {
			t.Errorf("serverIn(%s) = %d, true; want false", v, got)
		}
	}
}
