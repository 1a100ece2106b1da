package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/fulfillment"
	"github.com/switchyard/switchyard/sdk/provisioner"
)

// serviceFakes stand in for fulfillment's services, counting calls with
// the console's other fakes and keeping what the last call got (List and
// Get would clash with the other fakes' method names, hence a type of
// their own).
type serviceFakes struct {
	*consoleFakes
	last *serviceCall // guarded by consoleFakes.mu
}

// serviceCall is what the last service call got.
type serviceCall struct {
	Op      string
	ID      string
	Service string // LoginURL's
	In      fulfillment.OperatorRequest
	List    fulfillment.ServiceListRequest
}

const (
	fakeServiceID  = "svc_01M936VRT35K7S00R0JZK8FHSC" // failed at create
	fakeActiveID   = "svc_01M936VRT35K7S00R0JZK8FHSD" // active, paused by a dispute
	fakeLoginURL   = "https://panel.shop.example:2083/cpsess4242/login/?session=shopexam:ONE-TIME-SECRET"
	fakePanelError = "create: the panel refused: package gold does not exist"
)

// pagedMerchant is the merchant whose service list is longer than a page.
const pagedMerchant = 2

func fakeService(id string) *fulfillment.ServiceDetail {
	lastErr, created := fakePanelError, "2026-12-05T09:05:00Z"
	v := &fulfillment.ServiceView{ID: id, MerchantID: 1, Mode: "test", SessionID: fakeSessionID, ItemID: "it_1", SKU: "HOST-GOLD",
		Kind: "provision", Provisioner: "whm", Package: "gold", Domain: "shop.example", Username: "shopexam", Status: domain.ServiceActive,
		Nameservers: []string{"ns1.host.example", "ns2.host.example"}, CreatedAt: created, UpdatedAt: "2026-12-05T09:06:00Z"}
	act := fulfillment.ActionView{ID: "sva_1", Action: domain.ActionCreate, Status: domain.ActionDone, Source: "payment", Reason: "paid",
		Attempts: 1, CreatedAt: created, UpdatedAt: "2026-12-05T09:06:00Z"}
	switch id {
	case fakeServiceID:
		v.Status, v.LastError = domain.ServiceFailed, &lastErr
		act.Status, act.Attempts, act.LastError = domain.ActionFailed, 3, &lastErr
	case fakeActiveID:
		why := "dispute dp_1 opened"
		v.Paused, v.PauseReason = true, &why
	}
	return &fulfillment.ServiceDetail{ServiceView: v, Actions: []fulfillment.ActionView{act}}
}

func (f serviceFakes) note(c serviceCall) {
	f.hit(c.Op)
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.last = c
}

// lastCall is what the last service call got.
func (f serviceFakes) lastCall() serviceCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.last
}

func (f serviceFakes) ListServices(_ context.Context, in fulfillment.ServiceListRequest) ([]*fulfillment.ServiceView, error) {
	f.note(serviceCall{Op: "ListServices", List: in})
	if in.Status != "" {
		if _, err := domain.ParseServiceStatus(in.Status); err != nil {
			return nil, err
		}
	}
	if in.MerchantID == pagedMerchant {
		out := make([]*fulfillment.ServiceView, 0, in.Limit)
		for i := range in.Limit {
			out = append(out, fakeService(fmt.Sprintf("svc_page%02d", i)).ServiceView)
		}
		return out, nil
	}
	return []*fulfillment.ServiceView{fakeService(fakeServiceID).ServiceView}, nil
}

func (f serviceFakes) GetService(_ context.Context, id string) (*fulfillment.ServiceDetail, error) {
	f.hit("GetService")
	if id == "svc_missing" {
		return nil, domain.NotFound("service")
	}
	return fakeService(id), nil
}

func (f serviceFakes) operate(op, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	f.note(serviceCall{Op: op, ID: id, In: in})
	if id == "svc_terminated" {
		return nil, domain.Conflict("invalid_service_state", "cannot %s a service that is terminated", op)
	}
	return fakeService(id), nil
}

func (f serviceFakes) Suspend(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	return f.operate("suspend", id, in)
}

func (f serviceFakes) Unsuspend(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	return f.operate("unsuspend", id, in)
}

func (f serviceFakes) Terminate(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	return f.operate("terminate", id, in)
}

func (f serviceFakes) Retry(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	return f.operate("retry", id, in)
}

func (f serviceFakes) Resume(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	return f.operate("resume", id, in)
}

func (f serviceFakes) LoginURL(_ context.Context, id, service string) (provisioner.LoginURL, error) {
	f.note(serviceCall{Op: "LoginURL", ID: id, Service: service})
	if id == "svc_terminated" {
		return provisioner.LoginURL{}, domain.Conflict("invalid_service_state", "service %s is terminated: it has no account to log in to", id)
	}
	return provisioner.LoginURL{URL: fakeLoginURL, ExpiresAt: fakeTime.Add(5 * time.Minute)}, nil
}

// fakePackages are the packages the fake panel lists.
var fakePackages = []string{"gold", "silver"}

func (f serviceFakes) ChangePackage(_ context.Context, id string, in fulfillment.OperatorRequest) (*fulfillment.ServiceDetail, error) {
	f.note(serviceCall{Op: "change-package", ID: id, In: in})
	if !slices.Contains(fakePackages, in.Package) {
		return nil, domain.Unprocessable("unknown_package", "package", "whm lists no package %q (names are exact, reseller prefix included); it lists: %s",
			in.Package, strings.Join(fakePackages, ", "))
	}
	return fakeService(id), nil
}
