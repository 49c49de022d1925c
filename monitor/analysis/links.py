"""Link normalisation: two posts share a link when their normalised URLs are equal (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the page.
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "igshid", "twclid",
    "ref", "ref_src", "ref_url", "cmpid", "mkt_tok", "_ga", "_gl", "si", "spm", "at_medium",
    "at_campaign", "xtor", "wt.mc_id",
})
STATUS_HOSTS = frozenset({"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com"})
SHORTENER_HOSTS = frozenset({"t.co", "bit.ly", "ow.ly", "buff.ly", "tinyurl.com", "lnkd.in",
                             "dlvr.it", "goo.gl", "fb.me", "trib.al", "is.gd"})


def normalize_url(url: str, resolve: Mapping[str, str] | None = None) -> str | None:
    """Canonical form of a shared link, or None for links that are not shares (X statuses).

    Scheme and `www.` dropped, host lowercased, default ports and fragments removed, tracking
    parameters removed, remaining parameters sorted, trailing slash removed. A short link is
    replaced by its target when `resolve` knows it (built from posts' own expanded URLs).
    """
    url = url.strip()
    if resolve:
        url = resolve.get(url, resolve.get(url.rstrip("/"), url))
    try:
        parts = urlsplit(url if "://" in url else "https://" + url)
        port = parts.port  # raises on a malformed port: such a link matches nothing
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    if host in STATUS_HOSTS and "/status" in parts.path:
        return None  # a quote of a post, handled as a quote, not as a shared article
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _tracking(k))
    path = parts.path.rstrip("/")
    return urlunsplit(("", netloc, path, urlencode(query), "")).removeprefix("//")


def _tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def is_short_link(url: str) -> bool:
    host = (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower()
    return host.removeprefix("www.") in SHORTENER_HOSTS


def link_set(urls: Iterable[str], resolve: Mapping[str, str] | None = None) -> frozenset[str]:
    """Normalised shared links of a post (X status links and unresolved short links excluded:
    an unresolved short link says nothing about the page it leads to)."""
    out = set()
    for url in urls:
        norm = normalize_url(url, resolve)
        if norm and not is_short_link("https://" + norm):
            out.add(norm)
    return frozenset(out)
