"""Pages of metering: readings (entering a reading, a reader's last five days, a reading's photo)."""

from django.urls import URLPattern, path

from mita.metering import views_readings

urlpatterns: list[URLPattern] = [
    path("readings/new/", views_readings.reading_enter_view, name="reading_enter"),
    path("readings/mine/", views_readings.my_readings_view, name="my_readings"),
    path("readings/<int:reading_id>/photo/", views_readings.reading_photo_view, name="reading_photo"),
]
