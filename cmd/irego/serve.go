package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/api/ilmt"
	"github.com/irego/irego/api/servicenow"
	"github.com/irego/irego/api/tmf637"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/server"
	"github.com/irego/irego/server/metrics"
	"github.com/irego/irego/server/ui"
	"github.com/irego/irego/store/backend"
	"github.com/irego/irego/store/badger"
	"github.com/irego/irego/version"
)

// adapters are the APIs irego serve carries, one line per adapter package:
// the roles its routes accept and its routes over an engine.
// The users are the server's, so that sign-ins anywhere share one throttle.
var adapters = []struct {
	roles  []string
	routes func(*engine.Engine, serveConfig, *auth.Users) api.Group
}{
	{servicenow.Roles, func(e *engine.Engine, _ serveConfig, _ *auth.Users) api.Group { return servicenow.Routes(e) }},
	{ilmt.Roles, func(e *engine.Engine, c serveConfig, u *auth.Users) api.Group {
		return ilmt.RoutesFor(license.New(e, license.Options{Observer: c.imports}), u)
	}},
	{tmf637.Roles, func(e *engine.Engine, c serveConfig, _ *auth.Users) api.Group { return tmf637.New(e, c.hub) }},
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
	batchLastDiscovered            bool // ServiceNow's batch_update_last_discovered
	limits                         server.Limits
	lockoutAfter                   int
	lockout                        time.Duration
	hub                            tmf637.Options // listener callbacks allowed
	adoptRules                     bool           // --adopt-stored-rules
	rulesPoll                      time.Duration
	imports                        license.Observer // wired by serve, not a flag
	config                         []setting        // the effective configuration, logged at start
	warnings                       []string         // about the configuration, logged at start
	eventRetention                 time.Duration    // how long change events are kept
	maxScan                        int              // records a list reads to filter or order
	trustedProxies                 []netip.Prefix   // whose X-Forwarded-Proto: https makes the console's cookies Secure
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve")
	var cfg serveConfig
	fs.StringVar(&cfg.db, "db", "data", "store: a directory (created if missing), badger:DIR or postgres://…")
	fs.StringVar(&cfg.db, "store", "data", "the same as --db")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "also serve /metrics without credentials on this address (e.g. 127.0.0.1:9090)")
	fs.StringVar(&cfg.rulesFile, "rules", "", "rule file (default: the rules the store records, else the built-in rule pack)")
	fs.BoolVar(&cfg.adoptRules, "adopt-stored-rules", false, "use the rules the store records when they differ from --rules (which then only seed a new store)")
	fs.DurationVar(&cfg.rulesPoll, "rules-poll", engine.DefaultRulesPoll, "how often to look for rules changed by irego rules apply (a shared store; writes find a change at once)")
	fs.StringVar(&cfg.logFormat, "log", "text", "log format on stderr: text or json")
	fs.BoolVar(&cfg.sync, "sync", false, "answer a write only once it is on stable storage (concurrent writes share one fsync)")
	fs.BoolVar(&cfg.batchLastDiscovered, "batch-last-discovered", true, "write the last_discovered of CIs reported unchanged in batches, within a second, rather than in each payload's transaction (ServiceNow's glide.identification_engine.batch_update_last_discovered)")
	maxBody := fs.String("max-body", "16MiB", "largest request body accepted: bytes, or a number with KiB, MiB or GiB")
	d := server.DefaultLimits
	fs.IntVar(&cfg.limits.MaxConns, "max-conns", d.MaxConns, "open connections at most; more are answered 503")
	fs.IntVar(&cfg.limits.MaxConnsPerAddr, "max-conns-per-addr", d.MaxConnsPerAddr, "open connections of one client address at most; more are answered 503")
	maxInFlight := fs.String("max-inflight", "256MiB", "request body bytes held by all requests at once; more are answered 503")
	fs.DurationVar(&cfg.limits.HeaderTimeout, "header-timeout", d.HeaderTimeout, "time to read a request's headers")
	fs.DurationVar(&cfg.limits.ReadIdle, "read-idle", d.ReadIdle, "longest pause between two reads of a request body (408 after)")
	fs.DurationVar(&cfg.limits.BodyTimeout, "body-timeout", d.BodyTimeout, "time to read a whole request body (408 after)")
	fs.DurationVar(&cfg.limits.WriteIdle, "write-idle", d.WriteIdle, "longest pause while writing a reply to a client that does not read")
	fs.DurationVar(&cfg.limits.IdleTimeout, "idle-timeout", d.IdleTimeout, "how long a kept-alive connection waits for its next request")
	fs.IntVar(&cfg.lockoutAfter, "lockout-after", 10, "failed sign-ins that lock a user name out (5 times as many for a client address)")
	fs.DurationVar(&cfg.lockout, "lockout", 15*time.Minute, "how long a lockout lasts")
	callbackAllow := fs.String("callback-allow", "", "TMF637 listener addresses allowed although loopback, link-local or private: CIDR or address, comma-separated")
	fs.BoolVar(&cfg.hub.DenyPrivateCallbacks, "callback-deny-private", false, "refuse TMF637 listeners at private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) too")
	fs.IntVar(&cfg.maxScan, "max-scan", engine.DefaultMaxScan, "how many records one list reads to filter or order them when no index serves the query (its reply then says X-Scan-Capped)")
	fs.DurationVar(&cfg.eventRetention, "event-retention", engine.DefaultEventRetention, "how long change events are kept for TMF637 listeners and GET /api/irego/events (a listener behind by more misses the older ones)")
	trustedProxies := fs.String("trusted-proxies", "", "TLS-terminating proxies whose X-Forwarded-Proto: https makes the console's session cookie Secure: CIDR or address, comma-separated")
	fs.Var(settingFlag{&cfg.settings}, "set", "change an advanced server setting, kept in the store: name=value (repeatable; see GET /api/sam/configs)")
	configFile := fs.String("config", os.Getenv("IREGO_CONFIG"), "read settings from this YAML file: flag names as keys (default $IREGO_CONFIG)")
	checkOnly := fs.Bool("check-config", false, "check the configuration (flags, IREGO_* variables, --config file, rule file), print it and exit")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	bad := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "irego serve: "+format+"\n", args...)
		return exitUsage
	}
	if fs.NArg() != 0 {
		return bad("takes only flags, not %q", fs.Arg(0))
	}
	conf, err := configure(fs, *configFile, os.Environ())
	if err != nil {
		return bad("%v", err)
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return bad("%s: %q is not a log format; give text or json", conf.where("log"), cfg.logFormat)
	}
	if cfg.maxBody, err = parseSize(*maxBody); err != nil {
		return bad("%s: %v", conf.where("max-body"), err)
	}
	if cfg.limits.MaxInFlight, err = parseSize(*maxInFlight); err != nil {
		return bad("%s: %v", conf.where("max-inflight"), err)
	}
	if cfg.hub.AllowCallbacks, err = parsePrefixes(*callbackAllow); err != nil {
		return bad("%s: %v", conf.where("callback-allow"), err)
	}
	if cfg.trustedProxies, err = parsePrefixes(*trustedProxies); err != nil {
		return bad("%s: %v", conf.where("trusted-proxies"), err)
	}
	if err := checkNumbers(cfg, conf); err != nil {
		return bad("%v", err)
	}
	cfg.config, cfg.warnings = conf.effective(), conf.warnings
	if *checkOnly {
		if cfg.rulesFile != "" {
			if _, err := rules.LoadFile(cfg.rulesFile); err != nil {
				return bad("%s: %v", conf.where("rules"), err)
			}
		}
		for _, w := range cfg.warnings {
			fmt.Fprintf(stderr, "irego serve: warning: %s\n", w)
		}
		for _, s := range cfg.config {
			fmt.Fprintf(stdout, "%s: %s  # %s\n", s.name, s.value, s.from)
		}
		fmt.Fprintln(stderr, "irego serve: configuration ok")
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, stderr, nil)
}

