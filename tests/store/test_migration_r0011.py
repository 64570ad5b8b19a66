"""Migration 0011 (search keys without punctuation) on a store whose enterprises were
indexed with the old key: their names are found by the new one after the upgrade, and a
downgrade writes the old key back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import make_url

from ledger.store import Store, listings
from ledger.store.directory import Enterprise
from ledger.store.indexes import search_key
from ledger.store.migrate import alembic_config

ID = "urn:carbonledger:enterprise:example-anticorrosion-equipment"
NAME_EN = "Example Anti-Corrosion Equipment Co., Ltd."
NAME_ZH = "示例防腐·设备有限公司"
#: The key 0010 wrote (NFKC, case-folded, white space removed), worked by hand.
OLD_KEYS = "exampleanti-corrosionequipmentco.,ltd.\n示例防腐·设备有限公司"


def _engine(store_url: str):  # type: ignore[no-untyped-def]
    database = make_url(store_url).database
    if make_url(store_url).get_backend_name() == "sqlite" and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(store_url)


def test_upgrade_rewrites_the_search_keys_and_downgrade_restores_them(store_url: str) -> None:
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0010_terminal_keys")
            conn.commit()
            conn.execute(
                insert(Enterprise.__table__).values(
                    enterprise_id=ID,
                    name_en=NAME_EN,
                    name_zh=NAME_ZH,
                    search_text=OLD_KEYS,
                    sort_key="exampleanti-corrosion",
                )
            )
            conn.commit()
    finally:
        engine.dispose()
    store = Store.open(store_url)  # migrates to head
    try:
        with store.transaction(readonly=True) as session:
            text = session.scalar(select(Enterprise.search_text))
            assert text == "exampleanticorrosionequipmentcoltd\n示例防腐设备有限公司"
            for query in ("Anti Corrosion", "anticorrosion", "防腐设备"):
                found = listings.enterprises_by_name(session, search_key(query), limit=5)
                assert [e.enterprise_id for e in found] == [ID], query
    finally:
        store.close()
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), "0010_terminal_keys")
            conn.commit()
            assert conn.scalar(select(Enterprise.__table__.c.search_text)) == OLD_KEYS
    finally:
        engine.dispose()
