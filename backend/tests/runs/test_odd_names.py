"""Files user code names with control, escape, bidi or non-UTF-8 characters: listed
escaped and flagged, and deletable through the API, and only by their owner."""

from __future__ import annotations

from tests.conftest import User

MAKE_ODD_FILES = """
import os
os.makedirs(b"dir\\xff", exist_ok=True)
for name in (b"\\x1b]0;pwned\\x07title", "invoice\\u202efdp.exe".encode(), b"bad\\xfe.py",
             b"dir\\xff/inner.txt", b"line\\nbreak"):
    with open(name, "wb") as handle:
        handle.write(b"x" * 10)
print("made")
"""


def test_odd_names_made_in_the_sandbox_are_listed_escaped_and_deletable(
    user: User, other_user: User
) -> None:
    ws = user.workspace()
    base = f"/api/workspaces/{ws}"
    user.client.put(f"{base}/files/ok.py", content=b"print(1)\n")
    run = user.client.post(
        f"{base}/runs", params={"wait": True}, json={"code": MAKE_ODD_FILES}, timeout=120
    )
    assert run.status_code == 200, run.text
    assert run.json()["status"] == "ok", run.json()

    listed = user.client.get(f"{base}/files").json()
    assert [(e["path"], e["size"], e["escaped"]) for e in listed] == [
        ("\\u001b]0;pwned\\u0007title", 10, True),
        ("bad\\xfe.py", 10, True),
        ("dir\\xff/inner.txt", 10, True),
        ("invoice\\u202efdp.exe", 10, True),
        ("line\\u000abreak", 10, True),
        ("ok.py", 9, False),
    ]
    assert user.client.get(f"{base}/usage").json()["files"] == 6

    # Not another user's to delete, and not through the plain file route.
    for entry in listed[:1]:
        params = {"path": entry["path"]}
        assert other_user.client.delete(f"{base}/escaped-files", params=params).status_code == 404
        plain = user.client.delete(f"{base}/files/{entry['path']}")
        assert plain.status_code == 400
    malformed = user.client.delete(f"{base}/escaped-files", params={"path": "a\\q"})
    assert malformed.status_code == 400
    assert "malformed escape" in malformed.json()["detail"]
    not_empty = user.client.delete(f"{base}/escaped-files", params={"path": "dir\\xff"})
    assert not_empty.status_code == 409

    for path in ("\\u001b]0;pwned\\u0007title", "bad\\xfe.py", "invoice\\u202efdp.exe"):
        response = user.client.delete(f"{base}/escaped-files", params={"path": path})
        assert response.status_code == 204, response.text
    gone = user.client.delete(
        f"{base}/escaped-files", params={"path": "dir\\xff", "recursive": True}
    )
    assert gone.status_code == 204
    again = user.client.delete(f"{base}/escaped-files", params={"path": "bad\\xfe.py"})
    assert again.status_code == 404
    assert [e["path"] for e in user.client.get(f"{base}/files").json()] == [
        "line\\u000abreak",
        "ok.py",
    ]
    assert user.client.get(f"{base}/usage").json()["files"] == 2
