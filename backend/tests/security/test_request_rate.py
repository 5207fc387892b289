"""The request rate's pure parts: token buckets by key, and whose a token is."""

from __future__ import annotations

import time

import pytest

from sandpit.security.request_rate import CredentialOwners, TokenBuckets
from sandpit.security.tokens import TokenCodec


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_admitted_then_the_rate_and_the_wait_is_until_the_next_token() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=4, burst=3, clock=clock)
    assert [buckets.take("a").wait_s for _ in range(3)] == [0, 0, 0]
    refused = buckets.take("a")
    assert refused.wait_s == pytest.approx(0.25)
    clock.now += 0.1
    assert buckets.take("a").wait_s == pytest.approx(0.15)  # a refusal spends nothing
    clock.now += 0.15
    assert buckets.take("a").wait_s == 0
    assert buckets.take("a").wait_s == pytest.approx(0.25)


def test_the_bucket_refills_up_to_the_burst_only() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10, burst=2, clock=clock)
    buckets.take("a")
    clock.now += 3600  # an hour idle gives the burst, not 36,000 requests
    assert [buckets.take("a").wait_s > 0 for _ in range(3)] == [False, False, True]


def test_keys_have_their_own_buckets() -> None:
    buckets = TokenBuckets(rate=1, burst=1, clock=Clock())
    assert buckets.take("user:a").wait_s == 0
    assert buckets.take("user:a").wait_s > 0
    assert buckets.take("user:b").wait_s == 0
    assert buckets.take("address:10.0.0.1").wait_s == 0


def test_the_first_refusal_of_an_episode_is_marked_once() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    buckets.take("a")
    assert [buckets.take("a").first for _ in range(3)] == [True, False, False]
    clock.now += 1
    assert buckets.take("a").wait_s == 0  # admitted: the episode ends
    assert buckets.take("a").first


def test_a_refusal_before_the_last_retry_after_has_passed_is_marked_ignored() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    buckets.take("a")
    refused = buckets.take("a")
    assert (refused.wait_s > 0, refused.ignored) == (True, False)
    clock.now += 0.5  # Retry-After said 1 s: this client did not wait
    assert buckets.take("a").ignored
    clock.now += 1.0  # waited as told: admitted, and never marked
    assert buckets.take("a").wait_s == 0
    assert not buckets.take("a").ignored


def test_memory_is_bounded_and_busy_buckets_outlive_refilled_ones() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=2, max_keys=4, clock=clock)
    for key in ("idle-1", "idle-2"):
        buckets.take(key)
    clock.now += 10  # refilled: the same as no bucket
    for key in ("busy-1", "busy-2"):
        buckets.take(key)
        buckets.take(key)
    buckets.take("new")
    assert len(buckets) == 3
    assert buckets.take("busy-1").wait_s > 0  # still empty: not forgotten
    for n in range(100):  # every key busy: the oldest half goes, never past the bound
        buckets.take(f"flood-{n}")
        assert len(buckets) <= 4


def test_a_bucket_needs_a_rate_and_a_burst() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBuckets(rate=0, burst=1)
    with pytest.raises(ValueError, match="positive rate"):
        TokenBuckets(rate=1, burst=0)


class CountingCodec(TokenCodec):
    checks = 0

    def subject_and_expiry(self, token: str) -> tuple[str, int]:
        CountingCodec.checks += 1
        return super().subject_and_expiry(token)


def test_a_token_is_checked_once_and_its_owner_kept_until_it_expires() -> None:
    codec = CountingCodec("s" * 40, 3600)
    CountingCodec.checks = 0
    clock = Clock()
    clock.now = time.time()
    owners = CredentialOwners(codec, clock=clock)
    token = codec.issue("user-1")
    assert [owners.owner(token) for _ in range(3)] == ["user-1"] * 3
    assert CountingCodec.checks == 1
    clock.now += 3601  # past its expiry: checked again (jwt still judges by the real time)
    assert owners.owner(token) == "user-1"
    assert CountingCodec.checks == 2


def test_tokens_not_ours_or_expired_have_no_owner_and_are_not_kept() -> None:
    codec = TokenCodec("s" * 40, 3600)
    owners = CredentialOwners(codec, max_tokens=2)
    expired = codec.issue("user-1", now=time.time() - 7200)
    forged = TokenCodec("t" * 40, 3600).issue("user-1")
    for token in (expired, forged, "not-a-token"):
        assert owners.owner(token) is None
    assert len(owners) == 0
    for n in range(5):
        assert owners.owner(codec.issue(f"user-{n}")) == f"user-{n}"
        assert len(owners) <= 2
