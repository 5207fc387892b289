"""The runs rows of CONTRACT.md, through HTTP, in the real bubblewrap sandbox."""

from __future__ import annotations

import time

import pytest

from tests.conftest import User


@pytest.fixture
def ws(user: User) -> str:
    return user.workspace()


def run(user: User, ws: str, **body: object) -> dict[str, object]:
    response = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json=body, timeout=120
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_run_code_ok(user: User, ws: str) -> None:
    result = run(user, ws, code="print('hi')")
    assert result["status"] == "ok"
    assert result["exit_code"] == 0
    assert result["stdout"] == "hi\n"
    assert result["stderr"] == ""
    assert result["truncated"] is False
    assert isinstance(result["duration_ms"], int)


def test_the_waited_answer_is_the_run_as_read_back(user: User, ws: str) -> None:
    # `?wait=true` answers with the record it has just written, without
    # reading it back: every field, times and plots included, must be what
    # a read gives.
    answered = run(
        user,
        ws,
        code="import sys\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"
        "print('out')\nprint('err', file=sys.stderr)\nsys.exit(2)",
    )
    assert answered["status"] == "error"
    assert isinstance(answered["images"], list)
    assert len(answered["images"]) == 1
    read = user.client.get(f"/api/runs/{answered['id']}")
    assert read.status_code == 200, read.text
    assert answered == read.json()


def test_run_file_in_workspace_dir(user: User, ws: str) -> None:
    user.client.put(f"/api/workspaces/{ws}/files/lib/util.py", content=b"VALUE = 42\n")
    user.client.put(
        f"/api/workspaces/{ws}/files/main.py",
        content=b"import os, sys\nfrom lib.util import VALUE\n"
        b"print(VALUE, os.getcwd(), os.getuid(), os.environ['HOME'])\n"
        b"print('err', file=sys.stderr)\nsys.exit(3)\n",
    )
    result = run(user, ws, path="main.py")
    assert result["status"] == "error"
    assert result["exit_code"] == 3
    assert result["stdout"] == "42 /app 1000 /app\n"
    assert result["stderr"] == "err\n"


def test_stdin_reaches_input(user: User, ws: str) -> None:
    result = run(user, ws, code="name = input()\nprint(f'hello {name}')", stdin="ada\n")
    assert result["stdout"] == "hello ada\n"


def test_timeout(user: User, ws: str) -> None:
    result = run(user, ws, code="import time\nwhile True: time.sleep(0.1)", timeout_s=1)
    assert result["status"] == "timeout"
    assert result["message"] == "The run passed its 1 s time limit and was stopped."


def test_a_timeout_while_waiting_for_input_says_so(user: User, ws: str) -> None:
    # An interactive run nobody answers: the limit still holds, and the
    # sentence tells the user why a run that did nothing timed out. (3 s: on a
    # busy test machine Python may take over a second to print the prompt.)
    response = user.client.post(
        f"/api/workspaces/{ws}/runs",
        params={"wait": True},
        json={"code": "input('Your name? ')", "timeout_s": 3, "interactive": True},
        timeout=60,
    )
    result = response.json()
    assert (result["status"], result["stdout"]) == ("timeout", "Your name? "), result
    assert result["message"] == (
        "The run passed its 3 s time limit while it waited for input and was stopped "
        "(time spent waiting for input counts)."
    )


def test_an_interactive_run_that_computes_until_the_limit_is_not_said_to_wait(
    user: User, ws: str
) -> None:
    # Its input is open and empty, as a waiting program's is; but it was on
    # the CPU all along, so the plain timeout sentence is the true one.
    response = user.client.post(
        f"/api/workspaces/{ws}/runs",
        params={"wait": True},
        json={"code": "while True:\n    pass", "timeout_s": 2, "interactive": True},
        timeout=60,
    )
    result = response.json()
    assert result["status"] == "timeout", result
    assert result["message"] == "The run passed its 2 s time limit and was stopped."


def test_oom(user: User, ws: str) -> None:
    result = run(user, ws, code="x = bytearray(900 * 1024 * 1024)\nprint('survived')")
    assert result["status"] == "oom"
    assert "survived" not in str(result["stdout"])


def test_output_cap(user: User, ws: str) -> None:
    result = run(user, ws, code="import sys\nsys.stdout.write('x' * (3 * 1024 * 1024))")
    assert result["truncated"] is True
    assert len(str(result["stdout"])) == 1024 * 1024


