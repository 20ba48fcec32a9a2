package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// scale holds a run's sizes: the short form keeps CI under a minute and a
// half on two cores, the full form uses the numbers of issue #8.
type scale struct {
	name string
	seed uint64

	crashEmail, crashSMS, crashKills int
	crashEmailRate, crashSMSRate     int

	dbEmail, dbSMS, dbRestarts int
	dbDown                     time.Duration

	provEmail, provSMS int

	instEmail, instSMS int

	optoutPeople, optoutBackground int
}

func scaleFromEnv(t *testing.T) scale {
	t.Helper()
	s := scale{
		name:       "short",
		crashEmail: 240, crashSMS: 60, crashKills: 4, crashEmailRate: 60, crashSMSRate: 15,
		dbEmail: 240, dbSMS: 60, dbRestarts: 1, dbDown: 3 * time.Second,
		provEmail: 150, provSMS: 50,
		instEmail: 800, instSMS: 200,
		optoutPeople: 4, optoutBackground: 100,
	}
	switch os.Getenv("REKINDLE_FAULTS") {
	case "", "short":
	case "full":
		s = scale{
			name:       "full",
			crashEmail: 1600, crashSMS: 400, crashKills: 20, crashEmailRate: 40, crashSMSRate: 10,
			dbEmail: 1200, dbSMS: 300, dbRestarts: 3, dbDown: 5 * time.Second,
			provEmail: 1000, provSMS: 300,
			instEmail: 8000, instSMS: 2000,
			optoutPeople: 20, optoutBackground: 500,
		}
	default:
		t.Fatalf("REKINDLE_FAULTS=%q: want short or full", os.Getenv("REKINDLE_FAULTS"))
	}
	s.seed = uint64(time.Now().UnixNano())
	if v := os.Getenv("REKINDLE_FAULTS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("REKINDLE_FAULTS_SEED=%q: want a whole number", v)
		}
		s.seed = n
	}
	return s
}

// TestFaults builds the binary once and runs every scenario against it,
// then prints the summary table (shown with -v, or when a scenario fails).
func TestFaults(t *testing.T) {
	sc := scaleFromEnv(t)
	bin := buildBinary(t)
	sum := &summary{}
	t.Logf("fault suite: %s form, seed %d (replay with REKINDLE_FAULTS_SEED=%d)", sc.name, sc.seed, sc.seed)
	start := time.Now()

	scenarios := []struct {
		name string
		run  func(t *testing.T, sc scale, bin string, sum *summary)
	}{
		{"crash", testCrash},
		{"database", testDatabase},
		{"providers", testProviders},
		{"instances", testInstances},
		{"optout", testOptOut},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) { s.run(t, sc, bin, sum) })
	}
	fmt.Printf("\nFault suite summary (%s form, seed %d, %s, %d CPUs, %s):\n\n%s\n",
		sc.name, sc.seed, time.Since(start).Round(time.Second), runtime.NumCPU(), time.Now().Format("2006-01-02"), sum.markdown())
}

// buildBinary builds cmd/rekindle into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "rekindle")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/rekindle/rekindle/cmd/rekindle")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build rekindle: %v\n%s", err, out)
	}
	return bin
}
