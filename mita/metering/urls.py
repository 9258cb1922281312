"""The metering pages, one module of URL patterns per part of the app."""

from mita.metering import urls_field, urls_imports, urls_installations, urls_meters, urls_readings, urls_review

app_name = "metering"
urlpatterns = [
    *urls_meters.urlpatterns,
    *urls_installations.urlpatterns,
    *urls_readings.urlpatterns,
    *urls_review.urlpatterns,
    *urls_field.urlpatterns,
    *urls_imports.urlpatterns,
]
