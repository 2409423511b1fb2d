"""SMART App Launch 2.x: registered apps, their OAuth 2 grants and the scopes their tokens carry.

Part of `core.identity`, whose package is the front door for other packages. A SMART access token
authenticates to a `core.principal.Principal` whose `grant` (a `SmartGrant`) names the app
(`client_id`), its scopes and its launch patient; scopes only narrow what the principal's role and
patient scope allow. Backend services (client credentials) authenticate as principals whose grant
`is_system`.
"""
