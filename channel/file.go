package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File is the embedded default channel: each email becomes an RFC 5322 .eml
// file (multipart text + HTML) and each SMS a JSON line in sms.jsonl, under
// one folder. Nothing leaves the machine.
type File struct {
	kind Kind
	dir  string
	comp composer
	log  *slog.Logger
	mu   *sync.Mutex // serialises appends to sms.jsonl
}

// NewFile returns a file channel of kind writing under dir.
func NewFile(kind Kind, dir, from string, log *slog.Logger) (*File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("file channel: %w", err)
	}
	if from == "" {
		from = "Rekindle <rekindle@localhost>"
	}
	comp, err := newComposer("file channel", from, "", log.With("channel", "file"))
	if err != nil {
		return nil, fmt.Errorf("file channel: %w", err)
	}
	return &File{kind: kind, dir: dir, comp: comp, log: log, mu: &sync.Mutex{}}, nil
}

// Kind is the channel's kind.
func (f *File) Kind() Kind { return f.kind }

// Name is "file".
func (f *File) Name() string { return "file" }

// NewSender returns the channel itself: files need no connection.
func (f *File) NewSender() (Sender, error) { return f, nil }

// Close does nothing.
func (f *File) Close() error { return nil }

// Send writes the message.
func (f *File) Send(_ context.Context, m Message) (Result, error) {
	if m.Channel == SMS {
		return f.sendSMS(m)
	}
	return f.sendEmail(m)
}

func (f *File) sendEmail(m Message) (Result, error) {
	// The same message SMTP would send, headers and Message-ID included.
	msg, id, err := f.comp.build(m)
	if err != nil {
		return Result{}, err
	}
	name := filepath.Join(f.dir, fmt.Sprintf("%s-%d.eml", time.Now().UTC().Format("20060102T150405"), m.DeliveryID))
	// Written aside and renamed into place, so that whoever watches the
	// outbox (an operator, a test reading the confirmation link) never
	// reads half a message.
	part := name + ".part"
	if err := msg.WriteToFile(part); err != nil {
		os.Remove(part)
		return Result{}, Retryable("write", fmt.Errorf("file channel: %w", err))
	}
	if err := os.Rename(part, name); err != nil {
		os.Remove(part)
		return Result{}, Retryable("write", fmt.Errorf("file channel: %w", err))
	}
	f.log.Info("email written", "delivery", m.DeliveryID, "file", filepath.Base(name))
	return Result{ProviderID: id, Detail: name}, nil
}

type smsLine struct {
	DeliveryID int64  `json:"delivery_id"`
	To         string `json:"to"`
	Body       string `json:"body"`
	At         string `json:"written_at"`
}

func (f *File) sendSMS(m Message) (Result, error) {
	b, err := json.Marshal(smsLine{m.DeliveryID, m.To, m.Text, time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return Result{}, Permanent("encode", err)
	}
	name := filepath.Join(f.dir, "sms.jsonl")
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return Result{}, Retryable("write", fmt.Errorf("file channel: %w", err))
	}
	defer fh.Close()
	if _, err := fh.Write(append(b, '\n')); err != nil {
		return Result{}, Retryable("write", fmt.Errorf("file channel: %w", err))
	}
	f.log.Info("sms written", "delivery", m.DeliveryID, "file", "sms.jsonl")
	return Result{ProviderID: fmt.Sprintf("file-sms-%d", m.DeliveryID), Detail: name}, nil
}
