"""What payments tell the apps above them, without knowing them."""

from django.dispatch import Signal

# Sent with `operator`, `holder`, `charge_ids` and `heads` (the set of those charges' heads, so that a listener can
# tell at no cost whether any is its own) when a payment or a customer's credit has cleared (part of) those charges,
# inside that transaction. Servicing listens to advance requests whose fee is now paid (docs/servicing.md).
charges_settled = Signal()
