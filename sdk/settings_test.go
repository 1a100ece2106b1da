package sdk_test

import (
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk"
)

type mode string

func (m *mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "test", "live":
		*m = mode(b)
		return nil
	}
	return sdk.Invalid("want test or live")
}

type decoded struct {
	APIKey   string            `setting:"api_key,required,secret"`
	Label    string            `setting:"label" default:"Acme"`
	Timeout  time.Duration     `setting:"timeout" default:"10s"`
	Sandbox  bool              `setting:"sandbox"`
	Retries  int8              `setting:"retries" default:"3"`
	Port     uint16            `setting:"port"`
	Limit    *int64            `setting:"limit"`
	APIBase  url.URL           `setting:"api_base" default:"https://api.acme.test/v1"`
	Hook     *url.URL          `setting:"hook_url"`
	Methods  []string          `setting:"methods" default:"card, wallet"`
	Allow    []netip.Prefix    `setting:"allow"`
	Mode     mode              `setting:"mode" default:"test"`
	Products map[string]int64  `setting:"product_*"`
	Secrets  map[string]string `setting:"key_*,secret"`
	Ignored  string
}

func TestDecodeSettings(t *testing.T) {
	limit := int64(500)
	tests := []struct {
		name string
		in   map[string]string
		want func(*decoded)
	}{
		{"defaults", map[string]string{"api_key": "k"}, func(d *decoded) {}},
		{"every type", map[string]string{
			"api_key": "  k2 ", "label": "Shop", "timeout": "1m30s", "sandbox": "true", "retries": "-2",
			"port": "8443", "limit": "500", "api_base": "http://localhost:9/x", "hook_url": "https://h.test/hook",
			"methods": "card,,paypal ,", "allow": "10.0.0.0/8, 2001:db8::/32", "mode": "live",
			"product_card": "68452", "product_wallet": " 7 ", "key_a": "s1",
		}, func(d *decoded) {
			d.APIKey, d.Label, d.Timeout, d.Sandbox, d.Retries, d.Port = "k2", "Shop", 90*time.Second, true, -2, 8443
			d.Limit = &limit
			d.APIBase = url.URL{Scheme: "http", Host: "localhost:9", Path: "/x"}
			d.Hook = &url.URL{Scheme: "https", Host: "h.test", Path: "/hook"}
			d.Methods = []string{"card", "paypal"}
			d.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
			d.Mode = "live"
			d.Products = map[string]int64{"card": 68452, "wallet": 7}
			d.Secrets = map[string]string{"a": "s1"}
		}},
		{"empty values count as absent", map[string]string{"api_key": "k", "label": " ", "timeout": "", "product_card": ""}, func(d *decoded) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := decoded{
				APIKey: "k", Label: "Acme", Timeout: 10 * time.Second, Retries: 3,
				APIBase: url.URL{Scheme: "https", Host: "api.acme.test", Path: "/v1"},
				Methods: []string{"card", "wallet"}, Mode: "test",
				Products: map[string]int64{}, Secrets: map[string]string{}, Ignored: "untouched",
			}
			tc.want(&want)
			got := decoded{Ignored: "untouched", Label: "stale", Sandbox: true}
			if err := sdk.DecodeSettings(tc.in, &got); err != nil {
				t.Fatalf("DecodeSettings: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeSettingsRejects(t *testing.T) {
	tests := []struct {
		name      string
		in        map[string]string
		field     string
		contains  []string
		forbidden string
	}{
		{"missing required", map[string]string{}, "api_key", []string{"setting api_key is required"}, ""},
		{"blank required", map[string]string{"api_key": "  "}, "api_key", []string{"api_key is required"}, ""},
		{"unknown key", map[string]string{"api_key": "k", "api_kye": "x"}, "api_kye", []string{`unknown setting "api_kye"`}, ""},
		{"bad duration", map[string]string{"api_key": "k", "timeout": "soon"}, "timeout", []string{"timeout", "duration", `"soon"`}, ""},
		{"negative duration", map[string]string{"api_key": "k", "timeout": "-1s"}, "timeout", []string{"duration"}, ""},
		{"bad bool", map[string]string{"api_key": "k", "sandbox": "yes please"}, "sandbox", []string{"true or false"}, ""},
		{"int out of range", map[string]string{"api_key": "k", "retries": "300"}, "retries", []string{"8 bits"}, ""},
		{"negative uint", map[string]string{"api_key": "k", "port": "-1"}, "port", []string{"non-negative"}, ""},
		{"relative url", map[string]string{"api_key": "k", "api_base": "/v1"}, "api_base", []string{"absolute http or https URL"}, ""},
		{"ftp url", map[string]string{"api_key": "k", "hook_url": "ftp://h.test/"}, "hook_url", []string{"absolute http or https URL"}, ""},
		{"bad list item", map[string]string{"api_key": "k", "allow": "10.0.0.0/8,nonsense"}, "allow", []string{"item 2", "Prefix"}, ""},
		{"bad enum", map[string]string{"api_key": "k", "mode": "prod"}, "mode", []string{"want test or live"}, ""},
		{"bad prefixed value", map[string]string{"api_key": "k", "product_card": "x"}, "product_card", []string{"product_card"}, ""},
		{"secret value not echoed", map[string]string{"api_key": "k", "key_a": "s1", "retries": "x"}, "retries", []string{"retries"}, "s1"},
		{"every problem listed", map[string]string{"timeout": "x", "zzz": "1", "aaa": "2"}, "api_key",
			[]string{"4 settings problems", "api_key is required", "timeout", `unknown setting "aaa"`, `unknown setting "zzz"`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d decoded
			err := sdk.DecodeSettings(tc.in, &d)
			e, ok := sdk.AsError(err)
			if !ok {
				t.Fatalf("DecodeSettings: %v, want an *sdk.Error", err)
			}
			if e.Category != sdk.CategoryInvalidInput || e.Code != sdk.CodeInvalidSetting || e.Field != tc.field {
				t.Errorf("error %q/%q field %q, want invalid_input/invalid_setting field %q", e.Category, e.Code, e.Field, tc.field)
			}
			for _, s := range tc.contains {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q lacks %q", e.Message, s)
				}
			}
			if tc.forbidden != "" && strings.Contains(e.Error(), tc.forbidden) {
				t.Errorf("message %q contains %q", e.Error(), tc.forbidden)
			}
		})
	}
}

func TestDecodeSettingsSecretNeverEchoed(t *testing.T) {
	type cfg struct {
		Keys []netip.Addr `setting:"keys,secret"`
	}
	err := sdk.DecodeSettings(map[string]string{"keys": "10.0.0.1,hunter2-secret"}, &cfg{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("DecodeSettings(bad secret) = %v, want an error without the value", err)
	}
}

func TestDecodeSettingsBadStruct(t *testing.T) {
	type unexported struct {
		//lint:ignore U1000 an unexported setting field is what this case checks
		key string `setting:"key"`
	}
	type badDefault struct {
		N int `setting:"n" default:"many"`
	}
	type requiredDefault struct {
		S string `setting:"s,required" default:"x"`
	}
	type float struct {
		F float64 `setting:"f"`
	}
	type prefixNotMap struct {
		S string `setting:"s_*"`
	}
	type duplicate struct {
		A string `setting:"a"`
		B string `setting:"a"`
	}
	type swallowed struct {
		M map[string]string `setting:"method_*"`
		C string            `setting:"method_card"`
	}
	type badOption struct {
		S string `setting:"s,requird"`
	}
	var s string
	for name, dst := range map[string]any{
		"nil": nil, "not a pointer": decoded{}, "pointer to string": &s,
		"unexported": &unexported{}, "bad default": &badDefault{}, "required with default": &requiredDefault{},
		"float": &float{}, "prefix not a map": &prefixNotMap{}, "duplicate": &duplicate{}, "swallowed": &swallowed{},
		"bad option": &badOption{},
	} {
		t.Run(name, func(t *testing.T) {
			if c := sdk.CategoryOf(sdk.DecodeSettings(map[string]string{}, dst)); c != sdk.CategoryInternal {
				t.Errorf("DecodeSettings(%T): category %q, want internal", dst, c)
			}
		})
	}
}

func TestInvalidSetting(t *testing.T) {
	e := sdk.InvalidSetting("mode", "a live key does not match mode %q", "test")
	if e.Category != sdk.CategoryInvalidInput || e.Field != "mode" || e.Code != sdk.CodeInvalidSetting ||
		e.Message != `setting mode: a live key does not match mode "test"` {
		t.Errorf("InvalidSetting = %+v", e)
	}
}
