package providers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	gproto "google.golang.org/protobuf/proto"

	"github.com/adshift/adshift/providers/proto"
)

// FuzzBatchFromProto feeds arbitrary wire bytes to the host's batch
// decoder: it must reject or decode them without panicking, and whatever
// it decodes must survive another trip through the encoder unchanged.
func FuzzBatchFromProto(f *testing.F) {
	enc := newBatchEncoder()
	for _, o := range makeObjects(3, 2) {
		enc.add(&o)
	}
	seed, err := gproto.Marshal(enc.take())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	packed, err := gproto.Marshal(packedBatch())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(packed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b proto.Discover_Batch
		if err := gproto.Unmarshal(data, &b); err != nil {
			return
		}
		objs, err := batchFromProto(&b)
		if err != nil {
			return
		}
		enc := newBatchEncoder()
		for i := range objs {
			enc.add(&objs[i])
		}
		again, err := batchFromProto(enc.take())
		if err != nil {
			t.Fatalf("re-encoded batch fails: %v", err)
		}
		if diff := cmp.Diff(objs, again); diff != "" {
			t.Errorf("second trip (-first +second):\n%s", diff)
		}
	})
}
