"""Pages of metering: review (the queue, decisions, estimates, anomaly reports, adjustments, settings)."""

from django.urls import URLPattern, path

from mita.metering import views_review as views

urlpatterns: list[URLPattern] = [
    path("review/", views.review_queue_view, name="review_queue"),
    path("review/<int:reading_id>/", views.reading_review_view, name="reading_review"),
    path("review/estimates/", views.estimates_view, name="estimates_make"),
    path("review/report/", views.anomaly_report_view, name="anomaly_report"),
    path("review/report.csv", views.anomaly_report_csv_view, name="anomaly_report_csv"),
    path("readings/<int:reading_id>/adjust/", views.reading_adjust_view, name="reading_adjust"),
    path("adjustments/", views.adjustment_list_view, name="adjustment_list"),
    path("settings/", views.metering_settings_view, name="metering_settings"),
]
