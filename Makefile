# The two commands: `make run` (the whole API locally) and `make test` (every test).
.PHONY: run test bench token venv cleanup

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# make bench: start, latency, overhead, scaling, calls and sizes of every function, side by side.
bench:
	bash scripts/bench.sh

# make token ACL=<json file> [SUB=<name>]: prints a bearer token the local API accepts.
token:
	@bash scripts/token.sh "$(ACL)" "$(SUB)"

# make cleanup: one pass of the cleanup function against the running `make run` stack.
cleanup:
	bash scripts/cleanup.sh

venv:
	bash scripts/venv.sh
