# The two commands: `make run` (the whole API locally) and `make test` (every test).
.PHONY: run test token venv

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# make token ACL=<json file> [SUB=<name>]: prints a bearer token the local API accepts.
token:
	@bash scripts/token.sh "$(ACL)" "$(SUB)"

venv:
	bash scripts/venv.sh
