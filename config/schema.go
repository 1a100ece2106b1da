package config

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The schema of the file is the Config type itself: known keys are derived
// from koanf struct tags, so adding a field never needs a second list kept in
// sync by hand.

var (
	secretType     = reflect.TypeFor[Secret]()
	adminTokenType = reflect.TypeFor[AdminToken]()
	durationType   = reflect.TypeFor[time.Duration]()

	pluginInstanceType = reflect.TypeFor[PluginInstance]()
)

type field struct {
	index []int
	typ   reflect.Type
	// envSwitch marks a bool field that may also be written env:NAME
	// (tag `switch:"env"`): the variable's value decides, so an instance
	// can be turned on by the environment alone.
	envSwitch bool
}

// structFields maps koanf key names to fields, flattening squash-embedded
// structs the way mapstructure does.
func structFields(t reflect.Type) map[string]field {
	out := make(map[string]field)
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("koanf")
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), prefix...), i)
			if f.Anonymous && strings.Contains(opts, "squash") && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[name] = field{index: idx, typ: f.Type, envSwitch: f.Tag.Get("switch") == "env"}
		}
	}
	walk(t, nil)
	return out
}

// leafKeys lists the key paths reachable through structs only (no map or list
// in between) whose value is a scalar or a list of scalars: the keys that can
// be addressed by a single environment variable or flag.
func leafKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for name, f := range structFields(t) {
			path := joinKey(prefix, name)
			ft := f.typ
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft == secretType || ft == durationType:
				keys = append(keys, path)
			case ft.Kind() == reflect.Struct:
				walk(ft, path)
			case ft.Kind() == reflect.Map:
			case ft.Kind() == reflect.Slice:
				if et := ft.Elem(); et == secretType || et == adminTokenType || et.Kind() != reflect.Struct && et.Kind() != reflect.Map {
					keys = append(keys, path)
				}
			default:
				keys = append(keys, path)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	sort.Strings(keys)
	return keys
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// mapKeyPath renders a user-chosen map key; keys such as "/api/webhook.php"
// would be ambiguous after a dot, so they are quoted.
func mapKeyPath(prefix, key string) string {
	if plainKey.MatchString(key) {
		return joinKey(prefix, key)
	}
	return prefix + "[" + strconv.Quote(key) + "]"
}

// conformer checks raw koanf data against the Config type. It reports every
// unknown key and every ill-typed value with its path, and returns a copy
// holding only well-typed values in canonical Go types, which mapstructure
// then decodes without any chance of failure.
type conformer struct {
	problems []Problem
	// lookup reads the environment for env:NAME switches.
	lookup func(string) (string, bool)
}

func (c *conformer) addf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// conform returns the cleaned value and whether it is usable.
func (c *conformer) conform(path string, raw any, t reflect.Type) (any, bool) {
	if raw == nil {
		// "key:" with nothing after it in YAML: keep the default.
		return nil, false
	}
	if t == secretType {
		return c.str(path, raw)
	}
	if t == adminTokenType {
		// A plain token, as admin.tokens held before names and roles.
		if _, isMap := raw.(map[string]any); !isMap {
			tok, ok := c.str(path, raw)
			if !ok {
				return nil, false
			}
			return map[string]any{"token": tok}, true
		}
	}
	if t == durationType {
		if s, ok := raw.(string); ok {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err == nil {
				return d, true
			}
		}
		c.addf(path, "must be a duration such as 500ms, 10s or 1h30m, got %s", describe(raw))
		return nil, false
	}
	switch t.Kind() {
	case reflect.Pointer:
		return c.conform(path, raw, t.Elem())
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			c.addf(path, "must be a mapping, got %s", describe(raw))
			return nil, false
		}
		fields := structFields(t)
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			p := joinKey(path, k)
			f, known := fields[k]
			if !known {
				c.addf(p, "unknown key")
				continue
			}
			if f.envSwitch {
				if v, ok := c.envSwitch(p, m[k]); ok {
					out[k] = v
				}
				continue
			}
			if v, ok := c.conform(p, m[k], f.typ); ok {
				out[k] = v
			}
		}
		return out, true
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			c.addf(path, "must be a mapping, got %s", describe(raw))
			return nil, false
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			if v, ok := c.conform(mapKeyPath(path, k), m[k], t.Elem()); ok {
				out[k] = v
			}
		}
		return out, true
	case reflect.Slice:
		var items []any
		switch v := raw.(type) {
		case []any:
			items = v
		case string:
			// A list given through an environment variable or flag.
			if et := t.Elem(); et.Kind() == reflect.Struct && et != secretType && et != adminTokenType || et.Kind() == reflect.Map {
				c.addf(path, "must be a list, got %s", describe(raw))
				return nil, false
			}
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					items = append(items, s)
				}
			}
		default:
			c.addf(path, "must be a list, got %s", describe(raw))
			return nil, false
		}
		out := make([]any, 0, len(items))
		good := true
		for i, item := range items {
			v, ok := c.conform(fmt.Sprintf("%s[%d]", path, i), item, t.Elem())
			if !ok {
				// Keep indices aligned with the file: a partial list would
				// make later problems point at the wrong element.
				good = false
				continue
			}
			out = append(out, v)
		}
		return out, good
	case reflect.String:
		return c.str(path, raw)
	case reflect.Bool:
		if b, ok := toBool(raw); ok {
			return b, true
		}
		c.addf(path, "must be true or false, got %s", describe(raw))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := toInt(raw); ok && !reflect.Zero(t).OverflowInt(n) {
			return n, true
		}
		c.addf(path, "must be an integer, got %s", describe(raw))
	case reflect.Float32, reflect.Float64:
		switch v := raw.(type) {
		case float64:
			return v, true
		case int:
			return float64(v), true
		case int64:
			return float64(v), true
		case uint64:
			return float64(v), true
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, true
			}
		}
		c.addf(path, "must be a number, got %s", describe(raw))
	default:
		c.addf(path, "unsupported value %s", describe(raw))
	}
	return nil, false
}

