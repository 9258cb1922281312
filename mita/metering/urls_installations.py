"""Pages of metering: installations (a connection's meter, finding a connection to read) and routes (readers per
cycle, a reader's routes, reading books)."""

from django.urls import path

from mita.metering import views_installations, views_installations_routes

urlpatterns = [
    path("connections/<int:connection_id>/meter/", views_installations.connection_meter, name="connection_meter"),
    path(
        "connections/<int:connection_id>/meter/install/",
        views_installations.meter_install_view,
        name="meter_install",
    ),
    path("connections/<int:connection_id>/meter/remove/", views_installations.meter_remove_view, name="meter_remove"),
    path(
        "connections/<int:connection_id>/meter/replace/",
        views_installations.meter_replace_view,
        name="meter_replace",
    ),
    path("find/", views_installations.reading_find, name="reading_find"),
    path("routes/", views_installations_routes.route_progress, name="route_progress"),
    path("routes/assign/", views_installations_routes.route_assign_view, name="route_assign"),
    path("routes/mine/", views_installations_routes.my_routes, name="my_routes"),
    path("routes/<int:route_id>/book/", views_installations_routes.route_book_view, name="route_book"),
]
