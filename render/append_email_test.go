package render

import (
	"slices"
	"testing"

	"github.com/rekindle/rekindle/programs"
)

// One buffer renders every shipped email for every person in turn, as a
// dispatcher worker does: each comes out as html/template writes it, and
// nothing rendered before it shows through.
func TestAppendEmailInOneBufferMatchesTheTemplates(t *testing.T) {
	r, progs := shipped(t)
	var buf []byte
	for _, p := range progs {
		comp, err := r.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := comp.Fast(checkinURL)
		for _, tr := range p.Tracks {
			for _, s := range tr.Steps {
				if !slices.Contains(s.Channels, "email") {
					continue
				}
				v := programs.Vars{ProgramTitle: p.Title, Day: 9, Week: 2, Phase: p.PhaseTitle(s.Phase)}
				for _, who := range people {
					want := templateEmail(t, f, s, v, who)
					var got Email
					var err error
					got, buf, err = f.AppendEmail(buf[:0], s, v, who)
					if err != nil {
						t.Fatalf("%s: %v", s.Key, err)
					}
					if got != want {
						t.Fatalf("%s for %q: the email rendered into the shared buffer differs from the template's\n%s", s.Key, who.FirstName,
							firstDiff(got.Subject+got.Preheader+got.Text+got.HTML, want.Subject+want.Preheader+want.Text+want.HTML))
					}
				}
			}
		}
	}
}

// Rendering into a buffer that has room allocates nothing: the point of
// AppendEmail is that a sent email leaves no garbage behind.
func TestAppendEmailIntoARoomyBufferAllocatesNothing(t *testing.T) {
	r, progs := shipped(t)
	p := progs["rekindle"]
	comp, err := r.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	f := comp.Fast(checkinURL)
	s := p.Tracks[0].Steps[3]
	v := programs.Vars{ProgramTitle: p.Title, Day: 4, Week: 1, Phase: p.PhaseTitle(s.Phase)}
	m, buf, err := f.AppendEmail(nil, s, v, people[0]) // builds the skeleton and sizes the buffer
	if err != nil || m.HTML == "" {
		t.Fatalf("first render: %v (HTML %d bytes)", err, len(m.HTML))
	}
	allocs := testing.AllocsPerRun(100, func() {
		m, buf, err = f.AppendEmail(buf[:0], s, v, people[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("AppendEmail into a buffer with room made %.0f allocations per email, want 0", allocs)
	}
	if len(buf) != len(m.Subject)+len(m.Preheader)+len(m.Text)+len(m.HTML) {
		t.Errorf("the buffer holds %d bytes, the email %d", len(buf), len(m.Subject)+len(m.Preheader)+len(m.Text)+len(m.HTML))
	}
}

// A step the skeletons cannot render (its template does more with a value
// than print it) is rendered in full, and the buffer comes back as it went.
func TestAppendEmailSlowPathLeavesTheBufferAlone(t *testing.T) {
	r, progs := shipped(t)
	f, s, v := firstStepTweaked(t, r, progs["rekindle"], func(c *programs.Content) {
		c.Subject = `{{if eq .FirstName "Sam"}}Hi Sam{{else}}Hello{{end}}`
	})
	buf := append(make([]byte, 0, 64), "kept"...)
	m, out, err := f.AppendEmail(buf, s, v, people[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "kept" {
		t.Errorf("the slow path changed the buffer to %q", out)
	}
	if m.Subject != "Hi Sam" {
		t.Errorf("the slow path's subject is %q, want %q", m.Subject, "Hi Sam")
	}
}
