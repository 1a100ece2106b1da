package route53registrar

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53domains"
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/meta"
	"github.com/switchyard/switchyard/sdk/registrar"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// Registrar is the Route 53 registrar. Build it with New; it is unusable
// until Configure succeeds and safe for concurrent use afterwards.
type Registrar struct {
	log        hclog.Logger
	now        func() time.Time
	httpClient *http.Client
	backoff    retry.BackoffDelayer

	mu   sync.RWMutex
	inst *instance
}

var (
	_ registrar.Registrar     = (*Registrar)(nil)
	_ registrar.RecordChanger = (*Registrar)(nil)
	_ registrar.RecordLister  = (*Registrar)(nil)
)

// instance is everything built from one set of settings; Configure swaps it
// atomically so calls in flight finish on the old one.
type instance struct {
	settings
	domains *route53domains.Client
	dns     *route53.Client
}

// Option adjusts a Registrar.
type Option func(*Registrar)

// WithLogger sets the logger (hclog JSON on stderr under sdk.Serve).
func WithLogger(l hclog.Logger) Option { return func(r *Registrar) { r.log = l } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(r *Registrar) { r.now = now } }

// WithHTTPClient replaces the HTTP client both AWS clients use.
func WithHTTPClient(c *http.Client) Option { return func(r *Registrar) { r.httpClient = c } }

// WithRetryBackoff replaces the SDK retryer's exponential jittered backoff
// (tests use a short one; the retry decisions stay the SDK's).
func WithRetryBackoff(b retry.BackoffDelayer) Option { return func(r *Registrar) { r.backoff = b } }

// New returns an unconfigured registrar.
func New(opts ...Option) *Registrar {
	r := &Registrar{
		log:        hclog.NewNullLogger(),
		now:        time.Now,
		httpClient: &http.Client{Timeout: 30 * time.Second},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Describe implements registrar.Registrar.
func (r *Registrar) Describe(context.Context) (meta.Info, error) {
	return meta.Info{
		Name:         "route53",
		Version:      Version,
		Kind:         meta.KindRegistrar,
		Capabilities: []string{registrar.CapabilityRecordChanges, registrar.CapabilityListRecords},
	}, nil
}

// Configure implements registrar.Registrar. It builds both AWS clients from
// the settings alone (see the package documentation) and calls nothing.
func (r *Registrar) Configure(_ context.Context, in map[string]string) error {
	s, err := parseSettings(in)
	if err != nil {
		return err
	}
	inst := &instance{settings: s}
	creds := aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, s.SessionToken))
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = s.MaxAttempts
			if r.backoff != nil {
				o.Backoff = r.backoff
			}
		})
	}
	inst.domains = route53domains.New(route53domains.Options{
		Region:       Region,
		Credentials:  creds,
		HTTPClient:   r.httpClient,
		Retryer:      retryer(),
		BaseEndpoint: endpoint(s.DomainsEndpoint),
	})
	inst.dns = route53.New(route53.Options{
		Region:       Region,
		Credentials:  creds,
		HTTPClient:   r.httpClient,
		Retryer:      retryer(),
		BaseEndpoint: endpoint(s.Route53Endpoint),
	})
	r.mu.Lock()
	r.inst = inst
	r.mu.Unlock()
	return nil
}

func (r *Registrar) instance() (*instance, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.inst == nil {
		return nil, sdk.Unavailable("route53 registrar is not configured")
	}
	return r.inst, nil
}

// CheckHealth implements registrar.Registrar. It does not call AWS (the
// host polls it); TestConnection does.
func (r *Registrar) CheckHealth(context.Context) (meta.Health, error) {
	if _, err := r.instance(); err != nil {
		return meta.Health{Status: meta.HealthDown, Message: "not configured"}, nil
	}
	return meta.Health{Status: meta.HealthOK, Message: "configured"}, nil
}

// TestConnection implements registrar.Registrar with one read-only call to
// each service, so a key that lacks either service's permissions fails
// here rather than at the first order.
func (r *Registrar) TestConnection(ctx context.Context) (meta.TestResult, error) {
	inst, err := r.instance()
	if err != nil {
		return meta.TestResult{}, err
	}
	if _, err := inst.domains.ListOperations(ctx, &route53domains.ListOperationsInput{MaxItems: aws.Int32(1)}); err != nil {
		return meta.TestResult{}, mapError(ctx, "route53domains ListOperations", err)
	}
	if _, err := inst.dns.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1)}); err != nil {
		return meta.TestResult{}, mapError(ctx, "route53 ListHostedZonesByName", err)
	}
	return meta.TestResult{Message: "Route 53 Domains and Route 53 accepted the credentials"}, nil
}

// spendOnce is the per-call option for operations that cost money: retry
// only what AWS throttled (rejected before doing anything), never a
// connection error or a 5xx after which the operation may have been
// submitted.
func spendOnce(o *route53domains.Options) {
	base := o.Retryer
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = base.MaxAttempts()
		so.Backoff = retry.BackoffDelayerFunc(base.RetryDelay)
		so.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.RetryableErrorCode{Codes: retry.DefaultThrottleErrorCodes},
		}
	})
}
