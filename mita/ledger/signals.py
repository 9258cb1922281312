"""What the ledger tells the apps above it, without knowing them: a charge was posted (inside its transaction)."""

from django.dispatch import Signal

# Sent with `charge` and `acting_user` once a charge's transfers are posted, in the same transaction; payments
# uses it to apply a customer's credit (advances, overpayments) to the new charge at once.
charge_posted = Signal()
