//go:build !unix

package ldif

import "time"

func cpuTime() time.Duration { return 0 }
