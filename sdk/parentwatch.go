package sdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// parentPollInterval is how often a plugin checks that its host is alive.
const parentPollInterval = 500 * time.Millisecond

// exitWithHost ends the plugin process once the host that started it is
// gone. A host killed with SIGKILL or by the OOM killer cannot stop its
// plugins, and they would keep running re-parented to init (or a
// subreaper), holding ports, connections and memory. Switchyard's host also
// asks Linux for a parent-death signal; this watch covers other systems and
// other hosts.
//
// It only runs when a host launched the plugin (the handshake cookie is in
// the environment) and that host is not init itself; a plugin started by
// hand for debugging is left alone.
func exitWithHost(logger hclog.Logger) {
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		return
	}
	host := os.Getppid()
	if host <= 1 {
		return
	}
	go func() {
		t := time.NewTicker(parentPollInterval)
		defer t.Stop()
		for range t.C {
			if os.Getppid() != host {
				logger.Warn("host process is gone; plugin exiting", "host_pid", host)
				os.Exit(1)
			}
		}
	}()
}
