"""The API document's order schema is the order form's (``OrderForm.json_schema``): every body
the schema calls valid is a valid form, and bodies it calls invalid are refused.

Bodies are drawn by schemathesis from the served document itself (positive and negative mode),
so the test follows the document as it changes."""

from __future__ import annotations

import jsonschema
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from web.services.forms import OrderForm
from web.views.openapi import document

OPERATION = schemathesis.openapi.from_dict(document())["/api/orders"]["POST"]
FORM_FIELDS = {f.name for f in OrderForm.fields}
VALIDATOR = jsonschema.Draft202012Validator(document()["components"]["schemas"]["OrderInput"],
                                            format_checker=jsonschema.FormatChecker())


def _form_of(body: dict) -> OrderForm:
    return OrderForm.from_json({k: v for k, v in body.items() if k != "confirm_blocked"})


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(OPERATION.as_strategy(GenerationMode.POSITIVE))
def test_every_schema_valid_body_is_a_valid_form(case):
    form = _form_of(case.body)
    assert form.validate(), (case.body, form.errors)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(OPERATION.as_strategy(GenerationMode.NEGATIVE))
def test_schema_invalid_bodies_are_refused(case):
    body = case.body
    if not isinstance(body, dict):
        return  # not an object: the view refuses it before any form (tests/web/test_api.py)
    unknown = set(body) - FORM_FIELDS - {"confirm_blocked"}
    if unknown or ("confirm_blocked" in body and not isinstance(body["confirm_blocked"], bool)):
        return  # refused by the view's own checks, before the form
    if VALIDATOR.is_valid(body):
        return  # the negative case changed another part of the request (a header), not the body
    assert not _form_of(body).validate(), body


def test_the_cross_field_rules_are_in_the_schema():
    validator = VALIDATOR
    base = {"title": "Công nhân may", "country": "TW", "positions": 3}
    cases = [
        ({"min_age": 30, "max_age": 20}, "max_age"),
        ({"min_age": 50, "max_age": 49}, "max_age"),
        ({"monthly_wage": 30000}, "wage_currency"),
        ({"approval_no": "12/2026"}, "approval_date"),
        ({"language_requirement": "N9"}, "language_requirement"),
        ({"title": "   "}, "title"),
        ({"min_age": 14}, "min_age"),
        ({"positions": 0}, "positions"),
        ({"service_fee_vnd": 1e16}, "service_fee_vnd"),
        ({"country": "QQ"}, "country"),
    ]
    for extra, field in cases:
        body = {**base, **extra}
        form = OrderForm.from_json(body)
        assert not form.validate() and field in form.errors, (extra, form.errors)
        assert not validator.is_valid(body), extra  # and the document says so too
    for ok in ({"min_age": 20, "max_age": 20}, {"min_age": 18, "max_age": 70}, {"min_age": 43, "max_age": 44},
               {"min_age": 42, "max_age": 43}, {"monthly_wage": 0}, {"monthly_wage": 30000, "wage_currency": "TWD"},
               {"approval_no": "  ", "min_age": 70}, {"language_requirement": "EPS-TOPIK 200"}):
        body = {**base, **ok}
        assert validator.is_valid(body), ok
        assert OrderForm.from_json(body).validate(), ok


def test_a_json_value_of_the_wrong_type_is_refused_by_name():
    form = OrderForm.from_json({"title": "May", "country": "TW", "positions": "3", "min_age": True})
    assert not form.validate()
    assert form.errors["positions"][1].startswith("Expected an integer")
    assert form.errors["min_age"][1].startswith("Expected an integer")
    assert OrderForm.from_json({"title": "May", "country": "TW", "positions": 3.0, "monthly_wage": 1e-05,
                                "wage_currency": "twd"}).validate()
