from django.urls import path

from mita.registry import views

app_name = "registry"
urlpatterns = [
    path("workspace/", views.workspace_switch, name="workspace_switch"),
    path("operators/", views.operator_list, name="operator_list"),
    path("operators/<int:operator_id>/", views.operator_detail, name="operator_detail"),
]
