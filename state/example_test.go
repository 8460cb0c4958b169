package state_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/adshift/adshift/state"
)

// An apply: take the lock, load, record each finished change, fold.
func Example() {
	dir, _ := os.MkdirTemp("", "adshift-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	b := state.NewLocal(filepath.Join(dir, "adshift.state"))

	lockCtx, cancel := context.WithTimeout(ctx, 10*time.Second) // -lock-timeout
	defer cancel()
	unlock, err := b.Lock(lockCtx, state.NewLockInfo("apply"))
	if err != nil {
		fmt.Println(err) // names the holder: state is locked by …
		return
	}
	defer unlock.Unlock()

	s, _ := b.Load(ctx)
	txn, _ := b.Begin(ctx, s)
	_ = txn.PutObject(&state.Object{
		Address:  `workflow.identities.user["jdoe"]`,
		Workflow: "identities",
		Kind:     state.KindUser,
		Source:   state.Identity{GUID: "6f1c…", SID: "S-1-5-21-1-2-3-1104"},
		Target:   state.Identity{GUID: "0a7d…", SID: "S-1-5-21-4-5-6-2201"},
		Created:  true,
	})
	if err := txn.Commit(); err != nil {
		fmt.Println(err)
		return
	}

	again, _ := b.Load(ctx)
	fmt.Println("serial", again.Serial, "lineage kept:", again.Lineage == s.Lineage)
	fmt.Println(again.SIDMap())
	// Output:
	// serial 1 lineage kept: true
	// map[S-1-5-21-1-2-3-1104:S-1-5-21-4-5-6-2201]
}
