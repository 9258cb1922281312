"""The SMS the customers app sends: the code for a contact change, and the notice of a change made without one."""

from django.utils.translation import gettext_lazy as _

from mita.notifications.catalogue import register_template

register_template(
    "customers.contact_change_code",
    subject=_("Your code for a contact change"),
    body=_(
        "%(operator)s: your code is %(code)s. Give it to our agent only if you asked to change your phone or "
        "e-mail. It expires in %(minutes)s minutes."
    ),
    sensitive=True,
)
register_template(
    "customers.contact_changed_without_code",
    subject=_("Your contact details were changed"),
    body=_(
        "%(operator)s: the phone or e-mail of customer %(number)s was changed by our office. "
        "If you did not ask for this, call us."
    ),
)
