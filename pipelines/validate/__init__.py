"""Validate: the rule catalogue (``rules``: arithmetic identities and consistency rules, one
module per rule family, evaluated per document) and the Great Expectations suites
(``expectations``) that guard the contract of the published views."""
