from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import TokenView, UserViewSet
from alerts.api import AlertViewSet
from contracts.api import InvitationViewSet, ProposalViewSet, RFPViewSet
from contracts.api_contracts import ChangeOrderViewSet, ContractViewSet, InvoiceViewSet, MilestoneViewSet
from contracts.api_documents import DocumentViewSet
from notifications.api import NotificationPreferenceView, NotificationViewSet
from sponsors.api import ProgramViewSet, QualificationViewSet, ShortlistViewSet, SponsorViewSet
from vendors.api import (
    CapabilityViewSet,
    CertificationViewSet,
    OfferingViewSet,
    ServiceCategoryViewSet,
    SiteViewSet,
    VendorViewSet,
)

app_name = "api"
router = DefaultRouter()
router.register("users", UserViewSet)
router.register("notifications", NotificationViewSet)
router.register("sponsors", SponsorViewSet)
router.register("programs", ProgramViewSet)
router.register("qualifications", QualificationViewSet)
router.register("shortlists", ShortlistViewSet)
router.register("rfps", RFPViewSet)
router.register("invitations", InvitationViewSet)
router.register("proposals", ProposalViewSet)
router.register("contracts", ContractViewSet)
router.register("milestones", MilestoneViewSet)
router.register("change-orders", ChangeOrderViewSet)
router.register("invoices", InvoiceViewSet)
router.register("documents", DocumentViewSet)
router.register("vendors", VendorViewSet)
router.register("sites", SiteViewSet)
router.register("service-categories", ServiceCategoryViewSet)
router.register("capabilities", CapabilityViewSet)
router.register("offerings", OfferingViewSet)
router.register("certifications", CertificationViewSet)
router.register("alerts", AlertViewSet)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    # The caller's own preference: no id, nothing of anyone else's to reach.
    path("notification-preferences/me/", NotificationPreferenceView.as_view(), name="notification-preferences-me"),
    path("", include(router.urls)),
]
