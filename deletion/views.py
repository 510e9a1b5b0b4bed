"""SmartPlex's deletion pages: thin callers of the selectors and services.

Every page needs a logged-in staff user holding the page's permission (403 otherwise);
every state change is a POST with CSRF protection; GETs only read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_q.tasks import async_task

from deletion.config import deletion_settings_get, smartplex_settings_save
from deletion.execution import execution_preflight
from deletion.filters import GROUP_BY_CHOICES, CandidateFilterForm
from deletion.forms import BulkActionForm, ExecuteForm, PlanForm, SettingsForm
from deletion.groups import refs_parse
from deletion.lifecycle import request_cancel, requests_due, requests_leaving_soon
from deletion.models import AuditLog, DeletionRequest, DeletionRun
from deletion.people import unknown_requesters
from deletion.planner import (
    ORDERINGS,
    PlanError,
    PlanTarget,
    plan_approve,
    plan_get,
    plan_picks_parse,
)
from deletion.recovery import deletion_run_is_stale
from deletion.removal import removal_calls_attach
from deletion.selectors import candidate_page_get
from deletion.services import candidates_approve, groups_protect, request_retry
from deletion.storage import storage_summary_get
from media.inputs import int_in_range, page_number
from media.models import LibrarySection
from media.services import storage_capacity_get
from notifications.forms import NotifyUrlsForm
from notifications.targets import target_states_get
from smartplex.redirects import redirect_back

PER_PAGE_CHOICES = (25, 50, 100, 200)


def guarded(perm: str) -> Callable:
    """Staff only (else the admin login), and `perm` (else 403)."""

    def decorate(view):
        @wraps(view)
        @staff_member_required
        @permission_required(perm, raise_exception=True)
        def wrapper(request, *args, **kwargs):
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Every SmartPlex page carries the storage card (see templates/base.html); a view that
    has read it already passes it as `storage`."""
    if "storage" not in context:
        context = {"storage": storage_summary_get(), **context}
    return render(request, template, context)


def _query_with(request: HttpRequest, **changes: str) -> str:
    """The current query string without paging or drill-down, with `changes` applied."""
    query = request.GET.copy()
    for name in ("page", "show", "season"):
        query.pop(name, None)
    for name, value in changes.items():
        query[name] = value
    return query.urlencode()


def _group_tabs(request: HttpRequest) -> list[dict]:
    current = request.GET.get("group_by", "")
    return [
        {"label": label, "query": _query_with(request, group_by=value), "active": value == current}
        for value, label in GROUP_BY_CHOICES
    ]


def _rules_shown(rules: list) -> list:
    """The page's rules with what their line names (libraries, ignored accounts) read in
    two queries, not two per rule and line."""
    sections = Prefetch("sections", queryset=LibrarySection.objects.select_related("server"))
    prefetch_related_objects(rules, sections, "ignore_users")
    return rules


@require_GET
@guarded("deletion.view_candidates")
def candidates(request: HttpRequest) -> HttpResponse:
    filter_form = CandidateFilterForm(request.GET or None)
    f = filter_form.to_candidate_filter()
    per_page = page_number(request.GET.get("per_page"), 50)
    per_page = per_page if per_page in PER_PAGE_CHOICES else 50
    page = candidate_page_get(f=f, page=page_number(request.GET.get("page")), per_page=per_page)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter_form": filter_form,
        "f": f,
        "page": page,
        "query": query.urlencode(),
        "group_tabs": _group_tabs(request),
        "back_query": _query_with(request, group_by="show"),
        "per_page_choices": PER_PAGE_CHOICES,
        "action_form": BulkActionForm(),
        "dry_run": deletion_settings_get().dry_run,
        "unknown_requesters": unknown_requesters(f.active_rules),
        "rules_shown": _rules_shown(f.active_rules),
    }
    return _render(request, "deletion/candidates.html", context)


