"""Pages of posts and campaigns."""
