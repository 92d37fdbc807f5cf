package cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FlagSet is the part of a command-line flag set a provider declares its
// own settings on (*pflag.FlagSet has these methods). A provider's flags
// join the commands' shared cloud flags, so their names must be unique
// across providers; the usage of each starts with the provider's name
// ("aws: ...").
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	IntVar(p *int, name string, value int, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
}

// Constructor builds a provider from the settings. A setting it refuses
// is returned, before any I/O, as an error wrapping ErrInvalidSettings.
type Constructor func(ctx context.Context, s Settings) (Provider, error)

// ErrInvalidSettings marks a constructor's refusal of its settings: bad
// input, nothing was asked of the cloud.
var ErrInvalidSettings = errors.New("invalid provider settings")

// InvalidSettings wraps err, a one-line error naming the setting, so that
// errors.Is(err, ErrInvalidSettings) holds and the text stays err's.
func InvalidSettings(err error) error { return invalidSettings{err} }

type invalidSettings struct{ err error }

func (e invalidSettings) Error() string   { return e.err.Error() }
func (e invalidSettings) Unwrap() []error { return []error{e.err, ErrInvalidSettings} }

// RouteLimit is a provider's per-table route limit, which doctor's
// routes.quota check compares the tables with.
type RouteLimit struct {
	// Default is the limit when --route-quota is not given; 0: unknown.
	Default int
	// What names the limit as the provider's documents do.
	What string
	// Fix says how to raise it.
	Fix string
	// CountSystem is true when the cloud's own entries count against it.
	CountSystem bool
}

// Spec is a provider's record in a Registry: its name, how it is built,
// and what doctor needs to know about it even when it cannot be built.
// What a provider can do beyond Provider is told by the optional
// interfaces it implements (Replacer, HostPreparer, SourceDestChecker).
type Spec struct {
	// Name is the value of --provider.
	Name string
	// Flags declares the provider's own settings on fs, bound to storage
	// it keeps, and returns the constructor that reads them. It is called
	// once per flag set.
	Flags func(fs FlagSet) Constructor
	// Limit is the per-table route limit.
	Limit RouteLimit
	// AccessFix says what to check when the provider cannot identify this
	// host or read the VPC (credentials, permissions).
	AccessFix string
}

// Registry holds the providers a program knows, by name. A program builds
// one and registers each provider with one line (aliyun.Register(r));
// nothing registers itself at import.
type Registry struct {
	specs []Spec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds a provider. A second provider of the same name, an empty
// name or a missing Flags is a programming error: Register panics, as
// http.Handle does, so that no program starts with an ambiguous registry.
func (r *Registry) Register(s Spec) {
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, " ,\t\n"):
		panic(fmt.Sprintf("cloud: provider name %q is invalid: expected one word", s.Name))
	case s.Flags == nil:
		panic(fmt.Sprintf("cloud: provider %q has no Flags: it cannot be built", s.Name))
	}
	if _, dup := r.Lookup(s.Name); dup {
		panic(fmt.Sprintf("cloud: provider %q is registered twice", s.Name))
	}
	i, _ := slices.BinarySearchFunc(r.specs, s.Name, func(e Spec, n string) int { return strings.Compare(e.Name, n) })
	r.specs = slices.Insert(r.specs, i, s)
}

// Lookup returns the provider registered as name.
func (r *Registry) Lookup(name string) (Spec, bool) {
	for _, s := range r.specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Names lists the registered providers, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s.Name)
	}
	return out
}

// Specs returns every record, sorted by name.
func (r *Registry) Specs() []Spec { return slices.Clone(r.specs) }

// Check returns a one-line error when name is no registered provider.
func (r *Registry) Check(name string) error {
	if _, ok := r.Lookup(name); ok {
		return nil
	}
	return fmt.Errorf("provider %q is invalid: expected %s", name, r.Choices())
}

// Choices names the registered providers for a message: "a, b or c".
func (r *Registry) Choices() string {
	words := r.Names()
	switch len(words) {
	case 0:
		return "a registered provider (none is)"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
