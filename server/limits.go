package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/irego/irego/api"
)

// Limits bound what clients can hold of the server: connections, request
// bytes in memory, and time. Zero fields take the defaults below.
type Limits struct {
	// MaxConns bounds open connections; one over it is answered 503 and
	// closed at once.
	MaxConns int
	// MaxConnsPerAddr bounds the open connections of one client address,
	// so that one client cannot take every slot of MaxConns; one over it
	// is answered 503 too.
	MaxConnsPerAddr int
	// MaxInFlight bounds the request body bytes held by requests in
	// progress, all together; a request that would pass it is answered 503
	// with Retry-After.
	MaxInFlight int64
	// HeaderTimeout bounds reading a request's headers.
	HeaderTimeout time.Duration
	// ReadIdle bounds the pause between two reads of a body; BodyTimeout
	// bounds reading a whole body. A body too slow is answered 408.
	ReadIdle, BodyTimeout time.Duration
	// WriteIdle bounds the pause between two writes of a reply to a client
	// that does not read it.
	WriteIdle time.Duration
	// IdleTimeout bounds how long a kept-alive connection waits for its
	// next request.
	IdleTimeout time.Duration
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxConns:        512,
	MaxConnsPerAddr: 128,
	MaxInFlight:     256 << 20,
	HeaderTimeout:   10 * time.Second,
	ReadIdle:        5 * time.Second,
	BodyTimeout:     2 * time.Minute,
	WriteIdle:       30 * time.Second,
	IdleTimeout:     2 * time.Minute,
}

// publicMaxBody bounds the bodies of routes that need no credentials
// (a sign-in is small): nobody unauthenticated may make the server hold
// more.
const publicMaxBody = 64 << 10

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	if l.MaxConnsPerAddr <= 0 {
		l.MaxConnsPerAddr = d.MaxConnsPerAddr
	}
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = d.MaxInFlight
	}
	for _, p := range []struct{ v, d *time.Duration }{
		{&l.HeaderTimeout, &d.HeaderTimeout}, {&l.ReadIdle, &d.ReadIdle}, {&l.BodyTimeout, &d.BodyTimeout},
		{&l.WriteIdle, &d.WriteIdle}, {&l.IdleTimeout, &d.IdleTimeout},
	} {
		if *p.v <= 0 {
			*p.v = *p.d
		}
	}
	return l
}

// inFlight counts the request body bytes held by requests in progress.
type inFlight struct {
	max int64
	n   atomic.Int64
}

// take reserves n bytes, or reports that they would pass the bound.
func (f *inFlight) take(n int64) bool {
	if f.n.Add(n) > f.max {
		f.n.Add(-n)
		return false
	}
	return true
}

func (f *inFlight) give(n int64) { f.n.Add(-n) }

// body reads a request body under the idle and whole-body deadlines,
// reserving bytes of unknown length as they arrive.
type body struct {
	w        http.ResponseWriter
	r        io.ReadCloser
	rc       *http.ResponseController
	l        Limits
	start    time.Time
	flight   *inFlight
	reserved int64 // bytes taken from flight
	sized    bool  // the length was known and reserved up front
	eof      bool
	stalled  bool // a read hit its deadline: the client is gone or too slow
}

func (b *body) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	deadline := min(time.Now().Add(b.l.ReadIdle).UnixNano(), b.start.Add(b.l.BodyTimeout).UnixNano())
	_ = b.rc.SetReadDeadline(time.Unix(0, deadline))
	n, err := b.r.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) && !b.stalled {
		b.stalled = true
		b.w.Header().Set("Connection", "close") // the rest of the body, if it comes, is no request
	}
	if !b.sized && n > 0 {
		if !b.flight.take(int64(n)) {
			return 0, api.ErrBusy
		}
		b.reserved += int64(n)
	}
	if err == io.EOF {
		// The server now watches the connection for the client going
		// away; a deadline left behind would cancel the request.
		b.eof = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *body) Close() error { return b.r.Close() }