@require_POST
@guarded("deletion.view_candidates")
def candidates_action(request: HttpRequest) -> HttpResponse:
    """Approve or protect the checked rows; each action checks its own permission."""
    form = BulkActionForm(request.POST)
    refs = refs_parse(request.POST.getlist("refs"))
    if not form.is_valid() or not refs:
        messages.warning(request, "Select at least one row and an action.")
        return redirect_back(request, "deletion:candidates")
    action = form.cleaned_data["action"]
    perm = "deletion.approve_deletion" if action == "approve" else "deletion.protect_media"
    if not request.user.has_perm(perm):
        return HttpResponse("You do not have permission to do that.", status=403)
    if action == "approve":
        rules = CandidateFilterForm(request.GET or None).to_candidate_filter().active_rules
        result = candidates_approve(refs=refs, user=request.user, rules=rules)
    else:
        data = form.cleaned_data
        result = groups_protect(
            refs=refs, user=request.user, reason=data["reason"], until=data["until"]
        )
    level = messages.SUCCESS if result.done else messages.WARNING
    messages.add_message(request, level, f"{action.capitalize()}: {result.message}.")
    return redirect_back(request, "deletion:candidates")


@require_GET
@guarded("deletion.view_candidates")
def plan(request: HttpRequest) -> HttpResponse:
    """The planner: a target in the query string, the plan that reaches it."""
    form = PlanForm(request.GET or None)
    result, error = None, ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        target = PlanTarget(
            free_gb=float(data["free_gb"]) if data["free_gb"] is not None else None,
            used_percent=(
                float(data["target_used_percent"])
                if data["target_used_percent"] is not None
                else None
            ),
        )
        try:
            result = plan_get(target=target, ordering=data["order"])
        except PlanError as exc:
            error = str(exc)
    context = {"form": form, "plan": result, "error": error, "orderings": ORDERINGS}
    if result is not None:
        context["storage"] = result.storage
    return _render(request, "deletion/plan.html", context)


@require_POST
@guarded("deletion.approve_deletion")
def plan_approve_view(request: HttpRequest) -> HttpResponse:
    """Approve every group of a plan in one POST (the normal approval path)."""
    picks = plan_picks_parse(request.POST.getlist("picks"))
    if not picks:
        messages.warning(request, "The plan is empty: nothing to approve.")
        return redirect("deletion:plan")
    result = plan_approve(picks=picks, user=request.user)
    level = messages.SUCCESS if result.done else messages.WARNING
    messages.add_message(request, level, f"Plan approved: {result.message}.")
    return redirect("deletion:queue")


@require_GET
@guarded("deletion.view_deletionrequest")
def queue(request: HttpRequest) -> HttpResponse:
    """Due groups, leaving-soon groups (with their dates) and the running or failed ones."""
    related = ("server", "approved_by", "rule")
    others = DeletionRequest.objects.filter(
        status__in=[DeletionRequest.Status.RUNNING, DeletionRequest.Status.FAILED]
    )
    latest_run = DeletionRun.objects.first()
    stale = latest_run is not None and deletion_run_is_stale(latest_run)
    tables = {
        "due": requests_due().select_related(*related).order_by("leave_at", "pk")[:500],
        "leaving": requests_leaving_soon()
        .select_related(*related)
        .order_by("leave_at", "pk")[:500],
        "others": others.select_related(*related).order_by("status", "-approved_at")[:500],
    }
    tables = {name: list(rows) for name, rows in tables.items()}
    removal_calls_attach(entries=[r for rows in tables.values() for r in rows])
    context = {
        **tables,
        "latest_run": latest_run,
        "running": latest_run is not None
        and latest_run.status == DeletionRun.Status.RUNNING
        and not stale,
        "stale": stale,
        "cap": execution_preflight(),
        "settings": deletion_settings_get(),
        "confirm": request.GET.get("confirm") == "1",
        "confirm_early": int_in_range(request.GET.get("confirm_early")) or 0,
        "execute_form": ExecuteForm(),
    }
    return _render(request, "deletion/queue.html", context)


