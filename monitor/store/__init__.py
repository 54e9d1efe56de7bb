"""Storage: tables, engine and migrations, and the queries the other stages use."""
