package programs

// Vars are the variables a content template may use. A template that names
// anything else fails validation, so a sent message never has a blank where a
// name should be.
type Vars struct {
	FirstName      string // never empty: the renderer puts in a friendly fallback
	ProgramTitle   string
	Day            int // 1-based program day
	Week           int // 1-based program week
	Phase          string
	ManageURL      string
	UnsubscribeURL string
	ConfirmURL     string
	Support        string // the deployment's support resources, Markdown
	HelpContact    string // the deployment's support contact
}

// SampleVars is what validation and previews render with.
func SampleVars(p *Program) Vars {
	phase := "" // a program without phases is refused, after its content is checked
	if len(p.Phases) > 0 {
		phase = p.PhaseTitle(p.Phases[0].Key)
	}
	return Vars{
		FirstName:      "Sam",
		ProgramTitle:   p.Title,
		Day:            1,
		Week:           1,
		Phase:          phase,
		ManageURL:      "https://rekindle.example.org/manage/sample",
		UnsubscribeURL: "https://rekindle.example.org/unsubscribe/sample",
		ConfirmURL:     "https://rekindle.example.org/confirm/sample",
		Support:        "- Your local counselling service\n- A helpline in your country",
		HelpContact:    "help@rekindle.example.org",
	}
}