def test_poll_and_stop(user: User, ws: str) -> None:
    started = user.client.post(
        f"/api/workspaces/{ws}/runs", json={"code": "import time\ntime.sleep(60)"}
    )
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["status"] == "running"
    assert user.client.get(f"/api/runs/{run_id}").json()["status"] == "running"
    stopped = user.client.post(f"/api/runs/{run_id}/stop", timeout=30)
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "killed"
    assert user.client.get(f"/api/runs/{run_id}").json()["status"] == "killed"


# A fresh sandbox imports numpy, pandas and matplotlib within the default 30 s
# run limit: on a host busy with other workers' tests it can take longer.
@pytest.mark.exclusive
def test_numpy_pandas_matplotlib_plot(user: User, ws: str) -> None:
    code = (
        "import numpy as np, pandas as pd, matplotlib.pyplot as plt\n"
        "df = pd.DataFrame({'x': np.arange(5), 'y': np.arange(5) ** 2})\n"
        "print(df['y'].sum())\n"
        "plt.plot(df.x, df.y)\nplt.title('squares')\nplt.show()\n"
    )
    result = run(user, ws, code=code)
    assert result["status"] == "ok", result["stderr"]
    assert result["stdout"] == "30\n"
    images = result["images"]
    assert isinstance(images, list)
    assert len(images) == 1
    image = user.client.get(str(images[0]))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_daemon_does_not_outlive_run(user: User, ws: str) -> None:
    # A double-forked, setsid()-ed daemon: it leaves the run's process tree
    # but not its cgroup, so it ends with the run.
    daemon = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execvp('sleep', ['sleep', '300'])\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )
    assert run(user, ws, code=daemon)["stdout"] == "parent done\n"
    ps = run(user, ws, code="import subprocess\nsubprocess.run(['ps', '-eo', 'args'])")
    assert "ps -eo args" in str(ps["stdout"])
    assert "sleep 300" not in str(ps["stdout"])


def test_missing_file_is_404_and_bad_body_is_400(user: User, ws: str) -> None:
    missing = user.client.post(f"/api/workspaces/{ws}/runs", json={"path": "nope.py"})
    assert missing.status_code == 404
    both = user.client.post(f"/api/workspaces/{ws}/runs", json={"path": "a.py", "code": "1"})
    assert both.status_code == 400
    neither = user.client.post(f"/api/workspaces/{ws}/runs", json={})
    assert neither.status_code == 400
    escape = user.client.post(f"/api/workspaces/{ws}/runs", json={"path": "../x.py"})
    assert escape.status_code == 400


def test_other_users_run_is_404(user: User, other_user: User, ws: str) -> None:
    result = run(user, ws, code="print(1)")
    assert other_user.client.get(f"/api/runs/{result['id']}").status_code == 404
    assert other_user.client.post(f"/api/runs/{result['id']}/stop").status_code == 404
    assert other_user.client.get(f"/api/runs/{result['id']}/images/0").status_code == 404


def test_sandbox_status_and_stop(user: User, ws: str) -> None:
    run(user, ws, code="print(1)")
    status = user.client.get(f"/api/workspaces/{ws}/sandbox").json()
    assert status["running"] is True
    assert status["memory_limit_bytes"] == 512 * 1024 * 1024
    assert status["pids_limit"] == 50
    assert user.client.delete(f"/api/workspaces/{ws}/sandbox").status_code == 204
    deadline = time.monotonic() + 10
    while user.client.get(f"/api/workspaces/{ws}/sandbox").json()["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    after = user.client.get(f"/api/workspaces/{ws}/sandbox").json()
    assert after["last_end"] == "stopped"
    assert run(user, ws, code="print(2)")["stdout"] == "2\n"


def test_sandboxes_still_start_after_a_stopped_run(user: User, ws: str) -> None:
    # Regression: a stopped run's output readers stayed registered with the
    # event loop on closed descriptors; when a later sandbox start reused the
    # numbers, the loop refused them and the start failed.
    for _ in range(2):
        started = user.client.post(
            f"/api/workspaces/{ws}/runs", json={"code": "import time\ntime.sleep(60)"}
        )
        time.sleep(0.5)
        assert user.client.post(f"/api/runs/{started.json()['id']}/stop").status_code == 200
    for name in ("a", "b", "c"):
        other = user.workspace(name)
        assert run(user, other, code="print('ok')")["stdout"] == "ok\n"
        # Ended after use: a user holds at most SANDBOXES_PER_USER (3) at once,
        # and each start here is a fresh one, as the regression needs.
        assert user.client.delete(f"/api/workspaces/{other}/sandbox").status_code == 204
