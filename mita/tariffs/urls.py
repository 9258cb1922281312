from django.urls import path

from mita.tariffs import views

app_name = "tariffs"
urlpatterns = [
    path("", views.tariff_list, name="tariff_list"),
    path("new/", views.tariff_create_view, name="tariff_create"),
    path("<int:tariff_id>/", views.tariff_detail, name="tariff_detail"),
    path("<int:tariff_id>/edit/", views.tariff_edit, name="tariff_edit"),
    path("<int:tariff_id>/simulate/", views.tariff_simulate, name="tariff_simulate"),
    path("<int:tariff_id>/compare/", views.tariff_compare, name="tariff_compare"),
    path("<int:tariff_id>/versions/new/", views.version_create_view, name="version_create"),
    path("versions/<int:version_id>/", views.version_detail, name="version_detail"),
    path("versions/<int:version_id>/publish/", views.version_publish_view, name="version_publish"),
    path("packages/", views.package_list, name="package_list"),
    path("packages/new/", views.package_create_view, name="package_create"),
    path("packages/<int:package_id>/", views.package_edit, name="package_edit"),
]
