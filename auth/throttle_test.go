package auth

import (
	"errors"
	"testing"
	"time"
)

// TestThrottleByAddress: one address guessing at many names is slowed
// down and locked out although no single name is.
func TestThrottleByAddress(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := &Throttle{Now: func() time.Time { return now }, Free: 1, MaxFailures: 2, Delay: time.Second, Lockout: time.Hour}
	for i := range 2 * addressFactor {
		name := string(rune('a' + i))
		if err := th.Check(name, "192.0.2.7"); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		th.Failed(name, "192.0.2.7")
		now = now.Add(time.Minute) // past any delay
	}
	var te *ThrottledError
	if err := th.Check("zed", "192.0.2.7"); !errors.As(err, &te) || !te.Locked || te.Who != "address 192.0.2.7" {
		t.Fatalf("a fresh name from the guessing address: %v", err)
	}
	if err := th.Check("zed", "192.0.2.8"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}
