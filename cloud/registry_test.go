package cloud_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// spec is a registration that builds nothing.
func spec(name string) cloud.Spec {
	return cloud.Spec{Name: name, Flags: func(cloud.FlagSet) cloud.Constructor {
		return func(context.Context, cloud.Settings) (cloud.Provider, error) { return nil, errors.New("not built") }
	}}
}

func TestRegistryLooksUpAndListsSorted(t *testing.T) {
	r := cloud.NewRegistry()
	if err := r.Check("aws"); err == nil || err.Error() != `provider "aws" is invalid: expected a registered provider (none is)` {
		t.Errorf("empty registry: %v", err)
	}
	for _, n := range []string{"zeta", "aws", "aliyun"} {
		r.Register(spec(n))
	}
	if got := r.Names(); !slices.Equal(got, []string{"aliyun", "aws", "zeta"}) {
		t.Errorf("Names = %q, want sorted", got)
	}
	if s, ok := r.Lookup("aws"); !ok || s.Name != "aws" {
		t.Errorf("Lookup(aws) = %v, %v", s.Name, ok)
	}
	if _, ok := r.Lookup("gcp"); ok {
		t.Error("Lookup(gcp) found an unregistered provider")
	}
	if err := r.Check("aws"); err != nil {
		t.Errorf("Check(aws) = %v", err)
	}
	if err := r.Check("gcp"); err == nil || err.Error() != `provider "gcp" is invalid: expected aliyun, aws or zeta` {
		t.Errorf("Check(gcp) = %v", err)
	}
	// Specs is a copy: the registry cannot be changed through it.
	r.Specs()[0].Name = "changed"
	if r.Names()[0] != "aliyun" {
		t.Error("Specs handed out the registry's own slice")
	}
}

func TestRegistryRefusesAmbiguousRegistrations(t *testing.T) {
	for name, s := range map[string]cloud.Spec{
		"duplicate": spec("aws"),
		"empty":     spec(""),
		"two words": spec("my cloud"),
		"no flags":  {Name: "gcp"},
	} {
		t.Run(name, func(t *testing.T) {
			r := cloud.NewRegistry()
			r.Register(spec("aws"))
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
				if got := r.Names(); !slices.Equal(got, []string{"aws"}) {
					t.Errorf("registry after a refused registration: %q", got)
				}
			}()
			r.Register(s)
		})
	}
}

func TestInvalidSettingsKeepsTheText(t *testing.T) {
	base := errors.New(`region "x" is invalid: expected an AWS region such as us-east-1`)
	err := cloud.InvalidSettings(base)
	if !errors.Is(err, cloud.ErrInvalidSettings) || !errors.Is(err, base) || err.Error() != base.Error() {
		t.Errorf("InvalidSettings = %q (Is bad input %v, Is cause %v)", err, errors.Is(err, cloud.ErrInvalidSettings), errors.Is(err, base))
	}
	if errors.Is(base, cloud.ErrInvalidSettings) {
		t.Error("a plain error counts as invalid settings")
	}
}
