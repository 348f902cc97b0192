package neomem_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/testcontainers/neomem"
)

func TestMain(m *testing.M) { os.Exit(neomem.Main(m)) }

// TestStart: a started server answers, and a key made with the keys
// subcommand authenticates it.
func TestStart(t *testing.T) {
	srv, _ := neomem.Start(t, nil)
	key := srv.Key(t, testcontainers.Tenant(t), false)
	if !strings.HasPrefix(key, "nm_") {
		t.Fatalf("Key = %q", key)
	}
	for _, tc := range []struct {
		key  string
		want int
	}{{key, 200}, {"nm_0000000000000000_wrong", 401}} {
		req, _ := http.NewRequest("GET", srv.URL+"/memories?user_id=u", nil)
		req.Header.Set("X-API-Key", tc.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /memories with key %.12s… = %d, want %d", tc.key, resp.StatusCode, tc.want)
		}
	}
}
