"""Post-audit callback campaigns: rosters, schedules, dialing and outcomes."""
