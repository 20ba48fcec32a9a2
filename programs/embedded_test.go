package programs

import "testing"

func TestShippedProgramsValidate(t *testing.T) {
	progs, err := LoadAll(Embedded(), ".")
	if err != nil {
		t.Fatalf("the shipped programs do not validate:\n%v", err)
	}
	p := progs["rekindle"]
	if p == nil {
		t.Fatal("the rekindle program is missing")
	}
	if len(p.Phases) != 3 {
		t.Fatalf("rekindle has %d phases, want healing, self-improvement, reconnecting", len(p.Phases))
	}
}
