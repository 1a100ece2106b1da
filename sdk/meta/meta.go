package meta

// Kind names a plugin kind. The values are also the go-plugin plugin names
// a host dispenses, so they never change.
type Kind string

// The plugin kinds.
const (
	KindProvider    Kind = "provider"
	KindProvisioner Kind = "provisioner"
	KindRegistrar   Kind = "registrar"
	KindMailer      Kind = "mailer"
)

// Kinds lists every kind in a stable order.
func Kinds() []Kind { return []Kind{KindProvider, KindProvisioner, KindRegistrar, KindMailer} }

// Info describes a plugin. Kind and Capabilities are filled in by the SDK
// from the kind being served and the implementation, so implementations
// leave them empty.
type Info struct {
	// Name is a stable machine name such as "stripe" or "sandbox".
	Name string
	// Version is the plugin's own version (semver recommended), shown by
	// `switchyard plugins list`.
	Version string
	Kind    Kind
	// Capabilities are the optional interfaces the plugin implements, named
	// by constants in the kind packages (provider.CapabilityHTTP …). The
	// SDK fills them in from the implementation, replacing anything set
	// here, so they never disagree with what the plugin can do.
	Capabilities []string
}

// Has reports whether the plugin advertises capability c.
func (i Info) Has(c string) bool {
	for _, have := range i.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// HealthStatus is the coarse state a plugin reports.
type HealthStatus string

// The health states. Routing skips providers that are not HealthOK.
const (
	HealthOK       HealthStatus = "ok"
	HealthDegraded HealthStatus = "degraded"
	HealthDown     HealthStatus = "down"
)

// Health is the answer to CheckHealth. Message is shown to operators and must
// not contain secrets.
type Health struct {
	Status  HealthStatus
	Message string
}

// TestResult is the answer to a successful TestConnection: what the plugin
// reached, for the operator. A failed test is an error, not a TestResult.
type TestResult struct {
	Message string
	Details map[string]string
}
