package jobs

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Registry lists the job kinds a process knows: their workers and retry
// policies. Build one in the composition root and hand the same Registry to
// every Runner (a worker runner and insert-only CLI runners alike), so the
// max attempts recorded at enqueue match the policy applied at failure.
type Registry struct {
	kinds    []string
	policies map[string]RetryPolicy
	adders   []func(*river.Workers) error
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{policies: map[string]RetryPolicy{}}
}

// Register adds the worker for T's kind with its retry policy. A worker's
// own NextRetry, when it returns a non-zero time, still wins over the
// policy's delays. Registering a kind twice is an error.
func Register[T river.JobArgs](r *Registry, worker river.Worker[T], policy RetryPolicy) error {
	var args T
	kind := args.Kind()
	if kind == "" {
		return fmt.Errorf("jobs: register %T: empty kind", args)
	}
	if _, dup := r.policies[kind]; dup {
		return fmt.Errorf("jobs: kind %q registered twice", kind)
	}
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("jobs: kind %q: %w", kind, err)
	}
	r.kinds = append(r.kinds, kind)
	r.policies[kind] = policy
	wrapped := &policyWorker[T]{Worker: worker, policy: policy}
	r.adders = append(r.adders, func(ws *river.Workers) error {
		return river.AddWorkerSafely[T](ws, wrapped)
	})
	return nil
}

// Kinds lists registered kinds in registration order.
func (r *Registry) Kinds() []string { return append([]string(nil), r.kinds...) }

// Policy returns the retry policy registered for kind.
func (r *Registry) Policy(kind string) (RetryPolicy, bool) {
	p, ok := r.policies[kind]
	return p, ok
}

func (r *Registry) riverWorkers() (*river.Workers, error) {
	ws := river.NewWorkers()
	for _, add := range r.adders {
		if err := add(ws); err != nil {
			return nil, err
		}
	}
	return ws, nil
}

// policyWorker applies a RetryPolicy to a worker that does not choose its
// own retry times.
type policyWorker[T river.JobArgs] struct {
	river.Worker[T]
	policy RetryPolicy
}

var _ river.Worker[river.JobArgs] = (*policyWorker[river.JobArgs])(nil)

func (w *policyWorker[T]) NextRetry(job *river.Job[T]) time.Time {
	if t := w.Worker.NextRetry(job); !t.IsZero() {
		return t
	}
	return w.policy.NextRetry(job.Attempt, time.Now(), nil)
}
