"""The metering API, one router per part of the app, all under /api/v1/."""

from ninja import Router

from mita.metering import api_field, api_imports, api_installations, api_meters, api_readings, api_review

router = Router(tags=["metering"])
# review before readings: /readings/review must not be taken for /readings/{reading_id}
for part in (api_meters, api_installations, api_review, api_readings, api_field, api_imports):
    router.add_router("/", part.router)
