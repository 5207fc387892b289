"""A run's record says which way Python started (`interpreter`, its note), through HTTP."""

from __future__ import annotations

import time

from tests.conftest import User

WARM_DEADLINE_S = 300.0


def run(user: User, ws: str, **body: object) -> dict[str, object]:
    response = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json=body, timeout=120
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_runs_start_warm_and_a_shadowing_file_makes_them_fresh(user: User) -> None:
    ws = user.workspace()
    first = run(user, ws, code="print('hi')")
    # The warm interpreter starts once the first run has ended, then imports.
    assert (first["interpreter"], first["interpreter_note"]) == (
        "fresh",
        "the warm interpreter was not ready yet",
    )
    deadline = time.monotonic() + WARM_DEADLINE_S
    while run(user, ws, code="print('hi')")["interpreter"] != "warm":
        assert time.monotonic() < deadline, "no warm run"
        time.sleep(0.2)
    warm = run(user, ws, code="import numpy\nprint(numpy.__name__)")
    assert (warm["status"], warm["stdout"], warm["interpreter"], warm["interpreter_note"]) == (
        "ok",
        "numpy\n",
        "warm",
        None,
    )
    listed = user.client.get(f"/api/workspaces/{ws}/runs").json()
    assert listed[0]["interpreter"] == "warm"

    user.client.put(f"/api/workspaces/{ws}/files/numpy.py", content=b"WHO = 'mine'\n")
    shadowed = run(user, ws, code="import numpy\nprint(numpy.WHO)")
    assert (shadowed["stdout"], shadowed["interpreter"], shadowed["interpreter_note"]) == (
        "mine\n",
        "fresh",
        "/app/numpy.py shadows a module the warm interpreter holds",
    )
