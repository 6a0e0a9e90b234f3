from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from kb import caching, diffing, languages, limits, metrics, reports, search, search_log, sections
from kb.caching import revalidated
from kb.forms import language_choices, search_params
from kb.limits import limited
from kb.models import Article, Kind, Revision, StoredImage, Tag
from kb.site_url import absolute_url


@require_safe
@revalidated(reads=())
def home(request):
    return render(request, "kb/home.html", {"params": search_params({}), "kinds": Kind.choices})


@require_safe
@revalidated(reads=("kind", "tag", "page"))
def article_list(request):
    articles = Article.objects.visible().prefetch_related("tags")
    kind, tag = request.GET.get("kind", ""), request.GET.get("tag", "")
    if kind in Kind.values:
        articles = articles.filter(kind=kind)
    if tag:
        articles = articles.filter(tags__name=tag)
    page = Paginator(articles.order_by("-pk"), 30).get_page(request.GET.get("page"))
    rows = reports.article_rows(page.object_list, get_language())
    return render(
        request,
        "kb/article_list.html",
        {
            "page": page,
            "rows": rows,
            "kinds": Kind.choices,
            "kind": kind,
            "tag": tag,
            "pages": page_links(request, page.number, page.paginator.num_pages),
            "tags": Tag.objects.filter(articles__withdrawn_at__isnull=True).distinct(),
        },
    )


@require_safe
@revalidated(reads=())
def article(request, slug):
    article = get_object_or_404(Article, slug=slug)
    revision = reports.text_for(article, get_language())
    if revision is None:
        raise Http404("no text")
    return render_revision(request, article, revision, current=revision.is_current)


@require_safe
@revalidated(reads=())
def revision_page(request, slug, lang, number):
    article = get_object_or_404(Article, slug=slug)
    revision = get_object_or_404(Revision, article=article, lang=check_lang(lang), number=number)
    return render_revision(request, article, revision, current=revision.is_current)


def render_revision(request, article, revision, current):
    flags = list(revision.flags.all())
    current_langs = Revision.objects.current().filter(article=article).values_list("lang", flat=True)
    return render(
        request,
        "kb/article.html",
        {
            "canonical": absolute_url(reports.article_path(article.slug, revision.lang)),
            "alternates": [
                (lang, absolute_url(reports.article_path(article.slug, lang))) for lang in sorted(current_langs)
            ],
            "description": reports.description(revision.html),
            "article": article,
            "revision": revision,
            "is_current": current,
            "fallback": revision.lang != get_language(),
            "flags": flags,
            "tags": list(article.tags.all()),
            "translations": Revision.objects.current().filter(article=article).exclude(lang=revision.lang).only("lang"),
            "behind": reports.translation_behind(flags),
            "toc": reports.contents(revision.headings),
        },
    )


def check_lang(lang):
    if lang not in languages.codes():
        raise Http404("unknown language")
    return lang


@require_safe
@revalidated(reads=())
def history(request, slug, lang=None):
    article = get_object_or_404(Article, slug=slug)
    if lang is None:
        text = reports.text_for(article, get_language())
        lang = text.lang if text else get_language()
    revisions = Revision.objects.filter(article=article, lang=check_lang(lang)).order_by("-number")
    return render(
        request,
        "kb/history.html",
        {
            "article": article,
            "lang": lang,
            "revisions": revisions,
            "other_langs": languages.others(lang),
        },
    )


@require_safe
@revalidated(reads=("from", "to"))
def diff(request, slug, lang):
    article = get_object_or_404(Article, slug=slug)
    revisions = Revision.objects.filter(article=article, lang=check_lang(lang))
    newest = revisions.order_by("-number").first()
    if newest is None:
        raise Http404("no revisions")
    old_number = to_int(request.GET.get("from"), max(1, newest.number - 1))
    new_number = to_int(request.GET.get("to"), newest.number)
    old = revisions.filter(number=old_number).first()
    new = revisions.filter(number=new_number).first()
    if old is None or new is None:
        return render(
            request,
            "kb/diff.html",
            {
                "article": article,
                "lang": lang,
                "error": True,
                "revisions": revisions.order_by("number"),
            },
            status=404,
        )
    rows = diffing.diff_texts(old.title + "\n\n" + old.body, new.title + "\n\n" + new.body)
    return render(
        request,
        "kb/diff.html",
        {
            "article": article,
            "lang": lang,
            "old": old,
            "new": new,
            "rows": rows,
            "summary": diffing.summary(rows),
            "revisions": revisions.order_by("number"),
        },
    )


