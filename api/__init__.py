"""The HTTP face of Ownat: the app factory, routers, dependencies and web pages.

Routers live here (`api/routers/`), not in the domain packages: they need this package's
dependencies, and a domain package never imports `api`. Routers are thin: they parse,
authorise and call a domain service.
"""
