package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie names. The session cookie is scoped to the console's path.
const (
	sessionCookie = "irego_console"
	signinCookie  = "irego_console_signin"
	cookiePath    = "/ui/"
)

// Default session lifetimes.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultLifetime = 12 * time.Hour
	maxSessions     = 10_000
)

type session struct {
	user    string
	csrf    string
	created time.Time
	seen    time.Time
	notice  string // shown once, by the page a POST redirects to
}

// sessions is the in-memory session table.
type sessions struct {
	idle, lifetime time.Duration
	now            func() time.Time
	mu             sync.Mutex
	byID           map[string]*session
}

func newSessions(idle, lifetime time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, lifetime: lifetime, now: now, byID: map[string]*session{}}
}

// randomToken returns 32 random bytes, URL-safe.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// start opens a session for user and returns its id.
func (s *sessions) start(user string) (string, *session) {
	now := s.now()
	id := randomToken()
	ses := &session{user: user, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		s.expireLocked(now)
	}
	for len(s.byID) >= maxSessions { // still full: drop the oldest
		var oldest string
		for k, v := range s.byID {
			if oldest == "" || v.seen.Before(s.byID[oldest].seen) {
				oldest = k
			}
		}
		delete(s.byID, oldest)
	}
	s.byID[id] = ses
	return id, ses
}

// get returns the live session with id, renewing its idle timer, or nil.
func (s *sessions) get(id string) *session {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[id]
	if ses == nil {
		return nil
	}
	if s.expired(ses, now) {
		delete(s.byID, id)
		return nil
	}
	ses.seen = now
	c := *ses
	return &c
}

// setNotice keeps a notice for the session's next page.
func (s *sessions) setNotice(id, notice string) {
	s.mu.Lock()
	if ses := s.byID[id]; ses != nil {
		ses.notice = notice
	}
	s.mu.Unlock()
}

// takeNotice returns the session's notice once.
func (s *sessions) takeNotice(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[id]
	if ses == nil {
		return ""
	}
	n := ses.notice
	ses.notice = ""
	return n
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

func (s *sessions) expired(ses *session, now time.Time) bool {
	return now.Sub(ses.seen) > s.idle || now.Sub(ses.created) > s.lifetime
}

func (s *sessions) expireLocked(now time.Time) {
	for id, ses := range s.byID {
		if s.expired(ses, now) {
			delete(s.byID, id)
		}
	}
}

// sweep drops expired sessions.
func (s *sessions) sweep() {
	s.mu.Lock()
	s.expireLocked(s.now())
	s.mu.Unlock()
}

// setCookie writes a console cookie: HttpOnly, SameSite=Strict, Secure
// over TLS (see overTLS); maxAge < 0 deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.overTLS(r)})
}

// sameToken compares tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