def to_int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@require_safe
@revalidated(reads=())
def translation_status(request, slug, lang):
    """For a translator: what changed in the source since this translation was made."""
    article = get_object_or_404(Article, slug=slug)
    translation = get_object_or_404(Revision.objects.current(check_lang(lang)), article=article)
    source = translation.translated_from
    if source is None:
        raise Http404("not a translation")
    current_source = Revision.objects.current(source.lang).filter(article=article).first()
    rows = []
    if current_source and current_source.number != source.number:
        rows = diffing.diff_texts(
            source.title + "\n\n" + source.body, current_source.title + "\n\n" + current_source.body
        )
    return render(
        request,
        "kb/translation.html",
        {
            "article": article,
            "translation": translation,
            "source": source,
            "current_source": current_source,
            "rows": rows,
            "behind": reports.translation_behind(translation.flags.all()),
            "summary": diffing.summary(rows),
        },
    )


@require_safe
def asset(request, slug, path):
    """An image a current text of a visible article shows, as the import stored it
    (kb.images); nothing else, and never a file opened at request time."""
    texts = Revision.objects.current().visible().filter(article__slug=slug).values_list("images", flat=True)
    digest = next((images[path] for images in texts if path in images), None)
    image = StoredImage.objects.filter(sha256=digest).first() if digest else None
    if image is None:
        raise Http404("no such image")
    etag = f'"{image.sha256}"'
    response: HttpResponse
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(bytes(image.data), content_type=image.content_type)
    response["ETag"] = etag
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def logged(view):
    """Count a visitor's search (kb.search_log) even when the page comes from the cache. A
    search typed with live results (htmx) is counted by the browser once the visitor pauses
    (see search_log_event), not at every keystroke."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        count = response.get(RESULT_COUNT_HEADER)
        if response.status_code == 304:  # the browser shows its copy: the count is the kept page's
            kept = caching.kept_page(request)
            count = kept.get(RESULT_COUNT_HEADER) if kept else None
        query = request.GET.get("q", "")
        if (
            count is not None
            and not request.htmx
            and response.status_code in (200, 304)
            and counted_once(request, query)
        ):
            search_log.record(request.GET.get("q", ""), get_language(), int(count))
        return response

    return wrapper


RESULT_COUNT_HEADER = "X-Result-Count"
SEARCH_PARAMS = ("q", "lang", "kind", "tag", "page", "limit", "as_typed")


@require_safe
@vary_on_headers("HX-Request")
@limited("search", "KB_RATE_SEARCH")
@logged
@revalidated(reads=SEARCH_PARAMS)
def search_page(request):
    params = search_params(request.GET)
    results, unavailable = None, False
    if params.q:
        try:
            results = reports.search(params, get_language())
            metrics.searched(results)
            sections.prefetch(results.hits)  # the hits' links to their sections: one query, not one a hit
        except search.SearchUnavailable:
            unavailable = True
    template = "kb/search.html#results" if request.htmx else "kb/search.html"
    pages = page_links(request, results.page, results.pages, target="#search-results") if results else None
    response = render(
        request,
        template,
        {
            "params": params,
            "lang_choices": language_choices(),
            "results": results,
            "unavailable": unavailable,
            "kinds": Kind.choices,
            "pages": pages,
            "examples": EXAMPLE_SEARCHES.get(get_language(), EXAMPLE_SEARCHES["en"]),
        },
        status=503 if unavailable else 200,
    )
    if results is not None:
        response[RESULT_COUNT_HEADER] = str(results.total)
    if unavailable:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


# Shown when the search box is empty: one of each kind of thing a search finds (a symptom, a
# phrase, an error code, the wire server's address, a word of the other language).
EXAMPLE_SEARCHES = {
    "ja": ["更新中", "エージェント 準備できていません", "VMExtensionProvisioningError", "168.63.129.16", "extension"],
    "en": ["VM stuck updating", "agent not ready", "VMExtensionProvisioningError", "168.63.129.16", "拡張機能"],
}
RETRY_AFTER_SECONDS = "60"  # a rebuild of the whole index takes about a minute at 10,000 articles


def counted_once(request, query, event="searched", lang=None):
    """A visitor's search (or opening of a result) counts once per query and hour."""
    return limits.first_time(request, "search-log", event, lang or get_language() or "", search.clean_query(query))


