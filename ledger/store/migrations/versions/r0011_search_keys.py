"""Search keys without punctuation: an enterprise's names are found whatever hyphens,
spaces or punctuation the search or the name has (``ledger.store.indexes.search_key``).

Data only: ``enterprises.search_text`` is recomputed from the stored names with the new
key (letters, digits and combining marks of the NFKC case-folded name). The function is
copied here as this revision defines it, so that a later change of the live one does not
change what this revision did.

Revision ID: 0011_search_keys
Revises: 0010_terminal_keys
Create Date: 2026-12-03
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_search_keys"
down_revision: str | None = "0010_terminal_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTERPRISES = sa.table(
    "enterprises",
    sa.column("enterprise_id", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("search_text", sa.Text),
)


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LNM")


def _old_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace())


def _rewrite(key: object) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _ENTERPRISES.c.enterprise_id,
            _ENTERPRISES.c.name,
            _ENTERPRISES.c.name_en,
            _ENTERPRISES.c.name_zh,
        )
    ).all()
    for enterprise_id, *names in rows:
        text = "\n".join(dict.fromkeys(key(n) for n in names if n))  # type: ignore[operator]
        connection.execute(
            sa.update(_ENTERPRISES)
            .where(_ENTERPRISES.c.enterprise_id == enterprise_id)
            .values(search_text=text)
        )


def upgrade() -> None:
    _rewrite(_key)


def downgrade() -> None:
    _rewrite(_old_key)
