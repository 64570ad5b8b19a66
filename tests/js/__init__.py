"""JavaScript reference cross-checks (node scripts) and the helper that runs them."""
