"""Routes of the developer API wire protocol, one module per resource, plus signed storage URLs."""
