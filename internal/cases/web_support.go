package cases

// NeedsNote reports whether action a must say why: Act refuses it without
// a note. Faces use it to mark the reason field required, so their forms
// ask for what the workflow will insist on.
func NeedsNote(a Action) bool { return needsNote[a] }
