"""What payments tell the apps above them, without knowing them."""

from django.dispatch import Signal

# Sent with `operator`, `holder` and `charge_ids` when a payment or a customer's credit has cleared (part of) those
# charges, inside that transaction. Servicing listens to advance requests whose fee is now paid (docs/servicing.md).
charges_settled = Signal()
