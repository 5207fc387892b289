"""Files bound read-only into every sandbox at `/run/sandpit`.

They run with the runtime image's Python, as the sandbox user: standard
library only (plus matplotlib for the plot backend), no `sandpit` imports.
"""
