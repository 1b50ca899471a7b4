# `make test` runs every test (it starts its own services).
.PHONY: test venv

test:
	bash scripts/test.sh

venv:
	bash scripts/venv.sh
