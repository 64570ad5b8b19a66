"""The demo scenario ``carbonledger up --demo`` loads (docs/DEMO.md): pure builders."""
