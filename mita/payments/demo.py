"""The demo's money: customer accounts with opening arrears and three monthly bills, paid through every channel by
the operator's own cashier, collector and treasurer; a few payments in suspense, one voided, some advances.

Customer accounts here are bare ledger holders (connection numbers); the customers module gives them people.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step
from mita.ledger.selectors import ledger_verify
from mita.ledger.services import charge_post, holder_account, opening_balance_post
from mita.payments.models import Channel, Payment
from mita.payments.preferences import payment_settings_update
from mita.payments.services import payment_assign, payment_receive, payment_void

ACCOUNTS_WITH_MONEY = 60  # per operator: enough to fill the pages, quick to build
# Per operator: the head its bills use, and a typical monthly bill (before VAT) in its currency.
BILLS = {
    "amazi": ("water_sales", Decimal("4200"), "standard"),
    "kilaraipur": ("water_sales", Decimal("180"), "exempt"),
    "izuba": ("electricity_sales", Decimal("6500"), "standard"),
}
MONTH_ENDS = [datetime.date(2026, 8, 31), datetime.date(2026, 9, 30), datetime.date(2026, 10, 31)]


def _staff(ctx: DemoContext, operator: Any) -> dict[str, Any]:
    users = ctx.objects["users"]
    return {
        role: users[f"{role}@{operator}"]
        for role in (Role.CASHIER, Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN)
    }


def _pay(
    operator: Any, channel: str, amount: Decimal, reference: str, user: Any, value_date: datetime.date, **extra: Any
) -> Payment:
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=amount,
        account_reference=reference,
        idempotency_key=f"demo:{uuid.uuid5(uuid.NAMESPACE_URL, f'{operator.prefix}:{reference}:{channel}:{value_date}:{amount}')}",
        received_by=user,
        value_date=value_date,
        **extra,
    )


def build_money(ctx: DemoContext) -> None:
    count = min(ctx.accounts, ACCOUNTS_WITH_MONEY)
    if count == 0:
        return
    payments = 0
    for key, (head, monthly, vat_rule) in BILLS.items():
        operator = ctx.objects[f"operator:{key}"]
        staff = _staff(ctx, operator)
        if key == "izuba":  # the mini-grid takes prepayments: advances held excluding VAT
            payment_settings_update(
                operator=operator,
                allocation_order="due_date",
                head_order=["penalties"],
                advance_ex_vat=True,
                acting_user=staff[Role.OPERATOR_ADMIN],
            )
        for number in range(1, count + 1):
            holder = f"{operator.prefix}-{number:06d}"
            holder_account(operator=operator, holder=holder, purpose="receivable")
            if number % 7 == 0:
                opening_balance_post(
                    operator=operator,
                    holder=holder,
                    amount=monthly * ctx.rng.choice([1, 2, 3]),
                    as_of=datetime.date(2026, 7, 31),
                    reference=f"opening:{holder}",
                    acting_user=staff[Role.OPERATOR_ADMIN],
                )
            for month_end in MONTH_ENDS:
                usage = Decimal(ctx.rng.randint(60, 140)) / 100
                charge_post(
                    operator=operator,
                    holder=holder,
                    head=head,
                    amount=(monthly * usage).quantize(Decimal("1")),
                    vat_rule=vat_rule,
                    reference=f"bill:{holder}:{month_end:%Y-%m}",
                    due_date=month_end + datetime.timedelta(days=15),
                    value_date=month_end,
                    acting_user=None,
                )
                # Most customers pay something each month, by the channel they like.
                if ctx.rng.random() < 0.8:
                    channel, role = ctx.rng.choice(
                        [
                            (Channel.CASH_OFFICE, Role.CASHIER),
                            (Channel.CASH_FIELD, Role.REVENUE_COLLECTOR),
                            (Channel.BANK, Role.TREASURER),
                            (Channel.MOMO, None),
                            (Channel.MOMO, None),
                        ]
                    )
                    share = Decimal(ctx.rng.choice([50, 80, 100, 100, 100, 130])) / 100
                    extra = {"provider_reference": f"DEMO{ctx.rng.randrange(10**9):09d}"} if role is None else {}
                    _pay(
                        operator,
                        channel,
                        (monthly * share).quantize(Decimal("1")),
                        holder,
                        staff[role] if role else None,
                        month_end + datetime.timedelta(days=ctx.rng.randint(3, 20)),
                        **extra,
                    )
                    payments += 1
        # The reconciliation queue: two payments whose reference matched nobody, one of them assigned since.
        today = timezone.localdate()
        stray = _pay(
            operator, Channel.MOMO, monthly, f"{operator.prefix}-00O012", None, today, provider_reference="DEMOSTRAY1"
        )
        _pay(operator, Channel.BANK, monthly * 2, "meter 4471 Mukamana", staff[Role.TREASURER], today)
        payment_assign(
            payment=stray, holder_reference=f"{operator.prefix}-{min(count, 12):06d}", acting_user=staff[Role.TREASURER]
        )
        # A cashier's mistake today, voided with the treasurer's approval.
        mistake = _pay(
            operator,
            Channel.CASH_OFFICE,
            monthly * 10,
            f"{operator.prefix}-{min(count, 3):06d}",
            staff[Role.CASHIER],
            today,
        )
        payment_void(
            payment=mistake,
            reason="Typed one zero too many; the customer paid a tenth of it.",
            approved_by=staff[Role.TREASURER],
            acting_user=staff[Role.CASHIER],
            approver_roles=frozenset({Role.TREASURER}),
        )
        payments += 3
    problems = ledger_verify()
    if problems:
        raise RuntimeError(f"The demo ledger does not verify: {problems[0]}")
    ctx.log(f"{count} customer accounts with money per operator, {payments} payments; the ledger verifies")


register_demo_step(60, "payments.money", build_money)


def build_channels(ctx: DemoContext) -> None:
    """Mobile money and online payments switched on, so that the demo's fakes take payments end to end: MTN MoMo and
    online payment links at every operator, and an M-Pesa paybill (Safaricom's sandbox one, which the fake knows)
    at Amazi Meza."""
    from mita.integrations.mpesa.fake import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
    from mita.payments.momo import momo_channel_configure
    from mita.payments.mpesa import mpesa_channel_configure
    from mita.payments.online import online_channel_configure

    for key in BILLS:
        operator = ctx.objects[f"operator:{key}"]
        admin = _staff(ctx, operator)[Role.OPERATOR_ADMIN]
        momo_channel_configure(operator=operator, acting_user=admin)
        online_channel_configure(operator=operator, acting_user=admin, enabled=True)
    amazi = ctx.objects["operator:amazi"]
    mpesa_channel_configure(
        operator=amazi,
        acting_user=_staff(ctx, amazi)[Role.OPERATOR_ADMIN],
        shortcode=SANDBOX_SHORTCODE,
        passkey=SANDBOX_PASSKEY,
    )
    ctx.log("MoMo and online payments at every operator, an M-Pesa paybill at Amazi Meza (served by the fakes)")


register_demo_step(61, "payments.channels", build_channels)