// envSwitch conforms a bool that may be given as env:NAME. The variable is
// read as a boolean (true/false, 1/0, yes/no, any case); unset or empty means
// false, so a switch nobody set stays off. An unreadable value (in the file
// or the variable) is reported without echoing it and counts as false, so
// nothing guarded by the switch (an instance's secret settings) adds
// follow-on problems.
func (c *conformer) envSwitch(path string, raw any) (any, bool) {
	if raw == nil {
		// "enabled:" with nothing after it: keep the default, as conform does.
		return nil, false
	}
	s, ok := raw.(string)
	if !ok || !strings.HasPrefix(s, envRefPrefix) {
		if b, ok := toBool(raw); ok {
			return b, true
		}
		c.addf(path, "must be true, false or env:NAME, got %s", describe(raw))
		return false, true
	}
	name := strings.TrimPrefix(s, envRefPrefix)
	if name == "" {
		c.addf(path, "%s: empty environment variable name", s)
		return false, true
	}
	var value string
	if c.lookup != nil {
		value, _ = c.lookup(name)
	}
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "false", "0", "no":
		return false, true
	case "true", "1", "yes":
		return true, true
	}
	c.addf(path, "%s: environment variable %s must be true, false, 1, 0, yes or no (or unset for false)", s, name)
	return false, true
}

// str accepts YAML scalars for string keys: `port: 587` in plugin settings
// means "587".
func (c *conformer) str(path string, raw any) (any, bool) {
	switch v := raw.(type) {
	case string:
		return v, true
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v), true
	}
	c.addf(path, "must be a string, got %s", describe(raw))
	return nil, false
}

// toBool accepts a YAML boolean or a string strconv.ParseBool reads (as an
// environment variable or flag gives it).
func toBool(raw any) (bool, bool) {
	switch v := raw.(type) {
	case bool:
		return v, true
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b, true
		}
	}
	return false, false
}

func toInt(raw any) (int64, bool) {
	switch v := raw.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt64 && v <= math.MaxInt64 {
			return int64(v), true
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// describe names the kind of a raw value for a problem message. String
// contents are never echoed: a secret pasted under the wrong key must not end
// up in a terminal or a log.
func describe(raw any) string {
	switch v := raw.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		if v == "" {
			return "an empty string"
		}
		return "a string"
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v)
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
