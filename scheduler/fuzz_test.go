package scheduler

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/fuzzpad"
	"github.com/rekindle/rekindle/programs"
)

// replyWord is one way a person may write an answer or a command.
type replyWord struct {
	checkin *programs.Checkin // nil for a program command
	prog    *programs.Program
	word    string // as the program lists it
	value   string // the answer value (checkins)
}

// fuzzPrograms loads the basic test program and the shipped one, and lists
// every word their check-ins and commands accept.
func fuzzPrograms(f *testing.F) ([]*programs.Program, []replyWord) {
	f.Helper()
	basic, err := programs.Load(os.DirFS("../programs/testdata"), "basic")
	if err != nil {
		f.Fatal(err)
	}
	shipped, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		f.Fatal(err)
	}
	progs := []*programs.Program{basic, shipped}
	var words []replyWord
	for _, p := range progs {
		for _, t := range p.Tracks {
			for _, s := range t.Steps {
				if s.Checkin == nil {
					continue
				}
				for _, a := range s.Checkin.Answers {
					for _, w := range a.MatchWords() {
						words = append(words, replyWord{checkin: s.Checkin, prog: p, word: w, value: a.Value})
					}
				}
			}
		}
		for _, c := range p.Commands {
			for _, m := range c.Match {
				words = append(words, replyWord{prog: p, word: m})
			}
		}
	}
	return progs, words
}

// flipCase upper-cases the ASCII letters of s picked by the bits of mask.
func flipCase(s string, mask uint64) string {
	b := []byte(s)
	for i := range b {
		if mask&(1<<(i%64)) != 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzReplyParsing feeds SMS reply text to MatchAnswer and FindCommand. They
// must not panic, answer only with values the check-in lists, ignore
// surrounding whitespace, and always recognise a listed word whatever its
// case, the whitespace around and inside it, and a trailing "." or "!".
func FuzzReplyParsing(f *testing.F) {
	progs, words := fuzzPrograms(f)
	for _, s := range []string{"1", " Ready! ", "not\tyet", "MOVED  ON", "moved on.", "five", "y", "", "\u00a0yes\u2003", "ſtop", "İ", "\xff"} {
		f.Add(s, uint16(0), uint64(0), " ")
	}
	// Every listed word, plain and shouted with a "!".
	for i := range words {
		f.Add("x", uint16(i), uint64(0), " ")
		f.Add("x", uint16(i), uint64(1<<63|0x5555), "\t\u00a0\n")
	}

	f.Fuzz(func(t *testing.T, text string, pick uint16, mask uint64, pad string) {
		ws := fuzzpad.Spaces(pad)
		for _, p := range progs {
			for _, tr := range p.Tracks {
				for _, s := range tr.Steps {
					if s.Checkin == nil {
						continue
					}
					v := MatchAnswer(s.Checkin, text)
					if v != "" && !slices.ContainsFunc(s.Checkin.Answers, func(a programs.Answer) bool { return a.Value == v }) {
						t.Fatalf("%s/%s: %q matched %q, which is not an answer", p.Slug, s.Key, text, v)
					}
					if w := MatchAnswer(s.Checkin, ws+text+ws); w != v {
						t.Fatalf("%s/%s: %q means %q but padded with %q means %q", p.Slug, s.Key, text, v, ws, w)
					}
				}
			}
			c, ok := FindCommand(p, text)
			if ok && len(c.Match) == 0 {
				t.Fatalf("%q found a command that matches nothing", text)
			}
			if c2, ok2 := FindCommand(p, ws+text+ws); ok2 != ok || !slices.Equal(c2.Match, c.Match) {
				t.Fatalf("%s: %q found %v, padded %v", p.Slug, text, ok, ok2)
			}
		}

		// The listed word, written the way people write on a phone.
		rw := words[int(pick)%len(words)]
		variant := strings.Join(strings.Fields(flipCase(rw.word, mask)), ws)
		if mask&(1<<63) != 0 {
			variant += "!"
		}
		variant = ws + variant + ws
		if rw.checkin == nil {
			if _, ok := FindCommand(rw.prog, variant); !ok {
				t.Fatalf("%s: command %q not recognised as %q", rw.prog.Slug, rw.word, variant)
			}
			return
		}
		if got := MatchAnswer(rw.checkin, variant); got != rw.value {
			t.Fatalf("%s/%s: %q (for %q) matched %q, want %q", rw.prog.Slug, rw.checkin.Prompt, variant, rw.word, got, rw.value)
		}
	})
}

// FuzzLoadZone: any name either loads as the zone it names or is refused;
// "Local" (the server's zone) and paths outside the zone database never load.
func FuzzLoadZone(f *testing.F) {
	for _, s := range []string{"Europe/Berlin", "America/New_York", "UTC", "Local", "", "../../etc/passwd", "/etc/localtime",
		"Mars/Olympus", "Etc/GMT+5", "europe/berlin", " Europe/Berlin", "Europe/Berlin\x00", "zone1970.tab", "posixrules", "right/UTC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		loc, err := LoadZone(name)
		if err != nil {
			if loc != nil {
				t.Fatal("a zone and an error")
			}
			if !strings.Contains(err.Error(), "time zone") {
				t.Fatalf("the error does not say what was wrong: %v", err)
			}
			return
		}
		if name == "" || name == "Local" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
			t.Fatalf("accepted %q", name)
		}
		if loc.String() != name {
			t.Fatalf("%q loaded as %q", name, loc.String())
		}
	})
}
