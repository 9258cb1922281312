from django.urls import path

from mita.customers import views, views_contacts, views_details, views_imports, views_indigent

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create_view, name="customer_create"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/panels/<str:panel_key>/", views.customer_panel, name="customer_panel"),
    path("<int:customer_id>/notes/", views.customer_note_add, name="customer_note_add"),
    path("<int:customer_id>/edit/", views.customer_edit_view, name="customer_edit"),
    path("<int:customer_id>/status/", views.customer_status_view, name="customer_status"),
    path("<int:customer_id>/connections/new/", views.connection_create_view, name="connection_create"),
    path("<int:customer_id>/contacts/", views_contacts.contact_change_view, name="contact_change"),
    path(
        "<int:customer_id>/contacts/<int:change_id>/",
        views_contacts.contact_change_confirm_view,
        name="contact_change_confirm",
    ),
    path("connections/<int:connection_id>/edit/", views_details.connection_edit_view, name="connection_edit"),
    path("parcels/lookup/", views_details.parcel_lookup_view, name="parcel_lookup"),
    path("routes/", views_details.route_list, name="route_list"),
    path("routes/new/", views_details.route_form_view, name="route_create"),
    path("routes/<int:route_id>/edit/", views_details.route_form_view, name="route_edit"),
    path("chambers/", views_details.chamber_list, name="chamber_list"),
    path("chambers/new/", views_details.chamber_form_view, name="chamber_create"),
    path("chambers/<int:chamber_id>/edit/", views_details.chamber_form_view, name="chamber_edit"),
    path("indigent/", views_indigent.indigent_list, name="indigent_list"),
    path("indigent/<int:indigent_id>/end/", views_indigent.indigent_end_view, name="indigent_end"),
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_upload, name="import_upload"),
    path("imports/template.csv", views_imports.import_template, {"file_format": "csv"}, name="import_template_csv"),
    path("imports/template.xlsx", views_imports.import_template, {"file_format": "xlsx"}, name="import_template_xlsx"),
    path("imports/<int:import_id>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:import_id>/run/", views_imports.import_run, name="import_run"),
    path("imports/<int:import_id>/errors.csv", views_imports.import_errors, name="import_errors"),
]
