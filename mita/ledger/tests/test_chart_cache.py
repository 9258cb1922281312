"""The operator-wide ledger accounts kept per process (ledger.services.account_get): only committed accounts are
remembered, and never across operators, even one that got an old operator's id."""

import copy
import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mita.ledger import services
from mita.ledger.services import account_get, account_remember, chart_ensure

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(services, "_CHART_CACHE", {})


def test_an_account_read_outside_a_transaction_is_read_once(operator_a):
    chart_ensure(operator=operator_a)
    first = account_get(operator=operator_a, code="clearing:cash_office")
    with CaptureQueriesContext(connection) as captured:
        again = account_get(operator=operator_a, code="clearing:cash_office")
    assert len(captured) == 0
    assert (again.pk, again.code, again.currency) == (first.pk, first.code, first.currency)
    # a copy each time: nothing one caller does to it reaches another
    assert again is not first and again is not account_get(operator=operator_a, code="clearing:cash_office")


def test_an_account_read_inside_a_transaction_is_remembered_only_when_handed_over_after_commit(operator_a):
    chart_ensure(operator=operator_a)
    with transaction.atomic():
        clearing = account_get(operator=operator_a, code="clearing:momo")
        account_remember(operator=operator_a, account=clearing)  # too early: the transaction may still roll back
        assert services._CHART_CACHE == {}
    account_remember(operator=operator_a, account=clearing)  # committed now
    assert [key[2] for key in services._CHART_CACHE] == ["clearing:momo"]


def test_a_rolled_back_chart_is_never_remembered(operator_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        account_get(operator=operator_a, code="suspense")  # the chart is made here, then rolled back
        raise RuntimeError
    assert services._CHART_CACHE == {}
    with CaptureQueriesContext(connection) as captured:
        suspense = account_get(operator=operator_a, code="suspense")  # made again, for real
    assert len(captured) > 0 and suspense.code == "suspense"


def test_another_operator_with_the_same_id_does_not_get_the_first_ones_accounts(operator_a):
    chart_ensure(operator=operator_a)
    account_get(operator=operator_a, code="clearing:cash_office")
    # as a test database does: another operator under the same id, made at another moment
    other = copy.copy(operator_a)
    other.created_at = operator_a.created_at + datetime.timedelta(seconds=1)
    with CaptureQueriesContext(connection) as captured:
        account_get(operator=other, code="clearing:cash_office")
    assert len(captured) > 0  # read from the database, not from what was kept for the first
    with CaptureQueriesContext(connection) as captured:
        account_get(operator=operator_a, code="clearing:cash_office")
    assert len(captured) == 0
