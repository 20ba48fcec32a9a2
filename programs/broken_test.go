package programs

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// basicFS copies testdata/basic into a MapFS with program.yaml edited by fix.
func basicFS(t *testing.T, fix func(string) string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"program.yaml", "content/welcome.md", "content/lesson.md", "content/ready.md", "content/mood.md", "content/support.md"} {
		b, err := os.ReadFile("testdata/basic/" + name)
		if err != nil {
			t.Fatal(err)
		}
		m["p/"+name] = &fstest.MapFile{Data: b}
	}
	y := string(m["p/program.yaml"].Data)
	fixed := fix(y)
	if fixed == y {
		t.Fatal("the fix changed nothing: the test would prove nothing")
	}
	m["p/program.yaml"] = &fstest.MapFile{Data: []byte(fixed)}
	return m
}

func TestBrokenPrograms(t *testing.T) {
	cases := []struct {
		name string
		fix  func(string) string
		want string // the exact file:line: field: reason prefix
	}{
		{"unknown field", func(s string) string {
			return strings.Replace(s, "        kind: lesson\n        day: 2\n", "        kind: lesson\n        colour: blue\n        day: 2\n", 1)
		}, "p/program.yaml:31: colour: "},
		{"missing content", func(s string) string {
			return strings.Replace(s, "content: content/welcome.md", "content: content/nope.md", 1)
		}, "p/program.yaml:20: steps[welcome].content: content/nope.md: file not found"},
		{"duplicate key", func(s string) string {
			return strings.Replace(s, "key: l3", "key: l2", 1)
		}, "p/program.yaml:35: steps.key: duplicate step key \"l2\""},
		{"bad cron", func(s string) string {
			return strings.Replace(s, `"0 19 * * SUN"`, `"0 25 * * SUN"`, 1)
		}, "p/program.yaml:75: steps[mood].cron: \"0 25 * * SUN\": "},
		{"branch to a missing step", func(s string) string {
			return strings.Replace(s, "send: support", "send: suport", 1)
		}, "p/program.yaml:91: steps[mood].checkin.branches[0].send: no step \"suport\""},
		{"extension limit message to a missing step", func(s string) string {
			return strings.Replace(s, "extend: {days: 7, max: 2}", "extend: {days: 7, max: 2, at_limit: onward}", 1)
		}, "p/program.yaml:62: steps[ready].checkin.branches[0].extend.at_limit: no step \"onward\""},
		{"switch to a missing track", func(s string) string {
			return strings.Replace(s, "              switch: other", "              switch: elsewhere", 1)
		}, "p/program.yaml:64: steps[ready].checkin.branches[1].switch: no track \"elsewhere\""},
		{"bad time zone", func(s string) string {
			return strings.Replace(s, "pacing: 20h", "pacing: 20h\ndefault_timezone: Mars/Olympus", 1)
		}, "p/program.yaml:6: default_timezone: \"Mars/Olympus\" is not an IANA time zone"},
		{"sms_frequency outside GSM-7", func(s string) string {
			return strings.Replace(s, "pacing: 20h", "pacing: 20h\nsms_frequency: \"3\u20135 texts a week\"", 1)
		}, "p/program.yaml:6: sms_frequency: '\u2013' is not in the GSM-7 alphabet of SMS"},
		{"sms_frequency too long", func(s string) string {
			return strings.Replace(s, "pacing: 20h", "pacing: 20h\nsms_frequency: \""+strings.Repeat("about three ", 6)+"\"", 1)
		}, "p/program.yaml:6: sms_frequency: 71 characters; at most 60"},
		{"command label on two lines", func(s string) string {
			return strings.Replace(s, "  - match: [\"moved on\"]\n", "  - match: [\"moved on\"]\n    label: \"They have\\na new partner\"\n", 1)
		}, "p/program.yaml:124: commands[0].label: a button's words"},
		{"bad time of day", func(s string) string {
			return strings.Replace(s, `at: "08:00"`, `at: "8am"`, 1)
		}, "p/program.yaml:18: steps[welcome].at: \"8am\" is not a time of day"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Load(basicFS(t, c.fix), "p")
			if p != nil {
				t.Fatal("a broken program was returned: nothing half-loaded may be used")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			for _, pr := range ve.Problems {
				if strings.HasPrefix(pr.String(), c.want) {
					return
				}
			}
			t.Fatalf("want a problem starting %q, got:\n%v", c.want, err)
		})
	}
}

func TestBrokenContentFile(t *testing.T) {
	m := basicFS(t, func(s string) string { return s + "\n" })
	m["p/content/lesson.md"] = &fstest.MapFile{Data: []byte("---\nsubject: Hi {{.Nickname}}\npreheader: x\nsms: y\n---\nBody\n")}
	_, err := Load(m, "p")
	if err == nil || !strings.Contains(err.Error(), "p/content/lesson.md:2: subject: ") || !strings.Contains(err.Error(), "Nickname") {
		t.Fatalf("want the unknown variable named with its file, got %v", err)
	}
	m["p/content/lesson.md"] = &fstest.MapFile{Data: []byte("---\nsubject: Hi\ncolor: red\n---\nBody\n")}
	_, err = Load(m, "p")
	if err == nil || !strings.Contains(err.Error(), "p/content/lesson.md:3: color: ") {
		t.Fatalf("want the unknown front-matter field located, got %v", err)
	}
}
