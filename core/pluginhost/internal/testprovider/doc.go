// Package testprovider is a provider built only for pluginhost's own tests:
// it reports what it can see of its environment and lets a test make a call
// block, so the fault tests (kill -9 during calls, environment isolation)
// have something precise to observe. It is not a sample to copy; see
// plugins/sandbox for that.
package testprovider
