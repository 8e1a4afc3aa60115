"""Browser routes of contract execution, mounted at ``/contracts/``: the list, the contract page, a
milestone's page, and one POST route per step (each answers with a redirect back and a message)."""

from django.urls import path

from contracts import views_contracts as views

urlpatterns = [
    path("", views.ContractListView.as_view(), name="contract-list"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="contract-detail"),
    path("<int:pk>/sign/", views.contract_sign_view, name="contract-sign"),
    path("<int:pk>/change-orders/", views.change_order_propose_view, name="change-order-propose"),
    path("<int:pk>/invoices/", views.invoice_submit_view, name="invoice-submit"),
    path("milestones/<int:pk>/", views.MilestoneDetailView.as_view(), name="milestone-detail"),
    *(
        path(f"milestones/<int:pk>/{step}/", views.milestone_action, {"step": step}, name=f"milestone-{step}")
        for step in views.MILESTONE_ACTIONS  # milestone-start, -submit, -accept, -reject
    ),
    path("change-orders/<int:pk>/approve/", views.change_order_approve_view, name="change-order-approve"),
    path("change-orders/<int:pk>/reject/", views.change_order_reject_view, name="change-order-reject"),
    path("change-orders/<int:pk>/withdraw/", views.change_order_withdraw_view, name="change-order-withdraw"),
    path("invoices/<int:pk>/approve/", views.invoice_approve_view, name="invoice-approve"),
    path("invoices/<int:pk>/reject/", views.invoice_reject_view, name="invoice-reject"),
    path("invoices/<int:pk>/mark-paid/", views.invoice_mark_paid_view, name="invoice-mark-paid"),
]
