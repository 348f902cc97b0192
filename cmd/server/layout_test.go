package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/neomem/neomem/"

// layout is STYLE.md's dependency table: for each package, the neomem
// packages and the external modules its non-test files may import (the
// standard library is always allowed). A package not listed here fails the
// test until it is given a row.
var layout = map[string]struct {
	internal []string
	external []string // path prefixes; "*" allows any
}{
	"graph":        {},
	"vector":       {internal: []string{"graph"}},
	"vector/local": {internal: []string{"graph"}, external: []string{"github.com/yalue/onnxruntime_go", "golang.org/x/text"}},
	"llm":          {internal: []string{"graph", "vector"}},
	"llm/llmtest":  {internal: []string{"llm", "graph", "vector"}},
	"prompts":      {internal: []string{"graph"}},
	"entities":     {internal: []string{"graph", "llm", "prompts", "vector"}},
	"relations":    {internal: []string{"graph", "llm", "prompts", "vector"}},
	"memory":       {internal: []string{"graph", "llm", "prompts", "vector", "entities", "relations"}},
	"cypher":       {internal: []string{"graph", "vector"}, external: []string{"github.com/neo4j/neo4j-go-driver/v5"}},
	"api": {internal: []string{"graph"}, external: []string{"github.com/labstack/echo/v4", "github.com/go-playground/validator/v10",
		"github.com/oapi-codegen/runtime", "github.com/getkin/kin-openapi", "github.com/swaggo/files/v2", "golang.org/x/time/rate"}},
	"testcontainers":        {external: []string{"github.com/neo4j/neo4j-go-driver/v5", "github.com/testcontainers/testcontainers-go"}},
	"testcontainers/neomem": {internal: []string{"testcontainers"}},
	"client":                {external: []string{"github.com/oapi-codegen/runtime"}},
	"browser":               {},
	"mcp":                   {internal: []string{"graph"}, external: []string{"github.com/modelcontextprotocol/go-sdk", "github.com/google/jsonschema-go"}},
	"cmd/server":            {internal: []string{"*"}, external: []string{"*"}},
	"cmd/fakellm":           {internal: []string{"llm", "llm/llmtest", "vector", "vector/local"}},
	"cmd/benchsearch":       {internal: []string{"*"}, external: []string{"*"}},
	"cmd/evalmem":           {internal: []string{"*"}, external: []string{"*"}},
	"cmd/internal/launch":   {},
}

// adapters are the llm/<provider> packages: each may import llm, graph,
// vector (the embedder seam) and its SDK.
func adapterRule(pkg string) ([]string, []string, bool) {
	if strings.HasPrefix(pkg, "llm/") && pkg != "llm/llmtest" {
		return []string{"llm", "graph", "vector"}, []string{"*"}, true
	}
	return nil, nil, false
}

// packageImports maps every package of the module (non-test files) to the
// paths it imports.
func packageImports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{} // package → imports
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[pkg][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imports
}

func TestImportDirections(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := packageImports(t)
	if len(imports) < 5 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	for pkg, imps := range imports {
		rule, ok := layout[pkg]
		internal, external := rule.internal, rule.external
		if in, ex, isAdapter := adapterRule(pkg); !ok && isAdapter {
			internal, external, ok = in, ex, true
		}
		if !ok {
			t.Errorf("package %s has no row in the layout table (STYLE.md)", pkg)
			continue
		}
		for imp := range imps {
			switch {
			case strings.HasPrefix(imp, module):
				if !allowed(internal, strings.TrimPrefix(imp, module), true) {
					t.Errorf("%s imports %s, which STYLE.md's layout does not allow", pkg, imp)
				}
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				if !allowed(external, imp, false) {
					t.Errorf("%s imports %s, which STYLE.md's layout does not allow", pkg, imp)
				}
			}
		}
	}
}

// TestAdaptersOnlyInCommands: the Neo4j adapter (cypher) and the model
// adapters (llm/<provider>, the local embedding model vector/local) are
// wired in commands only; every other package declares the interfaces it
// needs.
func TestAdaptersOnlyInCommands(t *testing.T) {
	for pkg, imps := range packageImports(t) {
		for imp := range imps {
			target := strings.TrimPrefix(imp, module)
			_, _, adapter := adapterRule(target)
			if (target == "cypher" || target == "vector/local" || adapter) && !strings.HasPrefix(pkg, "cmd/") {
				t.Errorf("%s imports the adapter %s: only cmd/ may", pkg, target)
			}
		}
	}
}

func allowed(list []string, imp string, exact bool) bool {
	for _, a := range list {
		if a == "*" || a == imp || !exact && strings.HasPrefix(imp, a) {
			return true
		}
	}
	return false
}
