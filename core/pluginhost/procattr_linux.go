package pluginhost

import (
	"os/exec"
	"syscall"
)

// dieWithHost makes the kernel send the plugin SIGKILL when the host dies,
// however it dies (kill -9, the OOM killer, a crash), so no plugin is left
// running re-parented to init. The parent-death signal is tied to the OS
// thread that started the child; Go never ends a thread that is not locked
// to a goroutine, and the launch path locks none. Plugins built with the SDK
// also watch their parent themselves (sdk.Serve), which covers other
// systems and hosts that do not set this.
func dieWithHost(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
