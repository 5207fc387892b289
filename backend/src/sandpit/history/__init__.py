"""History and snapshots: every earlier state of a workspace's files, brought back on demand.

- `blobs`: contents stored once by SHA-256 under `DATA_DIR/blobs`, written
  atomically, collected when nothing refers to them any more;
- `rules`: which files history records (the skip rule for generated folders);
- `service`: versions of files, snapshots of workspaces, restores, the
  per-user quota and its eviction order; `take_snapshot` is what other code
  (imports, submissions) calls;
- `watcher`: the one file-system watcher that sees changes made inside
  sandboxes (runs, terminals, pip) and records them as versions.

Nothing here runs `git` or any other tool on the user's tree: a `.git/config`
the user controls could run code on the host (hooks, `core.fsmonitor`).
"""
