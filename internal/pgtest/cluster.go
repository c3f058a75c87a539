package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a throwaway PostgreSQL server: a data directory in a temporary
// directory and the postmaster, a child of the test process.
type cluster struct {
	dir    string
	dsn    string
	proc   *os.Process
	exited chan struct{} // closed when the postmaster has exited
}

// settings of the throwaway server: loopback TCP only, and no durability
// (the data is thrown away). Everything else is the server's default, as
// users have it.
var settings = []string{
	"listen_addresses=127.0.0.1",
	"unix_socket_directories=",
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
}

// start creates and starts a cluster.
func start() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	as, err := runAs()
	if err != nil {
		return nil, err
	}
	removeLeftovers()
	dir, err := os.MkdirTemp("", "irego-pg-")
	if err != nil {
		return nil, err
	}
	if err := markOwner(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := as.own(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "irego", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	as.apply(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb%s: %v: %s", as, err, lastLines(out))
	}
	// A free port may be taken between asking and binding: try a few.
	for range 3 {
		var c *cluster
		if c, err = launch(bin, dir, data, as); err == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// launch starts the postmaster on a free port and waits until it accepts
// connections.
func launch(bin, dir, data string, as user) (*cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := []string{"-D", data, "-p", strconv.Itoa(port)}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	as.apply(cmd)
	c := &cluster{dir: dir, dsn: fmt.Sprintf("postgres://irego@127.0.0.1:%d/postgres?sslmode=disable", port), exited: make(chan struct{})}
	started := make(chan error)
	go func() {
		// The postmaster is told to quit when the thread that started it
		// exits (see dieWithParent); this one lives until it has exited.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("postgres: %v", err)
	}
	c.proc = cmd.Process
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-c.exited:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited at start: %s", lastLines(out))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.dsn)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return c, nil
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("postgres did not accept connections within 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down (fast shutdown, then kill) and removes its
// files.
func (c *cluster) stop() {
	c.proc.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.proc.Kill()
		<-c.exited
	}
	os.RemoveAll(c.dir)
}

// binDir finds the directory holding initdb and postgres: on PATH, or in
// Debian's versioned directories (not on PATH there), newest first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", errors.New("no initdb and postgres binaries on PATH or in /usr/lib/postgresql/*/bin")
}

// version is the major version in a Debian bin directory's path.
func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines is the end of a command's output, for an error message.
func lastLines(out []byte) string {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
