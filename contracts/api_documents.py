"""Documents API: ``documents`` — list, retrieve, upload (multipart), download; never changed or deleted.

A document is immutable: a corrected file is uploaded under the same title and becomes the next version,
so PUT, PATCH and DELETE answer 405. Who sees a document is who sees its record
(``Document.objects.for_user``); who may upload what, and when, is ``document_upload``'s rule.
"""

import django_filters
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts.filtersets import VisibleChoicesMixin
from contracts.models import DOCUMENT_TARGETS, RFP, ChangeOrder, Contract, Document, Invoice, Milestone, Proposal
from contracts.serializers import _VisibleRelatedField
from contracts.services.documents import document_upload
from contracts.views_documents import document_response
from cro_cmo.api.filters import BaseFilterSet
from cro_cmo.api.parsers import StrictMultiPartParser
from cro_cmo.api.schema import ERRORS
from cro_cmo.api.viewsets import ReadOnlyBaseViewSet
from cro_cmo.uploads import ACCEPTED_CONTENT_TYPES, ACCEPTED_WORDS, DEFAULT_DOCUMENT_MAX_BYTES

ONE_TARGET = (
    "Give exactly one of rfp, proposal, contract, milestone, change_order, invoice: the record the document belongs to."
)


class DocumentFilterSet(VisibleChoicesMixin, BaseFilterSet):
    """``rfp``, ``proposal``, ``contract``, ``milestone``, ``change_order``, ``invoice`` (ids; repeatable, OR),
    ``title`` (exact, any case)."""

    rfp = django_filters.ModelMultipleChoiceFilter(queryset=RFP.objects.all(), distinct=False)
    proposal = django_filters.ModelMultipleChoiceFilter(queryset=Proposal.objects.all(), distinct=False)
    contract = django_filters.ModelMultipleChoiceFilter(queryset=Contract.objects.all(), distinct=False)
    milestone = django_filters.ModelMultipleChoiceFilter(queryset=Milestone.objects.all(), distinct=False)
    change_order = django_filters.ModelMultipleChoiceFilter(queryset=ChangeOrder.objects.all(), distinct=False)
    invoice = django_filters.ModelMultipleChoiceFilter(queryset=Invoice.objects.all(), distinct=False)
    title = django_filters.CharFilter(lookup_expr="iexact")

    visible_choice_filters = DOCUMENT_TARGETS

    class Meta:
        model = Document
        fields = [*DOCUMENT_TARGETS, "title", "updated_after"]


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SerializerMethodField(help_text="The uploader's name.")
    download = serializers.SerializerMethodField(help_text="Where the file is served: `GET documents/{id}/download/`.")

    class Meta:
        model = Document
        fields = [
            "id", *DOCUMENT_TARGETS, "title", "version", "filename", "content_type", "size",
            "sha256", "uploaded_by", "download", "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_uploaded_by(self, document):
        user = document.uploaded_by
        return (user.get_full_name() or user.email) if user is not None else None

    @extend_schema_field(serializers.URLField())
    def get_download(self, document):
        request = self.context.get("request")
        url = reverse("api:document-download", kwargs={"pk": document.pk})
        return request.build_absolute_uri(url) if request is not None else url


class DocumentUploadSerializer(serializers.Serializer):
    """The multipart body of an upload: one record, a title and the file."""

    rfp = _VisibleRelatedField(model=RFP, required=False, allow_null=True, help_text="An RFP of your sponsor.")
    proposal = _VisibleRelatedField(
        model=Proposal, required=False, allow_null=True, help_text="Your vendor's proposal."
    )
    contract = _VisibleRelatedField(
        model=Contract, required=False, allow_null=True, help_text="A contract your organisation is party to."
    )
    milestone = _VisibleRelatedField(
        model=Milestone, required=False, allow_null=True, help_text="A milestone of such a contract."
    )
    change_order = _VisibleRelatedField(
        model=ChangeOrder, required=False, allow_null=True, help_text="A change order of such a contract."
    )
    invoice = _VisibleRelatedField(
        model=Invoice, required=False, allow_null=True, help_text="An invoice of such a contract."
    )
    title = serializers.CharField(
        max_length=200, help_text="The document's title: a title the record already has adds the next version."
    )
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=f"The file: {ACCEPTED_WORDS}; at most {DEFAULT_DOCUMENT_MAX_BYTES // 1024 // 1024} MB "
        "(DOCUMENT_MAX_BYTES). Checked by content, not by name.",
    )

    def validate(self, attrs):
        given = [name for name in DOCUMENT_TARGETS if attrs.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError({"non_field_errors": [ONE_TARGET]})
        attrs["target"] = attrs[given[0]]
        return attrs


BINARY = {
    (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as an attachment.")
    for content_type in ACCEPTED_CONTENT_TYPES
}


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, 409: ERRORS["409"]},
    )
)
class DocumentViewSet(ReadOnlyBaseViewSet):
    """Files attached to RFPs, proposals, contracts, milestones, change orders and invoices, versioned by
    title, with size and SHA-256. Upload as multipart (the API is JSON otherwise); a document is never changed or deleted —
    upload a new version under the same title instead."""

    queryset = Document.objects.select_related("uploaded_by")
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilterSet
    ordering_fields = ["title", "version", "size", "created", "updated"]
    parser_classes = [StrictMultiPartParser]
    http_method_names = ["get", "head", "options", "post"]

    def create(self, request, *args, **kwargs):
        """Upload a document, or the next version of one (same record, same title)."""
        body = DocumentUploadSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        document = document_upload(actor=request.user, target=data["target"], title=data["title"], file=data["file"])
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    def perform_content_negotiation(self, request, force=False):
        # A download answers with the file's own type whatever the client accepts (its errors stay JSON).
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(responses=BINARY)
    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        """The file's bytes as an attachment, with its content type (``nosniff``)."""
        return document_response(self.get_object())
