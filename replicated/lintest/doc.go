// Package lintest checks that a replicated registry cluster is
// linearizable: its test records a concurrent history of registers,
// deletes (soft, hard, cascade), restores and linearizable gets from many
// clients while leaders are killed and the network is partitioned, and
// checks it with github.com/anishathalye/porcupine against a sequential
// model of the registry. It is a module of its own so that porcupine, a
// test-only dependency, stays out of the registry's go.mod.
//
// The history is bounded for CI; REPLICATED_LIN_OPS=N records about N
// operations instead, and REPLICATED_LIN_SEED=S replays a seed's choices.
package lintest
