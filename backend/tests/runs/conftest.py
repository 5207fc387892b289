"""The runs suite runs against servers with warm interpreters, as production does.

Other suites' servers run without them to save the pass CPU (see
`tests/servers.py`); runs are where warm and fresh must both be right, and
`tests/runs/test_warm_api.py` shows runs going warm on these servers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import session_server
from tests.servers import SandpitServer


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    """A running server with warm interpreters, once with SQLite and once with PostgreSQL."""
    yield from session_server(request, warm_interpreter="true")
