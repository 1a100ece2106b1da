package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvPrefix starts every environment variable Load reads.
const EnvPrefix = "SWITCHYARD_"

// LoadOptions says where Load reads from. The zero value reads only the
// defaults and the process environment.
type LoadOptions struct {
	// Path is the YAML file; empty means no file.
	Path string
	// Environ lists the environment as KEY=value pairs, for SWITCHYARD_
	// overrides and env:NAME secret references alike. Nil means os.Environ;
	// tests inject their own so they never touch the process environment.
	Environ func() []string
	// Flags, when set, overrides keys with the flags the user actually set.
	// A flag applies to a key when its name is the key path (store.dsn) or
	// the key path with "." and "_" written as "-" (store-dsn,
	// public-base-url); other flags (--config, --json, …) are ignored.
	Flags *pflag.FlagSet
}

// Load builds the configuration: defaults, then the YAML file, then
// SWITCHYARD_ environment variables, then flags. Secret references are
// resolved and the result is validated.
//
// A file that cannot be read or parsed is returned as a plain error naming
// the file. Every other problem — unknown keys, ill-typed values, unresolved
// secrets and failed checks — is collected into one *ValidationError.
func Load(opts LoadOptions) (*Config, error) {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ
	}
	k := koanf.New(".")

	if opts.Path != "" {
		if err := k.Load(file.Provider(opts.Path), yaml.Parser()); err != nil {
			if errors.As(err, new(*fs.PathError)) {
				return nil, fmt.Errorf("read config file: %w", err)
			}
			// yaml errors carry the line ("yaml: line 7: …").
			return nil, fmt.Errorf("parse config file %s: %w", opts.Path, err)
		}
	}

	aliases := keyAliases()
	origins := make(map[string]string) // key path → environment variable or flag
	envProvider := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: environ,
		TransformFunc: func(name, value string) (string, any) {
			key := envKey(name, aliases)
			if key != "" {
				origins[key] = name
			}
			return key, value
		},
	})
	if err := k.Load(envProvider, nil); err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}

	if opts.Flags != nil {
		if err := k.Load(confmap.Provider(flagValues(opts.Flags, aliases, origins), "."), nil); err != nil {
			return nil, fmt.Errorf("read flags: %w", err)
		}
	}

	cfg, err := decode(k.Raw(), origins, lookupIn(environ()))
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decode checks and decodes merged raw data on top of the defaults, then
// resolves secret references. Problems are kept on the Config for Validate.
func decode(raw map[string]any, origins map[string]string, lookup func(string) (string, bool)) (*Config, error) {
	c := &conformer{lookup: lookup}
	clean, _ := c.conform("", raw, reflect.TypeFor[Config]())

	cfg := Defaults()
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook: mapstructure.TextUnmarshallerHookFunc(),
		TagName:    "koanf",
		Result:     &cfg,
	})
	if err != nil {
		return nil, fmt.Errorf("build config decoder: %w", err)
	}
	if err := dec.Decode(clean); err != nil {
		// conform already rejected everything mapstructure could trip on.
		return nil, fmt.Errorf("decode config: %w", err)
	}

	c.problems = append(c.problems, resolveSecrets(&cfg, lookup)...)
	cfg.loadProblems = c.problems
	cfg.origins = origins
	return &cfg, nil
}

// keyAliases maps the spellings an environment variable or flag may use for
// a fixed key to the key path: "public_addr" and "public-addr" (and the path
// itself) → "public.addr".
func keyAliases() map[string]string {
	out := make(map[string]string)
	for _, key := range leafKeys() {
		out[key] = key
		out[strings.ReplaceAll(key, ".", "_")] = key
		out[strings.NewReplacer(".", "-", "_", "-").Replace(key)] = key
	}
	return out
}

// envKey turns an environment variable name into a key path, or "" when the
// variable is not configuration. SWITCHYARD_A__B_C is always a.b_c (and an
// unknown key is reported); SWITCHYARD_A_B_C counts only when it spells an
// existing key, so unrelated variables such as SWITCHYARD_TEST_POSTGRES_DSN
// are left alone.
func envKey(name string, aliases map[string]string) string {
	rest := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	if rest == "" {
		return ""
	}
	if strings.Contains(rest, "__") {
		return strings.ReplaceAll(rest, "__", ".")
	}
	return aliases[rest]
}

// flagValues collects the flags the user set that name a key.
func flagValues(fs *pflag.FlagSet, aliases, origins map[string]string) map[string]any {
	out := make(map[string]any)
	fs.Visit(func(f *pflag.Flag) {
		key, ok := aliases[f.Name]
		if !ok {
			return
		}
		origins[key] = "--" + f.Name
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			items := make([]any, 0, len(sv.GetSlice()))
			for _, s := range sv.GetSlice() {
				items = append(items, s)
			}
			out[key] = items
			return
		}
		out[key] = f.Value.String()
	})
	return out
}

func lookupIn(environ []string) func(string) (string, bool) {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// resolveSecrets walks every Secret in cfg (struct fields, list elements and
// map values) and resolves references in place. The settings of a disabled
// plugin instance are left unresolved: an instance switched off (often by an
// unset env:NAME) must not need its credentials to be present.
func resolveSecrets(cfg *Config, lookup func(string) (string, bool)) []Problem {
	var problems []Problem
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.Type() == secretType {
			s := v.Addr().Interface().(*Secret)
			if err := s.resolve(lookup); err != nil {
				problems = append(problems, Problem{Path: path, Message: err.Error()})
			}
			return
		}
		if v.Type() == adminTokenType {
			// Reported as admin.tokens[i], however the entry was written.
			walk(path, v.FieldByName("Token"))
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Struct:
			off := v.Type() == pluginInstanceType && !v.Addr().Interface().(*PluginInstance).IsEnabled()
			for name, f := range structFields(v.Type()) {
				if off && name == "settings" {
					continue
				}
				walk(joinKey(path, name), v.FieldByIndex(f.index))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			iter := v.MapRange()
			for iter.Next() {
				// Map values are not addressable: resolve a copy, store it back.
				elem := reflect.New(v.Type().Elem()).Elem()
				elem.Set(iter.Value())
				walk(mapKeyPath(path, iter.Key().String()), elem)
				v.SetMapIndex(iter.Key(), elem)
			}
		}
	}
	walk("", reflect.ValueOf(cfg).Elem())
	return problems
}
