package hub

import "sync"

// notifier wakes the long polls of one device when a job is queued for
// it. Waiters register before they look at the store, so a job queued
// between the look and the wait is not missed. Safe for concurrent use.
type notifier struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
	// registered, when set (by tests), is called after a waiter registers.
	registered func(device string)
}

func newNotifier() *notifier {
	return &notifier{waiters: map[string]map[chan struct{}]struct{}{}}
}

// wait returns a channel that receives when device is notified, and a
// function that unregisters it.
func (n *notifier) wait(device string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	set := n.waiters[device]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		n.waiters[device] = set
	}
	set[ch] = struct{}{}
	n.mu.Unlock()
	if n.registered != nil {
		n.registered(device)
	}
	return ch, func() {
		n.mu.Lock()
		delete(set, ch)
		if len(set) == 0 && n.waiters[device] != nil && len(n.waiters[device]) == 0 {
			delete(n.waiters, device)
		}
		n.mu.Unlock()
	}
}

// notify wakes every waiter of device.
func (n *notifier) notify(device string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.waiters[device] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
