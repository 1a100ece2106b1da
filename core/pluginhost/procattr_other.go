//go:build !linux

package pluginhost

import "os/exec"

// dieWithHost has no kernel help outside Linux; plugins built with the SDK
// watch their parent and exit when it is gone (sdk.Serve).
func dieWithHost(*exec.Cmd) {}
