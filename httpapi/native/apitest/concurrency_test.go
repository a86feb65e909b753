package apitest

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// TestStaleIfMatch: two people read the same artifact; one changes it;
// the other's delete and update, conditional on what it read, are 412
// and change nothing. With the fresh ETag they go through.
func TestStaleIfMatch(t *testing.T) {
	e := newEnv(t)
	path := "/v1/artifacts/" + e.f.Code.ID
	alice := e.do("GET", path, aliceToken, "")
	require.Equal(t, 200, alice.status)
	read := alice.header.Get("ETag")
	require.Equal(t, `"1"`, read)

	changed := e.do("PUT", path, adminToken, `{"description":"admin's"}`, "If-Match", read)
	require.Equal(t, 200, changed.status)
	fresh := changed.header.Get("ETag")
	assert.Equal(t, `"2"`, fresh)

	before := e.state()
	for _, c := range []struct{ method, path, body string }{
		{"DELETE", path, ""},
		{"DELETE", path + "?hard=true", ""},
		{"DELETE", "/v1/fqn/mlflow_svc.train_script.1?hard=true", ""},
		{"PUT", path, `{"description":"alice's"}`},
	} {
		r := e.do(c.method, c.path, aliceToken, c.body, "If-Match", read)
		assert.Equal(t, 412, r.status, "%s %s: %s", c.method, c.path, r.body)
		assert.Equal(t, "PRECONDITION_FAILED", r.json(t)["code"])
		assert.Equal(t, e.f.Code.ID, r.json(t)["id"])
		assert.Equal(t, before, e.state(), "a stale %s changes nothing", c.method)
	}
	// A stale key-carrying delete does not bind its key: the retry with
	// the fresh ETag and the same key deletes.
	r := e.do("DELETE", path, aliceToken, "", "If-Match", read, "Idempotency-Key", "k-1")
	require.Equal(t, 412, r.status)
	r = e.do("DELETE", path, aliceToken, "", "If-Match", fresh, "Idempotency-Key", "k-1")
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.True(t, mustGet(t, e, e.f.Code.ID).Deleted)
}

// TestDeleteRestoreRace: two clients race, round after round, one to
// delete an artifact and the other to restore it. Whatever the
// interleaving, the artifact ends in a state one of them was told about:
// deleted only if the delete said so, and then after any restore that
// succeeded; live at the revision the restore returned, or as it was if
// both failed.
func TestDeleteRestoreRace(t *testing.T) {
	e := newEnv(t)
	path := "/v1/artifacts/" + e.f.Code.ID
	rounds := 200
	if testing.Short() {
		rounds = 40
	}
	outcomes := map[string]int{}
	for round := range rounds {
		pre := mustGet(t, e, e.f.Code.ID)
		var del, res reply
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			h := []string{}
			if round%2 == 1 { // half the rounds conditional on what was read
				h = []string{"If-Match", `"` + strconv.FormatInt(pre.Revision, 10) + `"`}
			}
			del = e.do("DELETE", path, aliceToken, "", h...)
		}()
		go func() {
			defer wg.Done()
			res = e.do("POST", path+"/restore", adminToken, "")
		}()
		wg.Wait()
		final := mustGet(t, e, e.f.Code.ID)
		deleted, restored := del.status == 200, res.status == 200
		outcomes[strconv.Itoa(del.status)+"/"+strconv.Itoa(res.status)]++
		if deleted {
			assert.Equal(t, []string{e.f.Code.ID}, del.result(t).Deleted)
		} else {
			assert.Contains(t, []int{404, 412}, del.status, "%s", del.body)
		}
		var got registry.Artifact
		if restored {
			got = res.artifact(t)
		} else {
			assert.Equal(t, 409, res.status, "%s", res.body) // NOT_DELETED
		}
		switch {
		case final.Deleted:
			require.True(t, deleted || pre.Deleted && !restored, "round %d: deleted, but no one was told so", round)
			if deleted && restored {
				assert.Equal(t, got.Revision+1, final.Revision, "round %d: the delete came after the restore", round)
			}
		default:
			if restored {
				require.Equal(t, got.Revision, final.Revision, "round %d: live as the restore said", round)
			} else {
				require.False(t, deleted, "round %d: the delete said deleted and nothing restored it", round)
				require.Equal(t, pre.Revision, final.Revision)
			}
		}
		require.Equal(t, pre.Revision+int64(btoi(deleted)+btoi(restored)), final.Revision, "round %d: one revision per change told", round)
	}
	require.NoError(t, e.f.Check())
	t.Logf("outcomes (delete/restore status): %v", outcomes)
	var kinds []string
	for k := range outcomes {
		kinds = append(kinds, k)
	}
	assert.Greater(t, len(kinds), 1, "the race took more than one course: %s", strings.Join(kinds, ", "))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
