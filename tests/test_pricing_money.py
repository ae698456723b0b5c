"""Money in cents, rate cards and vendors: no floats, one currency, rounding once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import CurrencyMismatchError, Money, RateCard, Vendor, is_rush, slide_rate_for
from pricing.money import MAX_CENTS, sum_money


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def test_parse_and_str_round_trip() -> None:
    assert usd("11.00") == Money(1100, "USD")
    assert str(usd("11")) == "$11.00"
    assert str(Money(-1980, "USD")) == "-$19.80"
    assert str(Money(1100, "EUR")) == "EUR 11.00"
    assert str(Money(-1980, "EUR")) == "EUR -19.80"
    assert str(Money(123456, "USD")) == "$1,234.56"
    for money in (Money(-1980, "USD"), Money(1100, "EUR"), Money(-5, "EUR"), Money(0, "USD"),
                  Money(123456, "USD")):
        assert Money.parse(str(money), money.currency) == money
    assert Money.parse(Decimal("0.10"), "USD").cents == 10
    assert Money.parse(7, "USD").cents == 700
    assert usd("132.20").decimal_str() == "132.20"
    assert Money(-5, "USD").decimal_str() == "-0.05"
    assert usd("132.20").amount == Decimal("132.20")


@pytest.mark.parametrize("text", ["11.005", "abc", "", "1e400000", "NaN", "$ 1.2.3"])
def test_parse_refuses_what_is_not_whole_cents(text: str) -> None:
    with pytest.raises(ValueError):
        usd(text)


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        Money(11.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.parse(11.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd("11.00") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        1.5 * usd("11.00")  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("11.00").scaled(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd("11.00") + 1.0  # type: ignore[operator]
    with pytest.raises(TypeError):
        sum_money([usd("1.00"), 2.0], "USD")  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(TypeError):
        RateCard("vendor-a", usd("11.00"), rush_multiplier=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Vendor("vendor-a", "A", 4.5, RateCard("vendor-a", usd("11.00")))  # type: ignore[arg-type]


def test_amounts_fit_a_bigint_column() -> None:
    assert Money(MAX_CENTS, "USD").cents == 2**63 - 1
    with pytest.raises(ValueError):
        Money(MAX_CENTS + 1, "USD")
    with pytest.raises(ValueError):
        Money(MAX_CENTS, "USD") + Money(1, "USD")
    with pytest.raises(ValueError):
        usd("1" + "0" * 17)


def test_currency_codes_are_validated() -> None:
    for bad in ("usd", "US", "DOLLAR", ""):
        with pytest.raises(ValueError):
            Money(1, bad)


def test_arithmetic_within_one_currency() -> None:
    a, b = usd("11.00"), usd("0.50")
    assert a + b == usd("11.50")
    assert a - b == usd("10.50")
    assert -a == usd("-11.00")
    assert abs(usd("-3.00")) == usd("3.00")
    assert a * 12 == usd("132.00") == 12 * a
    assert a > b and b < a and a >= a and a <= a
    assert Money.zero("EUR") == Money(0, "EUR")
    assert sum_money([], "USD") == Money.zero("USD")
    assert sum_money([a, b, -b], "USD") == a
    assert len({usd("1.00"), Money(100, "USD")}) == 1


def test_currency_mismatch() -> None:
    a, e = usd("11.00"), Money(1100, "EUR")
    assert a != e  # equality is by value and currency; ordering is refused
    for operation in (lambda: a + e, lambda: a - e, lambda: a < e, lambda: a >= e,
                      lambda: sum_money([a, e], "USD"), lambda: sum_money([a], "EUR")):
        with pytest.raises(CurrencyMismatchError) as caught:
            operation()
        assert caught.value.to_dict()["code"] == "currency-mismatch"
        assert "exchange" in caught.value.fix


def test_scaled_rounds_half_up_once() -> None:
    assert usd("132.00").scaled(Decimal("0.15")) == usd("19.80")
    assert Money(5, "USD").scaled(Decimal("0.5")) == Money(3, "USD")  # 2.5 -> 3
    assert Money(-5, "USD").scaled(Decimal("0.5")) == Money(-3, "USD")  # symmetric
    assert Money(4, "USD").scaled(Decimal("0.5")) == Money(2, "USD")
    assert Money(1, "USD").scaled(Decimal("0.49")) == Money(0, "USD")
    assert usd("11.00").scaled(3) == usd("33.00")


def test_divided_by_rounds_half_up_exactly() -> None:
    assert usd("247.80").divided_by(22) == usd("11.26")  # 1126.36...
    assert Money(5, "USD").divided_by(2) == Money(3, "USD")
    assert Money(-5, "USD").divided_by(2) == Money(-3, "USD")
    assert Money(10**18 + 1, "USD").divided_by(2) == Money(5 * 10**17 + 1, "USD")
    with pytest.raises(ValueError):
        usd("1.00").divided_by(0)


def test_rate_card_defaults_and_rush() -> None:
    card = RateCard("vendor-a", usd("11.00"))
    assert card.free_revision_rounds == 2
    assert card.revision_rate == usd("5.00")
    assert card.rush_multiplier == Decimal("1.5")
    assert card.timezone == "UTC" and card.currency == "USD"
    assert RateCard("vendor-e", Money(900, "EUR")).revision_rate == Money(500, "EUR")
    assert slide_rate_for(card, 24) == usd("11.00")
    assert slide_rate_for(card, 48) == usd("11.00")
    assert slide_rate_for(card, 12) == usd("16.50")
    assert is_rush(23) and not is_rush(24)
    odd = RateCard("vendor-b", usd("10.33"), rush_multiplier=Decimal("1.25"))
    assert slide_rate_for(odd, 8) == usd("12.91")  # 1291.25 -> 1291
    with pytest.raises(ValueError):
        slide_rate_for(card, 0)


def test_rate_card_and_vendor_validation() -> None:
    with pytest.raises(CurrencyMismatchError):
        RateCard("vendor-a", usd("11.00"), revision_slide_rate=Money(500, "EUR"))
    with pytest.raises(ValueError, match="time zone"):
        RateCard("vendor-a", usd("11.00"), timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        RateCard("Vendor A", usd("11.00"))
    with pytest.raises(ValueError):
        RateCard("vendor-a", usd("11.00"), rush_multiplier=Decimal("0.9"))
    card = RateCard("vendor-a", usd("11.00"), timezone="Asia/Manila")
    vendor = Vendor("vendor-a", "Alpha Decks", Decimal("4.6"), card)
    assert vendor.rate_card.timezone == "Asia/Manila"
    with pytest.raises(ValueError):
        Vendor("vendor-a", "Alpha Decks", Decimal("5.1"), card)
    with pytest.raises(ValueError):
        Vendor("vendor-b", "Beta", Decimal("4.0"), card)
