"""The seed's example request (the walkthrough's API Gateway test query)."""

from __future__ import annotations

SEED_QUERY = {
    "trans_num": "6cee353a9d618adfbb12ecad9d427244",
    "amt": "245.97",
    "zip": "97383",
    "city": "Stayton",
    "first": "Erica",
    "job": "Engineer, biomedical",
    "street": "213 Girll Expressway",
    "category": "shopping_pos",
    "city_pop": "116001",
    "gender": "F",
    "cc_num": "180046165512893",
    "last": "Walker",
    "state": "OR",
    "merchant": "fraud_Macejkovic-Lesch",
    "event_timestamp": "2020-10-13T09:21:53.000Z",
}
REQUIRED = list(SEED_QUERY)
