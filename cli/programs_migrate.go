package cli

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rekindle/rekindle/logging"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

const migrateUsage = "programs migrate --from V --to V [--map old=new[,old2=new2]] [--dry-run]  (V: a version id, or a hash prefix with a letter in it, from `rekindle programs versions`; a number is always an id)"

// programsVersions lists the stored program versions, the values
// `programs migrate` takes.
func programsVersions(ctx context.Context, env *Env, args []string) error {
	fs, _ := adminFlags(env, "programs versions")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	st, _, err := adminStore(ctx, env, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	vs, err := st.ProgramVersions(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPROGRAM\tVERSION\tHASH\tSTORED\tRUNNING\tALL ENROLLMENTS")
	for _, v := range vs {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%d\n", v.ID, v.Slug, v.Version, v.Hash, v.CreatedAt.UTC().Format("2006-01-02 15:04"), v.Live, v.Total)
	}
	return w.Flush()
}

// programsMigrate moves the running enrollments pinned to one stored
// version of a program onto another, carrying each person's place by step
// key: a step keeps its key unless --map renames it.
func programsMigrate(ctx context.Context, env *Env, args []string) error {
	fs, _ := adminFlags(env, "programs migrate")
	fromRef := fs.String("from", "", "version the enrollments are on: id, or hash prefix (a number is an id)")
	toRef := fs.String("to", "", "version to move them to: id, or hash prefix (a number is an id)")
	mapping := fs.String("map", "", "steps renamed in the new version: old=new[,old2=new2]")
	dry := fs.Bool("dry-run", false, "list who would move and their next send time; change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; want %s", fs.Arg(0), migrateUsage)
	}
	if *fromRef == "" || *toRef == "" {
		return usagef("--from and --to are required: %s", migrateUsage)
	}
	pairs, err := parseStepMap(*mapping)
	if err != nil {
		return err
	}
	st, _, err := adminStore(ctx, env, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	versions, err := st.ProgramVersions(ctx)
	if err != nil {
		return err
	}
	from, err := resolveVersion(versions, "--from", *fromRef)
	if err != nil {
		return err
	}
	to, err := resolveVersion(versions, "--to", *toRef)
	if err != nil {
		return err
	}
	if from.ID == to.ID {
		return fmt.Errorf("--from and --to both name version %d", from.ID)
	}
	if from.Slug != to.Slug {
		return fmt.Errorf("--from is program %s but --to is program %s: enrollments move only between versions of one program", from.Slug, to.Slug)
	}
	src, err := storedProgram(ctx, st, from)
	if err != nil {
		return err
	}
	dst, err := storedProgram(ctx, st, to)
	if err != nil {
		return err
	}
	steps, err := stepMap(src, dst, from, to, pairs)
	if err != nil {
		return err
	}
	renamed := map[string]string{}
	for o, n := range steps {
		if o != n {
			renamed[o] = n
		}
	}
	now := time.Now()
	var report []moveLine
	err = st.MoveEnrollments(ctx, now, from.ID, to.ID, renamed, !*dry, func(rows []store.Pinned) ([]store.Move, error) {
		var moves []store.Move
		for _, r := range rows {
			m, line, err := moveEnrollment(src, dst, steps, r, now)
			if err != nil {
				return nil, fmt.Errorf("enrollment %d: %w; nothing changed", r.ID, err)
			}
			moves = append(moves, m)
			report = append(report, line)
		}
		return moves, nil
	})
	if err != nil {
		return err
	}
	verb := "moved"
	if *dry {
		verb = "would move"
	}
	fmt.Fprintf(env.Stdout, "%s %d running enrollment(s) of %s from version %d (%s %s) to version %d (%s %s)\n",
		verb, len(report), from.Slug, from.ID, from.Version, from.Hash, to.ID, to.Version, to.Hash)
	printMoves(env.Stdout, report)
	if *dry {
		fmt.Fprintln(env.Stdout, "dry run: nothing changed")
	}
	return nil
}

type stepPair struct{ old, new string }

// parseStepMap reads "old=new,old2=new2".
func parseStepMap(s string) ([]stepPair, error) {
	var out []stepPair
	seen := map[string]bool{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		o, n, ok := strings.Cut(entry, "=")
		o, n = strings.TrimSpace(o), strings.TrimSpace(n)
		if !ok || o == "" || n == "" {
			return nil, usagef("--map entry %q: want old=new", entry)
		}
		if seen[o] {
			return nil, usagef("--map names step %q twice", o)
		}
		seen[o] = true
		out = append(out, stepPair{o, n})
	}
	return out, nil
}

var (
	hexRef   = regexp.MustCompile(`^[0-9a-f]+$`)
	digitRef = regexp.MustCompile(`^[0-9]+$`)
)

// resolveVersion finds the one stored version ref names. A ref of digits
// only is a version id, and only that: a hash that happens to start with
// the same digits does not compete with it, so --from 1 is version 1
// whatever the hashes are. Any other hex ref is a prefix of a hash (a
// hash prefix of digits only is named with more of the hash, up to its
// first letter).
func resolveVersion(vs []store.VersionInfo, flagName, ref string) (store.VersionInfo, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if !hexRef.MatchString(ref) {
		return store.VersionInfo{}, fmt.Errorf("%s %q: want a version id or hash prefix (see `rekindle programs versions`)", flagName, ref)
	}
	if digitRef.MatchString(ref) {
		id, err := strconv.ParseInt(ref, 10, 64)
		if err == nil {
			for _, v := range vs {
				if v.ID == id {
					return v, nil
				}
			}
		}
		var hashes []string
		for _, v := range vs {
			if strings.HasPrefix(v.Hash, ref) {
				hashes = append(hashes, fmt.Sprintf("version %d has hash %s", v.ID, v.Hash))
			}
		}
		if len(hashes) > 0 {
			return store.VersionInfo{}, fmt.Errorf("%s %s: no stored program version has that id; a number names a version id, never a hash "+
				"(%s: give its hash up to the first letter, or its id)", flagName, ref, strings.Join(hashes, ", "))
		}
		return store.VersionInfo{}, fmt.Errorf("%s %s: no stored program version has that id (see `rekindle programs versions`)", flagName, ref)
	}
	var found []store.VersionInfo
	for _, v := range vs {
		if strings.HasPrefix(v.Hash, ref) {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return store.VersionInfo{}, fmt.Errorf("%s %s: no stored program version has a hash starting with that (see `rekindle programs versions`)", flagName, ref)
	}
	var names []string
	for _, v := range found {
		names = append(names, fmt.Sprintf("id %d hash %s", v.ID, v.Hash))
	}
	return store.VersionInfo{}, fmt.Errorf("%s %s is ambiguous (%s): give more of the hash", flagName, ref, strings.Join(names, ", "))
}

func storedProgram(ctx context.Context, st *store.Store, v store.VersionInfo) (*programs.Program, error) {
	var p programs.Program
	if err := st.ProgramVersion(ctx, v.ID, &p); err != nil {
		return nil, err
	}
	return programs.FromDefinition(&p), nil
}

// stepMap maps every step key of src to a step key of dst: the --map entry
// for it, else the same key. A step that is in neither is an error naming
// it, and so is a map entry naming a step that does not exist.
func stepMap(src, dst *programs.Program, from, to store.VersionInfo, pairs []stepPair) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		if src.Step(p.old) == nil {
			return nil, fmt.Errorf("--map %s=%s: version %d (%s) has no step %q", p.old, p.new, from.ID, from.Hash, p.old)
		}
		if dst.Step(p.new) == nil {
			return nil, fmt.Errorf("--map %s=%s: version %d (%s) has no step %q", p.old, p.new, to.ID, to.Hash, p.new)
		}
		out[p.old] = p.new
	}
	var missing []string
	for _, t := range src.Tracks {
		for _, s := range t.Steps {
			if _, ok := out[s.Key]; ok {
				continue
			}
			if dst.Step(s.Key) == nil {
				missing = append(missing, s.Key)
				continue
			}
			out[s.Key] = s.Key
		}
	}
	if len(missing) > 0 {
		lines := make([]string, len(missing))
		for i, k := range missing {
			lines[i] = fmt.Sprintf("step %q of version %d is not in version %d: map it with --map %s=NEW", k, from.ID, to.ID, k)
		}
		return nil, fmt.Errorf("%s", strings.Join(lines, "\n"))
	}
	return out, nil
}

// moveLine is one row of the migrate report.
type moveLine struct {
	enrollment int64
	contact    string
	status     string
	from, to   string
	next       string
}

// moveEnrollment carries one enrollment's place onto dst: the day step it
// last planned becomes the mapped step (and its track), cron cursors and
// extension counts follow their steps' new keys, and the next due time is
// recomputed from the new program.
func moveEnrollment(src, dst *programs.Program, steps map[string]string, r store.Pinned, now time.Time) (store.Move, moveLine, error) {
	line := moveLine{enrollment: r.ID, contact: maskedContact(r.Email, r.Phone), status: r.Status}
	loc, err := scheduler.LoadZone(r.Timezone)
	if err != nil {
		return store.Move{}, line, err
	}
	start := scheduler.LocalDate(r.StartDate, time.UTC)
	base := scheduler.State{Track: r.Track, StartDate: start, Origin: r.Origin, Shift: r.Shift, Cursor: -1, Loc: loc}
	m := store.Move{ID: r.ID, Track: r.Track, Cursor: r.Cursor, Phase: r.Phase, CronCursors: map[string]string{}, Extensions: map[string]int{}}
	var cur *programs.Step
	if r.Cursor >= 0 {
		if cur, err = dayStepAt(src, base, func(o *scheduler.Occurrence) int { return cmpInt64(o.Pos, r.Cursor) }); err != nil {
			return m, line, err
		}
	}
	// No day step of the current track planned yet (a new enrollment, or
	// one just switched to another track): the place stays as it is.
	line.from, line.to = "(none on "+r.Track+" yet)", "(none on "+r.Track+" yet)"
	if cur != nil {
		ns := dst.Step(steps[cur.Key])
		if ns.IsCron() || ns.Day == nil {
			return m, line, fmt.Errorf("it is at step %s, which maps to %s, not a calendar step of the new version: map %s to a step with a day", cur.Key, ns.Key, cur.Key)
		}
		m.Track = ns.Track
		nb := base
		nb.Track = ns.Track
		occ, err := dayStepOccurrence(dst, nb, ns.Key)
		if err != nil {
			return m, line, err
		}
		m.Cursor = occ.Pos
		if ns.Phase != "" {
			m.Phase = ns.Phase
		}
		line.from, line.to = cur.Key, ns.Key
	} else if dst.Track(r.Track) == nil {
		return m, line, fmt.Errorf("it is on track %s, which the new version does not have", r.Track)
	}
	for k, v := range r.CronCursors.V {
		if nk, ok := steps[k]; ok && dst.Step(nk).IsCron() {
			m.CronCursors[nk] = v
		}
	}
	for k, v := range r.Extensions.V {
		if nk, ok := steps[k]; ok {
			m.Extensions[nk] = v
		}
	}
	if r.Status == "pending" {
		// Activation plans a pending enrollment from its confirmation day.
		line.next = "after confirmation"
		return m, line, nil
	}
	st := base
	st.Track, st.Cursor, st.CronCursors = m.Track, m.Cursor, copyMap(m.CronCursors)
	occ, err := scheduler.Next(dst, &st)
	if err != nil {
		return m, line, err
	}
	next := now
	line.next = "now (the program is finished: it completes)"
	if occ != nil {
		next = occ.Due
		line.next = fmt.Sprintf("%s (%s)", occ.Due.In(loc).Format("2006-01-02 15:04 MST"), occ.Key)
	}
	if r.Status == "paused" {
		line.next += ", once resumed"
	}
	m.NextDueAt = &next
	return m, line, nil
}

// dayStepAt walks the calendar of st's track from the beginning and returns
// the day step whose occurrence cmp reports as 0, or nil once cmp reports
// the walk has passed it.
func dayStepAt(p *programs.Program, st scheduler.State, cmp func(*scheduler.Occurrence) int) (*programs.Step, error) {
	st.CronCursors = map[string]string{}
	for {
		occ, err := scheduler.Next(p, &st)
		if err != nil || occ == nil {
			return nil, err
		}
		if !occ.Step.IsCron() {
			switch c := cmp(occ); {
			case c == 0:
				return occ.Step, nil
			case c > 0:
				return nil, nil
			}
		}
		st.Advance(occ)
	}
}

// dayStepOccurrence is the occurrence of day step key on st's track.
func dayStepOccurrence(p *programs.Program, st scheduler.State, key string) (*scheduler.Occurrence, error) {
	st.CronCursors = map[string]string{}
	for {
		occ, err := scheduler.Next(p, &st)
		if err != nil {
			return nil, err
		}
		if occ == nil {
			return nil, fmt.Errorf("step %s is not on track %s", key, st.Track)
		}
		if !occ.Step.IsCron() && occ.Step.Key == key {
			return occ, nil
		}
		st.Advance(occ)
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func maskedContact(email, phone string) string {
	var parts []string
	if email != "" {
		parts = append(parts, logging.MaskEmail(email))
	}
	if phone != "" {
		parts = append(parts, logging.MaskPhone(phone))
	}
	return strings.Join(parts, " ")
}

func printMoves(w io.Writer, lines []moveLine) {
	if len(lines) == 0 {
		return
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].enrollment < lines[j].enrollment })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENROLLMENT\tPERSON\tSTATUS\tAT STEP\tBECOMES\tNEXT SEND")
	for _, l := range lines {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.enrollment, l.contact, l.status, l.from, l.to, l.next)
	}
	tw.Flush()
}
