"""The HTTP edge: candidate pages and JSON API, staff pages and the proctor API (wired by cbt.app)."""
