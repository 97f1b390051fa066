"""Permit rules and risk profiles: the model, the shipped file, loading errors, start-up
refusal and reloading without a restart."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from gateway.app import start_gateway
from gateway.rules import RulesError, RulesWatcher, load_rules
from handlers.ports import DeclarationFacts, ItemFacts
from handlers.rules import Channel, PermitRule, RiskProfile, Rules
from tests.builders import certificate, declaration, goods_item
from tests.conftest import ROOT
from tests.single_window_support import (
    TEST_RULES,
    connector,
    send,
    single_window_config,
)

SHIPPED = ROOT / "config" / "rules.toml"


def facts(*items: tuple[str, str], currency: str = "USD", total: int = 100_00,
          office: str = "BAKU-MAIN", declarant: str = "BRK-0001", tax_id: str = "1234567890",
          procedure: str = "IM") -> DeclarationFacts:
    return DeclarationFacts(
        id=1, number="AZ-DEC-2026-0000001", declarant_id=declarant, procedure_type=procedure,
        customs_office=office, consignee_tax_id=tax_id, invoice_currency=currency,
        total_invoice_amount=total, registration_date="2026-12-03", status="REGISTERED",
        items=tuple(ItemFacts(n, hs, origin, 0, ()) for n, (hs, origin) in enumerate(items, 1)),
    )


# the model ---------------------------------------------------------------------------------


def test_required_types_add_up_once_each_in_rule_order() -> None:
    rules = Rules(permits=(
        PermitRule("animals", ("01", "02"), ("VETERINARY",)),
        PermitRule("meat", ("0202",), ("SANITARY", "VETERINARY")),
    ))
    assert [(r.cert_type, r.rule) for r in rules.required("020230")] == [
        ("VETERINARY", "animals"), ("SANITARY", "meat")]
    assert rules.required("847130") == ()


def test_first_matching_profile_decides_and_default_is_green() -> None:
    rules = Rules(profiles=(
        RiskProfile("red-origin", Channel.RED, origin_countries=frozenset({"IR"})),
        RiskProfile("yellow-value", Channel.YELLOW, invoice_above=(("USD", 50_000_00),)),
    ))
    both = facts(("847130", "IR"), total=60_000_00)
    assert (rules.assess(both).channel, rules.assess(both).rule) == (Channel.RED, "red-origin")
    value = facts(("847130", "CN"), total=60_000_00)
    assert rules.assess(value).rule == "yellow-value"
    assert rules.assess(facts(("847130", "CN"), total=50_000_00)).rule == "default"  # not above
    assert rules.assess(facts(("847130", "CN"), total=60_000_00, currency="EUR")).channel \
        is Channel.GREEN
    assert Rules(default_channel=Channel.YELLOW).assess(value).channel is Channel.YELLOW


def test_item_criteria_hold_for_one_and_the_same_item() -> None:
    profile = RiskProfile("br-meat", Channel.RED, origin_countries=frozenset({"BR"}),
                          hs_prefixes=("02",))
    assert profile.matches(facts(("020230", "BR")))
    assert not profile.matches(facts(("847130", "BR"), ("020230", "AR")))


def test_declaration_level_criteria() -> None:
    profile = RiskProfile("mixed", Channel.YELLOW, declarants=frozenset({"TRD-0001"}),
                          consignee_tax_ids=frozenset({"1234567890"}),
                          customs_offices=frozenset({"GAZAKH-01"}),
                          procedure_types=frozenset({"EX"}))
    good = dict(declarant="TRD-0001", office="GAZAKH-01", procedure="EX")
    assert profile.matches(facts(("847130", "CN"), **good))  # type: ignore[arg-type]
    for key, value in (("declarant", "BRK-0001"), ("office", "BAKU-MAIN"),
                       ("procedure", "IM"), ("tax_id", "0000000000")):
        assert not profile.matches(facts(("847130", "CN"), **{**good, key: value}))  # type: ignore[arg-type]


# the files ---------------------------------------------------------------------------------


def test_shipped_rules_have_sensible_defaults() -> None:
    rules = load_rules(SHIPPED)
    def types(hs: str) -> set[str]:
        return {r.cert_type for r in rules.required(hs)}
    assert types("080810") == {"PHYTOSANITARY"}            # apples
    assert types("020230") == {"VETERINARY", "SANITARY"}   # frozen beef
    assert types("010121") == {"VETERINARY"}               # live horses
    assert types("190110") == {"SANITARY"}                 # infant formula
    assert types("220421") == {"SANITARY"}                 # wine
    assert types("847130") == set()                        # computers
    assert types("570110") == set()                        # carpets
    assert rules.default_channel is Channel.GREEN


@pytest.mark.parametrize(("text", "message"), [
    ("[[permit]]\nhs_prefixes = ['08']\nrequires = ['PHYTOSANITARY']\n",
     "[[permit]] #1: name: is required"),
    ("[[permit]]\nname = 'p'\nhs_prefixes = ['8A']\nrequires = ['PHYTOSANITARY']\n",
     "[[permit]] #1 (p): hs_prefixes: '8A' is not HS-code prefixes"),
    ("[[permit]]\nname = 'p'\nhs_prefixes = ['08']\nrequires = ['LICENCE']\n",
     "[[permit]] #1 (p): requires: 'LICENCE' is not certificate types"),
    ("[[permit]]\nname = 'p'\nhs_prefixes = []\nrequires = ['SANITARY']\n",
     "hs_prefixes: must be a non-empty list"),
    ("[[permit]]\nname = 'p'\nhs_prefixes = ['08']\nrequires = ['SANITARY']\nextra = 1\n",
     "[[permit]] #1 (p): extra: unknown key"),
    ("[[permit]]\nname = 'p'\nhs_prefixes = ['08']\nrequires = ['SANITARY']\n"
     "[[permit]]\nname = 'p'\nhs_prefixes = ['09']\nrequires = ['SANITARY']\n",
     "[[permit]] (p): name: used by more than one rule"),
    ("[risk]\ndefault = 'BLUE'\n", "[risk]: default: must be one of GREEN, YELLOW, RED"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\n",
     "[[risk.profile]] #1 (r): needs at least one criterion"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\norigin_countries = ['Iran']\n",
     "origin_countries: 'Iran' is not country codes"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\ninvoice_above = { USD = '1.001' }\n",
     "invoice_above: USD: '1.001' must be an amount"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\ninvoice_above = { USD = 1.5 }\n",
     "invoice_above: USD: 1.5 must be an amount"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\ninvoice_above = { usd = '1' }\n",
     "invoice_above: 'usd' is not a currency code"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'RED'\nconsignee_tax_ids = ['12']\n",
     "consignee_tax_ids: '12' is not tax ids"),
    ("[[risk.profile]]\nname = 'r'\nchannel = 'PURPLE'\ncustoms_offices = ['X1']\n",
     "[[risk.profile]] #1 (r): channel: must be one of"),
    ("[permits]\n", "unknown top-level key 'permits'"),
    ("[[permit]\n", "not valid TOML"),
])
def test_invalid_rules_are_refused_with_a_clear_error(tmp_path: Path, text: str,
                                                      message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_rules_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "absent.toml")


def test_invoice_amounts_become_cents(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[[risk.profile]]\nname = 'v'\nchannel = 'YELLOW'\n"
                    "invoice_above = { USD = '1000.5', EUR = 20 }\n")
    (profile,) = load_rules(path).profiles
    assert profile.invoice_above == (("USD", 1000_50), ("EUR", 20_00))


# the running gateway -----------------------------------------------------------------------


async def test_gateway_refuses_to_start_with_invalid_rules(pki_dir: Path,
                                                           tmp_path: Path) -> None:
    config = single_window_config(pki_dir, tmp_path, rules="[risk]\ndefault = 'BLUE'\n")
    with pytest.raises(RulesError, match="default"):
        await start_gateway(config)
    assert not (tmp_path / "uams.db").exists()  # refused before the store was opened


def _rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


async def test_rules_reload_without_restart(pki_dir: Path, tmp_path: Path) -> None:
    config = single_window_config(pki_dir, tmp_path, rules=TEST_RULES)
    gateway = await start_gateway(config)
    try:
        assert gateway.rules is not None
        async with connector(gateway, pki_dir) as connect:
            broker = await connect("BRK-0001")
            assert (await send(broker, declaration())).status == "RELEASED"
            assert gateway.rules.reload_if_changed() is False  # nothing changed yet

            red_cn = TEST_RULES + ("\n[[risk.profile]]\nname = 'china-red'\nchannel = 'RED'\n"
                                   "origin_countries = ['CN']\n")
            _rewrite(config.rules.file, red_cn)
            assert gateway.rules.reload_if_changed() is True
            assert (await send(broker, declaration())).status == "UNDER_CONTROL"

            _rewrite(config.rules.file, "[[permit]]\nname = 'broken'\n")
            assert gateway.rules.reload_if_changed() is False  # logged; old rules stay
            assert (await send(broker, declaration())).status == "UNDER_CONTROL"

            _rewrite(config.rules.file, TEST_RULES)
            gateway.rules.request_reload()  # what SIGHUP does
            for _ in range(200):
                if gateway.rules.reloads == 2:
                    break
                await asyncio.sleep(0.01)
            assert (await send(broker, declaration())).status == "RELEASED"
    finally:
        await gateway.stop()


async def test_changed_rules_file_is_picked_up_by_itself(pki_dir: Path,
                                                         tmp_path: Path) -> None:
    config = single_window_config(pki_dir, tmp_path, RULES_RELOAD_CHECK_SECONDS="0.02")
    gateway = await start_gateway(config)
    try:
        assert gateway.rules is not None
        _rewrite(config.rules.file, TEST_RULES.replace('default = "GREEN"', 'default = "YELLOW"'))
        for _ in range(300):
            if gateway.rules.reloads:
                break
            await asyncio.sleep(0.01)
        assert gateway.rules.rules.default_channel is Channel.YELLOW
    finally:
        await gateway.stop()


def test_watcher_swaps_the_rules_object_whole(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(TEST_RULES)
    watcher = RulesWatcher(path, check_seconds=0)
    extras: dict[str, object] = {}
    watcher.install(extras)
    first = extras["rules"]
    assert first is watcher.rules and isinstance(first, Rules)
    _rewrite(path, TEST_RULES + "\n")
    assert watcher.reload_if_changed()
    assert extras["rules"] is watcher.rules and extras["rules"] is not first


async def test_issue_dates_use_the_gateway_time_zone(pki_dir: Path, tmp_path: Path) -> None:
    config = single_window_config(pki_dir, tmp_path, GATEWAY_TIMEZONE="America/New_York")
    gateway = await start_gateway(config)
    try:
        async with connector(gateway, pki_dir) as connect:
            moa, broker = await connect("MOA-0001"), await connect("BRK-0001")
            # 22:00 in Bogota is 03:00 UTC the next day, 22:00 in New York the same day
            await send(moa, certificate(number="TZ-1", issued_at="2030-06-30T22:00:00-05:00",
                                        valid_until="2030-12-31"))
            reply = await send(broker, declaration(items=[goods_item(
                hs="080810", documents=(("PHYTOSANITARY", "TZ-1"),))]))
            assert [d.rule for d in reply.details] == ["CERTIFICATE_NOT_YET_VALID"]
            assert "issued on 2030-06-30" in reply.details[0].text
    finally:
        await gateway.stop()
