"""The building blocks of the YAML configuration companies write: strict models, names,
texts, credentials. Floors above compose them (`app.flows.models` the organization and
its flows; each vendor module its own settings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, SecretStr, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# The languages the widget speaks (app/i18n.py has their catalogues).
Language = Literal["en", "es"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MASKED_SECRET = "**********"


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


def _not_masked(secret: SecretStr) -> SecretStr:
    if secret.get_secret_value() == MASKED_SECRET:
        raise ValueError("this secret was masked by `flows export`: write the secret, or env:NAME to read it from the environment")
    return secret


ENV_PREFIX = "env:"


def env_variable(secret: SecretStr) -> str | None:
    """The environment variable a credential names (`env:NAME`); None when it is the secret itself."""
    value = secret.get_secret_value()
    return value[len(ENV_PREFIX):] if value.startswith(ENV_PREFIX) else None


def secret_fields(model: BaseModel) -> list[str]:
    """The names of a model's credential fields."""
    return [name for name, field in type(model).model_fields.items() if field.annotation is SecretStr]


# A secret from the YAML: either the value itself or `env:NAME`, read from the process's
# environment when it is used. It prints as `**********`; only the database sees it.
Credential = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=4096),
    AfterValidator(_not_masked),
    PlainSerializer(_reveal, return_type=str),
]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(:\d{1,5})?(/[^\s]*)?$", max_length=300)]
