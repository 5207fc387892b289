"""The runtime image: one root filesystem, built from `runtime/`, that every sandbox uses.

`definition` reads and hashes the definition, `plan` builds the build's command
lines, `commands` runs them, `tree` holds the file-system steps, `build` runs
one build, `image` builds, finds and prunes images (and is the command line:
`python -m sandpit.runtime.image`), `lock` re-pins the Python packages.
"""
