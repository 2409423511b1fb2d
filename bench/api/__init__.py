"""`python -m bench.api`: audited API requests on real `ownat api` instances, against `/healthz` and a
bare FastAPI app in the same run, at several concurrencies, with one and two instances on one port."""
