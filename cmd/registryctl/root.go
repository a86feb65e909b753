package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// streams are the process's standard streams.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// defaultServer is the server when no flag, variable or file names one:
// where registryd listens by default.
const defaultServer = "http://127.0.0.1:8585"

// app is what every command shares: the global flags, resolved.
type app struct {
	streams
	server, token, config string
	output                string
	c                     *client
	// isTerminal reports whether a stream is a terminal (progress, reset's
	// question); tests replace it.
	isTerminal func(any) bool
}

// config is the config file's content.
type config struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
}

const rootLong = `registryctl is the command-line client of a registry served over the native
HTTP API (cmd/registryd, under /v1). Every subcommand is one call of the API,
named like the library's call; flags are named like the library's options.

Server and token, in this order of precedence:
  1. the flags --server and --token;
  2. the environment variables REGISTRYCTL_SERVER and REGISTRYCTL_TOKEN
     (an empty one counts as unset);
  3. the config file: --config, else $XDG_CONFIG_HOME/registryctl/config.yaml
     (~/.config/registryctl/config.yaml), YAML with the keys server and token.
The default server is ` + defaultServer + `.

Exit codes:
  0  done
  1  usage error or another error (check: the registry is inconsistent)
  2  invalid argument (HTTP 400, or a flag value refused before sending)
  3  not found (404)
  4  refused: unauthenticated or forbidden (401, 403), or a conflict (409:
     deployed, has dependents, not empty, already exists, not deleted…)
  5  partial: a delete or purge of several items (a dry run too) in which
     some items failed
  6  precondition failed (412: --if-match names a stale revision)
  7  the server cannot be reached, or failed (5xx)`

// newRoot builds the command tree.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "registryctl",
		Short:         "The command-line client of the registry's native HTTP API",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.resolve(cmd)
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage", err, cmd.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", "", "the server's URL (env REGISTRYCTL_SERVER; default "+defaultServer+")")
	pf.StringVar(&a.token, "token", "", "the bearer token (env REGISTRYCTL_TOKEN)")
	pf.StringVar(&a.config, "config", "", "the config file (default $XDG_CONFIG_HOME/registryctl/config.yaml)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table, json or yaml")
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json", "yaml"))

	root.AddCommand(
		registerCmd(a), updateCmd(a), getCmd(a), listCmd(a),
		linkCmd(a), unlinkCmd(a), lineageCmd(a), deployCmd(a), undeployCmd(a),
		deleteCmd(a), restoreCmd(a), purgeCmd(a),
		cleanupsCmd(a), checkCmd(a), resetCmd(a), eventsCmd(a),
	)
	return root
}

// resolve settles server and token (flag > environment > file) and the
// output format, and makes the client.
func (a *app) resolve(cmd *cobra.Command) error {
	switch a.output {
	case "table", "json", "yaml":
	default:
		return invalidf("--output %q is not table, json or yaml", a.output)
	}
	// Completion scripts, completion requests and help need no server: a
	// broken config file must not break them.
	for c := cmd; c != nil; c = c.Parent() {
		switch c.Name() {
		case "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd, "help":
			return nil
		}
	}
	file, err := a.readConfig(cmd.Flags().Changed("config"))
	if err != nil {
		return err
	}
	flags := cmd.Flags()
	if !flags.Changed("server") {
		a.server = first(os.Getenv("REGISTRYCTL_SERVER"), file.Server, defaultServer)
	}
	if !flags.Changed("token") {
		a.token = first(os.Getenv("REGISTRYCTL_TOKEN"), file.Token)
	}
	a.c, err = newClient(a.server, a.token)
	return err
}

// readConfig reads the config file; a missing default file is no config.
func (a *app) readConfig(explicit bool) (config, error) {
	var c config
	path := a.config
	if !explicit {
		dir, err := os.UserConfigDir()
		if err != nil {
			return c, nil
		}
		path = filepath.Join(dir, "registryctl", "config.yaml")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, invalidf("config %s: %v", path, err)
	}
	return c, nil
}

// first is the first of vs that is not empty.
func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// fixedCompletion completes a flag's value from a fixed list.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// run runs registryctl with args and returns its exit code.
func run(ctx context.Context, args []string, s streams) int {
	return runApp(ctx, &app{streams: s, isTerminal: isTerminal}, args)
}

// runApp runs registryctl as a, whose isTerminal tests may replace.
func runApp(ctx context.Context, a *app, args []string) int {
	s := a.streams
	root := newRoot(a)
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintln(s.err, "registryctl:", err)
	}
	return exitCode(err)
}

// errReported is an error whose story the command has told already.
var errReported = errors.New("reported")