@require_POST
@guarded("deletion.execute_deletion")
def execute(request: HttpRequest) -> HttpResponse:
    """Queue an execution run of the due groups (django-q2, after commit); over the caps,
    ask first. With `request_id`, that one group ("execute now": confirmed if not due)."""
    if request.POST.get("request_id"):
        return _execute_one_now(request)
    confirmed = request.POST.get("confirm_over_cap") == "on"
    cap = execution_preflight()
    if cap.groups == 0:
        messages.info(request, "Nothing is due.")
        return redirect("deletion:queue")
    if cap.needs_confirmation and not confirmed:
        messages.warning(request, f"Confirmation needed: {cap.exceeded}.")
        return redirect(reverse("deletion:queue") + "?confirm=1")
    _enqueue_execution(request, confirm_over_cap=confirmed)
    messages.success(request, "Execution started.")
    return redirect("deletion:queue")


def _execute_one_now(request: HttpRequest) -> HttpResponse:
    target = get_object_or_404(
        DeletionRequest, pk=int_in_range(request.POST.get("request_id")) or 0, status="approved"
    )
    if not target.is_due and request.POST.get("confirm_early") != "on":
        messages.warning(
            request,
            f"{target.title} leaves on {target.leave_at:%Y-%m-%d}: confirm to delete it now.",
        )
        return redirect(reverse("deletion:queue") + f"?confirm_early={target.pk}")
    _enqueue_execution(request, confirm_over_cap=True, request_ids=[target.pk])
    messages.success(request, f"Execution of {target.title} started.")
    return redirect("deletion:queue")


def _enqueue_execution(request: HttpRequest, **kwargs) -> None:
    user_id = request.user.pk
    transaction.on_commit(
        lambda: async_task("deletion.tasks.deletion_execute_task", user_id=user_id, **kwargs)
    )


def _back_to_queue(request: HttpRequest, done: bool, success: str, refused: str) -> HttpResponse:
    """Say how a queue action on one group went (it may have changed state meanwhile)."""
    if done:
        messages.success(request, success)
    else:
        messages.warning(request, refused)
    return redirect("deletion:queue")


@require_POST
@guarded("deletion.approve_deletion")
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    deletion_request = get_object_or_404(DeletionRequest, pk=pk)
    reason = request.POST.get("reason", "")[:300]
    done = request_cancel(request=deletion_request, user=request.user, reason=reason)
    title = deletion_request.title
    return _back_to_queue(
        request, done, f"{title} is out of the queue.", f"{title} is no longer waiting."
    )


@require_POST
@guarded("deletion.approve_deletion")
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    deletion_request = get_object_or_404(DeletionRequest, pk=pk)
    done = request_retry(request=deletion_request, user=request.user)
    title = deletion_request.title
    return _back_to_queue(
        request, done, f"{title} is back in the queue.", f"{title} cannot be retried."
    )


@require_GET
@guarded("deletion.view_auditlog")
def history(request: HttpRequest) -> HttpResponse:
    entries = AuditLog.objects.select_related("server")
    if action := request.GET.get("action"):
        entries = entries.filter(action=action)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    removal_calls_attach(entries=page.object_list)
    context = {
        "entries": page,
        "actions": AuditLog.Action.choices,
        "action": action or "",
        "runs": DeletionRun.objects.all()[:10],
    }
    return _render(request, "deletion/history.html", context)


@require_http_methods(["GET", "POST"])
@guarded("deletion.manage_settings")
def settings_page(request: HttpRequest) -> HttpResponse:
    initial = SettingsForm.initial_from(storage_capacity_get(), deletion_settings_get())
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        smartplex_settings_save(**form.settings_values())
        messages.success(request, "Settings saved.")
        return redirect("deletion:settings")
    context = {"form": form}
    if request.user.has_perm("notifications.manage_notifications"):
        context |= {
            "notify_form": NotifyUrlsForm(),
            "notify_targets": target_states_get(),
            "demo_inbox": bool(django_settings.DEMO_INBOX_URL),
        }
    return _render(request, "deletion/settings.html", context)
