"""Work that waits for its time: scheduled removals, the end of a waiting period, reminders."""
