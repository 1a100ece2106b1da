package webhooks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/sdk/mailer"
	"github.com/switchyard/switchyard/sdk/meta"
)

type fakeMailer struct {
	sent []mailer.Message
	err  error
}

func (f *fakeMailer) Describe(context.Context) (meta.Info, error)        { return meta.Info{}, nil }
func (f *fakeMailer) Configure(context.Context, map[string]string) error { return nil }
func (f *fakeMailer) CheckHealth(context.Context) (meta.Health, error)   { return meta.Health{}, nil }
func (f *fakeMailer) TestConnection(context.Context) (meta.TestResult, error) {
	return meta.TestResult{}, nil
}
func (f *fakeMailer) Send(_ context.Context, m mailer.Message) (mailer.SendResult, error) {
	if f.err != nil {
		return mailer.SendResult{}, f.err
	}
	f.sent = append(f.sent, m)
	return mailer.SendResult{MessageID: "m1"}, nil
}

func TestMailNotifierThroughPlugin(t *testing.T) {
	fm := &fakeMailer{}
	n := webhooks.MailNotifier{Mailer: webhooks.PluginMailer{
		Get:  func() (mailer.Mailer, error) { return fm, nil },
		From: "Switchyard <noreply@switchyard.test>",
	}}
	notice := webhooks.Notice{Kind: webhooks.NoticeEndpointDisabled, MerchantID: 42, Contact: "ops@shop.test",
		EndpointID: "ep_1", DeliveryID: "whd_1", URL: "https://shop.test/hooks", LastError: "receiver answered 410", At: time.Now()}
	if err := n.Notify(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	if len(fm.sent) != 1 {
		t.Fatalf("%d mails", len(fm.sent))
	}
	m := fm.sent[0]
	if m.To[0] != "ops@shop.test" || m.From != "Switchyard <noreply@switchyard.test>" ||
		!strings.Contains(m.Subject, "disabled") || !strings.Contains(m.Text, "410 Gone") || !strings.Contains(m.Text, "whd_1") {
		t.Fatalf("mail %+v", m)
	}

	if err := n.Notify(context.Background(), webhooks.Notice{MerchantID: 7}); err == nil || !strings.Contains(err.Error(), "no contact") {
		t.Fatalf("notice without contact: %v", err)
	}
	down := webhooks.MailNotifier{Mailer: webhooks.PluginMailer{Get: func() (mailer.Mailer, error) { return nil, errors.New("plugin down") }}}
	if err := down.Notify(context.Background(), notice); err == nil || !strings.Contains(err.Error(), "plugin down") {
		t.Fatalf("plugin down: %v", err)
	}
	fm.err = errors.New("rejected")
	if err := n.Notify(context.Background(), notice); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("send error: %v", err)
	}
}
