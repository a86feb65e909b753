package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry/httpapi"
)

// stop sends sig to the daemon and waits for it to exit.
func (d *daemon) stop(sig syscall.Signal) error {
	d.t.Helper()
	require.NoError(d.t, d.cmd.Process.Signal(sig))
	select {
	case <-d.done:
		return d.err
	case <-time.After(20 * time.Second):
		d.t.Fatalf("registryd did not exit within 20 s of %v", sig)
		return nil
	}
}

var omAdmin = []string{"Authorization", "Bearer " + httpapi.DemoAdminToken, "Content-Type", "application/json"}

// createModel creates an OpenMetadata ML model in the demo's service and
// returns its ID, or the status and body that refused it.
func (d *daemon) createModel(name string) (string, error) {
	status, _, body := d.send("POST", "/api/v1/mlmodels",
		`{"name":"`+name+`","service":"`+httpapi.DemoOMService+`","algorithm":"KMeans"}`, omAdmin...)
	if status != http.StatusCreated {
		return "", fmt.Errorf("create %s: %d %s", name, status, body)
	}
	var m struct{ ID string }
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("create %s: no id in %s", name, body)
	}
	return m.ID, nil
}

// TestRegistrydDataDir: registryd -data-dir keeps what it acknowledged
// across a SIGTERM and a restart (a soft-deleted model stays soft deleted
// and restorable, the demo is not seeded twice), and across a SIGKILL in
// the middle of a write load.
func TestRegistrydDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()

	// First start: seeded, then a model created and soft deleted through
	// the OpenMetadata dialect.
	d := startDaemon(t, "-demo", "-data-dir", dir)
	id, err := d.createModel("churn")
	require.NoError(t, err)
	status, _, body := d.send("DELETE", "/api/v1/mlmodels/"+id, "", omAdmin...)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"deleted":true`)
	require.NoError(t, d.stop(syscall.SIGTERM), "a SIGTERM exits 0")

	// Restart on the same directory: the state is there, and -demo does
	// not seed again (a second seed would collide and fail the start).
	d = startDaemon(t, "-data-dir", dir, "-demo")
	status, _, body = d.send("GET", "/api/v1/mlmodels/"+id, "", omAdmin...)
	assert.Equal(t, http.StatusNotFound, status, "still soft deleted: %s", body)
	status, _, body = d.send("GET", "/api/v1/mlmodels/"+id+"?include=deleted", "", omAdmin...)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"deleted":true`)
	status, _, body = d.send("GET", "/api/v1/mlmodels/name/"+httpapi.DemoOMService+"."+httpapi.DemoOMModel, "", omAdmin...)
	assert.Equal(t, http.StatusOK, status, "the demo's seed survived: %s", body)
	status, _, body = d.send("PUT", "/api/v1/mlmodels/restore", `{"id":"`+id+`"}`, omAdmin...)
	require.Equal(t, http.StatusOK, status, body)
	status, _, body = d.send("GET", "/api/v1/mlmodels/"+id, "", omAdmin...)
	require.Equal(t, http.StatusOK, status, "restored: %s", body)

	// A write load, killed without warning: every model whose create was
	// answered 201 is there after the restart.
	var (
		mu    sync.Mutex
		acked []string
		last  error
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := d.tryCreate(fmt.Sprintf("load_%d_%d", w, i))
				if err != nil {
					mu.Lock()
					if last == nil {
						last = err
					}
					mu.Unlock()
					continue // refused or cut by the kill: not acknowledged
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	err = d.stop(syscall.SIGKILL)
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "killed: %v", err)
	close(stop)
	wg.Wait()
	require.NotEmpty(t, acked, "the load wrote something before the kill; first error: %v", last)

	d = startDaemon(t, "-data-dir", dir, "-demo")
	for _, id := range acked {
		status, _, body := d.send("GET", "/api/v1/mlmodels/"+id, "", omAdmin...)
		assert.Equal(t, http.StatusOK, status, "acknowledged model %s lost: %s", id, body)
	}
	status, _, body = d.send("GET", "/api/v1/mlmodels/"+id, "", omAdmin...)
	assert.Equal(t, http.StatusOK, status, "the restore survived the kill: %s", body)
	t.Logf("%d acknowledged writes before SIGKILL, all present after the restart", len(acked))
	require.NoError(t, d.stop(syscall.SIGTERM))
}

// tryCreate is createModel for a load that the process may die under: any
// failure, including a connection cut, is an error and not a test failure.
func (d *daemon) tryCreate(name string) (string, error) {
	req, err := http.NewRequest("POST", d.base+"/api/v1/mlmodels",
		strings.NewReader(`{"name":"`+name+`","service":"`+httpapi.DemoOMService+`","algorithm":"KMeans"}`))
	if err != nil {
		return "", err
	}
	for i := 0; i+1 < len(omAdmin); i += 2 {
		req.Header.Set(omAdmin[i], omAdmin[i+1])
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var m struct{ ID string }
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusCreated || json.Unmarshal(data, &m) != nil || m.ID == "" {
		return "", fmt.Errorf("create %s: %s %s", name, res.Status, data)
	}
	return m.ID, nil
}
