from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import AcceptInviteForm, ApiTokenForm, InviteForm, RoleForm, SignupForm
from accounts.models import ApiToken, MemberInvite, User

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error("password" if "password" in form.fields else None, exc.messages)


def signup(request):
    """Sign-up form; whatever the address, a valid form ends on "check your e-mail" (no account probing)."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signup_request(**form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("signup-sent")
    return render(request, "accounts/signup.html", {"form": form})


def signup_sent(request):
    return render(request, "accounts/signup_sent.html")


@never_cache
def signup_confirm(request, token):
    """The e-mailed link: a page with one button (mail scanners follow GET links; only a POST creates)."""
    try:
        pending = services.signup_from_token(token)
    except ValidationError as exc:
        return render(request, "accounts/invite_invalid.html", {"message": exc.messages[0]}, status=404)
    if request.method == "POST":
        try:
            user = services.signup_confirm(token=token)
        except ValidationError as exc:
            return render(request, "accounts/invite_invalid.html", {"message": exc.messages[0]}, status=404)
        login(request, user, backend=BACKEND)
        messages.success(request, f"Welcome to cro_cmo. {user.organisation} is set up and you are its admin.")
        return redirect("dashboard")
    return render(request, "accounts/signup_confirm.html", {"pending": pending})


def _require_admin(user):
    if not user.is_org_admin:
        raise PermissionDenied("Only your organisation's admins manage members.")


@login_required
def members(request):
    user = request.user
    invite_form = InviteForm(request.POST or None)
    if request.method == "POST":
        _require_admin(user)
        if invite_form.is_valid():
            try:
                invite = services.member_invite(actor=user, **invite_form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(invite_form, exc)
            else:
                messages.success(request, f"Invitation sent to {invite.email}.")
                return redirect("members")
    context = {
        "members": User.objects.for_user(user).filter(is_active=True).order_by("full_name", "email"),
        "invites": MemberInvite.objects.for_user(user).pending(),
        "invite_form": invite_form,
        "roles": RoleForm.base_fields["role"].choices,
    }
    return render(request, "accounts/members.html", context)


@login_required
@require_POST
def member_role(request, pk):
    _require_admin(request.user)
    member = get_object_or_404(User.objects.for_user(request.user, "change"), pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_change_role(actor=request.user, member=member, role=form.cleaned_data["role"])
            messages.success(request, f"{member} is now {form.cleaned_data['role']}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("members")


@login_required
@require_POST
def member_remove(request, pk):
    _require_admin(request.user)
    member = get_object_or_404(User.objects.for_user(request.user, "change"), pk=pk)
    try:
        services.member_remove(actor=request.user, member=member)
        messages.success(request, f"{member} no longer has access.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("members")


@login_required
@require_POST
def invite_revoke(request, pk):
    _require_admin(request.user)
    invite = get_object_or_404(MemberInvite.objects.for_user(request.user, "change"), pk=pk)
    services.invite_revoke(actor=request.user, invite=invite)
    messages.success(request, f"Invitation of {invite.email} withdrawn.")
    return redirect("members")


def invite_accept(request, token):
    try:
        invite = services.invite_from_token(token)
    except ValidationError as exc:
        return render(request, "accounts/invite_invalid.html", {"message": exc.messages[0]}, status=404)
    form = AcceptInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_accept(token=token, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, f"Welcome to {user.organisation}.")
            return redirect("dashboard")
    return render(request, "accounts/invite_accept.html", {"form": form, "invite": invite})


@never_cache
@login_required
def api_tokens(request):
    """The user's own API tokens: list, create (the key is shown once, on this response only), revoke."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            form = ApiTokenForm()
    context = {
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created"),
        "form": form,
        "new_key": new_key,
    }
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, pk):
    try:
        token = services.api_token_revoke(actor=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404("No such token") from None
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked: it no longer works.")
    return redirect("api-tokens")
