"""`sandpit backup` pins the history blob store: the server's collector deletes no file meanwhile.

The end-to-end case (a backup while saves coalesce and replaced contents
are collected) is in test_backup.py; this shows the lock's contract on a
real store.
"""

from __future__ import annotations

from pathlib import Path

from sandpit.history.blobs import BlobStore, pinned


def test_a_pinned_store_keeps_its_files_until_the_pin_goes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    kept, doomed = store.put(b"kept"), store.put(b"doomed")
    with pinned(store.root):
        with pinned(store.root):  # pins share: a second backup does not wait
            assert store.remove_unless_pinned([doomed]) is None
        assert store.remove_unless_pinned([doomed]) is None
        assert sorted(store.stored()) == sorted([kept, doomed])
    assert store.remove_unless_pinned([doomed]) == 1
    assert store.stored() == [kept]
    assert store.get(kept) == b"kept"


def test_removing_from_a_store_never_made_removes_nothing(tmp_path: Path) -> None:
    assert BlobStore(tmp_path / "none").remove_unless_pinned(["ab" * 32]) == 0
