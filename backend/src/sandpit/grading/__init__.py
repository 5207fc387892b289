"""Automated checks of a submission: hidden and visible pytest tests, and ruff, in a fresh sandbox.

`runner.grade` runs them; `results` is the result model (the API's `checks`
object); `visibility.view_for` is what a caller may see of it. The pytest
plugin and entry point that run inside the sandbox live in `harness/`
(data for the sandbox, never imported by the server). docs/architecture/grading.md
explains how checks resist forgery and what they cannot stop.
"""
