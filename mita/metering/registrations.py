"""What metering adds to the rest of Mita: home cards, customer panels, the meter search, benchmarks, demo steps.

One import per part, so that parts built side by side do not edit the same lines."""

from mita.metering import (  # noqa: F401
    reg_field,
    reg_imports,
    reg_installations,
    reg_meters,
    reg_readings,
    reg_review,
)
