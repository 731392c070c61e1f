"""Publish: the lake of per-document results (``lake``), their combination into fact tables
(``combine``, with re-published versions resolved by ``versions``), the candidate warehouse and
its atomic promotion (``warehouse``), the quality gate on the candidate (``gate``) and the
findings report (``report``)."""
