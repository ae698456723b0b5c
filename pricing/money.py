"""Money in integer cents (hundredths), one currency per amount.

Floats are refused everywhere (``TypeError``): an amount is an ``int`` of cents, a decimal
string or a :class:`~decimal.Decimal`. Rounding happens in exactly one place,
:meth:`Money.scaled` / :meth:`Money.divided_by`, ROUND_HALF_UP to the cent, so a ledger entry is
rounded once. ``==`` compares value and currency (``$1.00 != EUR 1.00``); ordering across
currencies raises :class:`~pricing.errors.CurrencyMismatchError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from .errors import CurrencyMismatchError

__all__ = ["MAX_CENTS", "Money", "check_currency", "reject_float", "sum_money", "whole_number"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENT = Decimal("0.01")
#: cents are stored as a signed 64-bit integer (SQL BIGINT), about 92 quadrillion units
MAX_CENTS = 2**63 - 1
_MAX_DIGITS = 16  # digits before the decimal point that parse() considers at all


def reject_float(value: object, what: str) -> None:
    """Raise TypeError for a float (or anything that is not an exact number)."""
    if isinstance(value, float):
        raise TypeError(f"{what} must not be a float (got {value!r}); use an int of cents, "
                        f"a Decimal or a decimal string such as '11.00'")


def check_currency(currency: str) -> str:
    """The currency code, validated: three upper-case letters (ISO 4217, e.g. USD, EUR)."""
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValueError(f"currency must be a three-letter ISO code such as USD or EUR, "
                         f"got {currency!r}")
    return currency


def whole_number(value: object, what: str, *, minimum: int | None = None) -> int:
    """``value`` as an int (not a float, not a bool), at least ``minimum`` when given."""
    reject_float(value, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return value


def _exact_ratio(value: object, what: str) -> Decimal:
    reject_float(value, what)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{what} must be a Decimal or an int, got {type(value).__name__}")
    ratio = Decimal(value)
    if not ratio.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return ratio


@dataclass(frozen=True)
class Money:
    """An amount of ``cents`` (hundredths of the unit) in ``currency``."""

    cents: int
    currency: str

    def __post_init__(self) -> None:
        if abs(whole_number(self.cents, "Money.cents")) > MAX_CENTS:
            raise ValueError(f"{self.cents} cents does not fit a 64-bit ledger column")
        check_currency(self.currency)

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, amount: str | Decimal | int, currency: str) -> Money:
        """``Money.parse("11.00", "USD")``; also reads what ``str()`` writes ("-$19.80",
        "EUR 11.00"). More than two decimals is an error, never a silent rounding."""
        reject_float(amount, "amount")
        check_currency(currency)
        if isinstance(amount, str):
            text = amount.strip().replace(",", "")
            sign = ""
            if text.startswith("-"):
                sign, text = "-", text[1:].strip()
            for prefix in ("$", currency) if currency == "USD" else (currency,):
                if text.startswith(prefix):
                    text = text[len(prefix):].strip()
                    break
            if text.startswith("-") and not sign:
                sign, text = "-", text[1:]
            try:
                value = Decimal(sign + text)
            except InvalidOperation:
                raise ValueError(f"not an amount: {amount!r} (write it like 11.00)") from None
        elif isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            raise TypeError(f"amount must be a str, Decimal or int, got {type(amount).__name__}")
        else:
            value = Decimal(amount)
        if not value.is_finite() or value.adjusted() > _MAX_DIGITS:
            raise ValueError(f"{amount!r} is not an amount outtask can store in {currency}")
        cents = value.scaleb(2)
        if cents != cents.to_integral_value():
            raise ValueError(f"{amount!r} is not a whole number of cents in {currency}")
        return cls(int(cents), currency)

    # -- views ------------------------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        """The amount in units, exact, two places (``Decimal("132.20")``)."""
        return (Decimal(self.cents) / 100).quantize(_CENT)

    def decimal_str(self) -> str:
        """"132.20", "-19.80": for CSV and other machine-readable text."""
        return str(self.amount)

    def is_zero(self) -> bool:
        return self.cents == 0

    def to_dict(self) -> dict[str, int | str]:
        return {"cents": self.cents, "currency": self.currency}

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        units = f"{abs(self.amount):,.2f}"
        if self.currency == "USD":
            return f"{sign}${units}"
        return f"{self.currency} {sign}{units}"

    # -- arithmetic -------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.cents), self.currency)

    def __mul__(self, count: int) -> Money:
        """Times a whole number (slides); for ratios use :meth:`scaled`."""
        reject_float(count, "a Money multiplier")
        if isinstance(count, bool) or not isinstance(count, int):
            return NotImplemented
        return Money(self.cents * count, self.currency)

    __rmul__ = __mul__

    def scaled(self, ratio: Decimal | int) -> Money:
        """This amount times ``ratio`` (a rush multiplier, a credit percentage), rounded
        ROUND_HALF_UP to the cent once: ``$11.00.scaled(Decimal("0.15")) == $1.65``."""
        factor = _exact_ratio(ratio, "ratio")
        with localcontext() as ctx:  # enough digits that the product itself is exact
            digits, exponent = factor.as_tuple()[1:]
            ctx.prec = len(str(self.cents)) + len(digits) + max(0, int(exponent)) + 2
            exact = Decimal(self.cents) * factor
            return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def divided_by(self, count: int) -> Money:
        """This amount split ``count`` ways (cost per slide), rounded ROUND_HALF_UP to the cent
        in integer arithmetic, so no precision limit applies."""
        count = whole_number(count, "divisor", minimum=1)
        magnitude = (2 * abs(self.cents) + count) // (2 * count)
        return Money(magnitude if self.cents >= 0 else -magnitude, self.currency)

    # -- ordering (one currency only) -------------------------------------------------------
    def _key(self, other: object) -> tuple[int, int] | None:
        if not isinstance(other, Money):
            return None
        self._same(other)
        return self.cents, other.cents

    def __lt__(self, other: object) -> bool:
        pair = self._key(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._key(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._key(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._key(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """The sum of ``amounts``, all of which must be in ``currency`` (an empty sum is zero)."""
    total = Money.zero(currency)
    for amount in amounts:
        if not isinstance(amount, Money):
            reject_float(amount, "an amount to sum")
            raise TypeError(f"sum_money takes Money values, got {type(amount).__name__}")
        if amount.currency != currency:
            raise CurrencyMismatchError(currency, amount.currency, what="a sum")
        total = Money(total.cents + amount.cents, currency)
    return total
