package state

import (
	"fmt"
	"strings"
)

// Remove removes the object or device recorded at address, as one journal
// record; an address that is not recorded is an error naming it.
func (t *Txn) Remove(address string) error {
	if _, ok := t.Object(address); ok {
		return t.DeleteObject(address)
	}
	if _, ok := t.Device(address); ok {
		return t.DeleteDevice(address)
	}
	return fmt.Errorf("remove %s: the address is not in the state", address)
}

// Move records the object or device at from under the address to instead
// (two journal records: the put, then the delete). Both addresses must be
// of the same kind (`workflow.NAME.user["key"]` to another user address,
// `device_cutover.NAME["key"]` to another device address), to must be free,
// and the record's workflow or cutover name follows the new address.
func (t *Txn) Move(from, to string) error {
	fh, fw, err := splitAddress(from)
	if err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	th, tw, err := splitAddress(to)
	if err != nil {
		return fmt.Errorf("move to %s: %w", to, err)
	}
	if from == to {
		return fmt.Errorf("move %s: the source and destination are the same address", from)
	}
	if _, ok := t.Object(to); ok {
		return fmt.Errorf("move %s to %s: the destination is already in the state; remove it first with adshift state rm", from, to)
	}
	if _, ok := t.Device(to); ok {
		return fmt.Errorf("move %s to %s: the destination is already in the state; remove it first with adshift state rm", from, to)
	}
	if o, ok := t.Object(from); ok {
		if fh[0] != th[0] || len(fh) != len(th) || fh[len(fh)-1] != th[len(th)-1] {
			return fmt.Errorf("move %s to %s: an object moves only to an address of the same kind (%s)", from, to, strings.Join(append([]string{fh[0], "NAME"}, fh[2:]...), "."))
		}
		o.Address = to
		if fh[0] == "workflow" && o.Workflow == fw {
			o.Workflow = tw
		}
		if err := t.PutObject(o); err != nil {
			return err
		}
		return t.DeleteObject(from)
	}
	if d, ok := t.Device(from); ok {
		if fh[0] != th[0] || len(fh) != len(th) {
			return fmt.Errorf("move %s to %s: a device moves only to another device address (%s.NAME[\"key\"])", from, to, fh[0])
		}
		d.Address = to
		if d.Cutover == fw {
			d.Cutover = tw
		}
		if err := t.PutDevice(d); err != nil {
			return err
		}
		return t.DeleteDevice(from)
	}
	return fmt.Errorf("move %s: the address is not in the state; adshift state list shows the addresses", from)
}

// splitAddress splits `a.b.c["key"]` into its dotted head ([a b c]) and
// returns the head's second part (the workflow or cutover name).
func splitAddress(addr string) ([]string, string, error) {
	head, _, ok := strings.Cut(addr, "[")
	if !ok || !strings.HasSuffix(addr, "]") {
		return nil, "", fmt.Errorf(`not an instance address (like workflow.NAME.user["key"])`)
	}
	parts := strings.Split(head, ".")
	if len(parts) < 2 {
		return nil, "", fmt.Errorf(`not an instance address (like workflow.NAME.user["key"])`)
	}
	for _, p := range parts {
		if p == "" {
			return nil, "", fmt.Errorf("empty part in the address")
		}
	}
	return parts, parts[1], nil
}
