package registry_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/modelreg/registry"
)

// FuzzReadSnapshot feeds the reader arbitrary bytes. It must never panic:
// it either refuses the input with a *SnapshotError, leaving the registry
// it read into as it was, or loads a registry that passes Check and whose
// own snapshot loads back to the same bytes. The seed corpus
// (testdata/fuzz/FuzzReadSnapshot) holds a rich registry's snapshot.
func FuzzReadSnapshot(f *testing.F) {
	seed, err := registry.New()
	if err != nil {
		f.Fatal(err)
	}
	var empty bytes.Buffer
	if _, err := seed.WriteSnapshot(&empty); err != nil {
		f.Fatal(err)
	}
	f.Add(empty.Bytes())
	ctx := registry.WithPrincipal(context.Background(), "fuzz")
	a, err := seed.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "m", Version: "1",
		Tags: []string{"t"}, Labels: map[string]string{"k": "v"}, StorageURIs: []string{"s3://b/k"}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := seed.Delete(ctx, a.ID, registry.DeleteOptions{ClientToken: "tok", Reason: "r"}); err != nil {
		f.Fatal(err)
	}
	var one bytes.Buffer
	if _, err := seed.WriteSnapshot(&one); err != nil {
		f.Fatal(err)
	}
	f.Add(one.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := registry.New()
		if err != nil {
			t.Fatal(err)
		}
		var before bytes.Buffer
		if _, err := reg.WriteSnapshot(&before); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.ReadSnapshot(bytes.NewReader(data)); err != nil {
			var se *registry.SnapshotError
			if !errors.As(err, &se) {
				t.Fatalf("refused without a *SnapshotError: %v", err)
			}
			var after bytes.Buffer
			if _, err := reg.WriteSnapshot(&after); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before.Bytes(), after.Bytes()) {
				t.Fatalf("a refused snapshot changed the registry: %v", err)
			}
			return
		}
		if err := reg.Check(); err != nil {
			t.Fatalf("a loaded snapshot breaks invariants: %v", err)
		}
		var again bytes.Buffer
		if _, err := reg.WriteSnapshot(&again); err != nil {
			t.Fatal(err)
		}
		reloaded, err := registry.Load(bytes.NewReader(again.Bytes()))
		if err != nil {
			t.Fatalf("a registry's own snapshot is refused: %v", err)
		}
		var third bytes.Buffer
		if _, err := reloaded.WriteSnapshot(&third); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), third.Bytes()) {
			t.Fatal("write, load, write changed the bytes")
		}
	})
}
