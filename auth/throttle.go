package auth

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Sign-ins with a password are throttled per user name and per client
// address: after a few failures each further attempt must wait a delay
// that doubles with every failure, and after MaxFailures the name or
// address is locked out for Lockout. Attempts during a wait are refused
// without checking the password, so guessing gets no faster by asking
// more often. An address, which many clients behind one proxy may share,
// gets addressFactor times the free failures and MaxFailures of a name.
// API tokens are long random secrets and are not throttled.

const addressFactor = 5

// ErrThrottled: too many failed sign-ins; the error is a *ThrottledError.
var ErrThrottled = errors.New("auth: too many failed sign-ins")

// ThrottledError says who is throttled and until when.
type ThrottledError struct {
	Who    string // "user NAME" or "address ADDR"
	Retry  time.Duration
	Locked bool // MaxFailures reached: locked out, not just slowed down
}

// Error says who is throttled and for how long.
func (e *ThrottledError) Error() string {
	what := "slowed down"
	if e.Locked {
		what = "locked out"
	}
	return fmt.Sprintf("auth: %s %s after failed sign-ins; try again in %s", e.Who, what, e.Retry.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Throttle limits failed sign-ins. The zero value takes the defaults.
type Throttle struct {
	// Free failures before the first delay; 0 means 3.
	Free int
	// Delay after the first failure past Free, doubled after each further
	// one; 0 means one second.
	Delay time.Duration
	// MaxFailures locks a name or address out; 0 means 10.
	MaxFailures int
	// Lockout is how long a lockout lasts, and how long failures are
	// remembered; 0 means 15 minutes.
	Lockout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	strikes map[string]*strike // "u/NAME" or "a/ADDR"
}

type strike struct {
	n     int
	last  time.Time
	until time.Time
}

// maxStrikes bounds the memory the throttle uses; past it, expired entries
// are dropped, and if none has expired the oldest is.
const maxStrikes = 100_000

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Throttle) limits() (free, max int, delay, lockout time.Duration) {
	free, max, delay, lockout = t.Free, t.MaxFailures, t.Delay, t.Lockout
	if free <= 0 {
		free = 3
	}
	if max <= 0 {
		max = 10
	}
	if delay <= 0 {
		delay = time.Second
	}
	if lockout <= 0 {
		lockout = 15 * time.Minute
	}
	return
}

// Check returns a *ThrottledError when user or addr must wait.
func (t *Throttle) Check(user, addr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	_, max, _, _ := t.limits()
	for _, k := range keys(user, addr) {
		if s := t.strikes[k.key]; s != nil && now.Before(s.until) {
			return &ThrottledError{Who: k.who, Retry: s.until.Sub(now), Locked: s.n >= max*k.factor}
		}
	}
	return nil
}

// Failed counts a failed sign-in of user from addr. It returns a
// *ThrottledError when this failure starts a delay or a lockout, for the
// caller to log.
func (t *Throttle) Failed(user, addr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.strikes == nil {
		t.strikes = map[string]*strike{}
	}
	now := t.now()
	free, max, delay, lockout := t.limits()
	var out error
	for _, k := range keys(user, addr) {
		free, max := free*k.factor, max*k.factor
		s := t.strikes[k.key]
		if s == nil || now.Sub(s.last) > lockout {
			t.prune(now, lockout)
			s = &strike{}
			t.strikes[k.key] = s
		}
		s.n++
		s.last = now
		switch {
		case s.n >= max:
			s.until = now.Add(lockout)
		case s.n > free:
			s.until = now.Add(min(delay<<min(s.n-free-1, 20), lockout))
		default:
			continue
		}
		if out == nil {
			out = &ThrottledError{Who: k.who, Retry: s.until.Sub(now), Locked: s.n >= max}
		}
	}
	return out
}

type throttleKey struct {
	key, who string
	factor   int
}

// keys are what a sign-in counts against. A name no user can have (too
// long, say) counts only against the address: remembering it would let
// guesses fill memory with names.
func keys(user, addr string) []throttleKey {
	a := throttleKey{"a/" + addr, "address " + addr, addressFactor}
	if CheckName(user) != nil {
		return []throttleKey{a}
	}
	return []throttleKey{{"u/" + user, "user " + user, 1}, a}
}

// Succeeded forgets the user's failures (not the address's: one good
// account must not reset guessing at others).
func (t *Throttle) Succeeded(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.strikes, "u/"+user)
}

func (t *Throttle) prune(now time.Time, lockout time.Duration) {
	if len(t.strikes) < maxStrikes {
		return
	}
	var oldest string
	for k, s := range t.strikes {
		if now.Sub(s.last) > lockout && now.After(s.until) {
			delete(t.strikes, k)
		} else if oldest == "" || s.last.Before(t.strikes[oldest].last) {
			oldest = k
		}
	}
	if len(t.strikes) >= maxStrikes {
		delete(t.strikes, oldest)
	}
}

// SignIn is Verify behind the throttle: it refuses with a *ThrottledError
// while user or addr must wait, and counts failures. addr is the client's
// address (its port is ignored).
func (u *Users) SignIn(name, password, addr string) (*User, error) {
	addr = hostOf(addr)
	if err := u.Throttle.Check(name, addr); err != nil {
		return nil, err
	}
	usr, err := u.Verify(name, password)
	switch {
	case errors.Is(err, ErrBadCredentials):
		if terr := u.Throttle.Failed(name, addr); terr != nil && u.OnThrottle != nil {
			u.OnThrottle(terr)
		}
	case err == nil:
		u.Throttle.Succeeded(name)
	}
	return usr, err
}

func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
