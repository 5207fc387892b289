"""Fixtures of the submission and review tests: a reviewer, two students, an outsider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import User
from tests.review.helpers import set_role
from tests.servers import SandpitServer


# Reviewers are made once per module: each takes a `sandpit user set-role` process.
@pytest.fixture(scope="module")
def reviewer(server: SandpitServer) -> Iterator[User]:
    made = User(server)
    set_role(server, made, "reviewer")
    yield made
    made.close()


@pytest.fixture(scope="module")
def other_reviewer(server: SandpitServer) -> Iterator[User]:
    made = User(server)
    set_role(server, made, "reviewer")
    yield made
    made.close()


@pytest.fixture
def student(server: SandpitServer) -> Iterator[User]:
    made = User(server)
    yield made
    made.close()


@pytest.fixture
def other_student(server: SandpitServer) -> Iterator[User]:
    made = User(server)
    yield made
    made.close()
