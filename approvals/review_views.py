"""Pages of the review queue, notifications and the audit log."""
