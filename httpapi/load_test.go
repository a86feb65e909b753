package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/registrytest"
)

// What a worker was told about an artifact, last.
type ack int

const (
	live ack = iota // created, restored, or refused a delete
	soft            // soft deleted
	gone            // hard deleted
)

// worker is one client of TestLoad: its namespace, its own connections and
// principal, and what the server acknowledged to it. Workers never touch
// each other's artifacts (those sharing a namespace use their own names),
// so what each was told is what the registry must hold at the end.
type worker struct {
	*client
	n   int
	ns  string
	rng *rand.Rand
	seq int

	acks map[string]ack // by artifact ID
	// Lookout models by version, whose IDs are looked up at the end.
	lvAcks map[string]ack

	maNames    map[string][]string // ModelArts model name → its live version IDs
	maDeployed map[string]string   // model ID → the service that deploys it
	lvTrained  []string            // Lookout versions not hosted
	lvHosted   []string
	arLive     []string // artifact registry IDs (type model)
	omLive     []string
	omSoft     []string
	requests   int
}

func (w *worker) name(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s-w%d-%d", prefix, w.n, w.seq)
}

func pick(rng *rand.Rand, s []string) (string, int) {
	i := rng.IntN(len(s))
	return s[i], i
}

func remove(s []string, i int) []string {
	s[i] = s[len(s)-1]
	return s[:len(s)-1]
}

// step does one random operation.
func (w *worker) step() error {
	w.requests++
	switch op := w.rng.IntN(100); {
	case op < 12:
		return w.maImport()
	case op < 20:
		return w.maGet()
	case op < 30:
		return w.maDelete()
	case op < 36:
		return w.maDeploy()
	case op < 40:
		return w.maUndeploy()
	case op < 48:
		return w.arCreate()
	case op < 54:
		return w.arGet()
	case op < 62:
		return w.arDelete()
	case op < 68:
		return w.lvCreate()
	case op < 74:
		return w.lvStart()
	case op < 80:
		return w.lvStop()
	case op < 86:
		return w.lvDelete()
	case op < 91:
		return w.omCreate()
	case op < 95:
		return w.omDelete(false)
	case op < 98:
		return w.omRestore()
	default:
		return w.omDelete(true)
	}
}

func (w *worker) maImport() error {
	name := w.name("ma")
	for v := 1; v <= 1+w.rng.IntN(3); v++ {
		a, err := w.expect("POST", "/v1/"+w.ns+"/models", "X-Auth-Token",
			`{"model_name":"`+name+`","model_version":"1.1.`+strconv.Itoa(v)+`","model_type":"PyTorch","source_location":"obs://b/`+name+`/"}`, 200)
		if err != nil {
			return err
		}
		id := a.field("model_id")
		w.acks[id] = live
		w.maNames[name] = append(w.maNames[name], id)
	}
	return nil
}

func (w *worker) maAny() (string, string, bool) {
	for name, ids := range w.maNames { // map order is random enough
		if len(ids) > 0 {
			id, _ := pick(w.rng, ids)
			return name, id, true
		}
	}
	return "", "", false
}

func (w *worker) maGet() error {
	_, id, ok := w.maAny()
	if !ok {
		return w.maImport()
	}
	_, err := w.expect("GET", "/v1/"+w.ns+"/models/"+id, "X-Auth-Token", "", 200)
	return err
}

