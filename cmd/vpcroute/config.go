package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/vpcroute/vpcroute/reconciler/registry"
)

// DefaultConfigPath is read when --config is not given; a missing file there
// is not an error.
const DefaultConfigPath = "/etc/vpcroute/config.yaml"

// envPrefix starts the environment variable of every flag:
// --cluster-cidr is VPCROUTE_CLUSTER_CIDR.
const envPrefix = "VPCROUTE_"

// envName returns the environment variable for a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindSources fills every flag not given on the command line from, in this
// order, its VPCROUTE_* environment variable and the YAML config file. The
// config file's keys are the flag names. Unknown keys are errors: a typo in
// a config file must not be silently ignored.
func bindSources(flags *pflag.FlagSet, known map[string]bool, configPath string, configExplicit bool, lookupEnv func(string) (string, bool)) error {
	file, err := readConfig(configPath, configExplicit)
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(file) {
		if !known[key] || key == "config" {
			return fmt.Errorf("config %s: key %q is unknown; expected a flag name such as cluster-cidr", configPath, key)
		}
		if commandLineOnly[key] {
			return fmt.Errorf("config %s: key %q is refused: --%s changes what a command does, so it is taken from the command line only", configPath, key, key)
		}
	}
	var firstErr error
	flags.VisitAll(func(f *pflag.Flag) {
		if firstErr != nil || f.Changed || f.Name == "config" {
			return
		}
		if commandLineOnly[f.Name] {
			if _, ok := lookupEnv(envName(f.Name)); ok {
				firstErr = fmt.Errorf("%s is set: --%s changes what a command does, so it is taken from the command line only; unset it", envName(f.Name), f.Name)
			}
			return
		}
		if v, ok := lookupEnv(envName(f.Name)); ok {
			firstErr = setFlag(f, splitList(f, v), envName(f.Name))
			return
		}
		if v, ok := file[f.Name]; ok {
			vals, err := yamlValues(v)
			if err != nil {
				firstErr = fmt.Errorf("config %s: key %q: %w", configPath, f.Name, err)
				return
			}
			firstErr = setFlag(f, vals, "config "+configPath+" key "+f.Name)
		}
	})
	return firstErr
}

// commandLineOnly are the flags that change what a command does rather
// than how it is configured. Set in the shared config file or the
// environment they would change every run of that command: `remove: true`
// would turn every cloud-init `vpcroute sync` into a decommissioning, and
// `force: true` would let every `vpcroute allocate` replace a bip that
// overlaps. Both are refused there, never silently ignored.
var commandLineOnly = map[string]bool{"remove": true, "force": true}

// maxConfigSize bounds the config file: a few dozen keys, never megabytes
// (nor /dev/zero).
const maxConfigSize = 1 << 20

func readConfig(path string, explicit bool) (map[string]any, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, unwrapPath(err))
	}
	defer func() { _ = f.Close() }() // read-only
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, unwrapPath(err))
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("config %s is larger than 1 MiB (%d bytes): expected a small YAML file whose keys are flag names", path, maxConfigSize)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("config %s: not valid YAML: %s", path, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return m, nil
}

// isList reports whether a flag takes several values.
func isList(f *pflag.Flag) bool {
	return strings.HasSuffix(f.Value.Type(), "Slice") || strings.HasSuffix(f.Value.Type(), "Array")
}

// splitList splits a comma-separated environment value for list flags.
func splitList(f *pflag.Flag, v string) []string {
	if !isList(f) {
		return []string{v}
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// yamlValues turns a scalar or a list from YAML into flag values.
func yamlValues(v any) ([]string, error) {
	switch t := v.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if _, nested := e.([]any); nested {
				return nil, errors.New("nested lists are not allowed")
			}
			out = append(out, fmt.Sprint(e))
		}
		return out, nil
	case map[string]any:
		return nil, errors.New("expected a value or a list, got a mapping")
	case nil:
		return nil, nil
	default:
		return []string{fmt.Sprint(t)}, nil
	}
}

func setFlag(f *pflag.Flag, vals []string, source string) error {
	if len(vals) > 1 && !isList(f) {
		return fmt.Errorf("%s: %s takes one value, got %d", source, f.Name, len(vals))
	}
	for _, v := range vals {
		if err := f.Value.Set(v); err != nil {
			return fmt.Errorf("%s: %s %q is invalid: %v", source, f.Name, shownValue(f.Name, v), err)
		}
	}
	f.Changed = len(vals) > 0
	return nil
}

// shownValue is a flag's value as an error may show it: never a password.
func shownValue(flag, v string) string {
	switch flag {
	case "etcd-password":
		return "***"
	case "etcd-endpoints":
		return registry.MaskEndpoint(v)
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
