import datetime
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from mita.core.audit import audit_record
from mita.core.jobs import job_advance, job_create, job_finish, job_start
from mita.core.models import AuditEntry, ScheduledRun
from mita.core.money import quantize
from mita.core.schedule import enqueue_due

pytestmark = pytest.mark.django_db


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_audit_log_refuses_update_and_delete_in_the_database(admin_a, operator_a):
    entry = audit_record(actor=admin_a, action="test.done", target=operator_a, after={"x": 1})
    for statement in (
        f"UPDATE core_auditentry SET action = 'forged' WHERE id = {entry.pk}",
        f"DELETE FROM core_auditentry WHERE id = {entry.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.done"


def test_an_audit_entry_records_who_what_where_and_the_request(client_for, admin_a, operator_a):
    response = client_for(admin_a).post(
        reverse("accounts:user_invite"),
        {
            "phone": "+250788777002",
            "name": "New Person",
            "email": "",
            "role": "cashier",
            "language": "en",
        },
        headers={"X-Request-Id": "req-12345678"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="membership.granted")
    assert entry.actor == admin_a
    assert entry.operator == operator_a
    assert entry.request_id == "req-12345678"
    assert entry.after["role"] == "cashier"


def test_admins_search_the_audit_log_and_see_only_their_operator(client_for, admin_a, admin_b, operator_a, operator_b):
    audit_record(actor=admin_a, action="thing.of_a", target=operator_a)
    audit_record(actor=admin_b, action="thing.of_b", target=operator_b)
    page = client_for(admin_a).get(reverse("core:audit_list"), {"q": "thing"}).content.decode()
    assert "thing.of_a" in page
    assert "thing.of_b" not in page


def test_the_audit_log_is_for_admins_only(client_for, staff_a):
    assert client_for(staff_a).get(reverse("core:audit_list")).status_code == 403


def test_a_job_reports_progress_on_its_page(client_for, admin_a, operator_a):
    job = job_create(kind="test", title="Counting", total=4, operator=operator_a)
    job_start(job_id=job.pk)
    job_advance(job_id=job.pk, by=2, message="half way")
    page = client_for(admin_a).get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "50%" in page and "half way" in page
    job_finish(job_id=job.pk)
    job.refresh_from_db()
    assert job.percent == 100


def test_money_rounds_once_per_currency():
    assert quantize(Decimal("10.5"), "RWF") == Decimal("11")
    assert quantize(Decimal("10.005"), "INR") == Decimal("10.01")
    with pytest.raises(TypeError):
        quantize(10.5, "RWF")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown currency"):
        quantize(Decimal(1), "XXX")


def test_periodic_tasks_are_enqueued_once_per_interval():
    now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    first = enqueue_due(now)
    assert "notifications.outbox_sweep" in first
    assert enqueue_due(now + datetime.timedelta(seconds=10)) == []
    assert "notifications.outbox_sweep" in enqueue_due(now + datetime.timedelta(minutes=2))
    assert ScheduledRun.objects.filter(name="notifications.outbox_sweep").count() == 1


def test_the_global_search_finds_users_for_admins_only(client_for, admin_a, staff_a):
    assert "Sam Staff" in client_for(admin_a).get(reverse("core:search"), {"q": "Sam"}).content.decode()
    assert "Sam Staff" not in client_for(staff_a).get(reverse("core:search"), {"q": "Sam"}).content.decode()


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "MITA_HTTPS": "true",
        "SECRET_KEY": "x" * 20 + "-Production-Secret-Key-0123456789-abcdefgh",
        "ALLOWED_HOSTS": "mita.example.org",
        "MITA_VAR_DIR": str(tmp_path),
    }
    for name in ("MITA_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE", "MITA_TASKS_IMMEDIATE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "mita.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_django_admin_is_for_site_staff_only_and_audits_changes(client_for, admin_a, operator_a):
    # an operator admin is not site staff: the Django admin sends them to its login
    assert client_for(admin_a).get("/admin/registry/operator/").status_code == 302
    # site staff can change an operator there, and the change is audited
    from mita.testing.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(staff).post(
        f"/admin/registry/operator/{operator_a.pk}/change/",
        {
            "name": "Amazi Alpha Renamed",
            "kind": operator_a.kind,
            "utility": operator_a.utility,
            "prefix": "AAL",
            "country_code": "RW",
            "currency": "RWF",
            "phone": "",
            "email": "",
            "districts": [],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.operator.changed")
    assert entry.actor == staff and entry.operator == operator_a and entry.after["name"] == "Amazi Alpha Renamed"


@pytest.mark.parametrize("asset", ["mita/mita.css", "mita/favicon.svg", "django_htmx/htmx-2.min.js"])
def test_the_app_serves_its_own_assets(client, asset):
    from django.templatetags.static import static

    response = client.get(static(asset))
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_passwords_are_hashed_with_argon2_outside_the_tests(tmp_path):
    env = {**os.environ, "MITA_VAR_DIR": str(tmp_path)}
    env.pop("MITA_TESTING", None)
    code = "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'mita.settings'; django.setup(); {code}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_web_process_loads_its_urls_before_the_first_request_and_freezes_them(tmp_path):
    # gunicorn imports mita.wsgi in each worker: after it, the URLconf (every app's views, the API) is loaded and the
    # loaded objects are out of the garbage collector's full collections, so no request pays for either.
    probe = (
        "import gc, sys\n"
        "assert 'mita.urls' not in sys.modules and gc.get_freeze_count() == 0\n"
        "import mita.wsgi\n"
        "print('mita.urls' in sys.modules, 'mita.api' in sys.modules, gc.get_freeze_count())\n"
    )
    env = {**os.environ, "DEBUG": "false", "MITA_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    urls_loaded, api_loaded, frozen = result.stdout.split()
    assert urls_loaded == "True" and api_loaded == "True"
    assert int(frozen) > 50_000, frozen
