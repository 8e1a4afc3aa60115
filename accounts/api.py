from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.lockout import LOCKED_OUT
from accounts.models import User
from accounts.network import client_ip
from accounts.services import api_token_create
from cro_cmo.api.viewsets import ReadOnlyBaseViewSet

BAD_CREDENTIALS = "Unable to sign in with this e-mail and password."


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class ClientScopedRateThrottle(ScopedRateThrottle):
    """Counts per client as ``accounts.network.client_ip`` defines it (the same rule as the lock-out)."""

    def get_ident(self, request):
        return client_ip(request)


class TokenView(APIView):
    """Exchange an e-mail and password for an API token (shown once; send it as ``Token <key>``)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse",
                {
                    "token": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(allow_null=True, help_text="Null: never expires."),
                },
            ),
            400: OpenApiResponse(description="Missing fields or wrong credentials"),
            429: OpenApiResponse(description="Locked out after repeated failures"),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        credentials = {"username": serializer.validated_data["email"].lower()}
        if AxesProxyHandler.is_locked(request._request, credentials):
            return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        user = authenticate(
            request._request, username=credentials["username"], password=serializer.validated_data["password"]
        )
        if user is None:
            if AxesProxyHandler.is_locked(request._request, credentials):
                return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            return Response({"non_field_errors": [BAD_CREDENTIALS]}, status=status.HTTP_400_BAD_REQUEST)
        token, key = api_token_create(user=user)
        return Response({"token": key, "expires_at": token.expires_at})


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "sponsor", "vendor", "is_active", "date_joined"]
        read_only_fields = fields


class UserViewSet(ReadOnlyBaseViewSet):
    """Colleagues in the caller's organisation."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_fields = ["role", "is_active"]
    ordering_fields = ["email", "full_name", "date_joined"]
