package doctor

import "testing"

func TestHealthyAllPass(t *testing.T) {
	checks := Evaluate(healthy())
	for _, c := range checks {
		if c.Result != Pass {
			t.Errorf("%s: %s %q (fix %q)", c.ID, c.Result, c.Cause, c.Fix)
		}
		t.Logf("%s: %s", c.ID, c.Cause)
	}
}
