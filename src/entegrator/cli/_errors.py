"""The one place where errors become exit codes and messages on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError
from entegrator.documents.errors import DraftError
from entegrator.errors import EntegratorError

__all__ = ["USAGE_EXIT", "cli_errors", "fail"]

USAGE_EXIT = 2


def _print(payload: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    where = f" [{payload['where']}]" if payload.get("where") else ""
    sys.stderr.write(
        f"hata/error {payload['code']}{where}\n"
        f"  TR: {payload['message_tr']}\n"
        f"  EN: {payload['message_en']}\n"
    )
    for p in payload.get("problems", [])[1:]:
        sys.stderr.write(f"  - {p['where']}: {p['message_tr']} / {p['message_en']}\n")


def fail(
    code: str, message_tr: str, message_en: str, *, where: str | None = None, as_json: bool = False
) -> NoReturn:
    _print(
        {"code": code, "message_tr": message_tr, "message_en": message_en, "where": where},
        as_json=as_json,
    )
    raise typer.Exit(USAGE_EXIT)


def _validation_payload(exc: ValidationError, source: str) -> dict[str, Any]:
    from entegrator.documents._validation import problems_from_validation

    payload = DraftError(problems_from_validation(exc)).to_dict()
    payload["where"] = f"{source}: {payload.get('where', '/')}" if source else payload.get("where")
    return payload


@contextmanager
def cli_errors(source: str = "", *, as_json: bool = False) -> Iterator[None]:
    """Turn our errors (and pydantic's) into a clear message and exit code 2, never a traceback."""
    try:
        yield
    except EntegratorError as exc:
        payload = exc.to_dict()
        if source:
            payload["where"] = f"{source}: {payload.get('where', '')}".rstrip(": ")
        _print(payload, as_json=as_json)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:
        # pydantic is imported only by commands that use the models: no models, no such error.
        pydantic = sys.modules.get("pydantic")
        if pydantic is None or not isinstance(exc, pydantic.ValidationError):
            raise
        _print(_validation_payload(exc, source), as_json=as_json)
        raise typer.Exit(USAGE_EXIT) from None