// limitBody puts r's body under the read deadlines and the in-flight
// bound (a known length is reserved at once, else as it arrives). done
// gives the bytes back and bounds what net/http still reads of an unread
// body; a body the bound has no room for is a 503 Error.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, limit int64) (done func(), e *api.Error) {
	if r.ContentLength == 0 {
		return func() {}, nil
	}
	b := &body{w: w, r: http.MaxBytesReader(w, r.Body, limit), rc: rc, l: s.limits, start: time.Now(), flight: s.flight}
	if r.ContentLength > 0 {
		if !s.flight.take(r.ContentLength) {
			return nil, api.Busy()
		}
		b.sized, b.reserved = true, r.ContentLength
	}
	r.Body = b
	return func() {
		s.flight.give(b.reserved)
		switch {
		case b.stalled: // waiting for more is what just failed
			_ = rc.SetReadDeadline(time.Now())
		case !b.eof:
			_ = rc.SetReadDeadline(time.Now().Add(s.limits.ReadIdle))
		}
	}, nil
}

// refuseBody makes sure a request answered without reading its body does
// not hold the connection: the reply closes it, and what net/http reads of
// the body afterwards is bounded by ReadIdle.
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.limits.ReadIdle))
}

// writer refreshes the write deadline before each write, so a client that
// stops reading the reply is dropped after WriteIdle.
type writer struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *writer) WriteHeader(code int) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// capListener answers connections over max, or over perAddr from one
// client address, with 503 and closes them.
type capListener struct {
	net.Listener
	slots    chan struct{}
	refusing atomic.Int32 // connections being told 503
	perAddr  int
	mu       sync.Mutex
	byAddr   map[netip.Addr]int // open connections by client address
}

// maxRefusing bounds the connections being answered 503 at once; past it
// an excess connection is closed without a word, so a flood cannot hold
// descriptors through the refusals either.
const maxRefusing = 64

func newCapListener(ln net.Listener, max, perAddr int) *capListener {
	return &capListener{Listener: ln, slots: make(chan struct{}, max), perAddr: perAddr, byAddr: map[netip.Addr]int{}}
}

// clientAddr is a connection's remote address without its port (IPv4 in
// IPv6 clothing unmapped, so one client counts once).
func clientAddr(c net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{} // not TCP: all such connections count as one address
	}
	return ap.Addr().Unmap()
}

// takeAddr counts a connection of addr, or reports that addr has as many
// as it may.
func (l *capListener) takeAddr(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr] >= l.perAddr {
		return false
	}
	l.byAddr[addr]++
	return true
}

func (l *capListener) giveAddr(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// busyReply is written raw to a connection over the cap: it never reaches
// the HTTP server.
var busyReply = func() string {
	b := `{"error":{"message":"Server busy","detail":"too many connections; try again later"},"status":"failure"}` + "\n"
	return fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"+
		"Content-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
}()

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddr(c)
		select {
		case l.slots <- struct{}{}:
			if l.takeAddr(addr) {
				return &slotConn{Conn: c, free: func() { l.giveAddr(addr); <-l.slots }}, nil
			}
			<-l.slots // the address has its share: refused below
		default:
		}
		if l.refusing.Add(1) > maxRefusing {
			l.refusing.Add(-1)
			c.Close()
			continue
		}
		go func() {
			defer l.refusing.Add(-1)
			refuse(c)
		}()
	}
}

// refuse tells an excess connection to come back later and closes it,
// spending at most a second on it. It reads the request's headers first:
// clients take a reply sent before their request as a broken connection.
func refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	br := bufio.NewReader(io.LimitReader(c, 64<<10))
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	_, _ = io.WriteString(c, busyReply)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10)) // let the reply arrive before the close
	}
}

// slotConn gives its slot back once closed.
type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.free)
	return c.Conn.Close()
}
