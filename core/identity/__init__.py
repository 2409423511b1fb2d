"""Users, passwords, tokens and sessions, and SMART App Launch for third-party apps.

The front door for other packages. Who is calling (`Principal`, `Role`, `SYSTEM`) is not here but
in `core.principal`, below the audit log and the access checks that take it. Offered here: the
user service and the self-service account (sign-up, e-mail and password links, erasure), access
tokens, the revocation store and the announcement of ended sessions that the sockets listen to,
and the SMART apps, authorisation and token endpoints (`core.identity.smart`).
"""

from __future__ import annotations

from core.identity.account import (
    change_password,
    erase_account,
    request_password_reset,
    resend_verification,
    reset_password,
    sign_out_everywhere,
    sign_up,
    verify_email,
)

# Exposed for joins: directories, messaging, privacy and notification recipients name users.
from core.identity.models import User
from core.identity.passwords import PASSWORD_MAX_LENGTH, hash_password
from core.identity.revocation import TokenRevocations, create_revocation_store
from core.identity.schemas import (
    Accepted,
    AddressRequest,
    LinkRedemption,
    LoginRequest,
    LogoutRequest,
    PasswordChange,
    PasswordPolicyRead,
    PasswordReset,
    PatientRegistration,
    RefreshRequest,
    StaffCreate,
    TokenPair,
    UserRead,
    UserUpdate,
)
from core.identity.service import (
    MAX_PAGE_SIZE,
    authenticate_login,
    create_staff_user,
    get_user,
    list_users,
    logout,
    register_patient,
    rotate_refresh_token,
    update_user,
)
from core.identity.session_end import (
    ANNOUNCER_KEY,
    SessionAnnouncer,
    ends_session_of,
    generation_loader,
    sessions_ended,
)
from core.identity.smart.apps import (
    AppCreate,
    AppCreated,
    AppRead,
    app_by_client_id,
    launchable_apps,
    list_apps,
    register_app,
    set_app_active,
)
from core.identity.smart.authorize import (
    AuthorizeRedirect,
    AuthorizeRequest,
    ConsentRead,
    approve_authorization,
    deny_authorization,
    issue_launch,
    read_consent,
    start_authorization,
)
from core.identity.smart.connected import ConnectedApp, connected_apps, disconnect_app
from core.identity.smart.discovery import smart_configuration
from core.identity.smart.errors import OAuthError
from core.identity.smart.grants import (
    ClientCredentials,
    TokenEndpoint,
    authenticate_client,
    client_credentials,
    exchange_code,
    exchange_refresh_token,
)
from core.identity.smart.keys import public_jwks
from core.identity.smart.models import ClientType, SmartApp
from core.identity.smart.token_status import introspect_token, revoke_token
from core.identity.smart.tokens import authenticate_fhir_token
from core.identity.tokens import (
    ALGORITHM,
    LEEWAY_S,
    MAX_TOKEN_LENGTH,
    authenticate_access_token,
    issue_access_token,
)

__all__ = [
    "ALGORITHM",
    "ANNOUNCER_KEY",
    "LEEWAY_S",
    "MAX_PAGE_SIZE",
    "MAX_TOKEN_LENGTH",
    "PASSWORD_MAX_LENGTH",
    "Accepted",
    "AddressRequest",
    "AppCreate",
    "AppCreated",
    "AppRead",
    "AuthorizeRedirect",
    "AuthorizeRequest",
    "ClientCredentials",
    "ClientType",
    "ConnectedApp",
    "ConsentRead",
    "LinkRedemption",
    "LoginRequest",
    "LogoutRequest",
    "OAuthError",
    "PasswordChange",
    "PasswordPolicyRead",
    "PasswordReset",
    "PatientRegistration",
    "RefreshRequest",
    "SessionAnnouncer",
    "SmartApp",
    "StaffCreate",
    "TokenEndpoint",
    "TokenPair",
    "TokenRevocations",
    "User",
    "UserRead",
    "UserUpdate",
    "app_by_client_id",
    "approve_authorization",
    "authenticate_access_token",
    "authenticate_client",
    "authenticate_fhir_token",
    "authenticate_login",
    "change_password",
    "client_credentials",
    "connected_apps",
    "create_revocation_store",
    "create_staff_user",
    "deny_authorization",
    "disconnect_app",
    "ends_session_of",
    "erase_account",
    "exchange_code",
    "exchange_refresh_token",
    "generation_loader",
    "get_user",
    "hash_password",
    "introspect_token",
    "issue_access_token",
    "issue_launch",
    "launchable_apps",
    "list_apps",
    "list_users",
    "logout",
    "public_jwks",
    "read_consent",
    "register_app",
    "register_patient",
    "request_password_reset",
    "resend_verification",
    "reset_password",
    "revoke_token",
    "rotate_refresh_token",
    "sessions_ended",
    "set_app_active",
    "sign_out_everywhere",
    "sign_up",
    "smart_configuration",
    "start_authorization",
    "update_user",
    "verify_email",
]
