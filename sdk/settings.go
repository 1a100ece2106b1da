package sdk

import (
	"encoding"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/sdk/sdkerr"
)

// CodeInvalidSetting is the Code of every error DecodeSettings and
// InvalidSetting return; Field names the setting.
const CodeInvalidSetting = "invalid_setting"

// InvalidSetting reports a setting whose value DecodeSettings accepted but
// the plugin cannot use (a live key in test mode, a secret too short). It
// is the same error DecodeSettings returns: CategoryInvalidInput, Code
// CodeInvalidSetting, Field name. Never put a secret's value in format.
func InvalidSetting(name, format string, args ...any) *Error {
	return sdkerr.Invalid("setting "+name+": "+format, args...).WithField(name).WithCode(CodeInvalidSetting)
}

// DecodeSettings fills the struct dst points to from the settings a plugin's
// Configure receives, by each field's `setting` tag:
//
//	type config struct {
//		APIKey  string            `setting:"api_key,required,secret"`
//		APIBase *url.URL          `setting:"api_base" default:"https://api.acme.test"`
//		Timeout time.Duration     `setting:"timeout" default:"10s"`
//		Sandbox bool              `setting:"sandbox"`
//		Methods []string          `setting:"methods" default:"card,wallet"`
//		Product map[string]int64  `setting:"product_*"`
//	}
//
// The tag is the setting's name followed by options: required (absent or
// empty is an error) and secret (the value never appears in an error
// message). The default tag gives the value of an absent setting. A name
// ending in "*" is a prefix: every setting that starts with it goes into a
// map keyed by the rest of its name. Fields without a setting tag are left
// alone.
//
// Values are trimmed of surrounding white space, and an empty value counts
// as absent. Field types: string; bool (true, false, 1, 0, t, f);
// signed and unsigned integers (base 10, range-checked); time.Duration
// (Go syntax such as 90s or 1h30m, never negative); url.URL or *url.URL
// (an absolute http or https URL with a host); any type implementing
// encoding.TextUnmarshaler (netip.Prefix, your own enums); slices of these
// (a comma-separated list, empty items dropped); pointers to these (nil when
// absent without a default); and for prefixes, maps from string to these.
//
// A setting no field names, a missing required setting or a value that does
// not parse is an error of CategoryInvalidInput with Code CodeInvalidSetting
// and Field naming the (first) offending setting; its message lists every
// problem, so an operator fixes them in one go. Every field is set, so
// decoding into a fresh value and swapping it in replaces the whole
// configuration. A struct the decoder cannot handle (an unsupported field
// type, a default that does not parse) is a bug in the plugin and returns a
// CategoryInternal error.
func DecodeSettings(settings map[string]string, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return sdkerr.Internal("DecodeSettings: dst must be a non-nil pointer to a struct, got %T", dst)
	}
	fields, err := settingFields(rv.Elem().Type())
	if err != nil {
		return err
	}
	d := decoder{in: settings, used: make(map[string]bool, len(settings))}
	for _, f := range fields {
		if err := d.field(rv.Elem().FieldByIndex(f.index), f); err != nil {
			return err
		}
	}
	var unknown []string
	for k := range settings {
		if !d.used[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		d.problem(k, fmt.Sprintf("unknown setting %q", k))
	}
	return d.err()
}

// settingField is one tagged struct field.
type settingField struct {
	index    []int
	goName   string
	name     string // the setting, or the prefix without "*"
	prefix   bool
	required bool
	secret   bool
	def      string
	hasDef   bool
}

func settingFields(t reflect.Type) ([]settingField, error) {
	var out []settingField
	seen := map[string]string{}
	for _, sf := range reflect.VisibleFields(t) {
		tag, ok := sf.Tag.Lookup("setting")
		if !ok || tag == "-" {
			continue
		}
		bad := func(format string, args ...any) error {
			return sdkerr.Internal("DecodeSettings: %s.%s: "+format, append([]any{t.Name(), sf.Name}, args...)...)
		}
		if !sf.IsExported() {
			return nil, bad("a setting field must be exported")
		}
		parts := strings.Split(tag, ",")
		f := settingField{index: sf.Index, goName: sf.Name, name: strings.TrimSpace(parts[0])}
		for _, opt := range parts[1:] {
			switch strings.TrimSpace(opt) {
			case "required":
				f.required = true
			case "secret":
				f.secret = true
			default:
				return nil, bad("unknown option %q in the setting tag (want required or secret)", opt)
			}
		}
		f.def, f.hasDef = sf.Tag.Lookup("default")
		if name, ok := strings.CutSuffix(f.name, "*"); ok {
			f.name, f.prefix = name, true
			if sf.Type.Kind() != reflect.Map || sf.Type.Key().Kind() != reflect.String {
				return nil, bad("a prefix setting (%s*) needs a map[string]T field", name)
			}
			if f.required || f.hasDef {
				return nil, bad("a prefix setting takes neither required nor a default")
			}
			if err := checkType(sf.Type.Elem()); err != nil {
				return nil, bad("%v", err)
			}
		} else if err := checkType(sf.Type); err != nil {
			return nil, bad("%v", err)
		}
		if f.name == "" {
			return nil, bad("empty setting name")
		}
		if f.required && f.hasDef {
			return nil, bad("a required setting cannot have a default")
		}
		if other, dup := seen[f.name]; dup {
			return nil, bad("setting %q is also named by %s", f.name, other)
		}
		seen[f.name] = sf.Name
		if f.hasDef && !f.prefix {
			if err := parseInto(reflect.New(sf.Type).Elem(), strings.TrimSpace(f.def)); err != nil {
				return nil, bad("default %q: %v", f.def, err)
			}
		}
		out = append(out, f)
	}
	// A prefix must not swallow a plain setting.
	for _, p := range out {
		for _, o := range out {
			if p.prefix && !o.prefix && strings.HasPrefix(o.name, p.name) {
				return nil, sdkerr.Internal("DecodeSettings: %s: setting %q falls under prefix %q*", t.Name(), o.name, p.name)
			}
		}
	}
	return out, nil
}

