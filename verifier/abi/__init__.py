"""The contracts' ABIs as package data, written by scripts/export_abis.py."""
