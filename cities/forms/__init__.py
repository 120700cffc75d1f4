"""Forms of the network pages, one module per area."""
