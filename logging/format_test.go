package logging

import (
	"bytes"
	"testing"
)

// An empty REKINDLE_LOG_FORMAT is the text format, one key=value line.
func TestEmptyFormatIsText(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "")
	var buf bytes.Buffer
	log, err := New(&buf, "", "")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "step", "w1d1")
	if out := buf.String(); !bytes.HasSuffix(buf.Bytes(), []byte("level=INFO msg=hello step=w1d1\n")) {
		t.Errorf("got %q, want a text line", out)
	}
}

// Under journald only the record's own time goes (journald stamps lines); a
// "time" attribute inside a group is the program's data and stays.
func TestJournaldKeepsATimeAttributeInAGroup(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "8:12345")
	var buf bytes.Buffer
	log, err := New(&buf, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.WithGroup("step").Info("due", "time", "19:00")
	if out, want := buf.String(), "level=INFO msg=due step.time=19:00\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
