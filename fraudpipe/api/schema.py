"""The realtime request: the seed's query parameters, validated, every problem reported at once.

One pydantic model serves the GET query (FastAPI reads each field as a query parameter), the POST
body, and the AWS Lambda events (mapping template and proxy), so the rules cannot drift apart.
Numeric fields are checked as numbers but handed to the engine as strings, as AFD's
``eventVariables`` are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["VARIABLES", "PredictRequest", "problems_of", "validate_request"]

#: The 14 event variables, in the training file's order.
VARIABLES = (
    "cc_num",
    "merchant",
    "category",
    "amt",
    "first",
    "last",
    "gender",
    "street",
    "city",
    "state",
    "zip",
    "city_pop",
    "job",
    "trans_num",
)

#: Timestamps the engine can hold (nanosecond timestamps end in April 2262).
MIN_YEAR, MAX_YEAR = 1970, 2261

Text = Annotated[str, Field(min_length=1, max_length=256)]


class PredictRequest(BaseModel):
    """One transaction to score (the seed's API Gateway query parameters)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    trans_num: Annotated[
        str,
        Field(
            pattern=r"^[0-9A-Za-z_-]{1,64}$",
            description="Transaction id; becomes the event id.",
            examples=["6cee353a9d618adfbb12ecad9d427244"],
        ),
    ]
    amt: Annotated[
        float,
        Field(ge=0, le=1e9, allow_inf_nan=False, description="Amount.", examples=[245.97]),
    ]
    zip: Annotated[str, Field(pattern=r"^\d{1,10}$", examples=["97383"])]
    city: Annotated[Text, Field(examples=["Stayton"])]
    first: Annotated[Text, Field(examples=["Erica"])]
    job: Annotated[Text, Field(examples=["Engineer, biomedical"])]
    street: Annotated[Text, Field(examples=["213 Girll Expressway"])]
    category: Annotated[Text, Field(examples=["shopping_pos"])]
    city_pop: Annotated[int, Field(ge=0, le=10**9, examples=[116001])]
    gender: Annotated[str, Field(min_length=1, max_length=16, examples=["F"])]
    cc_num: Annotated[
        str,
        Field(pattern=r"^\d{1,19}$", description="Card number; the entity id.",
              examples=["180046165512893"]),
    ]
    last: Annotated[Text, Field(examples=["Walker"])]
    state: Annotated[str, Field(min_length=1, max_length=64, examples=["OR"])]
    merchant: Annotated[Text, Field(examples=["fraud_Macejkovic-Lesch"])]
    event_timestamp: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="ISO 8601 (RFC 3339); without an offset it is read as UTC.",
            examples=["2020-10-13T09:21:53Z"],
            json_schema_extra={"format": "date-time"},
        ),
    ]
    flow_definition: Annotated[
        str | None,
        Field(
            max_length=1024,
            description="A2I flow definition ARN (seed); anything but 'ignore' asks for review.",
        ),
    ] = None
    review: Annotated[
        bool, Field(description="Send a score in the review band to a human.")
    ] = False

    @field_validator("event_timestamp")
    @classmethod
    def _iso_timestamp(cls, value: str) -> str:
        return normalize_timestamp(value)

    @property
    def review_requested(self) -> bool:
        flow = (self.flow_definition or "").strip()
        return self.review or (bool(flow) and flow.lower() != "ignore")

    def event_variables(self) -> dict[str, str]:
        """The 14 variables as strings (AFD's ``eventVariables``).

        Read from the validated fields directly: ``model_dump`` gave the same values (strings,
        a float and an int, which it does not convert) through pydantic's serializer, at
        several times the cost on every realtime request."""
        values = self.__dict__
        return {name: str(values[name]) for name in VARIABLES}


def normalize_timestamp(value: str) -> str:
    """ISO 8601 → ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; raises ValueError with the reason."""
    text = value.strip().strip("'\"")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            "not an ISO 8601 timestamp (e.g. 2020-10-13T09:21:53Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("timestamp out of range") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"timestamp out of range (years {MIN_YEAR}..{MAX_YEAR})")
    # strftime("%Y-%m-%dT%H:%M:%SZ") for these four-digit years, without strftime (tested)
    return (f"{parsed.year:04d}-{parsed.month:02d}-{parsed.day:02d}T{parsed.hour:02d}:"
            f"{parsed.minute:02d}:{parsed.second:02d}Z")


def problems_of(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic/FastAPI errors → ``[{"field", "problem"}]``, one entry per bad field."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "body")]
        field = ".".join(loc) or "body"
        if field in seen:
            continue
        seen.add(field)
        kind = error.get("type", "")
        message = str(error.get("msg", "invalid"))
        if kind == "missing":
            message = "required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.append({"field": field, "problem": message})
    return out


def validate_request(data: Any) -> PredictRequest | list[dict[str, str]]:
    """A valid request, or the list of problems (never raises on bad input)."""
    if not isinstance(data, dict):
        return [{"field": "body", "problem": "must be a JSON object"}]
    try:
        return PredictRequest.model_validate(data)
    except ValidationError as exc:
        return problems_of(exc.errors(include_url=False))
