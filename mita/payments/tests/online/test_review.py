"""Online checkouts waiting for review: a treasurer records one as a payment (on its account or the right one, in the
operator's currency) or closes it with a note; each once, audited, and only at the treasurer's own operator."""

from decimal import Decimal

import pytest
from django.urls import reverse

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.models import AuditEntry
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.payments.models import Payment
from mita.payments.models_online import OnlineCheckout
from mita.payments.online_review import online_review_dismiss, online_review_record
from mita.testing.factories import member

from .conftest import HOLDER, OTHER_HOLDER, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def treasurer_a(operator_a):  # type: ignore[no-untyped-def]
    return member(Role.TREASURER, operator_a, name="Tina Treasurer")


@pytest.fixture
def in_review(gateway, link_a) -> OnlineCheckout:  # type: ignore[no-untyped-def]
    """A checkout the gateway verified as paid in US dollars while the operator bills in RWF."""
    checkout = start(link_a)
    OnlineCheckout.objects.filter(pk=checkout.pk).update(
        status=OnlineCheckout.Status.REVIEW,
        transaction_id="9000001",
        confirmed_amount=Decimal("1.10"),
        reason="The gateway verified 1.10 USD; the operator bills in RWF.",
    )
    checkout.refresh_from_db()
    return checkout


def test_a_treasurer_records_a_reviewed_checkout_as_a_payment_once(in_review, treasurer_a, operator_a):
    checkout = online_review_record(
        checkout=in_review,
        amount=Decimal("1500"),
        holder="",
        note="Settled 1,500 RWF by the gateway",
        acting_user=treasurer_a,
    )
    assert checkout.status == "successful" and checkout.payment is not None
    assert checkout.payment.amount == Decimal("1500") and checkout.payment.received_by == treasurer_a
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert checkout.resolved_by == treasurer_a and checkout.resolution_note.startswith("Settled")
    # a second decision on the same checkout is refused, and makes no second payment
    with pytest.raises(DomainError) as refused:
        online_review_record(
            checkout=in_review,
            amount=Decimal("1500"),
            holder="",
            note="again, by a double click",
            acting_user=treasurer_a,
        )
    assert refused.value.code == "checkout_not_in_review"
    assert Payment.objects.filter(operator=operator_a).count() == 1
    assert AuditEntry.objects.filter(action="online.review_recorded").count() == 1
    assert ledger_verify(operator=operator_a) == []


def test_the_treasurer_may_put_the_payment_on_the_right_account(in_review, treasurer_a, operator_a):
    online_review_record(
        checkout=in_review,
        amount=Decimal("1500"),
        holder=OTHER_HOLDER,
        note="Customer paid on the neighbour's link",
        acting_user=treasurer_a,
    )
    assert holder_balance(operator=operator_a, holder=OTHER_HOLDER) == Decimal("0")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")


def test_a_checkout_settled_outside_is_closed_with_a_note_and_no_payment(in_review, treasurer_a, operator_a):
    with pytest.raises(DomainError) as refused:
        online_review_dismiss(checkout=in_review, note=" ", acting_user=treasurer_a)
    assert refused.value.code == "review_note_required"
    checkout = online_review_dismiss(
        checkout=in_review, note="Refunded by the gateway on 1 Dec", acting_user=treasurer_a
    )
    assert checkout.status == "resolved" and checkout.is_settled and checkout.payment is None
    assert Payment.objects.filter(operator=operator_a).count() == 0
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")
    entry = AuditEntry.objects.get(action="online.review_dismissed")
    assert entry.after["note"] == "Refunded by the gateway on 1 Dec"


def test_an_amount_must_be_above_zero(in_review, treasurer_a):
    with pytest.raises(DomainError) as refused:
        online_review_record(
            checkout=in_review, amount=Decimal("0"), holder="", note="nothing to say", acting_user=treasurer_a
        )
    assert refused.value.code == "amount_invalid"
    in_review.refresh_from_db()
    assert in_review.status == "review"


# The page ----------------------------------------------------------------------------------------------------------


def test_the_review_page_records_the_payment(in_review, treasurer_a, client_for, operator_a):
    client = client_for(treasurer_a)
    listing = client.get(reverse("online:checkout_list")).content.decode()
    assert f'data-testid="checkout-review-{in_review.pk}"' in listing
    url = reverse("online:checkout_review", args=[in_review.pk])
    page = client.get(url).content.decode()
    assert "1.10 USD" in page
    missing = client.post(url, {"decision": "record", "amount": "", "holder": HOLDER, "note": "Settled in RWF"})
    assert missing.status_code == 400 and "Give the amount received" in missing.content.decode()
    done = client.post(url, {"decision": "record", "amount": "1500", "holder": HOLDER, "note": "Settled in RWF"})
    assert done.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == "successful"
    assert 'data-testid="review-done"' in client.get(url).content.decode()


def test_a_cashier_may_not_review(in_review, operator_a, client_for):
    cashier = member(Role.CASHIER, operator_a)
    assert client_for(cashier).get(reverse("online:checkout_review", args=[in_review.pk])).status_code == 403


def test_another_operator_s_checkout_is_not_found_for_review(in_review, admin_b, client_for):
    url = reverse("online:checkout_review", args=[in_review.pk])
    client = client_for(admin_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "dismiss", "note": "not mine at all"}).status_code == 404
    in_review.refresh_from_db()
    assert in_review.status == "review"
