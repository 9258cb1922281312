from django.urls import path

from mita.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create_view, name="customer_create"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/panels/<str:panel_key>/", views.customer_panel, name="customer_panel"),
    path("<int:customer_id>/notes/", views.customer_note_add, name="customer_note_add"),
    path("<int:customer_id>/status/", views.customer_status_view, name="customer_status"),
    path("<int:customer_id>/connections/new/", views.connection_create_view, name="connection_create"),
]
