from django.urls import path

from mita.customers import views, views_imports

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create_view, name="customer_create"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/status/", views.customer_status_view, name="customer_status"),
    path("<int:customer_id>/connections/new/", views.connection_create_view, name="connection_create"),
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_upload, name="import_upload"),
    path("imports/template.csv", views_imports.import_template, {"file_format": "csv"}, name="import_template_csv"),
    path("imports/template.xlsx", views_imports.import_template, {"file_format": "xlsx"}, name="import_template_xlsx"),
    path("imports/<int:import_id>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:import_id>/run/", views_imports.import_run, name="import_run"),
    path("imports/<int:import_id>/errors.csv", views_imports.import_errors, name="import_errors"),
]
