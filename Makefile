# Every target wraps an npm script, so it runs on the Node 24 that `npm ci` installs.
.PHONY: demo test test-unit test-integration lint typecheck kube up down status install bench scale

node_modules/.package-lock.json: package.json package-lock.json
	npm ci
	@touch $@

install: node_modules/.package-lock.json

# ARGS passes options to the demo, e.g. make demo ARGS=--exit (stop the fleet at the end).
demo: install
	npm run --silent demo -- $(ARGS)

test: install
	npm test

test-unit: install
	npm run test:unit

test-integration: install
	npm run test:integration

lint: install
	npm run lint

typecheck: install
	npm run typecheck

kube:
	npm run --silent build:kube

up: install
	npm run --silent bosun -- local up

down: install
	npm run --silent bosun -- local down

status: install
	npm run --silent bosun -- local status

# The benchmarks of bench/ (placement scheduling, the policy engine, the placement controller on a
# real hub, policy change to compliance on a real hub); each prints its figures, which
# bench/RESULTS.md records with the machine and date.
bench: install
	npm run bench

# The scale harness (bench/scale): a real hub and N simulated agents through join, placement,
# policies, steady state, a label change and restarts, e.g. make scale ARGS="--clusters 1000".
scale: install
	npm run bench:scale -- $(ARGS)
