from django.urls import path

from contracts import views, views_compare, views_documents

urlpatterns = [
    path("", views.RFPListView.as_view(), name="rfp-list"),
    path("new/", views.RFPEditView.as_view(), name="rfp-add"),
    path("invite/", views.invite_picker, name="rfp-invite-picker"),
    path("<int:pk>/", views.RFPDetailView.as_view(), name="rfp-detail"),
    path("<int:pk>/edit/", views.RFPEditView.as_view(), name="rfp-edit"),
    path("<int:pk>/invite/", views.rfp_invite, name="rfp-invite"),
    path("<int:pk>/publish/", views.rfp_publish, name="rfp-publish"),
    path("<int:pk>/close/", views.rfp_close, name="rfp-close"),
    path("<int:pk>/cancel/", views.rfp_cancel, name="rfp-cancel"),
    path("<int:pk>/compare/", views_compare.rfp_compare, name="rfp-compare"),
    path("<int:pk>/compare/export/", views_compare.rfp_compare_export, name="rfp-compare-export"),
    path("proposals/<int:pk>/score/", views_compare.proposal_score, name="rfp-score"),
    path("questions/<int:pk>/answer/", views.question_answer, name="rfp-question-answer"),
    path("invitations/<int:pk>/decline/", views.invitation_decline, name="rfp-invitation-decline"),
    path("invitations/<int:pk>/ask/", views.question_ask, name="rfp-question-ask"),
    path("invitations/<int:pk>/proposal/", views.proposal_start, name="proposal-start"),
    path("proposals/<int:pk>/edit/", views.ProposalEditView.as_view(), name="proposal-edit"),
    path("proposals/<int:pk>/submit/", views.proposal_submit, name="proposal-submit"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="proposal-withdraw"),
    path("proposals/<int:pk>/shortlist/", views.proposal_shortlist, name="proposal-shortlist"),
    path("proposals/<int:pk>/reject/", views.proposal_reject, name="proposal-reject"),
    path("proposals/<int:pk>/award/", views.proposal_award, name="proposal-award"),
    # Documents (RFPs, proposals, contracts, milestones, change orders, invoices): upload per kind of record,
    # download.
    *(
        path(
            f"documents/upload/{slug}/<int:pk>/",
            views_documents.upload,
            {"target": target},
            name=views_documents.upload_url_name(target),  # document-upload-rfp, …, -change-order, -invoice
        )
        for target, slug in views_documents.TARGET_SLUGS.items()
    ),
    path("documents/<int:pk>/download/", views_documents.download, name="document-download"),
]
