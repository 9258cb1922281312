"""Signals metering sends to the apps above it (billing listens; metering itself never acts on them).

`index_adjusted`: sent after the commit of an index adjustment, with `adjustment` (an IndexAdjustment). When its
`rebill_needed` is set, bills of its `cycles` may have been issued on the old index: billing flags them for cancel
and rebill, and sets `rebilled_at` once done (docs/metering-review.md).
"""

from django.dispatch import Signal

index_adjusted = Signal()
