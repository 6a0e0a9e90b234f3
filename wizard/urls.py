from django.urls import path

from wizard import views

app_name = "wizard"
urlpatterns = [
    path("", views.start, name="start"),
    path("paste/", views.paste_box, name="paste"),
    path("<slug:tree>/", views.step, name="step"),
    path("<slug:tree>/when/", views.when, name="when"),
    path("<slug:tree>/known/", views.known, name="known"),
    path("<slug:tree>/candidates/", views.candidates, name="candidates"),
    path("<slug:tree>/diagram/", views.diagram, name="diagram"),
    path("<slug:tree>/result/<slug:node>/", views.result, name="result"),
    path("<slug:tree>/result/<slug:node>/feedback/", views.feedback, name="feedback"),
]