// maDelete deletes a model, alone or with its versions (cascade=true): a
// hard delete; deployed versions are failed items, the rest go.
func (w *worker) maDelete() error {
	name, id, ok := w.maAny()
	if !ok {
		return w.maImport()
	}
	cascade := w.rng.IntN(2) == 0
	a, err := w.expect("DELETE", "/v1/"+w.ns+"/models/"+id+"?cascade="+strconv.FormatBool(cascade), "X-Auth-Token", "", 200)
	if err != nil {
		return err
	}
	want := []string{id}
	if cascade {
		want = w.maNames[name]
	}
	var wantOK, wantFailed []string
	for _, v := range want {
		if _, deployed := w.maDeployed[v]; deployed {
			wantFailed = append(wantFailed, v)
		} else {
			wantOK = append(wantOK, v)
		}
	}
	got := a.strings("delete_success_list")
	sort.Strings(got)
	sort.Strings(wantOK)
	if fmt.Sprint(got) != fmt.Sprint(wantOK) {
		w.lastError = fmt.Sprintf("cascade=%v delete of %s: deleted %v, want %v (%s)", cascade, id, got, wantOK, a.raw)
		return errors.New(w.lastError)
	}
	var left []string
	for _, v := range w.maNames[name] {
		if contains(got, v) {
			w.acks[v] = gone
		} else {
			left = append(left, v)
		}
	}
	w.maNames[name] = left
	var failed struct {
		List []struct {
			ID   string `json:"model_id"`
			Code string `json:"error_code"`
		} `json:"delete_failed_list"`
	}
	_ = json.Unmarshal(a.raw, &failed)
	var gotFailed []string
	for _, f := range failed.List {
		if f.Code != "ModelArts.3009" {
			w.lastError = fmt.Sprintf("delete of %s: failed item %s has code %s, want ModelArts.3009", id, f.ID, f.Code)
			return errors.New(w.lastError)
		}
		gotFailed = append(gotFailed, f.ID)
	}
	sort.Strings(gotFailed)
	sort.Strings(wantFailed)
	if fmt.Sprint(gotFailed) != fmt.Sprint(wantFailed) {
		w.lastError = fmt.Sprintf("delete of %s: failed items %v, want the deployed %v", id, gotFailed, wantFailed)
		return errors.New(w.lastError)
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (w *worker) maDeploy() error {
	_, id, ok := w.maAny()
	if !ok {
		return w.maImport()
	}
	if _, deployed := w.maDeployed[id]; deployed {
		return w.maGet()
	}
	a, err := w.expect("POST", "/v1/"+w.ns+"/services", "X-Auth-Token",
		`{"service_name":"`+w.name("svc")+`","infer_type":"real-time","config":[{"model_id":"`+id+`","specification":"modelarts.vm.cpu.2u","instance_count":1,"weight":100}]}`, 200)
	if err != nil {
		return err
	}
	svc := a.field("service_id")
	w.acks[svc] = live
	w.maDeployed[id] = svc
	return nil
}

func (w *worker) maUndeploy() error {
	for model, svc := range w.maDeployed {
		if _, err := w.expect("DELETE", "/v1/"+w.ns+"/services/"+svc, "X-Auth-Token", "", 200); err != nil {
			return err
		}
		delete(w.maDeployed, model)
		w.acks[svc] = gone
		return nil
	}
	return w.maDeploy()
}

var arTypes = []string{"model", "dataset", "code"}

func (w *worker) arCreate() error {
	typ := arTypes[w.rng.IntN(3)]
	a, err := w.expect("POST", "/artifact/"+typ, "X-Authorization", `{"url":"https://huggingface.co/load/`+w.name("ar")+`"}`, 201)
	if err != nil {
		return err
	}
	id := a.field("metadata", "id")
	w.acks[id] = live
	w.arLive = append(w.arLive, typ+"/"+id)
	return nil
}

func (w *worker) arGet() error {
	if len(w.arLive) == 0 {
		return w.arCreate()
	}
	p, _ := pick(w.rng, w.arLive)
	_, err := w.expect("GET", "/artifacts/"+p, "X-Authorization", "", 200)
	return err
}

func (w *worker) arDelete() error {
	if len(w.arLive) == 0 {
		return w.arCreate()
	}
	p, i := pick(w.rng, w.arLive)
	if _, err := w.expect("DELETE", "/artifacts/"+p, "X-Authorization", "", 200); err != nil {
		return err
	}
	w.arLive = remove(w.arLive, i)
	w.acks[p[len(p)-36:]] = gone
	return nil
}

const lvModels = "/2020-11-20/projects/"

func (w *worker) lvCreate() error {
	a, err := w.expect("POST", lvModels+w.ns+"/models", "aws", `{"OutputConfig":{"S3Location":{"Bucket":"load-bucket","Prefix":"p/"}}}`, 202)
	if err != nil {
		return err
	}
	v := a.field("ModelMetadata", "ModelVersion")
	w.lvAcks[v] = live
	w.lvTrained = append(w.lvTrained, v)
	return nil
}

func (w *worker) lvStart() error {
	if len(w.lvTrained) == 0 {
		return w.lvCreate()
	}
	v, i := pick(w.rng, w.lvTrained)
	if _, err := w.expect("POST", lvModels+w.ns+"/models/"+v+"/start", "aws", `{"MinInferenceUnits":1}`, 202); err != nil {
		return err
	}
	w.lvTrained = remove(w.lvTrained, i)
	w.lvHosted = append(w.lvHosted, v)
	return nil
}

func (w *worker) lvStop() error {
	if len(w.lvHosted) == 0 {
		return w.lvStart()
	}
	v, i := pick(w.rng, w.lvHosted)
	// A hosted model refuses a delete first.
	if _, err := w.expect("DELETE", lvModels+w.ns+"/models/"+v, "aws", "", http.StatusConflict); err != nil {
		return err
	}
	if _, err := w.expect("POST", lvModels+w.ns+"/models/"+v+"/stop", "aws", "", 202); err != nil {
		return err
	}
	w.lvHosted = remove(w.lvHosted, i)
	w.lvTrained = append(w.lvTrained, v)
	return nil
}

func (w *worker) lvDelete() error {
	if len(w.lvTrained) == 0 {
		return w.lvCreate()
	}
	v, i := pick(w.rng, w.lvTrained)
	if _, err := w.expect("DELETE", lvModels+w.ns+"/models/"+v, "aws", "", 202); err != nil {
		return err
	}
	w.lvTrained = remove(w.lvTrained, i)
	w.lvAcks[v] = soft
	return nil
}

func (w *worker) omCreate() error {
	a, err := w.expect("POST", "/api/v1/mlmodels", "Authorization", `{"name":"`+w.name("om")+`","service":"`+w.ns+`","algorithm":"KMeans"}`, 201)
	if err != nil {
		return err
	}
	id := a.field("id")
	w.acks[id] = live
	w.omLive = append(w.omLive, id)
	return nil
}

func (w *worker) omDelete(hard bool) error {
	ids := &w.omLive
	if hard && len(w.omSoft) > 0 && w.rng.IntN(2) == 0 {
		ids = &w.omSoft
	}
	if len(*ids) == 0 {
		return w.omCreate()
	}
	id, i := pick(w.rng, *ids)
	want := http.StatusOK
	if hard {
		want = http.StatusNoContent // as seed 000 says
	}
	if _, err := w.expect("DELETE", "/api/v1/mlmodels/"+id+"?hardDelete="+strconv.FormatBool(hard), "Authorization", "", want); err != nil {
		return err
	}
	*ids = remove(*ids, i)
	if hard {
		w.acks[id] = gone
	} else {
		w.acks[id] = soft
		w.omSoft = append(w.omSoft, id)
	}
	return nil
}

func (w *worker) omRestore() error {
	if len(w.omSoft) == 0 {
		return w.omDelete(false)
	}
	id, i := pick(w.rng, w.omSoft)
	if _, err := w.expect("PUT", "/api/v1/mlmodels/restore", "Authorization", `{"id":"`+id+`"}`, 200); err != nil {
		return err
	}
	w.omSoft = remove(w.omSoft, i)
	w.omLive = append(w.omLive, id)
	w.acks[id] = live
	return nil
}

// TestLoad sends mixed requests of every dialect from 16 clients for a
// bounded time (3 s; 1 s with -short or -race) to the whole HTTP layer in
// process. Twelve clients have a namespace each and four share one. Then
// the registry's invariants hold, every acknowledged delete is visible (a
// hard delete's artifact is gone, a soft delete's is soft deleted), every
// acknowledged create not deleted since is live, and no answer was a 5xx
// or other than what the operation must answer.
func TestLoad(t *testing.T) {
	const workers, shared = 16, 4
	d := 3 * time.Second
	if testing.Short() || raceEnabled {
		d = time.Second
	}
	principals := map[string]httpapi.Principal{}
	for i := range workers {
		ns := fmt.Sprintf("ns-%d", i)
		if i >= workers-shared {
			ns = "shared"
		}
		principals[fmt.Sprintf("w%d", i)] = httpapi.Principal{Namespaces: []string{ns, "artifacts"},
			Tokens:  []string{fmt.Sprintf("token-%d", i)},
			AWSKeys: []httpapi.AWSKey{{AccessKeyID: fmt.Sprintf("AKIDLOAD%d", i), SecretAccessKey: fmt.Sprintf("secret-%d", i)}}}
	}
	s := registrytest.NewServer(t, registrytest.WithPrincipals(principals))

	ws := make([]*worker, workers)
	for i := range ws {
		p := principals[fmt.Sprintf("w%d", i)]
		w := &worker{client: newClient(s.URL, p.Tokens[0], p.AWSKeys[0].AccessKeyID, p.AWSKeys[0].SecretAccessKey),
			n: i, ns: p.Namespaces[0], rng: rand.New(rand.NewPCG(uint64(i), 42)),
			acks: map[string]ack{}, lvAcks: map[string]ack{}, maNames: map[string][]string{}, maDeployed: map[string]string{}}
		t.Cleanup(w.http.CloseIdleConnections)
		ws[i] = w
	}
	// The projects and services: those of the shared namespace are made
	// by whichever worker comes first (the others get a conflict).
	for _, w := range ws {
		_, err := w.expect("POST", "/2020-11-20/projects", "aws", `{"ProjectName":"`+w.ns+`"}`, 200, 409)
		require.NoError(t, err)
		_, err = w.expect("POST", "/api/v1/services/mlmodelServices", "Authorization", `{"name":"`+w.ns+`","serviceType":"Mlflow"}`, 201, 409)
		require.NoError(t, err)
	}

	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := w.step(); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()

	total, statuses := 0, map[int]int{}
	for i, w := range ws {
		assert.NoError(t, errs[i], "worker %d", i)
		total += w.requests
		for st, n := range w.statuses {
			statuses[st] += n
			assert.Less(t, st, 500, "worker %d was answered %d", i, st)
		}
	}
	t.Logf("%d operations (%d requests) in %s by %d clients; statuses %v",
		total, sumValues(statuses), d, workers, statuses)
	require.Greater(t, total, workers, "every worker did something")

	f := s.Fixture
	require.NoError(t, f.Check())
	checked := 0
	for _, w := range ws {
		for id, want := range w.acks {
			checkAck(t, f, w.n, id, want)
			checked++
		}
		for v, want := range w.lvAcks {
			a, err := f.GetVersion(f.Ctx, w.ns, "model", v, registry.IncludeAll)
			if !assert.NoError(t, err, "worker %d: Lookout model %s/%s", w.n, w.ns, v) {
				continue
			}
			checkAck(t, f, w.n, a.ID, want)
			checked++
		}
	}
	t.Logf("%d acknowledged artifacts checked", checked)
}

func sumValues(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// checkAck checks that the registry holds artifact id as a worker was last
// told.
func checkAck(t *testing.T, f *registrytest.Fixture, worker int, id string, want ack) {
	t.Helper()
	a, err := f.Get(f.Ctx, id, registry.IncludeAll)
	switch want {
	case gone:
		assert.ErrorIs(t, err, registry.ErrNotFound, "worker %d: %s was hard deleted", worker, id)
	case soft:
		if assert.NoError(t, err, "worker %d: %s was soft deleted", worker, id) {
			assert.True(t, a.Deleted, "worker %d: %s was soft deleted", worker, id)
		}
	case live:
		if assert.NoError(t, err, "worker %d: %s was created", worker, id) {
			assert.False(t, a.Deleted, "worker %d: %s is live", worker, id)
		}
	}
}
