"""Code submission and review: assignments, frozen submissions, their automated checks,
reviews and line comments, and grades.

- `access`: who may see and do what (every lookup of another user's work goes
  through it, and answers `NotFound` exactly as for something that does not exist).
- `assignments`: exercises set by reviewers: files, visibility, "Start".
- `submissions`: freezing a workspace as version 1, 2, 3… (files in the
  history blob store, so they outlive the workspace), reading them, copies.
- `feedback`: reviews, threaded line comments, unread markers.
- `checks`: the persistent check queue that runs the grader; `views` applies
  the results' visibility for the caller.
- `grades`: the per-assignment table and its CSV.
"""
