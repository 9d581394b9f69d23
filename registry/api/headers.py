"""The headers every answer carries, set in this one place (one after_request hook;
the front door in registry.server sends the same on the answers it makes itself).

- Security headers on every answer: nosniff, no framing, no referrer, a
  Content-Security-Policy. The policy is `default-src 'self'` plus the
  directives that lock down what no page here uses (plugins, framing, base
  URLs). A page that needs more calls `csp(...)` in its view or its blueprint's
  before_request: `csp(img_src="'self' data:")`.
- Caching: `no-store` wherever an answer holds a secret or private data (a new
  API key, the key list, screening answers, which echo the names screened) and
  on errors and writes; otherwise `private, no-cache` (revalidate, with the
  ETag where there is one), unless the view chose its own Cache-Control.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

CONTENT_SECURITY_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
}

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# Answers under these paths hold secrets or the names a customer screened.
PRIVATE_PREFIXES = ("/keys", "/screen", "/match", "/reconcile")
NO_STORE = "no-store"
REVALIDATE = "private, no-cache"


def csp(**directives: str) -> None:
    """Adjust this request's Content-Security-Policy: csp(img_src="'self' data:")
    sets img-src; an empty value removes the directive."""
    adjusted = dict(g.get("csp_directives") or CONTENT_SECURITY_POLICY)
    for name, value in directives.items():
        key = name.replace("_", "-")
        if value:
            adjusted[key] = value
        else:
            adjusted.pop(key, None)
    g.csp_directives = adjusted


def policy_text(directives: dict[str, str] | None = None) -> str:
    return "; ".join(f"{k} {v}" for k, v in (directives or CONTENT_SECURITY_POLICY).items())


def static_headers() -> list[tuple[str, str]]:
    """What an answer made outside Flask (the server's own errors) carries."""
    return [
        *SECURITY_HEADERS.items(),
        ("Content-Security-Policy", policy_text()),
        ("Cache-Control", NO_STORE),
    ]


def cache_control(method: str, path: str, status: int) -> str:
    if status >= 400 or method not in ("GET", "HEAD") or path.startswith(PRIVATE_PREFIXES):
        return NO_STORE
    return REVALIDATE


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        if name == "X-Frame-Options" and g.get("frameable"):
            continue  # a view another site may frame (its CSP frame-ancestors says who)
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", policy_text(g.get("csp_directives")))
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = cache_control(
            request.method, request.path, response.status_code
        )
    return response


def register_headers(app: Flask) -> None:
    app.after_request(_add_headers)
