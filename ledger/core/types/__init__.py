"""Per-type record body validators (docs/RECORDS.md §3)."""
