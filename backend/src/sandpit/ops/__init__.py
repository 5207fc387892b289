"""Operating a server: `sandpit backup` and `sandpit restore` (see docs/deployment).

The backup rule, so that new stores are included without changes here:
a backup holds the whole database, every workspace's files, and every
other entry under the data directory, except the ones `layout.REBUILDABLE`
names (the runtime image, live sandbox state, the trash, caches) and the
SQLite file itself (copied through SQLite's online backup API instead).
"""
