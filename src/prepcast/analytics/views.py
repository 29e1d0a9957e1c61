"""What each request served: a view of the results site, a page of the portal, and the channel.

A difusor's log holds its own portal (news pages, embeds, older sites) beside the PREP results
site, which may live at the root or in a folder such as ``/prep/``: the report finds the site's
folder from where ``json/main.json`` is requested (:func:`detect_site_root`).

The results site is one HTML page that reads the package's JSON files, so a request log shows
what was read, not which screen was drawn. Inside the site's folder :data:`VIEW_RULES` maps
paths (relative to the folder) to the view they serve; the first rule whose pattern matches
wins. Outside those rules, an HTML document (:data:`HTML_PATTERN`) is a page of the difusor's
portal (:data:`PORTAL_VIEW`), and what CDNs and servers ask for themselves is
:data:`SERVICE_VIEW`. Patterns are RE2 regular expressions on the path without its query.

:func:`classify_host` sorts the referring host of a session's first request into a channel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewRule:
    pattern: str  # RE2, matched against the path (no query string)
    view: str  # key used in tables
    label: str  # Spanish label shown in the report
    page_view: bool  # counts as a page view (a screen the reader asked for)


VIEW_RULES: tuple[ViewRule, ...] = (
    ViewRule(r"^/(index\.html?)?$", "portada", "Portada (entrada al sitio)", False),
    ViewRule(r"^/embed(\.html?|/)?", "portada", "Portada (entrada al sitio)", False),
    ViewRule(r"(^|/)json/main\.json$", "corte", "Corte vigente (json/main.json)", False),
    ViewRule(r"(^|/)data/proceso[^/]*\.json$", "proceso", "Datos del proceso (al abrir el sitio)", False),
    ViewRule(r"(^|/)data/[^/]+/entidad[^/]*\.json$", "entidad", "Entidad", True),
    # An ámbito view reads its catalog and its results; the results file counts the view.
    ViewRule(r"(^|/)data/[^/]+/[^/]+/[^/]*catalogo[^/]*\.json$", "catalogo",
             "Catálogo del ámbito (secciones y casillas)", False),
    ViewRule(r"(^|/)data/[^/]+/distrito/", "distrito", "Distrito", True),
    ViewRule(r"(^|/)data/[^/]+/municipio/", "municipio", "Municipio", True),
    ViewRule(r"(^|/)data/[^/]+/seccion/", "seccion", "Sección", True),
    ViewRule(r"(^|/)data/[^/]+/casilla/", "casilla", "Casilla", True),
    ViewRule(r"(^|/)data/[^/]+/actas?/", "acta", "Actas (casilla o acta)", True),
    ViewRule(r"(^|/)data/bases[^/]*\.json$", "bases", "Base de datos (página)", True),
    ViewRule(r"(^|/)db/[^/]+/[^/]*\.zip$", "base_datos", "Base de datos (descarga)", True),
    ViewRule(r"(^|/)data/difusores[^/]*\.json$", "difusores", "Difusores oficiales", True),
    ViewRule(r"(^|/)data/", "otros_datos", "Otros datos", False),
    ViewRule(
        r"\.(js|mjs|css|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|map|webmanifest)$",
        "recursos",
        "Recursos del sitio (JS, CSS, imágenes)",
        False,
    ),
)
OTHER_VIEW = ViewRule("", "otros", "Otros", False)
# An HTML document: a folder, a page with an HTML-like extension, or a last segment without one.
HTML_PATTERN = r"(/|\.s?html?|\.php\d?|\.aspx?|\.jsp|/[^./]+)$"
PORTAL_VIEW = ViewRule(HTML_PATTERN, "portal", "Páginas del portal del difusor", True)
SERVICE_VIEW = ViewRule(
    r"^/(cdn-cgi|\.well-known|server-status|nginx_status|healthz?|ping|status)(/|$)",
    "servicio", "Solicitudes de la CDN o del servidor (salud, certificados)", False)

# RE2 pattern extracting the election from data paths (data/<ELECCION>/...).
ELECTION_PATTERN = r"(?:^|/)data/([^/]+)/"

VIEW_LABELS = {r.view: r.label for r in (*VIEW_RULES, PORTAL_VIEW, SERVICE_VIEW, OTHER_VIEW)}
PAGE_VIEWS = frozenset(r.view for r in (*VIEW_RULES, PORTAL_VIEW) if r.page_view)
ASSET_VIEW = "recursos"
SITE_ROOT_PATTERN = r"^(.*/)json/main\.json$"


def _sql_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_case_sql(column: str, root: str | None = "/") -> str:
    """A SQL CASE expression mapping ``column`` (a path) to its view key, for a results site
    in folder ``root`` (None: no results site in the log)."""
    arms = [f"WHEN regexp_matches({column}, {_sql_quote(SERVICE_VIEW.pattern)}) "
            f"THEN {_sql_quote(SERVICE_VIEW.view)}"]
    if root is not None:
        rel = f"('/' || substr({column}, {len(root) + 1}))" if root != "/" else column
        inside = f"starts_with({column}, {_sql_quote(root)})" if root != "/" else "true"
        arms += [
            f"WHEN {inside} AND regexp_matches({rel}, {_sql_quote(r.pattern)}) "
            f"THEN {_sql_quote(r.view)}"
            for r in VIEW_RULES
        ]
    asset = next(r for r in VIEW_RULES if r.view == ASSET_VIEW)
    arms.append(f"WHEN regexp_matches({column}, {_sql_quote(asset.pattern)}) THEN {_sql_quote(asset.view)}")
    arms.append(f"WHEN regexp_matches({column}, {_sql_quote(PORTAL_VIEW.pattern)}) "
                f"THEN {_sql_quote(PORTAL_VIEW.view)}")
    return f"CASE {' '.join(arms)} ELSE {_sql_quote(OTHER_VIEW.view)} END"


def view_of(path: str, root: str | None = "/") -> str:
    """The view key of one path (the same rules as :func:`view_case_sql`, in Python)."""
    import re

    if re.search(SERVICE_VIEW.pattern, path):
        return SERVICE_VIEW.view
    if root is not None and path.startswith(root):
        rel = "/" + path[len(root):]
        for rule in VIEW_RULES:
            if re.search(rule.pattern, rel):
                return rule.view
    if re.search(next(r for r in VIEW_RULES if r.view == ASSET_VIEW).pattern, path):
        return ASSET_VIEW
    if re.search(PORTAL_VIEW.pattern, path):
        return PORTAL_VIEW.view
    return OTHER_VIEW.view


# Access channels ------------------------------------------------------------------------------

CHANNEL_LABELS = {
    "direct": "Directo (sin referente)",
    "search": "Buscadores",
    "social": "Redes sociales",
    "referral": "Otros sitios (enlaces)",
    "institute": "Sitio del instituto",
    "embedded": "Incrustado en otra página",
    "internal": "Navegación interna",
}

SEARCH_HOSTS = (
    "google.", "bing.com", "duckduckgo.com", "yahoo.", "yandex.", "ecosia.org",
    "baidu.com", "search.brave.com", "startpage.com", "qwant.com",
)
SOCIAL_HOSTS = (
    "facebook.com", "fb.com", "fb.me", "t.co", "twitter.com", "x.com", "instagram.com",
    "tiktok.com", "whatsapp.com", "wa.me", "youtube.com", "youtu.be", "linkedin.com",
    "reddit.com", "telegram.org", "t.me", "threads.net", "bsky.app", "pinterest.",
)
# The institutes whose sites link to (or embed) the PREP; extend with --institute-host.
INSTITUTE_HOSTS = ("ieem.org.mx", "iem.mx", "iem.org.mx", "ine.mx")


def _host_matches(host: str, suffixes: tuple[str, ...]) -> bool:
    for s in suffixes:
        if s.endswith("."):
            if host.startswith(s) or f".{s}" in f".{host}":
                return True
        elif host == s or host.endswith("." + s):
            return True
    return False


def classify_host(
    host: str,
    site_hosts: tuple[str, ...],
    institute_hosts: tuple[str, ...] = INSTITUTE_HOSTS,
    embed_hosts: tuple[str, ...] = (),
) -> str:
    """The channel a referring host stands for (``host`` lower-case, no port)."""
    if not host:
        return "direct"
    if _host_matches(host, site_hosts):
        return "internal"
    if _host_matches(host, embed_hosts):
        return "embedded"
    if _host_matches(host, institute_hosts):
        return "institute"
    if _host_matches(host, SEARCH_HOSTS):
        return "search"
    if _host_matches(host, SOCIAL_HOSTS):
        return "social"
    return "referral"
