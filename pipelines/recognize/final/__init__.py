"""The 决算 table family F0–F9: the tables and the roster of member units."""
