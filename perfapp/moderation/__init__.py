"""Safety (capability S): reports, the moderation queue, posting suspensions, the audit log."""
