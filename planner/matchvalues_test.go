package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSharedValues: only values two or more items share get a group, in
// the order the values first came, spelled as the first item spells them,
// compared case-insensitively; empty values are left out.
func TestSharedValues(t *testing.T) {
	vals := []string{"a", "B", "", "c", "b", "A", "d", "", "a", "C"}
	items := make([]*item, len(vals))
	byItem := map[*item]string{}
	for i, v := range vals {
		items[i] = &item{addr: v}
		byItem[items[i]] = v
	}
	type group struct {
		Value string
		Items []int
	}
	var got []group
	for _, g := range sharedValues(items, func(it *item) string { return byItem[it] }) {
		var idx []int
		for _, it := range g.items {
			for i := range items {
				if items[i] == it {
					idx = append(idx, i)
				}
			}
		}
		got = append(got, group{g.value, idx})
	}
	want := []group{{"a", []int{0, 5, 8}}, {"B", []int{1, 4}}, {"c", []int{3, 9}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sharedValues (-want +got):\n%s", diff)
	}
}
