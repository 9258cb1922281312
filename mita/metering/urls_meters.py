"""Pages of metering: meters — meter models, stores, meters, receiving, movements, calibration."""

from django.urls import URLPattern, path

from mita.metering import views_meters, views_movements

urlpatterns: list[URLPattern] = [
    path("meter-models/", views_meters.meter_model_list, name="meter_model_list"),
    path("meter-models/new/", views_meters.meter_model_create_view, name="meter_model_create"),
    path("meter-models/<int:meter_model_id>/", views_meters.meter_model_edit, name="meter_model_edit"),
    path("stores/", views_meters.store_list, name="store_list"),
    path("stores/new/", views_meters.store_create_view, name="store_create"),
    path("stores/<int:store_id>/", views_meters.store_edit, name="store_edit"),
    path("meters/", views_meters.meter_list, name="meter_list"),
    path("meters/receive/", views_meters.meters_receive_view, name="meters_receive"),
    path("meters/<int:meter_id>/", views_meters.meter_detail, name="meter_detail"),
    path("movements/", views_movements.movement_list, name="movement_list"),
    path("movements/new/", views_movements.movement_create, name="movement_create"),
    path("movements/store-meters/", views_movements.movement_store_meters, name="movement_store_meters"),
    path("movements/report/", views_movements.movement_report_view, name="movement_report"),
    path("movements/<int:movement_id>/", views_movements.movement_detail, name="movement_detail"),
    path("calibrations/due/", views_movements.calibration_due_view, name="calibration_due"),
    path("calibrations/new/", views_movements.calibration_create, name="calibration_create"),
    path("calibrations/<int:calibration_id>/", views_movements.calibration_detail, name="calibration_detail"),
]
