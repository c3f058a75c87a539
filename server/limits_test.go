package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server"
)

// limited is a server run by Serve on a loopback listener with the given
// limits (the body limit is maxBody), for clients that misbehave over real
// TCP. GET /t/hold signals entered once a request got past the checks,
// then echoes its body.
type limited struct {
	addr    string
	entered chan struct{}
}

func startLimited(t *testing.T, l server.Limits) *limited {
	t.Helper()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	users := auth.New(e.Store())
	users.Cost = bcrypt.MinCost
	if _, err := users.Add("ann", "ann-password", []string{"itil"}); err != nil {
		t.Fatal(err)
	}
	v := &limited{entered: make(chan struct{}, 16)}
	g := api.Group{Name: "test", Routes: []api.Route{{Method: "POST", Path: "/t/hold", Handler: func(w http.ResponseWriter, r *http.Request) {
		v.entered <- struct{}{}
		b, e := api.ReadBody(r)
		if e != nil {
			api.WriteError(w, r, e)
			return
		}
		w.Write(b)
	}}}}
	srv, err := server.New(server.Config{Engine: e, Users: users, Groups: []api.Group{g}, MaxBody: maxBody, Limits: l,
		Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.Close()
	})
	v.addr = ln.Addr().String()
	return v
}

// dial opens a raw connection whose reads give up after a generous bound:
// a server that holds the connection fails the test instead of hanging it.
func (v *limited) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", v.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	return c
}

// partial sends a POST's headers with a Content-Length of length and only
// the first bytes of its body, then stops.
func partial(t *testing.T, c net.Conn, user string, length int) {
	t.Helper()
	cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + user + "-password"))
	if user == "" {
		cred = base64.StdEncoding.EncodeToString([]byte("mallory:guess"))
	}
	fmt.Fprintf(c, "POST /t/hold HTTP/1.1\r\nHost: irego\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n0123456789", cred, length)
}

// reply reads a reply on c and then the connection to its end: it fails
// the test unless the server answers status and closes the connection.
func reply(t *testing.T, c net.Conn, status int) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d", resp.StatusCode, status)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil || isDeadline(err) {
		t.Fatalf("the server kept the connection after %d: %v", status, err)
	}
}

func isDeadline(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestUnauthenticatedBodyIsNotHeld: a caller without valid credentials who
// starts a body and stops is answered 401 and let go; the server reads
// nothing of the body.
func TestUnauthenticatedBodyIsNotHeld(t *testing.T) {
	v := startLimited(t, server.Limits{ReadIdle: 200 * time.Millisecond})
	c := v.dial(t)
	partial(t, c, "", 100)
	reply(t, c, 401)
}

// TestSlowBodyTimesOut: an authenticated body that stops arriving is
// answered 408 once ReadIdle passes without a byte.
func TestSlowBodyTimesOut(t *testing.T) {
	v := startLimited(t, server.Limits{ReadIdle: 200 * time.Millisecond})
	c := v.dial(t)
	partial(t, c, "ann", 100)
	reply(t, c, 408)
}

// TestHeaderTimeout: a client that never finishes its headers is dropped.
func TestHeaderTimeout(t *testing.T) {
	v := startLimited(t, server.Limits{HeaderTimeout: 200 * time.Millisecond})
	c := v.dial(t)
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: irego\r\n")
	if _, err := io.Copy(io.Discard, c); isDeadline(err) {
		t.Fatal("the server kept a connection that never finished its headers")
	}
}

// TestConnectionCap: connections over MaxConns are answered 503 with
// Retry-After, and served again once a slot is free.
func TestConnectionCap(t *testing.T) {
	v := startLimited(t, server.Limits{MaxConns: 2})
	held := []net.Conn{v.dial(t), v.dial(t)}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() *http.Response {
		resp, err := client.Get("http://" + v.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// The listener may not have accepted both held connections yet; the
	// third is refused once it has.
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp = get(); resp.StatusCode == 503 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third connection: %d %v, want 503 with Retry-After", resp.StatusCode, resp.Header)
	}
	held[0].Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp = get(); resp.StatusCode == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after a slot was freed: %d", resp.StatusCode)
}

// TestConnectionCapPerAddress: one client address holding its share of
// connections is answered 503 with Retry-After, while another address is
// served; once one of its connections closes, the first is served again.
func TestConnectionCapPerAddress(t *testing.T) {
	v := startLimited(t, server.Limits{MaxConns: 10, MaxConnsPerAddr: 2})
	held := []net.Conn{v.dial(t), v.dial(t)} // from 127.0.0.1
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext}}
	}
	get := func(c *http.Client) *http.Response {
		resp, err := c.Get("http://" + v.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// The listener may not have accepted both held connections yet.
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp = get(from("127.0.0.1")); resp.StatusCode == 503 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third connection from 127.0.0.1: %d %v, want 503 with Retry-After", resp.StatusCode, resp.Header)
	}
	if resp := get(from("127.0.0.2")); resp.StatusCode != 200 {
		t.Errorf("a connection from 127.0.0.2 while 127.0.0.1 has its share: %d, want 200", resp.StatusCode)
	}
	held[0].Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp = get(from("127.0.0.1")); resp.StatusCode == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after one of its connections closed, 127.0.0.1: %d", resp.StatusCode)
}

// TestInFlightBytes: bodies held at once are bounded; a request that
// would pass the bound is answered 503 and the held ones complete.
func TestInFlightBytes(t *testing.T) {
	v := startLimited(t, server.Limits{MaxInFlight: 2 * maxBody})
	var held []net.Conn
	for range 2 {
		c := v.dial(t)
		partial(t, c, "ann", maxBody)
		<-v.entered
		held = append(held, c)
	}
	req, _ := http.NewRequest("POST", "http://"+v.addr+"/t/hold", strings.NewReader(strings.Repeat("x", maxBody)))
	req.SetBasicAuth("ann", "ann-password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "Server busy") {
		t.Fatalf("a third body: %d %s, want 503 Server busy with Retry-After", resp.StatusCode, b)
	}
	// A body of unknown length counts as it arrives.
	c := v.dial(t)
	cred := base64.StdEncoding.EncodeToString([]byte("ann:ann-password"))
	fmt.Fprintf(c, "POST /t/hold HTTP/1.1\r\nHost: irego\r\nAuthorization: Basic %s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", cred)
	<-v.entered
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 503 {
		t.Fatalf("a chunked body past the bound: %v %v", resp, err)
	}
	for _, c := range held {
		io.WriteString(c, strings.Repeat("y", maxBody-10))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("a held body, completed: %v %v", resp, err)
		}
	}
}
