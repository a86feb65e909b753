package registry

// GroupStats returns how many groups of registrations r applied, how many
// calls they held and the most one held (group commit, group.go).
func GroupStats(r *Registry) (groups, calls, largest int64) {
	return r.grouped.groups.Load(), r.grouped.calls.Load(), r.grouped.largest.Load()
}