def sent_from_another_site(request):
    """What a browser says about where a POST comes from: Sec-Fetch-Site, else Origin. (The
    log takes no CSRF token: the pages that send it are cached for everyone.)"""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc != request.get_host()


@csrf_exempt
@require_POST
@limited("search-log", "KB_RATE_SEARCH_LOG")
def search_log_event(request):
    """The browser says a visitor paused on live results ("searched") or opened a result
    ("opened"). Counted without anything about the visitor, once per visitor, query and hour;
    204, 403 when a page of another site sends it, or 429 for a flood."""
    if sent_from_another_site(request):
        return HttpResponseForbidden(
            "The search log takes events from this site's pages only.", content_type="text/plain"
        )
    query, lang, event = request.POST.get("q", ""), request.POST.get("lang", ""), request.POST.get("event")
    valid = settings.KB_SEARCH_LOG and lang in languages.codes() and search.clean_query(query)
    if valid and event in ("opened", "searched") and counted_once(request, query, event, lang):
        if event == "opened":
            search_log.record_opened(query, lang)
        elif event == "searched":
            try:
                total = reports.search(search_params({"q": query, "limit": 1}), lang).total
            except search.SearchUnavailable:
                total = None
            if total is not None:
                search_log.record(query, lang, total)
    return HttpResponse(status=204)


def page_links(request, number, count, target=""):
    """Links to the previous and next page: the current query string with another page."""

    def url(page):
        query = request.GET.copy()
        query["page"] = page
        return f"{request.path}?{query.urlencode()}"

    return {
        "number": number,
        "count": count,
        "target": target,
        "previous": url(number - 1) if number > 1 else "",
        "next": url(number + 1) if number < count else "",
    }


@require_safe
@limited("api", "KB_RATE_API", json=True)
@revalidated(reads=SEARCH_PARAMS)
def search_api(request):
    params = search_params(request.GET)
    params.lang = params.lang or "all"
    try:
        payload = reports.search_payload(params, request)
        metrics.searched(payload)
    except search.SearchUnavailable:
        response = JsonResponse({"error": "search is being rebuilt; try again in a minute"}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response[RESULT_COUNT_HEADER] = str(payload["total"])
    return response


@require_safe
@staff_member_required
def editor(request):
    sort = request.GET.get("sort", "severity")
    return render(
        request,
        "kb/editor.html",
        {
            "rows": reports.flagged_rows(sort),
            "coverage": reports.coverage(),
            "sort": sort,
            "sort_choices": reports.sort_choices(),
            "searches": search_log.editor_lists(),
        },
    )


@require_safe
def healthz(request):
    """For load balancers: the process answers. Touches neither the database nor the index."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def robots(request):
    """Crawlers may read everything but search results (each page says so too), and find the sitemap."""
    lines = ["User-agent: *", "Disallow: /*/search/", f"Sitemap: {absolute_url(reverse('sitemap'))}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico where a page does not name its icon (the admin's pages)."""
    return redirect(static("favicon.svg"), permanent=True)


@require_safe
def root(request):
    """/ goes to the home page in the language the browser asks for."""
    with translation.override(translation.get_language_from_request(request)):
        return redirect("kb:home")
