package pluginhost

import (
	"context"
	"maps"
	"time"

	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/provisioner"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// invoke runs one call against the instance's current process. It loads
// the connection with one atomic read (no lock, so concurrent calls scale
// with the gRPC connection), fails at once when the plugin is down, and
// bounds the call with the configured call timeout unless the caller's
// deadline is sooner.
func invoke[I, T any](in *instance, ctx context.Context, op string, fn func(I, context.Context) (T, error)) (_ T, err error) {
	defer func(start time.Time) { in.recordCall(ctx, op, start, err) }(time.Now())
	var zero T
	c := in.cur.Load()
	if c == nil {
		return zero, wrapCallErr(in.id, op, errNotRunning(in.downReason()))
	}
	impl, ok := c.impl.(I)
	if !ok {
		return zero, wrapCallErr(in.id, op, errNotRunning("plugin does not serve this kind"))
	}
	if d := in.h.callTimeout; d > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > d {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	v, err := fn(impl, ctx)
	if err != nil {
		return zero, wrapCallErr(in.id, op, err)
	}
	return v, nil
}

// invokeErr is invoke for methods that return only an error.
func invokeErr[I any](in *instance, ctx context.Context, op string, fn func(I, context.Context) error) error {
	_, err := invoke(in, ctx, op, func(impl I, ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(impl, ctx)
	})
	return err
}

// downReason says why no process is published, for the fail-fast error.
func (in *instance) downReason() string {
	if !in.enabled {
		return "instance is disabled"
	}
	h := in.health.Load()
	if h.Message != "" {
		return string(h.State) + ": " + h.Message
	}
	return string(h.State)
}

// configure sends new settings and keeps them for later restarts.
func configure[I commonAPI](in *instance, ctx context.Context, settings map[string]string) error {
	err := invokeErr(in, ctx, "configure", func(impl I, ctx context.Context) error {
		return impl.Configure(ctx, settings)
	})
	if err == nil {
		s := maps.Clone(settings)
		in.settings.Store(&s)
	}
	return err
}

// providerHandle is the stable provider.Client for one instance.
type providerHandle struct{ in *instance }

var _ provider.Client = (*providerHandle)(nil)

func (p *providerHandle) Describe(ctx context.Context) (provider.Description, error) {
	return invoke(p.in, ctx, "describe", provider.Client.Describe)
}

func (p *providerHandle) Configure(ctx context.Context, settings map[string]string) error {
	return configure[provider.Client](p.in, ctx, settings)
}

func (p *providerHandle) CheckHealth(ctx context.Context) (meta.Health, error) {
	return invoke(p.in, ctx, "check health", provider.Client.CheckHealth)
}

func (p *providerHandle) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	return invoke(p.in, ctx, "create payment", func(impl provider.Client, ctx context.Context) (provider.CreatePaymentResponse, error) {
		return impl.CreatePayment(ctx, req)
	})
}

func (p *providerHandle) GetPayment(ctx context.Context, req provider.GetPaymentRequest) (provider.Payment, error) {
	return invoke(p.in, ctx, "get payment", func(impl provider.Client, ctx context.Context) (provider.Payment, error) {
		return impl.GetPayment(ctx, req)
	})
}

func (p *providerHandle) Refund(ctx context.Context, req provider.RefundRequest) (provider.RefundResult, error) {
	return invoke(p.in, ctx, "refund", func(impl provider.Client, ctx context.Context) (provider.RefundResult, error) {
		return impl.Refund(ctx, req)
	})
}

func (p *providerHandle) HandleWebhook(ctx context.Context, req provider.WebhookRequest) (provider.WebhookResponse, error) {
	return invoke(p.in, ctx, "handle webhook", func(impl provider.Client, ctx context.Context) (provider.WebhookResponse, error) {
		return impl.HandleWebhook(ctx, req)
	})
}

func (p *providerHandle) HandleHTTP(ctx context.Context, req provider.HTTPRequest) (provider.HTTPResponse, error) {
	return invoke(p.in, ctx, "handle http", func(impl provider.Client, ctx context.Context) (provider.HTTPResponse, error) {
		return impl.HandleHTTP(ctx, req)
	})
}

// TestConnection implements provider.ConnectionTester; a plugin without a
// connection test answers with an unimplemented error.
func (p *providerHandle) TestConnection(ctx context.Context) (meta.TestResult, error) {
	return invoke(p.in, ctx, "test connection", provider.ConnectionTester.TestConnection)
}

// mailerHandle is the stable mailer.Mailer for one instance.
type mailerHandle struct{ in *instance }

var _ mailer.Mailer = (*mailerHandle)(nil)

func (m *mailerHandle) Describe(ctx context.Context) (meta.Info, error) {
	return invoke(m.in, ctx, "describe", mailer.Mailer.Describe)
}

func (m *mailerHandle) Configure(ctx context.Context, settings map[string]string) error {
	return configure[mailer.Mailer](m.in, ctx, settings)
}

func (m *mailerHandle) CheckHealth(ctx context.Context) (meta.Health, error) {
	return invoke(m.in, ctx, "check health", mailer.Mailer.CheckHealth)
}

func (m *mailerHandle) TestConnection(ctx context.Context) (meta.TestResult, error) {
	return invoke(m.in, ctx, "test connection", mailer.Mailer.TestConnection)
}

func (m *mailerHandle) Send(ctx context.Context, msg mailer.Message) (mailer.SendResult, error) {
	return invoke(m.in, ctx, "send", func(impl mailer.Mailer, ctx context.Context) (mailer.SendResult, error) {
		return impl.Send(ctx, msg)
	})
}

// provisionerHandle is the stable provisioner.Provisioner for one instance.
type provisionerHandle struct{ in *instance }

var (
	_ provisioner.Provisioner   = (*provisionerHandle)(nil)
	_ provisioner.PackageLister = (*provisionerHandle)(nil)
	_ provisioner.LoginLinker   = (*provisionerHandle)(nil)
)

func (p *provisionerHandle) Describe(ctx context.Context) (meta.Info, error) {
	return invoke(p.in, ctx, "describe", provisioner.Provisioner.Describe)
}

func (p *provisionerHandle) Configure(ctx context.Context, settings map[string]string) error {
	return configure[provisioner.Provisioner](p.in, ctx, settings)
}

func (p *provisionerHandle) CheckHealth(ctx context.Context) (meta.Health, error) {
	return invoke(p.in, ctx, "check health", provisioner.Provisioner.CheckHealth)
}

func (p *provisionerHandle) TestConnection(ctx context.Context) (meta.TestResult, error) {
	return invoke(p.in, ctx, "test connection", provisioner.Provisioner.TestConnection)
}

func (p *provisionerHandle) CreateAccount(ctx context.Context, req provisioner.CreateAccountRequest) (provisioner.Account, error) {
	return invoke(p.in, ctx, "create account", func(impl provisioner.Provisioner, ctx context.Context) (provisioner.Account, error) {
		return impl.CreateAccount(ctx, req)
	})
}

func (p *provisionerHandle) Suspend(ctx context.Context, req provisioner.SuspendRequest) (provisioner.Account, error) {
	return invoke(p.in, ctx, "suspend", func(impl provisioner.Provisioner, ctx context.Context) (provisioner.Account, error) {
		return impl.Suspend(ctx, req)
	})
}

func (p *provisionerHandle) Unsuspend(ctx context.Context, req provisioner.UnsuspendRequest) (provisioner.Account, error) {
	return invoke(p.in, ctx, "unsuspend", func(impl provisioner.Provisioner, ctx context.Context) (provisioner.Account, error) {
		return impl.Unsuspend(ctx, req)
	})
}

func (p *provisionerHandle) Terminate(ctx context.Context, req provisioner.TerminateRequest) error {
	return invokeErr(p.in, ctx, "terminate", func(impl provisioner.Provisioner, ctx context.Context) error {
		return impl.Terminate(ctx, req)
	})
}

func (p *provisionerHandle) ChangePackage(ctx context.Context, req provisioner.ChangePackageRequest) (provisioner.Account, error) {
	return invoke(p.in, ctx, "change package", func(impl provisioner.Provisioner, ctx context.Context) (provisioner.Account, error) {
		return impl.ChangePackage(ctx, req)
	})
}

func (p *provisionerHandle) ChangePassword(ctx context.Context, req provisioner.ChangePasswordRequest) error {
	return invokeErr(p.in, ctx, "change password", func(impl provisioner.Provisioner, ctx context.Context) error {
		return impl.ChangePassword(ctx, req)
	})
}

// ListPackages implements provisioner.PackageLister; a plugin that cannot
// list packages answers with an unimplemented error.
func (p *provisionerHandle) ListPackages(ctx context.Context) ([]provisioner.Package, error) {
	return invoke(p.in, ctx, "list packages", provisioner.PackageLister.ListPackages)
}

// LoginURL implements provisioner.LoginLinker; a plugin that cannot create
// login links answers with an unimplemented error.
func (p *provisionerHandle) LoginURL(ctx context.Context, req provisioner.LoginURLRequest) (provisioner.LoginURL, error) {
	return invoke(p.in, ctx, "login url", func(impl provisioner.LoginLinker, ctx context.Context) (provisioner.LoginURL, error) {
		return impl.LoginURL(ctx, req)
	})
}

// registrarHandle is the stable registrar.Registrar for one instance.
type registrarHandle struct{ in *instance }

// The host's registrar client always has the optional record methods (a
// plugin without them answers unimplemented), so the handle has them too.
var (
	_ registrar.Registrar     = (*registrarHandle)(nil)
	_ registrar.RecordChanger = (*registrarHandle)(nil)
	_ registrar.RecordLister  = (*registrarHandle)(nil)
)

func (r *registrarHandle) Describe(ctx context.Context) (meta.Info, error) {
	return invoke(r.in, ctx, "describe", registrar.Registrar.Describe)
}

func (r *registrarHandle) Configure(ctx context.Context, settings map[string]string) error {
	return configure[registrar.Registrar](r.in, ctx, settings)
}

func (r *registrarHandle) CheckHealth(ctx context.Context) (meta.Health, error) {
	return invoke(r.in, ctx, "check health", registrar.Registrar.CheckHealth)
}

func (r *registrarHandle) TestConnection(ctx context.Context) (meta.TestResult, error) {
	return invoke(r.in, ctx, "test connection", registrar.Registrar.TestConnection)
}

func (r *registrarHandle) CheckAvailability(ctx context.Context, req registrar.AvailabilityRequest) ([]registrar.Availability, error) {
	return invoke(r.in, ctx, "check availability", func(impl registrar.Registrar, ctx context.Context) ([]registrar.Availability, error) {
		return impl.CheckAvailability(ctx, req)
	})
}

func (r *registrarHandle) Register(ctx context.Context, req registrar.RegisterRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "register", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.Register(ctx, req)
	})
}

