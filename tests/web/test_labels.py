"""The portal's words: every status in GİB's Turkish and in English, GİB's codes explained,
Turkish number formats."""

from __future__ import annotations

from decimal import Decimal

from entegrator.lifecycle import DocumentStatus
from entegrator.web import formatting, labels
from entegrator.web.i18n import MESSAGES


def test_every_status_has_its_words_and_badge() -> None:
    for status in DocumentStatus:
        tr, en, badge = labels.STATUSES[status.value]
        assert tr and en and tr != status.value
        assert badge in ("ok", "warn", "bad", "info", "muted")
    assert labels.status_label("received", "tr", profile="TICARIFATURA", direction="in") == (
        "Yanıt bekliyor"
    )
    assert labels.status_label("queued", "en", profile="EARSIVFATURA") == (
        "Waiting for the e-Arşiv report"
    )


def test_gib_codes_are_explained_and_other_values_are_not() -> None:
    assert labels.explain_gib_code(1300, "tr") == "1300: Başarıyla tamamlandı: iletildi ve alındı"
    assert labels.explain_gib_code("1000", "en") == "1000: Envelope queued"
    for value in ("no-answer", "", "99", "20000", None):
        assert labels.explain_gib_code(value, "tr") is None
    assert labels.event_label("gib-status", "tr") == "GİB durum bildirdi"
    assert labels.event_label("something-new", "tr") == "something-new"


def test_turkish_amounts() -> None:
    assert formatting.money(Decimal("1234.565")) == "1.234,57 TL"
    assert formatting.money(Decimal("0")) == "0,00 TL"
    assert formatting.money(Decimal("999999999.99"), "EUR") == "999.999.999,99 EUR"
    assert formatting.percent(Decimal("0.5")) == "%0,5"
    assert formatting.percent(Decimal("20.00")) == "%20"


def test_every_message_has_both_languages() -> None:
    for key, (tr, en) in MESSAGES.items():
        assert tr.strip() and en.strip(), key
