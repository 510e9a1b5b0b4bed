from django.urls import path

from deletion import views

app_name = "deletion"

urlpatterns = [
    path("", views.candidates, name="candidates"),
    path("action/", views.candidates_action, name="action"),
    path("plan/", views.plan, name="plan"),
    path("plan/approve/", views.plan_approve_view, name="plan_approve"),
    path("queue/", views.queue, name="queue"),
    path("queue/execute/", views.execute, name="execute"),
    path("queue/<int:pk>/retry/", views.retry, name="retry"),
    path("queue/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("history/", views.history, name="history"),
    path("settings/", views.settings_page, name="settings"),
]
