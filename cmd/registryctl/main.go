// Command registryctl is the command-line client of a registry served over
// the native HTTP API (package httpapi/native, /v1 of cmd/registryd). It has
// a subcommand for every native call, named like the library's calls, with
// flags named like the library's options:
//
//	registryctl register --kind model --namespace svc --name churn --version 3
//	registryctl get --fqn svc.churn.3
//	registryctl list --namespace svc --all
//	registryctl delete --fqn svc.churn.3 --hard --recursive --dry-run
//	registryctl delete --all-versions --namespace svc --name churn --cascade-limit 5
//	registryctl restore --operation <operation of the delete>
//	registryctl purge --older-than 720h --dry-run
//	registryctl events --after 0
//
// A delete (and a purge) prints its result as a tree: each artifact under
// its parent, marked with the order it was (or would be) deleted in,
// FAILED with the code and the message, SKIPPED past the cascade limit,
// and the dependents a hard delete DETACHED. On a terminal, a delete or a
// purge shows a spinner with the elapsed time on stderr while it runs;
// nothing when stderr is not a terminal.
//
// # Server and credentials
//
// The server URL and the bearer token come from, in this order of
// precedence: the flags --server and --token; the environment variables
// REGISTRYCTL_SERVER and REGISTRYCTL_TOKEN (an empty one counts as unset);
// the config file (--config, else $XDG_CONFIG_HOME/registryctl/config.yaml,
// that is ~/.config/registryctl/config.yaml on Linux), a YAML file with the
// keys server and token. The default server is http://127.0.0.1:8585.
//
// # Output
//
// --output table (the default) prints tables and trees for people; json
// and yaml print the API's documents as they are (events: one JSON object
// per line, or one YAML document per event).
//
// # Exit codes
//
// Scripts can rely on them; the API's problem code decides:
//
//	0  done
//	1  usage error (unknown command or flag, missing argument) or another error
//	2  invalid argument (400 INVALID_ARGUMENT, or a flag value the client refuses)
//	3  not found (404 NOT_FOUND)
//	4  refused: 401 or 403 (unauthenticated, forbidden) or 409 (deployed,
//	   has dependents, not empty, already exists, not deleted,
//	   idempotency mismatch, purge protected…)
//	5  partial: a multi-item delete or purge (a dry run too) in which some
//	   items failed; the others were deleted (or would be)
//	6  precondition failed (412: --if-match names a stale revision)
//	7  the server cannot be reached, or answered 5xx
//
// check exits 1 when the registry reports a broken invariant.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
)

// Exit codes; see the package documentation.
const (
	exitOK           = 0
	exitError        = 1
	exitInvalid      = 2
	exitNotFound     = 3
	exitRefused      = 4
	exitPartial      = 5
	exitPrecondition = 6
	exitUnavailable  = 7
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// exitCoder is an error that says which exit code it is.
type exitCoder interface{ ExitCode() int }

// codeError is an error with an exit code.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }
func (e *codeError) ExitCode() int { return e.code }

// invalidf is a flag value the client refuses: exit code 2.
func invalidf(format string, args ...any) error {
	return &codeError{exitInvalid, fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process's exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var c exitCoder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return exitError
}
