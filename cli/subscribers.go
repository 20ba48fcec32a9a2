package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rekindle/rekindle/store"
)

const subscribersUsage = "subscribers show|export|erase (--email E | --phone P | --id N) [--yes]"

// runSubscribers is the operator's view of one person's data: show prints a
// summary, export prints everything held as JSON, erase removes the personal
// data and keeps the anonymous counts.
func runSubscribers(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("%s", subscribersUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "-help" || sub == "help" {
		fmt.Fprintf(env.Stderr, "usage: rekindle %s\n\n"+
			"  show    one person as the operator needs them: contact, consent, enrollments, deliveries, check-ins, next send, opt-outs\n"+
			"  export  everything held about the person, as JSON\n"+
			"  erase   remove the person's personal data and keep the anonymous counts; without --yes, list what it would do\n\n"+
			"rekindle subscribers COMMAND -h lists the command's flags.\n", subscribersUsage)
		return flag.ErrHelp
	}
	if sub != "show" && sub != "export" && sub != "erase" {
		return usagef("unknown subscribers command %q; want %s", sub, subscribersUsage)
	}
	fs, _ := adminFlags(env, "subscribers "+sub)
	email := fs.String("email", "", "the person's email")
	phone := fs.String("phone", "", "the person's phone")
	id := fs.Int64("id", 0, "the person's subscriber id")
	yes := fs.Bool("yes", false, "erase: really erase (without it, print what would be erased)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; want %s", fs.Arg(0), subscribersUsage)
	}
	given := 0
	for _, set := range []bool{*email != "", *phone != "", *id != 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		return usagef("give exactly one of --email, --phone or --id")
	}
	if *id < 0 {
		return usagef("--id %d: want a positive subscriber id", *id)
	}
	if *yes && sub != "erase" {
		return usagef("--yes is only for erase")
	}
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return err
	}
	e, p, err := contact(*email, *phone, cfg.DefaultRegion)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	person, err := st.FindPerson(ctx, e, p, *id)
	if errors.Is(err, store.ErrNotFound) {
		switch {
		case e != "":
			return fmt.Errorf("no subscriber with --email %s", e)
		case p != "":
			return fmt.Errorf("no subscriber with --phone %s", p)
		default:
			return fmt.Errorf("no subscriber with --id %d", *id)
		}
	}
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		o, err := st.PersonOverview(ctx, person)
		if err != nil {
			return err
		}
		printOverview(env.Stdout, o)
		return nil
	case "export":
		return exportPerson(ctx, env.Stdout, st, person)
	}
	return erasePerson(ctx, env.Stdout, st, person, *yes)
}

func exportPerson(ctx context.Context, w io.Writer, st *store.Store, p store.Person) error {
	doc, err := st.ExportPerson(ctx, p)
	if err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(doc, &all); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	stamp, _ := json.Marshal(time.Now().UTC().Format(time.RFC3339))
	all["exported_at"] = stamp
	out, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

func erasePerson(ctx context.Context, w io.Writer, st *store.Store, p store.Person, yes bool) error {
	if p.Erased() {
		return fmt.Errorf("subscriber %d was already erased; nothing changed", p.ID)
	}
	if !yes {
		plan, err := st.PlanErase(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "erase would remove the personal data of subscriber %d (%s):\n", p.ID, contactLine(p))
		printPlan(w, plan)
		return usagef("nothing changed: add --yes to erase subscriber %d", p.ID)
	}
	plan, err := st.ErasePerson(ctx, time.Now(), p.ID)
	switch {
	case errors.Is(err, store.ErrSending):
		return fmt.Errorf("subscriber %d: %w; nothing changed, try again in a minute", p.ID, err)
	case errors.Is(err, store.ErrErased):
		return fmt.Errorf("subscriber %d was already erased; nothing changed", p.ID)
	case err != nil:
		return err
	}
	fmt.Fprintf(w, "erased subscriber %d:\n", p.ID)
	printPlan(w, plan)
	return nil
}

// printPlan says, table by table, what an erasure does.
func printPlan(w io.Writer, plan store.ErasePlan) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  subscribers\t1\tname, email, phone and time zone removed; the row stays as a tombstone\n")
	fmt.Fprintf(tw, "  enrollments\t%d\t%d running ended; program, phase, status and dates kept\n", plan.Enrollments, plan.LiveEnrollments)
	fmt.Fprintf(tw, "  deliveries\t%d\taddress and message content removed; %d queued cancelled; step, channel and status kept\n", plan.Deliveries, plan.QueuedDeliveries)
	fmt.Fprintf(tw, "  checkins\t%d\t%d reply texts removed; answers kept\n", plan.Checkins, plan.ReplyTexts)
	fmt.Fprintf(tw, "  consents\t%d\tIP address and browser removed\n", plan.Consents)
	fmt.Fprintf(tw, "  inbound_messages\t%d\tsender and text removed\n", plan.InboundMessages)
	fmt.Fprintf(tw, "  suppressions\t%d\tkept as a hash, so an opt-out is still honoured\n", plan.Suppressions)
	fmt.Fprintf(tw, "  events\t%d\taddresses removed from the audit trail\n", plan.Events)
	tw.Flush()
}

func contactLine(p store.Person) string {
	var parts []string
	if p.Email != "" {
		parts = append(parts, p.Email)
	}
	if p.Phone != "" {
		parts = append(parts, p.Phone)
	}
	return strings.Join(parts, ", ")
}

