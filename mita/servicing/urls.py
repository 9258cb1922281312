from django.urls import path

from mita.servicing import views

app_name = "servicing"
urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("new/connection/", views.new_connection_create, name="new_connection"),
    path("new/complaint/", views.complaint_create, name="complaint_create"),
    # The connection types share one page; each has its own address (no type parameter to walk across tenants).
    *[
        path(f"new/{key.replace('_', '-')}/", views.typed_request_create, {"type_key": key}, name=f"new_{key}")
        for key in (
            "disconnection",
            "reconnection",
            "meter_transfer",
            "ownership_change",
            "package_change",
            "termination",
        )
    ],
    path("<int:request_id>/", views.request_detail, name="request_detail"),
    path("<int:request_id>/transition/", views.request_transition_view, name="request_transition"),
    path("<int:request_id>/assign/", views.request_assign_view, name="request_assign"),
    path("<int:request_id>/comments/", views.comment_add_view, name="comment_add"),
    path("<int:request_id>/attachments/", views.attachment_add_view, name="attachment_add"),
    path("<int:request_id>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("work-orders/", views.work_order_list, name="work_order_list"),
    path("work-orders/<int:work_order_id>/", views.work_order_detail, name="work_order_detail"),
    path("work-orders/<int:work_order_id>/start/", views.work_order_start_view, name="work_order_start"),
    path("fees/", views.fee_list, name="fee_list"),
    path("terms/", views.terms_list, name="terms_list"),
]
