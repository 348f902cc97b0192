package mcp_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

// TestThirdPartyClient runs a real third-party MCP client, the MCP
// Inspector's command line (pinned in tests/mcpclient; `make test` installs
// it and sets NEOMEM_MCPCLIENT), against neomem over HTTP and stdio: it
// lists the tools, adds a memory and finds it.
func TestThirdPartyClient(t *testing.T) {
	cli := os.Getenv("NEOMEM_MCPCLIENT")
	if cli == "" {
		if os.Getenv("NEO4J_REQUIRED") == "1" {
			t.Fatal("NEOMEM_MCPCLIENT is not set (bash tests/mcpclient/setup.sh prints it)")
		}
		t.Skip("NEOMEM_MCPCLIENT is not set: `make test` installs the client with tests/mcpclient/setup.sh")
	}
	srv, _ := neomem.Start(t, nil)
	key := srv.Key(t, testcontainers.Tenant(t), false)
	bin, _ := neomem.Binaries(t)
	// The stdio client starts `neomem mcp` with its own environment.
	stdioEnv := append(slices.Clone(srv.Env), "NEOMEM_API_KEY="+key)
	for _, tc := range []struct {
		name   string
		target []string
		env    []string
	}{
		{"http", []string{srv.URL + "/mcp", "--transport", "http", "--header", "X-API-Key: " + key}, neomem.BaseEnv()},
		{"stdio", []string{bin, "mcp"}, stdioEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(args ...string) map[string]any {
				t.Helper()
				cmd := exec.Command("node", append(append([]string{cli}, tc.target...), args...)...)
				// It finds its own package.json relative to the working
				// directory.
				cmd.Dir = filepath.Dir(cli)
				cmd.Env = tc.env
				out, err := cmd.Output()
				if err != nil {
					stderr := ""
					if ee, ok := err.(*exec.ExitError); ok {
						stderr = string(ee.Stderr)
					}
					t.Fatalf("client %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
				}
				var v map[string]any
				if err := json.Unmarshal(out, &v); err != nil {
					t.Fatalf("client %s printed %s: %v", strings.Join(args, " "), out, err)
				}
				return v
			}
			list := run("--method", "tools/list")
			var names []string
			for _, tool := range list["tools"].([]any) {
				names = append(names, tool.(map[string]any)["name"].(string))
			}
			slices.Sort(names)
			if !slices.Equal(names, wantTools) {
				t.Fatalf("tools = %v, want %v", names, wantTools)
			}
			user := "u-" + tc.name
			added := run("--method", "tools/call", "--tool-name", "add_memory", "--tool-arg", "user_id="+user, "infer=false", "text=I keep bees in Lisbon")
			if added["isError"] == true {
				t.Fatalf("add_memory: %v", added)
			}
			found := run("--method", "tools/call", "--tool-name", "search_memories", "--tool-arg", "user_id="+user, "query=bees")
			sc, _ := found["structuredContent"].(map[string]any)
			results, _ := sc["results"].([]any)
			if len(results) != 1 || results[0].(map[string]any)["memory"] != "I keep bees in Lisbon" {
				t.Fatalf("search_memories = %v", found)
			}
		})
	}
}