func (r *registrarHandle) Transfer(ctx context.Context, req registrar.TransferRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "transfer", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.Transfer(ctx, req)
	})
}

func (r *registrarHandle) Renew(ctx context.Context, req registrar.RenewRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "renew", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.Renew(ctx, req)
	})
}

func (r *registrarHandle) GetDomain(ctx context.Context, req registrar.GetDomainRequest) (registrar.Domain, error) {
	return invoke(r.in, ctx, "get domain", func(impl registrar.Registrar, ctx context.Context) (registrar.Domain, error) {
		return impl.GetDomain(ctx, req)
	})
}

func (r *registrarHandle) SetNameservers(ctx context.Context, req registrar.SetNameserversRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "set nameservers", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.SetNameservers(ctx, req)
	})
}

func (r *registrarHandle) UpsertRecords(ctx context.Context, req registrar.UpsertRecordsRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "upsert records", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.UpsertRecords(ctx, req)
	})
}

func (r *registrarHandle) ChangeRecords(ctx context.Context, req registrar.ChangeRecordsRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "change records", func(impl registrar.RecordChanger, ctx context.Context) (registrar.Operation, error) {
		return impl.ChangeRecords(ctx, req)
	})
}

func (r *registrarHandle) ListRecords(ctx context.Context, req registrar.ListRecordsRequest) ([]registrar.Record, error) {
	return invoke(r.in, ctx, "list records", func(impl registrar.RecordLister, ctx context.Context) ([]registrar.Record, error) {
		return impl.ListRecords(ctx, req)
	})
}

func (r *registrarHandle) GetAuthCode(ctx context.Context, req registrar.GetAuthCodeRequest) (registrar.AuthCode, error) {
	return invoke(r.in, ctx, "get auth code", func(impl registrar.Registrar, ctx context.Context) (registrar.AuthCode, error) {
		return impl.GetAuthCode(ctx, req)
	})
}

func (r *registrarHandle) SetLock(ctx context.Context, req registrar.SetLockRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "set lock", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.SetLock(ctx, req)
	})
}

func (r *registrarHandle) GetOperation(ctx context.Context, req registrar.GetOperationRequest) (registrar.Operation, error) {
	return invoke(r.in, ctx, "get operation", func(impl registrar.Registrar, ctx context.Context) (registrar.Operation, error) {
		return impl.GetOperation(ctx, req)
	})
}