// printOverview is the operator's summary of one person: the contact is
// shown in full, since the operator asked for this person by it.
func printOverview(w io.Writer, o store.Overview) {
	p := o.Person
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		loc = time.UTC
	}
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	if p.Erased() {
		fmt.Fprintf(w, "subscriber %d: erased %s (only anonymous counts remain)\n", p.ID, at(p.UpdatedAt))
	} else {
		name := p.FirstName
		if name == "" {
			name = "(no name given)"
		}
		fmt.Fprintf(w, "subscriber %d: %s\n", p.ID, name)
		if p.Email != "" {
			fmt.Fprintf(w, "  email      %s (%s)\n", p.Email, p.EmailStatus)
		}
		if p.Phone != "" {
			fmt.Fprintf(w, "  phone      %s (%s)\n", p.Phone, p.SMSStatus)
		}
		fmt.Fprintf(w, "  time zone  %s\n", p.Timezone)
		fmt.Fprintf(w, "  since      %s\n", at(p.CreatedAt))
	}
	fmt.Fprintln(w, "consents:")
	if len(o.Consents) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, c := range o.Consents {
		fmt.Fprintf(w, "  %s  %-5s %-9s via %s\n", at(c.CreatedAt), c.Channel, c.Action, c.Source)
	}
	fmt.Fprintln(w, "enrollments:")
	if len(o.Enrollments) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, e := range o.Enrollments {
		fmt.Fprintf(w, "  #%d %s %s (version %d, %s)  %s  track %s  phase %s  started %s", e.ID, e.Program, e.Version,
			e.VersionID, e.Hash, e.Status, e.Track, e.Phase, e.StartDate.Format("2006-01-02"))
		switch {
		case e.Status == "active" && e.NextDueAt.Valid:
			fmt.Fprintf(w, "  next step %s", at(e.NextDueAt.Time))
		case e.Status == "paused" && e.PausedUntil.Valid:
			fmt.Fprintf(w, "  paused until %s", at(e.PausedUntil.Time))
		case e.Status == "completed" && e.CompletedAt.Valid:
			fmt.Fprintf(w, "  completed %s", at(e.CompletedAt.Time))
		}
		fmt.Fprintln(w)
	}
	var counts []string
	for _, c := range o.Deliveries {
		counts = append(counts, fmt.Sprintf("%s %s %d", c.Channel, c.Status, c.N))
	}
	if len(counts) == 0 {
		counts = []string{"none"}
	}
	fmt.Fprintf(w, "deliveries: %s\n", strings.Join(counts, ", "))
	fmt.Fprintf(w, "check-ins: %d sent, %d answered", o.Checkins, o.Answered)
	if o.LastAnswer != "" {
		fmt.Fprintf(w, " (last: %s)", o.LastAnswer)
	}
	fmt.Fprintln(w)
	if o.NextSend.Valid {
		fmt.Fprintf(w, "next send: %s (%s)\n", at(o.NextSend.Time), o.NextWhat)
	} else {
		fmt.Fprintln(w, "next send: nothing scheduled")
	}
	fmt.Fprintln(w, "suppressions:")
	switch {
	case len(o.Suppressions) == 0 && p.Erased():
		fmt.Fprintln(w, "  "+keptOptOuts(o.Erasure))
		if b := keptBlocks(o.Erasure); b != "" {
			fmt.Fprintln(w, "  "+b)
		}
	case len(o.Suppressions) == 0:
		fmt.Fprintln(w, "  none")
	}
	for _, s := range o.Suppressions {
		fmt.Fprintf(w, "  %s  %-5s %s: %s (via %s)\n", at(s.CreatedAt), s.Channel, s.Address, s.Reason, s.Source)
	}
}

// keptOptOuts says what an erasure did with the person's opt-outs. Erasure
// keeps an opt-out as the hash of the address, which names nobody and so
// is not linked to this record: the count comes from the erase's event. An
// erasure recorded before the event held it cannot be counted, and "none"
// would be wrong.
func keptOptOuts(e *store.Erasure) string {
	switch {
	case e == nil || e.OptOutsKept == nil:
		return "any opt-out of the erased addresses is kept as a hash (sha256:...), not linked to this record; it is still honoured"
	case *e.OptOutsKept == 0:
		return "none: the erased addresses had not opted out"
	}
	n := *e.OptOutsKept
	on := ""
	if len(e.OptOutChannels) > 0 {
		on = " (" + strings.Join(e.OptOutChannels, ", ") + ")"
	}
	if n == 1 {
		return fmt.Sprintf("kept 1 opt-out%s as a hash (sha256:...), not linked to this record, so it stays honoured", on)
	}
	return fmt.Sprintf("kept %d opt-outs%s as hashes (sha256:...), not linked to this record, so they stay honoured", n, on)
}

// keptBlocks says what an erasure did with addresses a provider refused
// for good, or "" when there were none: they are kept like opt-outs, but
// the person never asked for them, so they are not called opt-outs.
func keptBlocks(e *store.Erasure) string {
	if e == nil || e.BlocksKept == 0 {
		return ""
	}
	on := ""
	if len(e.BlockChannels) > 0 {
		on = " (" + strings.Join(e.BlockChannels, ", ") + ")"
	}
	if e.BlocksKept == 1 {
		return fmt.Sprintf("kept 1 address a provider refused for good%s as a hash, so it is not tried again", on)
	}
	return fmt.Sprintf("kept %d addresses a provider refused for good%s as hashes, so they are not tried again", e.BlocksKept, on)
}
