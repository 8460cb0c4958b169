package state

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ErrNoPlanKey is returned by PlanKey (without create) when the backend
// holds no plan key for the lineage: the plan was made against another
// state, or its lineage was altered.
var ErrNoPlanKey = errors.New("no plan key for this state lineage")

// PlanKeySize is the size of a plan key in bytes (an HMAC-SHA256 key).
const PlanKeySize = 32

// maxPlanKeys bounds how many lineages' keys a Local keeps: every plan -out
// against a state that was never written makes up a lineage of its own.
const maxPlanKeys = 32

// KeysPath returns the file that holds the plan keys: Path() + ".keys".
func (l *Local) KeysPath() string { return l.path + ".keys" }

// planKeyFile is the JSON of <path>.keys.
type planKeyFile struct {
	Format int       `json:"format"`
	Keys   []planKey `json:"keys"`
}

type planKey struct {
	Lineage string    `json:"lineage"`
	Key     []byte    `json:"key"` // base64 in JSON
	Created time.Time `json:"created"`
}

// PlanKey returns the secret key that authenticates saved plans of a state
// lineage. With create, a missing key is made (32 random bytes) and stored
// in <path>.keys, mode 0600, beside the state but never inside it; without
// create a missing key is ErrNoPlanKey. The caller holds the state lock
// when it creates a key.
func (l *Local) PlanKey(ctx context.Context, lineage string, create bool) ([]byte, error) {
	if lineage == "" {
		return nil, fmt.Errorf("%w: the lineage is empty", ErrNoPlanKey)
	}
	kf, err := l.readKeys()
	if err != nil {
		return nil, err
	}
	for _, k := range kf.Keys {
		if k.Lineage == lineage {
			if len(k.Key) != PlanKeySize {
				return nil, fmt.Errorf("plan key file %s: the key of lineage %s has %d bytes, not %d; delete the file and make the plan again", l.KeysPath(), lineage, len(k.Key), PlanKeySize)
			}
			return k.Key, nil
		}
	}
	if !create {
		return nil, fmt.Errorf("%w %s in %s", ErrNoPlanKey, lineage, l.KeysPath())
	}
	key := make([]byte, PlanKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make a plan key: %w", err)
	}
	kf.Format = 1
	kf.Keys = append(kf.Keys, planKey{Lineage: lineage, Key: key, Created: time.Now().UTC()})
	if len(kf.Keys) > maxPlanKeys {
		// Keep the newest, but always the key of the state's own lineage.
		cur := ""
		if st, err := l.readSnapshot(); err == nil && st != nil {
			cur = st.Lineage
		}
		sort.SliceStable(kf.Keys, func(i, j int) bool {
			if (kf.Keys[i].Lineage == cur) != (kf.Keys[j].Lineage == cur) {
				return kf.Keys[i].Lineage == cur
			}
			return kf.Keys[i].Created.After(kf.Keys[j].Created)
		})
		kf.Keys = kf.Keys[:maxPlanKeys]
	}
	if err := l.writeKeys(kf); err != nil {
		return nil, err
	}
	return key, nil
}

func (l *Local) readKeys() (planKeyFile, error) {
	var kf planKeyFile
	data, err := os.ReadFile(l.KeysPath())
	if errors.Is(err, fs.ErrNotExist) {
		return kf, nil
	}
	if err != nil {
		return kf, fmt.Errorf("read plan keys: %w", describeFSError(err, l.KeysPath()))
	}
	if err := json.Unmarshal(data, &kf); err != nil {
		return kf, fmt.Errorf("plan key file %s is damaged (%v); delete it and make the plan again (saved plans of this state can then no longer be applied)", l.KeysPath(), err)
	}
	return kf, nil
}

func (l *Local) writeKeys(kf planKeyFile) (err error) {
	path := l.KeysPath()
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write plan keys: %w", describeFSError(err, filepath.Dir(path)))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}
