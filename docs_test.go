package registry_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docBlock is one Go code block of README.md or of the package
// documentation.
type docBlock struct {
	where string // file:line
	code  string
}

// readmeBlocks returns the ```go blocks of a Markdown file.
func readmeBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []docBlock
	var cur *docBlock
	var lines []string
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &docBlock{where: fmt.Sprintf("%s:%d", path, i+2)}
			lines = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(lines, "\n")
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, line)
		}
	}
	require.Nil(t, cur, "%s: a code block is never closed", path)
	return out
}

// docCommentBlocks returns the code blocks (lines indented by a tab) of the
// comments of a Go file.
func docCommentBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []docBlock
	var lines []string
	start := 0
	flush := func() {
		if len(lines) > 0 {
			out = append(out, docBlock{where: fmt.Sprintf("%s:%d", path, start), code: strings.Join(lines, "\n")})
			lines = nil
		}
	}
	for i, line := range strings.Split(string(data), "\n") {
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			if len(lines) == 0 {
				start = i + 1
			}
			lines = append(lines, code)
			continue
		}
		flush()
	}
	flush()
	return out
}

// docPreludes set up what a documentation block uses without declaring it,
// keyed by the block's first line without its comment. A new block needs an
// entry here, so that no block goes unrun.
var docPreludes = map[string]string{
	// README: the short tour.
	`reg, err := registry.New(`: `
	cleaner := registry.CleanerFunc(func(context.Context, string) error { return nil })`,
	// README: a durable node.
	`node, err := replicated.Open(ctx, replicated.Config{DataDir: dir})`: `
	ctx := registry.WithPrincipal(context.Background(), "admin")
	dir, err := os.MkdirTemp("", "registry-readme-node")
	check(err, "prelude")
	defer os.RemoveAll(dir)`,
	// doc.go: registering and reading.
	`reg, err := registry.New()`: `
	ctx := context.Background()`,
	// doc.go: deleting.
	`res, err := reg.Delete(ctx, id)`: `
	ctx := registry.WithPrincipal(context.Background(), "admin")
	reg, _ := registry.New()
	m, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "customer_segmentation", Version: "3"})
	check(err, "prelude")
	id := m.ID
	for _, name := range []string{"churn", "fraud"} {
		for _, v := range []string{"1", "2", "3"} {
			_, err = reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: name, Version: v})
			check(err, "prelude")
		}
	}`,
	// doc.go: restoring and purging.
	`m, err = reg.Restore(ctx, id)`: `
	ctx := registry.WithPrincipal(context.Background(), "admin")
	reg, _ := registry.New()
	m, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "churn", Version: "3"})
	check(err, "prelude")
	id := m.ID
	res, err := reg.Delete(ctx, id)
	check(err, "prelude")
	_ = res`,
}

// TestDocumentationCodeRuns compiles and runs every Go code block of
// README.md and of the package documentation (doc.go), in order within each
// block, after the block's prelude: each statement that assigns err is
// followed by a check that fails the run if the call failed. A block that
// does not compile, or a call in it that fails, fails this test.
func TestDocumentationCodeRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	blocks := append(readmeBlocks(t, "README.md"), docCommentBlocks(t, "doc.go")...)
	require.GreaterOrEqual(t, len(blocks), 4, "README.md and doc.go show code")

	var prog strings.Builder
	prog.WriteString(`package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

var (
	_ = errors.Is
	_ = time.Second
	_ = replicated.Open
)

func check(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
}
`)
	for i, b := range blocks {
		// An import line shows the package path; the program has it.
		for strings.HasPrefix(b.code, "import ") || strings.HasPrefix(b.code, "\n") {
			_, b.code, _ = strings.Cut(b.code, "\n")
		}
		first, _, _ := strings.Cut(strings.SplitN(b.code, "\n", 2)[0], "//")
		first = strings.TrimSpace(first)
		prelude, ok := docPreludes[first]
		require.True(t, ok, "%s: no prelude for the block starting %q; add one to docPreludes", b.where, first)
		body, err := checkedBlock(b)
		require.NoError(t, err, "%s does not parse", b.where)
		fmt.Fprintf(&prog, "\n// %s\nfunc block%d() {%s\n%s}\n", b.where, i, prelude, body)
	}
	prog.WriteString("\nfunc main() {\n")
	for i := range blocks {
		fmt.Fprintf(&prog, "\tblock%d()\n", i)
	}
	prog.WriteString("}\n")

	// A directory named testdata is no package to ./... patterns, but a
	// file in it builds in this module.
	dir, err := os.MkdirTemp("testdata", "docblocks")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "main.go")
	require.NoError(t, os.WriteFile(file, []byte(prog.String()), 0o644))
	out, err := exec.Command("go", "run", file).CombinedOutput()
	assert.NoError(t, err, "the documentation's code failed:\n%s\n--- program:\n%s", out, prog.String())
}

// checkedBlock returns a block's statements with a check of err after each
// statement that assigns it, and a use of every variable it declares.
func checkedBlock(b docBlock) (string, error) {
	fset := token.NewFileSet()
	src := "package p\nfunc f() {\n" + b.code + "\n}\n"
	f, err := parser.ParseFile(fset, "", src, 0)
	if err != nil {
		return "", err
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	var out bytes.Buffer
	var declared []string
	for _, st := range body.List {
		var line bytes.Buffer
		if err := printer.Fprint(&line, fset, st); err != nil {
			return "", err
		}
		out.WriteString("\t" + strings.ReplaceAll(line.String(), "\n", "\n\t") + "\n")
		as, ok := st.(*ast.AssignStmt)
		if !ok {
			continue
		}
		for _, l := range as.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok || id.Name == "_" {
				continue
			}
			if as.Tok == token.DEFINE {
				declared = append(declared, id.Name)
			}
			if id.Name == "err" {
				what := fmt.Sprintf("%s line %d", b.where, fset.Position(st.Pos()).Line-2)
				fmt.Fprintf(&out, "\tcheck(err, %q)\n", what)
			}
		}
	}
	for _, name := range declared {
		fmt.Fprintf(&out, "\t_ = %s\n", name)
	}
	return out.String(), nil
}