// checkNumbers refuses counts and durations that cannot work, naming where
// they came from (a zero limit would silently mean the default).
func checkNumbers(cfg serveConfig, conf *config) error {
	l := cfg.limits
	for _, n := range []struct {
		name string
		ok   bool
	}{
		{"max-conns", l.MaxConns > 0}, {"max-conns-per-addr", l.MaxConnsPerAddr > 0}, {"lockout-after", cfg.lockoutAfter > 0}, {"lockout", cfg.lockout > 0},
		{"header-timeout", l.HeaderTimeout > 0}, {"read-idle", l.ReadIdle > 0}, {"body-timeout", l.BodyTimeout > 0},
		{"write-idle", l.WriteIdle > 0}, {"idle-timeout", l.IdleTimeout > 0},
	} {
		if !n.ok {
			return fmt.Errorf("%s: %s must be positive", conf.where(n.name), conf.fs.Lookup(n.name).Value)
		}
	}
	return nil
}

// serve runs the server until ctx ends, then closes the store. ready, when
// not nil, learns the address once the server listens.
func serve(ctx context.Context, cfg serveConfig, stderr io.Writer, ready func(addr string)) int {
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	// A failure is told plainly, like every command's, whatever the log
	// format.
	fail := func(err error) int {
		fmt.Fprintf(stderr, "irego serve: %v\n", err)
		return exitFail
	}
	v := version.Get()
	log.Info("starting", "version", v.Version, "revision", v.Revision, "go", v.Go)
	if cfg.config != nil {
		log.LogAttrs(context.Background(), slog.LevelInfo, "configuration", logAttrs(cfg.config)...)
	}
	for _, w := range cfg.warnings {
		log.Warn(w)
	}
	rulesChanged := func(from string, to engine.StoredRules) {
		log.Info("rules changed", "from", from, "to", to.Fingerprint, "name", to.Name, "state", to.State, "reindexes", to.Reindexes, "reindexedBy", to.ReindexedBy)
	}
	e, err := openEngineWith(cfg.db, cfg.rulesFile, engine.Options{SyncWrites: cfg.sync, ImmediateLastDiscovered: !cfg.batchLastDiscovered, AdoptStoredRules: cfg.adoptRules, RulesPoll: cfg.rulesPoll, RulesChanged: rulesChanged, EventRetention: cfg.eventRetention,
		MaxScan: cfg.maxScan})
	if err != nil {
		return fail(rulesHint(inUse(err, cfg.db, "serve", false), cfg.db))
	}
	log.Info("rules", "fingerprint", engine.Fingerprint(e.Rules()), "name", e.Rules().Name())
	defer e.Close()
	expiring, stopExpiring := context.WithCancel(ctx)
	waitExpiring := expireEvents(expiring, e, log)
	defer func() { stopExpiring(); waitExpiring() }() // before the store closes
	for _, n := range append(storeWarnings(e), e.Notices()...) {
		log.Warn(n)
	}
	if db, ok := e.Store().(*badger.DB); ok {
		db.ObserveValueLogGC(func(files int, err error) {
			if err != nil {
				log.Warn("value log collection failed; the next round tries again", "err", err, "files", files)
				return
			}
			log.Info("value log collected", "files", files)
		})
	}
	if err := applySettings(e, cfg.settings); err != nil {
		return fail(err)
	}
	users := auth.New(e.Store())
	users.Throttle = &auth.Throttle{MaxFailures: cfg.lockoutAfter, Lockout: cfg.lockout}
	m := metrics.New()
	cfg.imports, cfg.hub.Observer = m.License(), m.TMF637()
	var groups []api.Group
	for _, a := range adapters {
		groups = append(groups, a.routes(e, cfg, users))
	}
	console, err := ui.New(ui.Config{Engine: e, Users: users, License: license.New(e, license.Options{Logger: log, Observer: cfg.imports}), Logger: log,
		TrustedProxies: cfg.trustedProxies})
	if err != nil {
		return fail(err)
	}
	groups = append(groups, console.Group())
	srv, err := server.New(server.Config{Engine: e, Users: users, Groups: groups, Logger: log, MaxBody: cfg.maxBody, Limits: cfg.limits, Metrics: m})
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
	// The admin is created only now that the server listens: a start that
	// fails earlier (the port in use, say) must not spend the one showing
	// of its password.
	password, err := users.EnsureAdmin(os.Getenv("IREGO_ADMIN_PASSWORD"))
	if err != nil {
		ln.Close()
		return fail(err)
	}
	if password != "" && os.Getenv("IREGO_ADMIN_PASSWORD") == "" {
		fmt.Fprintf(stderr, "irego serve: created user %q with password %s\n  (shown only now; change it with PUT /api/irego/users/%s; lost, reset it with irego users passwd --db DIR admin while the server is stopped)\n",
			auth.AdminName, password, auth.AdminName)
	} else if password != "" {
		log.Info("created user " + auth.AdminName + " with the password in IREGO_ADMIN_PASSWORD")
	}
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "console", "http://"+ln.Addr().String()+"/ui/", "db", backend.Redact(cfg.db))
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

// parsePrefixes reads a comma-separated list of CIDRs or single addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
