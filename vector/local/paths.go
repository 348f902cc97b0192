package local

import (
	_ "embed"
	"path/filepath"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// pinned reads a version from versions.env, the one place fetch.sh and this
// package take them from.
func pinned(name string) string {
	for _, line := range strings.Split(versionsEnv, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+"="); ok {
			return v
		}
	}
	panic("local: versions.env has no " + name)
}

// DefaultPaths returns where fetch.sh puts the model and the ONNX Runtime
// library under a cache root (NEOMEM_CACHE, default ~/.cache/neomem).
func DefaultPaths(cacheRoot string) (modelDir, library string) {
	return filepath.Join(cacheRoot, "models", "all-minilm-l6-v2", pinned("MINILM_VERSION")),
		filepath.Join(cacheRoot, "onnxruntime", pinned("ORT_VERSION"), "libonnxruntime.so")
}
