"""A job's amount split between its salesmen: to the cent, adding up exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.commissions.plans import split

D = Decimal


def test_largest_remainder_ties_by_salesman_id() -> None:
    thirds = {"carol": D("33.3334"), "bob": D("33.3333"), "alice": D("33.3333")}
    assert split(D("100.00"), thirds) == {
        "carol": D("33.34"),
        "bob": D("33.33"),
        "alice": D("33.33"),
    }
    # 0.01 between two equal halves: the lower id gets the cent.
    assert split(D("0.01"), {"zoe": D(50), "adam": D(50)}) == {"zoe": D("0.00"), "adam": D("0.01")}
    assert split(D("10.01"), {"b": D(50), "a": D(50)}) == {"b": D("5.00"), "a": D("5.01")}


def test_a_claw_back_mirrors_the_release() -> None:
    shares = {"a": D(60), "b": D(40)}
    release = split(D("1020.05"), shares)
    claw_back = split(D("-1020.05"), shares)
    assert release == {"a": D("612.03"), "b": D("408.02")}
    assert claw_back == {who: -amount for who, amount in release.items()}
    assert sum(claw_back.values()) == D("-1020.05")


def test_shares_not_adding_up_to_100_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"shares add up to 90%, not 100%: a 60%, b 30%"):
        split(D("100.00"), {"a": D(60), "b": D(30)})
    with pytest.raises(ValueError, match="never negative: b -10"):
        split(D("100.00"), {"a": D(110), "b": D(-10)})
    with pytest.raises(ValueError, match="at least one"):
        split(D("100.00"), {})
    with pytest.raises(ValueError, match="to the cent"):
        split(D("100.005"), {"a": D(100)})


@st.composite
def shares_summing_to_100(draw: st.DrawFn) -> dict[str, Decimal]:
    count = draw(st.integers(1, 6))
    # Cut points in hundredths of a percent (4 decimals of a percent: 1,000,000 units).
    cuts = sorted(draw(st.lists(st.integers(0, 1_000_000), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, 1_000_000]
    names = draw(
        st.lists(
            st.text("abcdefgh", min_size=1, max_size=3), min_size=count, max_size=count, unique=True
        )
    )
    return {
        name: Decimal(high - low).scaleb(-4)
        for name, low, high in zip(names, bounds, bounds[1:], strict=False)
    }


@given(
    cents=st.integers(-10_000_000_00, 10_000_000_00),
    shares=shares_summing_to_100(),
)
def test_any_split_adds_up_exactly_to_the_cent(cents: int, shares: dict[str, Decimal]) -> None:
    amount = Decimal(cents).scaleb(-2)
    parts = split(amount, shares)
    assert set(parts) == set(shares)
    assert sum(parts.values(), Decimal(0)) == amount
    for who, part in parts.items():
        assert part == part.quantize(Decimal("0.01"))
        exact = amount * shares[who] / 100
        assert abs(part - exact) < Decimal("0.01")
