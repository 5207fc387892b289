"""`LoginThrottle`, pure logic with a fake clock (over HTTP: tests/api/test_accounts.py)."""

from __future__ import annotations

from sandpit.security.login_throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **overrides: float) -> LoginThrottle:
    settings: dict[str, float] = {"free_failures": 3, "base_s": 1.0, "max_s": 8.0}
    settings.update(overrides)
    return LoginThrottle(
        free_failures=int(settings["free_failures"]),
        base_s=settings["base_s"],
        max_s=settings["max_s"],
        clock=clock,
    )


def test_delays_double_after_the_free_failures_up_to_the_cap() -> None:
    limiter = throttle(Clock())
    assert [limiter.delay_after(n) for n in range(1, 10)] == [0, 0, 0, 1, 2, 4, 8, 8, 8]
    assert limiter.delay_after(10_000) == 8


def test_pairs_are_apart_so_the_owner_is_never_held_back() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(10):
        if limiter.wait("ada", "stranger") == 0:
            limiter.failed("ada", "stranger")
    assert limiter.wait("ada", "stranger") > 0
    assert limiter.wait("ada", "home") == 0
    assert limiter.wait("bob", "stranger") == 0


def test_the_wait_passes_and_a_success_forgets() -> None:
    clock = Clock()
    limiter = throttle(clock)
    delays = [limiter.failed("ada", "a") for _ in range(5)]
    assert delays == [0, 0, 0, 1, 2]
    assert limiter.wait("ada", "a") == 2
    clock.now += 1.5
    assert limiter.wait("ada", "a") == 0.5
    clock.now += 0.5
    assert limiter.wait("ada", "a") == 0
    assert limiter.failed("ada", "a") == 4  # the count goes on: the next is longer
    limiter.succeeded("ada", "a")
    assert limiter.wait("ada", "a") == 0
    assert limiter.failed("ada", "a") == 0


def test_a_quiet_pair_is_forgotten_and_memory_is_bounded() -> None:
    clock = Clock()
    limiter = LoginThrottle(free_failures=1, base_s=1, max_s=2, max_pairs=10, clock=clock)
    for _ in range(3):
        limiter.failed("ada", "a")
    clock.now += limiter.forget_s
    assert limiter.wait("ada", "a") == 0
    assert limiter.failed("ada", "a") == 0  # counted from the start again
    for i in range(100):
        limiter.failed(f"user{i}", "a")
    assert len(limiter._pairs) <= 10
