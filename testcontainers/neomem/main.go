package neomem

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/neomem/neomem/testcontainers"
)

// A server for a whole test binary. Example functions have no *testing.T, so
// a package whose examples talk to a real server starts one from TestMain:
// StartMain does what Start, testcontainers.Tenant and Server.Key do for a
// test, under the same rules (the Neo4j of NEO4J_URI or Docker; none is a
// skip, or a failure under NEO4J_REQUIRED=1), and MainServer.Stop undoes it.

// MainServer is a server started by StartMain, with a tenant of its own and
// a key of that tenant.
type MainServer struct {
	*Server
	// LLM is the server's fake model server.
	LLM *FakeLLM
	// Tenant is a fresh tenant, deleted by Stop.
	Tenant string
	// APIKey is a (non-admin) key of Tenant.
	APIKey string

	tb *mainTB
}

// StartMain starts a server as Start does, without a test: on the test
// Neo4j, with its own fake model server and extra settings, plus a fresh
// tenant and a key of it. The server runs one worker for asynchronous adds
// of that tenant only (the Neo4j is shared), unless extra says otherwise.
//
// When there is no Neo4j it returns no server and the reason (skip), or an
// error under NEO4J_REQUIRED=1. Call Stop when done (Main does not).
func StartMain(extra map[string]string) (srv *MainServer, skip string, err error) {
	tb := &mainTB{name: "StartMain"}
	s := &MainServer{tb: tb}
	tb.run(func() {
		testcontainers.Connection(tb) // skips, or fails under NEO4J_REQUIRED=1
		s.Tenant = testcontainers.Tenant(tb)
		env := map[string]string{"NEOMEM_WORKERS": "1", "NEOMEM_WORKER_TENANTS": s.Tenant}
		for k, v := range extra {
			env[k] = v
		}
		s.Server, s.LLM = Start(tb, env)
		s.APIKey = s.Key(tb, s.Tenant, false)
	})
	switch {
	case tb.failed:
		err := fmt.Errorf("start a neomem server: %s", strings.Join(tb.errs, "; "))
		return nil, "", errors.Join(err, s.Stop())
	case tb.skipped != "":
		return nil, tb.skipped, s.Stop()
	}
	return s, "", nil
}

// Stop stops the server and its fake model server and deletes the tenant
// with everything in it. It says what went wrong, if anything did.
func (s *MainServer) Stop() error {
	tb := s.tb
	tb.mu.Lock()
	failedBefore, cleanups := len(tb.errs), tb.cleanups
	tb.cleanups = nil
	tb.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		tb.run(cleanups[i])
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.errs) > failedBefore {
		return fmt.Errorf("stop the neomem server: %s", strings.Join(tb.errs[failedBefore:], "; "))
	}
	return nil
}

// MainWithServer is Main for a test binary whose examples need a server:
// func TestMain(m *testing.M) { os.Exit(neomem.MainWithServer(m, nil, use)) }.
// It starts one with StartMain, hands it to use, runs the tests and
// examples, stops the server and removes the binaries built.
//
// Without a Neo4j, use gets nil and the examples are skipped (-test.skip)
// with the reason on stderr; tests that need the server call
// testcontainers.Connection, which skips them too. Under NEO4J_REQUIRED=1
// no Neo4j fails the binary instead, as does a server that does not start.
func MainWithServer(m *testing.M, extra map[string]string, use func(*MainServer)) int {
	flag.Parse()
	code := func() int {
		srv, skip, err := StartMain(extra)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if srv == nil {
			fmt.Fprintf(os.Stderr, "no neomem server, so the examples are skipped: %s\n", skip)
			skipExamples()
		}
		use(srv)
		code := m.Run()
		if srv != nil {
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = max(code, 1)
			}
		}
		return code
	}()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}

// skipExamples adds the examples to -test.skip.
func skipExamples() {
	f := flag.Lookup("test.skip")
	if f == nil {
		return
	}
	switch old := f.Value.String(); {
	case old == "":
		_ = f.Value.Set("^Example")
	case !strings.Contains(old, "/"):
		_ = f.Value.Set("(?:" + old + ")|^Example")
	}
}

// mainTB is the testing.TB of StartMain: what Start, Tenant and Key call on
// a test, outside of one. Fatal and Skip end the calling goroutine, as they
// do in a test, so every call runs through run; cleanups run at Stop. The
// embedded TB is nil: the methods below are the only ones that may be
// called.
type mainTB struct {
	testing.TB

	name     string
	mu       sync.Mutex
	cleanups []func()
	errs     []string
	failed   bool
	skipped  string
}

// run calls f in a goroutine of its own and waits for it to return or to
// end by Fatal or Skip.
func (tb *mainTB) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func (tb *mainTB) Helper()      {}
func (tb *mainTB) Name() string { return tb.name }

func (tb *mainTB) Cleanup(f func()) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.cleanups = append(tb.cleanups, f)
}

func (tb *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "neomem-main-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (tb *mainTB) Log(args ...any) { tb.log(fmt.Sprintln(args...)) }
func (tb *mainTB) Logf(format string, args ...any) {
	tb.log(fmt.Sprintf(format, args...))
}

func (tb *mainTB) log(msg string) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", tb.name, strings.TrimRight(msg, "\n"))
}

func (tb *mainTB) Error(args ...any) { tb.error(fmt.Sprintln(args...)) }
func (tb *mainTB) Errorf(format string, args ...any) {
	tb.error(fmt.Sprintf(format, args...))
}

// error records a failure; StartMain or Stop returns it.
func (tb *mainTB) error(msg string) {
	msg = strings.TrimRight(msg, "\n")
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.failed = true
	tb.errs = append(tb.errs, msg)
}

func (tb *mainTB) Fail() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.failed = true
}

func (tb *mainTB) Failed() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.failed
}

func (tb *mainTB) FailNow() {
	tb.Fail()
	runtime.Goexit()
}

func (tb *mainTB) Fatal(args ...any) {
	tb.Error(args...)
	runtime.Goexit()
}

func (tb *mainTB) Fatalf(format string, args ...any) {
	tb.Errorf(format, args...)
	runtime.Goexit()
}

func (tb *mainTB) Skip(args ...any) { tb.skip(strings.TrimRight(fmt.Sprintln(args...), "\n")) }
func (tb *mainTB) Skipf(format string, args ...any) {
	tb.skip(fmt.Sprintf(format, args...))
}
func (tb *mainTB) SkipNow() { tb.skip("skipped") }

func (tb *mainTB) skip(msg string) {
	tb.mu.Lock()
	tb.skipped = msg
	tb.mu.Unlock()
	runtime.Goexit()
}

func (tb *mainTB) Skipped() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.skipped != ""
}
