"""Templates per language: a message is rendered in its recipient's language when it is queued."""

from collections.abc import Iterator

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from mita.notifications.catalogue import register_template, template_get, unregister_template
from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue


@pytest.fixture
def weekday_template() -> Iterator[str]:
    # "Monday" is in Django's own catalogues ("lundi" in French), so this needs no catalogue of Mita's.
    register_template("tests.weekday", subject=gettext_lazy("Monday"), body=gettext_lazy("Monday"))
    yield "tests.weekday"
    unregister_template("tests.weekday")


def test_a_message_queued_in_french_is_rendered_in_french(db, weekday_template):
    message = message_queue(channel="sms", to="+250788123456", template=weekday_template, context={}, language="fr")
    message.refresh_from_db()
    assert message.language == "fr"
    assert message.body == "lundi"
    assert message.subject == "lundi"


def test_the_senders_own_language_is_left_as_it_was(db, weekday_template):
    with translation.override("en"):
        message_queue(channel="sms", to="+250788123456", template=weekday_template, context={}, language="fr")
        assert translation.get_language() == "en"
        assert str(gettext_lazy("Monday")) == "Monday"


def test_each_message_gets_its_own_recipients_language(db, weekday_template):
    with translation.override("fr"):
        english = message_queue(channel="sms", to="+250788000001", template=weekday_template, context={}, language="en")
    assert english.body == "Monday"


def test_a_language_mita_does_not_offer_falls_back_to_the_default(db, settings, weekday_template):
    message = message_queue(channel="sms", to="+250788123456", template=weekday_template, context={}, language="xx")
    assert (message.language, message.body) == (settings.LANGUAGE_CODE, "Monday")


def test_messages_carrying_a_code_or_an_invitation_link_are_marked_secret(db):
    assert template_get("accounts.password_reset_code").sensitive
    assert template_get("accounts.invitation").sensitive
    assert not template_get("notifications.test").sensitive
    message = message_queue(
        channel="sms", to="+250788123456", template="accounts.password_reset_code", context={"code": "123456"}
    )
    assert OutboxMessage.objects.get(pk=message.pk).sensitive


def test_an_unknown_template_is_a_programming_error():
    with pytest.raises(LookupError):
        template_get("nope")
