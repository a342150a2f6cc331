"""One module per tool: validate > prepare > run model(s) > composite."""
