package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/metrics"
	"github.com/irego/irego/store/backend"
	"github.com/irego/irego/version"
)

// adapters are the APIs irego serve carries, one line per adapter package:
// the roles its routes accept and its routes over an engine.
var adapters = []struct {
	roles  []string
	routes func(*engine.Engine) api.Group
}{
	{servicenow.Roles, servicenow.Routes},
	{ilmt.Roles, ilmt.Routes},
	{tmf637.Roles, tmf637.Routes},
}

// knownRoles are the roles a user may be given: admin and every role an
// adapter's routes accept.
func knownRoles() []string {
	roles := []string{auth.Admin, server.MetricsRole}
	for _, a := range adapters {
		roles = append(roles, a.roles...)
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// serveConfig is what irego serve's flags say.
type serveConfig struct {
	db, addr, rulesFile, logFormat string
	metricsAddr                    string // "" serves /metrics only on addr, to admin and the metrics role
	maxBody                        int64
	settings                       map[string]string // --set name=value (settings.go)
	sync                           bool
}

func cmdServe(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.db, "db", "data", "store: a directory (created if missing), badger:DIR or postgres://…")
	fs.StringVar(&cfg.db, "store", "data", "the same as --db")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "also serve /metrics without credentials on this address (e.g. 127.0.0.1:9090)")
	fs.StringVar(&cfg.rulesFile, "rules", "", "rule file (default: the built-in rule pack)")
	fs.StringVar(&cfg.logFormat, "log", "text", "log format on stderr: text or json")
	fs.BoolVar(&cfg.sync, "sync", false, "answer a write only once it is on stable storage (concurrent writes share one fsync)")
	maxBody := fs.String("max-body", "16MiB", "largest request body accepted: bytes, or a number with KiB, MiB or GiB")
	fs.Var(settingFlag{&cfg.settings}, "set", "change an advanced server setting, kept in the store: name=value (repeatable; see GET /api/sam/configs)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 || (cfg.logFormat != "text" && cfg.logFormat != "json") {
		fmt.Fprintln(stderr, "irego serve: takes only flags; --log is text or json")
		return exitUsage
	}
	var err error
	if cfg.maxBody, err = parseSize(*maxBody); err != nil {
		fmt.Fprintf(stderr, "irego serve: --max-body: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, stderr, nil)
}

// serve runs the server until ctx ends, then closes the store. ready, when
// not nil, learns the address once the server listens.
func serve(ctx context.Context, cfg serveConfig, stderr io.Writer, ready func(addr string)) int {
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	fail := func(err error) int {
		log.Error("irego serve: " + err.Error())
		return exitFail
	}
	v := version.Get()
	log.Info("starting", "version", v.Version, "revision", v.Revision, "go", v.Go)
	e, err := openEngineWith(cfg.db, cfg.rulesFile, engine.Options{SyncWrites: cfg.sync})
	if err != nil {
		return fail(err)
	}
	defer e.Close()
	for _, n := range e.Notices() {
		log.Warn(n)
	}
	if err := applySettings(e, cfg.settings); err != nil {
		return fail(err)
	}
	users := auth.New(e.Store())
	password, err := users.EnsureAdmin(os.Getenv("IREGO_ADMIN_PASSWORD"))
	if err != nil {
		return fail(err)
	}
	if password != "" && os.Getenv("IREGO_ADMIN_PASSWORD") == "" {
		fmt.Fprintf(stderr, "irego serve: created user %q with password %s\n  (shown only now; change it with PUT /api/irego/users/%s, or set IREGO_ADMIN_PASSWORD before the first start)\n",
			auth.AdminName, password, auth.AdminName)
	} else if password != "" {
		log.Info("created user " + auth.AdminName + " with the password in IREGO_ADMIN_PASSWORD")
	}
	var groups []api.Group
	for _, a := range adapters {
		groups = append(groups, a.routes(e))
	}
	m := metrics.New()
	srv, err := server.New(server.Config{Engine: e, Users: users, Groups: groups, Logger: log, MaxBody: cfg.maxBody, Metrics: m})
	if err != nil {
		return fail(err)
	}
	if cfg.metricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.metricsAddr, m, log)
		if err != nil {
			return fail(err)
		}
		defer stopMetrics()
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fail(err)
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "db", backend.Redact(cfg.db))
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return fail(err)
	}
	if err := e.Close(); err != nil {
		return fail(fmt.Errorf("closing the store: %w", err))
	}
	log.Info("stopped; store closed")
	return exitOK
}

// parseSize reads a byte count: digits, optionally followed by KiB, MiB or
// GiB (K, M, G for short).
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 16MiB or 1048576", s)
	}
	return n * mult, nil
}
