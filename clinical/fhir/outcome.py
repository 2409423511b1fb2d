"""OperationOutcome: how a FHIR server reports errors, with the HTTP status beside it."""

from __future__ import annotations

from typing import Any

# FHIR's IssueType codes (http://hl7.org/fhir/issue-type) for the statuses we answer with.
_ISSUE_CODE_BY_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    415: "not-supported",
    413: "too-long",
    422: "processing",
    429: "throttled",
    503: "transient",
}


def issue_code_for(status: int, *, error_code: str | None = None) -> str:
    """The IssueType code that best describes an error answered with `status`."""
    if error_code == "unsupported-search-parameter":
        return "not-supported"
    if status >= 500:
        return "exception"
    return _ISSUE_CODE_BY_STATUS.get(status, "processing")


def operation_outcome(
    *, status: int, diagnostics: str, error_code: str | None = None, severity: str = "error"
) -> dict[str, Any]:
    """An OperationOutcome with one issue describing an error answered with `status`."""
    issue: dict[str, Any] = {
        "severity": severity,
        "code": issue_code_for(status, error_code=error_code),
        "diagnostics": diagnostics,
    }
    if error_code:
        issue["details"] = {
            "coding": [{"system": "https://ownat.org/problems", "code": error_code}],
            "text": diagnostics,
        }
    return {"resourceType": "OperationOutcome", "issue": [issue]}
