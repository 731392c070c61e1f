"""Both sides of an identity, their difference and the tolerance the printed precision allows.

Each check yields a ``Finding`` with both sides, the difference and the tolerance. 万元 tables are
rounded cell by cell to 0.01 万元 (100 元), so a sum of n addends may differ from its printed total
by up to 0.5 × 100 元 × n: such a difference is ``PASS_ROUNDING``, larger ones ``FAIL``. 元 tables
must add up exactly."""

from __future__ import annotations

from decimal import Decimal

from pipelines.normalize.facts import Finding, FuncFact, SummaryFact

ZERO = Decimal(0)
HALF_CENT_WAN = Decimal(50)  # 0.5 × 0.01 万元, in 元


def tolerance(unit: str, n_addends: int) -> Decimal:
    return HALF_CENT_WAN * max(n_addends, 1) if unit == "万元" else ZERO


def compare(
    rule: str,
    table_type: str | None,
    page_no: int | None,
    subject: str,
    lhs: Decimal,
    rhs: Decimal,
    unit: str,
    n_addends: int,
    explain: str,
    severity: str = "error",
) -> Finding:
    diff = lhs - rhs
    tol = tolerance(unit, n_addends)
    if diff == 0:
        status = "PASS"
    elif abs(diff) <= tol:
        status = "PASS_ROUNDING"
    else:
        status = "FAIL"
    scale = Decimal(10000) if unit == "万元" else Decimal(1)

    def shown(v: Decimal) -> str:
        return f"{v / scale:,.2f}{unit}"

    message = f"{explain}: {shown(lhs)} vs {shown(rhs)} (difference {shown(diff)})"
    return Finding(
        rule=rule,
        status=status,
        severity=severity if status == "FAIL" else "info",
        table_type=table_type,
        page_no=page_no,
        subject=subject,
        lhs=lhs,
        rhs=rhs,
        diff=diff,
        tolerance=tol,
        message=message,
    )


def yuan_or_zero(f: FuncFact | SummaryFact | None) -> Decimal:
    return ZERO if f is None or f.amount.yuan is None else f.amount.yuan
