"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json).

Written by hand next to the serialisers in ``web.views.api``; a test validates the document and
checks every response of the API against the schema declared for it.
"""

from __future__ import annotations

import copy
from typing import Any

from models.enums import (
    EDUCATION_LEVELS,
    GENDERS,
    GENDERS_REQUIRED,
    HOUSEHOLDS,
    LANGUAGE_TRAINING,
    ORDER_STATUSES,
    PROGRAMMES,
    STAGES,
)


def _null(t: str | dict, **kw) -> dict:
    if isinstance(t, dict):
        return {"anyOf": [t, {"type": "null"}], **kw}
    return {"type": [t, "null"], **kw}


def _enum_or_null(values) -> dict:
    return {"anyOf": [{"type": "string", "enum": list(values)}, {"type": "null"}]}


STR_LIST = {"type": "array", "items": {"type": "string"}}
DATE = {"type": "string", "format": "date"}
SEVERITIES = ["block", "fail", "gap", "warn"]


def _obj(props: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
    }


def _order_input() -> dict:
    from web.services.forms import OrderForm

    schema = OrderForm.json_schema()
    schema["properties"]["confirm_blocked"] = {
        "type": "boolean",
        "description": "store an order that breaks a rule in force (409 otherwise) as a draft",
    }
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string", "description": "English"},
                    "message_vi": {"type": "string", "description": "Vietnamese"},
                    "detail": {"type": "object"},
                },
                ["status", "code", "message", "message_vi"],
            )
        }
    ),
    "Reason": _obj(
        {
            "code": {"type": "string", "description": "machine code (matcher.rules.REASON_CODES)"},
            "severity": {"type": "string", "enum": SEVERITIES},
            "vi": {"type": "string"},
            "en": {"type": "string"},
        }
    ),
    "Explanation": _obj({"feature": {"type": "string"}, "vi": {"type": "string"}, "en": {"type": "string"}}),
    "Match": _obj(
        {
            "item_id": {"type": "string"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "features": {"type": "object", "additionalProperties": {"type": "number"}},
            "contributions": {"type": "object", "additionalProperties": {"type": "number"}},
            "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Explanation"}},
        }
    ),
    "Blocked": _obj(
        {"item_id": {"type": "string"}, "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}}}
    ),
    "Ranking": _obj(
        {
            "query_id": {"type": "string"},
            "direction": {"type": "string", "enum": ["w2j", "j2w"]},
            "matches": {"type": "array", "items": {"$ref": "#/components/schemas/Match"}},
            "blocked": {"type": "array", "items": {"$ref": "#/components/schemas/Blocked"}},
            "ineligible": {"type": "array", "items": {"$ref": "#/components/schemas/Blocked"}},
            "ineligible_summary": {"$ref": "#/components/schemas/IneligibleSummary"},
        }
    ),
    "IneligibleSummary": _obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "by_reason": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
        }
    ),
    "Worker": _obj(
        {
            "worker_id": {"type": "string"},
            "full_name": {"type": "string"},
            "birth_date": DATE,
            "gender": _enum_or_null(GENDERS),
            "commune": _null("string"),
            "former_district": _null("string"),
            "disadvantaged_commune": _null("boolean", description="null in the recruiter view"),
            "ethnicity": _null("string", description="null in the recruiter view"),
            "household": _enum_or_null(HOUSEHOLDS),
            "education": _enum_or_null(EDUCATION_LEVELS),
            "skills": STR_LIST,
            "experience": {
                "type": "array",
                "items": _obj({"occupation": {"type": "string"}, "years": {"type": "number", "minimum": 0}}),
            },
            "languages": {**STR_LIST, "description": "certificates as written, e.g. 'JLPT N4 (2024-07)'"},
            "language_training": _enum_or_null(LANGUAGE_TRAINING),
            "preferred_countries": STR_LIST,
            "preferred_sectors": STR_LIST,
            "min_wage_vnd": _null("number"),
            "max_fee_vnd": _null("number", description="null in the recruiter view"),
            "available_from": _null(DATE),
            "consent_share": {"type": "boolean"},
            "consent_date": _null(DATE),
            "active": {"type": "boolean"},
            "contacts_visible": {
                "type": "boolean",
                "description": "false: phone and national_id are masked (recruiter, application not yet sent)",
            },
            "phone": _null("string"),
            "national_id": _null("string"),
            "version_id": {"type": "integer"},
        }
    ),
    "WorkerSummary": _obj(
        {
            "worker_id": {"type": "string"},
            "full_name": {"type": "string"},
            "commune": _null("string"),
            "phone": _null("string", description="masked"),
            "skills": STR_LIST,
            "consent_share": {"type": "boolean"},
        }
    ),
    "WorkerList": _obj(
        {"total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/WorkerSummary"}}}
    ),
    # what the order form accepts, from the form itself (web.services.forms.OrderForm.json_schema)
    "OrderInput": _order_input(),
    "Order": _obj(
        {
            "order_id": {"type": "string"},
            "recruiter_id": {"type": "string"},
            "recruiter_name": _null("string"),
            "title": {"type": "string"},
            "description": _null("string"),
            "country": {"type": "string"},
            "programme": _enum_or_null(PROGRAMMES),
            "required_skills": STR_LIST,
            "language_requirement": _null("string"),
            "min_age": _null("integer"),
            "max_age": _null("integer"),
            "gender": _enum_or_null(GENDERS_REQUIRED),
            "min_education": _enum_or_null(EDUCATION_LEVELS),
            "min_experience_years": _null("number"),
            "positions": {"type": "integer"},
            "monthly_wage": _null("number"),
            "wage_currency": _null("string"),
            "contract_months": _null("integer"),
            "service_fee_vnd": _null("number"),
            "brokerage_fee_vnd": _null("number"),
            "deposit_vnd": _null("number"),
            "approval_no": _null("string"),
            "approval_date": _null(DATE),
            "deadline": _null(DATE),
            "departure_date": _null(DATE),
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "places_filled": {"type": "integer"},
            "places_left": {"type": "integer"},
            "blocked": {"type": "boolean", "description": "true: never shown in any ranking"},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "version_id": {"type": "integer"},
        }
    ),
    "OrderList": _obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}),
    "BlockedList": _obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/Blocked"}}}),
    "StageMove": {
        "type": "object",
        "properties": {
            "to": {"type": "string", "enum": list(STAGES)},
            "note": {"type": "string"},
            "version_id": {"type": "integer", "description": "the version the client saw (optimistic locking)"},
        },
        "required": ["to"],
        "additionalProperties": False,
    },
    "Application": _obj(
        {
            "id": {"type": "integer"},
            "worker_id": {"type": "string"},
            "order_id": {"type": "string"},
            "stage": {"type": "string", "enum": list(STAGES)},
            "score": _null("number"),
            "note": _null("string"),
            "version_id": {"type": "integer"},
            "events": {
                "type": "array",
                "items": _obj(
                    {
                        "from_stage": _enum_or_null(STAGES),
                        "to_stage": {"type": "string", "enum": list(STAGES)},
                        "by": _null("string"),
                        "at": {"type": "string", "format": "date-time"},
                    }
                ),
            },
        }
    ),
}


def _resp(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


ERR = {"$ref": "#/components/responses/Error"}


def _errors(*codes: int) -> dict:
    # any call carrying a bearer token from an address over token_failure_rate_limit gets 429
    return {str(c): ERR for c in (*codes, 429)}


# Free text in a query string: the app refuses a NUL character anywhere in one (web.views.params).
QUERY_TEXT = {"type": "string", "pattern": "^[^\x00]*$"}


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


TOP = {
    "name": "top",
    "in": "query",
    "required": False,
    "description": "number of matches, 1..100 (default 10)",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
}


INELIGIBLE_PAGE = {
    "name": "ineligible_page",
    "in": "query",
    "required": False,
    "description": "page of the ineligible list (50 a page; counts by reason are in ineligible_summary)",
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1},
}


def document() -> dict:
    """The OpenAPI 3.1 document (a fresh dict each call)."""
    return copy.deepcopy(_document())


def _document() -> dict:
    # Over 80 lines: one literal document, read top to bottom like the published spec.
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cao Bang job matching API",
            "version": "1.0.0",
            "description": (
                "Workers, job orders, ranked matches with reasons, blocked orders and application stages. "
                "Recruiters see only their own orders and only workers who consented to share; phone and "
                "national ID stay masked until the application is sent. Errors are JSON with a code and "
                "a message in English and Vietnamese."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {
            "/api/workers": {
                "get": {
                    "operationId": "listWorkers",
                    "summary": "Find workers (diacritics-insensitive); counsellors and administrators",
                    "parameters": [
                        {"name": "q", "in": "query", "required": False, "schema": QUERY_TEXT,
                         "description": "whole words of the worker id, CCCD, phone (or its start), name, commune or skills; "
                                        "profiles merged into another are left out"},
                        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                        {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}},
                    ],
                    "responses": {"200": _resp("Workers, phone masked", "WorkerList"), **_errors(400, 401, 403)},
                }
            },
            "/api/workers/{worker_id}": {
                "get": {
                    "operationId": "getWorker",
                    "summary": "A worker profile (recruiters: consenting candidates of their own legal open orders only, "
                               "else 404; 403 once the enterprise's licence is revoked or suspended; contacts masked until sent)",
                    "parameters": [_path_param("worker_id", "worker id")],
                    "responses": {"200": _resp("The profile", "Worker"), **_errors(401, 403, 404)},
                }
            },
            "/api/workers/{worker_id}/matches": {
                "get": {
                    "operationId": "matchOrders",
                    "summary": "Ranked legal orders for a worker, with contributions, reasons and gaps",
                    "parameters": [
                        _path_param("worker_id", "worker id"),
                        TOP,
                        INELIGIBLE_PAGE,
                        {"name": "country", "in": "query", "required": False, "schema": QUERY_TEXT},
                        {"name": "programme", "in": "query", "required": False, "schema": {"type": "string", "enum": list(PROGRAMMES)}},
                    ],
                    "responses": {"200": _resp("The ranking", "Ranking"), **_errors(400, 401, 403, 404, 503)},
                }
            },
            "/api/orders": {
                "get": {
                    "operationId": "listOrders",
                    "summary": "Job orders (recruiters: their own)",
                    "parameters": [
                        {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": list(ORDER_STATUSES)}}
                    ],
                    "responses": {"200": _resp("Orders with their gate reasons", "OrderList"), **_errors(400, 401, 403, 503)},
                },
                "post": {
                    "operationId": "createOrder",
                    "summary": "Post an order for the caller's enterprise (recruiters)",
                    "description": "The body is the order form's (422 when a value or a rule between fields fails, with the "
                    "field errors). An order a rule in force would block (fee over the cap at the current exchange rates, "
                    "brokerage fee, no approval, licence not active, approval number already used...) is refused with 409 "
                    "(code 'blocked') and its reasons, unless confirm_blocked is true: it is then stored as a draft.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderInput"}}},
                    },
                    "responses": {"201": _resp("The stored order", "Order"), **_errors(400, 401, 403, 409, 422, 503)},
                },
            },
            "/api/orders/{order_id}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "A job order with its gate reasons",
                    "parameters": [_path_param("order_id", "order id")],
                    "responses": {"200": _resp("The order", "Order"), **_errors(401, 403, 404, 503)},
                }
            },
            "/api/orders/{order_id}/matches": {
                "get": {
                    "operationId": "matchWorkers",
                    "summary": "Ranked workers for an order (recruiters: consenting workers only)",
                    "parameters": [_path_param("order_id", "order id"), TOP, INELIGIBLE_PAGE],
                    "responses": {"200": _resp("The ranking", "Ranking"), **_errors(400, 401, 403, 404, 503)},
                }
            },
            "/api/blocked-orders": {
                "get": {
                    "operationId": "blockedOrders",
                    "summary": "Orders held out of every ranking and why (recruiters: their own)",
                    "responses": {"200": _resp("Blocked orders", "BlockedList"), **_errors(401, 403, 503)},
                }
            },
            "/api/applications/{application_id}/stage": {
                "post": {
                    "operationId": "moveApplication",
                    "summary": "Move an application to another stage (counsellors and administrators)",
                    "parameters": [
                        {"name": "application_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StageMove"}}},
                    },
                    "responses": {"200": _resp("The application", "Application"), **_errors(400, 401, 403, 404, 409, 422, 503)},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document", "content": {"application/json": {"schema": {"type": "object"}}}},
                                  **_errors()},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Error": _resp("An error with a code and a message", "Error")},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "personal token from `matcher user token NAME`; it expires after "
                                          "`token_lifetime_days` (401 with the time it expired)"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "matcher_session"},
            },
        },
    }
