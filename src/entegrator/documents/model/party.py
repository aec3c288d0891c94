"""Taraflar: parties of a UBL-TR document (``ubl-tr.md`` §4)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from entegrator.documents.model._base import DraftModel, Text

__all__ = ["Address", "Contact", "Party", "PartyIdentifier"]


class Address(DraftModel):
    """PostalAddress. ``district`` is ilçe (CitySubdivisionName), ``city`` is il (CityName)."""

    street: Text | None = None
    building_number: Text | None = None
    district: Text
    city: Text
    postal_zone: Text | None = None
    country: Text = "Türkiye"
    country_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = "TR"


class Contact(DraftModel):
    telephone: Text | None = None
    telefax: Text | None = None
    email: Text | None = None


class PartyIdentifier(DraftModel):
    """An extra PartyIdentification (MERSISNO, TICARETSICILNO, ARACIKURUMVKN…)."""

    scheme_id: Text
    value: Text


class Party(DraftModel):
    """A supplier, customer, buyer or tax representative.

    A taxpayer has exactly one of ``vkn`` (legal entity; needs ``name``) or ``tckn`` (person;
    needs ``first_name`` and ``family_name``). The export buyer (``party_type`` EXPORT) and the
    tax-free traveller (TAXFREE) carry neither.
    """

    vkn: Text | None = None
    tckn: Text | None = None
    party_type: Literal["EXPORT", "TAXFREE"] | None = None
    name: Text | None = None
    first_name: Text | None = None
    family_name: Text | None = None
    registration_name: Text | None = None
    tax_office: Text | None = None
    website: Text | None = None
    address: Address
    contact: Contact | None = None
    identifiers: list[PartyIdentifier] = Field(default_factory=list, max_length=30)
    nationality: Text | None = None
    passport_id: Text | None = None
    passport_issue_date: dt.date | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> Party:
        count = sum(x is not None for x in (self.vkn, self.tckn, self.party_type))
        if count > 1:
            raise ValueError("give only one of vkn, tckn, party_type")
        return self

    @property
    def identifier(self) -> str | None:
        """The VKN or TCKN of the party."""
        return self.vkn or self.tckn

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.first_name, self.family_name) if p)
