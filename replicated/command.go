package replicated

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/modelreg/registry"
)

// entryType is the first byte of every log entry the node appends: which
// write of the library the entry is. Values are never reused: a log written
// by one version must replay on the next.
type entryType uint8

const (
	entryRegister entryType = iota + 1
	entryUpdate
	entryLink
	entryUnlink
	entryDeploy
	entryUndeploy
	entryDelete
	entryDeleteByFQN
	entryDeleteAllVersions
	entryRestore
	entryRestoreByFQN
	entryPurge
	entryReset
	entrySettle
	entryRestoreOperation
)

var entryNames = [...]string{
	entryRegister: "register", entryUpdate: "update", entryLink: "link", entryUnlink: "unlink",
	entryDeploy: "deploy", entryUndeploy: "undeploy", entryDelete: "delete", entryDeleteByFQN: "delete by FQN",
	entryDeleteAllVersions: "delete all versions", entryRestore: "restore", entryRestoreByFQN: "restore by FQN",
	entryPurge: "purge", entryReset: "reset", entrySettle: "settle cleanups",
	entryRestoreOperation: "restore operation",
}

func (t entryType) String() string {
	if int(t) < len(entryNames) && entryNames[t] != "" {
		return entryNames[t]
	}
	return fmt.Sprintf("entry type %d", uint8(t))
}

// command is one write, as logged: the call's arguments, the principal that
// made it, and everything the node decided before appending it (the time,
// the operation ID, new artifact IDs inside Artifacts), so that applying it
// gives the same result on every replica and on every replay.
//
// It is encoded as JSON after the type byte. JSON is in the standard
// library (the root module gains no codec dependency), keeps every field's
// name in the entry, so a log stays readable and decodable across versions
// that add fields, and round-trips everything a write carries exactly:
// valid UTF-8 strings, times with nanoseconds (decided in UTC), integers.
// The one thing it cannot carry, invalid UTF-8, is invalid input to the
// registry anyway, and is refused before the entry is appended (see
// checkUTF8). Entries are a few hundred bytes; the fsync, not the codec,
// is what a write waits for.
type command struct {
	Principal string    `json:"p"`
	Time      time.Time `json:"t"`
	Operation string    `json:"o"`

	Artifacts  []registry.Artifact      `json:"artifacts,omitempty"`
	ID         string                   `json:"id,omitempty"`
	FQN        string                   `json:"fqn,omitempty"`
	Namespace  string                   `json:"namespace,omitempty"`
	Name       string                   `json:"name,omitempty"`
	Upstream   string                   `json:"upstream,omitempty"`
	Downstream string                   `json:"downstream,omitempty"`
	Endpoint   string                   `json:"endpoint,omitempty"`
	Delete     []registry.DeleteOptions `json:"delete,omitempty"`
	Update     []registry.UpdateOptions `json:"update,omitempty"`
	// Target is the operation a RestoreOperation restores (Operation is
	// the one the entry itself was given).
	Target    string                    `json:"target,omitempty"`
	Restore   []registry.RestoreOptions `json:"restore,omitempty"`
	Purge     []registry.PurgeOptions   `json:"purge,omitempty"`
	OlderThan time.Duration             `json:"olderThan,omitempty"`
	Outcomes  []registry.CleanupOutcome `json:"outcomes,omitempty"`
}

func encode(t entryType, c *command) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("replicated: encode %s: %w", t, err)
	}
	return append([]byte{byte(t)}, body...), nil
}

func decode(data []byte) (entryType, *command, error) {
	if len(data) < 2 {
		return 0, nil, fmt.Errorf("replicated: log entry of %d bytes is too short", len(data))
	}
	t := entryType(data[0])
	if t < entryRegister || t > entryRestoreOperation {
		return 0, nil, fmt.Errorf("replicated: log entry has unknown type %d", data[0])
	}
	var c command
	if err := json.Unmarshal(data[1:], &c); err != nil {
		return 0, nil, fmt.Errorf("replicated: decode %s: %w", t, err)
	}
	return t, &c, nil
}

// checkUTF8 refuses a command holding a string that is not valid UTF-8:
// JSON would replace its bad bytes, and the replicas would apply another
// value than the caller gave. The registry refuses such text in every field
// (see the input limits), so the answer is the one it would give.
func checkUTF8(c *command) error {
	if field, ok := invalidUTF8(reflect.ValueOf(c).Elem(), ""); !ok {
		return &registry.Error{Code: registry.CodeInvalid, Field: field,
			Message: fmt.Sprintf("%s is not valid UTF-8", field)}
	}
	return nil
}

func invalidUTF8(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, utf8.ValidString(v.String())
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return "", true
		}
		for i := 0; i < v.NumField(); i++ {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if f, ok := invalidUTF8(v.Field(i), join(path, jsonName(v.Type().Field(i)))); !ok {
				return f, false
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if f, ok := invalidUTF8(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); !ok {
				return f, false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if !utf8.ValidString(it.Key().String()) {
				return path, false
			}
			if f, ok := invalidUTF8(it.Value(), path+"."+it.Key().String()); !ok {
				return f, false
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return invalidUTF8(v.Elem(), path)
		}
	}
	return "", true
}

func jsonName(f reflect.StructField) string {
	name := f.Tag.Get("json")
	for i := 0; i < len(name); i++ {
		if name[i] == ',' {
			name = name[:i]
			break
		}
	}
	if name == "" || name == "-" {
		return f.Name
	}
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
