package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/bench"
)

// TestCrashUnderLoad runs irego serve as its own process under concurrent
// load and kills it with SIGKILL at random moments. After every kill the
// store must hold every payload that was answered 200, in full, and pass
// Check: nothing half-written. IREGO_CRASH_KILLS sets the number of kills
// (default 5; the README's long run uses 50).
func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a server process repeatedly")
	}
	kills := 5
	if s := os.Getenv("IREGO_CRASH_KILLS"); s != "" {
		var err error
		if kills, err = strconv.Atoi(s); err != nil {
			t.Fatalf("IREGO_CRASH_KILLS=%q: %v", s, err)
		}
	}
	bin := buildIrego(t)
	db := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	next := 0 // chains sent so far, over all rounds
	total := 0
	for round := 1; round <= kills; round++ {
		acked := loadAndKill(t, bin, db, &next, time.Duration(50+rng.IntN(400))*time.Millisecond)
		verifyAcked(t, db, acked, round)
		total += len(acked)
	}
	t.Logf("%d kills, %d acknowledged payloads all intact", kills, total)
}

// ack is a payload the server answered 200, with the sys_ids it gave.
type ack struct {
	chain  int
	sysIDs []string
}

// loadAndKill starts the server, sends BYOL chains from eight clients and
// kills the server after d. It returns the acknowledged payloads.
func loadAndKill(t *testing.T, bin, db string, next *int, d time.Duration) []ack {
	t.Helper()
	cmd, base := startServeProcess(t, bin, db)
	defer cmd.Wait()

	var mu sync.Mutex
	var acked []ack
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				chain := *next
				*next++
				mu.Unlock()
				ids, ok := post(ctx, base, chain)
				if ok {
					mu.Lock()
					acked = append(acked, ack{chain, ids})
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(d)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	return acked
}

// buildIrego builds the command into a temporary directory.
func buildIrego(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "irego")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe starts `irego serve` on store db and returns it with its base URL.
func startServeProcess(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--log", "json")
	cmd.Env = append(os.Environ(), "IREGO_ADMIN_PASSWORD=crash-test-password")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, waitListening(t, stderr)
}

var listening = regexp.MustCompile(`"addr":"(http://[^"]+)"`)

func waitListening(t *testing.T, stderr interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return base
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start listening")
	}
	return ""
}

// post sends chain k and returns the sys_ids of its items when answered
// 200 without errors.
func post(ctx context.Context, base string, k int) ([]string, bool) {
	body, _ := json.Marshal(bench.Chain(k, 0, 2))
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/now/identifyreconcile?sysparm_data_source=ServiceNow", bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	req.SetBasicAuth("admin", "crash-test-password")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out struct {
		Result engine.Result `json:"result"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Result.HasError {
		return nil, false
	}
	var ids []string
	for _, it := range out.Result.Items {
		ids = append(ids, it.SysID)
	}
	return ids, true
}

// verifyAcked opens the killed server's store and checks every
// acknowledged payload is there in full and the store is consistent.
func verifyAcked(t *testing.T, db string, acked []ack, round int) {
	t.Helper()
	e, err := engine.Open(db, engine.Options{})
	if err != nil {
		t.Fatalf("round %d: reopening after the kill: %v", round, err)
	}
	defer e.Close()
	ctx := context.Background()
	for _, a := range acked {
		want := bench.Chain(a.chain, 0, 2)
		for i, id := range a.sysIDs {
			ci, err := e.Get(ctx, id)
			if err != nil {
				t.Fatalf("round %d: chain %d item %d (%s) was acknowledged but is missing: %v", round, a.chain, i, id, err)
			}
			for k, v := range want.Items[i].Values {
				if fmt.Sprint(ci.Values[k]) != fmt.Sprint(v) {
					t.Fatalf("round %d: chain %d item %d: %s = %v, want %v", round, a.chain, i, k, ci.Values[k], v)
				}
			}
			if i == 0 && (len(ci.Related) != 2 || len(ci.Outbound) != 1) {
				t.Fatalf("round %d: chain %d computer lacks its installs or VM: %+v", round, a.chain, ci)
			}
		}
	}
	problems, err := e.Check(ctx)
	if err != nil || len(problems) > 0 {
		t.Fatalf("round %d: check after the kill: %v %v", round, problems, err)
	}
}