// decoder collects every problem so the error lists them all.
type decoder struct {
	in       map[string]string
	used     map[string]bool
	problems []string
	first    string
}

func (d *decoder) problem(name, msg string) {
	if d.first == "" {
		d.first = name
	}
	d.problems = append(d.problems, msg)
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	msg := d.problems[0]
	if len(d.problems) > 1 {
		msg = fmt.Sprintf("%d settings problems: %s", len(d.problems), strings.Join(d.problems, "; "))
	}
	return sdkerr.Invalid("%s", msg).WithField(d.first).WithCode(CodeInvalidSetting)
}

func (d *decoder) field(v reflect.Value, f settingField) error {
	if f.prefix {
		return d.prefixed(v, f)
	}
	v.SetZero()
	raw, present := d.in[f.name]
	d.used[f.name] = present
	raw = strings.TrimSpace(raw)
	if raw == "" {
		switch {
		case f.required:
			d.problem(f.name, fmt.Sprintf("setting %s is required", f.name))
			return nil
		case !f.hasDef:
			return nil
		}
		// Checked when the fields were read.
		return parseInto(v, strings.TrimSpace(f.def))
	}
	if err := parseInto(v, raw); err != nil {
		d.problem(f.name, badValue(f, raw, err))
	}
	return nil
}

func (d *decoder) prefixed(v reflect.Value, f settingField) error {
	m := reflect.MakeMap(v.Type())
	for k, raw := range d.in {
		rest, ok := strings.CutPrefix(k, f.name)
		if !ok || rest == "" {
			continue
		}
		d.used[k] = true
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := parseInto(ev, raw); err != nil {
			d.problem(k, badValue(settingField{name: k, secret: f.secret}, raw, err))
			continue
		}
		m.SetMapIndex(reflect.ValueOf(rest).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
	return nil
}

func badValue(f settingField, raw string, err error) string {
	if f.secret {
		// A parser's own message may quote the value.
		var ue *unmarshalError
		if errors.As(err, &ue) {
			ue.cause = nil
		}
		return fmt.Sprintf("setting %s: %v", f.name, err)
	}
	return fmt.Sprintf("setting %s: %v, got %q", f.name, err, raw)
}

// itemError is a bad list item; it formats lazily so badValue can still
// drop an unmarshalError's cause.
type itemError struct {
	n   int
	err error
}

func (e *itemError) Error() string { return fmt.Sprintf("item %d %v", e.n, e.err) }
func (e *itemError) Unwrap() error { return e.err }

// unmarshalError is a TextUnmarshaler's failure; its cause is dropped for
// secret settings because parsers tend to quote their input.
type unmarshalError struct {
	typ   string
	cause error
}

func (e *unmarshalError) Error() string {
	if e.cause == nil {
		return "must be a valid " + e.typ
	}
	return fmt.Sprintf("must be a valid %s (%v)", e.typ, e.cause)
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	urlType       = reflect.TypeFor[url.URL]()
	unmarshalType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkType reports whether parseInto can fill a value of type t.
func checkType(t reflect.Type) error {
	switch {
	case t == durationType, t == urlType, reflect.PointerTo(t).Implements(unmarshalType):
		return nil
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return nil
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer || t.Elem().Kind() == reflect.Slice {
			return fmt.Errorf("unsupported type %s", t)
		}
		return checkType(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Slice {
			return fmt.Errorf("unsupported type %s (lists do not nest)", t)
		}
		return checkType(t.Elem())
	}
	return fmt.Errorf("unsupported type %s", t)
}

// parseInto sets v from the trimmed, non-empty raw value. Its errors are
// phrased as "must be …" for the operator.
func parseInto(v reflect.Value, raw string) error {
	t := v.Type()
	switch {
	case t == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 30s, 15m or 1h30m")
		}
		v.SetInt(int64(d))
		return nil
	case t == urlType:
		u, err := parseURL(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(*u))
		return nil
	case reflect.PointerTo(t).Implements(unmarshalType):
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw)); err != nil {
			return &unmarshalError{typ: t.Name(), cause: err}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number that fits %d bits", t.Bits())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("must be a non-negative whole number that fits %d bits", t.Bits())
		}
		v.SetUint(n)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := parseInto(p.Elem(), raw); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Slice:
		out := reflect.MakeSlice(t, 0, strings.Count(raw, ",")+1)
		for i, item := range strings.Split(raw, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			ev := reflect.New(t.Elem()).Elem()
			if err := parseInto(ev, item); err != nil {
				return &itemError{n: i + 1, err: err}
			}
			out = reflect.Append(out, ev)
		}
		v.Set(out)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("must be an absolute http or https URL")
	}
	return u, nil
}
